/**
 * Pixel-agreement metrics for super-resolution: PSNR and SSIM against the ground truth, and a
 * sharpness score. They reward agreeing with *this* y; realism is measured separately with the
 * FID-style distance and the evaluation classifier (imageEval.ts). Regression to the mean wins
 * PSNR and loses sharpness, which is why SR3 reports both kinds.
 *
 * Papers: Wang, Bovik, Sheikh & Simoncelli 2004 (SSIM: luminance, contrast and structure over a
 * Gaussian window; C1 = (0.01·L)², C2 = (0.03·L)²); Saharia, Ho et al. 2021 (SR3 §4: PSNR/SSIM
 * penalise plausible detail that differs from the reference).
 *
 * | code        | math                                                   |
 * |-------------|--------------------------------------------------------|
 * | dataRange   | L, the pixel range (2 for images in [−1, 1])            |
 * | psnr        | mean over images of 10·log10(L² / MSE)                  |
 * | ssim        | mean over images and window positions of SSIM(x, y)     |
 * | sharpness   | mean over pixels of ‖∇x‖ (forward differences)           |
 *
 * SSIM uses a 7×7 Gaussian window with σ = 1.5 ("valid" positions only): the usual 11×11 window
 * would leave 6×6 positions on a 16×16 image.
 *
 * @see notebooks/04_super_resolution.ipynb
 */
import * as tf from "@tensorflow/tfjs";

function checkPair(name: string, x: tf.Tensor, y: tf.Tensor): void {
  if (x.rank !== 4 || x.shape.join() !== y.shape.join()) throw new Error(`${name}: expected two image batches [B, H, W, C] of one shape, got [${x.shape}] and [${y.shape}]`);
}

/**
 * Per-image PSNR in dB: 10·log10(L² / mean((x − y)²)); identical images give +∞.
 * @returns one value per image
 * @see notebooks/04_super_resolution.ipynb
 */
export function psnrPerImage(x: tf.Tensor4D, y: tf.Tensor4D, dataRange = 2): Float32Array {
  checkPair("psnr", x, y);
  const mse = tf.tidy(() => tf.mean(tf.squaredDifference(x, y), [1, 2, 3])); // [B]
  const v = mse.dataSync() as Float32Array;
  mse.dispose();
  return Float32Array.from(v, (m) => (m === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / m)));
}

/**
 * Mean PSNR in dB over the batch (+∞ if every image is identical to its reference).
 * @example psnr(ySr, yTrue) // e.g. 21.3
 * @see notebooks/04_super_resolution.ipynb
 */
export function psnr(x: tf.Tensor4D, y: tf.Tensor4D, dataRange = 2): number {
  const v = psnrPerImage(x, y, dataRange);
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/** The normalised 2-D Gaussian window [k, k, 1, 1]. */
function gaussianWindow(size: number, sigma: number): tf.Tensor4D {
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  const w = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w[i * size + j] = (g[i] * g[j]) / (s * s);
  return tf.tensor4d(w, [size, size, 1, 1]);
}

/**
 * Options of {@link ssim}.
 * @see notebooks/04_super_resolution.ipynb
 */
export interface SsimOptions {
  dataRange?: number;
  /** Gaussian window side (default 7). */
  window?: number;
  /** Gaussian window σ (default 1.5). */
  sigma?: number;
}

/**
 * Mean SSIM (Wang et al. 2004) over images, channels and window positions; 1 for identical images.
 * @example ssim(ySr, yTrue) // in (−1, 1]
 * @see notebooks/04_super_resolution.ipynb
 */
export function ssim(x: tf.Tensor4D, y: tf.Tensor4D, opts: SsimOptions = {}): number {
  checkPair("ssim", x, y);
  const L = opts.dataRange ?? 2;
  const k = opts.window ?? 7;
  if (x.shape[1] < k || x.shape[2] < k) throw new Error(`ssim: images ${x.shape[1]}×${x.shape[2]} are smaller than the ${k}×${k} window`);
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  const out = tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const w = gaussianWindow(k, opts.sigma ?? 1.5);
    const flat = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [B * C, H, W, 1]) as tf.Tensor4D; // [BC, H, W, 1]
    const blur = (t: tf.Tensor4D) => tf.conv2d(t, w, 1, "valid"); // [BC, H−k+1, W−k+1, 1]
    const a = flat(x);
    const b = flat(y);
    const mx = blur(a);
    const my = blur(b);
    const sxx = tf.sub(blur(tf.mul(a, a) as tf.Tensor4D), tf.mul(mx, mx)); // σ_x²
    const syy = tf.sub(blur(tf.mul(b, b) as tf.Tensor4D), tf.mul(my, my)); // σ_y²
    const sxy = tf.sub(blur(tf.mul(a, b) as tf.Tensor4D), tf.mul(mx, my)); // σ_xy
    const num = tf.mul(tf.add(tf.mul(tf.mul(mx, my), 2), c1), tf.add(tf.mul(sxy, 2), c2));
    const den = tf.mul(tf.add(tf.add(tf.mul(mx, mx), tf.mul(my, my)), c1), tf.add(tf.add(sxx, syy), c2));
    return tf.mean(tf.div(num, den));
  });
  const v = out.dataSync()[0];
  out.dispose();
  return v;
}

/**
 * Sharpness: the mean gradient magnitude ‖∇x‖ with forward differences (a blurred image scores
 * lower than the original; compare with the ground truth's value).
 * @example sharpness(ySr) / sharpness(yTrue) // ≈ 1 for realistic detail, < 1 for blur
 * @see notebooks/04_super_resolution.ipynb
 */
export function sharpness(x: tf.Tensor4D): number {
  if (x.rank !== 4 || x.shape[1] < 2 || x.shape[2] < 2) throw new Error(`sharpness: expected images [B, H ≥ 2, W ≥ 2, C], got [${x.shape}]`);
  const out = tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const dx = tf.sub(tf.slice(x, [0, 0, 1, 0], [B, H - 1, W - 1, C]), tf.slice(x, [0, 0, 0, 0], [B, H - 1, W - 1, C]));
    const dy = tf.sub(tf.slice(x, [0, 1, 0, 0], [B, H - 1, W - 1, C]), tf.slice(x, [0, 0, 0, 0], [B, H - 1, W - 1, C]));
    return tf.mean(tf.sqrt(tf.add(tf.square(dx), tf.square(dy))));
  });
  const v = out.dataSync()[0];
  out.dispose();
  return v;
}
