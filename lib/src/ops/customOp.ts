/**
 * The shared machinery of the fast-gradient ops: `customOp`, the single home of every
 * `tf.customGrad` in the course, and `sumRows`, the bias gradient that dense, conv and
 * GroupNorm ops all need.
 *
 * The rule every op in lib/src/ops/ follows: a gradient is written with fast *forward* kernels
 * only (plain matMul, plain conv2d, transposes, reshapes), never with the kernels that
 * tfjs-backend-wasm 4.22 runs slowly or lacks (transposed matMul, Conv2DBackpropFilter,
 * Conv2DBackpropInput, gather). Reverse-mode autodiff itself is Rumelhart, Hinton & Williams
 * 1986. See shared/TFJS_NOTES.md.
 *
 * Internal to lib/src/ops/: nothing here is re-exported by ops/index.ts.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/** What a custom op's forward returns: the value and a gradient using only fast kernels. */
export interface CustomOpResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/**
 * Typed wrapper around `tf.customGrad` for an op with `n` tensor inputs.
 *
 * @param n how many tensor inputs the op takes (the saver comes after them)
 * @param f the forward pass: inputs and `save` → value and gradient function
 * @returns the op, called as `op(...inputs)`
 * @see notebooks/01_score_matching.ipynb
 */
export function customOp(n: number, f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult) {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    return f(args.slice(0, n) as tf.Tensor[], args[n] as tf.GradSaveFunc);
  });
}

/**
 * Column sums of dy as a matMul (1ᵀ·dy): [B, O] → [O]; faster than sum(dy, 0) on wasm.
 *
 * @param dy [B, O]
 * @returns [O]
 * @see notebooks/01_score_matching.ipynb
 */
export function sumRows(dy: tf.Tensor2D): tf.Tensor1D {
  const ones = tf.ones([1, dy.shape[0]]) as tf.Tensor2D; // [1, B]
  return tf.reshape(tf.matMul(ones, dy), [dy.shape[1]]); // [O]
}
