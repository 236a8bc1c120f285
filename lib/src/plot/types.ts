/**
 * The plot module's figure spec: a typed, serialisable subset of the plotly.js figure schema.
 *
 * A `PlotFigure` is the single source of truth for a plot. The same object is
 *  - sent to the notebook as `application/vnd.plotly.v1+json` (live in JupyterLab / VS Code),
 *  - drawn as a static SVG by our own renderer (`svg.ts`) for `text/html`,
 *  - embedded in that HTML so a slides/book build can re-hydrate it with plotly.js.
 * Only the fields below are understood by the static renderer; they keep plotly's meaning
 * (e.g. a log axis `range` is in log10 units, `marker.size` is a diameter in px).
 *
 * Reference: plotly.js figure reference, https://plotly.com/javascript/reference/
 *
 * @see notebooks/01_score_matching.ipynb
 */

/** plotly line dash names. */
export type LineDash = "solid" | "dot" | "dash" | "longdash" | "dashdot" | "longdashdot";

/** Axis id as used by traces: "x", "x2", … / "y", "y2", …. */
export type XAxisId = "x" | `x${number}`;
/** @see XAxisId */
export type YAxisId = "y" | `y${number}`;

/** A 2-D scatter/line trace (`type: "scatter"`); `null` in `x`/`y` breaks a line. */
export interface ScatterTrace {
  type: "scatter";
  mode: "markers" | "lines" | "lines+markers";
  x: (number | null)[];
  y: (number | null)[];
  name?: string;
  legendgroup?: string;
  showlegend?: boolean;
  opacity?: number;
  marker?: { color?: string; size?: number; opacity?: number };
  line?: { color?: string; width?: number; dash?: LineDash };
  xaxis?: XAxisId;
  yaxis?: YAxisId;
  hoverinfo?: "skip" | "x+y" | "x+y+name" | "name";
}

/** A raster image trace (`type: "image"`) with a `data:image/png;base64,…` source; pixel centres at x0 + i·dx. */
export interface ImageTrace {
  type: "image";
  source: string;
  x0?: number;
  y0?: number;
  dx?: number;
  dy?: number;
  name?: string;
  xaxis?: XAxisId;
  yaxis?: YAxisId;
  hoverinfo?: "skip" | "x+y";
  /** An image grid's tile size in image pixels (what the browser tests measure). */
  meta?: { tile: [number, number] };
}

/** Any trace the plot module makes. */
export type Trace = ScatterTrace | ImageTrace;

/** One axis (`layout.xaxis`, `layout.yaxis2`, …). */
export interface Axis {
  title?: { text: string };
  type?: "linear" | "log";
  /** Visible range; for `type: "log"` in log10 units (plotly convention). Reversed if range[0] > range[1]. */
  range?: [number, number];
  /** Fraction of the plotting area, [0, 1]. */
  domain?: [number, number];
  /** The perpendicular axis this one is drawn against ("y2" for "x2"). */
  anchor?: XAxisId | YAxisId;
  /** Tie this axis's scale to another (equal aspect: `yaxis.scaleanchor = "x"`). */
  scaleanchor?: XAxisId | YAxisId;
  scaleratio?: number;
  /** How a scale constraint is met: widen the range (default) or shrink the domain. */
  constrain?: "range" | "domain";
  visible?: boolean;
  showgrid?: boolean;
  zeroline?: boolean;
  showline?: boolean;
  ticks?: "outside" | "";
  linecolor?: string;
  gridcolor?: string;
}

/** A text annotation (used for panel titles and image labels). */
export interface Annotation {
  text: string;
  x: number;
  y: number;
  xref: "paper" | XAxisId;
  yref: "paper" | YAxisId;
  showarrow: false;
  xanchor?: "left" | "center" | "right";
  yanchor?: "top" | "middle" | "bottom";
  font?: { size?: number; color?: string };
}

/** Legend placement (plotly's `layout.legend`); `yref: "container"` measures y over the whole figure. */
export interface Legend {
  orientation?: "v" | "h";
  x?: number;
  y?: number;
  xanchor?: "left" | "center" | "right";
  yanchor?: "top" | "middle" | "bottom";
  yref?: "paper" | "container";
}

/**
 * One panel of a `row(...)`, recorded so a page can re-flow the panels on a narrow screen
 * (tools/render/assets/plots.js): its axes, its natural plot size in px and its title annotation.
 */
export interface PanelMeta {
  x: XAxisId[];
  y: YAxisId[];
  w: number;
  h: number;
  /** Index of its title in `layout.annotations` (-1: none). */
  title: number;
}

/** Figure layout. Extra axes are `xaxis2`, `yaxis2`, …. */
export interface Layout {
  title?: { text: string };
  width?: number;
  height?: number;
  showlegend?: boolean;
  legend?: Legend;
  /** Course data kept with the figure (plotly keeps `meta` untouched). */
  meta?: { panels?: PanelMeta[]; gap?: number };
  margin?: { l: number; r: number; t: number; b: number };
  annotations?: Annotation[];
  plot_bgcolor?: string;
  paper_bgcolor?: string;
  xaxis?: Axis;
  yaxis?: Axis;
  [axis: `xaxis${number}`]: Axis | undefined;
  [axis: `yaxis${number}`]: Axis | undefined;
}

/** A complete, JSON-serialisable plotly figure. */
export interface PlotFigure {
  data: Trace[];
  layout: Layout;
}

/**
 * The fixed qualitative palette shared by all plots (Tableau 10). Class `k` is always drawn in
 * `PLOT_PALETTE[k % 10]`, so a class keeps its colour from plot to plot.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export const PLOT_PALETTE: readonly string[] = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
];

/** Default single-figure size in px (rows scale the width). */
export const DEFAULT_SIZE = { width: 640, height: 420 } as const;

/** The axis style every builder uses (mirrored by the static renderer). */
export function baseAxis(extra: Axis = {}): Axis {
  return { showline: true, linecolor: "#444", ticks: "outside", zeroline: false, gridcolor: "#eee", ...extra };
}

/** Layout key of an axis id: "x" → "xaxis", "y3" → "yaxis3". */
export function axisKey(id: XAxisId | YAxisId): keyof Layout & string {
  const letter = id[0];
  const num = id.slice(1);
  return `${letter}axis${num}` as keyof Layout & string;
}

/** Read an axis object from a layout by id (undefined if absent). */
export function getAxis(layout: Layout, id: XAxisId | YAxisId): Axis | undefined {
  return (layout as unknown as Record<string, Axis | undefined>)[axisKey(id)];
}

/** Write an axis object into a layout by id. */
export function setAxis(layout: Layout, id: XAxisId | YAxisId, axis: Axis): void {
  (layout as unknown as Record<string, Axis>)[axisKey(id)] = axis;
}
