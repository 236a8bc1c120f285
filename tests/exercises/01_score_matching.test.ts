/**
 * Public checks for notebook 01's exercises. In the instructor repository they run against the
 * reference solutions; with EXERCISE_MODULE=path, against that module (see harness.ts). In a
 * student release, a jest setup file points them at the functions extracted from the student's
 * notebook and skips, with a clear note, the checks of exercises that are still stubs.
 * Expected values come from plain-JavaScript arithmetic written independently here.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, Rng } from "@course/lib";
import { expectMatrixClose, loadExercises, randomMatrix, take2d, zip2d } from "./harness";

interface Exercises01 {
  addNoise(x0: tf.Tensor2D, eps: tf.Tensor2D, alphaBar: number): tf.Tensor2D;
  epsMseLoss(epsHat: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar;
  tweedieScore(x0Hat: tf.Tensor2D, z: tf.Tensor2D, t: number): tf.Tensor2D;
  ddimUpdate(xt: tf.Tensor2D, epsHat: tf.Tensor2D, alphaBarT: number, alphaBarPrev: number): tf.Tensor2D;
}

const { impl, source } = loadExercises<Exercises01>("01_score_matching");
const TOL = 1e-5;

beforeAll(async () => {
  await initBackend();
});

describe(`01_score_matching exercises (${source})`, () => {
  describe("addNoise", () => {
    test("matches sqrt(ᾱ)·x0 + sqrt(1−ᾱ)·eps on random inputs", () => {
      const rng = new Rng(11);
      for (const alphaBar of [0.999, 0.5, 0.02]) {
        const x0 = randomMatrix(rng, 7, 2, 3);
        const eps = randomMatrix(rng, 7, 2);
        const want = zip2d(x0.a, eps.a, (x, e) => Math.sqrt(alphaBar) * x + Math.sqrt(1 - alphaBar) * e);
        expectMatrixClose(impl.addNoise(x0.t, eps.t, alphaBar), want, TOL, `addNoise(ᾱ=${alphaBar})`);
        x0.t.dispose();
        eps.t.dispose();
      }
    });
    test("limits: ᾱ = 1 returns x0; ᾱ → 0 returns eps", () => {
      const rng = new Rng(12);
      const x0 = randomMatrix(rng, 4, 3);
      const eps = randomMatrix(rng, 4, 3);
      expectMatrixClose(impl.addNoise(x0.t, eps.t, 1), x0.a, TOL, "addNoise(ᾱ=1)");
      expectMatrixClose(impl.addNoise(x0.t, eps.t, 1e-12), eps.a, 1e-4, "addNoise(ᾱ≈0)");
      tf.dispose([x0.t, eps.t]);
    });
    test("preserves unit variance for unit-variance data (variance preserving)", () => {
      const rng = new Rng(13);
      const n = 20000;
      const x0 = rng.randn([n, 1]) as tf.Tensor2D;
      const eps = rng.randn([n, 1]) as tf.Tensor2D;
      const z = impl.addNoise(x0, eps, 0.3);
      const v = tf.moments(z).variance.dataSync()[0];
      tf.dispose([x0, eps, z]);
      expect(Math.abs(v - 1)).toBeLessThan(0.05);
    });
  });

  describe("epsMseLoss", () => {
    test("is the mean of squared errors over all entries", () => {
      const rng = new Rng(21);
      const a = randomMatrix(rng, 5, 2);
      const b = randomMatrix(rng, 5, 2);
      const flat = zip2d(a.a, b.a, (x, y) => (x - y) ** 2).flat();
      const want = flat.reduce((s, v) => s + v, 0) / flat.length;
      const loss = impl.epsMseLoss(a.t, b.t);
      expect(loss.shape).toEqual([]);
      expect(loss.dataSync()[0]).toBeCloseTo(want, 5);
      tf.dispose([a.t, b.t, loss]);
    });
    test("is zero for a perfect prediction and differentiable", () => {
      const rng = new Rng(22);
      const a = randomMatrix(rng, 3, 2);
      const zero = impl.epsMseLoss(a.t, a.t);
      expect(zero.dataSync()[0]).toBeCloseTo(0, 7);
      const g = tf.grad((x: tf.Tensor) => impl.epsMseLoss(x as tf.Tensor2D, tf.zerosLike(x) as tf.Tensor2D))(a.t);
      // d/dx mean(x²) = 2x / N
      expectMatrixClose(g, a.a.map((r) => r.map((x) => (2 * x) / 6)), 1e-4, "gradient of epsMseLoss");
      tf.dispose([a.t, zero]);
    });
  });

  describe("tweedieScore", () => {
    test("equals (x0Hat − z) / t", () => {
      const rng = new Rng(31);
      for (const t of [0.01, 1, 25]) {
        const x0Hat = randomMatrix(rng, 6, 2, 2);
        const z = randomMatrix(rng, 6, 2, 3);
        const want = zip2d(x0Hat.a, z.a, (m, y) => (m - y) / t);
        expectMatrixClose(impl.tweedieScore(x0Hat.t, z.t, t), want, 1e-4, `tweedieScore(t=${t})`);
        tf.dispose([x0Hat.t, z.t]);
      }
    });
    test("is exact for a single Gaussian: x0 ~ N(m, 1) ⇒ score of N(m, 1 + t)", () => {
      // E[x0 | z] = m + (z − m)/(1 + t); true score = −(z − m)/(1 + t).
      const m = 1.5;
      const t = 0.7;
      const zs = [[-2, 0.5], [0, 3], [4, -1]];
      const x0Hat = zs.map((r) => r.map((z) => m + (z - m) / (1 + t)));
      const want = zs.map((r) => r.map((z) => -(z - m) / (1 + t)));
      const zt = tf.tensor2d(zs);
      const mt = tf.tensor2d(x0Hat);
      expectMatrixClose(impl.tweedieScore(mt, zt, t), want, 1e-5, "tweedieScore on a Gaussian");
      tf.dispose([zt, mt]);
    });
  });

  describe("ddimUpdate", () => {
    test("matches the DDIM η=0 update on random inputs", () => {
      const rng = new Rng(41);
      const cases: [number, number][] = [[0.1, 0.3], [0.5, 0.9], [0.95, 1]];
      for (const [abT, abS] of cases) {
        const xt = randomMatrix(rng, 5, 2, 2);
        const e = randomMatrix(rng, 5, 2);
        const want = zip2d(xt.a, e.a, (x, ep) => {
          const x0 = (x - Math.sqrt(1 - abT) * ep) / Math.sqrt(abT);
          return Math.sqrt(abS) * x0 + Math.sqrt(1 - abS) * ep;
        });
        expectMatrixClose(impl.ddimUpdate(xt.t, e.t, abT, abS), want, 1e-4, `ddimUpdate(ᾱ_t=${abT}, ᾱ_s=${abS})`);
        tf.dispose([xt.t, e.t]);
      }
    });
    test("is the identity when ᾱ_s = ᾱ_t, and recovers x0 exactly when eps is the true noise", () => {
      const rng = new Rng(42);
      const x0 = randomMatrix(rng, 4, 2, 2);
      const e = randomMatrix(rng, 4, 2);
      const ab = 0.4;
      const xt = zip2d(x0.a, e.a, (x, ep) => Math.sqrt(ab) * x + Math.sqrt(1 - ab) * ep);
      const xtT = tf.tensor2d(xt);
      expectMatrixClose(impl.ddimUpdate(xtT, e.t, ab, ab), xt, 1e-4, "ddimUpdate with ᾱ_s = ᾱ_t");
      expectMatrixClose(impl.ddimUpdate(xtT, e.t, ab, 1), x0.a, 1e-4, "ddimUpdate to ᾱ_s = 1");
      tf.dispose([x0.t, e.t, xtT]);
    });
    test("leaks no tensors", () => {
      const rng = new Rng(43);
      const xt = randomMatrix(rng, 3, 2);
      const before = tf.memory().numTensors;
      take2d(impl.ddimUpdate(xt.t, xt.t, 0.3, 0.6));
      take2d(impl.addNoise(xt.t, xt.t, 0.3));
      take2d(impl.tweedieScore(xt.t, xt.t, 0.3));
      impl.epsMseLoss(xt.t, xt.t).dispose();
      expect(tf.memory().numTensors).toBe(before);
      xt.t.dispose();
    });
  });
});
