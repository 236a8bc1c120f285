/**
 * One cell to HTML, the same for slides and book: markdown (with math), code (highlighted
 * TypeScript) and its outputs, honouring the Jupyter Book tags — `remove-cell` (nothing),
 * `remove-input`, `remove-output`, `hide-input` and `hide-output` (behind a `<details>` toggle;
 * on slides every code input longer than `foldCodeOver` lines is folded like `hide-input`)
 * — and showing exercise cells as exercises, optionally with the reference solution behind a
 * toggle (the book's instructor/self-study edition).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { CellView } from "./cells";
import { highlightTs } from "./highlight";
import { Diagnostics, esc, placeholder } from "./html";
import { MarkdownEnv, renderMarkdown } from "./markdown";
import { renderOutputs } from "./outputs";

/** What rendering a page's cells needs. */
export interface PageContext {
  /** The notebook file (for warnings). */
  file: string;
  diag: Diagnostics;
  env: MarkdownEnv;
  /** Reference solutions to reveal under a toggle, by exercise id; absent: none shown. */
  solutions?: Map<string, string>;
  /** Fold code inputs longer than this many lines behind a "Show code" toggle (slides); absent: never. */
  foldCodeOver?: number;
  /** Outputs of code cells from this index on came from the reference-solution run: say so on each. */
  referenceRunFrom?: number;
}

/** The note on an output that the reference solutions produced, not the stub shown above it. */
export const REFERENCE_RUN_NOTE = "output from the reference solution run";

function codeBlock(source: string): string {
  return `<pre class="code"><code class="language-ts">${highlightTs(source)}</code></pre>`;
}

function toggle(cls: string, summary: string, body: string): string {
  return `<details class="${cls}"><summary>${summary}</summary>${body}</details>`;
}

/** The HTML of one cell; "" when nothing of it is visible (removed, or empty). */
export function renderCell(cell: CellView, page: PageContext): string {
  if (cell.tags.has("remove-cell")) return "";
  const where = `${page.file} cell ${cell.index + 1}`;
  page.env.math.where = where;
  page.env.attachments = cell.attachments;
  const problems = cell.problems.map((p) => placeholder(`cell ${cell.index + 1}: ${p}`)).join("");
  if (cell.kind === "markdown") {
    const body = cell.source.trim() === "" ? "" : renderMarkdown(cell.source, page.env);
    return body || problems ? `<div class="cell cell-markdown">${problems}${body}</div>` : "";
  }
  if (cell.kind === "raw") {
    return cell.source.trim() || problems ? `<div class="cell cell-raw">${problems}<pre class="raw">${esc(cell.source)}</pre></div>` : "";
  }
  const parts: string[] = [];
  if (!cell.tags.has("remove-input") && cell.source.trim() !== "") {
    const code = `<div class="cell-input">${codeBlock(cell.source)}</div>`;
    const lines = cell.source.trimEnd().split("\n").length;
    const fold = page.foldCodeOver !== undefined && lines > page.foldCodeOver;
    parts.push(cell.tags.has("hide-input") || fold ? toggle("hide-input", fold ? `Show code (${lines} lines)` : "Show code", code) : code);
  }
  const solution = cell.exercise ? page.solutions?.get(cell.exercise.id) : undefined;
  if (solution !== undefined) parts.push(toggle("solution", "Show solution", `<div class="cell-input">${codeBlock(solution)}</div>`));
  if (!cell.tags.has("remove-output") && cell.outputs.length > 0) {
    const fromReference = page.referenceRunFrom !== undefined && cell.index >= page.referenceRunFrom;
    const note = fromReference ? `<div class="reference-run" title="The exercises on this page show their stubs; this output came from running the reference solutions (npm start)">${REFERENCE_RUN_NOTE}</div>` : "";
    const outs = `<div class="cell-outputs${fromReference ? " from-reference" : ""}">${note}${renderOutputs(cell.outputs, { where, diag: page.diag, env: page.env })}</div>`;
    parts.push(cell.tags.has("hide-output") ? toggle("hide-output", "Show output", outs) : outs);
  }
  if (parts.length === 0 && !problems) return "";
  if (!cell.exercise) return `<div class="cell cell-code">${problems}${parts.join("")}</div>`;
  const ex = cell.exercise;
  const facts = [`${ex.points} point${ex.points === 1 ? "" : "s"}`, ex.week === "" ? "" : `week ${String(ex.week).replace(/^week\s*/i, "")}`].filter(Boolean).join(" · ");
  // A <div>, not a <section>: reveal.js takes every <section> for a slide.
  return `<div class="cell cell-code exercise" id="exercise-${esc(ex.id)}" data-exercise="${esc(ex.id)}">`
    + `<div class="exercise-head">✏️ Exercise <code>${esc(ex.id)}</code> <span class="exercise-facts">${esc(facts)}</span></div>`
    + `${problems}${parts.join("")}</div>`;
}
