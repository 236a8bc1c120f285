/**
 * Fast-gradient tensor ops: the single home of every `tf.customGrad` in the course.
 *
 * Why this module exists. Reverse-mode autodiff (Rumelhart, Hinton & Williams 1986) of a dense
 * layer y = x·W + b needs dx = dy·Wᵀ and dW = xᵀ·dy. Stock tfjs computes those with
 * `matMul(…, transposeA/transposeB)`, which on tfjs-backend-wasm 4.22 runs in a naive loop
 * (~2 GFLOP/s, 10–15× slower than a plain matMul). Here every gradient is written with fast
 * *forward* kernels only: an explicit transpose (cheap, memory-bound) followed by a plain
 * `matMul`. A whole MLP training step gets ~6× faster. See shared/TFJS_NOTES.md.
 *
 * The same idea for images (wasm has no Conv2DBackpropFilter, and its Conv2DBackpropInput runs
 * at ~2.5 GFLOP/s): a convolution's ∂x and ∂W are themselves forward convolutions (Dumoulin &
 * Visin 2016, "A guide to convolution arithmetic"; the stride-2 ∂x uses the sub-pixel / phase
 * decomposition of Shi et al. 2016). GroupNorm + SiLU (Wu & He 2018) is one fused op.
 *
 * Notation (one dense layer, batch B, fan-in I, fan-out O; a conv with kernel k, stride s):
 * | code | math                                     | shape                      |
 * |------|------------------------------------------|----------------------------|
 * | x    | input                                    | [B, I] or [B, H, W, ci]    |
 * | w    | weight W                                 | [I, O] or [k, k, ci, co]   |
 * | b    | bias                                     | [O] or [co]                |
 * | z    | pre-activation x·W + b (x ⋆ W + b)       | [B, O] or [B, Ho, Wo, co]  |
 * | y    | output (z, or SiLU(z))                   | like z                     |
 * | dy   | upstream gradient ∂L/∂y                  | like y                     |
 * SiLU(z) = z·σ(z) (Hendrycks & Gimpel 2016; Elfwing et al. 2018), SiLU'(z) = σ(z)·(1 + z·(1 − σ(z))).
 *
 * Every op here has a finite-difference and a stock-autograd check in tests/lib/ops.test.ts
 * (dense) or tests/lib/convops.test.ts (images); add one for any new op.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";

// ---------------------------------------------------------------------------------------------
// Shared gradient helpers (forward kernels only)
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

/** Column sums of dy as a matMul (1ᵀ·dy): [B, O] → [O]; faster than sum(dy, 0) on wasm. */
function sumRows(dy: tf.Tensor2D): tf.Tensor1D {
  const ones = tf.ones([1, dy.shape[0]]) as tf.Tensor2D; // [1, B]
  return tf.reshape(tf.matMul(ones, dy), [dy.shape[1]]); // [O]
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

/** What a custom op's forward returns: the value and a gradient using only fast kernels. */
interface CustomOpResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/** Typed wrapper around `tf.customGrad` for an op with `n` tensor inputs. */
function customOp(n: number, f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult) {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    return f(args.slice(0, n) as tf.Tensor[], args[n] as tf.GradSaveFunc);
  });
}

// ---------------------------------------------------------------------------------------------
// Dense layers
// ---------------------------------------------------------------------------------------------

const denseOp = customOp(3, ([x, w, b], save) => {
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

const matMulOp = customOp(2, ([a, b], save) => {
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

// ---------------------------------------------------------------------------------------------
// Convolutions (NHWC, 'same' padding), gradients as forward convolutions
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

// ---------------------------------------------------------------------------------------------
// Resampling and normalisation
// ---------------------------------------------------------------------------------------------

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

/** Σ over h, w of x [B, H, W, C] → [B, C], as a global average pool (XNNPACK; a sum over axis 1 transposes first). */
function sumHW(x: tf.Tensor4D): tf.Tensor2D {
  const [B, H, W, C] = x.shape;
  return tf.reshape(tf.mul(tf.avgPool(x, [H, W], 1, "valid"), H * W), [B, C]);
}

/** The 0/1 matrix E [G, C] with E[g, c] = 1 iff channel c is in group g (groups of C/G). */
function groupExpander(G: number, C: number): tf.Tensor2D {
  const e = new Float32Array(G * C);
  for (let c = 0; c < C; c++) e[Math.floor(c / (C / G)) * C + c] = 1;
  return tf.tensor2d(e, [G, C]);
}

/**
 * GroupNorm then SiLU, fused with a hand-written gradient (one tape node instead of ~15):
 * z = γ·(x − μ_bg)/sqrt(σ²_bg + ε) + β, y = z·σ(z). Group statistics use small matMuls with E.
 * ∂x = r·(γ∂z − mean_g(γ∂z) − x̂·mean_g(γ∂z·x̂)), r = 1/sqrt(σ² + ε) (Wu & He 2018).
 */
function groupNormSiluOp(groups: number, eps: number) {
  return customOp(3, ([x, gamma, beta], save) => {
    const [B, H, W, C] = x.shape;
    const n = H * W * (C / groups);
    const E = groupExpander(groups, C); // [G, C]
    const perGroup = (v: tf.Tensor2D) => tf.reshape(tf.matMul(tf.div(tf.matMul(v, tf.transpose(E)), n), E), [B, 1, 1, C]); // [B, C] → group mean, [B, 1, 1, C]
    const xc = tf.sub(x, perGroup(sumHW(x as tf.Tensor4D))); // [B, H, W, C] x − μ
    const rstd = tf.rsqrt(tf.add(perGroup(sumHW(tf.square(xc) as tf.Tensor4D)), eps)); // [B, 1, 1, C]
    const xhat = tf.mul(xc, rstd); // [B, H, W, C]
    const z = tf.add(tf.mul(xhat, gamma), beta); // [B, H, W, C]
    const s = tf.sigmoid(z); // [B, H, W, C]
    const y = tf.mul(z, s); // [B, H, W, C]
    save([xhat, s, y, rstd, gamma]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sXhat, sS, sY, sRstd, sGamma] = saved;
      const E2 = groupExpander(groups, C); // [G, C]
      const groupMean = (v: tf.Tensor) => tf.reshape(tf.matMul(tf.div(tf.matMul(v as tf.Tensor2D, tf.transpose(E2)), n), E2), [B, 1, 1, C]); // [B, 1, 1, C]
      const dAct = tf.add(sS, tf.sub(sY, tf.mul(sY, sS))); // SiLU'(z) = σ + y·(1 − σ), [B, H, W, C]
      const dz = tf.mul(dy, dAct) as tf.Tensor4D; // [B, H, W, C]
      const s1 = sumHW(dz); // [B, C] Σ_hw ∂z
      const s2 = sumHW(tf.mul(dz, sXhat) as tf.Tensor4D); // [B, C] Σ_hw ∂z·x̂
      const m1 = groupMean(tf.mul(s1, sGamma)); // [B, 1, 1, C] mean_g(γ∂z)
      const m2 = groupMean(tf.mul(s2, sGamma)); // [B, 1, 1, C] mean_g(γ∂z·x̂)
      const dx = tf.sub(tf.mul(dz, tf.mul(sRstd, sGamma)), tf.add(tf.mul(sXhat, tf.mul(sRstd, m2)), tf.mul(sRstd, m1))); // [B, H, W, C]
      return [dx, sumRows(s2), sumRows(s1)];
    };
    return { value: y, gradFunc };
  });
}

/**
 * GroupNorm (Wu & He 2018) followed by SiLU, y = SiLU(γ·x̂ + β) with x̂ normalised over each
 * (example, group of C/G channels), as in the U-Net blocks of Dhariwal & Nichol 2021. One fused
 * op with a hand-written gradient.
 *
 * @param x [B, H, W, C]
 * @param gamma scale γ [C]
 * @param beta shift β [C]
 * @param groups G, a divisor of C
 * @returns [B, H, W, C]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function groupNormSilu(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  const C = x.shape[3];
  if (x.rank !== 4) throw new Error(`groupNormSilu: expected x [B, H, W, C], got [${x.shape}]`);
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) throw new Error(`groupNormSilu: groups (${groups}) must divide the ${C} channels`);
  if (gamma.shape[0] !== C || beta.shape[0] !== C) throw new Error(`groupNormSilu: gamma and beta must be [${C}]`);
  return groupNormSiluOp(groups, eps)(x, gamma, beta) as tf.Tensor4D;
}
