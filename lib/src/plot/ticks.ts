/**
 * Axis ticks for the static renderer: "nice" steps 1·2·5 × 10^k on linear axes
 * (Heckbert 1990, "Nice numbers for graph labels"), and decades (or 1·2·5 within decades) on
 * log axes. Log-axis ranges are in log10 units, as in plotly.
 *
 * @see notebooks/01_score_matching.ipynb
 */

/** One tick: position in axis units (log10 units on a log axis) and its label. */
export interface Tick {
  pos: number;
  label: string;
}

/** A 1·2·5 × 10^k step giving about `target` intervals over `span`. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

const MINUS = "\u2212";
const SI: [number, string][] = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];

/** Format a number with `decimals` decimals, a typographic minus, and no "-0". */
function fixed(v: number, decimals: number): string {
  const s = Math.abs(v).toFixed(Math.max(0, Math.min(20, decimals)));
  return (v < 0 && Number(s) !== 0 ? MINUS : "") + s;
}

/**
 * Label a tick value `v` on an axis with tick spacing `step`; `maxAbs` (the largest |tick| of
 * the axis) picks one style for the whole axis: SI suffixes (5k, 10k) from 10⁴ up, a shared
 * exponent (0.5e−4, 1.0e−4) below 10⁻³.
 */
export function formatTick(v: number, step: number, maxAbs = Math.abs(v)): string {
  if (maxAbs >= 1e4) {
    for (const [f, suffix] of SI) {
      if (step >= f / 10 && Math.abs(v) >= f) {
        return fixed(v / f, Math.max(0, -Math.floor(Math.log10(step / f) + 1e-9))) + suffix;
      }
    }
  }
  if (maxAbs > 0 && maxAbs < 1e-3) {
    if (v === 0) return "0";
    const e = Math.floor(Math.log10(maxAbs) + 1e-9);
    const digits = Math.max(0, e - Math.floor(Math.log10(step) + 1e-9));
    return `${fixed(v / Math.pow(10, e), digits)}e${MINUS}${Math.abs(e)}`;
  }
  return fixed(v, -Math.floor(Math.log10(step) + 1e-9));
}

/** Ticks inside [lo, hi] (either order) on a linear axis, about `target` intervals. */
export function linearTicks(lo: number, hi: number, target = 5): Tick[] {
  const a = Math.min(lo, hi);
  const b = Math.max(lo, hi);
  if (!(b > a) || !Number.isFinite(a) || !Number.isFinite(b)) return [];
  const step = niceStep(b - a, target);
  const eps = step * 1e-9;
  const values: number[] = [];
  for (let k = Math.ceil((a - eps) / step); k * step <= b + eps; k++) values.push(k * step);
  const maxAbs = Math.max(...values.map(Math.abs));
  return values.map((v) => ({ pos: v, label: formatTick(v, step, maxAbs) }));
}

/** Label m·10^e on a log axis: plain for 1e−3…1e3, SI suffix (k, M, G) up to 1e11, exponent beyond. */
function formatLog(m: number, e: number): string {
  const v = m * Math.pow(10, e);
  if (e >= -3 && e <= 3) return fixed(v, Math.max(0, -e));
  if (e > 3 && e < 12) {
    for (const [f, suffix] of SI) if (v >= f) return `${Math.round((v / f) * 1000) / 1000}${suffix}`;
  }
  return `${m}e${e < 0 ? MINUS : ""}${Math.abs(e)}`;
}

/** Ticks inside the log10 range [lo, hi] (either order) of a log axis. */
export function logTicks(lo: number, hi: number, target = 5): Tick[] {
  const a = Math.min(lo, hi);
  const b = Math.max(lo, hi);
  if (!(b > a) || !Number.isFinite(a) || !Number.isFinite(b)) return [];
  const decades = b - a;
  if (decades < 1) {
    const vLo = Math.pow(10, a);
    const vHi = Math.pow(10, b);
    return linearTicks(vLo, vHi, target).filter((t) => t.pos > 0).map((t) => ({ pos: Math.log10(t.pos), label: t.label }));
  }
  const out: Tick[] = [];
  const mantissas = decades <= 2.5 ? [1, 2, 5] : [1];
  const stride = Math.max(1, Math.ceil(decades / Math.max(1, target + 1)));
  for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
    if (mantissas.length === 1 && e % stride !== 0) continue;
    for (const m of mantissas) {
      const pos = e + Math.log10(m);
      if (pos >= a - 1e-9 && pos <= b + 1e-9) out.push({ pos, label: formatLog(m, e) });
    }
  }
  return out;
}
