/**
 * Principal component analysis with ml-matrix: project high-dimensional embeddings (CLIP's
 * image and text embeddings) onto their top-k directions of variance, for 2-D plots.
 *
 * Paper: Pearson 1901; Hotelling 1933. The components are the eigenvectors of the sample
 * covariance Σ = XcᵀXc/(N − 1) of the centred rows Xc = X − μ, in order of decreasing
 * eigenvalue λ; the projection is Xc·W.
 *
 * | code        | math                                  | shape   |
 * |-------------|---------------------------------------|---------|
 * | mean        | μ                                     | [D]     |
 * | components  | W, one unit eigenvector per row       | [k, D]  |
 * | variances   | λ_1 ≥ … ≥ λ_k                          | [k]     |
 * | explained   | λ_i / Σ_j λ_j                          | [k]     |
 * | projected   | (X − μ)·Wᵀ                             | [N, k]  |
 *
 * Signs are fixed so that each component's largest-magnitude entry is positive (eigenvectors are
 * defined up to sign), so runs agree.
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/**
 * The result of {@link pca}.
 * @see notebooks/05_clip.ipynb
 */
export interface PcaResult {
  mean: Float64Array;
  components: Float64Array[];
  variances: number[];
  explained: number[];
  /** Row-major [N, k]. */
  projected: Float64Array;
}

/**
 * PCA of the rows of `x` onto `k` components.
 * @param x data [N, D] (a tensor, or row arrays)
 * @example const { projected } = pca(imageEmb, 2); scatterByClass({ x: …, y: … }, labels)
 * @see notebooks/05_clip.ipynb
 */
export function pca(x: tf.Tensor2D | number[][], k = 2): PcaResult {
  const rows = Array.isArray(x) ? x : (x.arraySync() as number[][]);
  const N = rows.length;
  const D = N ? rows[0].length : 0;
  if (N < 2 || D < 1 || rows.some((r) => r.length !== D)) throw new Error(`pca: need at least 2 rows of equal length, got ${N} rows`);
  if (!Number.isInteger(k) || k < 1 || k > D) throw new Error(`pca: k must be an integer in 1…${D}, got ${k}`);
  const X = new Matrix(rows);
  const mean = Float64Array.from({ length: D }, (_, j) => X.getColumn(j).reduce((a, b) => a + b, 0) / N);
  const Xc = X.clone();
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) Xc.set(i, j, Xc.get(i, j) - mean[j]);
  const cov = Xc.transpose().mmul(Xc).div(N - 1); // [D, D]
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).map((p) => p[1]);
  const total = values.reduce((a, b) => a + Math.max(b, 0), 0);
  const V = evd.eigenvectorMatrix;
  const components = order.slice(0, k).map((i) => {
    const c = Float64Array.from(V.getColumn(i));
    const big = c.reduce((m, v, j) => (Math.abs(v) > Math.abs(c[m]) ? j : m), 0);
    if (c[big] < 0) for (let j = 0; j < D; j++) c[j] = -c[j];
    return c;
  });
  const projected = new Float64Array(N * k);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += Xc.get(i, j) * components[c][j];
      projected[i * k + c] = s;
    }
  }
  const variances = order.slice(0, k).map((i) => values[i]);
  return { mean, components, variances, explained: variances.map((v) => (total > 0 ? v / total : 0)), projected };
}
