/**
 * Axis resolution for the static renderer: from a figure's layout and data to pixel frames —
 * each axis's pixel extent (from its domain), visible range (given or auto), equal-aspect
 * constraints (`scaleanchor`, plotly semantics) and ticks.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { PlotFigure, Axis, Trace, XAxisId, YAxisId, getAxis } from "./types";
import { Tick, linearTicks, logTicks } from "./ticks";
import { pngSize } from "./png";

/** A resolved axis: axis units (log10 for log axes) ↔ pixels. */
export interface AxisFrame {
  id: string;
  letter: "x" | "y";
  spec: Axis;
  log: boolean;
  /** Visible range in axis units; reversed when range[0] > range[1]. */
  range: [number, number];
  /** Pixel positions of range[0] and range[1]. */
  px: [number, number];
  ticks: Tick[];
}

/** The plotting rectangle (inside margins and legend). */
export interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Map a data value to a pixel on an axis (null for non-finite, or ≤ 0 on a log axis). */
export function toPx(f: AxisFrame, v: number | null): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  if (f.log && v <= 0) return null;
  const u = f.log ? Math.log10(v) : v;
  return f.px[0] + ((u - f.range[0]) / (f.range[1] - f.range[0])) * (f.px[1] - f.px[0]);
}

/** The normalised id of a trace's axis ("x1" → "x"). */
export function traceAxis(t: Trace, letter: "x" | "y"): string {
  const id = (letter === "x" ? t.xaxis : t.yaxis) ?? letter;
  return id === `${letter}1` ? letter : id;
}

/** Every axis id used by traces or defined in the layout, in a stable order. */
export function axisIdsOf(fig: PlotFigure): string[] {
  const ids = new Set<string>();
  for (const t of fig.data) ids.add(traceAxis(t, "x")).add(traceAxis(t, "y"));
  for (const key of Object.keys(fig.layout)) {
    const m = /^([xy])axis(\d*)$/.exec(key);
    if (m) ids.add(m[2] && m[2] !== "1" ? `${m[1]}${m[2]}` : m[1]);
  }
  const num = (id: string) => (id.length > 1 ? Number(id.slice(1)) : 1);
  return Array.from(ids).sort((a, b) => a[0].localeCompare(b[0]) || num(a) - num(b));
}

/** Data extent [lo, hi] on one axis, in axis units; `padded` if markers or a y axis. */
function dataExtent(fig: PlotFigure, id: string, letter: "x" | "y", log: boolean): { lo: number; hi: number; markers: boolean } {
  let lo = Infinity;
  let hi = -Infinity;
  let markers = false;
  const add = (v: number | null) => {
    if (v === null || !Number.isFinite(v) || (log && v <= 0)) return;
    const u = log ? Math.log10(v) : v;
    if (u < lo) lo = u;
    if (u > hi) hi = u;
  };
  for (const t of fig.data) {
    if (traceAxis(t, letter) !== id) continue;
    if (t.type === "scatter") {
      if (t.mode.includes("markers")) markers = true;
      for (const v of letter === "x" ? t.x : t.y) add(v);
    } else {
      const size = pngSize(t.source);
      if (!size) continue;
      const o = (letter === "x" ? t.x0 : t.y0) ?? 0;
      const d = (letter === "x" ? t.dx : t.dy) ?? 1;
      const n = letter === "x" ? size.width : size.height;
      add(o - d / 2);
      add(o + (n - 0.5) * d);
    }
  }
  return { lo, hi, markers };
}

function autoRange(fig: PlotFigure, id: string, letter: "x" | "y", log: boolean): [number, number] {
  const hasImage = fig.data.some((t) => t.type === "image" && traceAxis(t, letter) === id);
  const { lo, hi, markers } = dataExtent(fig, id, letter, log);
  if (!Number.isFinite(lo)) return log ? [0, 1] : [0, 1];
  if (hi === lo) {
    const d = lo === 0 || log ? 1 : Math.abs(lo) * 0.1;
    return [lo - d, hi + d];
  }
  const pad = hasImage ? 0 : markers || letter === "y" ? 0.05 : 0;
  const span = hi - lo;
  if (hasImage && letter === "y") return [hi, lo]; // images: row 0 on top (plotly's default for image traces)
  return [lo - pad * span, hi + pad * span];
}

/** Apply `scaleanchor` constraints: equal px-per-unit (× scaleratio), widening a range or shrinking a domain. */
function constrain(frames: Map<string, AxisFrame>): void {
  for (const f of frames.values()) {
    const anchor = f.spec.scaleanchor ? frames.get(f.spec.scaleanchor) : undefined;
    if (!anchor || anchor === f || f.log || anchor.log) continue;
    const ratio = f.spec.scaleratio ?? 1;
    const lenF = Math.abs(f.range[1] - f.range[0]);
    const lenA = Math.abs(anchor.range[1] - anchor.range[0]);
    const sF = Math.abs(f.px[1] - f.px[0]) / lenF / ratio; // px per unit of the anchor's scale
    const sA = Math.abs(anchor.px[1] - anchor.px[0]) / lenA;
    const k = Math.min(sF, sA);
    for (const [g, s, mult] of [[f, sF, ratio], [anchor, sA, 1]] as [AxisFrame, number, number][]) {
      if (s <= k * (1 + 1e-9)) continue;
      const len = Math.abs(g.range[1] - g.range[0]);
      if ((g.spec.constrain ?? "range") === "domain") {
        const mid = (g.px[0] + g.px[1]) / 2;
        const half = (len * k * mult) / 2;
        const dir = Math.sign(g.px[1] - g.px[0]);
        g.px = [mid - dir * half, mid + dir * half];
      } else {
        const mid = (g.range[0] + g.range[1]) / 2;
        const half = Math.abs(g.px[1] - g.px[0]) / (k * mult) / 2;
        const dir = Math.sign(g.range[1] - g.range[0]);
        g.range = [mid - dir * half, mid + dir * half];
      }
    }
  }
}

/** Resolve every axis of a figure to a pixel frame inside `area`. */
export function resolveAxes(fig: PlotFigure, area: PlotArea): Map<string, AxisFrame> {
  const frames = new Map<string, AxisFrame>();
  for (const id of axisIdsOf(fig)) {
    const letter = id[0] as "x" | "y";
    const spec = getAxis(fig.layout, id as XAxisId | YAxisId) ?? {};
    const log = spec.type === "log";
    const d = spec.domain ?? [0, 1];
    const px: [number, number] = letter === "x"
      ? [area.left + d[0] * (area.right - area.left), area.left + d[1] * (area.right - area.left)]
      : [area.bottom - d[0] * (area.bottom - area.top), area.bottom - d[1] * (area.bottom - area.top)];
    const range = spec.range ? ([...spec.range] as [number, number]) : autoRange(fig, id, letter, log);
    frames.set(id, { id, letter, spec, log, range, px, ticks: [] });
  }
  constrain(frames);
  for (const f of frames.values()) {
    const len = Math.abs(f.px[1] - f.px[0]);
    const target = Math.max(2, Math.round(len / (f.letter === "x" ? 90 : 60)));
    f.ticks = f.log ? logTicks(f.range[0], f.range[1], target) : linearTicks(f.range[0], f.range[1], target);
  }
  return frames;
}
