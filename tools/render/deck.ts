/**
 * A reveal.js deck from a notebook, following Jupyter's slide metadata as nbconvert and RISE
 * read it: `slide` starts a horizontal slide, `subslide` a vertical one below it, `fragment`
 * appears on the next key press, `notes` goes to the speaker notes (reveal's notes view, `s`),
 * `skip` is left out, and `-` (or no type) continues whatever the previous cell was part of.
 * A notebook with no slide metadata at all is split at its `#`/`##` (slide) and `###`
 * (subslide) headings instead of becoming one endless slide. Slides left without visible
 * content (all cells removed or skipped) are dropped, so a deck never shows a blank slide.
 *
 * Per-notebook reveal options come from `metadata.reveal` (e.g. `{ "transition": "fade",
 * "theme": "black" }`), over the course defaults (1280×720, slide numbers, hash URLs).
 * Long content fits: code inputs over SLIDE_CODE_LINES lines are folded behind a toggle; in the
 * browser a slide taller than the screen is split at its blocks (the cells and fragments of its
 * .slide-body, then their children) into "<title> (cont.)" slides, and a single block too tall
 * for a slide of its own is scaled down to no less than 14 px text, then scrolls in a box of
 * the slide's height (assets/course/deck.js); outputs scroll inside their own boxes and images
 * and plots scale to the slide's width (assets/course/deck.css). On a phone (portrait, narrow) the deck is laid out at the
 * screen's own size with smaller type, so text reflows instead of shrinking. The deck's browser
 * test measures that nothing sticks out, no slide is over its height and no text is too small.
 *
 * @see https://revealjs.com/config/
 * @see notebooks/01_score_matching.ipynb
 */
import { ASSETS, pickTheme } from "./assets";
import { CellView, SlideType } from "./cells";
import { PageContext, renderCell } from "./cell";
import { esc, scriptJson } from "./html";
import { RenderNotebook } from "./load";

/** The course's reveal.js defaults; `metadata.reveal` overrides them. */
export const REVEAL_DEFAULTS: Record<string, unknown> = {
  width: 1280,
  height: 720,
  margin: 0.04,
  center: false,
  hash: true,
  slideNumber: "c/t",
  transition: "slide",
  controls: true,
  progress: true,
};

/** On slides, code inputs longer than this many lines are folded behind a "Show code" toggle. */
export const SLIDE_CODE_LINES = 10;

/** One vertical slide: its visible parts (plain HTML or fragments) and its speaker notes. */
interface SubSlide {
  parts: { fragment: boolean; html: string[] }[];
  notes: string[];
}

/** A deck's structure: horizontal slides, each a stack of vertical ones. */
export type DeckSlides = SubSlide[][];

function headingSlideType(cell: CellView): SlideType {
  if (cell.kind !== "markdown") return "-";
  const m = /^\s*(#{1,3})\s/.exec(cell.source);
  if (!m) return "-";
  return m[1].length <= 2 ? "slide" : "subslide";
}

/**
 * Group rendered cells into slides. `rendered[i]` is the HTML of `cells[i]` ("" when nothing of
 * it shows).
 */
export function groupSlides(cells: CellView[], rendered: string[]): DeckSlides {
  const anyMeta = cells.some((c) => c.slideType !== null);
  const deck: DeckSlides = [];
  let target: "body" | "fragment" | "notes" = "body";
  const current = (): SubSlide => {
    if (deck.length === 0) deck.push([{ parts: [], notes: [] }]);
    const stack = deck[deck.length - 1];
    return stack[stack.length - 1];
  };
  cells.forEach((cell, i) => {
    const type: SlideType = anyMeta ? cell.slideType ?? "-" : headingSlideType(cell);
    if (type === "skip") return;
    if (type === "slide") {
      deck.push([{ parts: [], notes: [] }]);
      target = "body";
    } else if (type === "subslide") {
      if (deck.length === 0) deck.push([]);
      deck[deck.length - 1].push({ parts: [], notes: [] });
      target = "body";
    } else if (type === "fragment") {
      current().parts.push({ fragment: true, html: [] });
      target = "fragment";
    } else if (type === "notes") target = "notes";
    const html = rendered[i];
    const sub = current();
    if (html === "") return;
    if (target === "notes") sub.notes.push(html);
    else if (target === "fragment" && sub.parts.length > 0) sub.parts[sub.parts.length - 1].html.push(html);
    else {
      const last = sub.parts[sub.parts.length - 1];
      if (last && !last.fragment) last.html.push(html);
      else sub.parts.push({ fragment: false, html: [html] });
    }
  });
  // Drop empty slides; notes of a slide with nothing to show move to the slide before it.
  const out: DeckSlides = [];
  let previous: SubSlide | null = null;
  for (const stack of deck) {
    const kept: SubSlide[] = [];
    for (const sub of stack) {
      if (sub.parts.some((p) => p.html.length > 0)) {
        sub.parts = sub.parts.filter((p) => p.html.length > 0);
        kept.push(sub);
        previous = sub;
      } else if (sub.notes.length > 0 && previous) previous.notes.push(...sub.notes);
    }
    if (kept.length > 0) out.push(kept);
  }
  return out;
}

function subSlideHtml(sub: SubSlide): string {
  const body = sub.parts.map((p) => (p.fragment ? `<div class="fragment">${p.html.join("\n")}</div>` : p.html.join("\n"))).join("\n");
  const notes = sub.notes.length > 0 ? `\n<aside class="notes">${sub.notes.join("\n")}</aside>` : "";
  return `<section>\n<div class="slide-body">\n${body}\n</div>${notes}\n</section>`;
}

/** The reveal options of a notebook: defaults, then `metadata.reveal` (minus `theme`). */
export function revealOptions(nb: RenderNotebook, page: PageContext): { config: Record<string, unknown>; theme: string } {
  const meta = nb.metadata.reveal;
  if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta))) {
    page.diag.warn(`${nb.file}: metadata.reveal is not an object of reveal.js options; using the defaults`);
    return { config: { ...REVEAL_DEFAULTS }, theme: pickTheme(undefined, nb.file, page.diag) };
  }
  const { theme, ...rest } = (meta ?? {}) as Record<string, unknown>;
  return { config: { ...REVEAL_DEFAULTS, ...rest }, theme: pickTheme(theme, nb.file, page.diag) };
}

/** A whole deck page; `plotly` tells whether the page loads plotly.js. */
export function deckHtml(nb: RenderNotebook, page: PageContext): { html: string; theme: string; plotly: boolean; slides: number } {
  const rendered = nb.cells.map((c) => renderCell(c, page));
  const slides = groupSlides(nb.cells, rendered);
  const { config, theme } = revealOptions(nb, page);
  const sections = slides.map((stack) => (stack.length === 1 ? subSlideHtml(stack[0]) : `<section>\n${stack.map(subSlideHtml).join("\n")}\n</section>`));
  const plotly = rendered.some((h) => h.includes('class="course-plot"'));
  const a = ASSETS;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(nb.title)}</title>
<link rel="stylesheet" href="${a}/reveal/reveal.css">
<link rel="stylesheet" href="${a}/reveal/theme/${theme}.css">
<link rel="stylesheet" href="${a}/katex/katex.min.css">
<link rel="stylesheet" href="${a}/course/course.css">
<link rel="stylesheet" href="${a}/course/deck.css">
</head>
<body>
<div class="reveal"><div class="slides">
${sections.join("\n")}
</div></div>
<script src="${a}/reveal/reveal.js"></script>
<script src="${a}/reveal/plugin/notes/notes.js"></script>
${plotly ? `<script src="${a}/plotly/plotly.min.js"></script>\n` : ""}<script src="${a}/course/plots.js"></script>
<script type="application/json" id="reveal-config">${scriptJson(config)}</script>
<script src="${a}/course/deck.js"></script>
</body>
</html>
`;
  return { html, theme, plotly, slides: slides.reduce((n, s) => n + s.length, 0) };
}
