/**
 * Shared gradient-check harness for the custom-gradient ops (tests/lib/ops.test.ts,
 * tests/lib/convops.test.ts): the scalar probe L = Σ cot ⊙ op(inputs), its gradients, its value
 * (for central finite differences), element-wise closeness, and running on another backend.
 */
import * as tf from "@tensorflow/tfjs";
import { BackendName, useBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";

export type Op = (...xs: tf.Tensor[]) => tf.Tensor;

/** One op under test. */
export interface GradCase {
  name: string;
  op: Op;
  /** The same function with stock tfjs ops (autograd reference on cpu), where cpu's kernels are correct. */
  stock?: Op;
  shapes: number[][];
  outShape: number[];
}

export const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Inputs and a fixed cotangent drawn from a seed; L = Σ cot ⊙ op(inputs). */
export function makeData(c: GradCase, seed: number): { inputs: Float32Array[]; cot: Float32Array } {
  const rng = new Rng(seed);
  const inputs = c.shapes.map((s) => rng.normalArray(size(s)));
  return { inputs, cot: rng.normalArray(size(c.outShape)) };
}

/** Gradients of L with respect to every input, read back as arrays. */
export function gradsOf(f: Op, c: GradCase, inputs: Float32Array[], cot: Float32Array): Float32Array[] {
  const xs = inputs.map((v, i) => tf.tensor(v, c.shapes[i]));
  const cotT = tf.tensor(cot, c.outShape);
  const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), cotT)))(xs);
  const out = gs.map((g) => g.dataSync().slice() as Float32Array);
  tf.dispose([...xs, cotT, ...gs]);
  return out;
}

/** The value of L (for finite differences). */
export function lossOf(f: Op, c: GradCase, inputs: Float32Array[], cot: Float32Array): number {
  const v = tf.tidy(() => tf.sum(tf.mul(f(...inputs.map((a, i) => tf.tensor(a, c.shapes[i]))), tf.tensor(cot, c.outShape))));
  const out = v.dataSync()[0];
  v.dispose();
  return out;
}

/** Tensors left behind by one gradient step of the op (after a warm-up step); 0 means no leak. */
export function tensorsLeakedByGrad(c: GradCase): number {
  const { inputs, cot } = makeData(c, 4);
  gradsOf(c.op, c, inputs, cot); // warm-up
  const before = tf.memory().numTensors;
  gradsOf(c.op, c, inputs, cot);
  return tf.memory().numTensors - before;
}

/** |got − want| ≤ atol + rtol·|want| element-wise, naming the first element that is not. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= tol)) throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
  }
}

/** Run `f` on another backend and switch back, even when it throws. */
export async function onBackend<T>(name: BackendName, f: () => T): Promise<T> {
  const before = tf.getBackend() as BackendName;
  await useBackend(name);
  try {
    return f();
  } finally {
    await useBackend(before);
  }
}
