/**
 * Lecture slides from notebooks: a reveal.js deck per notebook, offline (reveal.js, KaTeX and
 * plotly.js are copied next to the decks), following the notebooks' Jupyter slide metadata.
 *
 *   npm run slides -- notebooks/01_score_matching.ipynb [--out build/slides]
 *   npm run slides -- --all
 *
 * See tools/render/deck.ts for how slide types, tags and `metadata.reveal` are read.
 * Exit code: 0 built (warnings are printed to stderr), 2 usage error or an unreadable notebook.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as path from "path";
import { repoRoot } from "./run";
import { bookNotebooks } from "./render/site";
import { parseFlags, runCli, UsageError, whereToOpen } from "./render/cli";
import { buildDecks } from "./render/decks";
import { Diagnostics } from "./render/html";
import { RenderInputError, defaultExecutedDir } from "./render/load";

/** The CLI's help text. */
export const USAGE = `usage: npm run slides -- <notebook.ipynb>... [options]
       npm run slides -- --all [options]

Build a reveal.js deck per notebook: <out>/<name>.html, with reveal.js, KaTeX and plotly.js
copied to <out>/assets/ (works offline, straight from the file system). Press S in a deck for
the speaker notes view.

Slides follow each cell's metadata.slideshow.slide_type (slide, subslide, fragment, skip,
notes, -) and the Jupyter Book tags remove-cell, remove-input, remove-output, hide-input,
hide-output; reveal.js options come from the notebook's metadata.reveal.

  --all              every notebooks/NN_*.ipynb
  --out DIR          where the decks go (default build/slides)
  --executed DIR     executed copies that supply the outputs of notebooks without outputs
                     (default build/executed/instructor, written by npm start;
                     else build/executed/student)
  --no-outputs       ignore executed copies
  --help             this text

exit code: 0 built (warnings go to stderr); 2 usage error or a notebook that cannot be read`;

/** The CLI; returns the exit code (usage mistakes and unreadable notebooks throw, see {@link runCli}). */
export function main(argv: string[]): number {
  const root = repoRoot();
  const flags = parseFlags(argv, ["--out", "--executed"], ["--help", "--all", "--no-outputs"]);
  if (flags.switches.has("--help")) {
    console.log(USAGE);
    return 0;
  }
  const files = flags.positional.map((f) => path.resolve(f));
  if (flags.switches.has("--all")) {
    if (files.length > 0) throw new UsageError("give notebooks or --all, not both");
    files.push(...bookNotebooks(path.join(root, "notebooks")));
    if (files.length === 0) throw new UsageError("--all: no notebooks/NN_*.ipynb");
  }
  if (files.length === 0) throw new UsageError("no notebook given (name one, or use --all)");
  const out = path.resolve(flags.values.get("--out") ?? path.join(root, "build", "slides"));
  const executedDir = flags.switches.has("--no-outputs") ? null : path.resolve(flags.values.get("--executed") ?? defaultExecutedDir(root));
  const diag = new Diagnostics();
  const decks = buildDecks(files.map((f) => path.relative(process.cwd(), f) || f), { out, executedDir, diag });
  for (const d of decks) console.log(`slides: ${d.slides} slide${d.slides === 1 ? "" : "s"}${d.plots ? ", live plots" : ""} → ${whereToOpen(d.file)}`);
  if (diag.warnings.length > 0) console.log(`(${diag.warnings.length} warning(s) above)`);
  return 0;
}

if (require.main === module) runCli("slides", USAGE, () => main(process.argv.slice(2)), (e) => e instanceof RenderInputError);
