/**
 * Nearest-neighbour upsampling by 2 with a gradient that is correct on every backend
 * (`upsampleNearest2x`), the upsampling step of the U-Net decoder (Ronneberger, Fischer & Brox
 * 2015; Dhariwal & Nichol 2021).
 *
 * Why this file exists. tfjs-backend-cpu's ResizeNearestNeighborGrad is wrong for B > 1, so the
 * forward is written as two concats (each pixel becomes a 2×2 block) and the gradient by hand:
 * ∂x = the sum of dy over each 2×2 block (= 4·avgPool, a fast forward kernel).
 *
 * Checked against finite differences, the closed form (2×2 block sums) and the wasm kernel in
 * tests/lib/convops.test.ts.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./customOp";

const upsampleOp = customOp(1, ([x]) => {
  const [B, H, W, C] = x.shape;
  const cols = tf.reshape(x, [B * H, W, 1, C]); // [BH, W, 1, C]
  const wide = tf.reshape(tf.concat([cols, cols], 2), [B * H, 1, 2 * W * C]); // [BH, 1, 2WC]
  const value = tf.reshape(tf.concat([wide, wide], 1), [B, 2 * H, 2 * W, C]); // [B, 2H, 2W, C]
  // ∂x = the sum over each 2×2 block of dy (= 4·avgPool; cpu's ResizeNearestNeighborGrad is wrong for B > 1).
  return { value, gradFunc: (dy) => [tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, "valid"), 4)] };
});

/**
 * Nearest-neighbour upsampling by 2 (each pixel becomes a 2×2 block), with a gradient that is
 * correct on every backend: ∂x = the sum of dy over each 2×2 block.
 *
 * @param x [B, H, W, C]
 * @returns [B, 2H, 2W, C]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`upsampleNearest2x: expected [B, H, W, C], got [${x.shape}]`);
  return upsampleOp(x) as tf.Tensor4D;
}
