/**
 * Reference solutions for notebooks/03_classifier_free_guidance.ipynb. HIDDEN FROM STUDENTS.
 *
 * Used by the instructor build and CI (the runner substitutes each region below for the stub in
 * the exercise cell with the same id) and by the grader (student vs reference on fresh inputs).
 * Each region is one complete exercise cell: keep the signature and TSDoc identical to the stub.
 *
 * The imports mirror the notebook's import cell.
 */
import * as tf from "@tensorflow/tfjs";

// #region exercise: dropLabels
/**
 * Label dropout for classifier-free training (Ho & Salimans 2022, Alg. 1): each label is
 * replaced by the null class ∅ with probability p_uncond. The randomness comes in as one
 * uniform number per row: row b is dropped when u_b < pUncond.
 *
 * @param labels class ids, int32, shape [B]
 * @param u uniform draws in [0, 1), shape [B]
 * @param pUncond the dropout probability p_uncond in [0, 1]
 * @param nullId the id of ∅ (the number of classes K)
 * @returns the conditioning ids, int32, shape [B]
 */
export function dropLabels(labels: tf.Tensor1D, u: tf.Tensor1D, pUncond: number, nullId: number): tf.Tensor1D {
  return tf.tidy(() => tf.where(tf.less(u, pUncond), tf.fill(labels.shape, nullId, "int32"), tf.cast(labels, "int32")) as tf.Tensor1D);
}
// #endregion

// #region exercise: cfgEps
/**
 * The classifier-free combination, the seed's s·∇ln P_t(z | x) − (s − 1)·∇ln P_t(z | ∅), written
 * for noise predictions (it is linear, so the same formula holds for ε̂):
 *   ε̃ = s · ε̂(z, c) − (s − 1) · ε̂(z, ∅) = ε̂(z, ∅) + s · (ε̂(z, c) − ε̂(z, ∅)).
 *
 * @param epsCond ε̂(z_t, t, c), shape [B, D]
 * @param epsUncond ε̂(z_t, t, ∅), shape [B, D]
 * @param s the guidance scale (s = 1: the conditional model; s = 0: the unconditional one)
 * @returns ε̃, shape [B, D]
 */
export function cfgEps(epsCond: tf.Tensor2D, epsUncond: tf.Tensor2D, s: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(epsUncond, tf.mul(tf.sub(epsCond, epsUncond), s)) as tf.Tensor2D);
}
// #endregion

// #region exercise: implicitClassifierGrad
/**
 * The classifier hidden inside a conditional diffusion model (Ho & Salimans 2022, §3.2): by
 * Bayes, p(c | z) ∝ p(z | c)/p(z), so ∇_z log p(c | z) = ∇ln p_t(z | c) − ∇ln p_t(z), and with
 * score = −ε̂/σ_t:
 *   ∇_z log p(c | z_t) ≈ −(ε̂(z, c) − ε̂(z, ∅)) / σ_t.
 *
 * @param epsCond ε̂(z_t, t, c), shape [B, D]
 * @param epsUncond ε̂(z_t, t, ∅), shape [B, D]
 * @param sigma σ_t = sqrt(1 − ᾱ_t), a positive number
 * @returns the implicit classifier gradient, shape [B, D]
 */
export function implicitClassifierGrad(epsCond: tf.Tensor2D, epsUncond: tf.Tensor2D, sigma: number): tf.Tensor2D {
  return tf.tidy(() => tf.div(tf.sub(epsUncond, epsCond), sigma) as tf.Tensor2D);
}
// #endregion
