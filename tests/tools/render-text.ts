/**
 * Text checks shared by the slide and book tests (node and browser): the prose of rendered
 * HTML, and any TeX left unrendered in it.
 */

/** The text of HTML outside <pre>, <code>, <script> and KaTeX's own markup. */
export function proseOfHtml(html: string): string {
  return html
    .replace(/<(script|pre|code)\b[\s\S]*?<\/\1>/g, "")
    .replace(/<span class="katex">[\s\S]*?<\/annotation>/g, "")
    .replace(/<[^>]+>/g, "");
}

/** Raw TeX that should have been rendered: `$$`, or an inline `$x$` / `$x y$`. */
export function rawTex(text: string): string[] {
  return [...text.matchAll(/\$\$|\$[^\s$][^$\n]{0,200}?[^\s$\\]\$|\$[^\s$]\$/g)].map((m) => m[0]);
}
