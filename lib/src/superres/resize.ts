/**
 * Resizing operators for super-resolution: area downsampling (how the low-resolution x is made
 * from the high-resolution y), and nearest and bicubic upsampling (how SR3 brings x back to the
 * output size before concatenating it to z_t, and the classical baseline).
 *
 * Papers: Keys 1981 (cubic convolution interpolation, a = −0.5); Saharia, Ho et al. 2021 (SR3:
 * train on pairs (x, y) with x a downsampling of y, condition on the bicubic upsampling of x).
 *
 * Conventions: images are [B, H, W, C] in [−1, 1]; pixel centres sit at half-integers, so output
 * pixel i of an f× upsampling reads the source at u = (i + ½)/f − ½ (the "half-pixel" convention
 * of PIL and OpenCV); borders are clamped.
 *
 * | code            | math                                                    |
 * |-----------------|---------------------------------------------------------|
 * | high, y         | the high-resolution image y                             |
 * | low, x          | D(y), its area downsampling by f                       |
 * | up              | U(x), the bicubic upsampling of x back to y's size      |
 * | bicubicMatrix   | M [f·n, n] with U(x) = M_H · x · M_Wᵀ per channel        |
 *
 * Identities (tests/lib/superres.test.ts): D(nearest(x)) = x; U(constant) = constant; the rows
 * of M sum to 1.
 *
 * @see notebooks/04_super_resolution.ipynb
 */
import * as tf from "@tensorflow/tfjs";

function checkImage(name: string, x: tf.Tensor, factor: number): void {
  if (x.rank !== 4) throw new Error(`${name}: expected images [B, H, W, C], got [${x.shape}]`);
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`${name}: factor must be a positive integer, got ${factor}`);
}

/**
 * Area (box) downsampling D: each output pixel is the mean of an f×f block.
 * @param x [B, H, W, C] with H, W divisible by f
 * @returns [B, H/f, W/f, C]
 * @example downsample(y, 2) // 16×16 → 8×8
 * @see notebooks/04_super_resolution.ipynb
 */
export function downsample(x: tf.Tensor4D, factor = 2): tf.Tensor4D {
  checkImage("downsample", x, factor);
  if (x.shape[1] % factor !== 0 || x.shape[2] % factor !== 0) throw new Error(`downsample: H and W (${x.shape[1]}×${x.shape[2]}) must be divisible by ${factor}`);
  return factor === 1 ? x.clone() : tf.avgPool(x, factor, factor, "valid");
}

/**
 * Nearest-neighbour upsampling by f (each pixel becomes an f×f block).
 * @param x [B, H, W, C]
 * @returns [B, f·H, f·W, C]
 * @see notebooks/04_super_resolution.ipynb
 */
export function upsampleNearest(x: tf.Tensor4D, factor = 2): tf.Tensor4D {
  checkImage("upsampleNearest", x, factor);
  const [B, H, W, C] = x.shape;
  return tf.tidy(() => tf.reshape(tf.tile(tf.reshape(x, [B, H, 1, W, 1, C]), [1, 1, factor, 1, factor, 1]), [B, H * factor, W * factor, C]));
}

/** Keys' cubic convolution kernel with a = −0.5. */
function cubic(d: number, a = -0.5): number {
  const x = Math.abs(d);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

/**
 * The 1-D bicubic interpolation matrix M [f·n, n]: output i reads source coordinate
 * u = (i + ½)/f − ½ with taps ⌊u⌋−1 … ⌊u⌋+2 (clamped to the border), weights Keys(u − tap).
 * @example bicubicMatrix(8, 2) // [16, 8], every row sums to 1
 * @see notebooks/04_super_resolution.ipynb
 */
export function bicubicMatrix(n: number, factor: number): Float32Array {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(factor) || factor < 1) throw new Error(`bicubicMatrix: n and factor must be positive integers, got ${n}, ${factor}`);
  const m = new Float32Array(n * factor * n);
  for (let i = 0; i < n * factor; i++) {
    const u = (i + 0.5) / factor - 0.5;
    const base = Math.floor(u);
    for (let k = -1; k <= 2; k++) {
      const j = Math.min(n - 1, Math.max(0, base + k));
      m[i * n + j] += cubic(u - (base + k));
    }
  }
  return m;
}

/**
 * Bicubic upsampling U by f, as two matrix products (rows, then columns): U(x) = M_H·x·M_Wᵀ.
 * @param x [B, H, W, C]
 * @returns [B, f·H, f·W, C]
 * @example upsampleBicubic(x, 2) // 8×8 → 16×16
 * @see notebooks/04_super_resolution.ipynb
 */
export function upsampleBicubic(x: tf.Tensor4D, factor = 2): tf.Tensor4D {
  checkImage("upsampleBicubic", x, factor);
  const [B, H, W, C] = x.shape;
  const fH = H * factor;
  const fW = W * factor;
  return tf.tidy(() => {
    const mh = tf.tensor2d(bicubicMatrix(H, factor), [fH, H]); // [fH, H]
    const mw = tf.tensor2d(bicubicMatrix(W, factor), [fW, W]); // [fW, W]
    const rows = tf.matMul(mh, tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [H, B * W * C])); // [fH, B·W·C]
    const cols = tf.reshape(tf.transpose(tf.reshape(rows, [fH, B, W, C]), [2, 1, 0, 3]), [W, B * fH * C]); // [W, B·fH·C]
    const out = tf.matMul(mw, cols); // [fW, B·fH·C]
    return tf.transpose(tf.reshape(out, [fW, B, fH, C]), [1, 2, 0, 3]) as tf.Tensor4D; // [B, fH, fW, C]
  });
}
