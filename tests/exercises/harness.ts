/**
 * Shared harness for exercise checks (public checks here, hidden grading suites later).
 *
 * By default the checks run against the reference in solutions/<notebook>.ts. Set
 * EXERCISE_MODULE=/path/to/module.ts to run the same checks against a student's module that
 * exports the same names (e.g. one extracted from a submitted notebook).
 */
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "@course/lib";

export const EXERCISE_MODULE_ENV = "EXERCISE_MODULE";

/** Which implementation is under test, and from where. */
export interface Loaded<T> {
  impl: T;
  source: "reference" | "student";
  file: string;
}

/** Load the module under test for a notebook (reference unless EXERCISE_MODULE is set). */
export function loadExercises<T>(notebook: string): Loaded<T> {
  const override = process.env[EXERCISE_MODULE_ENV];
  const file = override ? path.resolve(override) : path.resolve(__dirname, "..", "..", "solutions", `${notebook}.ts`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const impl = require(file) as T;
  return { impl, source: override ? "student" : "reference", file };
}

/** A [rows, cols] float32 matrix of N(0, scale²) draws, plus the same values as nested arrays. */
export function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1): { t: tf.Tensor2D; a: number[][] } {
  const a: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = [];
    for (let j = 0; j < cols; j++) row.push(Math.fround(scale * rng.normal()));
    a.push(row);
  }
  return { t: tf.tensor2d(a, [rows, cols], "float32"), a };
}

/** Read a tensor back as nested arrays and dispose it. */
export function take2d(t: tf.Tensor): number[][] {
  const out = t.arraySync() as number[][];
  t.dispose();
  return out;
}

/** Assert shape, finiteness and elementwise closeness with a helpful message on the first mismatch. */
export function expectMatrixClose(actual: tf.Tensor, expected: number[][], tol: number, what: string): void {
  const shape = [expected.length, expected[0]?.length ?? 0];
  if (actual.shape.length !== 2 || actual.shape[0] !== shape[0] || actual.shape[1] !== shape[1]) {
    throw new Error(`${what}: expected shape [${shape.join(", ")}], got [${actual.shape.join(", ")}]`);
  }
  const got = take2d(actual);
  for (let i = 0; i < shape[0]; i++) {
    for (let j = 0; j < shape[1]; j++) {
      const g = got[i][j];
      const e = expected[i][j];
      if (!Number.isFinite(g)) throw new Error(`${what}: entry [${i}, ${j}] is ${g}, expected ${e.toFixed(5)}`);
      if (Math.abs(g - e) > tol * (1 + Math.abs(e))) {
        throw new Error(`${what}: entry [${i}, ${j}] is ${g.toFixed(6)}, expected ${e.toFixed(6)} (tolerance ${tol})`);
      }
    }
  }
}

/** Element-wise map over two equal-shape nested arrays. */
export function zip2d(a: number[][], b: number[][], f: (x: number, y: number) => number): number[][] {
  return a.map((row, i) => row.map((x, j) => f(x, b[i][j])));
}
