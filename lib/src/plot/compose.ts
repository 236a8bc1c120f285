/**
 * Composing figures: `overlay` draws several figures on one pair of axes, `row` places figures
 * side by side as panels of one figure (plotly axis domains `xaxis2`/`yaxis2`/…, each panel's
 * title as an annotation).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { PlotFigure, Trace, Layout, Axis, Annotation, XAxisId, YAxisId, DEFAULT_SIZE, getAxis, setAxis } from "./types";

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function legendCount(data: Trace[]): number {
  return data.filter((t) => t.name !== undefined && !(t.type === "scatter" && t.showlegend === false)).length;
}

/** Hide repeated legend entries: a later trace whose legendgroup+name was already shown. */
function dedupeLegend(data: Trace[]): void {
  const seen = new Set<string>();
  for (const t of data) {
    if (t.type !== "scatter" || t.name === undefined || t.showlegend === false) continue;
    const key = `${t.legendgroup ?? ""}\u0000${t.name}`;
    if (t.legendgroup !== undefined && seen.has(key)) t.showlegend = false;
    seen.add(key);
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
  /** Total width in px (default 380 per panel, at least 640). */
  width?: number;
  /** Height in px (default 400). */
  height?: number;
  /** Horizontal gap between panels in px (default 64, room for y tick labels; 96 if a later panel has a y title). */
  gap?: number;
}

const ROW_MARGIN = { l: 60, r: 20, t: 56, b: 52 };

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

/**
 * Place figures side by side as panels of one figure. Each panel keeps its own axes (renamed to
 * x2/y2, …, with domains splitting the width), its title becomes an annotation above it, and
 * legend entries repeated across panels (same legendgroup and name) are shown once.
 *
 * @example row([scatterByClass(x0, labels, { title: "data" }), scoreField(grid, s, { title: "score" })])
 * @see notebooks/01_score_matching.ipynb
 */
export function row(figs: PlotFigure[], opts: RowOptions = {}): PlotFigure {
  if (figs.length === 0) throw new Error("row: needs at least one figure");
  const n = figs.length;
  const width = opts.width ?? Math.max(DEFAULT_SIZE.width, 380 * n);
  const height = opts.height ?? 400;
  const margin = { ...ROW_MARGIN, t: opts.title ? 80 : ROW_MARGIN.t };
  const plotW = width - margin.l - margin.r;
  const yTitled = figs.slice(1).some((f) => axisIds(f, "y").some((id) => getAxis(f.layout, id as YAxisId)?.title?.text));
  const gapFrac = Math.min(0.3, (opts.gap ?? (yTitled ? 96 : 64)) / plotW);
  const panelFrac = (1 - gapFrac * (n - 1)) / n;
  const layout: Layout = { width, height, margin, showlegend: false, plot_bgcolor: "white", paper_bgcolor: "white" };
  if (opts.title) layout.title = { text: opts.title };
  const data: Trace[] = [];
  const annotations: Annotation[] = [];
  let nextX = 1;
  let nextY = 1;
  figs.forEach((f, i) => {
    const lo = i * (panelFrac + gapFrac);
    const hi = lo + panelFrac;
    const map = new Map<string, string>();
    for (const id of axisIds(f, "x")) map.set(id, nextX === 1 ? "x" : `x${nextX}`), (nextX += 1);
    for (const id of axisIds(f, "y")) map.set(id, nextY === 1 ? "y" : `y${nextY}`), (nextY += 1);
    const ren = (id: string | undefined, letter: "x" | "y"): string => map.get(id && id !== `${letter}1` ? id : letter)!;
    for (const t of f.data) data.push({ ...clone(t), xaxis: ren(t.xaxis, "x") as XAxisId, yaxis: ren(t.yaxis, "y") as YAxisId });
    for (const [oldId, newId] of map) {
      const letter = oldId[0] as "x" | "y";
      const axis: Axis = clone(getAxis(f.layout, oldId as XAxisId) ?? {});
      const d = axis.domain ?? [0, 1];
      if (letter === "x") axis.domain = [lo + d[0] * panelFrac, lo + d[1] * panelFrac];
      else axis.domain = d;
      const anchor = axis.anchor ?? (letter === "x" ? "y" : "x") + oldId.slice(1);
      axis.anchor = ren(anchor, letter === "x" ? "y" : "x") as XAxisId | YAxisId;
      if (axis.scaleanchor) axis.scaleanchor = ren(axis.scaleanchor, axis.scaleanchor[0] as "x" | "y") as XAxisId | YAxisId;
      setAxis(layout, newId as XAxisId | YAxisId, axis);
    }
    for (const a of f.layout.annotations ?? []) {
      const b: Annotation = { ...clone(a) };
      b.x = a.xref === "paper" ? lo + a.x * panelFrac : a.x;
      if (a.xref !== "paper") b.xref = ren(a.xref, "x") as XAxisId;
      if (a.yref !== "paper") b.yref = ren(a.yref, "y") as YAxisId;
      annotations.push(b);
    }
    if (f.layout.title?.text) {
      annotations.push({ text: f.layout.title.text, x: (lo + hi) / 2, y: 1, xref: "paper", yref: "paper", xanchor: "center", yanchor: "bottom", showarrow: false, font: { size: 14 } });
    }
  });
  dedupeLegend(data);
  if (annotations.length) layout.annotations = annotations;
  if (legendCount(data) > 1) {
    layout.showlegend = true;
  }
  return { data, layout };
}
