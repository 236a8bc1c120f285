/**
 * Sample-quality metrics for low-dimensional point sets.
 *
 * Papers:
 * - Gretton et al. 2012, "A Kernel Two-Sample Test" (MMD², Eq. 3 unbiased U-statistic, Eq. 5 biased).
 * - Bonneel, Rabin, Peyré & Pfister 2015, "Sliced and Radon Wasserstein Barycenters of Measures".
 * - Srivastava et al. 2017, "VEEGAN" (mode coverage on a ring of Gaussians).
 *
 * | code        | symbol                                         |
 * |-------------|------------------------------------------------|
 * | `bandwidth` | h in k(a, b) = exp(−‖a − b‖² / (2h²))          |
 * | `theta`     | θ ∈ S^{D−1}, a random projection direction     |
 *
 * All functions take tf.Tensor2D [n, D] and return plain numbers. Reductions that need
 * precision (sums over n² kernel entries) finish in float64 in JavaScript; data is read back
 * outside tf.tidy (see TFJS_NOTES.md).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";

/** Rows of x per kernel block: bounds memory to chunk × m floats. */
const MMD_CHUNK = 1024;

/** Σ_ij k(a_i, b_j) for the RBF kernel, in float64, computed block by block. */
function kernelSum(a: tf.Tensor2D, b: tf.Tensor2D, bandwidth: number): number {
  const n = a.shape[0];
  let total = 0;
  const bNorm = tf.tidy(() => tf.sum(tf.square(b), 1).reshape([1, -1])); // [1, m]
  const bT = tf.transpose(b); // [D, m]; plain matMul, no transposeB (TFJS_NOTES)
  try {
    for (let start = 0; start < n; start += MMD_CHUNK) {
      const rows = Math.min(MMD_CHUNK, n - start);
      const rowSums = tf.tidy(() => {
        const ac = tf.slice(a, [start, 0], [rows, -1]); // [r, D]
        const aNorm = tf.sum(tf.square(ac), 1, true); // [r, 1]
        const d2 = tf.relu(tf.sub(tf.add(aNorm, bNorm), tf.mul(tf.matMul(ac, bT), 2))); // [r, m]
        return tf.sum(tf.exp(tf.div(d2, -2 * bandwidth * bandwidth)), 1); // [r]
      });
      const vals = rowSums.dataSync();
      rowSums.dispose();
      for (let i = 0; i < vals.length; i++) total += vals[i];
    }
  } finally {
    bNorm.dispose();
    bT.dispose();
  }
  return total;
}

/**
 * Squared maximum mean discrepancy with the RBF kernel k(a, b) = exp(−‖a − b‖²/(2h²))
 * (Gretton et al. 2012). Default: the unbiased U-statistic (can be slightly negative when
 * the sets come from the same distribution); `unbiased: false` gives the biased V-statistic
 * (≥ 0). Distances via ‖a‖² + ‖b‖² − 2ab (matmul), in blocks of 1024 rows.
 *
 * @example mmdRbf(samples, data, 1) // ≈ 0 when samples ~ data
 * @see notebooks/01_score_matching.ipynb
 */
export function mmdRbf(x: tf.Tensor2D, y: tf.Tensor2D, bandwidth = 1, opts: { unbiased?: boolean } = {}): number {
  const unbiased = opts.unbiased ?? true;
  const m = x.shape[0];
  const n = y.shape[0];
  if (x.shape[1] !== y.shape[1]) throw new Error(`mmdRbf: dims differ (${x.shape[1]} vs ${y.shape[1]})`);
  if (!(bandwidth > 0)) throw new Error(`mmdRbf: bandwidth must be > 0, got ${bandwidth}`);
  if (unbiased && (m < 2 || n < 2)) throw new Error("mmdRbf: the unbiased estimate needs at least 2 points per set");
  const kxx = kernelSum(x, x, bandwidth);
  const kyy = kernelSum(y, y, bandwidth);
  const kxy = kernelSum(x, y, bandwidth);
  if (!unbiased) return kxx / (m * m) + kyy / (n * n) - (2 * kxy) / (m * n);
  // k(a, a) = 1 exactly: remove the diagonal analytically.
  return (kxx - m) / (m * (m - 1)) + (kyy - n) / (n * (n - 1)) - (2 * kxy) / (m * n);
}

/**
 * Exact squared 2-Wasserstein distance between two 1D empirical measures with uniform
 * weights, W2² = ∫_0^1 (F⁻¹(u) − G⁻¹(u))² du; sizes may differ (the two quantile step
 * functions are merged). Sorts copies; inputs are not changed.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function wasserstein1dSquared(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  const n = sa.length;
  const m = sb.length;
  if (n === 0 || m === 0) throw new Error("wasserstein1dSquared: empty input");
  let i = 0;
  let j = 0;
  let u = 0;
  let total = 0;
  while (i < n && j < m) {
    const next = Math.min((i + 1) / n, (j + 1) / m);
    const d = sa[i] - sb[j];
    total += (next - u) * d * d;
    u = next;
    if ((i + 1) / n <= next) i++;
    if ((j + 1) / m <= next) j++;
  }
  return total;
}

/**
 * Sliced 2-Wasserstein distance (Bonneel et al. 2015):
 * SW_2 = sqrt( mean over L random directions θ of W2²(θ·x, θ·y) ), θ uniform on the unit
 * sphere (normalised rng normals). Each 1D distance is exact ({@link wasserstein1dSquared}),
 * so unequal sample sizes are handled by matching quantile functions.
 *
 * @example slicedWasserstein(samples, data, { rng: new Rng(0) }) // numProjections = 128
 * @see notebooks/01_score_matching.ipynb
 */
export function slicedWasserstein(x: tf.Tensor2D, y: tf.Tensor2D, opts: { numProjections?: number; rng: Rng }): number {
  const L = opts.numProjections ?? 128;
  const D = x.shape[1];
  if (y.shape[1] !== D) throw new Error(`slicedWasserstein: dims differ (${D} vs ${y.shape[1]})`);
  const theta = new Float32Array(D * L); // [D, L], columns are unit directions
  for (let l = 0; l < L; l++) {
    let norm = 0;
    const col = opts.rng.normalArray(D);
    for (let d = 0; d < D; d++) norm += col[d] * col[d];
    norm = Math.sqrt(norm);
    for (let d = 0; d < D; d++) theta[d * L + l] = col[d] / norm;
  }
  const [px, py] = tf.tidy(() => {
    const th = tf.tensor2d(theta, [D, L]);
    return [tf.transpose(tf.matMul(x, th)), tf.transpose(tf.matMul(y, th))]; // [L, n], [L, m]
  });
  const ax = px.dataSync();
  const ay = py.dataSync();
  px.dispose();
  py.dispose();
  const n = x.shape[0];
  const m = y.shape[0];
  let total = 0;
  for (let l = 0; l < L; l++) total += wasserstein1dSquared(ax.subarray(l * n, (l + 1) * n), ay.subarray(l * m, (l + 1) * m));
  return Math.sqrt(total / L);
}

/**
 * Result of {@link nearestModeStats}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface ModeStats {
  /** mean Euclidean distance from each sample to its nearest centre */
  meanDistance: number;
  /** samples per centre (nearest centre, and within `radius` if given) */
  perMode: number[];
  /** fraction of centres holding ≥ minFraction of all samples */
  coverage: number;
  /** fraction of samples within `radius` of their nearest centre (1 without a radius) */
  fractionNear: number;
  /** with labels: fraction whose nearest centre index equals the label */
  accuracy?: number;
}

/**
 * Nearest-mode statistics of samples against known mode centres (e.g. {@link ringMixture}'s
 * means). Each sample goes to its nearest centre. Options: `radius` — only samples within
 * it count in `perMode` and `coverage` (default ∞; 3·std is the usual "high-quality" cut);
 * `minFraction` — a mode is covered if it holds ≥ this fraction of all n samples
 * (default 0.5/numModes, half its fair share); `labels` — gives `accuracy`.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function nearestModeStats(
  x: tf.Tensor2D,
  centers: number[][],
  opts: { labels?: Int32Array; minFraction?: number; radius?: number } = {},
): ModeStats {
  const K = centers.length;
  const n = x.shape[0];
  const D = x.shape[1];
  if (K === 0 || n === 0) throw new Error("nearestModeStats: need at least one centre and one sample");
  if (opts.labels && opts.labels.length !== n) throw new Error("nearestModeStats: labels length != number of samples");
  const minFraction = opts.minFraction ?? 0.5 / K;
  const radius = opts.radius ?? Infinity;
  const data = x.dataSync();
  const perMode = new Array<number>(K).fill(0);
  let sumDist = 0;
  let near = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD2 = Infinity;
    for (let k = 0; k < K; k++) {
      let d2 = 0;
      for (let d = 0; d < D; d++) d2 += (data[i * D + d] - centers[k][d]) ** 2;
      if (d2 < bestD2) {
        bestD2 = d2;
        best = k;
      }
    }
    const dist = Math.sqrt(bestD2);
    sumDist += dist;
    if (dist <= radius) {
      perMode[best]++;
      near++;
    }
    if (opts.labels && opts.labels[i] === best) correct++;
  }
  const covered = perMode.filter((c) => c >= minFraction * n).length;
  const out: ModeStats = { meanDistance: sumDist / n, perMode, coverage: covered / K, fractionNear: near / n };
  if (opts.labels) out.accuracy = correct / n;
  return out;
}

/**
 * max |a − b| over all entries, as a plain number; a and b must have the same shape. Leaves no
 * tensors behind (the notebooks use it to compare a student's function with the library's).
 *
 * @example maxAbsDiff(cfgEps(c, u, 3), cfgCombine(c, u, 3)) // 0
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`maxAbsDiff: shapes [${a.shape}] and [${b.shape}] differ`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
