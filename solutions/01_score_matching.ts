/**
 * Reference solutions for notebooks/01_score_matching.ipynb. HIDDEN FROM STUDENTS.
 *
 * Used by the instructor build and CI (the runner substitutes each region below for the stub in
 * the exercise cell with the same id) and by the grader (student vs reference on fresh inputs).
 * Each region is one complete exercise cell: keep the signature and TSDoc identical to the stub.
 *
 * The imports mirror the notebook's import cell.
 */
import * as tf from "@tensorflow/tfjs";

// #region exercise: addNoise
/**
 * Sample from the forward process q(z_t | x_0) of a variance-preserving diffusion:
 *   z_t = sqrt(alphaBar) * x0 + sqrt(1 - alphaBar) * eps.
 *
 * @param x0 clean data, shape [B, D]
 * @param eps standard normal noise, shape [B, D]
 * @param alphaBar ᾱ_t, a number in (0, 1]
 * @returns z_t, shape [B, D]
 */
export function addNoise(x0: tf.Tensor2D, eps: tf.Tensor2D, alphaBar: number): tf.Tensor2D {
  return tf.tidy(() => x0.mul(Math.sqrt(alphaBar)).add(eps.mul(Math.sqrt(1 - alphaBar))) as tf.Tensor2D);
}
// #endregion

// #region exercise: epsMseLoss
/**
 * The denoising score-matching loss in its ε-prediction form (Ho et al. 2020, "L_simple"):
 * the mean over the batch of the squared error ||ε̂ − ε||², averaged over the D coordinates,
 * i.e. the mean of (epsHat − eps)² over all entries.
 *
 * @param epsHat the network's noise prediction ε̂_θ(z_t, t), shape [B, D]
 * @param eps the noise that was actually added, shape [B, D]
 * @returns a scalar tensor
 */
export function epsMseLoss(epsHat: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(epsHat, eps))) as tf.Scalar);
}
// #endregion

// #region exercise: tweedieScore
/**
 * The seed lecture's Tweedie formula in the variance-exploding parameterisation
 * z = x0 + sqrt(t)·ε:  ∇_z ln p_t(z) = (E[x0 | t, z] − z) / t.
 *
 * @param x0Hat the denoiser's estimate of E[x0 | t, z], shape [B, D]
 * @param z the noisy point, shape [B, D]
 * @param t the noise variance σ² (the seed's t), a positive number
 * @returns the score estimate, shape [B, D]
 */
export function tweedieScore(x0Hat: tf.Tensor2D, z: tf.Tensor2D, t: number): tf.Tensor2D {
  return tf.tidy(() => tf.sub(x0Hat, z).div(t) as tf.Tensor2D);
}
// #endregion

// #region exercise: ddimUpdate
/**
 * One deterministic DDIM step (Song, Meng & Ermon 2021, Eq. 12 with η = 0) from timestep t to an
 * earlier timestep s:
 *   x̂0 = (z_t − sqrt(1 − ᾱ_t)·ε̂) / sqrt(ᾱ_t)
 *   z_s = sqrt(ᾱ_s)·x̂0 + sqrt(1 − ᾱ_s)·ε̂
 *
 * @param xt the current sample z_t, shape [B, D]
 * @param epsHat the predicted noise ε̂_θ(z_t, t), shape [B, D]
 * @param alphaBarT ᾱ_t
 * @param alphaBarPrev ᾱ_s for the earlier timestep s (1 for the final step to x0)
 * @returns z_s, shape [B, D]
 */
export function ddimUpdate(xt: tf.Tensor2D, epsHat: tf.Tensor2D, alphaBarT: number, alphaBarPrev: number): tf.Tensor2D {
  return tf.tidy(() => {
    const x0Hat = tf.sub(xt, epsHat.mul(Math.sqrt(1 - alphaBarT))).div(Math.sqrt(alphaBarT)); // [B, D]
    return x0Hat.mul(Math.sqrt(alphaBarPrev)).add(epsHat.mul(Math.sqrt(1 - alphaBarPrev))) as tf.Tensor2D;
  });
}
// #endregion
