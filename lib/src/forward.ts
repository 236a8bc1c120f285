/**
 * The forward (noising) process q of variance-preserving diffusion, and its posterior.
 *
 * Papers:
 * - Sohl-Dickstein et al. 2015, "Deep Unsupervised Learning using Nonequilibrium Thermodynamics".
 * - Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Eqs. 4, 6, 7.
 * - Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models" (posterior between two
 *   respaced timesteps through the ratio ᾱ_t / ᾱ_tPrev).
 *
 * | code             | paper symbol                                   |
 * |------------------|------------------------------------------------|
 * | `x0`             | x_0                                            |
 * | `xt`             | x_t (= z_t)                                    |
 * | `eps`            | ε ~ N(0, I)                                    |
 * | `alphaBar`       | ᾱ_t                                            |
 * | `alphaBarPrev`   | ᾱ_{tPrev} (1 when tPrev = −1)                  |
 * | `mean`, `variance` | μ̃(x_t, x_0), β̃ of q(x_{tPrev} | x_t, x_0)    |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Schedule, alphaBarAt, coef } from "./schedules";

/**
 * Sample x_t ~ q(x_t | x_0) with given noise: x_t = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·eps
 * (Ho et al. 2020, Eq. 4). `t` is one timestep for the whole batch or one per example.
 *
 * @example const xt = qSample(x0, [10, 500], eps, schedule); // x0, eps: [2, D]
 * @see notebooks/01_score_matching.ipynb
 */
export function qSample(x0: tf.Tensor, t: number | ArrayLike<number>, eps: tf.Tensor, schedule: Schedule): tf.Tensor {
  return tf.tidy(() => {
    const sqrtAlphaBar = coef(schedule.alphaBars.map(Math.sqrt), t, x0.rank); // [B, 1, …]
    const sigma = coef(schedule.sigmas, t, x0.rank); // [B, 1, …]
    return tf.add(tf.mul(sqrtAlphaBar, x0), tf.mul(sigma, eps)); // like x0
  });
}

/**
 * Posterior coefficients for one (t, tPrev) pair, in float64.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface PosteriorCoefs {
  /** multiplies x0 in the posterior mean: sqrt(ᾱ_prev)·β/(1 − ᾱ_t) */
  x0Coef: number;
  /** multiplies x_t in the posterior mean: sqrt(ᾱ_t/ᾱ_prev)·(1 − ᾱ_prev)/(1 − ᾱ_t) */
  xtCoef: number;
  /** posterior variance β̃ = β·(1 − ᾱ_prev)/(1 − ᾱ_t), with β = 1 − ᾱ_t/ᾱ_prev */
  variance: number;
}

/**
 * The scalar coefficients of q(x_{tPrev} | x_t, x_0) for tPrev < t, possibly respaced
 * (tPrev = −1 means ᾱ = 1). With tPrev = t − 1 these are Ho et al. 2020, Eq. 7.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function posteriorCoefs(t: number, tPrev: number, schedule: Schedule): PosteriorCoefs {
  if (!(tPrev < t)) throw new Error(`posterior: need tPrev < t, got t=${t}, tPrev=${tPrev}`);
  const alphaBar = alphaBarAt(schedule, t);
  const alphaBarPrev = alphaBarAt(schedule, tPrev);
  const alpha = alphaBar / alphaBarPrev; // effective α between the two timesteps
  const beta = 1 - alpha;
  const oneMinus = 1 - alphaBar;
  return {
    x0Coef: (Math.sqrt(alphaBarPrev) * beta) / oneMinus,
    xtCoef: (Math.sqrt(alpha) * (1 - alphaBarPrev)) / oneMinus,
    variance: Math.max(0, (beta * (1 - alphaBarPrev)) / oneMinus),
  };
}

function asArray(t: number | ArrayLike<number>, n: number): ArrayLike<number> {
  return typeof t === "number" ? new Array<number>(n).fill(t) : t;
}

/**
 * Mean and variance of the forward-process posterior q(x_{tPrev} | x_t, x_0) (Ho et al. 2020,
 * Eq. 7, generalised to respaced tPrev < t through ᾱ_t/ᾱ_tPrev). `t`, `tPrev` are scalars or
 * per-example arrays; `variance` has shape [1, …, 1] or [B, 1, …, 1] and broadcasts.
 * At tPrev = −1 the mean is x0 and the variance 0.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function qPosterior(
  x0: tf.Tensor,
  xt: tf.Tensor,
  t: number | ArrayLike<number>,
  tPrev: number | ArrayLike<number>,
  schedule: Schedule,
): { mean: tf.Tensor; variance: tf.Tensor } {
  const scalar = typeof t === "number" && typeof tPrev === "number";
  const n = scalar ? 1 : typeof t === "number" ? (tPrev as ArrayLike<number>).length : t.length;
  const ts = asArray(t, n);
  const tps = asArray(tPrev, n);
  if (ts.length !== n || tps.length !== n) throw new Error("qPosterior: t and tPrev have different lengths");
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = posteriorCoefs(ts[i], tps[i], schedule);
    a[i] = c.x0Coef;
    b[i] = c.xtCoef;
    v[i] = c.variance;
  }
  const shape = new Array<number>(xt.rank).fill(1);
  shape[0] = n;
  return tf.tidy(() => {
    const mean = tf.add(tf.mul(tf.tensor(a, shape), x0), tf.mul(tf.tensor(b, shape), xt)); // like xt
    const variance = tf.tensor(v, shape); // [B, 1, …] or [1, …]
    return { mean, variance };
  });
}
