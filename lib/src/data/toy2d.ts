/**
 * Labelled 2D toy datasets, and the exact noised density of a Gaussian mixture (GMM).
 *
 * The GMM gives ground truth: its noised score and posterior mean are closed-form, so a
 * sampler can be checked against the true score, and a learned model against the truth.
 *
 * Papers:
 * - Song & Ermon 2019 and Song et al. 2021 (ring of Gaussians as a toy benchmark).
 * - Grathwohl et al. 2019, "FFJORD" (checkerboard); sklearn's make_moons / make_swiss_roll.
 * - Efron 2011 (Tweedie: ∇ln p_t(z) = (E[x0 | z] − z)/sigma2 in VE form).
 *
 * Noised GMM with isotropic components N(μ_k, std²·I) and z = a·x0 + sqrt(c)·ε:
 * component k of p_t is N(a·μ_k, (a²·std² + c)·I). VP: a = sqrt(ᾱ), c = 1 − ᾱ. VE: a = 1,
 * c = sigma2 (the seed lecture's t).
 *
 * | code        | symbol                       |
 * |-------------|------------------------------|
 * | `means`     | μ_k                          |
 * | `std`       | s (shared component std)     |
 * | `weights`   | π_k                          |
 * | `alphaBar`  | ᾱ_t (VP)                     |
 * | `sigma2`    | σ² = the seed's t (VE)       |
 * | `resp`      | r_k(z) = p(k | z)            |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";

/**
 * A labelled 2D point set; `x` is row-major [n, 2].
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface Labelled2D {
  name: string;
  /** [n * 2] row-major */
  x: Float32Array;
  y: Int32Array;
  n: number;
  numClasses: number;
}

/**
 * An isotropic Gaussian mixture with one shared std: Σ_k π_k N(μ_k, std²·I).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface GaussianMixture {
  means: number[][];
  std: number;
  weights: number[];
}

/**
 * Options for the ring of Gaussians.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface RingOptions {
  numModes?: number;
  radius?: number;
  std?: number;
}

/**
 * Equal-weight ring of Gaussians: mode k at radius·(cos 2πk/K, sin 2πk/K).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function ringMixture({ numModes = 8, radius = 4, std = 0.3 }: RingOptions = {}): GaussianMixture {
  const means: number[][] = [];
  for (let k = 0; k < numModes; k++) {
    const a = (2 * Math.PI * k) / numModes;
    means.push([radius * Math.cos(a), radius * Math.sin(a)]);
  }
  return { means, std, weights: new Array<number>(numModes).fill(1 / numModes) };
}

/**
 * n draws from a 2D mixture; label = component index (drawn from the weights).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function sampleGmm(gmm: GaussianMixture, n: number, rng: Rng, name = "gmm"): Labelled2D {
  const total = gmm.weights.reduce((a, b) => a + b, 0);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform() * total;
    let k = 0;
    while (k < gmm.weights.length - 1 && u >= gmm.weights[k]) u -= gmm.weights[k++];
    y[i] = k;
    x[2 * i] = gmm.means[k][0] + gmm.std * rng.normal();
    x[2 * i + 1] = gmm.means[k][1] + gmm.std * rng.normal();
  }
  return { name, x, y, n, numClasses: gmm.means.length };
}

/**
 * Ring of Gaussians ({@link ringMixture}) as a labelled dataset; label = mode index.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function ringGaussians(opts: RingOptions & { n: number; rng: Rng }): Labelled2D {
  return sampleGmm(ringMixture(opts), opts.n, opts.rng, "ringGaussians");
}

/**
 * Two interleaving half circles (as sklearn's make_moons, but with random angles): class 0
 * is (cos θ, sin θ), class 1 is (1 − cos θ, 0.5 − sin θ), θ ~ U[0, π], plus N(0, noise²)
 * jitter. Labels alternate 0, 1, 0, … so the classes are balanced.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function twoMoons({ n, noise = 0.1, rng }: { n: number; noise?: number; rng: Rng }): Labelled2D {
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const th = Math.PI * rng.uniform();
    const c = i % 2;
    y[i] = c;
    x[2 * i] = (c === 0 ? Math.cos(th) : 1 - Math.cos(th)) + noise * rng.normal();
    x[2 * i + 1] = (c === 0 ? Math.sin(th) : 0.5 - Math.sin(th)) + noise * rng.normal();
  }
  return { name: "twoMoons", x, y, n, numClasses: 2 };
}

/**
 * 2D Swiss roll: u ~ U[0, 1), θ = 1.5π(1 + 2u), point = (θ cos θ, θ sin θ)/5 + N(0, noise²)
 * (so it fits in about [−3, 3]²). Class = the arc segment floor(u·numClasses): equal slices
 * of the angle θ, from the centre outwards.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function swissRoll({ n, noise = 0.25, rng, numClasses = 4 }: { n: number; noise?: number; rng: Rng; numClasses?: number }): Labelled2D {
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const th = 1.5 * Math.PI * (1 + 2 * u);
    y[i] = Math.min(numClasses - 1, Math.floor(u * numClasses));
    x[2 * i] = (th * Math.cos(th)) / 5 + noise * rng.normal();
    x[2 * i + 1] = (th * Math.sin(th)) / 5 + noise * rng.normal();
  }
  return { name: "swissRoll", x, y, n, numClasses };
}

/**
 * Checkerboard (Grathwohl et al. 2019): uniform on the 8 "dark" cells of a 4×4 board of
 * 2×2 cells covering [−4, 4]² — cell (row i, column j), with x ∈ [−4 + 2j, −2 + 2j) and
 * y ∈ [−4 + 2i, −2 + 2i), is dark when i + j is even. Label = index of the dark cell,
 * 0…7 in row-major order (i, then j), so numClasses = 8.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function checkerboard({ n, rng }: { n: number; rng: Rng }): Labelled2D {
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const cell = rng.int(8);
    const i = Math.floor(cell / 2);
    const j = 2 * (cell % 2) + (i % 2); // dark cells: i + j even
    y[p] = cell;
    x[2 * p] = -4 + 2 * j + 2 * rng.uniform();
    x[2 * p + 1] = -4 + 2 * i + 2 * rng.uniform();
  }
  return { name: "checkerboard", x, y, n, numClasses: 8 };
}

/**
 * A dataset as tensors: x [n, 2] float32 and y [n] int32. The caller disposes them.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function toTensors(d: Labelled2D): { x: tf.Tensor2D; y: tf.Tensor1D } {
  return { x: tf.tensor2d(d.x, [d.n, 2], "float32"), y: tf.tensor1d(d.y, "int32") };
}

/** Scale a and noise variance c of a noised GMM; shared by the VP and VE entry points. */
function noised(z: tf.Tensor2D, gmm: GaussianMixture, a: number, c: number) {
  const K = gmm.means.length;
  const D = z.shape[1];
  const v = a * a * gmm.std * gmm.std + c; // component variance
  const mu = tf.tensor2d(gmm.means.flat(), [K, D]); // [K, D]
  const m = tf.mul(mu, a); // [K, D]
  const diff = tf.sub(tf.expandDims(z, 1), tf.expandDims(m, 0)); // [B, K, D]
  const d2 = tf.sum(tf.square(diff), 2); // [B, K]
  const logW = tf.tensor1d(gmm.weights.map((w) => Math.log(w))); // [K]
  const logits = tf.sub(logW, tf.div(d2, 2 * v)); // [B, K]
  return { mu, m, v, d2, logits, D };
}

/** ln p(z) of the noised mixture, per row. */
function logPdf(z: tf.Tensor2D, gmm: GaussianMixture, a: number, c: number): tf.Tensor1D {
  return tf.tidy(() => {
    const { v, logits, D } = noised(z, gmm, a, c);
    const total = gmm.weights.reduce((p, q) => p + q, 0);
    return tf.sub(tf.logSumExp(logits, 1), Math.log(total) + 0.5 * D * Math.log(2 * Math.PI * v)) as tf.Tensor1D; // [B]
  });
}

/** ∇_z ln p(z) = Σ_k r_k (a μ_k − z)/v, r = softmax(logits). */
function score(z: tf.Tensor2D, gmm: GaussianMixture, a: number, c: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { m, v, logits } = noised(z, gmm, a, c);
    const resp = tf.softmax(logits, 1); // [B, K]
    return tf.div(tf.sub(tf.matMul(resp, m), z), v) as tf.Tensor2D; // [B, D]
  });
}

/** E[x0 | z] = Σ_k r_k [μ_k + (a s²/v)(z − a μ_k)]. */
function posteriorMean(z: tf.Tensor2D, gmm: GaussianMixture, a: number, c: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { mu, v, logits } = noised(z, gmm, a, c);
    const g = (a * gmm.std * gmm.std) / v;
    const resp = tf.softmax(logits, 1); // [B, K]
    const muBar = tf.matMul(resp, mu); // [B, D]
    return tf.add(tf.mul(muBar, 1 - a * g), tf.mul(z, g)) as tf.Tensor2D; // [B, D]
  });
}

function checkAlphaBar(alphaBar: number): number {
  if (!(alphaBar > 0 && alphaBar <= 1)) throw new Error(`alphaBar must be in (0, 1], got ${alphaBar}`);
  return alphaBar;
}

function checkSigma2(sigma2: number): number {
  if (!(sigma2 >= 0)) throw new Error(`sigma2 must be >= 0, got ${sigma2}`);
  return sigma2;
}

/**
 * VP score of the noised GMM, ∇_z ln p_t(z) with z = sqrt(ᾱ)x0 + sqrt(1 − ᾱ)ε, using
 * max-subtracted softmax responsibilities (stable far from every mode).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function gmmScoreVP(z: tf.Tensor2D, gmm: GaussianMixture, alphaBar: number): tf.Tensor2D {
  const ab = checkAlphaBar(alphaBar);
  return score(z, gmm, Math.sqrt(ab), 1 - ab);
}

/**
 * VP posterior mean E[x0 | z_t] of the GMM (Gaussian conjugacy per component, mixed by the
 * responsibilities).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function gmmPosteriorMeanVP(z: tf.Tensor2D, gmm: GaussianMixture, alphaBar: number): tf.Tensor2D {
  const ab = checkAlphaBar(alphaBar);
  return posteriorMean(z, gmm, Math.sqrt(ab), 1 - ab);
}

/**
 * VE score of the noised GMM, ∇_z ln p(z) with z = x0 + sqrt(sigma2)·ε.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function gmmScoreVE(z: tf.Tensor2D, gmm: GaussianMixture, sigma2: number): tf.Tensor2D {
  return score(z, gmm, 1, checkSigma2(sigma2));
}

/**
 * VE posterior mean E[x0 | z] of the GMM, z = x0 + sqrt(sigma2)·ε. Tweedie:
 * gmmScoreVE = (gmmPosteriorMeanVE − z)/sigma2.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function gmmPosteriorMeanVE(z: tf.Tensor2D, gmm: GaussianMixture, sigma2: number): tf.Tensor2D {
  return posteriorMean(z, gmm, 1, checkSigma2(sigma2));
}

/**
 * Log density ln p_t(z) of the VP-noised GMM, per row: [B].
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function gmmLogPdfVP(z: tf.Tensor2D, gmm: GaussianMixture, alphaBar: number): tf.Tensor1D {
  const ab = checkAlphaBar(alphaBar);
  return logPdf(z, gmm, Math.sqrt(ab), 1 - ab);
}

/**
 * Log density ln p(z) of the VE-noised GMM (z = x0 + sqrt(sigma2)·ε), per row: [B].
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function gmmLogPdfVE(z: tf.Tensor2D, gmm: GaussianMixture, sigma2: number): tf.Tensor1D {
  return logPdf(z, gmm, 1, checkSigma2(sigma2));
}
