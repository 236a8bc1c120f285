/**
 * Improved precision and recall with k-NN manifolds (Kynkäänniemi et al. 2019).
 *
 * Papers:
 * - Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, "Improved Precision and Recall Metric for
 *   Assessing Generative Models" (Eq. 1–3; k = 3 by default as in the paper).
 * - Sajjadi et al. 2018, "Assessing Generative Models via Precision and Recall" (the idea).
 *
 * manifold(Φ) = ∪_{φ ∈ Φ} B(φ, ‖φ − NN_k(φ, Φ)‖), f(φ, Φ) = 1 if φ ∈ manifold(Φ);
 * precision = mean_{φ_g ∈ fake} f(φ_g, real), recall = mean_{φ_r ∈ real} f(φ_r, fake).
 *
 * | code     | symbol                                                  |
 * |----------|---------------------------------------------------------|
 * | `real`   | Φ_r, features of real images                            |
 * | `fake`   | Φ_g, features of generated images                       |
 * | `k`      | k, the neighbour that sets each ball's radius           |
 * | `radii2` | ‖φ − NN_k(φ)‖², squared k-NN radius of each point       |
 *
 * Equal sizes: both numbers depend on the set sizes (a larger set has smaller k-NN radii), so
 * compare them only at |real| = |fake| (the paper uses 50k against 50k). `equalSize: "require"`
 * enforces it; `"subsample"` draws the larger set down to the smaller's size with a seed.
 *
 * Distances are computed on the tf backend in blocks of rows (float32, after centring both sets
 * on their joint mean), so N of a few thousand takes well under a second.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { FeatureMatrix, Rows, centredTensor, columnMean, forEachDistanceBlock, toRows } from "./features";
import { Rng } from "../random";

/**
 * Result of {@link precisionRecall}.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface PrecisionRecall {
  /** fraction of fake samples inside the real manifold (quality, fidelity) */
  precision: number;
  /** fraction of real samples inside the fake manifold (coverage, diversity) */
  recall: number;
}

/**
 * Options of {@link precisionRecall}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface PrecisionRecallOptions {
  /** The neighbour that sets each ball's radius (default 3). */
  k?: number;
  /** "require": throw unless both sets have the same size; "subsample": draw the larger set down (needs `seed`). Default: no check. */
  equalSize?: "require" | "subsample";
  /** Seed of the subsample. */
  seed?: number;
}

/** `m` rows of r drawn without replacement (a seeded permutation's first m, in original order). */
function subsampleRows(r: Rows, m: number, rng: Rng): Rows {
  const idx = Array.from(rng.permutation(r.n).slice(0, m)).sort((a, b) => a - b);
  const data = new Float64Array(m * r.f);
  idx.forEach((i, p) => data.set(r.data.subarray(i * r.f, (i + 1) * r.f), p * r.f));
  return { data, n: m, f: r.f };
}

/** Squared distance from each row of x to its k-th nearest other row (itself excluded by index). */
function kthNeighbourRadii2(x: tf.Tensor2D, k: number): Float32Array {
  const n = x.shape[0];
  const radii2 = new Float32Array(n);
  const best = new Float64Array(k); // the k smallest so far, ascending
  forEachDistanceBlock(x, x, (start, d2) => {
    const block = d2.dataSync(); // [r, n]
    const rows = d2.shape[0];
    for (let i = 0; i < rows; i++) {
      best.fill(Infinity);
      const self = start + i;
      for (let j = 0; j < n; j++) {
        if (j === self) continue;
        const v = block[i * n + j];
        if (v >= best[k - 1]) continue;
        let p = k - 1;
        while (p > 0 && best[p - 1] > v) {
          best[p] = best[p - 1];
          p--;
        }
        best[p] = v;
      }
      radii2[self] = best[k - 1];
    }
  });
  return radii2;
}

/** Fraction of the rows of `query` inside ∪ B(ref_i, sqrt(radii2_i)). */
function fractionInside(query: tf.Tensor2D, ref: tf.Tensor2D, radii2: Float32Array): number {
  const r2 = tf.tensor2d(radii2, [1, radii2.length]); // [1, m]
  let inside = 0;
  try {
    forEachDistanceBlock(query, ref, (_start, d2) => {
      const margin = tf.tidy(() => tf.min(tf.sub(d2, r2), 1)); // [r]  min_i (d2 − radius_i²)
      const vals = margin.dataSync();
      margin.dispose();
      for (let i = 0; i < vals.length; i++) if (vals[i] <= 0) inside++;
    });
  } finally {
    r2.dispose();
  }
  return inside / query.shape[0];
}

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union
 * of balls around its points with radius = distance to the point's k-th nearest neighbour in
 * the same set (itself excluded). Precision = fraction of fake samples inside the real manifold;
 * recall = fraction of real samples inside the fake manifold. A point on a ball's boundary
 * counts as inside. Identical sets give 1 and 1; far-apart sets give 0 and 0; a fake set that
 * covers half of the real modes gives precision ≈ 1 and recall ≈ 0.5. Needs more than k
 * samples in each set. Pass `equalSize` to compare only equal-size sets (see the header).
 *
 * @example const { precision, recall } = precisionRecall(featsReal, featsFake); // k = 3
 * @example precisionRecall(featsReal, featsFake, { equalSize: "subsample", seed: 0 })
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function precisionRecall(real: FeatureMatrix, fake: FeatureMatrix, opts: PrecisionRecallOptions = {}): PrecisionRecall {
  const k = opts.k ?? 3;
  if (!Number.isInteger(k) || k < 1) throw new Error(`precisionRecall: k must be a positive integer, got ${k}`);
  let r = toRows(real, "precisionRecall");
  let g = toRows(fake, "precisionRecall");
  if (opts.equalSize === "require" && r.n !== g.n) {
    throw new Error(`precisionRecall: equal-size sets required, got ${r.n} real and ${g.n} fake (use equalSize: "subsample" with a seed, or sample ${r.n} images)`);
  } else if (opts.equalSize === "subsample") {
    if (opts.seed === undefined || !Number.isInteger(opts.seed)) throw new Error(`precisionRecall: equalSize "subsample" needs an integer seed, got ${opts.seed}`);
    const rng = new Rng(opts.seed);
    if (r.n > g.n) r = subsampleRows(r, g.n, rng);
    else if (g.n > r.n) g = subsampleRows(g, r.n, rng);
  } else if (opts.equalSize !== undefined && opts.equalSize !== "require") {
    throw new Error(`precisionRecall: equalSize must be "require" or "subsample", got ${String(opts.equalSize)}`);
  }
  if (r.f !== g.f) throw new Error(`precisionRecall: feature dims differ (${r.f} vs ${g.f})`);
  if (r.n <= k || g.n <= k) throw new Error(`precisionRecall: need more than k = ${k} samples per set, got ${r.n} real and ${g.n} fake`);
  const centre = columnMean(r, g);
  const xr = centredTensor(r, centre); // [Nr, F]
  const xg = centredTensor(g, centre); // [Ng, F]
  try {
    const realRadii2 = kthNeighbourRadii2(xr, k);
    const fakeRadii2 = kthNeighbourRadii2(xg, k);
    return { precision: fractionInside(xg, xr, realRadii2), recall: fractionInside(xr, xg, fakeRadii2) };
  } finally {
    xr.dispose();
    xg.dispose();
  }
}
