/**
 * Running one exercise's hidden tests: build each test's fresh inputs and expected results in
 * the TRUSTED process (the hidden suite calls the reference in solutions/ here), send only the
 * inputs to one sandboxed child process for the exercise, then check every returned value here.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "@course/lib";
import type { CourseExercise } from "../course";
import { callLabel, failureMessage, formatArg, outcomeMessage, quote } from "./feedback";
import { runInSandbox, SandboxCall, SandboxLimits } from "./sandbox";
import { decode, describe, encode, Wire } from "./serialize";
import { CallCheck, CallFailure, checkValue, Expectation, HiddenTest, makeContext, PlannedCall, TestPlan } from "./suite";

/** One named test's result. */
export interface TestResult {
  exercise: string;
  test: string;
  score: number;
  maxScore: number;
  passed: boolean;
  output: string;
}

/** How one exercise is run. */
export interface ExerciseRun {
  ex: CourseExercise;
  tests: HiddenTest[];
  /** Notebook points / suite points (the notebook's `exercise.points` are authoritative). */
  scale: number;
  moduleJs: string;
  /** The run's generator; each test forks its own stream from it by name. */
  rng: Rng;
  limits: SandboxLimits;
  scratchRoot?: string;
}

/** A prepared test: its calls with what feedback needs to explain them. */
interface Prepared {
  test: HiddenTest;
  maxScore: number;
  error?: string;
  calls: Array<{ wire: SandboxCall; expect: PlannedCall["expect"]; label: string }>;
  check?: TestPlan["check"];
}

/** Round away float noise in point sums. */
export const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Run every test of an exercise in one sandbox and score it. */
export async function runExercise(run: ExerciseRun): Promise<TestResult[]> {
  const { ex, limits } = run;
  const prepared = run.tests.map((test) => prepare(run, test));
  const calls = prepared.flatMap((p) => p.calls.map((c) => c.wire));
  const result = await runInSandbox({ moduleJs: run.moduleJs, calls, limits, scratchRoot: run.scratchRoot });
  let k = 0;
  return prepared.map((p): TestResult => {
    const outcomes = p.calls.map(() => result.outcomes[k++]);
    const base = { exercise: ex.id, test: p.test.name, maxScore: p.maxScore };
    const fail = (output: string): TestResult => ({ ...base, score: 0, passed: false, output });
    if (p.error) return fail(p.error);
    const outs: Array<{ values: Float64Array; shape: number[] }> = [];
    for (let i = 0; i < p.calls.length; i++) {
      const o = outcomes[i] ?? { status: "crashed", message: "the call was not run", ms: 0 };
      const call = p.calls[i];
      if (o.status !== "ok") return fail(outcomeMessage(ex.id, o, limits));
      // Validate against the signature before any tensor is built: a bad value fails only this call.
      let got: unknown;
      let early: CallFailure | null;
      try {
        early = wireFailure(o.value, call.expect);
        got = early ? decode(o.value) : decode(o.value, tf);
      } catch (e) {
        return fail(`${call.label}: returned a value the grader could not read (${quote((e as Error).message ?? String(e))})`);
      }
      const checked: CallCheck = early ? { ok: false, failure: early } : checkValue(got, call.expect, tf);
      const description = describe(got);
      if (got instanceof tf.Tensor) got.dispose();
      if (!checked.ok) {
        const gotValues = checked.failure.kind === "value" ? valuesOf(o.value) : undefined;
        return fail(failureMessage(checked.failure, call.expect, call.label, !!p.test.small, description, gotValues));
      }
      outs.push({ values: checked.values, shape: checked.shape });
    }
    const reason = p.check?.(outs) ?? null;
    return reason !== null ? fail(reason) : { ...base, score: p.maxScore, passed: true, output: "passed" };
  });
}

/** Run a test's build in the trusted process; the tensors it makes are disposed here. */
function prepare(run: ExerciseRun, test: HiddenTest): Prepared {
  const { ex } = run;
  const p: Prepared = { test, maxScore: round6(test.points * run.scale), calls: [] };
  try {
    tf.tidy(() => {
      const plan = test.build(makeContext(run.rng.fork(`${ex.id}/${test.name}`), tf));
      p.check = plan.check;
      p.calls = plan.calls.map((c) => ({
        wire: { exportName: ex.id, args: c.args.map((a) => encode(a)) },
        expect: c.expect,
        label: callLabel(ex.id, ex.params, c.args.map((a) => formatArg(a, !!test.small, tf)), c.note),
      }));
    });
  } catch (e) {
    p.error = `autograder error while preparing this test (not your fault): ${(e as Error).message}`;
    p.calls = [];
  }
  return p;
}

/** Every test of an exercise failed with the same reason (first in full, the rest pointing to it). */
export function failAll(id: string, tests: HiddenTest[], scale: number, message: string): TestResult[] {
  return tests.map((t, i) => ({
    exercise: id, test: t.name, score: 0, maxScore: round6(t.points * scale), passed: false,
    output: i === 0 ? message : `not run: ${message.split("\n")[0]}`,
  }));
}

/**
 * A returned wire tensor that cannot match the expectation (wrong shape or dtype), found without
 * building it; null when it may match (or is not a tensor: checkValue explains those).
 */
export function wireFailure(w: Wire, want: Expectation): CallFailure | null {
  if (want.kind !== "tensor" || w === null || typeof w !== "object" || Array.isArray(w)) return null;
  const keys = Object.keys(w);
  const body = keys.length === 1 && keys[0] === "__tensor" ? (w as { __tensor: Wire }).__tensor : null;
  if (body === null || typeof body !== "object" || Array.isArray(body)) return null;
  const shape = (body as { shape?: Wire }).shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number")) return null;
  if (shape.length !== want.shape.length || shape.some((d, i) => d !== want.shape[i])) return { kind: "shape", got: shape as number[] };
  const dtype = (body as { dtype?: Wire }).dtype;
  if (want.dtype !== undefined && dtype !== want.dtype && typeof dtype === "string") return { kind: "dtype", got: dtype.slice(0, 20) };
  return null;
}

/** Flat values of a wire tensor (to show a small case's actual values). */
function valuesOf(w: Wire): number[] | undefined {
  const t = decode(w, tf);
  if (!(t instanceof tf.Tensor)) return undefined;
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
