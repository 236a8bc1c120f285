/**
 * Denoising score matching losses in the ε-parameterisation, and per-timestep weights.
 *
 * Papers:
 * - Vincent 2011, "A Connection Between Score Matching and Denoising Autoencoders".
 * - Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (L_simple, Eq. 14).
 * - Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting Strategy".
 *
 * | code      | symbol                                   |
 * |-----------|------------------------------------------|
 * | `epsHat`  | ε̂_θ(x_t, t)                              |
 * | `eps`     | ε, the noise used to make x_t            |
 * | `weights` | w_t, per example                         |
 * | SNR       | ᾱ_t / (1 − ᾱ_t) = exp(λ_t)               |
 * | `gamma`   | γ, the Min-SNR clip (default 5)          |
 *
 * Identity used for the weights: ‖x0 − x̂0‖² = ‖ε − ε̂‖² / SNR(t), so a loss written in
 * x0-space with weight w_x0 equals the ε-MSE with weight w_x0 / SNR.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Schedule } from "./schedules";

/**
 * Weighting of the ε-MSE per timestep; see {@link snrWeights}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export type LossWeighting = "eps" | "x0" | "minSnr";

/**
 * Denoising score matching loss in the ε-parameterisation (Ho et al. 2020's L_simple;
 * Vincent 2011): l_i = mean over non-batch dims of (ε̂_i − ε_i)², then
 * loss = (1/B) Σ_i w_i·l_i (w_i = 1 without weights). Differentiable; use inside tf.grad.
 *
 * @example dsmLoss(epsHat, eps) // [B, D], [B, D] → scalar
 * @see notebooks/01_score_matching.ipynb
 */
export function dsmLoss(epsHat: tf.Tensor, eps: tf.Tensor, weights?: tf.Tensor1D): tf.Scalar {
  if (epsHat.shape.join() !== eps.shape.join()) {
    throw new Error(`dsmLoss: epsHat shape [${epsHat.shape}] != eps shape [${eps.shape}]`);
  }
  const B = epsHat.shape[0];
  if (weights && (weights.rank !== 1 || weights.shape[0] !== B)) {
    throw new Error(`dsmLoss: weights must have shape [${B}], got [${weights.shape}]`);
  }
  return tf.tidy(() => {
    const sq = tf.square(tf.sub(epsHat, eps)).reshape([B, -1]); // [B, D]
    const perExample = tf.mean(sq, 1); // [B]
    return (weights ? tf.mean(tf.mul(perExample, weights)) : tf.mean(perExample)) as tf.Scalar; // []
  });
}

/**
 * Per-example weights for {@link dsmLoss}, expressed for the ε-MSE:
 * - `"eps"`: 1 (Ho et al. 2020's simple loss);
 * - `"x0"`: 1/SNR = (1 − ᾱ_t)/ᾱ_t, which turns the ε-MSE into the plain x0-MSE ‖x0 − x̂0‖²
 *   (large at high noise: about 2.5e4 at t = 999 of the linear T = 1000 schedule);
 * - `"minSnr"`: min(SNR, γ)/SNR (Hang et al. 2023's Min-SNR-γ for ε-prediction).
 *
 * @example snrWeights([0, 500, 999], schedule, "minSnr") // [≈5e-4, 1, 1]
 * @see notebooks/01_score_matching.ipynb
 */
export function snrWeights(
  t: ArrayLike<number>,
  schedule: Schedule,
  kind: LossWeighting,
  gamma = 5,
): tf.Tensor1D {
  if (!(gamma > 0)) throw new Error(`snrWeights: gamma must be > 0, got ${gamma}`);
  const w = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const ti = t[i];
    if (!Number.isInteger(ti) || ti < 0 || ti >= schedule.T) throw new Error(`snrWeights: bad timestep ${ti}`);
    const snr = Math.exp(schedule.logSnr[ti]);
    w[i] = kind === "eps" ? 1 : kind === "x0" ? 1 / snr : Math.min(snr, gamma) / snr;
  }
  return tf.tensor1d(w, "float32"); // [B]
}

/**
 * Mean softmax cross-entropy −(1/B) Σ_b log softmax(logits_b)[y_b], for classifier training.
 * The label is picked with a one-hot mask rather than `tf.gather`, so the gradient runs on
 * wasm (no UnsortedSegmentSum kernel there, see TFJS_NOTES.md).
 *
 * @param logits [B, K]
 * @param labels [B] int32 class ids in 0…K−1
 * @example crossEntropy(clf.apply(x), tf.tensor1d([3, 1], "int32")) // scalar
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (logits.rank !== 2) throw new Error(`crossEntropy: logits must be [B, K], got [${logits.shape}]`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) throw new Error(`crossEntropy: labels must be [${logits.shape[0]}], got [${labels.shape}]`);
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, logits.shape[1])), 1))) as tf.Scalar); // []
}
