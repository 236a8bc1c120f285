/**
 * KID (Bińkowski et al. 2018) against a brute-force float64 MMD²_u, the closed form of the
 * cubic-kernel MMD² between shifted Gaussians, the identity case, and its jackknife SE against
 * the spread over repeated draws. Also the real-vs-real floor helper.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { kernelInceptionDistance } from "../../lib/src/metrics/kid";
import { realVsRealFloor } from "../../lib/src/metrics/floor";

beforeAll(async () => {
  await initBackend();
});

/** n rows of N(shift·e1, I_d). */
function gaussRows(rng: Rng, n: number, d: number, shift = 0): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, j) => rng.normal() + (j === 0 ? shift : 0)));
}

/** Brute-force MMD²_u with k = (xᵀy/d + 1)³ in float64. */
function refKid(x: number[][], y: number[][]): number {
  const d = x[0].length;
  const k = (a: number[], b: number[]) => (a.reduce((s, v, i) => s + v * b[i], 0) / d + 1) ** 3;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < x.length; j++) if (i !== j) xx += k(x[i], x[j]);
  for (let i = 0; i < y.length; i++) for (let j = 0; j < y.length; j++) if (i !== j) yy += k(y[i], y[j]);
  for (const a of x) for (const b of y) xy += k(a, b);
  const m = x.length;
  const n = y.length;
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n);
}

/**
 * Population MMD² of k = (xᵀy/d + 1)³ between N(0, I) and N(δe1, I): Σ_j C(3, j)/d^j ‖E x^⊗j − E y^⊗j‖²
 * = 3δ²/d + 3δ⁴/d² + ((δ³ + 3δ)² + 3(d − 1)δ²)/d³.
 */
function closedForm(d: number, delta: number): number {
  return (3 * delta ** 2) / d + (3 * delta ** 4) / d ** 2 + ((delta ** 3 + 3 * delta) ** 2 + 3 * (d - 1) * delta ** 2) / d ** 3;
}

describe("kernelInceptionDistance", () => {
  it("equals the brute-force unbiased MMD² (unequal sizes, tensor and array input), leaving no tensors", () => {
    const rng = new Rng(1);
    const x = gaussRows(rng, 37, 5, 0.3);
    const y = gaussRows(rng, 23, 5);
    const before = tf.memory().numTensors;
    const t = tf.tensor2d(y);
    const r = kernelInceptionDistance(x, t);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.kid).toBeCloseTo(refKid(x, y), 5);
    expect(r).toMatchObject({ m: 37, n: 23, dim: 5 });
    expect(r.se).toBeGreaterThan(0);
  });

  it("matches the closed-form MMD² of shifted Gaussians within a few SE", () => {
    const rng = new Rng(2);
    const d = 4;
    const delta = 0.5;
    const r = kernelInceptionDistance(gaussRows(rng, 800, d), gaussRows(rng, 800, d, delta));
    const truth = closedForm(d, delta); // 0.2756
    expect(Math.abs(r.kid - truth)).toBeLessThan(4 * r.se);
    expect(r.kid).toBeGreaterThan(3 * r.se); // shifted → clearly positive
  });

  it("same distribution: ≈ 0 within 3 SE; identical sets are not 0 (unbiased) but small", () => {
    const rng = new Rng(3);
    const r = kernelInceptionDistance(gaussRows(rng, 400, 8), gaussRows(rng, 400, 8));
    expect(Math.abs(r.kid)).toBeLessThan(3 * r.se);
  });

  it("its SE matches the spread of the estimate over independent draws (factor < 1.6)", () => {
    const rng = new Rng(4);
    const vals: number[] = [];
    const ses: number[] = [];
    for (let rep = 0; rep < 40; rep++) {
      const r = kernelInceptionDistance(gaussRows(rng, 120, 4), gaussRows(rng, 120, 4, 0.5));
      vals.push(r.kid);
      ses.push(r.se);
    }
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, v) => a + (v - mu) ** 2, 0) / (vals.length - 1));
    const meanSe = ses.reduce((a, b) => a + b, 0) / ses.length;
    expect(meanSe / sd).toBeGreaterThan(1 / 1.6);
    expect(meanSe / sd).toBeLessThan(1.6);
    expect(Math.abs(mu - closedForm(4, 0.5))).toBeLessThan((3 * sd) / Math.sqrt(vals.length)); // unbiased
  });

  it("rejects bad input", () => {
    expect(() => kernelInceptionDistance([[1], [2], [3]], [[1, 2], [3, 4], [5, 6]])).toThrow(/feature dims differ/);
    expect(() => kernelInceptionDistance([[1], [2]], [[1], [2], [3]])).toThrow(/at least 3 samples/);
    expect(() => kernelInceptionDistance([[1], [NaN], [3]], [[1], [2], [3]])).toThrow(/real features contain NaN/);
  });
});

describe("realVsRealFloor", () => {
  it("applies the metric to disjoint seeded halves of size n", () => {
    const pool = Array.from({ length: 10 }, (_, i) => [i]);
    const seen: number[][] = [];
    const f = realVsRealFloor(pool, 4, (a, b) => {
      const ra = (a as { data: ArrayLike<number> }).data;
      const rb = (b as { data: ArrayLike<number> }).data;
      seen.push([...Array.from(ra), ...Array.from(rb)]);
      return ra.length + rb.length;
    }, { seed: 5, repeats: 3 });
    expect(f.values).toEqual([8, 8, 8]);
    expect(f.mean).toBe(8);
    for (const s of seen) expect(new Set(s).size).toBe(8); // disjoint
    expect(seen[0]).not.toEqual(seen[1]); // each repeat draws a new split
    const again = realVsRealFloor(pool, 4, (a) => (a as { data: ArrayLike<number> }).data[0], { seed: 5 });
    expect(again.values[0]).toBe(seen[0][0]); // seeded
  });
  it("a KID floor of real-vs-real is ≈ 0 within its SE", () => {
    const pool = gaussRows(new Rng(6), 400, 4);
    const f = realVsRealFloor(pool, 200, (a, b) => {
      const r = kernelInceptionDistance(a, b);
      expect(Math.abs(r.kid)).toBeLessThan(3 * r.se);
      return r.kid;
    }, { seed: 0 });
    expect(f.n).toBe(200);
  });
  it("refuses a pool smaller than 2n", () => {
    expect(() => realVsRealFloor([[1], [2], [3]], 2, () => 0, { seed: 0 })).toThrow(/two disjoint sets of 2 need 4 real rows, the pool has 3/);
    expect(() => realVsRealFloor([[1], [2], [3], [4]], 2, () => NaN, { seed: 0 })).toThrow(/metric returned NaN/);
  });
});
