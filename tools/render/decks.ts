/**
 * Building decks into a folder: `<out>/<name>.html` per notebook plus the shared `<out>/assets/`.
 * A committed notebook has no outputs, so its deck takes them from the executed copy when there
 * is one (load.ts); a notebook given with outputs (an executed copy) is shown as it is.
 *
 * @see tools/slides.ts
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { copyAssets } from "./assets";
import { PageContext } from "./cell";
import { deckHtml, SLIDE_CODE_LINES } from "./deck";
import { Diagnostics, IdAllocator } from "./html";
import { hasOutputs, loadNotebook, RenderInputError, withExecutedOutputs } from "./load";

/** Marks a folder as holding decks (a rebuild may write there). */
export const DECKS_MARKER = "course-slides.json";

/** Deck build settings. */
export interface DeckOptions {
  out: string;
  /** Where executed copies are looked up; null: never (decks without outputs). */
  executedDir: string | null;
  diag: Diagnostics;
}

/** One deck written. */
export interface DeckResult {
  notebook: string;
  file: string;
  slides: number;
  plots: boolean;
  theme: string;
}

/** Check the output folder: absent, empty or one that holds decks. Throws {@link RenderInputError}. */
export function prepareDecksOut(out: string): void {
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new RenderInputError(`--out ${out} exists and is not a folder`);
    const entries = fs.readdirSync(out);
    if (entries.length > 0 && !entries.includes(DECKS_MARKER)) throw new RenderInputError(`--out ${out} is not empty and holds no decks (${DECKS_MARKER}): choose another folder`);
  }
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, DECKS_MARKER), JSON.stringify({ tool: "npm run slides" }) + "\n");
}

/** Build one deck per notebook (all are read first, so a bad one stops the build before writing). */
export function buildDecks(notebooks: string[], opts: DeckOptions): DeckResult[] {
  const loaded = notebooks.map((file) => {
    const nb = loadNotebook(file, opts.diag);
    if (hasOutputs(nb) || opts.executedDir === null) return nb;
    return withExecutedOutputs(nb, path.join(opts.executedDir, path.basename(file)), opts.diag);
  });
  prepareDecksOut(opts.out);
  const results = loaded.map((nb): DeckResult => {
    const page: PageContext = { file: nb.file, diag: opts.diag, env: { math: { where: nb.file, diag: opts.diag, macros: {} }, ids: new IdAllocator(), headings: [] }, foldCodeOver: SLIDE_CODE_LINES };
    const deck = deckHtml(nb, page);
    const file = path.join(opts.out, `${nb.stem}.html`);
    fs.writeFileSync(file, deck.html);
    return { notebook: nb.file, file, slides: deck.slides, plots: deck.plotly, theme: deck.theme };
  });
  copyAssets(opts.out, { revealThemes: results.map((r) => r.theme), plotly: results.some((r) => r.plots) });
  return results;
}
