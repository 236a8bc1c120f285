/**
 * Figure builders: pure functions from data to a `PlotFigure` (plotly.js schema subset).
 *
 * A score field s(x) ≈ ∇ₓ log p(x) (Hyvärinen 2005; Song & Ermon 2019) is drawn as arrows,
 * one polyline per arrow, because plotly has no quiver trace.
 *
 * | code          | meaning                                              |
 * |---------------|------------------------------------------------------|
 * | `vectors`     | s(x) evaluated at the grid `points`                  |
 * | `scale`       | arrow = x → x + scale · s(x)                         |
 * | `smoothing`   | EMA weight a: m_k = a·m_{k−1} + (1 − a)·loss_k       |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import type * as tf from "@tensorflow/tfjs";
import { Points2D, readPoints, readLabels, roundArray, sampleIndices, decimateLine } from "./data";
import { PlotFigure, ScatterTrace, Layout, LineDash, PLOT_PALETTE, DEFAULT_SIZE, baseAxis } from "./types";

/** Options of {@link scatterByClass}. */
export interface ScatterByClassOptions {
  title?: string;
  /** Legend name of class k (default "class k"). */
  classNames?: string[];
  /** Marker diameter in px (default: 6, smaller for many points). */
  markerSize?: number;
  xRange?: [number, number];
  yRange?: [number, number];
  /** Same units on x and y (default false). */
  equalAspect?: boolean;
  /** Trace name when there are no labels (default "points"). */
  name?: string;
  /** Cap on the points drawn in all; a seeded subset is kept beyond it (default 3000). */
  maxPoints?: number;
}

/** The layout shared by single-panel 2-D builders. */
function panelLayout(title: string | undefined, opts: { xLabel?: string; yLabel?: string; xRange?: [number, number]; yRange?: [number, number]; equalAspect?: boolean; logX?: boolean; logY?: boolean }): Layout {
  // Equal aspect with both ranges given: keep the ranges and shrink the plotting area instead
  // (plotly's default widens a range, e.g. [−6, 6] became ±17 in a narrow panel).
  const keepRanges = Boolean(opts.equalAspect && opts.xRange && opts.yRange);
  const layout: Layout = {
    width: DEFAULT_SIZE.width,
    height: DEFAULT_SIZE.height,
    xaxis: baseAxis({ ...(opts.xLabel ? { title: { text: opts.xLabel } } : {}), ...(opts.logX ? { type: "log" } : {}), ...(opts.xRange ? { range: opts.xRange } : {}), ...(keepRanges ? { constrain: "domain" } : {}) }),
    yaxis: baseAxis({
      ...(opts.yLabel ? { title: { text: opts.yLabel } } : {}),
      ...(opts.logY ? { type: "log" } : {}),
      ...(opts.yRange ? { range: opts.yRange } : {}),
      ...(opts.equalAspect ? { scaleanchor: "x", scaleratio: 1 } : {}),
      ...(keepRanges ? { constrain: "domain" } : {}),
    }),
    plot_bgcolor: "white",
    paper_bgcolor: "white",
  };
  if (title) layout.title = { text: title };
  return layout;
}

/** Count legend entries and decide whether plotly should draw a legend. */
function withLegend(fig: PlotFigure): PlotFigure {
  const shown = fig.data.filter((t) => t.name !== undefined && !(t.type === "scatter" && t.showlegend === false)).length;
  fig.layout.showlegend = shown > 1;
  return fig;
}

/**
 * A scatter plot of 2-D points, one trace (and legend entry) per class label, coloured with
 * the shared palette by label value. With more than `maxPoints` points a seeded subset is drawn.
 *
 * @example scatterByClass(x0, labels, { title: "Data", classNames: ["ring", "blob"], equalAspect: true })
 * @see notebooks/01_score_matching.ipynb
 */
export function scatterByClass(points: Points2D, labels?: Int32Array | number[] | tf.Tensor, opts: ScatterByClassOptions = {}): PlotFigure {
  const { x, y } = readPoints(points, "scatterByClass");
  const n = x.length;
  const lab = labels === undefined ? new Int32Array(n) : readLabels(labels, n);
  const keep = sampleIndices(n, opts.maxPoints ?? 3000);
  const size = opts.markerSize ?? (keep.length <= 500 ? 6 : keep.length <= 1500 ? 4 : 3);
  const classes = Array.from(new Set(lab)).sort((a, b) => a - b);
  const data: ScatterTrace[] = classes.map((k) => {
    const idx = Array.from(keep).filter((i) => lab[i] === k);
    const name = labels === undefined ? opts.name ?? "points" : opts.classNames?.[k] ?? `class ${k}`;
    return {
      type: "scatter", mode: "markers", name, legendgroup: name,
      x: roundArray(idx.map((i) => x[i])), y: roundArray(idx.map((i) => y[i])),
      marker: { color: PLOT_PALETTE[k % PLOT_PALETTE.length], size, opacity: keep.length > 500 ? 0.7 : 0.9 },
    };
  });
  return withLegend({ data, layout: panelLayout(opts.title, opts) });
}

/** Options of {@link scoreField}. */
export interface ScoreFieldOptions {
  title?: string;
  /** Arrow = x → x + scale·v. Default: the longest arrow spans 0.9 grid spacings. */
  scale?: number;
  color?: string;
  /** Trace name (default "score"). */
  name?: string;
  /** Draw directions only: every vector scaled to unit length first (default false). */
  normalize?: boolean;
  /** Same units on x and y (default true, so arrows are not sheared). */
  equalAspect?: boolean;
  /** Cap on arrows; a seeded subset is kept beyond it (default 1000). */
  maxArrows?: number;
}

/** Arrow head: strokes of length HEAD_FRAC·|arrow| at ±HEAD_ANGLE from the shaft. */
export const ARROW_HEAD_FRAC = 0.3;
const HEAD_ANGLE = (25 * Math.PI) / 180;

/**
 * A vector field as arrows, e.g. a learned score s_θ(x) on a grid. Each arrow is one polyline
 * tail → tip → left barb → tip → right barb, followed by a `null` gap.
 *
 * @example scoreField(grid, model.score(grid), { title: "s_θ(x)", normalize: true })
 * @see notebooks/01_score_matching.ipynb
 */
export function scoreField(points: Points2D, vectors: Points2D, opts: ScoreFieldOptions = {}): PlotFigure {
  const p = readPoints(points, "scoreField points");
  const v = readPoints(vectors, "scoreField vectors");
  if (p.x.length !== v.x.length) throw new Error(`scoreField: ${p.x.length} points but ${v.x.length} vectors`);
  const keep = sampleIndices(p.x.length, opts.maxArrows ?? 1000);
  const vx = new Float64Array(keep.length);
  const vy = new Float64Array(keep.length);
  let maxLen = 0;
  keep.forEach((i, j) => {
    const len = Math.hypot(v.x[i], v.y[i]);
    const s = opts.normalize && len > 0 ? 1 / len : 1;
    vx[j] = v.x[i] * s;
    vy[j] = v.y[i] * s;
    if (Number.isFinite(len)) maxLen = Math.max(maxLen, len * s);
  });
  let scale = opts.scale;
  if (scale === undefined) {
    const ext = (a: Float64Array) => Array.from(keep).reduce(([lo, hi], i) => [Math.min(lo, a[i]), Math.max(hi, a[i])], [Infinity, -Infinity]);
    const [x0, x1] = ext(p.x);
    const [y0, y1] = ext(p.y);
    const area = (x1 - x0) * (y1 - y0);
    const spacing = area > 0 ? Math.sqrt(area / keep.length) : 1;
    scale = maxLen > 0 ? (0.9 * spacing) / maxLen : 1;
  }
  const ax: (number | null)[] = [];
  const ay: (number | null)[] = [];
  keep.forEach((i, j) => {
    const dx = scale! * vx[j];
    const dy = scale! * vy[j];
    const len = Math.hypot(dx, dy);
    if (!(len > 0) || !Number.isFinite(len)) return;
    const tx = p.x[i] + dx;
    const ty = p.y[i] + dy;
    const h = ARROW_HEAD_FRAC * len;
    const back = Math.atan2(-dy, -dx);
    const lx = tx + h * Math.cos(back - HEAD_ANGLE);
    const ly = ty + h * Math.sin(back - HEAD_ANGLE);
    const rx = tx + h * Math.cos(back + HEAD_ANGLE);
    const ry = ty + h * Math.sin(back + HEAD_ANGLE);
    ax.push(p.x[i], tx, lx, tx, rx, null);
    ay.push(p.y[i], ty, ly, ty, ry, null);
  });
  const trace: ScatterTrace = {
    type: "scatter", mode: "lines", name: opts.name ?? "score", hoverinfo: "skip",
    x: roundArray(ax), y: roundArray(ay),
    line: { color: opts.color ?? "#3a3a3a", width: 1.2 },
  };
  return withLegend({ data: [trace], layout: panelLayout(opts.title, { equalAspect: opts.equalAspect ?? true }) });
}

/** One line of {@link lineChart}. */
export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  dash?: LineDash;
  color?: string;
  width?: number;
  opacity?: number;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  xRange?: [number, number];
  yRange?: [number, number];
  /** Cap on points per line; longer lines keep each bucket's min and max (default 1000). */
  maxPoints?: number;
}

/**
 * Line chart of several named series (palette colours in order, optional dash).
 *
 * @example lineChart([{ name: "DDPM", x: steps, y: fid }], { xLabel: "steps", logX: true })
 * @see notebooks/01_score_matching.ipynb
 */
export function lineChart(series: LineSeries[], opts: LineChartOptions = {}): PlotFigure {
  const data: ScatterTrace[] = series.map((s, i) => {
    if (s.x.length !== s.y.length) throw new Error(`lineChart: series "${s.name}" has ${s.x.length} x but ${s.y.length} y values`);
    const d = decimateLine(s.x, s.y, opts.maxPoints ?? 1000);
    const trace: ScatterTrace = {
      type: "scatter", mode: "lines", name: s.name, x: roundArray(d.x), y: roundArray(d.y),
      line: { color: s.color ?? PLOT_PALETTE[i % PLOT_PALETTE.length], width: s.width ?? 2, ...(s.dash ? { dash: s.dash } : {}) },
    };
    if (s.opacity !== undefined) trace.opacity = s.opacity;
    return trace;
  });
  return withLegend({ data, layout: panelLayout(opts.title, opts) });
}

/**
 * Exponential moving average with bias correction (as TensorBoard's smoothing):
 * m_k = a·m_{k−1} + (1 − a)·v_k, reported as m_k / (1 − a^k).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function emaSmooth(values: ArrayLike<number>, weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`emaSmooth: weight must be in [0, 1), got ${weight}`);
  const out: number[] = [];
  let m = 0;
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) { out.push(NaN); continue; }
    k += 1;
    m = weight * m + (1 - weight) * v;
    out.push(m / (1 - Math.pow(weight, k)));
  }
  return out;
}

/** Options of {@link lossCurve}. */
export interface LossCurveOptions extends LineChartOptions {
  /** EMA weight in [0, 1); > 0 draws the raw curve faintly plus a smoothed curve (default 0). */
  smoothing?: number;
  /** Series name (default "loss"). */
  name?: string;
}

/**
 * A training-loss curve from `{ step, loss }` records, optionally EMA-smoothed.
 *
 * @example lossCurve(history, { smoothing: 0.9, logY: true })
 * @see notebooks/01_score_matching.ipynb
 */
export function lossCurve(history: { step: number; loss: number }[], opts: LossCurveOptions = {}): PlotFigure {
  const name = opts.name ?? "loss";
  const x = history.map((h) => h.step);
  const y = history.map((h) => h.loss);
  const smoothing = opts.smoothing ?? 0;
  const series: LineSeries[] = smoothing > 0
    ? [
        { name: `${name} (raw)`, x, y, width: 1, opacity: 0.35, color: PLOT_PALETTE[0] },
        { name: `${name} (EMA ${smoothing})`, x, y: emaSmooth(y, smoothing), width: 2, color: PLOT_PALETTE[0] },
      ]
    : [{ name, x, y }];
  return lineChart(series, { xLabel: "step", yLabel: "loss", ...opts });
}
