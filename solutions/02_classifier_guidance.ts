/**
 * Reference solutions for notebooks/02_classifier_guidance.ipynb. HIDDEN FROM STUDENTS.
 *
 * Used by the instructor build and CI (the runner substitutes each region below for the stub in
 * the exercise cell with the same id) and by the grader (student vs reference on fresh inputs).
 * Each region is one complete exercise cell: keep the signature and TSDoc identical to the stub.
 *
 * The imports mirror the notebook's import cell.
 */
import * as tf from "@tensorflow/tfjs";

// #region exercise: crossEntropyLoss
/**
 * The noise-conditional classifier's training loss (Dhariwal & Nichol 2021, §4): the mean
 * cross-entropy −(1/B) Σ_b log softmax(logits_b)[y_b] of its logits on noised inputs z_t.
 * Use tf.logSoftmax (numerically stable) and pick each row's label with a one-hot mask.
 *
 * @param logits the classifier's logits for z_t, shape [B, K]
 * @param labels the true classes, int32, shape [B]
 * @returns a scalar tensor
 */
export function crossEntropyLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, logits.shape[1])); // [B, K]
    return tf.neg(tf.mean(tf.sum(picked, 1))) as tf.Scalar;
  });
}
// #endregion

// #region exercise: logProbGradLogits
/**
 * The last link of the classifier-guidance chain rule: the gradient of log p(y | z) =
 * log softmax(logits)[y] with respect to the logits, row by row. In closed form it is
 * onehot(y) − softmax(logits): pull towards class y, push away from what the classifier believes.
 *
 * @param logits the classifier's logits, shape [B, K]
 * @param labels the target classes y, int32, shape [B]
 * @returns ∂ log p(y_b | z_b) / ∂ logits_b, shape [B, K]
 */
export function logProbGradLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, logits.shape[1]), tf.softmax(logits)) as tf.Tensor2D);
}
// #endregion

// #region exercise: guidedEps
/**
 * Classifier guidance in ε form (Dhariwal & Nichol 2021, Eq. 14): the seed's guided score
 * ∇ln p_t(z) + s·∇ln p(y | z), written for a noise predictor with score = −ε̂/σ_t:
 *   ε̃ = ε̂ − s · σ_t · ∇_z log p(y | z_t).
 *
 * @param epsHat the model's noise prediction ε̂(z_t, t), shape [B, D]
 * @param grad the classifier gradient ∇_z log p(y | z_t), shape [B, D]
 * @param sigma σ_t = sqrt(1 − ᾱ_t), a positive number
 * @param s the guidance scale s ≥ 0
 * @returns the guided noise prediction ε̃, shape [B, D]
 */
export function guidedEps(epsHat: tf.Tensor2D, grad: tf.Tensor2D, sigma: number, s: number): tf.Tensor2D {
  return tf.tidy(() => tf.sub(epsHat, tf.mul(grad, s * sigma)) as tf.Tensor2D);
}
// #endregion
