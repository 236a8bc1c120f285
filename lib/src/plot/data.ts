/**
 * Reading plot inputs (plain arrays, typed arrays, tf tensors) and keeping figures compact:
 * rounding to a few significant digits and capping the number of points per trace.
 *
 * Tensors are read with `dataSync()` outside any `tf.tidy` (see TFJS_NOTES: tidy walks the
 * returned typed array), and never disposed here: the caller owns them.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import type * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";

/** A set of 2-D points: flat `[x0, y0, x1, y1, …]`, rows `[[x, y], …]`, or a `[n, 2]` tensor. */
export type Points2D = Float32Array | number[][] | tf.Tensor;

/** Duck-typed tensor check (works across duplicated tfjs copies). */
export function isTensor(v: unknown): v is tf.Tensor {
  return typeof v === "object" && v !== null && "dataSync" in v && "shape" in v && "rank" in v;
}

/** Read 2-D points into separate x and y arrays. */
export function readPoints(points: Points2D, what = "points"): { x: Float64Array; y: Float64Array } {
  let flat: ArrayLike<number>;
  if (isTensor(points)) {
    if (points.rank !== 2 || points.shape[1] !== 2) {
      throw new Error(`${what}: expected a [n, 2] tensor, got shape [${points.shape.join(", ")}]`);
    }
    flat = points.dataSync() as Float32Array;
  } else if (points instanceof Float32Array) {
    if (points.length % 2 !== 0) throw new Error(`${what}: a flat Float32Array needs an even length, got ${points.length}`);
    flat = points;
  } else {
    const rows = points;
    const out = new Float64Array(rows.length * 2);
    rows.forEach((r, i) => {
      if (r.length !== 2) throw new Error(`${what}: row ${i} has ${r.length} entries, expected 2`);
      out[2 * i] = r[0];
      out[2 * i + 1] = r[1];
    });
    flat = out;
  }
  const n = flat.length / 2;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = flat[2 * i];
    y[i] = flat[2 * i + 1];
  }
  return { x, y };
}

/** Read integer labels from an Int32Array, a number array or a 1-D tensor. */
export function readLabels(labels: Int32Array | number[] | tf.Tensor, n: number): Int32Array {
  const src: ArrayLike<number> = isTensor(labels) ? (labels.dataSync() as Int32Array) : labels;
  if (src.length !== n) throw new Error(`labels: expected ${n} labels (one per point), got ${src.length}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(src[i]) || src[i] < 0) throw new Error(`labels: entry ${i} is ${src[i]}, expected an integer ≥ 0`);
    out[i] = src[i];
  }
  return out;
}

/** Round to `digits` significant digits; integers and non-finite values (→ null) are kept as such. */
export function roundSig(v: number, digits = 4): number | null {
  if (!Number.isFinite(v)) return null;
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return v;
  if (v === 0) return 0;
  return Number(v.toPrecision(digits));
}

/**
 * Round an array to ~4 significant digits *of its spread*: if the values sit close together far
 * from 0 (range ≪ max |v|), more digits are kept so neighbouring points stay distinct.
 */
export function roundArray(values: ArrayLike<number | null>, digits = 4): (number | null)[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  const spread = hi - lo;
  const extra = spread > 0 && maxAbs > 0 ? Math.max(0, Math.ceil(Math.log10(maxAbs / spread))) : 0;
  const d = Math.min(15, digits + extra);
  const out: (number | null)[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v === null ? null : roundSig(v, d);
  }
  return out;
}

/** A seeded, order-preserving choice of `k` of `n` indices (all of them if n ≤ k). */
export function sampleIndices(n: number, k: number, seed = 0): Int32Array {
  if (n <= k) return Int32Array.from({ length: n }, (_, i) => i);
  const perm = new Rng(seed).permutation(n);
  return perm.slice(0, k).sort();
}

/**
 * Shrink a line to at most ~`maxPoints` points by keeping, per bucket, the points with the
 * smallest and largest y (so spikes survive). Non-finite y values become `null` gaps.
 */
export function decimateLine(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints = 3000): { x: number[]; y: (number | null)[] } {
  const n = Math.min(x.length, y.length);
  if (n <= maxPoints) {
    return { x: Array.from({ length: n }, (_, i) => x[i]), y: Array.from({ length: n }, (_, i) => (Number.isFinite(y[i]) ? y[i] : null)) };
  }
  const bucket = Math.ceil(n / Math.max(1, Math.floor(maxPoints / 2)));
  const ox: number[] = [];
  const oy: (number | null)[] = [];
  for (let s = 0; s < n; s += bucket) {
    const e = Math.min(n, s + bucket);
    let iMin = -1;
    let iMax = -1;
    let gap = false;
    for (let i = s; i < e; i++) {
      if (!Number.isFinite(y[i])) { gap = true; continue; }
      if (iMin < 0 || y[i] < y[iMin]) iMin = i;
      if (iMax < 0 || y[i] > y[iMax]) iMax = i;
    }
    const keep = iMin < 0 ? [] : iMin === iMax ? [iMin] : [Math.min(iMin, iMax), Math.max(iMin, iMax)];
    for (const i of keep) { ox.push(x[i]); oy.push(y[i]); }
    if (gap) { ox.push(x[e - 1]); oy.push(null); }
  }
  return { x: ox, y: oy };
}
