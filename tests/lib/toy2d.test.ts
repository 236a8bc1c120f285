import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import {
  GaussianMixture,
  checkerboard,
  gmmLogPdfVE,
  gmmLogPdfVP,
  gmmPosteriorMeanVE,
  gmmPosteriorMeanVP,
  gmmScoreVE,
  gmmScoreVP,
  ringGaussians,
  ringMixture,
  sampleGmm,
  swissRoll,
  toTensors,
  twoMoons,
} from "../../lib/src/data/toy2d";

beforeAll(async () => {
  await initBackend();
});

/** Reference ln p(z) in float64 for z = a·x0 + sqrt(c)·ε, x0 ~ GMM. */
function refLogPdf(z: number[], gmm: GaussianMixture, a: number, c: number): number {
  const v = a * a * gmm.std * gmm.std + c;
  const wSum = gmm.weights.reduce((p, q) => p + q, 0);
  const terms = gmm.means.map((mu, k) => {
    const d2 = (z[0] - a * mu[0]) ** 2 + (z[1] - a * mu[1]) ** 2;
    return Math.log(gmm.weights[k] / wSum) - d2 / (2 * v) - Math.log(2 * Math.PI * v);
  });
  const m = Math.max(...terms);
  return m + Math.log(terms.reduce((s, x) => s + Math.exp(x - m), 0));
}

function rows(t: tf.Tensor): number[][] {
  const v = t.dataSync();
  const out: number[][] = [];
  for (let i = 0; i < t.shape[0]; i++) out.push([v[2 * i], v[2 * i + 1]]);
  t.dispose();
  return out;
}

const points = [
  [0.1, 0.2],
  [3.5, 0.4],
  [-2.0, 2.2],
  [0.0, -4.3],
  [2.7, 2.9],
];

describe("datasets", () => {
  test("ringMixture: mode k at angle 2πk/K, equal weights", () => {
    const g = ringMixture();
    expect(g.means.length).toBe(8);
    expect(g.means[2][0]).toBeCloseTo(0, 12);
    expect(g.means[2][1]).toBeCloseTo(4, 12);
    expect(g.means[1][0]).toBeCloseTo(4 / Math.SQRT2, 12);
    expect(g.std).toBe(0.3);
    expect(g.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(ringMixture({ numModes: 3, radius: 1 }).means[1][0]).toBeCloseTo(-0.5, 12);
  });

  test("ringGaussians: labels are modes, spread is std, balanced, reproducible", () => {
    const d = ringGaussians({ n: 4000, rng: new Rng(0) });
    const g = ringMixture();
    expect(d.n).toBe(4000);
    expect(d.x.length).toBe(8000);
    expect(d.numClasses).toBe(8);
    let s2 = 0;
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < d.n; i++) {
      const mu = g.means[d.y[i]];
      s2 += (d.x[2 * i] - mu[0]) ** 2 + (d.x[2 * i + 1] - mu[1]) ** 2;
      counts[d.y[i]]++;
    }
    expect(s2 / (2 * d.n) / 0.09).toBeCloseTo(1, 1); // E‖x − μ‖² = 2·std²
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(100);
    expect(ringGaussians({ n: 4000, rng: new Rng(0) }).x).toEqual(d.x);
  });

  test("sampleGmm follows unequal weights", () => {
    const g: GaussianMixture = { means: [[0, 0], [5, 5]], std: 0.1, weights: [3, 1] };
    const d = sampleGmm(g, 8000, new Rng(1));
    const frac1 = d.y.reduce((s, y) => s + y, 0) / d.n;
    expect(Math.abs(frac1 - 0.25)).toBeLessThan(0.02);
  });

  test("twoMoons without noise lies on the two half circles; labels alternate", () => {
    const d = twoMoons({ n: 200, noise: 0, rng: new Rng(2) });
    expect(d.numClasses).toBe(2);
    for (let i = 0; i < d.n; i++) {
      const [x, y] = [d.x[2 * i], d.x[2 * i + 1]];
      expect(d.y[i]).toBe(i % 2);
      if (d.y[i] === 0) {
        expect(x * x + y * y).toBeCloseTo(1, 5);
        expect(y).toBeGreaterThanOrEqual(0);
      } else {
        expect((x - 1) ** 2 + (y - 0.5) ** 2).toBeCloseTo(1, 5);
        expect(y).toBeLessThanOrEqual(0.5 + 1e-6);
      }
    }
  });

  test("swissRoll without noise: radius θ/5 and class = arc segment", () => {
    const d = swissRoll({ n: 500, noise: 0, rng: new Rng(3), numClasses: 4 });
    for (let i = 0; i < d.n; i++) {
      const r = Math.hypot(d.x[2 * i], d.x[2 * i + 1]);
      const theta = 5 * r; // θ ∈ [1.5π, 4.5π)
      expect(theta).toBeGreaterThanOrEqual(1.5 * Math.PI - 1e-4);
      expect(theta).toBeLessThan(4.5 * Math.PI + 1e-4);
      const u = (theta / (1.5 * Math.PI) - 1) / 2;
      const expected = Math.min(3, Math.floor(u * 4));
      if (Math.abs(u * 4 - Math.round(u * 4)) > 1e-4) expect(d.y[i]).toBe(expected);
    }
  });

  test("checkerboard: every point inside its labelled dark cell", () => {
    const d = checkerboard({ n: 2000, rng: new Rng(4) });
    expect(d.numClasses).toBe(8);
    const counts = new Array<number>(8).fill(0);
    for (let p = 0; p < d.n; p++) {
      const j = Math.floor((d.x[2 * p] + 4) / 2);
      const i = Math.floor((d.x[2 * p + 1] + 4) / 2);
      expect((i + j) % 2).toBe(0);
      expect(d.y[p]).toBe(2 * i + Math.floor(j / 2));
      counts[d.y[p]]++;
    }
    for (const c of counts) expect(Math.abs(c - 250)).toBeLessThan(70);
  });

  test("toTensors: shapes and dtypes", () => {
    const d = ringGaussians({ n: 10, rng: new Rng(5) });
    const { x, y } = toTensors(d);
    expect(x.shape).toEqual([10, 2]);
    expect(y.shape).toEqual([10]);
    expect(y.dtype).toBe("int32");
    expect(x.dataSync()[3]).toBeCloseTo(d.x[3], 6);
    tf.dispose([x, y]);
  });
});

describe("noised GMM ground truth", () => {
  const gmm: GaussianMixture = { means: [[-2, 0], [2, 1], [0, 3]], std: 0.5, weights: [0.5, 0.3, 0.2] };

  test("gmmLogPdfVP matches a float64 reference; gmmLogPdfVE too", () => {
    const z = tf.tensor2d(points);
    const lp = gmmLogPdfVP(z, gmm, 0.6);
    const lpe = gmmLogPdfVE(z, gmm, 0.4);
    const a = lp.dataSync();
    const b = lpe.dataSync();
    points.forEach((p, i) => {
      expect(a[i]).toBeCloseTo(refLogPdf(p, gmm, Math.sqrt(0.6), 0.4), 4);
      expect(b[i]).toBeCloseTo(refLogPdf(p, gmm, 1, 0.4), 4);
    });
    tf.dispose([z, lp, lpe]);
  });

  test("gmmScoreVP equals central finite differences of ln p_t (float64)", () => {
    const before = tf.memory().numTensors;
    for (const ab of [0.999, 0.5, 0.02]) {
      const z = tf.tensor2d(points);
      const s = rows(gmmScoreVP(z, gmm, ab));
      z.dispose();
      const h = 1e-5;
      points.forEach((p, i) => {
        for (let d = 0; d < 2; d++) {
          const up = [...p];
          const dn = [...p];
          up[d] += h;
          dn[d] -= h;
          const fd = (refLogPdf(up, gmm, Math.sqrt(ab), 1 - ab) - refLogPdf(dn, gmm, Math.sqrt(ab), 1 - ab)) / (2 * h);
          expect(Math.abs(s[i][d] - fd)).toBeLessThan(1e-4 * (1 + Math.abs(fd)));
        }
      });
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("gmmScoreVE equals finite differences of ln p(z)", () => {
    const z = tf.tensor2d(points);
    const s = rows(gmmScoreVE(z, gmm, 0.3));
    z.dispose();
    const h = 1e-5;
    points.forEach((p, i) => {
      const fd = (refLogPdf([p[0], p[1] + h], gmm, 1, 0.3) - refLogPdf([p[0], p[1] - h], gmm, 1, 0.3)) / (2 * h);
      expect(s[i][1]).toBeCloseTo(fd, 3);
    });
  });

  test("the seed's identity ∇ln p_t(z) = (E[x0|t,z] − z)/t (VE, t = sigma2)", () => {
    for (const t of [0.01, 0.5, 4]) {
      const z = tf.tensor2d(points);
      const s = rows(gmmScoreVE(z, gmm, t));
      const m = rows(gmmPosteriorMeanVE(z, gmm, t));
      z.dispose();
      points.forEach((p, i) => {
        for (let d = 0; d < 2; d++) expect(s[i][d]).toBeCloseTo((m[i][d] - p[d]) / t, 2);
      });
    }
  });

  test("VP Tweedie: score = (sqrt(ᾱ)·E[x0|z] − z)/(1 − ᾱ); VP and VE agree through z/sqrt(ᾱ)", () => {
    const ab = 0.3;
    const z = tf.tensor2d(points);
    const s = rows(gmmScoreVP(z, gmm, ab));
    const m = rows(gmmPosteriorMeanVP(z, gmm, ab));
    const zVe = tf.div(z, Math.sqrt(ab)) as tf.Tensor2D;
    const sVe = rows(gmmScoreVE(zVe, gmm, (1 - ab) / ab));
    const mVe = rows(gmmPosteriorMeanVE(zVe, gmm, (1 - ab) / ab));
    tf.dispose([z, zVe]);
    points.forEach((p, i) => {
      for (let d = 0; d < 2; d++) {
        expect(s[i][d]).toBeCloseTo((Math.sqrt(ab) * m[i][d] - p[d]) / (1 - ab), 4);
        expect(s[i][d]).toBeCloseTo(sVe[i][d] / Math.sqrt(ab), 4);
        expect(m[i][d]).toBeCloseTo(mVe[i][d], 4);
      }
    });
  });

  test("single component: posterior mean is the conjugate Gaussian formula", () => {
    const one: GaussianMixture = { means: [[1, -1]], std: 2, weights: [1] };
    const z = tf.tensor2d([[3, 0.5]]);
    const m = rows(gmmPosteriorMeanVE(z, one, 1));
    z.dispose();
    // prior N(μ, 4), likelihood N(z; x0, 1): mean = μ + 4/5 (z − μ)
    expect(m[0][0]).toBeCloseTo(1 + 0.8 * 2, 5);
    expect(m[0][1]).toBeCloseTo(-1 + 0.8 * 1.5, 5);
  });

  test("stable far from every mode", () => {
    const z = tf.tensor2d([[300, -400]]);
    const ab = 0.9;
    const s = rows(gmmScoreVP(z, gmm, ab));
    z.dispose();
    const v = ab * 0.25 + 1 - ab;
    // the nearest scaled mean takes all the responsibility: (sqrt(ᾱ)·μ − z)/v with μ = (2, 1)
    expect(s[0][0]).toBeCloseTo((Math.sqrt(ab) * 2 - 300) / v, 1);
    expect(s[0][1]).toBeCloseTo((Math.sqrt(ab) * 1 + 400) / v, 1);
  });
});
