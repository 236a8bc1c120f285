/**
 * Reference solutions for notebooks/04_super_resolution.ipynb. HIDDEN FROM STUDENTS.
 *
 * Used by the instructor build and CI (the runner substitutes each region below for the stub in
 * the exercise cell with the same id) and by the grader (student vs reference on fresh inputs).
 * Each region is one complete exercise cell: keep the signature and TSDoc identical to the stub.
 *
 * The imports mirror the notebook's import cell.
 */
import * as tf from "@tensorflow/tfjs";
import { upsampleBicubic } from "@course/lib";

// #region exercise: areaDownsample
/**
 * The degradation D of SR3's training pairs: area (box) downsampling, each low-resolution pixel
 * the mean of an f×f block of the high-resolution image.
 *
 * @param y high-resolution images, shape [B, H, W, C] (H and W divisible by f)
 * @param factor the downsampling factor f (a positive integer)
 * @returns x = D(y), shape [B, H/f, W/f, C]
 */
export function areaDownsample(y: tf.Tensor4D, factor: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = y.shape;
    const blocks = tf.reshape(y, [B, H / factor, factor, W / factor, factor, C]);
    return tf.mean(blocks, [2, 4]) as tf.Tensor4D;
  });
}
// #endregion

// #region exercise: srInput
/**
 * SR3's network input: the noisy high-resolution image z_t with the bicubic upsampling U(x) of the
 * low-resolution image concatenated as extra channels, in that order: [z_t, U(x)].
 *
 * @param zt noisy high-resolution images z_t, shape [B, S, S, C]
 * @param low low-resolution images x, shape [B, S/f, S/f, C]
 * @returns the network input, shape [B, S, S, 2C]
 */
export function srInput(zt: tf.Tensor4D, low: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.concat([zt, upsampleBicubic(low, zt.shape[1] / low.shape[1])], 3) as tf.Tensor4D);
}
// #endregion

// #region exercise: augmentConditioning
/**
 * Gaussian conditioning augmentation (Ho et al. 2021, Cascaded Diffusion Models):
 *   x_a = sqrt(γ(a)) · x + sqrt(1 − γ(a)) · ε,  γ(a) = cos²(π·a/2),
 * so a = 0 keeps x and a = 1 is pure noise.
 *
 * @param low low-resolution images x, shape [B, h, w, C]
 * @param level the augmentation level a in [0, 1]
 * @param eps Gaussian noise ε, the shape of low
 * @returns x_a, the shape of low
 */
export function augmentConditioning(low: tf.Tensor4D, level: number, eps: tf.Tensor4D): tf.Tensor4D {
  const gamma = Math.cos((Math.PI * level) / 2) ** 2;
  return tf.tidy(() => tf.add(tf.mul(low, Math.sqrt(gamma)), tf.mul(eps, Math.sqrt(1 - gamma))) as tf.Tensor4D);
}
// #endregion

// #region exercise: psnrDb
/**
 * Peak signal-to-noise ratio in dB for images in [−1, 1] (peak-to-peak range L = 2), averaged
 * over the batch: the mean over images i of 10·log10(L² / MSE_i), with MSE_i the mean squared
 * pixel difference of image i. An image identical to its reference has PSNR +∞.
 *
 * @param x images, shape [B, H, W, C]
 * @param y reference images, the shape of x
 * @returns the mean PSNR in dB (a number; Infinity if any image matches its reference exactly)
 */
export function psnrDb(x: tf.Tensor4D, y: tf.Tensor4D): number {
  const mse = tf.tidy(() => tf.mean(tf.squaredDifference(x, y), [1, 2, 3]));
  const m = Array.from(mse.dataSync());
  mse.dispose();
  return m.reduce((sum, v) => sum + 10 * Math.log10(4 / v), 0) / m.length;
}
// #endregion

