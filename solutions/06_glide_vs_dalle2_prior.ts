/**
 * Reference solutions for notebooks/06_glide_vs_dalle2_prior.ipynb. HIDDEN FROM STUDENTS.
 *
 * Used by the instructor build and CI (the runner substitutes each region below for the stub in
 * the exercise cell with the same id) and by the grader (student vs reference on fresh inputs).
 * Each region is one complete exercise cell: keep the signature and TSDoc identical to the stub.
 *
 * The imports mirror the notebook's import cell.
 */
import * as tf from "@tensorflow/tfjs";

// #region exercise: clipGuidanceGrad
/**
 * The CLIP-guidance gradient (GLIDE §2.5) for a linear image encoder: with
 * C_I(z) = normalise(z·W) (rows scaled to unit length) and unit text embeddings c_b, return
 *   ∇_z Σ_b ⟨C_I(z)_b, c_b⟩,
 * the direction in which each noisy image z_b becomes more like its caption (the seed's
 * ln P(z | x) ≈ C_T(x)ᵀ C_I(z)). Row b of the result depends only on row b of z.
 *
 * @param z flattened noisy images z_t, shape [B, D]
 * @param w the encoder's weights W, shape [D, E]
 * @param textEmb unit caption embeddings c_b, shape [B, E]
 * @returns the gradient, shape [B, D]
 */
export function clipGuidanceGrad(z: tf.Tensor2D, w: tf.Tensor2D, textEmb: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const f = (x: tf.Tensor) => {
      const u = tf.matMul(x as tf.Tensor2D, w); // [B, E]
      const unit = tf.div(u, tf.norm(u, "euclidean", 1, true)); // [B, E]
      return tf.sum(tf.mul(unit, textEmb));
    };
    return tf.grad(f)(z) as tf.Tensor2D;
  });
}
// #endregion

// #region exercise: priorNoisedInput
/**
 * The input of one unCLIP-prior training step (Ramesh et al. 2022, ε-parameterised here): the
 * image embedding z_0 noised to its own timestep, row by row,
 *   z_t = sqrt(ᾱ_t) · z_0 + sqrt(1 − ᾱ_t) · ε,
 * from which the prior predicts ε (loss ‖ε − ε̂(z_t, t, C_T(x))‖²).
 *
 * @param z0 scaled CLIP image embeddings √E·C_I(y), shape [B, E]
 * @param eps Gaussian noise ε, shape [B, E]
 * @param alphaBar ᾱ_t of each row's timestep, shape [B]
 * @returns z_t, shape [B, E]
 */
export function priorNoisedInput(z0: tf.Tensor2D, eps: tf.Tensor2D, alphaBar: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.reshape(alphaBar, [-1, 1]); // [B, 1]
    return tf.add(tf.mul(tf.sqrt(a), z0), tf.mul(tf.sqrt(tf.sub(1, a)), eps)) as tf.Tensor2D;
  });
}
// #endregion
