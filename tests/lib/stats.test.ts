/**
 * lib/src/stats: closed forms and literature values (Wilson 1927 / Newcombe 1998 tables),
 * bootstrap coverage of a known normal mean, paired against unpaired, seeds and verdicts.
 */
import {
  normalCdf, normalQuantile, zFor, wilsonInterval, newcombeDifference, successesFromRate,
  bootstrapCI, pairedBootstrapCI, twoSampleBootstrapCI, pairedDifferences, sortedQuantile, mean,
  deriveSeeds, runSeeds, poolSamples, summarizeSeeds, decideVerdict, formatInterval, Interval,
} from "../../lib/src/stats";
import { Rng } from "../../lib/src/random";

describe("normal distribution", () => {
  it("matches known values of Φ and Φ⁻¹", () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 13);
    expect(normalCdf(-5)).toBeCloseTo(2.866515718791939e-7, 15);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 7);
    expect(normalQuantile(0.9999)).toBeCloseTo(3.719016485455709, 7);
    expect(zFor(0.9)).toBeCloseTo(1.6448536269514722, 8);
    for (const p of [1e-6, 0.01, 0.2, 0.7, 0.99]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 8);
  });
  it("rejects bad input", () => {
    expect(() => normalQuantile(1.5)).toThrow(/p must be in \[0, 1\]/);
    expect(() => zFor(1)).toThrow(/confidence must be strictly between 0 and 1/);
  });
});

describe("wilsonInterval (Wilson 1927; values from Newcombe 1998, Stat. Med. 17:857, Table II method 3)", () => {
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])("%i/%i → [%f, %f]", (x, n, lo, hi) => {
    const iv = wilsonInterval(x, n);
    expect(iv.lo).toBeCloseTo(lo, 4);
    expect(iv.hi).toBeCloseTo(hi, 4);
    expect(iv.estimate).toBeCloseTo(x / n, 12);
    expect(iv).toMatchObject({ n, confidence: 0.95, method: "wilson" });
  });
  it("is symmetric under x → n − x and reaches 1 at x = n", () => {
    const a = wilsonInterval(3, 17);
    const b = wilsonInterval(14, 17);
    expect(a.lo).toBeCloseTo(1 - b.hi, 12);
    expect(a.hi).toBeCloseTo(1 - b.lo, 12);
    expect(wilsonInterval(20, 20).hi).toBe(1);
  });
  it("covers a known p at about the nominal rate (seeded simulation)", () => {
    const rng = new Rng(7);
    const p = 0.3;
    const n = 50;
    let covered = 0;
    const reps = 4000;
    for (let r = 0; r < reps; r++) {
      let x = 0;
      for (let i = 0; i < n; i++) if (rng.uniform() < p) x++;
      const iv = wilsonInterval(x, n);
      if (iv.lo <= p && p <= iv.hi) covered++;
    }
    expect(covered / reps).toBeGreaterThan(0.93);
    expect(covered / reps).toBeLessThan(0.97);
  });
  it("rejects impossible counts", () => {
    expect(() => wilsonInterval(5, 4)).toThrow(/successes must be an integer in 0…4/);
    expect(() => wilsonInterval(1, 0)).toThrow(/n must be a positive integer/);
    expect(() => wilsonInterval(1.5, 4)).toThrow(/successes/);
  });
});

describe("newcombeDifference (Newcombe 1998, Stat. Med. 17:873, Table II method 10)", () => {
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
  ])("%i/%i − %i/%i → [%f, %f]", (x1, n1, x2, n2, lo, hi) => {
    const iv = newcombeDifference(x1, n1, x2, n2);
    expect(iv.lo).toBeCloseTo(lo, 4);
    expect(iv.hi).toBeCloseTo(hi, 4);
    expect(iv.estimate).toBeCloseTo(x1 / n1 - x2 / n2, 12);
    expect(iv.n).toBe(n1 + n2);
  });
  it("names the bad group", () => {
    expect(() => newcombeDifference(1, 2, 3, 2)).toThrow(/group 2/);
  });
});

describe("successesFromRate", () => {
  it("recovers whole counts and rejects rates that are not", () => {
    expect(successesFromRate(0.83, 100)).toBe(83);
    expect(successesFromRate(1 / 3, 120)).toBe(40);
    expect(() => successesFromRate(0.835, 100)).toThrow(/not a whole number/);
  });
});

describe("bootstrap", () => {
  it("sortedQuantile interpolates like numpy (type 7)", () => {
    expect(sortedQuantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(sortedQuantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(sortedQuantile([5], 0.9)).toBe(5);
  });

  it("is reproducible from its seed and brackets the estimate", () => {
    const x = Array.from(new Rng(1).normalArray(40));
    const a = bootstrapCI(x, { seed: 3 });
    const b = bootstrapCI(x, { seed: 3 });
    const c = bootstrapCI(x, { seed: 4 });
    expect(a).toEqual(b);
    expect(a.lo).not.toBe(c.lo);
    expect(a.estimate).toBeCloseTo(mean(x), 12);
    expect(a.lo).toBeLessThan(a.estimate);
    expect(a.hi).toBeGreaterThan(a.estimate);
    expect(a.method).toBe("bootstrap-bca");
  });

  it("gives roughly mean ± 1.96·s/√n for a large normal sample (closed form)", () => {
    const n = 400;
    const x = Array.from(new Rng(2).normalArray(n)).map((v) => 5 + 2 * v);
    const m = mean(x);
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1));
    for (const method of ["percentile", "bca"] as const) {
      const iv = bootstrapCI(x, { seed: 0, method, resamples: 4000 });
      expect((iv.hi - iv.lo) / 2).toBeCloseTo((1.96 * sd) / Math.sqrt(n), 1);
      expect(Math.abs((iv.lo + iv.hi) / 2 - m)).toBeLessThan(0.03);
    }
  });

  it.each(["percentile", "bca"] as const)("%s interval covers a known normal mean at about 95%% over seeded repetitions", (method) => {
    const reps = 300;
    let covered = 0;
    for (let r = 0; r < reps; r++) {
      const x = new Rng(1000 + r).normalArray(40); // N(0, 1), true mean 0
      const iv = bootstrapCI(x, { seed: r, method, resamples: 1000 });
      if (iv.lo <= 0 && 0 <= iv.hi) covered++;
    }
    // 95% nominal; the bootstrap undercovers slightly at n = 40 (≈ 93–94%); binomial sd ≈ 1.3 points.
    expect(covered / reps).toBeGreaterThan(0.9);
    expect(covered / reps).toBeLessThan(0.985);
  });

  it("BCa follows a skewed statistic better than the percentile interval's symmetric error (exponential mean)", () => {
    // For Exp(1) means the sampling distribution is right-skewed: the BCa interval's upper arm is the longer one.
    const rng = new Rng(9);
    const x = Array.from({ length: 30 }, () => -Math.log(1 - rng.uniform()));
    const iv = bootstrapCI(x, { seed: 1, resamples: 4000 });
    expect(iv.hi - iv.estimate).toBeGreaterThan(iv.estimate - iv.lo);
  });

  it("a constant sample gives the point itself", () => {
    const iv = bootstrapCI([2, 2, 2, 2], { seed: 0 });
    expect([iv.lo, iv.estimate, iv.hi]).toEqual([2, 2, 2]);
  });

  it("takes a custom statistic (median)", () => {
    const x = [1, 2, 3, 4, 100];
    const med = (v: Float64Array) => sortedQuantile(Float64Array.from(v).sort(), 0.5);
    const iv = bootstrapCI(x, { seed: 0, statistic: med, method: "percentile" });
    expect(iv.estimate).toBe(3);
    expect(iv.hi).toBeLessThanOrEqual(100);
  });

  it("rejects bad input clearly", () => {
    expect(() => bootstrapCI([1], { seed: 0 })).toThrow(/at least 2 values/);
    expect(() => bootstrapCI([1, NaN], { seed: 0 })).toThrow(/value 1 is NaN/);
    expect(() => bootstrapCI([1, 2], { seed: 0, resamples: 10 })).toThrow(/resamples must be an integer ≥ 100/);
    expect(() => bootstrapCI([1, 2], { seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => bootstrapCI([1, 2], { seed: 0, method: "bogus" as "bca" })).toThrow(/method must be/);
    expect(() => pairedDifferences([1, 2], [1])).toThrow(/must pair up/);
    expect(() => twoSampleBootstrapCI([1, 2], [1, 2], { seed: 0, method: "bca" })).toThrow(/only the percentile/);
  });

  it("paired intervals are much narrower than unpaired ones when the pairs share most of their variance", () => {
    const rng = new Rng(11);
    const n = 60;
    const shared = Array.from({ length: n }, () => 3 * rng.normal()); // unit effects, sd 3
    const a = shared.map((s) => s + 0.3 + 0.2 * rng.normal()); // true effect +0.3
    const b = shared.map((s) => s + 0.2 * rng.normal());
    const paired = pairedBootstrapCI(a, b, { seed: 1 });
    const unpaired = twoSampleBootstrapCI(a, b, { seed: 1 });
    expect(paired.estimate).toBeCloseTo(unpaired.estimate, 12);
    expect(paired.hi - paired.lo).toBeLessThan((unpaired.hi - unpaired.lo) / 5);
    expect(paired.lo).toBeGreaterThan(0); // the paired design detects the effect…
    expect(unpaired.lo).toBeLessThan(0); // …the unpaired one cannot at this n
    expect(paired.method).toBe("paired-bootstrap-bca");
    expect(unpaired.n).toBe(2 * n);
  });

  it("paired and unpaired agree when the pairs are independent", () => {
    const rng = new Rng(12);
    const a = Array.from(rng.normalArray(200));
    const b = Array.from(rng.normalArray(200));
    const p = pairedBootstrapCI(a, b, { seed: 2, method: "percentile" });
    const u = twoSampleBootstrapCI(a, b, { seed: 2 });
    expect((p.hi - p.lo) / (u.hi - u.lo)).toBeGreaterThan(0.85);
    expect((p.hi - p.lo) / (u.hi - u.lo)).toBeLessThan(1.15);
  });
});

describe("seeds", () => {
  it("derives distinct, reproducible, prefix-stable seeds", () => {
    const s = deriveSeeds(2024, 5);
    expect(s).toEqual(deriveSeeds(2024, 5));
    expect(deriveSeeds(2024, 3)).toEqual(s.slice(0, 3));
    expect(new Set(s).size).toBe(5);
    expect(deriveSeeds(2025, 5)).not.toEqual(s);
    for (const v of s) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
    expect(() => deriveSeeds(1, 0)).toThrow(/k must be a positive integer/);
    expect(() => deriveSeeds(1.5, 2)).toThrow(/master seed must be an integer/);
  });
  it("runs one measurement per seed, pools and summarises", () => {
    const done: number[] = [];
    const runs = runSeeds([4, 5, 6], (seed, j) => seed * 10 + j, (d) => done.push(d));
    expect(runs).toEqual([{ seed: 4, result: 40 }, { seed: 5, result: 51 }, { seed: 6, result: 62 }]);
    expect(done).toEqual([1, 2, 3]);
    expect(Array.from(poolSamples([[1, 2], new Float32Array([3])]))).toEqual([1, 2, 3]);
    const s = summarizeSeeds([1, 2, 6]);
    expect(s).toEqual({ k: 3, mean: 3, sd: Math.sqrt(7), min: 1, max: 6 });
    expect(summarizeSeeds([4]).sd).toBe(0);
    expect(() => runSeeds([1, 1], () => 0)).toThrow(/distinct/);
    expect(() => runSeeds([], () => 0)).toThrow(/no seeds/);
    expect(() => summarizeSeeds([1, NaN])).toThrow(/finite/);
  });
});

describe("decideVerdict", () => {
  const iv = (estimate: number, lo: number, hi: number, n = 300): Interval => ({ estimate, lo, hi, n, confidence: 0.95, method: "test" });
  const base = { claim: "s > 1 sharpens class specificity", effect: "accuracy(s=3) − accuracy(s=1)", direction: "greater" as const };

  it("reproduced only when the whole interval is on the predicted side", () => {
    const v = decideVerdict({ ...base, interval: iv(0.12, 0.05, 0.2), seeds: [1, 2, 3] });
    expect(v.label).toBe("reproduced");
    expect(v.sentence).toBe("Reproduced: s > 1 sharpens class specificity. accuracy(s=3) − accuracy(s=1) = +0.120, 95% CI [+0.050, +0.200], n = 300, 3 seeds (1, 2, 3); the interval lies entirely above 0.000, as predicted.");
  });
  it("opposite when the whole interval is on the other side", () => {
    const v = decideVerdict({ ...base, interval: iv(-0.1, -0.2, -0.01) });
    expect(v.label).toBe("not reproduced (significant, opposite)");
    expect(v.kind).toBe("opposite");
    expect(v.sentence).toContain("entirely below");
  });
  it("inconclusive (naming n) when the interval contains or touches the null value, without claiming a direction", () => {
    for (const i of [iv(0.01, -0.02, 0.04, 100), iv(0.03, 0, 0.06, 100)]) {
      const v = decideVerdict({ ...base, interval: i });
      expect(v.label).toBe("inconclusive at n = 100");
      expect(v.sentence).toMatch(/^Inconclusive at n = 100: .*cannot tell whether s > 1 sharpens/);
      expect(v.sentence).not.toMatch(/reproduced|significant|beats|better/i);
    }
  });
  it("honours direction 'less', a null value and a unit", () => {
    const v = decideVerdict({ claim: "diversity falls with s", effect: "diversity change", direction: "less", interval: iv(0.5, 0.2, 0.8), nullValue: 1, unit: " u", digits: 1 });
    expect(v.label).toBe("reproduced");
    expect(v.sentence).toContain("[+0.2 u, +0.8 u]");
    expect(v.sentence).toContain("entirely below +1.0 u");
    expect(decideVerdict({ claim: "c", effect: "e", direction: "less", interval: iv(2, 1.5, 3), nullValue: 1 }).kind).toBe("opposite");
  });
  it("rejects malformed intervals", () => {
    expect(() => decideVerdict({ ...base, interval: iv(0.5, 0.6, 0.7) })).toThrow(/lo ≤ estimate ≤ hi/);
    expect(() => decideVerdict({ ...base, interval: iv(0.5, NaN, 0.7) })).toThrow(/lo must be finite/);
    expect(() => decideVerdict({ ...base, interval: iv(0.5, 0.4, 0.7, 0) })).toThrow(/positive integer/);
    expect(() => decideVerdict({ ...base, direction: "up" as "greater", interval: iv(0.5, 0.4, 0.7) })).toThrow(/direction/);
  });
  it("formatInterval", () => {
    expect(formatInterval(iv(0.62, 0.55, 0.69))).toBe("0.620 [0.550, 0.690]");
  });
});
