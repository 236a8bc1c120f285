/**
 * Dense layers and matrix products with fast gradients: `dense`, `denseSilu`, `fastMatMul`.
 *
 * Why this file exists. Reverse-mode autodiff (Rumelhart, Hinton & Williams 1986) of a dense
 * layer y = x·W + b needs dx = dy·Wᵀ and dW = xᵀ·dy. Stock tfjs computes those with
 * `matMul(…, transposeA/transposeB)`, which on tfjs-backend-wasm 4.22 runs in a naive loop
 * (~2 GFLOP/s, 10–15× slower than a plain matMul). Here every gradient is written with fast
 * *forward* kernels only: an explicit transpose (cheap, memory-bound) followed by a plain
 * `matMul`. A whole MLP training step gets ~6× faster. See shared/TFJS_NOTES.md.
 *
 * Notation (one dense layer, batch B, fan-in I, fan-out O):
 * | code | math                          | shape  |
 * |------|-------------------------------|--------|
 * | x    | input                         | [B, I] |
 * | w    | weight W                      | [I, O] |
 * | b    | bias                          | [O]    |
 * | z    | pre-activation x·W + b        | [B, O] |
 * | y    | output (z, or SiLU(z))        | [B, O] |
 * | dy   | upstream gradient ∂L/∂y       | [B, O] |
 * SiLU(z) = z·σ(z) (Hendrycks & Gimpel 2016; Elfwing et al. 2018), SiLU'(z) = σ(z)·(1 + z·(1 − σ(z))).
 *
 * Checked against finite differences and stock autograd in tests/lib/ops.test.ts.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { customOp, sumRows } from "./customOp";

// ---------------------------------------------------------------------------------------------
// Gradient helpers (forward kernels only)
// ---------------------------------------------------------------------------------------------

/**
 * aᵀ for a 2-D tensor. The wasm kernel is slow on tall matrices (a [32768, 96] transpose takes
 * ~48 ms); the same permutation written as a rank-3 transpose of [M, N/2, 2] takes ~2 ms.
 */
function transpose2d(a: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = a.shape;
  if (m < 128 || m * n < 1 << 14) return tf.transpose(a); // [N, M]
  if (n % 2 === 0) return tf.reshape(tf.transpose(tf.reshape(a, [m, n / 2, 2]), [1, 2, 0]), [n, m]); // [N, M]
  const f = [16, 8, 4, 2].find((d) => m % d === 0);
  if (f === undefined) return tf.transpose(a); // [N, M]
  return tf.reshape(tf.transpose(tf.reshape(a, [m / f, f, n]), [2, 0, 1]), [n, m]); // [N, M]
}

/** a·bᵀ with a plain matMul: [M, K] × [N, K] → [M, N]. */
function matMulBT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, transpose2d(b)); // [M, N]
}

/** aᵀ·b with a plain matMul: [K, M] × [K, N] → [M, N]. */
function matMulAT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(transpose2d(a), b); // [M, N]
}

/** The three gradients of z = x·W + b, given dz. */
function denseGrads(dz: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D] {
  const dx = matMulBT(dz, w); // [B, I] = dz·Wᵀ
  const dw = matMulAT(x, dz); // [I, O] = xᵀ·dz
  const db = sumRows(dz); // [O]
  return [dx, dw, db];
}

function checkDense(op: string, x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): void {
  if (x.rank !== 2 || w.rank !== 2 || b.rank !== 1) {
    throw new Error(`${op}: expected x [B, I], w [I, O], b [O]; got ranks ${x.rank}, ${w.rank}, ${b.rank}`);
  }
  if (x.shape[1] !== w.shape[0] || w.shape[1] !== b.shape[0]) {
    throw new Error(`${op}: shape mismatch x [${x.shape}] · w [${w.shape}] + b [${b.shape}]`);
  }
}

// ---------------------------------------------------------------------------------------------
// Dense layers
// ---------------------------------------------------------------------------------------------

/**
 * The unchecked custom op behind {@link dense}: (x [B, I], w [I, O], b [O]) → [B, O].
 * Internal to lib/src/ops/ (conv.ts runs 1×1 convs with it); not re-exported.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export const denseOp = customOp(3, ([x, w, b], save) => {
  const x2 = x as tf.Tensor2D;
  const w2 = w as tf.Tensor2D;
  save([x2, w2]);
  const value = tf.fused.matMul({ a: x2, b: w2, bias: b }); // [B, O]
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, sw] = saved as tf.Tensor2D[];
    return denseGrads(dy as tf.Tensor2D, sx, sw);
  };
  return { value, gradFunc };
});

/**
 * A dense (fully connected) layer y = x·W + b whose gradients use only fast forward kernels.
 * Use it instead of `tf.matMul(x, w).add(b)` in anything that is trained.
 *
 * @param x input [B, I]
 * @param w weight [I, O]
 * @param b bias [O]
 * @returns y [B, O]
 * @see notebooks/01_score_matching.ipynb
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  checkDense("dense", x, w, b);
  return denseOp(x, w, b) as tf.Tensor2D;
}

const denseSiluOp = customOp(3, ([x, w, b], save) => {
  const x2 = x as tf.Tensor2D;
  const w2 = w as tf.Tensor2D;
  const z = tf.fused.matMul({ a: x2, b: w2, bias: b }); // [B, O]
  const s = tf.sigmoid(z); // [B, O] σ(z)
  save([x2, w2, z, s]);
  const value = tf.mul(z, s); // [B, O] SiLU(z)
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, sw, sz, ss] = saved as tf.Tensor2D[];
    // SiLU'(z) = σ + z·σ·(1 − σ) = σ·(1 + z − z·σ) = σ + y·(1 − σ)
    const ySaved = tf.mul(sz, ss); // [B, O]
    const dAct = tf.add(ss, tf.mul(ySaved, tf.sub(1, ss))); // [B, O]
    const dz = tf.mul(dy, dAct) as tf.Tensor2D; // [B, O]
    return denseGrads(dz, sx, sw);
  };
  return { value, gradFunc };
});

/**
 * A dense layer followed by SiLU, y = SiLU(x·W + b), with a fused hand-written gradient
 * (one op on the tape instead of four).
 *
 * @param x input [B, I]
 * @param w weight [I, O]
 * @param b bias [O]
 * @returns y [B, O]
 * @see notebooks/01_score_matching.ipynb
 */
export function denseSilu(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  checkDense("denseSilu", x, w, b);
  return denseSiluOp(x, w, b) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// Plain products
// ---------------------------------------------------------------------------------------------

/**
 * The unchecked custom op behind {@link fastMatMul}: (a [M, K], b [K, N]) → [M, N].
 * Internal to lib/src/ops/ (conv.ts runs bias-free 1×1 convs with it); not re-exported.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export const matMulOp = customOp(2, ([a, b], save) => {
  const a2 = a as tf.Tensor2D;
  const b2 = b as tf.Tensor2D;
  save([a2, b2]);
  const value = tf.matMul(a2, b2); // [M, N]
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sa, sb] = saved as tf.Tensor2D[];
    return [matMulBT(dy as tf.Tensor2D, sb), matMulAT(sa, dy as tf.Tensor2D)];
  };
  return { value, gradFunc };
});

/**
 * Matrix product a·b ([M, K] × [K, N] → [M, N]) with fast gradients; e.g. an embedding
 * lookup written as oneHot(id)·table (tf.gather has no gradient on wasm).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function fastMatMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new Error(`fastMatMul: expected [M, K] · [K, N], got [${a.shape}] · [${b.shape}]`);
  }
  return matMulOp(a, b) as tf.Tensor2D;
}
