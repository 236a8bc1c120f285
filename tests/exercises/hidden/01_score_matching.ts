/**
 * HIDDEN grading suite for notebooks/01_score_matching.ipynb. NEVER SHIPPED TO STUDENTS.
 *
 * Loaded only by the trusted grader process (tools/grade/score.ts); not a jest test file. Each test
 * draws fresh inputs from `ctx.rng` (seeded from crypto per grading run, the seed is recorded in
 * results.json), computes what the student's function must return by calling the reference in
 * solutions/ (or by independent arithmetic for closed forms), and only the inputs go to the
 * sandboxed student code. Points per exercise sum to the notebook's `exercise.points`.
 *
 * Every test compares against the reference (or a closed form) in its own regime — small case,
 * random batches, limits, invariants — so that a wrong formula loses all of the exercise's points
 * while a partly right one (e.g. fine on typical inputs, wrong at a limit) earns partial credit.
 * Property checks (variance preserved, direction of the score, mean over all entries) run first,
 * so that their message, which says what is wrong, is the one the student sees.
 *
 * Notation: alphaBar = ᾱ_t, eps = ε, epsHat = ε̂, x0Hat = E[x0 | z] (Tweedie), t = σ² (VE, the seed's t).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { HiddenSuite, PlannedCall, SuiteContext } from "../../../tools/grade/suite";
import * as ref from "../../../solutions/01_score_matching";

/** A value rounded to `d` decimals, so that small cases read well in feedback. */
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Row-major values of a tensor (read in the trusted process). */
const valuesOf = (t: tfTypes.Tensor): Float32Array => t.dataSync() as Float32Array;

/** Expect exactly `values` (computed here) for a tensor of `shape`. */
function expectValues(shape: number[], values: ArrayLike<number>, atol = 1e-4) {
  return { kind: "tensor" as const, shape, values, atol, rtol: 1e-4 };
}

/** The variance of a flat sample. */
function variance(v: Float64Array): number {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
}

/** A typical DDIM step checked against the reference, added to the limit tests so that only a
 * correct update passes them (an identity function is right at ᾱ_s = ᾱ_t, and nowhere else). */
function ddimAnchor(ctx: SuiteContext): PlannedCall {
  const xt = ctx.matrix(ctx.int(5, 20), 2, 2);
  const epsHat = ctx.matrix(xt.shape[0], 2);
  const alphaBarT = ctx.uniform(0.1, 0.5);
  const alphaBarPrev = ctx.uniform(0.6, 0.95);
  return { args: [xt, epsHat, alphaBarT, alphaBarPrev], expect: ctx.expectRef(ref.ddimUpdate(xt, epsHat, alphaBarT, alphaBarPrev)), note: "a typical step, also checked by this test" };
}

/** Random batch shapes [B, D] for the "random batches" tests. */
function randomBatch(ctx: SuiteContext): [number, number] {
  return [ctx.int(16, 64), ctx.int(1, 4)];
}

const suite: HiddenSuite = {
  notebook: "01_score_matching",
  exercises: {
    addNoise: [
      {
        name: "small case (2×2)",
        points: 0.5,
        small: true,
        build: (ctx) => {
          const x0 = ctx.tensor([[round(2 * ctx.rng.normal()), round(2 * ctx.rng.normal())], [round(2 * ctx.rng.normal()), round(2 * ctx.rng.normal())]]);
          const eps = ctx.tensor([[round(ctx.rng.normal()), round(ctx.rng.normal())], [round(ctx.rng.normal()), round(ctx.rng.normal())]]);
          const alphaBar = round(ctx.uniform(0.1, 0.9));
          return { calls: [{ args: [x0, eps, alphaBar], expect: ctx.expectRef(ref.addNoise(x0, eps, alphaBar)) }] };
        },
      },
      {
        name: "random batches and noise levels",
        points: 0.5,
        build: (ctx) => ({
          calls: [0.02, 0.5, 0.98].map((center): PlannedCall => {
            const [b, d] = randomBatch(ctx);
            const x0 = ctx.matrix(b, d, 3);
            const eps = ctx.matrix(b, d);
            const alphaBar = Math.min(0.999, Math.max(0.001, center + ctx.uniform(-0.015, 0.015)));
            return { args: [x0, eps, alphaBar], expect: ctx.expectRef(ref.addNoise(x0, eps, alphaBar)) };
          }),
        }),
      },
      {
        name: "limits: ᾱ = 1 gives x0, ᾱ → 0 gives eps",
        points: 0.5,
        build: (ctx) => {
          const calls: PlannedCall[] = [];
          for (const [alphaBar, note] of [[1, "limit ᾱ = 1"], [1 - 1e-4, "near ᾱ = 1"], [1e-4, "near ᾱ = 0"], [1e-12, "limit ᾱ → 0"]] as const) {
            const x0 = ctx.matrix(ctx.int(3, 8), 2, 2);
            const eps = ctx.matrix(x0.shape[0], 2);
            calls.push({ args: [x0, eps, alphaBar], expect: ctx.expectRef(ref.addNoise(x0, eps, alphaBar)), note });
          }
          return { calls };
        },
      },
      {
        name: "variance preserving: unit-variance x0 and eps give unit-variance z_t",
        points: 0.5,
        build: (ctx) => {
          const n = 20000;
          const alphaBar = ctx.uniform(0.1, 0.9);
          const check = (v: Float64Array) => {
            const s2 = variance(v);
            return Math.abs(s2 - 1) < 0.06 ? null : `the variance of z_t is ${s2.toFixed(3)}, expected 1 (±0.06) for x0, eps ~ N(0, 1)`;
          };
          const x0 = ctx.matrix(n, 1);
          const eps = ctx.matrix(n, 1);
          return { calls: [{ args: [x0, eps, alphaBar], expect: { ...ctx.expectRef(ref.addNoise(x0, eps, alphaBar)), property: check }, note: "unit-variance inputs" }] };
        },
      },
    ],

    epsMseLoss: [
      {
        name: "small case (2×2)",
        points: 0.5,
        small: true,
        build: (ctx) => {
          const epsHat = ctx.tensor([[round(ctx.rng.normal()), round(ctx.rng.normal())], [round(ctx.rng.normal()), round(ctx.rng.normal())]]);
          const eps = ctx.tensor([[round(ctx.rng.normal()), round(ctx.rng.normal())], [round(ctx.rng.normal()), round(ctx.rng.normal())]]);
          return { calls: [{ args: [epsHat, eps], expect: ctx.expectRef(ref.epsMseLoss(epsHat, eps)) }] };
        },
      },
      {
        name: "random batches",
        points: 0.5,
        build: (ctx) => ({
          calls: [0.1, 1, 5].map((scale): PlannedCall => {
            const [b, d] = randomBatch(ctx);
            const epsHat = ctx.matrix(b, d, scale);
            const eps = ctx.matrix(b, d);
            return { args: [epsHat, eps], expect: ctx.expectRef(ref.epsMseLoss(epsHat, eps)) };
          }),
        }),
      },
      {
        name: "zero for a perfect prediction; a constant error c gives c²",
        points: 0.5,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const eps = ctx.matrix(b, d);
          const c = round(ctx.uniform(1.2, 2)); // c > 1, so that c² ≠ c (an RMSE would pass otherwise)
          const calls: PlannedCall[] = [
            { args: [eps.clone(), eps.clone()], expect: expectValues([], [0]), note: "epsHat = eps" },
            { args: [eps.add(c), eps], expect: expectValues([], [c * c]), note: `epsHat = eps + ${c}` },
          ];
          return { calls };
        },
      },
      {
        name: "a mean over all entries: repeating the batch leaves it unchanged",
        points: 0.5,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const epsHat = ctx.matrix(b, d);
          const eps = ctx.matrix(b, d);
          const positive = (v: Float64Array) => (v[0] >= 0 ? null : `a mean of squares cannot be negative (got ${v[0]})`);
          return {
            calls: [
              { args: [epsHat, eps], expect: { ...ctx.expectRef(ref.epsMseLoss(epsHat, eps)), property: positive } },
              { args: [ctx.tf.concat([epsHat, epsHat]), ctx.tf.concat([eps, eps])], expect: ctx.expectShape([], positive), note: "the same batch twice" },
            ],
            check: ([once, twice]) => Math.abs(once.values[0] - twice.values[0]) <= 1e-4 * (1 + Math.abs(once.values[0])) ? null
              : `repeating the batch changed the loss from ${once.values[0].toPrecision(4)} to ${twice.values[0].toPrecision(4)}: average over all entries (tf.mean), don't sum`,
          };
        },
      },
    ],

    tweedieScore: [
      {
        name: "small case (2×2)",
        points: 1,
        small: true,
        build: (ctx) => {
          const x0Hat = ctx.tensor([[round(ctx.rng.normal()), round(ctx.rng.normal())], [round(ctx.rng.normal()), round(ctx.rng.normal())]]);
          const z = ctx.tensor([[round(2 * ctx.rng.normal()), round(2 * ctx.rng.normal())], [round(2 * ctx.rng.normal()), round(2 * ctx.rng.normal())]]);
          const t = round(ctx.uniform(0.2, 2));
          return { calls: [{ args: [x0Hat, z, t], expect: ctx.expectRef(ref.tweedieScore(x0Hat, z, t)) }] };
        },
      },
      {
        name: "random batches, t from 0.01 to 25",
        points: 1,
        build: (ctx) => ({
          calls: [0.01, 1, 25].map((t0): PlannedCall => {
            const [b, d] = randomBatch(ctx);
            const x0Hat = ctx.matrix(b, d, 2);
            const z = ctx.matrix(b, d, 3);
            const t = t0 * Math.exp(ctx.uniform(-0.3, 0.3));
            return { args: [x0Hat, z, t], expect: ctx.expectRef(ref.tweedieScore(x0Hat, z, t)) };
          }),
        }),
      },
      {
        name: "exact for a Gaussian: x0 ~ N(m, 1) gives the score of N(m, 1 + t)",
        points: 0.5,
        build: (ctx) => {
          // E[x0 | z] = m + (z − m)/(1 + t); the true score of N(m, 1 + t) is −(z − m)/(1 + t).
          const m = ctx.uniform(-2, 2);
          const t = ctx.uniform(0.1, 3);
          const z = ctx.matrix(ctx.int(5, 20), 2, 3);
          const zv = valuesOf(z);
          const x0Hat = ctx.tf.tensor2d(Float32Array.from(zv, (v) => m + (v - m) / (1 + t)), z.shape as [number, number]);
          const want = Float64Array.from(valuesOf(x0Hat), (mu, i) => (mu - zv[i]) / t);
          return { calls: [{ args: [x0Hat, z, t], expect: expectValues(z.shape, want, 1e-3), note: "a Gaussian's posterior mean" }] };
        },
      },
      {
        name: "points from z towards x0Hat and scales as 1/t",
        points: 0.5,
        build: (ctx) => {
          const x0Hat = ctx.matrix(ctx.int(5, 20), 2);
          const z = ctx.matrix(x0Hat.shape[0], 2, 2);
          const diff = x0Hat.sub(z);
          const d = valuesOf(diff);
          const t = ctx.uniform(0.2, 2);
          const shape = x0Hat.shape;
          const toward = (v: Float64Array) => {
            const i = v.findIndex((s, k) => s * d[k] < 0);
            return i < 0 ? null : `the score must point from z towards x0Hat (sign of x0Hat − z), but entry ${i} has the opposite sign`;
          };
          const zero = (v: Float64Array) => (v.every((s) => Math.abs(s) < 1e-6) ? null : "x0Hat = z must give a zero score");
          return {
            calls: [
              { args: [x0Hat, z, t], expect: { ...ctx.expectRef(ref.tweedieScore(x0Hat, z, t)), property: toward } },
              { args: [x0Hat.clone(), z.clone(), 2 * t], expect: ctx.expectShape(shape, toward), note: "t doubled" },
              { args: [z.clone(), z.clone(), t], expect: ctx.expectShape(shape, zero), note: "x0Hat = z" },
            ],
            check: ([a, b]) => a.values.every((s, k) => Math.abs(s / 2 - b.values[k]) <= 1e-4 * (1 + Math.abs(s)))
              ? null : "doubling t must halve the score (it scales as 1/t)",
          };
        },
      },
    ],

    ddimUpdate: [
      {
        name: "small case (2×2)",
        points: 1,
        small: true,
        build: (ctx) => {
          const xt = ctx.tensor([[round(ctx.rng.normal()), round(ctx.rng.normal())], [round(ctx.rng.normal()), round(ctx.rng.normal())]]);
          const epsHat = ctx.tensor([[round(ctx.rng.normal()), round(ctx.rng.normal())], [round(ctx.rng.normal()), round(ctx.rng.normal())]]);
          const alphaBarT = round(ctx.uniform(0.1, 0.5));
          const alphaBarPrev = round(ctx.uniform(0.6, 0.95));
          return { calls: [{ args: [xt, epsHat, alphaBarT, alphaBarPrev], expect: ctx.expectRef(ref.ddimUpdate(xt, epsHat, alphaBarT, alphaBarPrev)) }] };
        },
      },
      {
        name: "random batches and timestep pairs",
        points: 1,
        build: (ctx) => ({
          calls: [[0.02, 0.2], [0.4, 0.7], [0.9, 1]].map(([lo, hi]): PlannedCall => {
            const [b, d] = randomBatch(ctx);
            const xt = ctx.matrix(b, d, 2);
            const epsHat = ctx.matrix(b, d);
            const alphaBarT = ctx.uniform(lo, lo + 0.05);
            const alphaBarPrev = hi === 1 ? 1 : ctx.uniform(hi, hi + 0.05);
            return { args: [xt, epsHat, alphaBarT, alphaBarPrev], expect: ctx.expectRef(ref.ddimUpdate(xt, epsHat, alphaBarT, alphaBarPrev)) };
          }),
        }),
      },
      {
        name: "the identity when ᾱ_s = ᾱ_t, and a typical step",
        points: 0.5,
        build: (ctx) => {
          const xt = ctx.matrix(ctx.int(5, 20), 2, 2);
          const epsHat = ctx.matrix(xt.shape[0], 2);
          const ab = ctx.uniform(0.05, 0.95);
          return { calls: [{ args: [xt, epsHat, ab, ab], expect: expectValues(xt.shape, valuesOf(xt)), note: "ᾱ_s = ᾱ_t" }, ddimAnchor(ctx)] };
        },
      },
      {
        name: "recovers x0 exactly when epsHat is the true noise and ᾱ_s = 1, and a typical step",
        points: 0.5,
        build: (ctx) => {
          const x0 = ctx.matrix(ctx.int(5, 20), 2, 2);
          const eps = ctx.matrix(x0.shape[0], 2);
          const ab = ctx.uniform(0.2, 0.9);
          const xt = x0.mul(Math.sqrt(ab)).add(eps.mul(Math.sqrt(1 - ab)));
          return { calls: [{ args: [xt, eps, ab, 1], expect: expectValues(x0.shape, valuesOf(x0), 1e-3), note: "epsHat = the true noise, ᾱ_s = 1" }, ddimAnchor(ctx)] };
        },
      },
    ],
  },
};

export default suite;
