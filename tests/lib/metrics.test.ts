import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { mmdRbf, nearestModeStats, slicedWasserstein, wasserstein1dSquared } from "../../lib/src/metrics";
import { assertFrechetSampleSize, checkedFrechetDistance, frechetDistance } from "../../lib/src/metrics/frechet";
import { precisionRecall } from "../../lib/src/metrics/precisionRecall";
import { diversity, diversityAsAsked } from "../../lib/src/metrics/classScores";

beforeAll(async () => {
  await initBackend();
});

/** Direct O(mn) MMD² in float64 (Gretton et al. 2012, Eqs. 3 and 5). */
function refMmd(x: Float32Array, y: Float32Array, D: number, h: number, unbiased: boolean): number {
  const m = x.length / D;
  const n = y.length / D;
  const k = (a: Float32Array, i: number, b: Float32Array, j: number) => {
    let d2 = 0;
    for (let d = 0; d < D; d++) d2 += (a[i * D + d] - b[j * D + d]) ** 2;
    return Math.exp(-d2 / (2 * h * h));
  };
  let kxx = 0;
  let kyy = 0;
  let kxy = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (!unbiased || i !== j) kxx += k(x, i, x, j);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (!unbiased || i !== j) kyy += k(y, i, y, j);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) kxy += k(x, i, y, j);
  return unbiased
    ? kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - (2 * kxy) / (m * n)
    : kxx / (m * m) + kyy / (n * n) - (2 * kxy) / (m * n);
}

function shifted(x: Float32Array, D: number, c: number[]): Float32Array {
  return x.map((v, i) => v + c[i % D]);
}

describe("mmdRbf", () => {
  test("matches a direct float64 computation (biased and unbiased, two bandwidths)", () => {
    const rng = new Rng(0);
    const xa = rng.normalArray(150 * 2);
    const ya = shifted(rng.normalArray(200 * 2), 2, [0.5, -0.25]);
    const x = tf.tensor2d(xa, [150, 2]);
    const y = tf.tensor2d(ya, [200, 2]);
    const before = tf.memory().numTensors;
    for (const h of [0.5, 2]) {
      expect(mmdRbf(x, y, h)).toBeCloseTo(refMmd(xa, ya, 2, h, true), 5);
      expect(mmdRbf(x, y, h, { unbiased: false })).toBeCloseTo(refMmd(xa, ya, 2, h, false), 5);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });

  test("identical sets: biased MMD² = 0; independent draws of one law: unbiased ≈ 0", () => {
    const rng = new Rng(1);
    const x = tf.tensor2d(rng.normalArray(500 * 2), [500, 2]);
    const y = tf.tensor2d(rng.normalArray(500 * 2), [500, 2]);
    expect(Math.abs(mmdRbf(x, x, 1, { unbiased: false }))).toBeLessThan(1e-6);
    expect(Math.abs(mmdRbf(x, y, 1))).toBeLessThan(3e-3);
    const z = tf.tidy(() => tf.add(y, tf.tensor1d([1, 0]))) as tf.Tensor2D;
    expect(mmdRbf(x, z, 1)).toBeGreaterThan(0.1);
    tf.dispose([x, y, z]);
  });

  test("more rows than one block (1024) still matches the direct computation", () => {
    const rng = new Rng(2);
    const xa = rng.normalArray(1100 * 2);
    const ya = shifted(rng.normalArray(300 * 2), 2, [0.2, 0]);
    const x = tf.tensor2d(xa, [1100, 2]);
    const y = tf.tensor2d(ya, [300, 2]);
    expect(mmdRbf(x, y, 1)).toBeCloseTo(refMmd(xa, ya, 2, 1, true), 5);
    expect(mmdRbf(y, x, 1)).toBeCloseTo(refMmd(xa, ya, 2, 1, true), 5);
    tf.dispose([x, y]);
  });

  test("2000 × 2000 takes well under a second (wasm, tfjs-node)", () => {
    const rng = new Rng(5);
    const x = tf.tensor2d(rng.normalArray(2000 * 2), [2000, 2]);
    const y = tf.tensor2d(rng.normalArray(2000 * 2), [2000, 2]);
    mmdRbf(x, y, 1); // warm-up
    const t0 = Date.now();
    const got = mmdRbf(x, y, 1);
    const ms = Date.now() - t0;
    // measured ≈ 90 ms on wasm, 2 cores; the pure-JS cpu backend is only a correctness reference
    if (tf.getBackend() !== "cpu") expect(ms).toBeLessThan(1000);
    expect(Math.abs(got)).toBeLessThan(2e-3);
    tf.dispose([x, y]);
  });

  test("rejects bad input", () => {
    const x = tf.zeros([3, 2]) as tf.Tensor2D;
    const y = tf.zeros([3, 3]) as tf.Tensor2D;
    expect(() => mmdRbf(x, y)).toThrow(/dims/);
    expect(() => mmdRbf(x, x, 0)).toThrow(/bandwidth/);
    tf.dispose([x, y]);
  });
});

describe("wasserstein1dSquared", () => {
  test("closed forms", () => {
    expect(wasserstein1dSquared([3, 1, 2], [2, 3, 4])).toBeCloseTo(1, 12); // shift by 1, unsorted input
    expect(wasserstein1dSquared([0, 1], [0, 0.5, 1])).toBeCloseTo(1 / 12, 12); // unequal sizes
    expect(wasserstein1dSquared([0], [1, 3])).toBeCloseTo(5, 12); // (1 + 9)/2
    expect(wasserstein1dSquared([1, 5, 2], [5, 1, 2])).toBe(0);
  });
});

describe("slicedWasserstein", () => {
  /** The unit directions slicedWasserstein draws from a fresh Rng(seed). */
  function directions(seed: number, L: number): number[][] {
    const rng = new Rng(seed);
    const out: number[][] = [];
    for (let l = 0; l < L; l++) {
      const v = rng.normalArray(2);
      const n = Math.hypot(v[0], v[1]);
      out.push([v[0] / n, v[1] / n]);
    }
    return out;
  }

  test("a shifted copy: SW² = mean_θ (θ·c)² exactly, ≈ |c|²/2 in expectation", () => {
    const rng = new Rng(3);
    const xa = rng.normalArray(300 * 2);
    const c = [1.5, -0.5];
    const x = tf.tensor2d(xa, [300, 2]);
    const y = tf.tensor2d(shifted(xa, 2, c), [300, 2]);
    const before = tf.memory().numTensors;
    const L = 64;
    const sw = slicedWasserstein(x, y, { numProjections: L, rng: new Rng(9) });
    expect(tf.memory().numTensors).toBe(before);
    const exact = directions(9, L).reduce((s, th) => s + (th[0] * c[0] + th[1] * c[1]) ** 2, 0) / L;
    expect(sw * sw).toBeCloseTo(exact, 4);
    const swMany = slicedWasserstein(x, y, { numProjections: 4000, rng: new Rng(10) });
    expect(swMany * swMany).toBeCloseTo((c[0] ** 2 + c[1] ** 2) / 2, 1);
    tf.dispose([x, y]);
  });

  test("1D-like sets of unequal size: SW² = mean_θ θ₁² · W2²(line)", () => {
    const x = tf.tensor2d([[0, 0], [1, 0]]);
    const y = tf.tensor2d([[0, 0], [0.5, 0], [1, 0]]);
    const L = 32;
    const sw = slicedWasserstein(x, y, { numProjections: L, rng: new Rng(11) });
    const m2 = directions(11, L).reduce((s, th) => s + th[0] * th[0], 0) / L;
    expect(sw * sw).toBeCloseTo(m2 / 12, 6);
    expect(slicedWasserstein(x, x, { rng: new Rng(0) })).toBe(0);
    tf.dispose([x, y]);
  });
});

describe("nearestModeStats", () => {
  const centers = [[0, 0], [10, 0]];
  let x: tf.Tensor2D;
  beforeAll(() => {
    x = tf.tensor2d([[1, 0], [0, 2], [9, 0], [30, 0]]);
  });
  afterAll(() => x.dispose());

  test("hand case: distances, counts, coverage, accuracy", () => {
    const s = nearestModeStats(x, centers, { labels: new Int32Array([0, 1, 1, 1]) });
    expect(s.meanDistance).toBeCloseTo((1 + 2 + 1 + 20) / 4, 6);
    expect(s.perMode).toEqual([2, 2]);
    expect(s.coverage).toBe(1);
    expect(s.fractionNear).toBe(1);
    expect(s.accuracy).toBeCloseTo(0.75, 12);
    expect(nearestModeStats(x, centers).accuracy).toBeUndefined();
  });

  test("radius and minFraction", () => {
    const s = nearestModeStats(x, centers, { radius: 5 });
    expect(s.perMode).toEqual([2, 1]);
    expect(s.fractionNear).toBe(0.75);
    expect(s.coverage).toBe(1); // default minFraction 0.5/2: ≥ 1 of 4 samples
    expect(nearestModeStats(x, centers, { radius: 5, minFraction: 0.5 }).coverage).toBe(0.5);
    expect(nearestModeStats(x, [[0, 0], [10, 0], [0, 50]]).coverage).toBeCloseTo(2 / 3, 12);
  });
});

describe("issue 14: metrics that hold at the sizes used", () => {
  const rows = (rng: Rng, n: number, d: number, shift = 0) => Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal() + shift));

  it("checkedFrechetDistance refuses N < 5·F with a clear error, and otherwise equals frechetDistance", () => {
    const rng = new Rng(1);
    const a = rows(rng, 49, 10);
    const b = rows(rng, 60, 10, 0.5);
    expect(() => checkedFrechetDistance(a, b)).toThrow(/49 samples for 10-dimensional features; the Fréchet distance needs N ≥ 5 × 10 = 50 per set .*too noisy.*pcaDim ≤ 9/);
    expect(() => checkedFrechetDistance(rows(rng, 8, 10), b)).toThrow(/singular/);
    const a50 = rows(rng, 50, 10);
    const r = checkedFrechetDistance(a50, b);
    expect(r).toEqual({ distance: frechetDistance(a50, b), n: 50, dim: 10, reduced: false });
    expect(() => assertFrechetSampleSize(100, 100, 21)).toThrow(/105/);
    expect(() => assertFrechetSampleSize(105, 200, 21)).not.toThrow();
  });

  it("with pcaDim it projects both sets on the union's components and checks N against pcaDim", () => {
    const rng = new Rng(2);
    const a = rows(rng, 40, 20);
    const b = rows(rng, 40, 20, 1); // shifted by 1 in every coordinate: the top component carries it
    const r = checkedFrechetDistance(a, b, { pcaDim: 4 });
    expect(r.reduced).toBe(true);
    expect(r.dim).toBe(4);
    expect(r.distance).toBeGreaterThan(10); // ‖μ1 − μ2‖² ≈ 20 lies along the first component
    expect(() => checkedFrechetDistance(a, b, { pcaDim: 9 })).toThrow(/N ≥ 5 × 9 = 45/);
    expect(() => checkedFrechetDistance(a, b, { pcaDim: 0 })).toThrow(/pcaDim must be an integer in 1…20/);
    const same = checkedFrechetDistance(a, a, { pcaDim: 4 });
    expect(same.distance).toBeLessThan(1e-9);
  });

  it("precisionRecall equalSize: 'require' throws on unequal sets, 'subsample' draws the larger down with a seed", () => {
    const rng = new Rng(3);
    const real = rows(rng, 60, 3);
    const fake = rows(rng, 30, 3);
    expect(() => precisionRecall(real, fake, { equalSize: "require" })).toThrow(/equal-size sets required, got 60 real and 30 fake/);
    expect(() => precisionRecall(real, fake, { equalSize: "subsample" })).toThrow(/needs an integer seed/);
    const a = precisionRecall(real, fake, { equalSize: "subsample", seed: 1 });
    expect(precisionRecall(real, fake, { equalSize: "subsample", seed: 1 })).toEqual(a);
    // The same as passing the first 30 of the seeded permutation by hand.
    const idx = Array.from(new Rng(1).permutation(60).slice(0, 30)).sort((x, y) => x - y);
    expect(a).toEqual(precisionRecall(idx.map((i) => real[i]), fake));
    expect(precisionRecall(fake, fake, { equalSize: "require" })).toEqual({ precision: 1, recall: 1 });
    expect(() => precisionRecall(real, fake, { equalSize: "bogus" as "require" })).toThrow(/equalSize must be/);
  });

  it("diversityAsAsked keeps only the samples classified as their target, so noise cannot win", () => {
    const rng = new Rng(4);
    // Class 0: 4 tight samples classified correctly, 4 far-flung 'garbage' samples classified as class 1.
    const tight = Array.from({ length: 4 }, () => [0.1 * rng.normal(), 0.1 * rng.normal()]);
    const garbage = Array.from({ length: 4 }, () => [10 * rng.normal(), 10 * rng.normal()]);
    const feats = [...tight, ...garbage];
    const targets = [0, 0, 0, 0, 0, 0, 0, 0];
    const predicted = [0, 0, 0, 0, 1, 1, 1, 1];
    const d = diversityAsAsked(feats, targets, predicted);
    expect(d.kept).toBe(4);
    expect(d.classes).toBe(1);
    expect(d.diversity).toBeCloseTo(diversity(tight), 5);
    expect(diversity(feats, targets)).toBeGreaterThan(10 * d.diversity); // the old score rewards the garbage
    // Logits work too (argmax), and a tensor of logits gives the same.
    const logits = predicted.map((p) => (p === 0 ? [2, 0] : [0, 2]));
    expect(diversityAsAsked(feats, targets, logits)).toEqual(d);
    const t = tf.tensor2d(logits);
    expect(diversityAsAsked(feats, targets, t)).toEqual(d);
    t.dispose();
    expect(() => diversityAsAsked(feats, targets, [1, 1, 1, 1, 1, 1, 1, 1])).toThrow(/no class has 2 samples classified as asked \(0 of 8/);
    expect(() => diversityAsAsked(feats, targets, [0, 1])).toThrow(/8 samples but 2 predictions/);
  });
});
