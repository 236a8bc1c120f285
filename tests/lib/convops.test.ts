/**
 * The image ops of lib/src/ops/: conv2d (custom ∂x, ∂W, ∂b as forward convolutions),
 * upsampleNearest2x, groupNormSilu, and the fast 2-D transpose inside the dense gradients.
 * Every custom gradient is checked (1) against central finite differences and (2) against
 * stock tfjs autograd on the cpu backend — except upsampling, whose cpu reference kernel
 * (ResizeNearestNeighborGrad) is wrong for batch > 1; it is checked against the closed form
 * (2×2 block sums) and against the wasm kernel instead.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { conv2d, dense, groupNormSilu, upsampleNearest2x } from "../../lib/src/ops";
import { GradCase, expectClose, gradsOf, lossOf, makeData, onBackend, size, tensorsLeakedByGrad } from "./gradcheck";

type Case = GradCase;

function stockGroupNormSilu(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, G: number): tf.Tensor {
  const [B, H, W, C] = x.shape;
  const xr = tf.reshape(x, [B, H, W, G, C / G]);
  const { mean, variance } = tf.moments(xr, [1, 2, 4], true);
  const z = tf.add(tf.mul(tf.reshape(tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, 1e-5))), [B, H, W, C]), g), b);
  return tf.mul(z, tf.sigmoid(z));
}

const convCase = (B: number, H: number, W: number, ci: number, co: number, k: number, s: 1 | 2, bias = true): Case => ({
  name: `conv2d ${k}×${k} stride ${s} on ${H}×${W}, ${ci}→${co}${bias ? "" : ", no bias"}`,
  op: bias
    ? (x, w, b) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, { stride: s })
    : (x, w) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, undefined, { stride: s }),
  stock: bias
    ? (x, w, b) => tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, "same"), b)
    : (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, "same"),
  shapes: bias ? [[B, H, W, ci], [k, k, ci, co], [co]] : [[B, H, W, ci], [k, k, ci, co]],
  outShape: [B, Math.ceil(H / s), Math.ceil(W / s), co],
});

const CASES: Case[] = [
  convCase(2, 5, 5, 3, 4, 3, 1),
  convCase(2, 6, 6, 2, 3, 3, 2),
  convCase(2, 7, 5, 2, 3, 3, 2, false),
  convCase(2, 4, 4, 3, 2, 1, 1),
  convCase(2, 5, 6, 2, 3, 1, 2),
  convCase(1, 6, 5, 2, 2, 5, 2),
  {
    name: "groupNormSilu, 2 groups",
    op: (x, g, b) => groupNormSilu(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 2),
    stock: (x, g, b) => stockGroupNormSilu(x, g, b, 2),
    shapes: [[2, 3, 3, 4], [4], [4]],
    outShape: [2, 3, 3, 4],
  },
  { name: "upsampleNearest2x", op: (x) => upsampleNearest2x(x as tf.Tensor4D), shapes: [[2, 2, 3, 2]], outShape: [2, 4, 6, 2] },
];

beforeAll(async () => {
  await initBackend();
});

describe.each(CASES)("$name", (c) => {
  test("output shape, and the value equals the stock expression", () => {
    const { inputs } = makeData(c, 1);
    const xs = inputs.map((v, i) => tf.tensor(v, c.shapes[i]));
    const y = c.op(...xs);
    expect(y.shape).toEqual(c.outShape);
    if (c.stock) {
      const ref = c.stock(...xs);
      expectClose(y.dataSync(), ref.dataSync(), 1e-5, 1e-5);
      ref.dispose();
    }
    tf.dispose([y, ...xs]);
  });

  test("gradients match central finite differences", () => {
    const { inputs, cot } = makeData(c, 2);
    const grads = gradsOf(c.op, c, inputs, cot);
    const h = 1e-2;
    inputs.forEach((arr, k) => {
      const fd = new Float64Array(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const keep = arr[i];
        arr[i] = keep + h;
        const up = lossOf(c.op, c, inputs, cot);
        arr[i] = keep - h;
        const down = lossOf(c.op, c, inputs, cot);
        arr[i] = keep;
        fd[i] = (up - down) / (2 * h);
      }
      expectClose(grads[k], fd, 1e-2, 1e-2); // float32 losses of size ~10: rounding ~1e-5/h
    });
  });

  if (c.stock) {
    test("gradients match stock autograd on the cpu backend", async () => {
      const { inputs, cot } = makeData(c, 3);
      const ours = gradsOf(c.op, c, inputs, cot); // on the default backend (wasm here)
      const before = tf.getBackend();
      const ref = await onBackend("cpu", () => gradsOf(c.stock!, c, inputs, cot));
      expect(tf.getBackend()).toBe(before);
      ours.forEach((g, k) => expectClose(g, ref[k], 1e-4, 1e-4));
    });
  }

  test("no tensors leak through a gradient step", () => {
    expect(tensorsLeakedByGrad(c)).toBe(0);
  });
});

describe("conv2d at U-Net sizes", () => {
  test("stride-2 gradients at 16×16 (batch 4, 8→16 channels) agree with stock autograd on cpu", async () => {
    const c = convCase(4, 16, 16, 8, 16, 3, 2);
    const { inputs, cot } = makeData(c, 5);
    const ours = gradsOf(c.op, c, inputs, cot);
    const ref = await onBackend("cpu", () => gradsOf(c.stock!, c, inputs, cot));
    ours.forEach((g, k) => expectClose(g, ref[k], 1e-3, 1e-4));
  });

  test("a 1×1 stride-1 conv equals a dense layer on the pixels", () => {
    const rng = new Rng(6);
    tf.tidy(() => {
      const x = rng.randn([2, 3, 3, 4]) as tf.Tensor4D;
      const w = rng.randn([1, 1, 4, 5]) as tf.Tensor4D;
      const b = rng.randn([5]) as tf.Tensor1D;
      const viaDense = dense(tf.reshape(x, [18, 4]), tf.reshape(w, [4, 5]), b); // [18, 5]
      expectClose(conv2d(x, w, b).dataSync(), viaDense.dataSync(), 1e-6, 1e-6);
    });
  });

  test("bad arguments throw clear errors", () => {
    tf.tidy(() => {
      const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
      expect(() => conv2d(x, tf.zeros([2, 2, 2, 3]) as tf.Tensor4D)).toThrow(/odd size/);
      expect(() => conv2d(x, tf.zeros([3, 3, 5, 3]) as tf.Tensor4D)).toThrow(/2 channels but w expects 5/);
      expect(() => conv2d(x, tf.zeros([3, 3, 2, 3]) as tf.Tensor4D, tf.zeros([2]) as tf.Tensor1D)).toThrow(/bias must be \[3\]/);
      expect(() => conv2d(x, tf.zeros([3, 3, 2, 3]) as tf.Tensor4D, undefined, { stride: 3 as 2 })).toThrow(/stride/);
      expect(() => groupNormSilu(x, tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, 3)).toThrow(/must divide/);
    });
  });
});

describe("upsampleNearest2x", () => {
  test("each pixel becomes a 2×2 block; ∂x is the sum of each 2×2 block of dy (batch > 1)", () => {
    tf.tidy(() => {
      const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
      expect(Array.from(upsampleNearest2x(x).dataSync().slice(0, 16))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
      const dy = tf.range(0, 32).reshape([2, 4, 4, 1]);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsampleNearest2x(a as tf.Tensor4D), dy)))(x);
      // block (0,0) of example 1: 16+17+20+21 = 74
      expect(Array.from(g.dataSync())).toEqual([10, 18, 42, 50, 74, 82, 106, 114]);
    });
  });

  test("value and gradient equal the wasm resizeNearestNeighbor kernel's", () => {
    if (tf.getBackend() !== "wasm") return; // the reference kernel is only trusted on wasm
    const rng = new Rng(7);
    tf.tidy(() => {
      const x = rng.randn([3, 4, 4, 5]) as tf.Tensor4D;
      const cot = rng.randn([3, 8, 8, 5]);
      const ours = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsampleNearest2x(a as tf.Tensor4D), cot)))(x);
      const ref = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [8, 8]), cot)))(x);
      expectClose(upsampleNearest2x(x).dataSync(), tf.image.resizeNearestNeighbor(x, [8, 8]).dataSync(), 0, 0);
      expectClose(ours.dataSync(), ref.dataSync(), 1e-5, 1e-5);
    });
  });
});

describe("groupNormSilu", () => {
  test("known values: each group standardised over its pixels and channels, scaled by γ, shifted by β, then SiLU", () => {
    tf.tidy(() => {
      const x = tf.tensor4d([1, 3, 1, 3, 10, 10, 10, 14], [1, 2, 2, 2]); // 2 groups of 1 channel
      const y = groupNormSilu(x, tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, 2, 0);
      const silu = (z: number) => z / (1 + Math.exp(-z));
      const ch0 = [1, 1, 10, 10]; // x[…, 0]
      const ch1 = [3, 3, 10, 14]; // x[…, 1]
      const norm = (v: number[]) => {
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
        return v.map((u) => (u - m) / sd);
      };
      const n0 = norm(ch0);
      const n1 = norm(ch1);
      const want = [0, 1, 2, 3].flatMap((i) => [silu(n0[i]), silu(n1[i])]);
      expectClose(y.dataSync(), want, 1e-5, 1e-5);
      const scaled = groupNormSilu(x, tf.tensor1d([2, 1]), tf.tensor1d([0, -1]), 2, 0);
      const want2 = [0, 1, 2, 3].flatMap((i) => [silu(2 * n0[i]), silu(n1[i] - 1)]);
      expectClose(scaled.dataSync(), want2, 1e-5, 1e-5);
    });
  });

  test("invariant to a per-example affine change a·x + c (a > 0) of the input", () => {
    const rng = new Rng(8);
    tf.tidy(() => {
      const x = rng.randn([2, 4, 4, 6]) as tf.Tensor4D;
      const g = rng.randn([6]) as tf.Tensor1D;
      const b = rng.randn([6]) as tf.Tensor1D;
      const moved = tf.add(tf.mul(x, tf.tensor4d([3, 0.5], [2, 1, 1, 1])), tf.tensor4d([5, -2], [2, 1, 1, 1])) as tf.Tensor4D;
      expectClose(groupNormSilu(moved, g, b, 3, 0).dataSync(), groupNormSilu(x, g, b, 3, 0).dataSync(), 1e-4, 1e-4);
    });
  });
});

describe("dense gradients through the fast 2-D transpose", () => {
  test.each([
    [256, 64, 8], // even fan-in: the [M, N/2, 2] path
    [272, 63, 5], // odd fan-in, M divisible by 16
    [257, 65, 3], // no factor: plain tf.transpose
  ])("x [%i, %i] → %i agrees with stock autograd", (m, n, o) => {
    const rng = new Rng(m);
    const shapes = [[m, n], [n, o], [o]];
    const inputs = shapes.map((s) => rng.normalArray(size(s)));
    const cot = rng.normalArray(m * o);
    const c: Case = { name: "dense", op: (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), shapes, outShape: [m, o] };
    const ours = gradsOf(c.op, c, inputs, cot);
    const ref = gradsOf((x, w, b) => tf.add(tf.matMul(x, w), b), c, inputs, cot);
    ours.forEach((g, k) => expectClose(g, ref[k], 1e-3, 1e-4));
  });
});
