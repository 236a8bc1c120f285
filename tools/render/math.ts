/**
 * TeX math in notebook markdown, rendered with KaTeX at build time (no KaTeX JavaScript in the
 * page; only its CSS and fonts, copied locally). Delimiters as in Jupyter: `$…$` inline, `$$…$$`
 * display (on its own lines or inside a paragraph). A formula KaTeX cannot parse is shown in
 * place, as its source with the error, and reported as a warning; it never breaks the page.
 *
 * Inline `$` follows pandoc's rule so prices do not turn into math: the opening `$` is not
 * followed by a space, the closing one is not preceded by a space nor followed by a digit.
 * Macros defined with `\newcommand`/`\gdef` persist from one formula to the next within a page.
 *
 * @see https://katex.org/docs/options.html
 * @see notebooks/01_score_matching.ipynb
 */
// katex declares its types only through package.json "exports", which this project's module
// resolution (node10, as tslab) does not read: take the types from their file, the code from the package.
import type * as Katex from "katex/types/katex";
import type MarkdownIt from "markdown-it";
import { Diagnostics, esc } from "./html";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const katex = require("katex") as typeof Katex;

/** Where a formula comes from and where its problems go. */
export interface MathContext {
  /** e.g. `notebooks/01_score_matching.ipynb cell 3` (for warnings). */
  where: string;
  diag: Diagnostics;
  /** KaTeX macro table shared by every formula of one page. */
  macros: Record<string, string>;
}

/** Render one TeX formula to HTML; a parse error renders in place (and is warned about). */
export function renderTex(tex: string, display: boolean, ctx: MathContext): string {
  try {
    return katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "ignore", macros: ctx.macros, globalGroup: true, output: "htmlAndMathml" });
  } catch (e) {
    const why = (e as Error).message.replace(/^KaTeX parse error:\s*/, "").split("\n")[0];
    const shown = tex.length > 80 ? `${tex.slice(0, 77)}…` : tex;
    ctx.diag.warn(`${ctx.where}: formula does not render (${why}): ${shown.replace(/\s+/g, " ")}`);
    const cls = display ? "math-error math-error-display" : "math-error";
    return `<span class="${cls}" title="${esc(why)}"><code>${esc(tex)}</code> <small>⚠ ${esc(why)}</small></span>`;
  }
}

const DOLLAR = 0x24;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function escaped(src: string, at: number): boolean {
  let n = 0;
  for (let i = at - 1; i >= 0 && src.charCodeAt(i) === BACKSLASH; i--) n++;
  return n % 2 === 1;
}

/** Index of the next unescaped `delim` at or after `from`, or -1. */
function findClosing(src: string, delim: string, from: number, max: number): number {
  for (let at = src.indexOf(delim, from); at >= 0 && at < max; at = src.indexOf(delim, at + 1)) {
    if (!escaped(src, at)) return at;
  }
  return -1;
}

const mathInline: MarkdownIt.ParserInline.RuleInline = (state, silent) => {
  const src = state.src;
  const pos = state.pos;
  if (src.charCodeAt(pos) !== DOLLAR) return false;
  const display = src.charCodeAt(pos + 1) === DOLLAR;
  const open = display ? 2 : 1;
  const start = pos + open;
  if (start >= state.posMax) return false;
  if (!display && isSpace(src.charCodeAt(start))) return false;
  const end = findClosing(src, display ? "$$" : "$", start, state.posMax);
  if (end < 0 || end === start) return false;
  if (!display) {
    const after = src.charCodeAt(end + 1);
    if (isSpace(src.charCodeAt(end - 1)) || (after >= 0x30 && after <= 0x39)) return false;
  }
  if (!silent) {
    const token = state.push(display ? "math_display_inline" : "math_inline", "math", 0);
    token.content = src.slice(start, end);
    token.markup = display ? "$$" : "$";
  }
  state.pos = end + open;
  return true;
};

const mathBlock: MarkdownIt.ParserBlock.RuleBlock = (state, startLine, endLine, silent) => {
  const start = state.bMarks[startLine] + state.tShift[startLine];
  const max = state.eMarks[startLine];
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  if (state.src.slice(start, start + 2) !== "$$") return false;
  const first = state.src.slice(start + 2, max);
  let body: string[] = [];
  let last = -1;
  const closeAt = findClosing(first, "$$", 0, first.length);
  if (closeAt >= 0) {
    // `$$ … $$` on one line: a block only if nothing follows it
    if (first.slice(closeAt + 2).trim() !== "") return false;
    body = [first.slice(0, closeAt)];
    last = startLine;
  } else {
    body.push(first);
    for (let line = startLine + 1; line < endLine; line++) {
      const s = state.bMarks[line] + state.tShift[line];
      const e = state.eMarks[line];
      if (s < e && state.sCount[line] < state.blkIndent) break;
      const text = state.src.slice(s, e);
      const at = findClosing(text, "$$", 0, text.length);
      if (at >= 0) {
        if (text.slice(at + 2).trim() !== "") return false;
        body.push(text.slice(0, at));
        last = line;
        break;
      }
      body.push(text);
    }
  }
  if (last < 0) return false;
  if (silent) return true;
  state.line = last + 1;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = body.join("\n").trim();
  token.markup = "$$";
  token.map = [startLine, state.line];
  return true;
};

/**
 * markdown-it plugin: `$…$` and `$$…$$` become KaTeX HTML. The page's {@link MathContext} is
 * taken from `env.math`.
 */
export function mathPlugin(md: MarkdownIt): void {
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.block.ruler.before("fence", "math_block", mathBlock, { alt: ["paragraph", "reference", "blockquote", "list"] });
  const ctxOf = (env: unknown): MathContext => (env as { math: MathContext }).math;
  md.renderer.rules.math_inline = (tokens, idx, _o, env) => renderTex(tokens[idx].content, false, ctxOf(env));
  md.renderer.rules.math_display_inline = (tokens, idx, _o, env) => renderTex(tokens[idx].content, true, ctxOf(env));
  md.renderer.rules.math_block = (tokens, idx, _o, env) => `<div class="math-block">${renderTex(tokens[idx].content, true, ctxOf(env))}</div>\n`;
}
