/** tools/speed.ts: the budget stretch factor from a timed workload, and its override. */
import { MAX_FACTOR, REFERENCE_MS, factorFor, machineSpeed } from "../../tools/speed";

describe("factorFor", () => {
  test.each([
    [REFERENCE_MS, 1],
    [REFERENCE_MS / 3, 1], // a faster machine keeps the stated budgets
    [REFERENCE_MS * 2.13, 2.13],
    [REFERENCE_MS * 10, MAX_FACTOR],
  ])("%d ms → ×%d", (ms, factor) => {
    expect(factorFor(ms)).toBeCloseTo(factor, 2);
  });
});

describe("machineSpeed", () => {
  test("COURSE_SPEED_FACTOR overrides the timing", () => {
    expect(machineSpeed({ COURSE_SPEED_FACTOR: "2.5" })).toEqual({ factor: 2.5, ms: null });
  });

  test.each(["0", "0.99", "4.5", "abc", "NaN"])("COURSE_SPEED_FACTOR=%s is refused with the allowed range", (v) => {
    expect(() => machineSpeed({ COURSE_SPEED_FACTOR: v })).toThrow(`COURSE_SPEED_FACTOR must be a number from 1 to ${MAX_FACTOR}, got "${v}"`);
  });

  test("without it, the workload is timed: a positive time and a factor within [1, MAX_FACTOR]", () => {
    const { factor, ms } = machineSpeed({});
    expect(ms).not.toBeNull();
    expect(ms as number).toBeGreaterThan(0);
    expect(factor).toBeGreaterThanOrEqual(1);
    expect(factor).toBeLessThanOrEqual(MAX_FACTOR);
    expect(factor).toBe(factorFor(ms as number));
  });

});
