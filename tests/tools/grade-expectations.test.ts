/**
 * The grader's value checks for exercises that return a JS number (notebook 04's psnrDb): a number
 * expectation accepts a finite number within tolerance, or exactly the expected ±Infinity, and says
 * what is wrong otherwise (a tensor instead of a number, NaN, a wrong value).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "@course/lib";
import { Expectation, checkValue } from "../../tools/grade/suite";
import { failureMessage } from "../../tools/grade/feedback";

beforeAll(async () => {
  await initBackend();
});

const num = (value: number): Expectation => ({ kind: "number", shape: [], values: [value], atol: 1e-3, rtol: 1e-4 });

describe("number expectations", () => {
  test("a number within atol + rtol·|want| passes; outside it fails with a value failure", () => {
    expect(checkValue(20.0005, num(20), tf).ok).toBe(true);
    const bad = checkValue(20.01, num(20), tf);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.failure.kind).toBe("value");
  });

  test("±Infinity is met only by the same infinity; NaN and unexpected infinities fail", () => {
    expect(checkValue(Infinity, num(Infinity), tf).ok).toBe(true);
    for (const [got, want] of [[-Infinity, Infinity], [1e9, Infinity], [Infinity, 20], [NaN, 20], [NaN, Infinity]]) {
      const r = checkValue(got, num(want), tf);
      expect(r.ok).toBe(false);
    }
  });

  test("a tensor where a number is expected fails, and the feedback says how to fix it", () => {
    const t = tf.scalar(20);
    const r = checkValue(t, num(20), tf);
    t.dispose();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.failure.kind).toBe("kind");
      expect(failureMessage(r.failure, num(20), "psnrDb(x, y)", true, "a tensor of shape []")).toMatch(/expected a JS number.*read the value out of the tensor/);
    }
  });

  test("tensor expectations are unchanged: a number where a tensor is expected still fails", () => {
    const r = checkValue(3, { kind: "tensor", shape: [], values: [3] }, tf);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.failure.kind).toBe("kind");
  });
});
