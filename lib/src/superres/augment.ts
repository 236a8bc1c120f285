/**
 * Conditioning augmentation for cascaded diffusion: corrupt the low-resolution conditioning
 * image with Gaussian noise of a chosen level, and tell the super-resolution model that level.
 *
 * Paper: Ho, Saharia, Chan, Fleet, Norouzi & Salimans 2021, "Cascaded Diffusion Models for High
 * Fidelity Image Generation", §3.2 (Gaussian conditioning augmentation). A cascade's SR stage is
 * trained on real low-resolution images but, at sampling time, conditions on the base model's
 * samples, which have their own artefacts; noising the conditioning input during training (with
 * the level as extra conditioning) makes the stage robust to that mismatch. At sampling time one
 * fixed level is chosen.
 *
 * The corruption is the forward process of a continuous cosine schedule, truncated at level a:
 *   x_a = sqrt(γ(a))·x + sqrt(1 − γ(a))·ε,  γ(a) = cos²(π·a/2),  a ∈ [0, 1]
 * so a = 0 leaves x unchanged and a = 1 is pure noise.
 *
 * | code     | math                  | shape        |
 * |----------|-----------------------|--------------|
 * | low      | x, the low-res image  | [B, h, w, C] |
 * | level    | a (per example)       | [B] or one number |
 * | eps      | ε ~ N(0, I)           | like low     |
 * | augGamma | γ(a)                  |              |
 *
 * @see notebooks/04_super_resolution.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/**
 * γ(a) = cos²(π·a/2): the signal fraction kept at augmentation level a ∈ [0, 1].
 * @example augGamma(0) // 1
 * @see notebooks/04_super_resolution.ipynb
 */
export function augGamma(level: number): number {
  if (!(level >= 0 && level <= 1)) throw new Error(`augGamma: the augmentation level must be in [0, 1], got ${level}`);
  return Math.cos((Math.PI * level) / 2) ** 2;
}

/**
 * Conditioning augmentation: x_a = sqrt(γ(a))·x + sqrt(1 − γ(a))·ε.
 * @param low low-resolution images [B, h, w, C]
 * @param level a: one number, or one level per example [B]
 * @param eps noise like `low`
 * @returns x_a [B, h, w, C]
 * @example augmentLowRes(low, 0.3, rng.randn(low.shape))
 * @see notebooks/04_super_resolution.ipynb
 */
export function augmentLowRes(low: tf.Tensor4D, level: number | tf.Tensor1D, eps: tf.Tensor4D): tf.Tensor4D {
  if (low.rank !== 4) throw new Error(`augmentLowRes: low must be [B, h, w, C], got [${low.shape}]`);
  if (eps.shape.join() !== low.shape.join()) throw new Error(`augmentLowRes: eps [${eps.shape}] must have the shape of low [${low.shape}]`);
  if (typeof level === "number") {
    const g = augGamma(level);
    return tf.tidy(() => tf.add(tf.mul(low, Math.sqrt(g)), tf.mul(eps, Math.sqrt(1 - g))) as tf.Tensor4D);
  }
  if (level.rank !== 1 || level.shape[0] !== low.shape[0]) throw new Error(`augmentLowRes: level must be [${low.shape[0]}], got [${level.shape}]`);
  return tf.tidy(() => {
    const c = tf.reshape(tf.cos(tf.mul(level, Math.PI / 2)), [-1, 1, 1, 1]); // sqrt(γ(a)) [B, 1, 1, 1]
    const s = tf.reshape(tf.sin(tf.mul(level, Math.PI / 2)), [-1, 1, 1, 1]); // sqrt(1 − γ(a)) [B, 1, 1, 1]
    return tf.add(tf.mul(low, c), tf.mul(eps, s)) as tf.Tensor4D;
  });
}
