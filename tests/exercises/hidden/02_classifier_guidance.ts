/**
 * HIDDEN grading suite for notebooks/02_classifier_guidance.ipynb. NEVER SHIPPED TO STUDENTS.
 *
 * Loaded only by the trusted grader process (tools/grade/score.ts); not a jest test file. Each test
 * draws fresh inputs from `ctx.rng` (seeded from crypto per grading run, the seed is recorded in
 * results.json), computes what the student's function must return by calling the reference in
 * solutions/ (or by independent float64 arithmetic for closed forms and extreme logits), and only
 * the inputs go to the sandboxed student code. Points per exercise sum to the notebook's
 * `exercise.points` (crossEntropyLoss 2, logProbGradLogits 2, guidedEps 3).
 *
 * Every test compares against the reference (or a closed form) in its own regime — small case,
 * random batches, extreme logits, invariants — so that a wrong formula (a summed loss, a missing
 * minus sign, softmax − onehot, + instead of −, a forgotten σ) loses all of the exercise's points
 * while a partly right one (e.g. fine on typical logits, NaN at ±1000) earns partial credit.
 * Property checks run before the value comparison, so that their message, which says what is
 * wrong, is the one the student sees.
 *
 * Notation: logits [B, K] of the noise-conditional classifier, labels y (int32 [B]),
 * epsHat = ε̂, grad = ∇_z log p(y | z_t), sigma = σ_t = sqrt(1 − ᾱ_t), s = the guidance scale.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { HiddenSuite, PlannedCall, SuiteContext } from "../../../tools/grade/suite";
import * as ref from "../../../solutions/02_classifier_guidance";

/** A value rounded to `d` decimals, so that small cases read well in feedback. */
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Row-major values of a tensor (read in the trusted process). */
const valuesOf = (t: tfTypes.Tensor): Float32Array => t.dataSync() as Float32Array;

/** Expect exactly `values` (computed here) for a tensor of `shape`. */
function expectValues(shape: number[], values: ArrayLike<number>, atol = 1e-4, rtol = 1e-4) {
  return { kind: "tensor" as const, shape, values, atol, rtol };
}

/** A [rows, cols] matrix of N(0, scale²) draws rounded to 2 decimals (small cases). */
function smallMatrix(ctx: SuiteContext, rows: number, cols: number, scale = 1): tfTypes.Tensor2D {
  return ctx.tensor(Array.from({ length: rows }, () => Array.from({ length: cols }, () => round(scale * ctx.rng.normal()))));
}

/** B random class ids in {0, …, K−1} as an int32 [B] tensor. */
function randomLabels(ctx: SuiteContext, b: number, k: number): tfTypes.Tensor1D {
  return ctx.tf.tensor1d(Array.from({ length: b }, () => ctx.int(0, k - 1)), "int32");
}

/** Rows of a [B, K] tensor as float64 arrays. */
function rowsOf(t: tfTypes.Tensor): number[][] {
  const v = valuesOf(t);
  const k = t.shape[1] as number;
  return Array.from({ length: t.shape[0] as number }, (_, b) => Array.from(v.subarray(b * k, (b + 1) * k)));
}

/** log Σ_k exp(x_k), stable (shifted by the largest entry), in float64. */
function logSumExp(xs: number[]): number {
  let top = -Infinity;
  for (const x of xs) top = Math.max(top, x);
  let total = 0;
  for (const x of xs) total += Math.exp(x - top);
  return top + Math.log(total);
}

/**
 * Logits on the scale of ±1000: each entry is +1000, −1000 or an integer in (−1000, 1000)
 * (exact in float32), so that exp() of them overflows and only a stable log-softmax survives.
 */
function extremeLogits(ctx: SuiteContext, b: number, k: number): tfTypes.Tensor2D {
  const pick = () => [1000, -1000, Math.round(ctx.uniform(-999, 999))][ctx.int(0, 2)];
  return ctx.tensor(Array.from({ length: b }, () => Array.from({ length: k }, pick)));
}

/** The mean cross-entropy of `logits` at `labels`, in float64. */
function meanCrossEntropy(logits: tfTypes.Tensor2D, labels: tfTypes.Tensor1D): number {
  const y = valuesOf(labels);
  const rows = rowsOf(logits);
  let total = 0;
  for (let b = 0; b < rows.length; b++) total += logSumExp(rows[b]) - rows[b][y[b]];
  return total / rows.length;
}

/** onehot(y) − softmax(logits), row-major, in float64. */
function onehotMinusSoftmax(logits: tfTypes.Tensor2D, labels: tfTypes.Tensor1D): Float64Array {
  const y = valuesOf(labels);
  return Float64Array.from(rowsOf(logits).flatMap((row, b) => {
    const lse = logSumExp(row);
    return row.map((x, k) => (k === y[b] ? 1 : 0) - Math.exp(x - lse));
  }));
}

/** |x − want| within the suites' default tolerance (atol 1e-4, rtol 1e-4). */
const near = (x: number, want: number) => Math.abs(x - want) <= 1e-4 * (1 + Math.abs(want));

/** Cross-entropy is −log p ≥ 0. */
const nonNegative = (v: Float64Array) =>
  v[0] >= -1e-6 ? null : `the loss is ${v[0].toPrecision(4)}, but a cross-entropy −log p(y | z) is never negative: is the minus sign missing?`;

/** Rows of ∂log p(y|z)/∂logits: the label's entry ≥ 0, the others ≤ 0, each row sums to 0. */
function gradientShape(labels: ArrayLike<number>) {
  return (v: Float64Array, shape: number[]): string | null => {
    const k = shape[1];
    for (let b = 0; b < shape[0]; b++) {
      const row = v.subarray(b * k, (b + 1) * k);
      const y = labels[b];
      if (row[y] < -1e-6) {
        return `row ${b}: the entry of its label y = ${y} is ${row[y].toPrecision(3)}, but the gradient of log p(y | z) pulls towards y (1 − softmax ≥ 0, the other entries −softmax ≤ 0): onehot − softmax, not softmax − onehot`;
      }
      const sum = row.reduce((s, x) => s + x, 0);
      if (Math.abs(sum) > 1e-4) return `row ${b} sums to ${sum.toPrecision(4)}: the rows of the gradient must sum to 0 (onehot and softmax both sum to 1)`;
    }
    return null;
  };
}

/** (K, logit scale) of the "random batches" tests: binary, a few classes, many classes. */
function classCounts(ctx: SuiteContext): Array<[number, number]> {
  return [[2, 0.5], [ctx.int(3, 9), 2], [ctx.int(10, 20), 6]];
}

/** Random batch shapes [B, D] for guidedEps. */
function randomBatch(ctx: SuiteContext): [number, number] {
  return [ctx.int(16, 64), ctx.int(1, 4)];
}

/** A typical guided step checked against the reference, added to the limit tests so that only a
 * correct formula passes them (returning epsHat is right at s = 0, and nowhere else). */
function guidedAnchor(ctx: SuiteContext): PlannedCall {
  const [b, d] = randomBatch(ctx);
  const epsHat = ctx.matrix(b, d);
  const grad = ctx.matrix(b, d, 2);
  const sigma = ctx.uniform(0.2, 0.8);
  const s = ctx.uniform(2, 6);
  return { args: [epsHat, grad, sigma, s], expect: ctx.expectRef(ref.guidedEps(epsHat, grad, sigma, s)), note: "a typical step, also checked by this test" };
}

const suite: HiddenSuite = {
  notebook: "02_classifier_guidance",
  exercises: {
    crossEntropyLoss: [
      {
        name: "small case (2×3)",
        points: 0.5,
        small: true,
        build: (ctx) => {
          const logits = smallMatrix(ctx, 2, 3, 2);
          const labels = randomLabels(ctx, 2, 3);
          return { calls: [{ args: [logits, labels], expect: ctx.expectRef(ref.crossEntropyLoss(logits, labels)) }] };
        },
      },
      {
        name: "random batches, 2 to 20 classes",
        points: 0.5,
        build: (ctx) => ({
          calls: classCounts(ctx).map(([k, scale]): PlannedCall => {
            const b = ctx.int(16, 64);
            const logits = ctx.matrix(b, k, scale);
            const labels = randomLabels(ctx, b, k);
            return { args: [logits, labels], expect: { ...ctx.expectRef(ref.crossEntropyLoss(logits, labels)), property: nonNegative } };
          }),
        }),
      },
      {
        name: "numerically stable: logits of ±1000 give a finite, exact loss",
        points: 0.5,
        build: (ctx) => {
          const calls: PlannedCall[] = [];
          // the brief's case: certain and right, certain and wrong
          const pm = ctx.tensor([[1000, -1000], [-1000, 1000], [1000, -1000]]);
          const pmLabels = ctx.tf.tensor1d([0, 0, 1], "int32");
          calls.push({ args: [pm, pmLabels], expect: expectValues([], [meanCrossEntropy(pm, pmLabels)]), note: "logits ±1000" });
          for (const k of [2, ctx.int(3, 6)]) {
            const b = ctx.int(4, 12);
            const logits = extremeLogits(ctx, b, k);
            const labels = randomLabels(ctx, b, k);
            calls.push({ args: [logits, labels], expect: expectValues([], [meanCrossEntropy(logits, labels)]), note: `logits in [−1000, 1000], K = ${k}` });
          }
          return { calls };
        },
      },
      {
        name: "a mean over the batch: never negative, log K for equal logits, unchanged by repeating the batch",
        points: 0.5,
        build: (ctx) => {
          const b = ctx.int(8, 32);
          const k = ctx.int(3, 10);
          const logits = ctx.matrix(b, k, 2);
          const labels = randomLabels(ctx, b, k);
          const want = meanCrossEntropy(logits, labels);
          const flat = ctx.tf.fill([b, k], round(ctx.uniform(-3, 3))) as tfTypes.Tensor2D;
          return {
            calls: [
              { args: [logits, labels], expect: ctx.expectShape([], nonNegative) },
              { args: [ctx.tf.concat([logits, logits]), ctx.tf.concat([labels, labels])], expect: ctx.expectShape([], nonNegative), note: "the same batch twice" },
              { args: [flat, randomLabels(ctx, b, k)], expect: ctx.expectShape([], nonNegative), note: `equal logits, K = ${k}` },
            ],
            // property-only calls, compared here, so that the message says what is wrong
            check: ([once, twice, uniform]) => {
              const [a, a2, u] = [once.values[0], twice.values[0], uniform.values[0]];
              if (!near(a2, a)) return `repeating the batch changed the loss from ${a.toPrecision(4)} to ${a2.toPrecision(4)}: average over the batch (tf.mean), don't sum`;
              if (!near(u, Math.log(k))) return `equal logits (a uniform softmax over K = ${k} classes) must give −log(1/K) = log K = ${Math.log(k).toPrecision(4)}, got ${u.toPrecision(4)}`;
              if (!near(a, want)) return `a ${b}×${k} batch: expected a loss of ${want.toPrecision(4)}, got ${a.toPrecision(4)}`;
              return null;
            },
          };
        },
      },
    ],

    logProbGradLogits: [
      {
        name: "small case (2×3)",
        points: 0.5,
        small: true,
        build: (ctx) => {
          const logits = smallMatrix(ctx, 2, 3, 2);
          const labels = randomLabels(ctx, 2, 3);
          return { calls: [{ args: [logits, labels], expect: ctx.expectRef(ref.logProbGradLogits(logits, labels)) }] };
        },
      },
      {
        name: "random batches, 2 to 20 classes",
        points: 0.5,
        build: (ctx) => ({
          calls: classCounts(ctx).map(([k, scale]): PlannedCall => {
            const b = ctx.int(16, 64);
            const logits = ctx.matrix(b, k, scale);
            const labels = randomLabels(ctx, b, k);
            return { args: [logits, labels], expect: ctx.expectRef(ref.logProbGradLogits(logits, labels)) };
          }),
        }),
      },
      {
        name: "pulls towards y: the label's entry is the only positive one, and rows sum to 0",
        points: 0.5,
        build: (ctx) => {
          const b = ctx.int(8, 32);
          const k = ctx.int(3, 10);
          const logits = ctx.matrix(b, k, 3);
          const labels = randomLabels(ctx, b, k);
          return { calls: [{ args: [logits, labels], expect: { ...ctx.expectRef(ref.logProbGradLogits(logits, labels)), property: gradientShape(valuesOf(labels)) } }] };
        },
      },
      {
        name: "numerically stable: logits of ±1000",
        points: 0.5,
        build: (ctx) => ({
          calls: [2, ctx.int(3, 6)].map((k): PlannedCall => {
            const b = ctx.int(4, 12);
            const logits = extremeLogits(ctx, b, k);
            const labels = randomLabels(ctx, b, k);
            return { args: [logits, labels], expect: { ...expectValues([b, k], onehotMinusSoftmax(logits, labels)), property: gradientShape(valuesOf(labels)) }, note: `logits in [−1000, 1000], K = ${k}` };
          }),
        }),
      },
    ],

    guidedEps: [
      {
        name: "small case (2×2)",
        points: 0.75,
        small: true,
        build: (ctx) => {
          const epsHat = smallMatrix(ctx, 2, 2);
          const grad = smallMatrix(ctx, 2, 2, 2);
          const sigma = round(ctx.uniform(0.2, 0.9));
          const s = round(ctx.uniform(1.5, 5));
          return { calls: [{ args: [epsHat, grad, sigma, s], expect: ctx.expectRef(ref.guidedEps(epsHat, grad, sigma, s)) }] };
        },
      },
      {
        name: "random batches, noise levels and guidance scales",
        points: 0.75,
        build: (ctx) => ({
          calls: [[0.02, 1], [0.5, 4], [0.97, 10]].map(([sigma0, s0]): PlannedCall => {
            const [b, d] = randomBatch(ctx);
            const epsHat = ctx.matrix(b, d);
            const grad = ctx.matrix(b, d, 3);
            const sigma = Math.min(1, sigma0 * Math.exp(ctx.uniform(-0.03, 0.03)));
            const s = s0 * ctx.uniform(0.8, 1.25);
            return { args: [epsHat, grad, sigma, s], expect: ctx.expectRef(ref.guidedEps(epsHat, grad, sigma, s)) };
          }),
        }),
      },
      {
        name: "limits: s = 0 or a zero gradient leave ε̂ unchanged, and a typical step",
        points: 0.75,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const epsHat = ctx.matrix(b, d);
          const grad = ctx.matrix(b, d, 2);
          const sigma = ctx.uniform(0.2, 0.9);
          const same = expectValues([b, d], valuesOf(epsHat));
          return {
            calls: [
              { args: [epsHat, grad, sigma, 0], expect: same, note: "s = 0" },
              { args: [epsHat.clone(), ctx.tf.zerosLike(grad), sigma, ctx.uniform(1, 10)], expect: same, note: "grad = 0" },
              guidedAnchor(ctx),
            ],
          };
        },
      },
      {
        name: "moves ε̂ against the classifier gradient by s·σ (the score −ε̃/σ moves along s·grad)",
        points: 0.75,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const epsHat = ctx.matrix(b, d);
          const grad = ctx.matrix(b, d, 2);
          const e = valuesOf(epsHat);
          const g = valuesOf(grad);
          const sigma = ctx.uniform(0.2, 0.8);
          const s = ctx.uniform(2, 6);
          const against = (v: Float64Array) => {
            const i = v.findIndex((x, k) => (x - e[k]) * g[k] > 1e-6);
            return i < 0 ? null : `ε̃ − ε̂ must point against the classifier gradient (ε̃ = ε̂ − s·σ·grad, so that the score −ε̃/σ moves along +s·grad), but entry ${i} moved with it`;
          };
          const want = valuesOf(ref.guidedEps(epsHat, grad, sigma, s));
          const shape = [b, d];
          return {
            calls: [
              { args: [epsHat, grad, sigma, s], expect: ctx.expectShape(shape, against) },
              { args: [epsHat.clone(), grad.clone(), 2 * sigma, s / 2], expect: ctx.expectShape(shape, against), note: "σ doubled, s halved" },
              { args: [epsHat.clone(), grad.clone(), sigma, 2 * s], expect: ctx.expectShape(shape, against), note: "s doubled" },
            ],
            // property-only calls, compared here, so that the message says what is wrong
            check: ([base, swapped, doubled]) => {
              if (!base.values.every((x, k) => near(swapped.values[k], x))) return "doubling σ and halving s changed ε̃: the shift must be s·σ·grad (σ_t = sqrt(1 − ᾱ_t) turns the score's s·grad into ε units)";
              if (!base.values.every((x, k) => near(doubled.values[k] - e[k], 2 * (x - e[k])))) return "doubling s must double the shift ε̃ − ε̂ (it is s·σ·grad)";
              const i = base.values.findIndex((x, k) => !near(x, want[k]));
              return i < 0 ? null : `entry ${i} is ${base.values[i].toPrecision(4)}, expected ${want[i].toPrecision(4)} (ε̃ = ε̂ − s·σ·grad)`;
            },
          };
        },
      },
    ],
  },
};

export default suite;
