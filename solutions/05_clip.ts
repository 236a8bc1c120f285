/**
 * Reference solutions for notebooks/05_clip.ipynb. HIDDEN FROM STUDENTS.
 *
 * Used by the instructor build and CI (the runner substitutes each region below for the stub in
 * the exercise cell with the same id) and by the grader (student vs reference on fresh inputs).
 * Each region is one complete exercise cell: keep the signature and TSDoc identical to the stub.
 *
 * The imports mirror the notebook's import cell.
 */
import * as tf from "@tensorflow/tfjs";

// #region exercise: clipLoss
/**
 * CLIP's symmetric contrastive loss (InfoNCE, van den Oord et al. 2018; Radford et al. 2021) for
 * a batch of B matching (image, caption) pairs. Entry (i, j) of `logits` is s·⟨u_i, v_j⟩, the
 * scaled similarity of image i and caption j; the right partner of image i is caption i.
 *   loss = ½ · [ mean_i −log softmax_j(logits)[i, i]  +  mean_j −log softmax_i(logits)[j, j] ]
 * (cross-entropy over each row, "which caption?", and over each column, "which image?").
 *
 * @param logits scaled similarities, shape [B, B]
 * @returns the loss, a scalar tensor
 */
export function clipLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const B = logits.shape[0];
    const diag = tf.sum(tf.mul(logits, tf.eye(B)), 1); // [B] the matching pairs' logits
    const rows = tf.mean(tf.sub(tf.logSumExp(logits, 1), diag)); // image → caption
    const cols = tf.mean(tf.sub(tf.logSumExp(logits, 0), diag)); // caption → image
    return tf.div(tf.add(rows, cols), 2) as tf.Scalar;
  });
}
// #endregion

// #region exercise: zeroShotClassify
/**
 * Zero-shot classification with CLIP: each image gets the label whose prompt embedding is the
 * most similar, ŷ_i = argmax_k ⟨u_i, w_k⟩ (embeddings are unit vectors, so this is the cosine).
 *
 * @param imageEmb image embeddings u_i, shape [N, E]
 * @param promptEmb one prompt embedding w_k per label ("a photo of a {label}"), shape [K, E]
 * @returns the predicted labels, int32, shape [N]
 */
export function zeroShotClassify(imageEmb: tf.Tensor2D, promptEmb: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.argMax(tf.matMul(imageEmb, promptEmb, false, true), 1), "int32") as tf.Tensor1D);
}
// #endregion
