/**
 * Public checks for notebook 02's exercises (classifier guidance, Dhariwal & Nichol 2021). In the
 * instructor repository they run against the reference solutions; with EXERCISE_MODULE=path,
 * against that module (see harness.ts). In a student release, student mode (student-mode.ts)
 * points them at the functions extracted from the student's notebook and skips the checks of
 * exercises that are still stubs. Expected values come from plain-JavaScript arithmetic written
 * independently here (float64 log-sum-exp and softmax), never from the reference.
 *
 * Notation: logits [B, K] of a classifier on z_t, labels y (int32 [B]), epsHat = ε̂,
 * grad = ∇_z log p(y | z_t), sigma = σ_t = sqrt(1 − ᾱ_t), s = the guidance scale.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, Rng } from "@course/lib";
import { expectMatrixClose, loadExercises, randomMatrix, take2d, zip2d } from "./harness";

interface Exercises02 {
  crossEntropyLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar;
  logProbGradLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor2D;
  guidedEps(epsHat: tf.Tensor2D, grad: tf.Tensor2D, sigma: number, s: number): tf.Tensor2D;
}

const { impl, source } = loadExercises<Exercises02>("02_classifier_guidance");
const TOL = 1e-5;

/** log Σ_k exp(row_k), stable in float64. */
function logSumExp(row: number[]): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** softmax of one row in float64. */
function softmaxRow(row: number[]): number[] {
  const lse = logSumExp(row);
  return row.map((x) => Math.exp(x - lse));
}

/** Random labels in {0, …, K−1}: the JS values and the int32 tensor. */
function randomLabels(rng: Rng, b: number, k: number): { t: tf.Tensor1D; a: number[] } {
  const a = Array.from({ length: b }, () => rng.int(k));
  return { t: tf.tensor1d(a, "int32"), a };
}

/** −(1/B) Σ_b log softmax(logits_b)[y_b] in float64. */
function meanCrossEntropy(logits: number[][], labels: number[]): number {
  return logits.reduce((s, row, b) => s + logSumExp(row) - row[labels[b]], 0) / logits.length;
}

/** onehot(y) − softmax(logits), row by row, in float64. */
function onehotMinusSoftmax(logits: number[][], labels: number[]): number[][] {
  return logits.map((row, b) => softmaxRow(row).map((p, k) => (k === labels[b] ? 1 : 0) - p));
}

beforeAll(async () => {
  await initBackend();
});

describe(`02_classifier_guidance exercises (${source})`, () => {
  describe("crossEntropyLoss", () => {
    test("is the batch mean of −log softmax(logits)[y] on random logits", () => {
      const rng = new Rng(201);
      for (const [b, k, scale] of [[1, 2, 1], [6, 3, 2], [17, 10, 4]]) {
        const logits = randomMatrix(rng, b, k, scale);
        const labels = randomLabels(rng, b, k);
        const loss = impl.crossEntropyLoss(logits.t, labels.t);
        expect(loss.shape).toEqual([]);
        expect(loss.dataSync()[0]).toBeCloseTo(meanCrossEntropy(logits.a, labels.a), 4);
        tf.dispose([logits.t, labels.t, loss]);
      }
    });

    test("is log K for equal logits, and a mean (repeating the batch leaves it unchanged)", () => {
      const rng = new Rng(202);
      const flat = tf.fill([4, 5], 0.3) as tf.Tensor2D;
      const labels = randomLabels(rng, 4, 5);
      const uniform = impl.crossEntropyLoss(flat, labels.t);
      expect(uniform.dataSync()[0]).toBeCloseTo(Math.log(5), 5);
      const logits = randomMatrix(rng, 3, 4, 2);
      const y = randomLabels(rng, 3, 4);
      const once = impl.crossEntropyLoss(logits.t, y.t);
      const twiceLogits = tf.concat([logits.t, logits.t]);
      const twiceLabels = tf.concat([y.t, y.t]);
      const twice = impl.crossEntropyLoss(twiceLogits as tf.Tensor2D, twiceLabels as tf.Tensor1D);
      expect(twice.dataSync()[0]).toBeCloseTo(once.dataSync()[0], 5);
      tf.dispose([flat, labels.t, uniform, logits.t, y.t, once, twiceLogits, twiceLabels, twice]);
    });

    test("is numerically stable: logits of ±1000 give a finite, exact loss", () => {
      const logits = tf.tensor2d([[1000, -1000], [1000, -1000], [-1000, 1000], [0, 0]]);
      // rows: right with certainty (0), wrong with certainty (2000), right (0), a coin flip (log 2)
      const labels = tf.tensor1d([0, 1, 1, 0], "int32");
      const loss = impl.crossEntropyLoss(logits, labels);
      const v = loss.dataSync()[0];
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeCloseTo((0 + 2000 + 0 + Math.log(2)) / 4, 3);
      tf.dispose([logits, labels, loss]);
    });

    test("is differentiable: its gradient is (softmax − onehot) / B", () => {
      const rng = new Rng(203);
      const logits = randomMatrix(rng, 5, 3, 2);
      const labels = randomLabels(rng, 5, 3);
      const g = tf.grad((x: tf.Tensor) => impl.crossEntropyLoss(x as tf.Tensor2D, labels.t))(logits.t);
      const want = onehotMinusSoftmax(logits.a, labels.a).map((row) => row.map((v) => -v / 5));
      expectMatrixClose(g, want, 1e-4, "gradient of crossEntropyLoss");
      tf.dispose([logits.t, labels.t]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(204);
      const logits = randomMatrix(rng, 3, 4);
      const labels = randomLabels(rng, 3, 4);
      const before = tf.memory().numTensors;
      impl.crossEntropyLoss(logits.t, labels.t).dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits.t, labels.t]);
    });
  });

  describe("logProbGradLogits", () => {
    test("equals onehot(y) − softmax(logits) on random logits", () => {
      const rng = new Rng(211);
      for (const [b, k, scale] of [[2, 2, 1], [7, 4, 3], [12, 10, 5]]) {
        const logits = randomMatrix(rng, b, k, scale);
        const labels = randomLabels(rng, b, k);
        expectMatrixClose(impl.logProbGradLogits(logits.t, labels.t), onehotMinusSoftmax(logits.a, labels.a), TOL, `logProbGradLogits(B=${b}, K=${k})`);
        tf.dispose([logits.t, labels.t]);
      }
    });

    test("rows sum to 0, and it pulls towards y (the label's entry is the only positive one)", () => {
      const rng = new Rng(212);
      const logits = randomMatrix(rng, 8, 5, 2);
      const labels = randomLabels(rng, 8, 5);
      const g = take2d(impl.logProbGradLogits(logits.t, labels.t));
      g.forEach((row, b) => {
        expect(Math.abs(row.reduce((s, v) => s + v, 0))).toBeLessThan(1e-5);
        row.forEach((v, k) => (k === labels.a[b] ? expect(v).toBeGreaterThan(0) : expect(v).toBeLessThanOrEqual(0)));
      });
      tf.dispose([logits.t, labels.t]);
    });

    test("agrees with autograd of Σ_b log softmax(logits_b)[y_b]", () => {
      const rng = new Rng(213);
      const logits = randomMatrix(rng, 6, 4, 2);
      const labels = randomLabels(rng, 6, 4);
      const mask = tf.oneHot(labels.t, 4);
      const auto = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(x), mask)))(logits.t);
      const autoValues = take2d(auto);
      expectMatrixClose(impl.logProbGradLogits(logits.t, labels.t), autoValues, 1e-4, "logProbGradLogits vs tf.grad");
      tf.dispose([logits.t, labels.t, mask]);
    });

    test("is numerically stable for logits of ±1000", () => {
      const logits = tf.tensor2d([[1000, -1000, 0], [1000, -1000, 0]]);
      const labels = tf.tensor1d([0, 1], "int32");
      // softmax is (1, 0, 0) in both rows
      expectMatrixClose(impl.logProbGradLogits(logits, labels), [[0, 0, 0], [-1, 1, 0]], TOL, "logProbGradLogits(±1000)");
      tf.dispose([logits, labels]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(214);
      const logits = randomMatrix(rng, 3, 4);
      const labels = randomLabels(rng, 3, 4);
      const before = tf.memory().numTensors;
      take2d(impl.logProbGradLogits(logits.t, labels.t));
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits.t, labels.t]);
    });
  });

  describe("guidedEps", () => {
    test("equals ε̂ − s·σ·grad on random inputs", () => {
      const rng = new Rng(221);
      for (const [sigma, s] of [[0.05, 1], [0.6, 3], [0.999, 10]]) {
        const epsHat = randomMatrix(rng, 6, 2);
        const grad = randomMatrix(rng, 6, 2, 3);
        const want = zip2d(epsHat.a, grad.a, (e, g) => e - s * sigma * g);
        expectMatrixClose(impl.guidedEps(epsHat.t, grad.t, sigma, s), want, TOL, `guidedEps(σ=${sigma}, s=${s})`);
        tf.dispose([epsHat.t, grad.t]);
      }
    });

    test("s = 0 or a zero gradient leaves ε̂ unchanged", () => {
      const rng = new Rng(222);
      const epsHat = randomMatrix(rng, 4, 3);
      const grad = randomMatrix(rng, 4, 3);
      const zero = tf.zerosLike(grad.t) as tf.Tensor2D;
      expectMatrixClose(impl.guidedEps(epsHat.t, grad.t, 0.7, 0), epsHat.a, TOL, "guidedEps(s=0)");
      expectMatrixClose(impl.guidedEps(epsHat.t, zero, 0.7, 4), epsHat.a, TOL, "guidedEps(grad=0)");
      tf.dispose([epsHat.t, grad.t, zero]);
    });

    test("moves ε̂ against the classifier gradient, by s·σ (so that the score moves along it)", () => {
      const rng = new Rng(223);
      const epsHat = randomMatrix(rng, 5, 2);
      const grad = randomMatrix(rng, 5, 2);
      const sigma = 0.4;
      const s = 2.5;
      const shift = zip2d(take2d(impl.guidedEps(epsHat.t, grad.t, sigma, s)), epsHat.a, (g, e) => g - e);
      // score = −ε/σ, so Δscore = −Δε/σ must equal s·grad
      expectMatrixClose(tf.tensor2d(shift.map((r) => r.map((d) => -d / sigma))), grad.a.map((r) => r.map((g) => s * g)), 1e-4, "−Δε̂/σ");
      tf.dispose([epsHat.t, grad.t]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(224);
      const x = randomMatrix(rng, 3, 4);
      const before = tf.memory().numTensors;
      take2d(impl.guidedEps(x.t, x.t, 0.5, 2));
      expect(tf.memory().numTensors).toBe(before);
      x.t.dispose();
    });
  });
});
