/**
 * Conversions between what a denoiser can predict: noise ε, clean data x₀, velocity v, and
 * the score ∇ ln p_t. All are exact algebra on x_t = sqrt(ᾱ_t)·x0 + σ_t·ε.
 *
 * Papers:
 * - Ho, Jain & Abbeel 2020 (ε-prediction); Salimans & Ho 2022 (v-prediction).
 * - Efron 2011, "Tweedie's Formula and Selection Bias"; Vincent 2011 (score = −ε/σ).
 * - Song et al. 2021, "Score-Based Generative Modeling through SDEs" (VP ↔ VE correspondence).
 *
 * | code        | symbol                                                          |
 * |-------------|-----------------------------------------------------------------|
 * | `xt`        | x_t (VP), z_t                                                   |
 * | `epsHat`    | ε̂_θ(x_t, t)                                                     |
 * | `x0Hat`     | x̂_0 ≈ E[x_0 | x_t]                                             |
 * | `alphaBar`  | ᾱ_t;  σ_t = sqrt(1 − ᾱ_t)                                       |
 * | `score`     | ∇_{x_t} ln p_t(x_t)                                             |
 * | `z`, `sigma2` | VE (seed lecture): z = x0 + sqrt(sigma2)·ε; sigma2 is the seed's t in ∇ln p_t(z) = (E[x0|t,z] − z)/t |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Schedule, coef } from "./schedules";

type Timestep = number | ArrayLike<number>;

/**
 * VP, ε-parameterisation → x₀: x̂0 = (x_t − σ_t·ε̂) / sqrt(ᾱ_t).
 * `t` is one timestep for the batch or one per example.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function epsToX0(xt: tf.Tensor, epsHat: tf.Tensor, t: Timestep, schedule: Schedule): tf.Tensor {
  return tf.tidy(() => {
    const sqrtAlphaBar = coef(schedule.alphaBars.map(Math.sqrt), t, xt.rank); // [B, 1, …]
    const sigma = coef(schedule.sigmas, t, xt.rank); // [B, 1, …]
    return tf.div(tf.sub(xt, tf.mul(sigma, epsHat)), sqrtAlphaBar); // like xt
  });
}

/**
 * VP, x₀-parameterisation → ε: ε = (x_t − sqrt(ᾱ_t)·x̂0) / σ_t. Inverse of {@link epsToX0}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function x0ToEps(xt: tf.Tensor, x0: tf.Tensor, t: Timestep, schedule: Schedule): tf.Tensor {
  return tf.tidy(() => {
    const sqrtAlphaBar = coef(schedule.alphaBars.map(Math.sqrt), t, xt.rank); // [B, 1, …]
    const sigma = coef(schedule.sigmas, t, xt.rank); // [B, 1, …]
    return tf.div(tf.sub(xt, tf.mul(sqrtAlphaBar, x0)), sigma); // like xt
  });
}

/**
 * VP, ε-parameterisation → score: ∇_{x_t} ln p_t(x_t) ≈ −ε̂ / σ_t (Vincent 2011).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function epsToScore(epsHat: tf.Tensor, t: Timestep, schedule: Schedule): tf.Tensor {
  return tf.tidy(() => tf.div(tf.neg(epsHat), coef(schedule.sigmas, t, epsHat.rank))); // like epsHat
}

/**
 * VP, score-parameterisation → ε: ε = −σ_t · score. Inverse of {@link epsToScore}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function scoreToEps(score: tf.Tensor, t: Timestep, schedule: Schedule): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.neg(score), coef(schedule.sigmas, t, score.rank))); // like score
}

/**
 * VP, ε → v-parameterisation (Salimans & Ho 2022): v = sqrt(ᾱ_t)·ε − σ_t·x̂0, with x̂0 from
 * {@link epsToX0}; equivalently v = (ε − σ_t·x_t)/sqrt(ᾱ_t).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function epsToV(xt: tf.Tensor, epsHat: tf.Tensor, t: Timestep, schedule: Schedule): tf.Tensor {
  return tf.tidy(() => {
    const sqrtAlphaBar = coef(schedule.alphaBars.map(Math.sqrt), t, xt.rank); // [B, 1, …]
    const sigma = coef(schedule.sigmas, t, xt.rank); // [B, 1, …]
    return tf.div(tf.sub(epsHat, tf.mul(sigma, xt)), sqrtAlphaBar); // like xt
  });
}

/**
 * VP, v-parameterisation → ε: ε = sqrt(ᾱ_t)·v + σ_t·x_t. Inverse of {@link epsToV}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function vToEps(xt: tf.Tensor, v: tf.Tensor, t: Timestep, schedule: Schedule): tf.Tensor {
  return tf.tidy(() => {
    const sqrtAlphaBar = coef(schedule.alphaBars.map(Math.sqrt), t, xt.rank); // [B, 1, …]
    const sigma = coef(schedule.sigmas, t, xt.rank); // [B, 1, …]
    return tf.add(tf.mul(sqrtAlphaBar, v), tf.mul(sigma, xt)); // like xt
  });
}

/**
 * VP Tweedie formula, x₀-parameterisation → score:
 * ∇_{x_t} ln p_t(x_t) = (sqrt(ᾱ)·E[x0 | x_t] − x_t) / (1 − ᾱ).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function tweedieScoreVP(x0Hat: tf.Tensor, xt: tf.Tensor, alphaBar: number): tf.Tensor {
  if (!(alphaBar > 0 && alphaBar < 1)) throw new Error(`tweedieScoreVP: alphaBar must be in (0, 1), got ${alphaBar}`);
  return tf.tidy(() => tf.div(tf.sub(tf.mul(x0Hat, Math.sqrt(alphaBar)), xt), 1 - alphaBar)); // like xt
}

/**
 * VE Tweedie formula (the seed lecture's form), x₀-parameterisation → score: with
 * z = x0 + sqrt(sigma2)·ε, ∇_z ln p(z) = (E[x0 | z] − z) / sigma2.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function tweedieScoreVE(x0Hat: tf.Tensor, z: tf.Tensor, sigma2: number): tf.Tensor {
  if (!(sigma2 > 0)) throw new Error(`tweedieScoreVE: sigma2 must be > 0, got ${sigma2}`);
  return tf.tidy(() => tf.div(tf.sub(x0Hat, z), sigma2)); // like z
}

/**
 * The VP ↔ VE correspondence: x_t = sqrt(ᾱ)·x0 + sqrt(1 − ᾱ)·ε divided by sqrt(ᾱ) is
 * z = x0 + sqrt(sigma2)·ε with sigma2 = (1 − ᾱ)/ᾱ = 1/SNR. Scores map as
 * ∇_{x_t} ln p_VP(x_t) = ∇_z ln p_VE(z) / sqrt(ᾱ), and E[x0 | x_t] = E[x0 | z].
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function vpToVe(xt: tf.Tensor, alphaBar: number): { z: tf.Tensor; sigma2: number } {
  if (!(alphaBar > 0 && alphaBar <= 1)) throw new Error(`vpToVe: alphaBar must be in (0, 1], got ${alphaBar}`);
  return { z: tf.tidy(() => tf.div(xt, Math.sqrt(alphaBar))), sigma2: (1 - alphaBar) / alphaBar };
}
