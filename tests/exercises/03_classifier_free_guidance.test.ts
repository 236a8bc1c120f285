/**
 * Public checks for notebook 03's exercises (classifier-free guidance, Ho & Salimans 2022). In
 * the instructor repository they run against the reference solutions; with EXERCISE_MODULE=path,
 * against that module (see harness.ts). In a student release, student mode (student-mode.ts)
 * points them at the functions extracted from the student's notebook and skips the checks of
 * exercises that are still stubs. Expected values come from plain-JavaScript arithmetic written
 * independently here, never from the reference.
 *
 * Notation: epsCond = ε̂(z_t, t, c), epsUncond = ε̂(z_t, t, ∅), s = the guidance scale,
 * sigma = σ_t = sqrt(1 − ᾱ_t), pUncond = p_uncond, nullId = the id of ∅ (the number of classes K).
 *
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, Rng } from "@course/lib";
import { expectMatrixClose, loadExercises, randomMatrix, take2d, zip2d } from "./harness";

interface Exercises03 {
  dropLabels(labels: tf.Tensor1D, u: tf.Tensor1D, pUncond: number, nullId: number): tf.Tensor1D;
  cfgEps(epsCond: tf.Tensor2D, epsUncond: tf.Tensor2D, s: number): tf.Tensor2D;
  implicitClassifierGrad(epsCond: tf.Tensor2D, epsUncond: tf.Tensor2D, sigma: number): tf.Tensor2D;
}

const { impl, source } = loadExercises<Exercises03>("03_classifier_free_guidance");
const TOL = 1e-5;

/** Read a 1-D tensor back (values and dtype) and dispose it. */
function take1d(t: tf.Tensor): { values: number[]; dtype: string; shape: number[] } {
  const out = { values: Array.from(t.dataSync()), dtype: t.dtype, shape: t.shape.slice() };
  t.dispose();
  return out;
}

/** Labels in {0, …, K−1} and uniform draws in [0, 1) (float32-exact), as JS values. */
function labelsAndDraws(rng: Rng, b: number, k: number): { labels: number[]; u: number[] } {
  return {
    labels: Array.from({ length: b }, () => rng.int(k)),
    u: Array.from({ length: b }, () => Math.fround(rng.uniform())),
  };
}

beforeAll(async () => {
  await initBackend();
});

describe(`03_classifier_free_guidance exercises (${source})`, () => {
  describe("dropLabels", () => {
    test("replaces label b by ∅ exactly when u_b < pUncond, and returns int32 [B]", () => {
      const rng = new Rng(301);
      for (const [b, k, p] of [[5, 3, 0.25], [40, 10, 0.125], [64, 2, 0.5]]) {
        const { labels, u } = labelsAndDraws(rng, b, k);
        const lt = tf.tensor1d(labels, "int32");
        const ut = tf.tensor1d(u);
        const got = take1d(impl.dropLabels(lt, ut, p, k));
        expect(got.dtype).toBe("int32");
        expect(got.shape).toEqual([b]);
        expect(got.values).toEqual(labels.map((y, i) => (u[i] < p ? k : y)));
        tf.dispose([lt, ut]);
      }
    });

    test("u exactly equal to pUncond keeps its label (strictly less drops)", () => {
      const labels = tf.tensor1d([0, 1, 2, 1], "int32");
      const u = tf.tensor1d([0.25, 0.2499, 0.2501, 0]);
      expect(take1d(impl.dropLabels(labels, u, 0.25, 3)).values).toEqual([0, 3, 2, 3]);
      tf.dispose([labels, u]);
    });

    test("pUncond = 0 keeps every label (even u = 0); pUncond = 1 drops every one", () => {
      const labels = tf.tensor1d([4, 0, 2, 3], "int32");
      const u = tf.tensor1d([0, 0.5, 0.99999, 0.3]);
      expect(take1d(impl.dropLabels(labels, u, 0, 5)).values).toEqual([4, 0, 2, 3]);
      expect(take1d(impl.dropLabels(labels, u, 1, 5)).values).toEqual([5, 5, 5, 5]);
      tf.dispose([labels, u]);
    });

    test("drops about a fraction pUncond of a large batch, and leaves no tensors behind", () => {
      const rng = new Rng(302);
      const { labels, u } = labelsAndDraws(rng, 10000, 10);
      const lt = tf.tensor1d(labels, "int32");
      const ut = tf.tensor1d(u);
      const before = tf.memory().numTensors;
      const got = take1d(impl.dropLabels(lt, ut, 0.2, 10)).values;
      expect(tf.memory().numTensors).toBe(before);
      const dropped = got.filter((y) => y === 10).length / got.length;
      expect(Math.abs(dropped - 0.2)).toBeLessThan(0.02);
      expect(got.every((y, i) => y === 10 || y === labels[i])).toBe(true);
      tf.dispose([lt, ut]);
    });
  });

  describe("cfgEps", () => {
    test("equals s·ε̂c − (s − 1)·ε̂∅ on random inputs", () => {
      const rng = new Rng(311);
      for (const s of [0.3, 2, 7.5]) {
        const c = randomMatrix(rng, 6, 3);
        const u = randomMatrix(rng, 6, 3);
        const want = zip2d(c.a, u.a, (ec, eu) => s * ec - (s - 1) * eu);
        expectMatrixClose(impl.cfgEps(c.t, u.t, s), want, TOL, `cfgEps(s=${s})`);
        tf.dispose([c.t, u.t]);
      }
    });

    test("s = 0 is the unconditional model, s = 1 the conditional one", () => {
      const rng = new Rng(312);
      const c = randomMatrix(rng, 4, 2);
      const u = randomMatrix(rng, 4, 2);
      expectMatrixClose(impl.cfgEps(c.t, u.t, 0), u.a, TOL, "cfgEps(s=0)");
      expectMatrixClose(impl.cfgEps(c.t, u.t, 1), c.a, TOL, "cfgEps(s=1)");
      tf.dispose([c.t, u.t]);
    });

    test("extrapolates: the step from ε̂∅ is s times (ε̂c − ε̂∅); equal predictions stay put", () => {
      const rng = new Rng(313);
      const c = randomMatrix(rng, 5, 2);
      const u = randomMatrix(rng, 5, 2);
      const s = 4;
      const step = zip2d(take2d(impl.cfgEps(c.t, u.t, s)), u.a, (g, eu) => g - eu);
      expectMatrixClose(tf.tensor2d(step), zip2d(c.a, u.a, (ec, eu) => s * (ec - eu)), 1e-4, "cfgEps − ε̂∅");
      expectMatrixClose(impl.cfgEps(c.t, c.t, s), c.a, TOL, "cfgEps(ε̂c = ε̂∅)");
      tf.dispose([c.t, u.t]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(314);
      const c = randomMatrix(rng, 3, 2);
      const before = tf.memory().numTensors;
      take2d(impl.cfgEps(c.t, c.t, 3));
      expect(tf.memory().numTensors).toBe(before);
      c.t.dispose();
    });
  });

  describe("implicitClassifierGrad", () => {
    test("equals −(ε̂c − ε̂∅)/σ on random inputs", () => {
      const rng = new Rng(321);
      for (const sigma of [0.02, 0.5, 0.999]) {
        const c = randomMatrix(rng, 6, 3);
        const u = randomMatrix(rng, 6, 3);
        const want = zip2d(c.a, u.a, (ec, eu) => -(ec - eu) / sigma);
        expectMatrixClose(impl.implicitClassifierGrad(c.t, u.t, sigma), want, 1e-4, `implicitClassifierGrad(σ=${sigma})`);
        tf.dispose([c.t, u.t]);
      }
    });

    test("is zero when the class changes nothing (ε̂c = ε̂∅), and scales as 1/σ", () => {
      const rng = new Rng(322);
      const c = randomMatrix(rng, 4, 2);
      const u = randomMatrix(rng, 4, 2);
      expectMatrixClose(impl.implicitClassifierGrad(c.t, c.t, 0.3), c.a.map((r) => r.map(() => 0)), TOL, "implicitClassifierGrad(ε̂c = ε̂∅)");
      const a = take2d(impl.implicitClassifierGrad(c.t, u.t, 0.3));
      expectMatrixClose(impl.implicitClassifierGrad(c.t, u.t, 0.6), a.map((r) => r.map((v) => v / 2)), 1e-4, "implicitClassifierGrad(2σ)");
      tf.dispose([c.t, u.t]);
    });

    test("classifier guidance with the implicit gradient is classifier-free guidance: ε̂∅ − s·σ·grad", () => {
      const rng = new Rng(323);
      const c = randomMatrix(rng, 5, 3);
      const u = randomMatrix(rng, 5, 3);
      const sigma = 0.35;
      const s = 3;
      const grad = take2d(impl.implicitClassifierGrad(c.t, u.t, sigma));
      const guided = zip2d(u.a, grad, (eu, g) => eu - s * sigma * g);
      expectMatrixClose(impl.cfgEps(c.t, u.t, s), guided, 1e-4, "cfgEps vs ε̂∅ − s·σ·implicitClassifierGrad");
      tf.dispose([c.t, u.t]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(324);
      const c = randomMatrix(rng, 3, 2);
      const before = tf.memory().numTensors;
      take2d(impl.implicitClassifierGrad(c.t, c.t, 0.5));
      expect(tf.memory().numTensors).toBe(before);
      c.t.dispose();
    });
  });
});
