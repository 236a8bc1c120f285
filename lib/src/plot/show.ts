/**
 * Showing a figure in a notebook: one Jupyter MIME bundle with
 *  - `application/vnd.plotly.v1+json` — the figure itself (live in JupyterLab / VS Code),
 *  - `text/html` — our static SVG rendering plus the figure JSON in
 *    `<script type="application/vnd.plotly.v1+json" class="course-plot">` (re-hydrated live by
 *    the slides/book build with plotly.js; nothing here needs a CDN or the network),
 *  - `text/plain` — a one-line description (what terminals and `displayBundle` outside a
 *    notebook print).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { displayBundle, MimeBundle } from "../display";
import { PlotFigure } from "./types";
import { renderSvg } from "./svg";
import { traceAxis } from "./axes";

/** MIME type of a plotly figure in Jupyter. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** Number of panels (distinct x/y axis pairs with traces; at least 1). */
function panelCount(fig: PlotFigure): number {
  return Math.max(1, new Set(fig.data.map((t) => `${traceAxis(t, "x")}|${traceAxis(t, "y")}`)).size);
}

/**
 * One-line description, e.g. `[plot] Learned vs true score field (2 panels, 3 traces)`.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function describeFigure(fig: PlotFigure): string {
  const panelTitles = (fig.layout.annotations ?? []).filter((a) => a.xref === "paper" && a.yref === "paper" && a.y >= 1).map((a) => a.text);
  const title = fig.layout.title?.text || panelTitles.join(" | ") || "untitled";
  const p = panelCount(fig);
  const t = fig.data.length;
  return `[plot] ${title.replace(/\s+/g, " ")} (${p} panel${p === 1 ? "" : "s"}, ${t} trace${t === 1 ? "" : "s"})`;
}

/** JSON safe inside an HTML `<script>` element: `<`, `>`, `&` and U+2028/9 as \u escapes (still valid JSON). */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The `text/html` part: static SVG plus the embedded figure JSON for live re-hydration.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function figureHtml(fig: PlotFigure): string {
  return [
    `<div class="course-plot">`,
    renderSvg(fig),
    `<script type="${PLOTLY_MIME}" class="course-plot">${scriptSafeJson(fig)}</script>`,
    `</div>`,
  ].join("\n");
}

/**
 * The full display bundle of a figure (plotly JSON, static HTML, plain-text line).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function figureBundle(fig: PlotFigure): MimeBundle {
  const plain = JSON.parse(JSON.stringify(fig)) as PlotFigure;
  return {
    [PLOTLY_MIME]: plain as unknown as object,
    "text/html": figureHtml(plain),
    "text/plain": describeFigure(plain),
  };
}

/**
 * Display a figure: one output in a notebook (live plotly where the frontend has it, static
 * SVG everywhere else); outside a notebook prints its one-line description.
 *
 * @example show(row([scatterByClass(x0, labels, { title: "data" }), scoreField(grid, s, { title: "s_θ" })]))
 * @see notebooks/01_score_matching.ipynb
 */
export function show(fig: PlotFigure): void {
  displayBundle(figureBundle(fig));
}
