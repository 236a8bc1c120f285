/**
 * Fréchet distance between Gaussian fits of two feature sets (the "FID-style" distance, here on
 * the course's evaluation classifier's features instead of Inception's).
 *
 * Papers:
 * - Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
 *   Equilibrium" (FID).
 * - Dowson & Landau 1982, "The Fréchet distance between multivariate normal distributions".
 *
 * d² = ‖μ1 − μ2‖² + tr(Σ1 + Σ2 − 2(Σ1Σ2)^{1/2})
 *
 * | code           | symbol                                   |
 * |----------------|------------------------------------------|
 * | `mu1`, `mu2`   | μ1, μ2 (feature means)                   |
 * | `cov1`, `cov2` | Σ1, Σ2 (feature covariances, N − 1)      |
 * | `s1`           | Σ1^{1/2} (symmetric square root)         |
 * | `trSqrt`       | tr((Σ1Σ2)^{1/2}) = tr((Σ1^{1/2}Σ2Σ1^{1/2})^{1/2}) |
 *
 * Everything runs in float64 in JavaScript (ml-matrix for the eigendecompositions).
 *
 * Sample size: the covariance of F features needs many more than F samples; issue 14 sets
 * N ≥ 5·F. {@link checkedFrechetDistance} enforces it (optionally after PCA to fewer dimensions);
 * {@link frechetDistance} itself stays unchecked for existing callers.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { FeatureMatrix, columnMean, toRows } from "./features";
import { pca } from "./pca";

/**
 * Mean and covariance of a feature set; `cov` is F×F row-major.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface FeatureStats {
  mu: Float64Array;
  /** [F * F] row-major, unbiased (divides by N − 1, as numpy's np.cov in the FID code) */
  cov: Float64Array;
  n: number;
}

/**
 * Mean and unbiased covariance (N − 1) of features [N, F], in float64. Needs N ≥ 2.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function featureStats(feats: FeatureMatrix): FeatureStats {
  const r = toRows(feats, "featureStats");
  if (r.n < 2) throw new Error(`featureStats: need at least 2 samples, got ${r.n}`);
  const { n, f, data } = r;
  const mu = columnMean(r);
  const cov = new Float64Array(f * f);
  const row = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < f; a++) row[a] = data[i * f + a] - mu[a];
    for (let a = 0; a < f; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < f; b++) cov[a * f + b] += ra * row[b];
    }
  }
  for (let a = 0; a < f; a++) {
    for (let b = a; b < f; b++) {
      const v = cov[a * f + b] / (n - 1);
      cov[a * f + b] = v;
      cov[b * f + a] = v;
    }
  }
  return { mu, cov, n };
}

/** A square matrix: an array of rows, or a flat row-major array of F² values. */
type SquareMatrix = ArrayLike<ArrayLike<number>> | ArrayLike<number>;

function toMatrix(m: SquareMatrix, f: number, name: string): Matrix {
  const flat = new Float64Array(f * f);
  if (m.length === f * f && typeof m[0] === "number") flat.set(m as ArrayLike<number>);
  else if (m.length === f) {
    const rows = m as ArrayLike<ArrayLike<number>>;
    for (let i = 0; i < f; i++) {
      if (rows[i].length !== f) throw new Error(`frechetFromStats: ${name} row ${i} has ${rows[i].length} values, expected ${f}`);
      for (let j = 0; j < f; j++) flat[i * f + j] = rows[i][j];
    }
  } else throw new Error(`frechetFromStats: ${name} must be ${f}×${f}`);
  const out = Matrix.from1DArray(f, f, flat);
  return out.add(out.transpose()).mul(0.5); // symmetrise
}

/** Eigenvalues and vectors of a symmetric matrix, negative eigenvalues (round-off) clamped to 0. */
function symEig(m: Matrix): { values: number[]; vectors: Matrix } {
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  return { values: evd.realEigenvalues.map((v) => Math.max(v, 0)), vectors: evd.eigenvectorMatrix };
}

/**
 * Fréchet distance d² between N(mu1, cov1) and N(mu2, cov2):
 * ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2·tr((Σ1Σ2)^{1/2}). The trace of the square root is taken on the
 * symmetric PSD matrix Σ1^{1/2} Σ2 Σ1^{1/2}, which has the same eigenvalues as Σ1Σ2: two
 * symmetric eigendecompositions, tiny negative eigenvalues clamped to 0 (no complex square
 * roots as in scipy's sqrtm). The result is clamped at 0. Covariances may be given as rows or
 * flat row-major arrays (as {@link featureStats} returns them).
 *
 * @example frechetFromStats([0], [[1]], [3], [[4]]) // 9 + (1 − 2)² = 10
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function frechetFromStats(mu1: ArrayLike<number>, cov1: SquareMatrix, mu2: ArrayLike<number>, cov2: SquareMatrix): number {
  const f = mu1.length;
  if (mu2.length !== f) throw new Error(`frechetFromStats: means have ${f} and ${mu2.length} features`);
  let meanTerm = 0;
  for (let j = 0; j < f; j++) meanTerm += (mu1[j] - mu2[j]) ** 2;
  if (f === 0) return 0;
  const c1 = toMatrix(cov1, f, "cov1");
  const c2 = toMatrix(cov2, f, "cov2");
  const e1 = symEig(c1); // Σ1 = U Λ Uᵀ
  const s1 = e1.vectors.clone().mulRowVector(e1.values.map(Math.sqrt)).mmul(e1.vectors.transpose()); // Σ1^{1/2}
  const m = s1.mmul(c2).mmul(s1); // Σ1^{1/2} Σ2 Σ1^{1/2}
  const trSqrt = symEig(m.add(m.transpose()).mul(0.5)).values.reduce((p, v) => p + Math.sqrt(v), 0);
  const d2 = meanTerm + c1.trace() + c2.trace() - 2 * trSqrt;
  return Math.max(d2, 0);
}

/**
 * Fréchet distance (FID-style) between two feature sets [N1, F] and [N2, F]: Gaussian fits by
 * {@link featureStats}, then {@link frechetFromStats}. Identical sets give ≈ 0. Like FID it is
 * biased upwards for small N; compare values only at equal N.
 *
 * @example frechetDistance(featsReal, featsFake)
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function frechetDistance(featsA: FeatureMatrix, featsB: FeatureMatrix): number {
  const a = featureStats(featsA);
  const b = featureStats(featsB);
  if (a.mu.length !== b.mu.length) throw new Error(`frechetDistance: feature dims differ (${a.mu.length} vs ${b.mu.length})`);
  return frechetFromStats(a.mu, a.cov, b.mu, b.cov);
}

/**
 * Samples needed per feature dimension before a Fréchet distance is trusted (issue 14: N ≥ 5·F).
 * Below it the covariance estimate is too noisy (and singular for N ≤ F).
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const FRECHET_MIN_SAMPLES_PER_DIM = 5;

/**
 * Options of {@link checkedFrechetDistance}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface CheckedFrechetOptions {
  /** Project both sets onto this many principal components of their union first (PCA, Pearson 1901). */
  pcaDim?: number;
  /** Default {@link FRECHET_MIN_SAMPLES_PER_DIM}. */
  minSamplesPerDim?: number;
}

/**
 * Result of {@link checkedFrechetDistance}: the distance and what it was computed on.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface CheckedFrechet {
  distance: number;
  /** The smaller set's size. */
  n: number;
  /** Feature dimension used (after PCA if any). */
  dim: number;
  /** Whether the features were PCA-reduced. */
  reduced: boolean;
}

/**
 * Throw a clear error unless both sets have at least `minSamplesPerDim · dim` rows.
 *
 * @example assertFrechetSampleSize(600, 600, 128) // throws: 640 needed
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function assertFrechetSampleSize(nA: number, nB: number, dim: number, minSamplesPerDim = FRECHET_MIN_SAMPLES_PER_DIM): void {
  const need = minSamplesPerDim * dim;
  const n = Math.min(nA, nB);
  if (n < need) {
    throw new Error(
      `frechet: ${n} samples for ${dim}-dimensional features; the Fréchet distance needs N ≥ ${minSamplesPerDim} × ${dim} = ${need} per set ` +
        `(its covariance is ${n <= dim ? "singular" : "too noisy"}). Use more samples, PCA-reduce the features (pcaDim ≤ ${Math.floor(n / minSamplesPerDim)}), or use kernelInceptionDistance.`,
    );
  }
}

/**
 * The Fréchet distance with the sample-size guard: both sets need N ≥ 5 × the feature dimension,
 * else it throws. With `pcaDim`, both sets are first projected onto the top `pcaDim` principal
 * components of their union (lib's {@link pca}), and the rule applies to `pcaDim`. The plain
 * {@link frechetDistance} stays unchecked for existing callers.
 *
 * @example checkedFrechetDistance(real, samples, { pcaDim: 16 }) // N ≥ 80 per set
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function checkedFrechetDistance(featsA: FeatureMatrix, featsB: FeatureMatrix, opts: CheckedFrechetOptions = {}): CheckedFrechet {
  const a = toRows(featsA, "checkedFrechetDistance");
  const b = toRows(featsB, "checkedFrechetDistance");
  if (a.f !== b.f) throw new Error(`checkedFrechetDistance: feature dims differ (${a.f} vs ${b.f})`);
  const per = opts.minSamplesPerDim ?? FRECHET_MIN_SAMPLES_PER_DIM;
  if (!(per > 0)) throw new Error(`checkedFrechetDistance: minSamplesPerDim must be positive, got ${per}`);
  const n = Math.min(a.n, b.n);
  if (opts.pcaDim === undefined) {
    assertFrechetSampleSize(a.n, b.n, a.f, per);
    return { distance: frechetDistance(featsA, featsB), n, dim: a.f, reduced: false };
  }
  const k = opts.pcaDim;
  if (!Number.isInteger(k) || k < 1 || k > a.f) throw new Error(`checkedFrechetDistance: pcaDim must be an integer in 1…${a.f}, got ${k}`);
  assertFrechetSampleSize(a.n, b.n, k, per);
  const rows: number[][] = [];
  for (const r of [a, b]) for (let i = 0; i < r.n; i++) rows.push(Array.from(r.data.subarray(i * r.f, (i + 1) * r.f)));
  const proj = pca(rows, k).projected; // [Na + Nb, k]
  const pa = { data: proj.subarray(0, a.n * k), shape: [a.n, k] as [number, number] };
  const pb = { data: proj.subarray(a.n * k), shape: [b.n, k] as [number, number] };
  return { distance: frechetDistance(pa, pb), n, dim: k, reduced: true };
}
