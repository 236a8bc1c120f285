/**
 * The book: a static site with one page per notebook (prose, math, highlighted code, outputs,
 * live plots), a table of contents per page, previous/next links, and an index page with the
 * course map and the seed lecture's timeline. Exercise cells show their stubs; the
 * `--with-solutions` edition adds each reference solution (solutions/NN_topic.ts) under a toggle.
 * Outputs come from the executed copies (load.ts), so the sources, and the stubs, are always the
 * committed notebook's.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { parseSolutions, solutionsFileFor } from "../exercises";
import { NOTEBOOK_PATTERN } from "../run";
import { ASSETS, copyAssets } from "./assets";
import { PageContext, REFERENCE_RUN_NOTE, renderCell } from "./cell";
import { BookPageRef, courseMapHtml, timelineHtml } from "./coursemap";
import { Diagnostics, esc, IdAllocator, placeholder } from "./html";
import { Heading, MarkdownEnv } from "./markdown";
import { loadNotebook, RenderInputError, RenderNotebook, withExecutedOutputs } from "./load";

/** The book's name, shown on every page. */
export const BOOK_NAME = "Diffusion models & guidance";

/** Marks a folder as a book build (so a rebuild may replace it). */
export const BOOK_MARKER = "course-book.json";

/** Book settings (the CLI's flags). */
export interface BookOptions {
  notebooksDir: string;
  /** Executed copies, `<dir>/<name>.ipynb`. */
  executedDir: string;
  solutionsDir: string;
  out: string;
  withSolutions: boolean;
  diag: Diagnostics;
}

/** One written page. */
export interface BookPage extends BookPageRef {
  file: string;
  /** The notebook it was made from. */
  source: string;
  plots: number;
  /** false: the notebook could not be read (the page is a placeholder). */
  ok: boolean;
}

/** What a build wrote. */
export interface BookResult {
  index: string;
  pages: BookPage[];
}

/** The notebooks of the book, in order: `<notebooksDir>/NN_*.ipynb`. */
export function bookNotebooks(notebooksDir: string): string[] {
  if (!fs.existsSync(notebooksDir)) return [];
  return fs.readdirSync(notebooksDir).filter((n) => NOTEBOOK_PATTERN.test(n)).sort().map((n) => path.join(notebooksDir, n));
}

function pageShell(title: string, body: string, opts: { plotly: boolean; withSolutions: boolean; crumb: string }): string {
  const a = ASSETS;
  const edition = opts.withSolutions ? `<span class="edition">Edition with solutions</span>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${a}/katex/katex.min.css">
<link rel="stylesheet" href="${a}/course/course.css">
<link rel="stylesheet" href="${a}/course/book.css">
</head>
<body>
<header class="book-top"><a class="book-name" href="index.html">${esc(BOOK_NAME)}</a><span class="crumb">${opts.crumb}</span>${edition}</header>
${body}
${opts.plotly ? `<script src="${a}/plotly/plotly.min.js"></script>\n` : ""}<script src="${a}/course/plots.js"></script>
<script src="${a}/course/book.js"></script>
</body>
</html>
`;
}

function tocHtml(headings: Heading[]): string {
  const items = headings.filter((h) => h.level === 2 || h.level === 3).map((h) => `<li class="toc-h${h.level}"><a href="#${esc(h.id)}">${h.html}</a></li>`);
  if (items.length === 0) return "";
  return `<nav class="book-toc" aria-label="On this page"><details open><summary>On this page</summary><ul>\n${items.join("\n")}\n</ul></details></nav>`;
}

function pagerHtml(prev: BookPageRef | null, next: BookPageRef | null): string {
  const p = prev ? `<a class="prev" rel="prev" href="${esc(prev.href)}">← ${esc(prev.title)}</a>` : `<a class="prev" rel="prev" href="index.html">← Course map</a>`;
  const n = next ? `<a class="next" rel="next" href="${esc(next.href)}">${esc(next.title)} →</a>` : "";
  return `<nav class="book-pager" aria-label="Previous and next">${p}${n}</nav>`;
}

/** The reference solutions of a notebook's exercises, by id (empty when there is no solutions file). */
export function solutionsFor(notebook: string, solutionsDir: string, diag: Diagnostics): Map<string, string> {
  const file = solutionsFileFor(notebook, solutionsDir);
  if (!fs.existsSync(file)) return new Map();
  try {
    return new Map([...parseSolutions(fs.readFileSync(file, "utf8"), file)].map(([id, r]) => [id, r.text]));
  } catch (e) {
    diag.warn(`${file}: solutions not shown (${(e as Error).message})`);
    return new Map();
  }
}

function pageRef(stem: string, title: string): BookPageRef {
  const nn = /^(\d\d)_/.exec(stem)?.[1];
  return { stem, title: nn && !title.startsWith(nn) ? `${nn} · ${title}` : title, href: `${stem}.html` };
}

/** Prepare the output folder: empty, or an earlier book (replaced); refuses anything else. */
export function prepareBookOut(out: string, notebooksDir: string): void {
  const abs = path.resolve(out);
  if (fs.existsSync(abs)) {
    if (!fs.statSync(abs).isDirectory()) throw new RenderInputError(`--out ${out} exists and is not a folder`);
    const entries = fs.readdirSync(abs);
    if (entries.length > 0 && !entries.includes(BOOK_MARKER)) throw new RenderInputError(`--out ${out} is not empty and holds no earlier book (${BOOK_MARKER}): refusing to replace it`);
    if (path.resolve(notebooksDir) === abs) throw new RenderInputError(`--out ${out} is the notebooks folder`);
    fs.rmSync(abs, { recursive: true, force: true });
  }
  fs.mkdirSync(abs, { recursive: true });
}

/** Build the book into `opts.out`. Notebooks that cannot be read get a placeholder page and a warning. */
export function buildBook(opts: BookOptions): BookResult {
  const files = bookNotebooks(opts.notebooksDir);
  prepareBookOut(opts.out, opts.notebooksDir);
  const loaded: { file: string; nb: RenderNotebook | null; error?: string }[] = files.map((abs) => {
    const file = path.relative(process.cwd(), abs) || abs;
    try {
      const nb = loadNotebook(file, opts.diag);
      return { file, nb: withExecutedOutputs(nb, path.join(opts.executedDir, path.basename(file)), opts.diag) };
    } catch (e) {
      if (!(e instanceof RenderInputError)) throw e;
      opts.diag.warn(`${e.message}: the book shows a placeholder page`);
      return { file, nb: null, error: e.message };
    }
  });
  const refs = loaded.map((l) => pageRef(path.basename(l.file, ".ipynb"), l.nb?.title ?? path.basename(l.file, ".ipynb")));
  const pages: BookPage[] = [];
  loaded.forEach((l, i) => {
    const ref = refs[i];
    const env: MarkdownEnv = {
      math: { where: l.file, diag: opts.diag, macros: {} },
      ids: new IdAllocator(),
      headings: [],
      notebookLink: (stem, hash) => (refs.some((r) => r.stem === stem) ? `${stem}.html${hash}` : undefined),
    };
    let main: string;
    let plots = 0;
    if (l.nb) {
      const page: PageContext = { file: l.file, diag: opts.diag, env, solutions: opts.withSolutions ? solutionsFor(l.file, opts.solutionsDir, opts.diag) : undefined, referenceRunFrom: l.nb.referenceRunFrom };
      const cells = l.nb.cells.map((c) => renderCell(c, page)).filter((h) => h !== "");
      main = cells.join("\n");
      plots = (main.match(/class="course-plot"/g) ?? []).length;
      if (!l.nb.outputsFrom) main = `<p class="notice">This page shows the notebook without outputs: run <code>npm start</code> to execute the notebooks, then rebuild the book.</p>\n${main}`;
      else if (l.nb.referenceRunFrom !== undefined) main = `<p class="notice reference-run-notice">The exercises on this page show their stubs, but its outputs come from a run with the reference solutions filled in: outputs from the first exercise on are marked “${REFERENCE_RUN_NOTE}”.</p>\n${main}`;
    } else main = placeholder(`this notebook could not be read: ${l.error ?? "unknown error"}`);
    const body = `<div class="book-layout">\n${tocHtml(env.headings)}\n<main class="book-main">\n${main}\n${pagerHtml(i > 0 ? refs[i - 1] : null, refs[i + 1] ?? null)}\n</main>\n</div>`;
    const file = path.join(opts.out, ref.href);
    fs.writeFileSync(file, pageShell(`${ref.title} — ${BOOK_NAME}`, body, { plotly: plots > 0, withSolutions: opts.withSolutions, crumb: esc(ref.stem.slice(0, 2)) }));
    pages.push({ ...ref, file, source: l.file, plots, ok: l.nb !== null });
  });
  const first = refs[0];
  const intro = `<h1>${esc(BOOK_NAME)}</h1>
<p>A TypeScript notebook course, from score matching to classifier guidance, classifier-free guidance, super-resolution cascades, CLIP, GLIDE and the DALL·E-2 prior. Every page is a notebook of the course with its outputs; plots are interactive and everything works offline.</p>
${opts.withSolutions ? `<p class="notice">This edition shows the reference solution of every exercise under a <em>Show solution</em> toggle.</p>` : ""}
${first ? `<p><a href="${esc(first.href)}">Start with ${esc(first.title)} →</a></p>` : `<p class="notice">No notebooks yet.</p>`}`;
  const indexBody = `<div class="book-layout">\n<main class="book-main">\n${intro}\n${courseMapHtml(refs)}\n${timelineHtml(refs)}\n</main>\n</div>`;
  const index = path.join(opts.out, "index.html");
  fs.writeFileSync(index, pageShell(BOOK_NAME, indexBody, { plotly: false, withSolutions: opts.withSolutions, crumb: "Course map" }));
  copyAssets(opts.out, { revealThemes: [], plotly: pages.some((p) => p.plots > 0) });
  fs.writeFileSync(path.join(opts.out, BOOK_MARKER), JSON.stringify({ withSolutions: opts.withSolutions, pages: pages.map((p) => p.href) }, null, 1) + "\n");
  return { index, pages };
}
