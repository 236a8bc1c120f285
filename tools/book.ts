/**
 * The book: a static site from the executed notebooks, for self-study, offline.
 *
 *   npm run book [-- --out build/book] [--with-solutions]
 *
 * One page per notebook (prose, math, code, outputs, live plots, table of contents,
 * previous/next links) and an index with the course map and the seed lecture's timeline; see
 * tools/render/site.ts. The default edition shows exercise stubs only and is checked with the
 * release leak check (tools/render/book-leakcheck.ts) before the command succeeds; the
 * `--with-solutions` edition (default folder build/book-solutions) adds the reference
 * solutions under toggles, for instructors and self-study.
 *
 * Exit code: 0 built (and clean), 1 the leak check found solution text or a notebook could
 * not be read, 2 usage error.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { courseLayout, CourseLayout } from "./course";
import { repoRoot } from "./run";
import { parseFlags, runCli, UsageError, whereToOpen } from "./render/cli";
import { Diagnostics } from "./render/html";
import { RenderInputError, defaultExecutedDir } from "./render/load";
import { bookNotebooks, buildBook } from "./render/site";

/** The CLI's help text. */
export const USAGE = `usage: npm run book [-- [--out DIR] [--with-solutions] [options]]

Build the course book: a static site with a page per notebooks/NN_*.ipynb (outputs from the
executed copies written by npm start), an index with the course map and timeline, offline
(KaTeX and plotly.js are copied to DIR/assets/). Open DIR/index.html in a browser.

  --out DIR           where the site goes (default build/book, or build/book-solutions with
                      --with-solutions); an earlier book there is replaced
  --with-solutions    the instructor / self-study edition: each exercise's reference solution
                      under a "Show solution" toggle (never give it to students early)
  --executed DIR      executed copies (default build/executed/instructor, else
                      build/executed/student)
  --notebooks-dir DIR the notebooks (default notebooks)
  --solutions DIR     the reference solutions (default solutions)
  --help              this text

The default edition is checked with the release leak check (no solution or hidden-test text)
after it is built.

exit code: 0 built; 1 the leak check found solution text, or a notebook could not be read;
2 usage error`;

interface LeakModule {
  checkBook(dir: string, layout: CourseLayout): { findings: unknown[] };
  formatBookReport(r: unknown): string;
}

/** The leak check, loaded lazily: the student release ships the book but not the release tools. */
function loadLeakCheck(): LeakModule | null {
  for (const file of [path.join(__dirname, "render", "book-leakcheck.js"), path.join(__dirname, "render", "book-leakcheck.ts")]) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    if (fs.existsSync(file)) return require(file) as LeakModule;
  }
  return null;
}

/** The CLI; returns the exit code (usage mistakes and unreadable notebooks throw, see {@link runCli}). */
export function main(argv: string[]): number {
  const root = repoRoot();
  const flags = parseFlags(argv, ["--out", "--executed", "--notebooks-dir", "--solutions"], ["--help", "--with-solutions"]);
  if (flags.switches.has("--help")) {
    console.log(USAGE);
    return 0;
  }
  if (flags.positional.length > 0) throw new UsageError(`unexpected argument ${flags.positional[0]}`);
  const withSolutions = flags.switches.has("--with-solutions");
  const out = path.resolve(flags.values.get("--out") ?? path.join(root, "build", withSolutions ? "book-solutions" : "book"));
  const diag = new Diagnostics();
  const layout = {
    ...courseLayout(root),
    notebooksDir: path.resolve(flags.values.get("--notebooks-dir") ?? path.join(root, "notebooks")),
    solutionsDir: path.resolve(flags.values.get("--solutions") ?? path.join(root, "solutions")),
  };
  // Refuse before touching --out: an empty book would silently replace a good one.
  if (bookNotebooks(layout.notebooksDir).length === 0) throw new UsageError(`no notebooks (NN_*.ipynb) in ${layout.notebooksDir}`);
  const result = buildBook({
    notebooksDir: layout.notebooksDir,
    executedDir: path.resolve(flags.values.get("--executed") ?? defaultExecutedDir(root)),
    solutionsDir: layout.solutionsDir,
    out,
    withSolutions,
    diag,
  });
  let code = result.pages.every((p) => p.ok) ? 0 : 1;
  const plots = result.pages.reduce((n, p) => n + p.plots, 0);
  console.log(`book: ${result.pages.length} notebook page(s), ${plots} live plot(s)${withSolutions ? ", with solutions" : ""}${diag.warnings.length ? `, ${diag.warnings.length} warning(s)` : ""}`);
  if (withSolutions) console.log("book: this edition contains the reference solutions: for instructors and self-study, not for students before the deadlines");
  else {
    const leak = loadLeakCheck();
    if (!leak) console.log("book: leak check not available here (no release tools): skipped");
    else {
      const report = leak.checkBook(out, layout);
      console.log(leak.formatBookReport(report));
      if (report.findings.length > 0) code = 1;
    }
  }
  console.log(`book: ${whereToOpen(result.index)}`);
  return code;
}

if (require.main === module) runCli("book", USAGE, () => main(process.argv.slice(2)), (e) => e instanceof RenderInputError);
