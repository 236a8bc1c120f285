/**
 * HIDDEN grading suite for notebooks/03_classifier_free_guidance.ipynb. NEVER SHIPPED TO STUDENTS.
 *
 * Loaded only by the trusted grader process (tools/grade/score.ts); not a jest test file. Each test
 * draws fresh inputs from `ctx.rng` (seeded from crypto per grading run, the seed is recorded in
 * results.json), computes what the student's function must return by calling the reference in
 * solutions/ (or by independent arithmetic for closed forms), and only the inputs go to the
 * sandboxed student code. Points per exercise sum to the notebook's `exercise.points`
 * (dropLabels 2, cfgEps 2, implicitClassifierGrad 2).
 *
 * Every test compares against the reference (or a closed form) in its own regime — small case,
 * random batches, limits, invariants — so that a wrong formula (u ≤ pUncond, s and 1 − s swapped,
 * a sign or a σ off) loses all of the exercise's points while a partly right one earns partial
 * credit. Property checks run before the value comparison, so that their message, which says what
 * is wrong, is the one the student sees.
 *
 * Uniform draws u are float32 and every pUncond is a multiple of 1/32 (exact in float32), so that
 * "u < pUncond" means the same in JavaScript and in tf.less; several rows have u exactly equal to
 * pUncond (kept: strictly less drops).
 *
 * Notation: epsCond = ε̂(z_t, t, c), epsUncond = ε̂(z_t, t, ∅), s = the guidance scale,
 * sigma = σ_t = sqrt(1 − ᾱ_t), pUncond = p_uncond, nullId = the id of ∅ (the number of classes K).
 *
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { HiddenSuite, PlannedCall, SuiteContext } from "../../../tools/grade/suite";
import * as ref from "../../../solutions/03_classifier_free_guidance";

/** A value rounded to `d` decimals, so that small cases read well in feedback. */
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Row-major values of a tensor (read in the trusted process). */
const valuesOf = (t: tfTypes.Tensor): Float32Array => t.dataSync() as Float32Array;

/** Expect exactly `values` (computed here) for a tensor of `shape`. */
function expectValues(shape: number[], values: ArrayLike<number>, atol = 1e-4, rtol = 1e-4) {
  return { kind: "tensor" as const, shape, values, atol, rtol };
}

/** |x − want| within the suites' default tolerance (atol 1e-4, rtol 1e-4). */
const near = (x: number, want: number) => Math.abs(x - want) <= 1e-4 * (1 + Math.abs(want));

/** A [rows, cols] matrix of N(0, scale²) draws rounded to 2 decimals (small cases). */
function smallMatrix(ctx: SuiteContext, rows: number, cols: number, scale = 1): tfTypes.Tensor2D {
  return ctx.tensor(Array.from({ length: rows }, () => Array.from({ length: cols }, () => round(scale * ctx.rng.normal()))));
}

/** The largest float32 below 1: the largest value a uniform draw in [0, 1) can take. */
const BELOW_ONE = Math.fround(1 - 2 ** -24);

/** pUncond = n/32 for a random n with lo ≤ n/32 ≤ hi (exact in float32). */
function pUncondDraw(ctx: SuiteContext, lo: number, hi: number): number {
  return ctx.int(Math.ceil(lo * 32), Math.floor(hi * 32)) / 32;
}

/** One dropLabels case: B labels in {0, …, K−1}, float32 draws u in [0, 1) of which `ties` equal pUncond. */
interface DropCase {
  labels: number[];
  u: number[];
  pUncond: number;
  nullId: number;
}

function dropCase(ctx: SuiteContext, b: number, k: number, pUncond: number, ties: number, decimals?: number): DropCase {
  const draw = () => Math.min(BELOW_ONE, Math.fround(decimals === undefined ? ctx.rng.uniform() : round(ctx.rng.uniform(), decimals)));
  const u = Array.from({ length: b }, draw);
  for (let i = 0; i < ties; i++) u[ctx.int(0, b - 1)] = pUncond;
  return { labels: Array.from({ length: b }, () => ctx.int(0, k - 1)), u, pUncond, nullId: k };
}

/** The arguments of a dropLabels call: int32 labels, float32 u, pUncond, nullId. */
function dropArgs(ctx: SuiteContext, c: DropCase): unknown[] {
  return [ctx.tf.tensor1d(c.labels, "int32"), ctx.tf.tensor1d(c.u, "float32"), c.pUncond, c.nullId];
}

/** What dropLabels must return, by the definition: ∅ where u < pUncond, else the label. */
function dropped(c: DropCase): number[] {
  return c.labels.map((y, i) => (c.u[i] < c.pUncond ? c.nullId : y));
}

/** Each row is its own label or ∅, and exactly the rows with u < pUncond are ∅. */
function dropProperty(c: DropCase) {
  return (v: Float64Array): string | null => {
    const i = v.findIndex((y, b) => y !== c.labels[b] && y !== c.nullId);
    if (i >= 0) return `row ${i} is ${v[i]}, but each row must be its label (${c.labels[i]}) or ∅ = nullId (${c.nullId})`;
    const j = v.findIndex((y, b) => (y === c.nullId) !== (c.u[b] < c.pUncond));
    if (j < 0) return null;
    const how = c.u[j] === c.pUncond ? "equal to" : c.u[j] < c.pUncond ? "below" : "above";
    return `row ${j} has u = ${c.u[j]} ${how} pUncond = ${c.pUncond} and was ${v[j] === c.nullId ? "dropped" : "kept"}: drop a label exactly when u < pUncond (strictly less)`;
  };
}

/** A dropLabels call checked against the reference, with the property above. */
function dropCall(ctx: SuiteContext, c: DropCase, note?: string): PlannedCall {
  const args = dropArgs(ctx, c);
  const out = ref.dropLabels(args[0] as tfTypes.Tensor1D, args[1] as tfTypes.Tensor1D, c.pUncond, c.nullId);
  return { args, expect: { ...ctx.expectRef(out), property: dropProperty(c) }, note };
}

/** Random batch shapes [B, D] for the ε tests. */
function randomBatch(ctx: SuiteContext): [number, number] {
  return [ctx.int(16, 64), ctx.int(1, 4)];
}

/** A typical CFG step checked against the reference, added to the limit tests so that only a
 * correct combination passes them (returning epsUncond is right at s = 0, and nowhere else). */
function cfgAnchor(ctx: SuiteContext): PlannedCall {
  const [b, d] = randomBatch(ctx);
  const epsCond = ctx.matrix(b, d);
  const epsUncond = ctx.matrix(b, d);
  const s = ctx.uniform(2, 8);
  return { args: [epsCond, epsUncond, s], expect: ctx.expectRef(ref.cfgEps(epsCond, epsUncond, s)), note: "a typical scale, also checked by this test" };
}

const suite: HiddenSuite = {
  notebook: "03_classifier_free_guidance",
  exercises: {
    dropLabels: [
      {
        name: "small case (6 labels)",
        points: 0.5,
        small: true,
        build: (ctx) => {
          const c = dropCase(ctx, 6, ctx.int(3, 5), pUncondDraw(ctx, 0.25, 0.75), 1, 2);
          return { calls: [dropCall(ctx, c)] };
        },
      },
      {
        name: "random batches, class counts and dropout rates",
        points: 0.5,
        build: (ctx) => ({
          calls: [[0.03, 0.15], [0.15, 0.4], [0.4, 0.9]].map(([lo, hi]) => {
            const c = dropCase(ctx, ctx.int(32, 256), ctx.int(2, 12), pUncondDraw(ctx, lo, hi), 3);
            return dropCall(ctx, c);
          }),
        }),
      },
      {
        name: "limits: pUncond = 0 keeps every label, pUncond = 1 drops every one, u = pUncond keeps",
        points: 0.5,
        build: (ctx) => {
          const k = ctx.int(2, 12);
          const b = ctx.int(16, 64);
          const none = dropCase(ctx, b, k, 0, 3); // u = 0 in three rows: 0 < 0 is false
          const all = dropCase(ctx, b, k, 1, 0);
          all.u[ctx.int(0, b - 1)] = BELOW_ONE;
          const tie = dropCase(ctx, b, k, pUncondDraw(ctx, 0.2, 0.8), Math.ceil(b / 4));
          const exact = (c: DropCase, note: string): PlannedCall => ({ args: dropArgs(ctx, c), expect: { ...expectValues([b], dropped(c)), dtype: "int32", property: dropProperty(c) }, note });
          return { calls: [exact(none, "pUncond = 0, some u = 0"), exact(all, "pUncond = 1"), exact(tie, "a quarter of the rows with u = pUncond")] };
        },
      },
      {
        name: "drops a fraction pUncond of a large batch, replacing labels by ∅ = nullId",
        points: 0.5,
        build: (ctx) => {
          const c = dropCase(ctx, 4000, ctx.int(2, 20), pUncondDraw(ctx, 0.1, 0.5), 5);
          const fraction = (v: Float64Array) => {
            const f = v.reduce((s, y) => s + (y === c.nullId ? 1 : 0), 0) / v.length;
            return Math.abs(f - c.pUncond) < 0.04 ? null : `${(100 * f).toFixed(1)}% of the labels became ∅ = ${c.nullId}, expected about ${100 * c.pUncond}% for pUncond = ${c.pUncond} (drop when u < pUncond)`;
          };
          const call = dropCall(ctx, c, `B = 4000, pUncond = ${c.pUncond}`);
          const inner = call.expect.property;
          return { calls: [{ ...call, expect: { ...call.expect, property: (v, shape) => fraction(v) ?? (inner ? inner(v, shape) : null) } }] };
        },
      },
    ],

    cfgEps: [
      {
        name: "small case (2×2)",
        points: 0.5,
        small: true,
        build: (ctx) => {
          const epsCond = smallMatrix(ctx, 2, 2);
          const epsUncond = smallMatrix(ctx, 2, 2);
          const s = round(ctx.uniform(1.5, 4));
          return { calls: [{ args: [epsCond, epsUncond, s], expect: ctx.expectRef(ref.cfgEps(epsCond, epsUncond, s)) }] };
        },
      },
      {
        name: "random batches and guidance scales",
        points: 0.5,
        build: (ctx) => ({
          calls: [[0.1, 0.4], [2, 4], [6, 10]].map(([lo, hi]): PlannedCall => {
            const [b, d] = randomBatch(ctx);
            const epsCond = ctx.matrix(b, d);
            const epsUncond = ctx.matrix(b, d);
            const s = ctx.uniform(lo, hi);
            return { args: [epsCond, epsUncond, s], expect: ctx.expectRef(ref.cfgEps(epsCond, epsUncond, s)) };
          }),
        }),
      },
      {
        name: "limits: s = 0 is the unconditional model, s = 1 the conditional one, and a typical scale",
        points: 0.5,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const epsCond = ctx.matrix(b, d);
          const epsUncond = ctx.matrix(b, d);
          return {
            calls: [
              { args: [epsCond, epsUncond, 0], expect: expectValues([b, d], valuesOf(epsUncond)), note: "s = 0" },
              { args: [epsCond.clone(), epsUncond.clone(), 1], expect: expectValues([b, d], valuesOf(epsCond)), note: "s = 1" },
              cfgAnchor(ctx),
            ],
          };
        },
      },
      {
        name: "extrapolates from ε̂∅ by s·(ε̂c − ε̂∅); equal predictions stay put",
        points: 0.5,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const epsCond = ctx.matrix(b, d);
          const epsUncond = ctx.matrix(b, d);
          const c = valuesOf(epsCond);
          const u = valuesOf(epsUncond);
          const s = ctx.uniform(2, 8);
          const step = (v: Float64Array) => {
            const i = v.findIndex((x, k) => Math.abs(x - u[k] - s * (c[k] - u[k])) > 1e-4 * (1 + Math.abs(x)));
            return i < 0 ? null : `ε̃ − ε̂∅ must be s·(ε̂c − ε̂∅) (for s > 1 it moves from ε̂(z, ∅) past ε̂(z, c)), but entry ${i} is not: ε̃ = s·ε̂c − (s − 1)·ε̂∅`;
          };
          const same = (v: Float64Array) => (v.every((x, k) => Math.abs(x - c[k]) <= 1e-4 * (1 + Math.abs(c[k]))) ? null : "when ε̂c = ε̂∅, ε̃ must be that same prediction for any s");
          return {
            calls: [
              { args: [epsCond, epsUncond, s], expect: { ...ctx.expectRef(ref.cfgEps(epsCond, epsUncond, s)), property: step } },
              { args: [epsCond.clone(), epsCond.clone(), s], expect: ctx.expectShape([b, d], same), note: "ε̂c = ε̂∅" },
            ],
          };
        },
      },
    ],

    implicitClassifierGrad: [
      {
        name: "small case (2×2)",
        points: 0.5,
        small: true,
        build: (ctx) => {
          const epsCond = smallMatrix(ctx, 2, 2);
          const epsUncond = smallMatrix(ctx, 2, 2);
          const sigma = round(ctx.uniform(0.2, 0.9));
          return { calls: [{ args: [epsCond, epsUncond, sigma], expect: ctx.expectRef(ref.implicitClassifierGrad(epsCond, epsUncond, sigma)) }] };
        },
      },
      {
        name: "random batches, σ from 0.02 to 1",
        points: 0.5,
        build: (ctx) => ({
          calls: [0.02, 0.3, 0.97].map((sigma0): PlannedCall => {
            const [b, d] = randomBatch(ctx);
            const epsCond = ctx.matrix(b, d);
            const epsUncond = ctx.matrix(b, d);
            const sigma = Math.min(1, sigma0 * Math.exp(ctx.uniform(-0.03, 0.03)));
            return { args: [epsCond, epsUncond, sigma], expect: ctx.expectRef(ref.implicitClassifierGrad(epsCond, epsUncond, sigma)) };
          }),
        }),
      },
      {
        name: "zero when the class changes nothing, and scales as 1/σ",
        points: 0.5,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const epsCond = ctx.matrix(b, d);
          const epsUncond = ctx.matrix(b, d);
          const sigma = ctx.uniform(0.2, 0.5);
          const zero = (v: Float64Array) => (v.every((x) => Math.abs(x) < 1e-5) ? null : "ε̂c = ε̂∅ must give a zero gradient: the class changes nothing");
          const want = valuesOf(ref.implicitClassifierGrad(epsCond, epsUncond, sigma));
          return {
            calls: [
              { args: [epsCond.clone(), epsCond.clone(), sigma], expect: ctx.expectShape([b, d], zero), note: "ε̂c = ε̂∅" },
              { args: [epsCond, epsUncond, sigma], expect: ctx.expectShape([b, d]) },
              { args: [epsCond.clone(), epsUncond.clone(), 2 * sigma], expect: ctx.expectShape([b, d]), note: "σ doubled" },
            ],
            // shape-only calls, compared here, so that the message says what is wrong
            check: ([, a, half]) => {
              if (!a.values.every((x, k) => near(half.values[k], x / 2))) return "doubling σ must halve the gradient (it is −(ε̂c − ε̂∅)/σ)";
              const i = a.values.findIndex((x, k) => !near(x, want[k]));
              return i < 0 ? null : `entry ${i} is ${a.values[i].toPrecision(4)}, expected ${want[i].toPrecision(4)} (−(ε̂c − ε̂∅)/σ)`;
            },
          };
        },
      },
      {
        name: "guidance with it at s = 1 gives back the conditional model: ε̂∅ − σ·grad = ε̂c",
        points: 0.5,
        build: (ctx) => {
          const [b, d] = randomBatch(ctx);
          const epsCond = ctx.matrix(b, d);
          const epsUncond = ctx.matrix(b, d);
          const c = valuesOf(epsCond);
          const u = valuesOf(epsUncond);
          const sigma = ctx.uniform(0.2, 0.8);
          const consistent = (v: Float64Array) => {
            const i = v.findIndex((g, k) => Math.abs(u[k] - sigma * g - c[k]) > 1e-3 * (1 + Math.abs(c[k])));
            return i < 0 ? null
              : `classifier guidance ε̂∅ − s·σ·grad with this gradient at s = 1 must give back ε̂c, but entry ${i} gives ${(u[i] - sigma * v[i]).toPrecision(4)} instead of ${c[i].toPrecision(4)}: score = −ε̂/σ, so grad = −(ε̂c − ε̂∅)/σ`;
          };
          return { calls: [{ args: [epsCond, epsUncond, sigma], expect: { ...ctx.expectRef(ref.implicitClassifierGrad(epsCond, epsUncond, sigma)), property: consistent } }] };
        },
      },
    ],
  },
};

export default suite;
