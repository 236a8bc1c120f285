/**
 * Notebook markdown to HTML: CommonMark plus raw HTML (markdown-it), TeX math (math.ts), fenced
 * code highlighted like code cells, headings with stable ids collected for the page's table of
 * contents, `attachment:` images inlined from the cell, and links to other notebooks
 * (`02_x.ipynb`) pointed at their rendered page.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import MarkdownIt from "markdown-it";
import { Diagnostics, esc, IdAllocator, slugify } from "./html";
import { highlightTs } from "./highlight";
import { MathContext, mathPlugin } from "./math";

/** A heading found while rendering (for the table of contents). */
export interface Heading {
  level: number;
  id: string;
  /** The heading's inner HTML (math rendered). */
  html: string;
}

/** What one markdown render needs and collects; one per page, shared by its cells. */
export interface MarkdownEnv {
  math: MathContext;
  ids: IdAllocator;
  /** Headings of the page so far, in order. */
  headings: Heading[];
  /** Where a link to notebook `stem` (e.g. 02_classifier_guidance) should point; undefined: leave it. */
  notebookLink?: (stem: string, hash: string) => string | undefined;
  /** The current cell's attachments (`attachment:name` sources), nbformat's { name: { mime: base64 } }. */
  attachments?: Record<string, unknown>;
}

const TS_LANGS = new Set(["ts", "typescript", "js", "javascript", "tsx", "jsx"]);

function createMarkdown(): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });
  md.use(mathPlugin);
  md.options.highlight = (code: string, lang: string) =>
    TS_LANGS.has(lang.trim().toLowerCase()) ? `<pre class="code"><code class="language-ts">${highlightTs(code.replace(/\n$/, ""))}</code></pre>` : "";

  // Heading ids (unique per page) and the table of contents.
  md.core.ruler.push("heading_ids", (state) => {
    const env = state.env as MarkdownEnv;
    state.tokens.forEach((tok, i) => {
      if (tok.type !== "heading_open") return;
      const inline = state.tokens[i + 1];
      const text = (inline.children ?? []).map((c) => (c.type === "text" || c.type === "code_inline" ? c.content : c.type.startsWith("math") ? c.content : "")).join("");
      const id = env.ids.take(slugify(text));
      tok.attrSet("id", id);
      const quiet: MarkdownEnv = { ...env, math: { ...env.math, diag: new Diagnostics(() => undefined) } };
      env.headings.push({ level: Number(tok.tag.slice(1)), id, html: md.renderer.renderInline(inline.children ?? [], md.options, quiet) });
    });
  });

  // Links to sibling notebooks go to their rendered page.
  const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const e = env as MarkdownEnv;
    const href = tokens[idx].attrGet("href") ?? "";
    const m = /^(?:\.\/|(?:\.\.\/)?notebooks\/)?(\d\d_[\w.-]+?)\.ipynb(#.*)?$/.exec(href);
    const to = m && e.notebookLink ? e.notebookLink(m[1], m[2] ?? "") : undefined;
    if (to !== undefined) tokens[idx].attrSet("href", to);
    return defaultLink(tokens, idx, options, env, self);
  };

  // `![x](attachment:name.png)` shows the image stored in the cell.
  const defaultImage = md.renderer.rules.image ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const e = env as MarkdownEnv;
    const src = tokens[idx].attrGet("src") ?? "";
    if (src.startsWith("attachment:")) {
      const bundle = e.attachments?.[decodeURIComponent(src.slice("attachment:".length))];
      const found = bundle && typeof bundle === "object" ? Object.entries(bundle as Record<string, unknown>).find(([mime, v]) => mime.startsWith("image/") && typeof v === "string") : undefined;
      if (found) tokens[idx].attrSet("src", `data:${found[0]};base64,${String(found[1]).replace(/\s+/g, "")}`);
      else e.math.diag.warn(`${e.math.where}: attachment ${src.slice(11)} is missing from the cell`);
    }
    return defaultImage(tokens, idx, options, env, self);
  };
  return md;
}

let shared: MarkdownIt | null = null;

/** Render one markdown cell's source to HTML (headings are appended to `env.headings`). */
export function renderMarkdown(source: string, env: MarkdownEnv): string {
  shared ??= createMarkdown();
  try {
    return shared.render(source, env);
  } catch (e) {
    env.math.diag.warn(`${env.math.where}: markdown could not be rendered (${(e as Error).message})`);
    return `<pre class="render-placeholder">${esc(source)}</pre>`;
  }
}
