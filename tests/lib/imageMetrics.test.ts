import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { featureStats, frechetDistance, frechetFromStats } from "../../lib/src/metrics/frechet";
import { precisionRecall } from "../../lib/src/metrics/precisionRecall";
import { classAccuracy, diversity, inceptionScore } from "../../lib/src/metrics/classScores";

beforeAll(async () => {
  await initBackend();
});

/** n rows of N(mean, diag(std²)) as number[][]. */
function gaussian(rng: Rng, n: number, mean: number[], std: number[]): number[][] {
  return Array.from({ length: n }, () => mean.map((m, j) => m + std[j] * rng.normal()));
}

/** A random SPD matrix A Aᵀ + 0.1 I (F×F) as rows. */
function randomSpd(rng: Rng, f: number): number[][] {
  const a = Array.from({ length: f }, () => Array.from(rng.normalArray(f)));
  return a.map((ri, i) => a.map((rj, j) => ri.reduce((p, v, k) => p + v * rj[k], 0) + (i === j ? 0.1 : 0)));
}

describe("Fréchet distance", () => {
  test("featureStats: mean and unbiased (N − 1) covariance of a known set; all input forms agree", () => {
    const rows = [[0, 0], [2, 0], [0, 2], [2, 2]];
    const s = featureStats(rows);
    expect(Array.from(s.mu)).toEqual([1, 1]);
    expect(Array.from(s.cov).map((v) => +v.toFixed(12))).toEqual([4 / 3, 0, 0, 4 / 3].map((v) => +v.toFixed(12)));
    const t = tf.tensor2d(rows);
    expect(Array.from(featureStats(t).cov)).toEqual(Array.from(s.cov));
    expect(Array.from(featureStats({ data: new Float32Array(rows.flat()), shape: [4, 2] }).cov)).toEqual(Array.from(s.cov));
    t.dispose();
    expect(() => featureStats([[1, 2]])).toThrow(/at least 2/);
    expect(() => featureStats([[1, 2], [3]])).toThrow(/row 1 has 1 features/);
  });

  test("closed forms: 1D, diagonal, scaled isotropic, singular", () => {
    expect(frechetFromStats([0], [[1]], [3], [[4]])).toBeCloseTo(9 + 1, 10);
    // diagonal: ‖Δμ‖² + Σ_i (σ1_i − σ2_i)²
    const s1 = [1, 2, 0.5, 3];
    const s2 = [2, 2, 1.5, 0.1];
    const diag = (s: number[]) => s.map((v, i) => s.map((_, j) => (i === j ? v * v : 0)));
    const expected = [1, 0, -2, 0.5].reduce((p, v) => p + v * v, 0) + s1.reduce((p, v, i) => p + (v - s2[i]) ** 2, 0);
    expect(frechetFromStats([1, 0, -2, 0.5], diag(s1), [0, 0, 0, 0], diag(s2))).toBeCloseTo(expected, 9);
    // scaled isotropic: a²I vs b²I in F dims → F (a − b)²
    const F = 16;
    const iso = (a: number) => { const m = new Float64Array(F * F); for (let i = 0; i < F; i++) m[i * F + i] = a * a; return m; };
    expect(frechetFromStats(new Float64Array(F), iso(0.5), new Float64Array(F), iso(2))).toBeCloseTo(F * 1.5 ** 2, 9);
    // singular covariances: diag(1, 0) vs diag(0, 1) → 1 + 1 − 0
    expect(frechetFromStats([0, 0], [[1, 0], [0, 0]], [0, 0], [[0, 0], [0, 1]])).toBeCloseTo(2, 9);
  });

  test("non-commuting 2×2 covariances: tr sqrt(A) = sqrt(tr A + 2 sqrt(det A)) for A = Σ1Σ2", () => {
    const c1 = [[2, 0.9], [0.9, 1]];
    const c2 = [[0.5, -0.3], [-0.3, 1.5]];
    const A = [[c1[0][0] * c2[0][0] + c1[0][1] * c2[1][0], c1[0][0] * c2[0][1] + c1[0][1] * c2[1][1]], [c1[1][0] * c2[0][0] + c1[1][1] * c2[1][0], c1[1][0] * c2[0][1] + c1[1][1] * c2[1][1]]];
    const trA = A[0][0] + A[1][1];
    const detA = A[0][0] * A[1][1] - A[0][1] * A[1][0];
    const trSqrt = Math.sqrt(trA + 2 * Math.sqrt(detA));
    const expected = 0.25 + 4 + (3 + 2 - 2 * trSqrt);
    expect(frechetFromStats([1, 2], c1, [1.5, 0], c2)).toBeCloseTo(expected, 9);
    expect(frechetFromStats([1.5, 0], c2, [1, 2], c1)).toBeCloseTo(expected, 9); // symmetric
  });

  test("equal full covariances: only the mean term is left; equal stats give 0", () => {
    const rng = new Rng(1);
    const F = 24;
    const cov = randomSpd(rng, F);
    const mu1 = Array.from(rng.normalArray(F));
    const mu2 = Array.from(rng.normalArray(F));
    const meanTerm = mu1.reduce((p, v, i) => p + (v - mu2[i]) ** 2, 0);
    expect(frechetFromStats(mu1, cov, mu2, cov)).toBeCloseTo(meanTerm, 6);
    expect(frechetFromStats(mu1, cov, mu1, cov)).toBeLessThan(1e-8);
  });

  test("sample sets: identical → 0; shifted diagonal Gaussians → the closed form", () => {
    const rng = new Rng(2);
    const x = gaussian(rng, 500, [0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 2, 2, 0.5, 0.5, 3, 1]);
    expect(frechetDistance(x, x)).toBeLessThan(1e-8);
    const n = 20000;
    const a = gaussian(rng, n, [0, 0, 0, 0], [1, 1, 1, 1]);
    const b = gaussian(rng, n, [1, 0, -1, 0], [2, 1, 1, 0.5]);
    const closed = 2 + (1 + 0 + 0 + 0.25); // ‖Δμ‖² + Σ(σ1 − σ2)²
    const ta = tf.tensor2d(a);
    const before = tf.memory().numTensors;
    const fd = frechetDistance(ta, b);
    expect(tf.memory().numTensors).toBe(before);
    ta.dispose();
    expect(Math.abs(fd - closed)).toBeLessThan(0.12); // sampling error of the means ≈ 0.03 per shifted coordinate
    expect(() => frechetDistance(a, [[1, 2], [3, 4]])).toThrow(/dims differ/);
  });
});

describe("improved precision and recall (k-NN manifolds)", () => {
  test("a hand-checked 1D case (k = 1): precision 0.5, recall 1", () => {
    const real = [[0], [1], [2], [3]]; // radii 1
    const fake = [[0.5], [4.5], [10], [3.9]]; // radii 3.4, 0.6, 0.6, 5.5
    expect(precisionRecall(real, fake, { k: 1 })).toEqual({ precision: 0.5, recall: 1 });
    // with k = 3 the real radii grow (2, 2, 2, 3): 4.5 is now inside 3's ball (1.5 ≤ 3)
    expect(precisionRecall(real, fake, { k: 3 }).precision).toBe(0.75);
  });

  test("identical sets → 1, 1; far-apart sets → 0, 0; no tensor leaks", () => {
    const rng = new Rng(3);
    const x = gaussian(rng, 300, new Array(8).fill(0), new Array(8).fill(1));
    const before = tf.memory().numTensors;
    expect(precisionRecall(x, x)).toEqual({ precision: 1, recall: 1 });
    const far = x.map((r) => r.map((v) => v + 100));
    expect(precisionRecall(x, far)).toEqual({ precision: 0, recall: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });

  test("a fake set on half of the real modes: precision ≈ 1, recall ≈ 0.5 (of what a fresh real draw gets)", () => {
    const rng = new Rng(4);
    const F = 4;
    const centre = (k: number) => Array.from({ length: F }, (_, j) => (j === k % F ? (k < F ? 20 : -20) : 0));
    const draw = (modes: number, perMode: number) => Array.from({ length: modes }, (_, k) => gaussian(rng, perMode, centre(k), new Array(F).fill(1))).flat();
    const real = draw(8, 200);
    const half = draw(4, 400);
    const again = draw(8, 200); // the same distribution drawn again: the estimator's ceiling
    const pr = precisionRecall(real, half);
    const ref = precisionRecall(real, again);
    // measured: half { precision 0.935, recall 0.466 }, fresh draw { precision 0.936, recall 0.927 }
    expect(ref.precision).toBeGreaterThan(0.9);
    expect(ref.recall).toBeGreaterThan(0.9);
    expect(pr.precision).toBeGreaterThan(0.9);
    expect(Math.abs(pr.precision - ref.precision)).toBeLessThan(0.05);
    expect(pr.recall).toBeLessThanOrEqual(0.5); // only the covered half can be recalled
    expect(pr.recall / ref.recall).toBeGreaterThan(0.44);
    expect(pr.recall / ref.recall).toBeLessThan(0.56);
  });

  test("N = 2000 per set, F = 64, is fast", () => {
    const rng = new Rng(5);
    const a = tf.tensor2d(gaussian(rng, 2000, new Array(64).fill(0), new Array(64).fill(1)));
    const b = tf.tensor2d(gaussian(rng, 2000, new Array(64).fill(0.2), new Array(64).fill(1)));
    const t0 = Date.now();
    const pr = precisionRecall(a, b);
    const ms = Date.now() - t0;
    console.log(`precisionRecall 2000×2000, F=64: ${ms} ms`, pr);
    expect(ms).toBeLessThan(5000);
    expect(pr.precision).toBeGreaterThan(0.5);
    tf.dispose([a, b]);
  });

  test("bad inputs", () => {
    expect(() => precisionRecall([[0], [1], [2]], [[0], [1], [2], [3]])).toThrow(/more than k = 3/);
    expect(() => precisionRecall([[0], [1]], [[0], [1]], { k: 0 })).toThrow(/positive integer/);
  });
});

describe("class accuracy, diversity, Inception Score", () => {
  test("classAccuracy from logits, probabilities or labels", () => {
    const logits = tf.tensor2d([[3, 1, 0], [0, 2, 1], [0, 0, 5], [1, 0, 0]]);
    expect(classAccuracy(logits, [0, 1, 2, 2])).toBe(0.75);
    expect(classAccuracy([[0.1, 0.9], [0.8, 0.2]], 1)).toBe(0.5);
    expect(classAccuracy([2, 2, 1, 2], tf.tensor1d([2, 2, 2, 2], "int32"))).toBe(0.75);
    expect(classAccuracy(tf.tensor1d([4, 4], "int32"), 4)).toBe(1);
    expect(() => classAccuracy([1, 2], [1])).toThrow(/2 predictions but 1 targets/);
    logits.dispose();
  });

  test("diversity: hand-computed configurations, a point mass is 0, singletons skipped", () => {
    // class 0: unit square (4 sides 1, 2 diagonals √2); class 1: two points 3 apart; class 2: one point (skipped)
    const feats = [[0, 0], [1, 0], [0, 1], [1, 1], [5, 5], [8, 5], [100, 100]];
    const labels = [0, 0, 0, 0, 1, 1, 2];
    const square = (4 + 2 * Math.SQRT2) / 6;
    expect(diversity(feats, labels)).toBeCloseTo((square + 3) / 2, 5);
    expect(diversity(feats.slice(0, 4))).toBeCloseTo(square, 5);
    const point = tf.tensor2d(Array.from({ length: 50 }, () => [123.456, -7.89, 1e3]));
    expect(diversity(point)).toBe(0);
    point.dispose();
    expect(() => diversity([[1], [2]], [0, 1])).toThrow(/at least 2 samples/);
  });

  test("diversity of 1D N(0, σ²) is E|x − y| = 2σ/√π", () => {
    const rng = new Rng(6);
    const sigma = 1.5;
    const x = gaussian(rng, 3000, [0], [sigma]);
    const before = tf.memory().numTensors;
    expect(Math.abs(diversity(x) - (2 * sigma) / Math.sqrt(Math.PI))).toBeLessThan(0.03);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("Inception Score: uniform → 1, confident and balanced → K, a two-class closed form", () => {
    const K = 10;
    expect(inceptionScore(Array.from({ length: 20 }, () => new Array(K).fill(1 / K)))).toBeCloseTo(1, 10);
    const oneHot = Array.from({ length: 50 }, (_, i) => Array.from({ length: K }, (_, j) => (j === i % K ? 1 : 0)));
    expect(inceptionScore(oneHot)).toBeCloseTo(K, 10);
    const collapsed = Array.from({ length: 50 }, () => Array.from({ length: K }, (_, j) => (j === 3 ? 1 : 0)));
    expect(inceptionScore(collapsed)).toBeCloseTo(1, 10);
    // rows [p, 1 − p] and [1 − p, p] in equal numbers: p(y) uniform, IS = 2·exp(−H(p))
    const p = 0.8;
    const H = -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    expect(inceptionScore(tf.tensor2d([[p, 1 - p], [1 - p, p]]))).toBeCloseTo(2 * Math.exp(-H), 6);
    expect(inceptionScore([[Math.log(p), Math.log(1 - p)], [Math.log(1 - p), Math.log(p)]], { fromLogits: true })).toBeCloseTo(2 * Math.exp(-H), 10);
    expect(() => inceptionScore([[2, 1]])).toThrow(/not a probability vector/);
  });
});
