/**
 * Kernel Inception Distance (KID) on the evaluator's features: the unbiased estimate of the
 * squared maximum mean discrepancy (MMD²) with a cubic polynomial kernel, and its standard error.
 * Unlike the Fréchet distance it is unbiased at any N (its mean over repeated draws is the
 * population MMD², which is 0 for equal distributions) and needs no covariance, so it stays
 * valid when N is below the feature dimension.
 *
 * Papers:
 * - Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying MMD GANs" (ICLR), §4 and App. D:
 *   KID = MMD²_u with k(x, y) = (xᵀy/d + 1)³ on Inception features.
 * - Gretton, Borgwardt, Rasch, Schölkopf & Smola 2012, "A Kernel Two-Sample Test" (JMLR), Lemma 6:
 *   the unbiased U-statistic MMD²_u.
 * - Arvesen 1969, "Jackknifing U-statistics" (Ann. Math. Stat.): the delete-one jackknife
 *   variance of a two-sample U-statistic, used here for the standard error. (The paper's
 *   reference code instead reports the spread over 100 random subsets of 1,000; at the course's
 *   sizes the jackknife of the full-set estimate is cheaper and uses every sample once.)
 *
 * MMD²_u = Σ_{i≠i'} k(x_i, x_i')/(m(m−1)) + Σ_{j≠j'} k(y_j, y_j')/(n(n−1)) − 2 Σ_{i,j} k(x_i, y_j)/(mn)
 *
 * | code      | symbol                                                        |
 * |-----------|---------------------------------------------------------------|
 * | `x`, `y`  | real features x_1…x_m and sample features y_1…y_n, [·, d]      |
 * | `d`       | feature dimension d                                            |
 * | `rowXX`   | r_i = Σ_{i'≠i} k(x_i, x_i')                                    |
 * | `rowXY`   | c_i = Σ_j k(x_i, y_j);  `colXY` = e_j = Σ_i k(x_i, y_j)        |
 * | `jackX`   | MMD²_u with x_i left out (and `jackY` with y_j left out)       |
 * | `se`      | √((m−1)/m Σ(θ₋ᵢ − θ̄)² + (n−1)/n Σ(θ₋ⱼ − θ̄)²)                  |
 *
 * The Gram matrices are built on the tf backend in float32 row blocks (xᵀy is accurate to
 * float32's relative precision); the kernel and all sums are taken in float64 in JavaScript.
 *
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { FeatureMatrix, Rows, toRows } from "./features";

/**
 * Result of {@link kernelInceptionDistance}.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export interface KidResult {
  /** MMD²_u, unbiased (may be slightly negative when the distributions match). */
  kid: number;
  /** Jackknife standard error of `kid`. */
  se: number;
  /** Sizes of the two sets. */
  m: number;
  n: number;
  /** Feature dimension d. */
  dim: number;
}

/** Rows per Gram block. */
const BLOCK = 512;

/**
 * Row sums and column sums of K(a, b) = (a bᵀ/d + 1)³ in float64; with `same`, the diagonal
 * k(a_i, a_i) is left out of the row sums.
 */
function kernelSums(a: Rows, b: Rows, same: boolean): { rows: Float64Array; cols: Float64Array } {
  const d = a.f;
  const rows = new Float64Array(a.n);
  const cols = new Float64Array(b.n);
  const bT = tf.tidy(() => tf.transpose(tf.tensor2d(Float32Array.from(b.data), [b.n, d]))); // [d, n]
  try {
    for (let start = 0; start < a.n; start += BLOCK) {
      const r = Math.min(BLOCK, a.n - start);
      const g = tf.tidy(() => tf.matMul(tf.tensor2d(Float32Array.from(a.data.subarray(start * d, (start + r) * d)), [r, d]), bT)); // [r, n]
      const dots = g.dataSync();
      g.dispose();
      for (let i = 0; i < r; i++) {
        let s = 0;
        for (let j = 0; j < b.n; j++) {
          if (same && j === start + i) continue;
          const u = dots[i * b.n + j] / d + 1;
          const k = u * u * u;
          s += k;
          cols[j] += k;
        }
        rows[start + i] = s;
      }
    }
  } finally {
    bT.dispose();
  }
  return { rows, cols };
}

function sum(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

/**
 * Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD² between features x [m, d]
 * (real) and y [n, d] (samples) with k(x, y) = (xᵀy/d + 1)³, and its jackknife standard error
 * (Arvesen 1969). Equal distributions give ≈ 0 within a few SE (negative values are possible
 * and meaningful: report them as they are). Needs m, n ≥ 3 and the same d. Leaves no tensors.
 *
 * @example const { kid, se } = kernelInceptionDistance(realFeats, sampleFeats)
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function kernelInceptionDistance(real: FeatureMatrix, fake: FeatureMatrix): KidResult {
  const x = toRows(real, "kernelInceptionDistance");
  const y = toRows(fake, "kernelInceptionDistance");
  if (x.f !== y.f) throw new Error(`kernelInceptionDistance: feature dims differ (${x.f} vs ${y.f})`);
  if (x.f < 1) throw new Error("kernelInceptionDistance: features have no columns");
  if (x.n < 3 || y.n < 3) throw new Error(`kernelInceptionDistance: need at least 3 samples per set (for the jackknife), got ${x.n} and ${y.n}`);
  for (const [name, r] of [["real", x], ["fake", y]] as const) {
    for (let i = 0; i < r.data.length; i++) if (!Number.isFinite(r.data[i])) throw new Error(`kernelInceptionDistance: ${name} features contain ${r.data[i]}`);
  }
  const m = x.n;
  const n = y.n;
  const xx = kernelSums(x, x, true);
  const yy = kernelSums(y, y, true);
  const xy = kernelSums(x, y, false);
  const sXX = sum(xx.rows);
  const sYY = sum(yy.rows);
  const sXY = sum(xy.rows);
  const kid = sXX / (m * (m - 1)) + sYY / (n * (n - 1)) - (2 * sXY) / (m * n);
  // Delete-one jackknife over x (the x-part and the cross term change) and over y.
  const jackX = new Float64Array(m);
  for (let i = 0; i < m; i++) jackX[i] = (sXX - 2 * xx.rows[i]) / ((m - 1) * (m - 2)) + sYY / (n * (n - 1)) - (2 * (sXY - xy.rows[i])) / ((m - 1) * n);
  const jackY = new Float64Array(n);
  for (let j = 0; j < n; j++) jackY[j] = sXX / (m * (m - 1)) + (sYY - 2 * yy.rows[j]) / ((n - 1) * (n - 2)) - (2 * (sXY - xy.cols[j])) / (m * (n - 1));
  const spread = (v: Float64Array) => {
    const mu = sum(v) / v.length;
    let s = 0;
    for (let i = 0; i < v.length; i++) s += (v[i] - mu) ** 2;
    return ((v.length - 1) / v.length) * s;
  };
  return { kid, se: Math.sqrt(spread(jackX) + spread(jackY)), m, n, dim: x.f };
}
