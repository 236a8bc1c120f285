/**
 * Seeded bootstrap confidence intervals: for a statistic of one sample, for the mean of paired
 * differences, and for the difference of two independent samples.
 *
 * Papers:
 * - Efron 1979, "Bootstrap methods: another look at the jackknife" (the percentile interval).
 * - Efron 1987, "Better bootstrap confidence intervals" (JASA 82): BCa, the bias-corrected and
 *   accelerated interval, second-order accurate; the acceleration comes from the jackknife.
 * - Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 14 (formulas used here).
 *
 * | code        | symbol                                                           |
 * |-------------|------------------------------------------------------------------|
 * | `theta`     | θ̂ = s(x), the statistic on the observed sample                   |
 * | `reps`      | θ̂*_b, b = 1…B, the statistic on B resamples with replacement     |
 * | `z0`        | ẑ0 = Φ⁻¹(#{θ̂*_b < θ̂} / B), the bias correction                   |
 * | `accel`     | â = Σ(θ̄₍·₎ − θ̂₍ᵢ₎)³ / (6·(Σ(θ̄₍·₎ − θ̂₍ᵢ₎)²)^{3/2}), jackknife θ̂₍ᵢ₎ |
 * | `alpha1/2`  | Φ(ẑ0 + (ẑ0 + z_α)/(1 − â(ẑ0 + z_α))), the BCa percentiles          |
 * | `d`         | d_i = a_i − b_i, paired differences                              |
 *
 * Resampling draws indices with the course's seeded {@link Rng}, so a seed fixes the interval.
 *
 * @see lib/src/stats/verdict.ts
 */
import { Rng } from "../random";
import { Interval } from "./interval";
import { checkConfidence, normalCdf, normalQuantile } from "./normal";

/**
 * Options of the bootstrap intervals.
 * @see lib/src/stats/bootstrap.ts
 */
export interface BootstrapOptions {
  /** Seed of the resampling (required: every random thing takes a seed). */
  seed: number;
  /** Resamples B (default 2000). */
  resamples?: number;
  /** Default 0.95. */
  confidence?: number;
  /** Default "bca" for one sample; the two-sample interval supports only "percentile". */
  method?: "percentile" | "bca";
  /** The statistic of one sample (default the mean). */
  statistic?: (x: Float64Array) => number;
}

/**
 * A bootstrap interval: the {@link Interval} plus how it was drawn.
 * @see lib/src/stats/bootstrap.ts
 */
export interface BootstrapInterval extends Interval {
  resamples: number;
  seed: number;
}

/**
 * Arithmetic mean of an array (NaN for an empty one).
 * @see lib/src/stats/bootstrap.ts
 */
export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/**
 * Quantile q of ascending-sorted values with linear interpolation (type 7, numpy's default).
 * @see lib/src/stats/bootstrap.ts
 */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error("sortedQuantile: no values");
  const h = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function toSample(x: ArrayLike<number>, who: string, min = 2): Float64Array {
  if (x.length < min) throw new Error(`${who}: need at least ${min} values, got ${x.length}`);
  const out = Float64Array.from(x);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new Error(`${who}: value ${i} is ${out[i]}; every value must be finite`);
  return out;
}

function checkResamples(b: number, who: string): void {
  if (!Number.isInteger(b) || b < 100) throw new Error(`${who}: resamples must be an integer ≥ 100, got ${b}`);
}

/**
 * Bootstrap confidence interval (Efron 1987 BCa by default, or the percentile interval) for a
 * statistic of one sample of independent values. With a constant sample the interval is the
 * point itself.
 *
 * @example bootstrapCI(perSampleCorrect, { seed: 0 }) // mean with a BCa 95% interval
 * @see lib/src/stats/verdict.ts
 */
export function bootstrapCI(sample: ArrayLike<number>, opts: BootstrapOptions): BootstrapInterval {
  const x = toSample(sample, "bootstrapCI");
  const B = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const method = opts.method ?? "bca";
  const stat = opts.statistic ?? mean;
  checkResamples(B, "bootstrapCI");
  checkConfidence(confidence, "bootstrapCI");
  if (method !== "bca" && method !== "percentile") throw new Error(`bootstrapCI: method must be "bca" or "percentile", got ${method}`);
  if (!Number.isInteger(opts.seed)) throw new Error(`bootstrapCI: seed must be an integer, got ${opts.seed}`);
  const n = x.length;
  const theta = stat(x);
  if (!Number.isFinite(theta)) throw new Error(`bootstrapCI: the statistic of the sample is ${theta}`);
  const rng = new Rng(opts.seed);
  const reps = new Float64Array(B);
  const buf = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) buf[i] = x[rng.int(n)];
    reps[b] = stat(buf);
  }
  reps.sort();
  const alpha = 1 - confidence;
  let qLo = alpha / 2;
  let qHi = 1 - alpha / 2;
  if (method === "bca" && reps[0] !== reps[B - 1]) {
    let below = 0;
    for (let b = 0; b < B; b++) below += reps[b] < theta ? 1 : reps[b] === theta ? 0.5 : 0;
    const z0 = normalQuantile(Math.min(Math.max(below / B, 1 / (B + 1)), B / (B + 1)));
    const accel = jackknifeAcceleration(x, stat);
    const adjust = (q: number) => {
      const zq = normalQuantile(q);
      return normalCdf(z0 + (z0 + zq) / (1 - accel * (z0 + zq)));
    };
    qLo = adjust(qLo);
    qHi = adjust(qHi);
  }
  const lo = Math.min(sortedQuantile(reps, qLo), theta);
  const hi = Math.max(sortedQuantile(reps, qHi), theta);
  return { estimate: theta, lo, hi, confidence, n, method: `bootstrap-${method}`, resamples: B, seed: opts.seed };
}

/** â of BCa from the delete-one jackknife (Efron & Tibshirani 1993, eq. 14.15). */
function jackknifeAcceleration(x: Float64Array, stat: (x: Float64Array) => number): number {
  const n = x.length;
  const jack = new Float64Array(n);
  const buf = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    buf.set(x.subarray(0, i), 0);
    buf.set(x.subarray(i + 1), i);
    jack[i] = stat(buf);
  }
  const m = mean(jack);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d = m - jack[i];
    num += d * d * d;
    den += d * d;
  }
  return den === 0 ? 0 : num / (6 * Math.pow(den, 1.5));
}

/**
 * Paired differences d_i = a_i − b_i of two equally long samples measured on the same units
 * (e.g. the same noise at two guidance scales).
 *
 * @example pairedDifferences([1, 1, 0], [0, 1, 0]) // Float64Array [1, 0, 0]
 * @see lib/src/stats/bootstrap.ts
 */
export function pairedDifferences(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error(`pairedDifferences: the samples must pair up, got ${a.length} and ${b.length} values`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/**
 * Bootstrap interval of a statistic (default the mean) of the paired differences a_i − b_i:
 * resamples pairs, so what the pairs share cancels (narrower than {@link twoSampleBootstrapCI}
 * when a and b are positively correlated).
 *
 * @example pairedBootstrapCI(correctAtS3, correctAtS1, { seed: 1 }) // accuracy gain, paired
 * @see lib/src/stats/verdict.ts
 */
export function pairedBootstrapCI(a: ArrayLike<number>, b: ArrayLike<number>, opts: BootstrapOptions): BootstrapInterval {
  return { ...bootstrapCI(pairedDifferences(a, b), opts), method: `paired-bootstrap-${opts.method ?? "bca"}` };
}

/**
 * Percentile bootstrap interval of s(a) − s(b) (default the difference of means) for two
 * independent samples: each is resampled on its own. `n` of the result is |a| + |b|.
 *
 * @example twoSampleBootstrapCI(scoresA, scoresB, { seed: 2 })
 * @see lib/src/stats/verdict.ts
 */
export function twoSampleBootstrapCI(a: ArrayLike<number>, b: ArrayLike<number>, opts: BootstrapOptions): BootstrapInterval {
  const xa = toSample(a, "twoSampleBootstrapCI (a)");
  const xb = toSample(b, "twoSampleBootstrapCI (b)");
  const B = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const stat = opts.statistic ?? mean;
  checkResamples(B, "twoSampleBootstrapCI");
  checkConfidence(confidence, "twoSampleBootstrapCI");
  if ((opts.method ?? "percentile") !== "percentile") throw new Error(`twoSampleBootstrapCI: only the percentile method is implemented, got ${opts.method}`);
  if (!Number.isInteger(opts.seed)) throw new Error(`twoSampleBootstrapCI: seed must be an integer, got ${opts.seed}`);
  const theta = stat(xa) - stat(xb);
  const rng = new Rng(opts.seed);
  const reps = new Float64Array(B);
  const ba = new Float64Array(xa.length);
  const bb = new Float64Array(xb.length);
  for (let r = 0; r < B; r++) {
    for (let i = 0; i < xa.length; i++) ba[i] = xa[rng.int(xa.length)];
    for (let i = 0; i < xb.length; i++) bb[i] = xb[rng.int(xb.length)];
    reps[r] = stat(ba) - stat(bb);
  }
  reps.sort();
  const alpha = 1 - confidence;
  const lo = Math.min(sortedQuantile(reps, alpha / 2), theta);
  const hi = Math.max(sortedQuantile(reps, 1 - alpha / 2), theta);
  return { estimate: theta, lo, hi, confidence, n: xa.length + xb.length, method: "two-sample-bootstrap-percentile", resamples: B, seed: opts.seed };
}
