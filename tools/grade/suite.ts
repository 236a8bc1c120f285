/**
 * The hidden grading suites' format, the helpers a suite builds its inputs with, and the checks
 * the grader applies to what a student's function returned.
 *
 * After nbgrader / otter-grader (hidden tests, points per test) and diffusers' shared test harness
 * (expected numbers at a tolerance). A suite lives in tests/exercises/hidden/NN_topic.ts, runs only
 * in the TRUSTED grader process, and never ships to students:
 *
 *   const suite: HiddenSuite = {
 *     notebook: "01_score_matching",
 *     exercises: {
 *       addNoise: [
 *         { name: "matches the reference on a small case", points: 0.5, small: true,
 *           build: (ctx) => { const x0 = ctx.matrix(2, 2); …; return { calls: [{ args: [x0, eps, ab], expect: ctx.expectRef(ref.addNoise(x0, eps, ab)) }] }; } },
 *         …
 *
 * Each test's `build` draws FRESH inputs from `ctx.rng` (seeded from crypto per grading run, the
 * seed recorded in results.json) and computes the expected results by calling the reference in
 * `solutions/` right here; only the inputs travel to the sandboxed student process. A test passes
 * when every call returns the right kind (tensor vs array vs number) and shape, finite values, its
 * property checks hold and the values are within tolerance of the reference; it then earns all of
 * its points (checked in that order: the first failure is what the student is told).
 *
 * A suite imports only types from this file (`import type`), so it loads in the grader without the
 * tools' sources: everything it needs at run time comes in through {@link SuiteContext}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { Rng } from "@course/lib";

/**
 * What one call must return: a tensor of this shape, or (kind "number") a JS number with shape [],
 * and (optionally) these values and properties. A number expectation of ±Infinity is met only by
 * that same infinity.
 */
export interface Expectation {
  kind: "tensor" | "number";
  shape: number[];
  /** Reference values, row-major; absent for property-only expectations. */
  values?: ArrayLike<number>;
  /** |got − want| ≤ atol + rtol·|want| (defaults 1e-4 and 1e-4). */
  atol?: number;
  rtol?: number;
  /** The dtype the tensor must have (e.g. "int32" for class ids); unchecked when absent. */
  dtype?: string;
  /** An invariant of the returned values; null when it holds, else a short reason. */
  property?: (values: Float64Array, shape: number[]) => string | null;
}

/** One call of the student's function. */
export interface PlannedCall {
  /** Arguments: tensors, numbers, arrays (tensors are disposed by the grader after sending). */
  args: unknown[];
  expect: Expectation;
  /** Extra words for feedback, e.g. "limit ᾱ → 1". */
  note?: string;
}

/** What a test checks; `check` sees every call's values once each call passed its own checks. */
export interface TestPlan {
  calls: PlannedCall[];
  check?: (outs: Array<{ values: Float64Array; shape: number[] }>) => string | null;
}

/** The helpers a test builds its inputs with. */
export interface SuiteContext {
  /** Fresh per grading run (forked per test); the only source of randomness. */
  rng: Rng;
  tf: typeof tfTypes;
  /** A [rows, cols] float32 matrix of N(0, scale²) draws. */
  matrix(rows: number, cols: number, scale?: number): tfTypes.Tensor2D;
  /** A tensor from explicit values. */
  tensor(values: number[][]): tfTypes.Tensor2D;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in {lo, …, hi}. */
  int(lo: number, hi: number): number;
  /** Expect exactly what the reference returned, dtype included (the tensor is read back and disposed). */
  expectRef(out: tfTypes.Tensor, tol?: { atol?: number; rtol?: number }): Expectation;
  /** Expect a tensor of this shape whose values satisfy `property`. */
  expectShape(shape: number[], property?: Expectation["property"]): Expectation;
}

/** One named test of an exercise. */
export interface HiddenTest {
  name: string;
  points: number;
  /** Small case: on failure, feedback shows its inputs, expected and actual values in full. */
  small?: boolean;
  build(ctx: SuiteContext): TestPlan;
}

/** A notebook's hidden suite: tests per exercise id (the ids of the course notebook's cells). */
export interface HiddenSuite {
  notebook: string;
  exercises: Record<string, HiddenTest[]>;
}

/** The context for one test. */
export function makeContext(rng: Rng, tf: typeof tfTypes): SuiteContext {
  const round = (rows: number, cols: number, f: () => number): number[][] =>
    Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(f())));
  return {
    rng,
    tf,
    matrix: (rows, cols, scale = 1) => tf.tensor2d(round(rows, cols, () => scale * rng.normal()), [rows, cols], "float32"),
    tensor: (values) => tf.tensor2d(values, undefined, "float32"),
    uniform: (lo, hi) => lo + (hi - lo) * rng.uniform(),
    int: (lo, hi) => lo + rng.int(hi - lo + 1),
    expectRef: (out, tol) => {
      const values = Float64Array.from(out.dataSync());
      const shape = out.shape.slice();
      const dtype = out.dtype;
      out.dispose();
      return { kind: "tensor", shape, values, dtype, ...tol };
    },
    expectShape: (shape, property) => ({ kind: "tensor", shape, property }),
  };
}

/** What a student's value was, as far as kind checks go. */
export type ValueKind = "tensor" | "number" | "array" | "other";

/** Why a call failed its checks (the grader turns this into a message with feedback.ts). */
export type CallFailure =
  | { kind: "kind"; got: ValueKind }
  | { kind: "shape"; got: number[] }
  | { kind: "dtype"; got: string }
  | { kind: "nonfinite"; index: number; value: number }
  | { kind: "value"; index: number; got: number; want: number; tol: number }
  | { kind: "property"; reason: string };

/** The checked values of one call, or why they are wrong. */
export type CallCheck = { ok: true; values: Float64Array; shape: number[] } | { ok: false; failure: CallFailure };

/** Is `v` a tensor of the trusted process's tf? (decode() builds them there.) */
export function isTensor(v: unknown, tf: typeof tfTypes): v is tfTypes.Tensor {
  return v instanceof tf.Tensor;
}

/** Which kind of value `v` is. */
export function valueKind(v: unknown, tf: typeof tfTypes): ValueKind {
  if (isTensor(v, tf)) return "tensor";
  if (typeof v === "number") return "number";
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return "array";
  return "other";
}

/** Check one returned value (decoded in the trusted process) against its expectation. */
export function checkValue(got: unknown, want: Expectation, tf: typeof tfTypes): CallCheck {
  const kind = valueKind(got, tf);
  if (want.kind === "number") return checkNumber(got, kind, want);
  if (kind !== "tensor") return { ok: false, failure: { kind: "kind", got: kind } };
  const t = got as tfTypes.Tensor;
  const shape = t.shape.slice();
  if (shape.length !== want.shape.length || shape.some((d, i) => d !== want.shape[i])) {
    return { ok: false, failure: { kind: "shape", got: shape } };
  }
  if (want.dtype !== undefined && t.dtype !== want.dtype) return { ok: false, failure: { kind: "dtype", got: t.dtype } };
  const values = Float64Array.from(t.dataSync());
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return { ok: false, failure: { kind: "nonfinite", index: i, value: values[i] } };
  }
  const reason = want.property?.(values, shape) ?? null;
  if (reason !== null) return { ok: false, failure: { kind: "property", reason } };
  if (want.values) {
    const atol = want.atol ?? 1e-4;
    const rtol = want.rtol ?? 1e-4;
    for (let i = 0; i < values.length; i++) {
      const w = want.values[i];
      const tol = atol + rtol * Math.abs(w);
      if (!(Math.abs(values[i] - w) <= tol)) return { ok: false, failure: { kind: "value", index: i, got: values[i], want: w, tol } };
    }
  }
  return { ok: true, values, shape };
}

/** Check a returned JS number (shape []) against a number expectation. */
function checkNumber(got: unknown, kind: ValueKind, want: Expectation): CallCheck {
  if (kind !== "number") return { ok: false, failure: { kind: "kind", got: kind } };
  const x = got as number;
  const w = want.values?.[0];
  const infinite = w !== undefined && !Number.isFinite(w) && !Number.isNaN(w);
  if (!Number.isFinite(x) && !(infinite && x === w)) return { ok: false, failure: { kind: "nonfinite", index: 0, value: x } };
  const values = Float64Array.of(x);
  const reason = want.property?.(values, []) ?? null;
  if (reason !== null) return { ok: false, failure: { kind: "property", reason } };
  if (w !== undefined) {
    const tol = infinite ? 0 : (want.atol ?? 1e-4) + (want.rtol ?? 1e-4) * Math.abs(w);
    if (!(infinite ? x === w : Math.abs(x - w) <= tol)) return { ok: false, failure: { kind: "value", index: 0, got: x, want: w, tol } };
  }
  return { ok: true, values, shape: [] };
}

/** Sum of a suite's points for one exercise. */
export function suitePoints(tests: HiddenTest[]): number {
  return tests.reduce((s, t) => s + t.points, 0);
}
