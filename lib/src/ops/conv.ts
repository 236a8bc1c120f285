/**
 * A 2-D convolution with fast gradients (`conv2d`, NHWC, 'same' padding, stride 1 or 2), and
 * the helpers that write its backprop as forward convolutions.
 *
 * Why this file exists. wasm has no Conv2DBackpropFilter, and its Conv2DBackpropInput runs at
 * ~2.5 GFLOP/s. But a convolution's ∂x and ∂W are themselves forward convolutions (Dumoulin &
 * Visin 2016, "A guide to convolution arithmetic"; the stride-2 ∂x uses the sub-pixel / phase
 * decomposition of Shi et al. 2016), so the gradient needs only fast forward kernels — the same
 * idea as the dense layers of ./dense.ts. See shared/TFJS_NOTES.md.
 *
 * Notation (a conv with kernel k, stride s, batch B):
 * | code | math                          | shape              |
 * |------|-------------------------------|--------------------|
 * | x    | input                         | [B, H, W, ci]      |
 * | w    | filter W                      | [k, k, ci, co]     |
 * | b    | bias                          | [co]               |
 * | z    | pre-activation x ⋆ W + b      | [B, Ho, Wo, co]    |
 * | y    | output (= z)                  | [B, Ho, Wo, co]    |
 * | dy   | upstream gradient ∂L/∂y       | [B, Ho, Wo, co]    |
 * Ho = ⌈H/s⌉, Wo = ⌈W/s⌉.
 *
 * Checked against finite differences and stock autograd in tests/lib/convops.test.ts.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { customOp, sumRows } from "./customOp";
import { denseOp, matMulOp } from "./dense";

// ---------------------------------------------------------------------------------------------
// Gradients as forward convolutions
// ---------------------------------------------------------------------------------------------

/**
 * One spatial axis of a 'same' convolution (TensorFlow's rule: out = ⌈size/s⌉, total padding
 * max((out−1)·s + k − size, 0), the odd pixel at the end) and the plans of its two gradients.
 *
 * dx by phases (sub-pixel / polyphase transposed convolution): input row i = s·p + r gets
 * dy[oh]·w[kh] for kh = s·(p − oh) + r + before. For each phase r the taps form a short
 * correlation over dy, so ONE stride-1 conv of dy with a [taps, taps, co, s²·ci] filter gives all
 * s² phases as channels; a reshape/transpose interleaves them. Stride 2 costs 16/9 of the
 * forward FLOPs (zero-upsampling dy would cost 4×).
 */
interface AxisPlan {
  size: number;
  out: number;
  before: number;
  /** 'same' padding after the input (may be < 0 for 1×1 stride 2: the last row is never read). */
  after: number;
  /** dx: taps of the phase filter, dy padding before/after (after < 0: crop dy), phase rows. */
  taps: number;
  dyBefore: number;
  dyAfter: number;
  rows: number;
  /** tap[r][a] = kernel index used by phase r at tap a, or −1 (a zero in the phase filter). */
  tap: number[][];
}

function axisPlan(size: number, k: number, s: number): AxisPlan {
  const out = Math.ceil(size / s);
  const raw = (out - 1) * s + k - size;
  const before = Math.floor(Math.max(raw, 0) / 2);
  let dMin = Infinity;
  let dMax = -Infinity;
  for (let r = 0; r < s; r++) {
    for (let kh = 0; kh < k; kh++) {
      const q = kh - r - before;
      if (((q % s) + s) % s !== 0) continue;
      dMin = Math.min(dMin, q / s);
      dMax = Math.max(dMax, q / s);
    }
  }
  const taps = dMax - dMin + 1;
  const tap: number[][] = [];
  for (let r = 0; r < s; r++) {
    const row: number[] = [];
    for (let a = 0; a < taps; a++) {
      const kh = s * (dMax - a) + r + before; // d = dMax − a
      row.push(kh >= 0 && kh < k ? kh : -1);
    }
    tap.push(row);
  }
  const rows = Math.ceil(size / s);
  return { size, out, before, after: raw - before, taps, dyBefore: dMax, dyAfter: rows + taps - 1 - out - dMax, rows, tap };
}

/**
 * The phase filter [tapsH, tapsW, co, s²·ci] built from w [k, k, ci, co] as Sel·W with a 0/1
 * selection matrix (wasm's gather and reverse are ~50× slower than this tiny matMul).
 */
function phaseFilter(w: tf.Tensor4D, ph: AxisPlan, pw: AxisPlan, s: number): tf.Tensor4D {
  const [k, , ci, co] = w.shape;
  const taps = ph.taps * pw.taps;
  const sel = new Float32Array(taps * s * s * k * k);
  let row = 0;
  for (let ah = 0; ah < ph.taps; ah++) {
    for (let aw = 0; aw < pw.taps; aw++) {
      for (let rh = 0; rh < s; rh++) {
        for (let rw = 0; rw < s; rw++, row++) {
          const kh = ph.tap[rh][ah];
          const kw = pw.tap[rw][aw];
          if (kh >= 0 && kw >= 0) sel[row * k * k + kh * k + kw] = 1;
        }
      }
    }
  }
  const wT = tf.reshape(tf.transpose(w, [0, 1, 3, 2]), [k * k, co * ci]); // [k², co·ci]
  const g = tf.matMul(tf.tensor2d(sel, [taps * s * s, k * k]), wT); // [taps·s², co·ci]
  const f = s === 1 ? g : tf.transpose(tf.reshape(g, [taps, s * s, co, ci]), [0, 2, 1, 3]); // [taps, co, s², ci]
  return tf.reshape(f, [ph.taps, pw.taps, co, s * s * ci]);
}

/** Crop (negative amount) or keep an axis of a 4-D tensor so that explicit padding is ≥ 0. */
function cropEnd(x: tf.Tensor4D, axis: 1 | 2, amount: number): tf.Tensor4D {
  if (amount >= 0) return x;
  const size = x.shape.slice() as [number, number, number, number];
  size[axis] += amount;
  return tf.slice(x, [0, 0, 0, 0], size);
}

/** ∂L/∂x of a 'same' conv: one stride-1 conv of dy with the phase filter, then interleave. */
function convBackpropInput(dy: tf.Tensor4D, w: tf.Tensor4D, ph: AxisPlan, pw: AxisPlan, s: number): tf.Tensor4D {
  const B = dy.shape[0];
  const ci = w.shape[2];
  const f = phaseFilter(w, ph, pw, s); // [tapsH, tapsW, co, s²·ci]
  const dyc = cropEnd(cropEnd(dy, 1, ph.dyAfter), 2, pw.dyAfter); // [B, ≤Ho, ≤Wo, co]
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [ph.dyBefore, Math.max(ph.dyAfter, 0)], [pw.dyBefore, Math.max(pw.dyAfter, 0)], [0, 0]];
  const y = tf.conv2d(dyc, f, 1, pad); // [B, rowsH, rowsW, s²·ci]
  if (s === 1) return y; // rows = size
  const inter: tf.Tensor4D = tf.reshape(tf.transpose(tf.reshape(y, [B * ph.rows, pw.rows, s, s * ci]), [0, 2, 1, 3]), [B, s * ph.rows, s * pw.rows, ci]); // [B, s·rowsH, s·rowsW, ci]
  return cropEnd(cropEnd(inter, 1, ph.size - s * ph.rows), 2, pw.size - s * pw.rows); // [B, H, W, ci]
}

/**
 * ∂L/∂W of a 'same' conv as ONE forward conv with batch and channels swapped:
 * dW[kh, kw, c, o] = Σ_{b,h,w} xpad[b, s·h + kh, s·w + kw, c]·dy[b, h, w, o], i.e. the conv of
 * xᵀ [ci, H, W, B] with the filter dyᵀ [Ho, Wo, B, co] at dilation s.
 */
function convBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, ph: AxisPlan, pw: AxisPlan, s: number): tf.Tensor4D {
  const [B, H, W, ci] = x.shape;
  // [B, HW, ci] → [HW, B, ci] → [ci, HW, B]: two cheap transposes beat one [3, 1, 2, 0] on wasm.
  const xhw = tf.transpose(tf.reshape(x, [B, H * W, ci]), [1, 0, 2]); // [HW, B, ci]
  const xT = tf.reshape(tf.transpose(xhw, [2, 0, 1]), [ci, H, W, B]) as tf.Tensor4D; // [ci, H, W, B]
  const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, B, co]
  const xc = cropEnd(cropEnd(xT, 1, ph.after), 2, pw.after);
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [ph.before, Math.max(ph.after, 0)], [pw.before, Math.max(pw.after, 0)], [0, 0]];
  const g = tf.conv2d(xc, dyT, 1, pad, "NHWC", s); // [ci, k, k, co]
  return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D; // [k, k, ci, co]
}

/** Σ over b, h, w of dy [B, H, W, C] as a matMul: → [C]. */
function sumPixels(dy: tf.Tensor4D): tf.Tensor1D {
  const C = dy.shape[3];
  return sumRows(tf.reshape(dy, [-1, C]) as tf.Tensor2D);
}

// ---------------------------------------------------------------------------------------------
// The op
// ---------------------------------------------------------------------------------------------

/**
 * Options of {@link conv2d}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface Conv2dOptions {
  /** Stride s (default 1); s = 2 halves H and W (rounding up). */
  stride?: 1 | 2;
  /** Only TensorFlow's 'same' padding is supported: out = ⌈in/s⌉. */
  pad?: "same";
}

/**
 * A 2-D convolution y = x ⋆ W + b (NHWC, 'same' padding, stride 1 or 2) whose gradients use
 * only fast forward kernels: ∂x is one stride-1 conv of dy with a flipped, in/out-swapped phase
 * filter; ∂W is one conv with batch and channels swapped (dilation = stride); ∂b is a matMul.
 * 1×1 stride-1 convs run as dense layers. Use it for everything that is trained on wasm
 * (stock tfjs has no Conv2DBackpropFilter there, and its Conv2DBackpropInput is slow).
 *
 * @param x input [B, H, W, ci]
 * @param w filter [k, k, ci, co] (k odd)
 * @param b optional bias [co]
 * @returns y [B, ⌈H/s⌉, ⌈W/s⌉, co]
 * @example conv2d(x, w, b, { stride: 2 }) // [B, 16, 16, 32] → [B, 8, 8, co]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b?: tf.Tensor1D, opts: Conv2dOptions = {}): tf.Tensor4D {
  const s = opts.stride ?? 1;
  if (x.rank !== 4 || w.rank !== 4) throw new Error(`conv2d: expected x [B, H, W, ci] and w [k, k, ci, co], got [${x.shape}] and [${w.shape}]`);
  const [B, H, W, ci] = x.shape;
  const [k, k2, wci, co] = w.shape;
  if (k !== k2 || k % 2 !== 1) throw new Error(`conv2d: the filter must be square with an odd size, got [${w.shape}]`);
  if (wci !== ci) throw new Error(`conv2d: x has ${ci} channels but w expects ${wci}`);
  if (b !== undefined && (b.rank !== 1 || b.shape[0] !== co)) throw new Error(`conv2d: bias must be [${co}], got [${b.shape}]`);
  if (s !== 1 && s !== 2) throw new Error(`conv2d: stride must be 1 or 2, got ${s}`);
  if ((opts.pad ?? "same") !== "same") throw new Error(`conv2d: only 'same' padding is supported`);
  if (k === 1 && s === 1) {
    return tf.tidy(() => {
      const x2 = tf.reshape(x, [B * H * W, ci]) as tf.Tensor2D; // [BHW, ci]
      const w2 = tf.reshape(w, [ci, co]) as tf.Tensor2D; // [ci, co]
      const y2 = b !== undefined ? (denseOp(x2, w2, b) as tf.Tensor2D) : (matMulOp(x2, w2) as tf.Tensor2D); // [BHW, co]
      return tf.reshape(y2, [B, H, W, co]) as tf.Tensor4D;
    });
  }
  const ph = axisPlan(H, k, s);
  const pw = axisPlan(W, k, s);
  const grads = (dy: tf.Tensor4D, sx: tf.Tensor4D, sw: tf.Tensor4D): tf.Tensor[] => [
    convBackpropInput(dy, sw, ph, pw, s), // [B, H, W, ci]
    convBackpropFilter(sx, dy, ph, pw, s), // [k, k, ci, co]
  ];
  if (b === undefined) {
    const op = customOp(2, ([xx, ww], save) => {
      save([xx, ww]);
      const value = tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, "same"); // [B, Ho, Wo, co]
      return { value, gradFunc: (dy, [sx, sw]) => grads(dy as tf.Tensor4D, sx as tf.Tensor4D, sw as tf.Tensor4D) };
    });
    return op(x, w) as tf.Tensor4D;
  }
  const op = customOp(3, ([xx, ww, bb], save) => {
    save([xx, ww]);
    const value = tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: s, pad: "same", bias: bb }); // [B, Ho, Wo, co]
    return { value, gradFunc: (dy, [sx, sw]) => [...grads(dy as tf.Tensor4D, sx as tf.Tensor4D, sw as tf.Tensor4D), sumPixels(dy as tf.Tensor4D)] };
  });
  return op(x, w, b) as tf.Tensor4D;
}
