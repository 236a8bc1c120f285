/**
 * Gradient checks for every custom-gradient op in lib/src/ops/:
 *  (1) against central finite differences of the op itself (float32, h = 1e-2);
 *  (2) against stock tfjs autograd of the same expression on the cpu backend.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { dense, denseSilu, fastMatMul } from "../../lib/src/ops";
import { GradCase, expectClose, gradsOf, lossOf, makeData, onBackend, Op, tensorsLeakedByGrad } from "./gradcheck";

interface Case extends GradCase {
  /** The same function with stock tfjs ops (autograd reference). */
  stock: Op;
}

const silu = (z: tf.Tensor) => tf.mul(z, tf.sigmoid(z));
const CASES: Case[] = [
  { name: "dense", op: (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), stock: (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b), shapes: [[3, 4], [4, 5], [5]], outShape: [3, 5] },
  { name: "denseSilu", op: (x, w, b) => denseSilu(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), stock: (x, w, b) => silu(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b)), shapes: [[3, 4], [4, 5], [5]], outShape: [3, 5] },
  { name: "fastMatMul", op: (a, b) => fastMatMul(a as tf.Tensor2D, b as tf.Tensor2D), stock: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), shapes: [[3, 4], [4, 2]], outShape: [3, 2] },
];

beforeAll(async () => {
  await initBackend();
});

describe.each(CASES)("$name", (c) => {
  test("value equals the stock expression", () => {
    const { inputs } = makeData(c, 1);
    const [a, b] = tf.tidy(() => {
      const xs = inputs.map((v, i) => tf.tensor(v, c.shapes[i]));
      return [c.op(...xs), c.stock(...xs)];
    });
    expectClose(a.dataSync() as Float32Array, b.dataSync(), 1e-5, 1e-5);
    tf.dispose([a, b]);
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
      // float32 forward, h = 1e-2: rounding ~1e-6/h and truncation ~h² both well under 5e-3.
      expectClose(grads[k], fd, 5e-3, 5e-3);
    });
  });

  test("gradients match stock autograd on the cpu backend", async () => {
    const { inputs, cot } = makeData(c, 3);
    const ours = gradsOf(c.op, c, inputs, cot); // on the default backend (wasm here)
    const before = tf.getBackend();
    const ref = await onBackend("cpu", () => gradsOf(c.stock, c, inputs, cot));
    expect(tf.getBackend()).toBe(before);
    ours.forEach((g, k) => expectClose(g, ref[k], 1e-5, 1e-4));
  });

  test("no tensors leak through a gradient step", () => {
    expect(tensorsLeakedByGrad(c)).toBe(0);
  });
});

test("large dense gradient agrees with stock autograd (wasm fast path vs naive path)", () => {
  const rng = new Rng(5);
  const shapes = [[64, 96], [96, 80], [80]];
  const c: Case = { ...CASES[1], shapes, outShape: [64, 80] };
  const inputs = shapes.map((s) => rng.normalArray(s[0] * (s[1] ?? 1)).map((v) => v * 0.2));
  const cot = rng.normalArray(64 * 80);
  const ours = gradsOf(c.op, c, inputs, cot);
  const ref = gradsOf(c.stock, c, inputs, cot);
  ours.forEach((g, k) => expectClose(g, ref[k], 1e-4, 1e-4));
});

test("shape errors are clear", () => {
  tf.tidy(() => {
    expect(() => dense(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([4, 5]) as tf.Tensor2D, tf.zeros([5]) as tf.Tensor1D)).toThrow(/shape mismatch/);
    expect(() => fastMatMul(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([4, 5]) as tf.Tensor2D)).toThrow(/\[M, K\]/);
  });
});
