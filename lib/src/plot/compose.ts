/**
 * Composing figures: `overlay` draws several figures on one pair of axes, `row` places figures
 * side by side as panels of one figure (plotly axis domains `xaxis2`/`yaxis2`/…, each panel's
 * title as an annotation).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { PlotFigure, Trace, ScatterTrace, Layout, Axis, Annotation, PanelMeta, XAxisId, YAxisId, DEFAULT_SIZE, getAxis, setAxis } from "./types";
import { textWidth, wrapText } from "./text";

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function legendCount(data: Trace[]): number {
  return data.filter((t) => t.name !== undefined && !(t.type === "scatter" && t.showlegend === false)).length;
}

/**
 * Hide repeated legend entries: a trace whose legendgroup+name, or (without a group) whose name
 * and colour, was already shown. Ungrouped repeats join one group, so they toggle together.
 */
function dedupeLegend(data: Trace[]): void {
  const key = (t: ScatterTrace) => (t.legendgroup !== undefined ? `g\u0000${t.legendgroup}\u0000${t.name}` : `n\u0000${t.name}\u0000${t.line?.color ?? t.marker?.color ?? ""}`);
  const shown = data.filter((t): t is ScatterTrace => t.type === "scatter" && t.name !== undefined && t.showlegend !== false);
  const groups = new Map<string, ScatterTrace[]>();
  for (const t of shown) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  for (const ts of groups.values()) {
    if (ts.length < 2) continue;
    ts.forEach((t, i) => {
      t.legendgroup ??= t.name;
      if (i > 0) t.showlegend = false;
    });
  }
}

/**
 * Merge the traces of several single-panel figures onto one pair of axes (x, y). The first
 * figure's layout is the base; the first title found is kept; axis settings missing from the
 * base (labels, ranges, log type, equal aspect) are taken from later figures.
 *
 * @example overlay(scatterByClass(x0, labels), scoreField(grid, score))
 * @see notebooks/01_score_matching.ipynb
 */
export function overlay(...figs: PlotFigure[]): PlotFigure {
  if (figs.length === 0) throw new Error("overlay: needs at least one figure");
  const layout: Layout = clone(figs[0].layout);
  const data: Trace[] = [];
  for (const f of figs) {
    for (const t of f.data) data.push(clone(t));
    if (!layout.title && f.layout.title) layout.title = clone(f.layout.title);
    for (const id of ["x", "y"] as const) {
      const base = getAxis(layout, id) ?? {};
      setAxis(layout, id, { ...clone(getAxis(f.layout, id) ?? {}), ...base });
    }
  }
  for (const t of data) {
    delete t.xaxis;
    delete t.yaxis;
  }
  dedupeLegend(data);
  layout.showlegend = legendCount(data) > 1;
  return { data, layout };
}

/** Options of {@link row}. */
export interface RowOptions {
  /** Overall title above the panels. */
  title?: string;
  /** Total width in px (default: the panels' natural widths — 300 px per chart, an image grid's own width — plus gaps and margins; at least 640 with charts). */
  width?: number;
  /** Height in px (default: the tallest panel — 292 px for a chart, an image grid's own height — plus titles, axis titles and legend). */
  height?: number;
  /** Horizontal gap between panels in px (default 64, room for y tick labels; 96 if a later panel has a y title; 24 between image grids). */
  gap?: number;
}

/** Plot size of a chart panel, px. */
const CHART_W = 300;
const CHART_H = 292;
const TITLE_FONT = 14;
const TITLE_LINE = 18;
const LEGEND_ROW = 20;

/** Axis ids used by a figure, in order of appearance ("x" first). */
function axisIds(fig: PlotFigure, letter: "x" | "y"): string[] {
  const ids = new Set<string>([letter]);
  for (const t of fig.data) {
    const id = letter === "x" ? t.xaxis : t.yaxis;
    if (id) ids.add(id === `${letter}1` ? letter : id);
  }
  for (const key of Object.keys(fig.layout)) {
    const m = /^([xy])axis(\d*)$/.exec(key);
    if (m && m[1] === letter) ids.add(m[2] && m[2] !== "1" ? `${letter}${m[2]}` : letter);
  }
  return Array.from(ids);
}

/** A panel's natural plotting size: an image grid keeps its own, a chart gets CHART_W × CHART_H. */
function naturalSize(f: PlotFigure): { w: number; h: number; image: boolean } {
  const image = f.data.length > 0 && f.data.every((t) => t.type === "image");
  if (!image || !f.layout.width || !f.layout.height) return { w: CHART_W, h: CHART_H, image: false };
  const m = f.layout.margin ?? { l: 0, r: 0, t: 0, b: 0 };
  return { w: f.layout.width - m.l - m.r, h: f.layout.height - m.t - m.b, image: true };
}

/** Rows of a horizontal legend at `width` px (entries as plotly lays them out, estimated). */
function legendRows(names: string[], width: number): number {
  let rows = names.length > 0 ? 1 : 0;
  let x = 0;
  for (const name of names) {
    const w = 40 + textWidth(name, 12);
    if (x > 0 && x + w > width) {
      rows += 1;
      x = 0;
    }
    x += w;
  }
  return rows;
}

/**
 * Place figures side by side as panels of one figure. Each panel keeps its own axes (renamed to
 * x2/y2, …) and its natural width (an image grid its tiles' size, so tiles and captions keep
 * their size; a chart CHART_W); its title becomes an annotation above it, wrapped to the panel's
 * width; legend entries repeated across panels are shown once, in a horizontal legend under the
 * panels. The panels are recorded in `layout.meta.panels`, so a page can stack them on a narrow
 * screen (tools/render/assets/plots.js).
 *
 * @example row([scatterByClass(x0, labels, { title: "data" }), scoreField(grid, s, { title: "score" })])
 * @see notebooks/01_score_matching.ipynb
 */
export function row(figs: PlotFigure[], opts: RowOptions = {}): PlotFigure {
  if (figs.length === 0) throw new Error("row: needs at least one figure");
  const n = figs.length;
  const sizes = figs.map(naturalSize);
  const allImages = sizes.every((z) => z.image);
  const yTitled = figs.slice(1).some((f) => axisIds(f, "y").some((id) => getAxis(f.layout, id as YAxisId)?.title?.text));
  const xTitled = figs.some((f) => axisIds(f, "x").some((id) => getAxis(f.layout, id as XAxisId)?.title?.text));
  const gapPx = opts.gap ?? (allImages ? 24 : yTitled ? 96 : 64);
  const side = allImages ? { l: 8, r: 8 } : { l: 60, r: 20 };
  const naturalW = sizes.reduce((a, z) => a + z.w, 0);
  const width = opts.width ?? Math.max(allImages ? 0 : DEFAULT_SIZE.width, Math.round(side.l + side.r + naturalW + gapPx * (n - 1)));
  const plotW = width - side.l - side.r;
  const gapFrac = Math.min(0.3, gapPx / plotW);
  const fracs = sizes.map((z) => ((1 - gapFrac * (n - 1)) * z.w) / naturalW);

  const data: Trace[] = [];
  for (const f of figs) for (const t of f.data) data.push(clone(t));
  dedupeLegend(data);
  const legendNames = data.filter((t) => t.type === "scatter" && t.name !== undefined && t.showlegend !== false).map((t) => t.name as string);
  const showLegend = legendNames.length > 1;

  const titles = figs.map((f, i) => (f.layout.title?.text ? wrapText(f.layout.title.text.replace(/<br>/g, " "), Math.max(80, fracs[i] * plotW), TITLE_FONT) : []));
  const titleLines = Math.max(0, ...titles.map((t) => t.length));
  const top = (opts.title ? 44 : 8) + titleLines * TITLE_LINE + (titleLines ? 8 : 0);
  const legendH = showLegend ? legendRows(legendNames, plotW) * LEGEND_ROW + 8 : 0;
  const bottom = (allImages ? 8 : xTitled ? 52 : 30) + legendH;
  const plotH = Math.max(...sizes.map((z) => z.h));
  const height = opts.height ?? Math.round(top + plotH + bottom);
  const layout: Layout = { width, height, margin: { l: side.l, r: side.r, t: top, b: bottom }, showlegend: showLegend, plot_bgcolor: "white", paper_bgcolor: "white" };
  if (showLegend) layout.legend = { orientation: "h", x: 0, xanchor: "left", y: 0, yanchor: "bottom", yref: "container" };
  if (opts.title) layout.title = { text: opts.title };
  const annotations: Annotation[] = [];
  const panels: PanelMeta[] = [];
  let nextX = 1;
  let nextY = 1;
  let at = 0;
  let k = 0;
  figs.forEach((f, i) => {
    const lo = at;
    const hi = lo + fracs[i];
    at = hi + gapFrac;
    const map = new Map<string, string>();
    for (const id of axisIds(f, "x")) map.set(id, nextX === 1 ? "x" : `x${nextX}`), (nextX += 1);
    for (const id of axisIds(f, "y")) map.set(id, nextY === 1 ? "y" : `y${nextY}`), (nextY += 1);
    const ren = (id: string | undefined, letter: "x" | "y"): string => map.get(id && id !== `${letter}1` ? id : letter)!;
    for (const t of f.data) {
      const c = data[k++];
      c.xaxis = ren(t.xaxis, "x") as XAxisId;
      c.yaxis = ren(t.yaxis, "y") as YAxisId;
    }
    for (const [oldId, newId] of map) {
      const letter = oldId[0] as "x" | "y";
      const axis: Axis = clone(getAxis(f.layout, oldId as XAxisId) ?? {});
      const d = axis.domain ?? [0, 1];
      if (letter === "x") axis.domain = [lo + d[0] * fracs[i], lo + d[1] * fracs[i]];
      else axis.domain = d;
      const anchor = axis.anchor ?? (letter === "x" ? "y" : "x") + oldId.slice(1);
      axis.anchor = ren(anchor, letter === "x" ? "y" : "x") as XAxisId | YAxisId;
      if (axis.scaleanchor) axis.scaleanchor = ren(axis.scaleanchor, axis.scaleanchor[0] as "x" | "y") as XAxisId | YAxisId;
      setAxis(layout, newId as XAxisId | YAxisId, axis);
    }
    for (const a of f.layout.annotations ?? []) {
      const b: Annotation = { ...clone(a) };
      b.x = a.xref === "paper" ? lo + a.x * fracs[i] : a.x;
      if (a.xref !== "paper") b.xref = ren(a.xref, "x") as XAxisId;
      if (a.yref !== "paper") b.yref = ren(a.yref, "y") as YAxisId;
      annotations.push(b);
    }
    let title = -1;
    if (titles[i].length > 0) {
      title = annotations.length;
      annotations.push({ text: titles[i].join("<br>"), x: (lo + hi) / 2, y: 1, xref: "paper", yref: "paper", xanchor: "center", yanchor: "bottom", showarrow: false, font: { size: TITLE_FONT } });
    }
    panels.push({ x: [...map.values()].filter((id) => id[0] === "x") as XAxisId[], y: [...map.values()].filter((id) => id[0] === "y") as YAxisId[], w: sizes[i].w, h: sizes[i].h, title });
  });
  if (annotations.length) layout.annotations = annotations;
  if (n > 1) layout.meta = { panels, gap: gapPx };
  return { data, layout };
}
