/**
 * CLIP's contrastive objective: the cosine-similarity matrix of two batches of unit vectors, and
 * the symmetric InfoNCE loss over it.
 *
 * Papers: van den Oord, Li & Vinyals 2018 (InfoNCE: pick the positive among B candidates with a
 * softmax cross-entropy; its minimum bounds the mutual information, I ≥ log B − L); Radford et
 * al. 2021 (CLIP: the symmetric version over an image–text batch, pairs on the diagonal).
 *
 * For logits S [B, B] with S_ij = s·⟨u_i, v_j⟩ (image i, text j; s = exp(logit scale)):
 *   L = ½·[ CE(S, arange) + CE(Sᵀ, arange) ]
 *     = ½·[ mean_i logsumexp_j S_ij + mean_j logsumexp_i S_ij ] − mean_i S_ii
 * Closed forms (tests/lib/clip.test.ts): uniform logits give log B; perfectly aligned orthonormal
 * pairs give log(1 + (B − 1)·e^(−s)).
 *
 * | code   | math                                      | shape   |
 * |--------|-------------------------------------------|---------|
 * | a, b   | unit vectors u_i, v_j (rows)              | [B, E]  |
 * | sim    | ⟨u_i, v_j⟩ = (a·bᵀ)_ij                    | [B, B]  |
 * | logits | S = s·sim                                 | [B, B]  |
 * | loss   | L above                                   | []      |
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { fastMatMul } from "../ops";

/**
 * The similarity matrix a·bᵀ: entry (i, j) is ⟨a_i, b_j⟩, the cosine similarity when the rows
 * are unit vectors (as ClipModel's embeddings are). Differentiable, fast gradients on wasm.
 *
 * @param a [N, E]
 * @param b [M, E]
 * @returns [N, M]
 * @example similarityMatrix(imageEmb, textEmb) // [B, E], [B, E] → [B, B]
 * @see notebooks/05_clip.ipynb
 */
export function similarityMatrix(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[1]) {
    throw new Error(`similarityMatrix: expected a [N, E] and b [M, E], got [${a.shape}] and [${b.shape}]`);
  }
  return tf.tidy(() => fastMatMul(a, tf.transpose(b))); // [N, M]
}

/**
 * Symmetric InfoNCE (CLIP's loss): the mean of the cross-entropy of each row of `logits`
 * against its diagonal entry (image → text) and of each column (text → image). Differentiable;
 * use it inside tf.grad / optimizer.minimize.
 *
 * @param logits S [B, B], S_ij = s·⟨image_i, text_j⟩, positives on the diagonal
 * @returns the scalar loss L ≥ 0; log B for uniform logits
 * @example const loss = infoNceLoss(model.logits(img, txt)); // []
 * @see notebooks/05_clip.ipynb
 */
export function infoNceLoss(logits: tf.Tensor2D): tf.Scalar {
  if (logits.rank !== 2 || logits.shape[0] !== logits.shape[1] || logits.shape[0] < 1) {
    throw new Error(`infoNceLoss: expected square logits [B, B], got [${logits.shape}]`);
  }
  const B = logits.shape[0];
  return tf.tidy(() => {
    const rows = tf.mean(tf.logSumExp(logits, 1)); // [] mean_i logsumexp_j S_ij (image → text)
    const cols = tf.mean(tf.logSumExp(logits, 0)); // [] mean_j logsumexp_i S_ij (text → image)
    const diag = tf.div(tf.sum(tf.mul(logits, tf.eye(B))), B); // [] mean_i S_ii
    return tf.sub(tf.mul(tf.add(rows, cols), 0.5), diag) as tf.Scalar; // []
  });
}
