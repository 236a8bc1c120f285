/**
 * HIDDEN grading suite for notebooks/06_glide_vs_dalle2_prior.ipynb. NEVER SHIPPED TO STUDENTS.
 *
 * Loaded only by the trusted grader process (tools/grade/score.ts); not a jest test file. Each test
 * draws fresh inputs from `ctx.rng` (seeded per grading run, recorded in results.json), computes the
 * expected results with the reference in solutions/ (or closed forms), and sends only the inputs to
 * the sandboxed student code. Half-point tests: six for clipGuidanceGrad (3 points), four for
 * priorNoisedInput (2 points), as in the notebook.
 *
 * Every test compares with the reference, so a typical mistake loses all of an exercise's points:
 * no normalisation (the gradient of Σ⟨z·W, c⟩ is c·Wᵀ), normalising z instead of z·W, the whole
 * similarity matrix Σ_{b,b'} ⟨û_b, c_b'⟩, a flipped sign, the batch mean instead of the sum;
 * ᾱ for sqrt(ᾱ), the first row's ᾱ for every row, z0 and ε swapped, ᾱ broadcast along the last
 * axis. Property checks name the mistake when the values match it (they run before the values).
 *
 * Notation: z = z_t flattened ([B, D]), W = the linear image encoder ([D, E]), u_b = z_b·W,
 * û_b = u_b/‖u_b‖, c_b = the unit caption embedding (textEmb, [B, E]); z0 = z_0, eps = ε,
 * alphaBar = ᾱ_t of each row ([B]).
 *
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { HiddenSuite, HiddenTest, PlannedCall, SuiteContext } from "../../../tools/grade/suite";
import * as ref from "../../../solutions/06_glide_vs_dalle2_prior";

type Tensor2D = tfTypes.Tensor2D;
type Mat = number[][];

/** A value rounded to `d` decimals, so that small cases read well in feedback. */
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const close = (x: number, want: number, tol = 1e-4) => Math.abs(x - want) <= tol * (1 + Math.abs(want));
const allClose = (v: ArrayLike<number>, w: ArrayLike<number>, tol = 1e-4) => v.length === w.length && Array.from(v).every((x, i) => close(x, w[i], tol));
/** A tensor's values as rows (read in the trusted process). */
const rowsOf = (t: tfTypes.Tensor): Mat => t.arraySync() as Mat;
const dotRow = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, k) => s + x * b[k], 0);
/** Row b of flat [B, n] values. */
const rowAt = (v: ArrayLike<number>, n: number, b: number) => Array.from(v).slice(b * n, (b + 1) * n);
const maxAbs = (v: ArrayLike<number>) => Array.from(v).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** A property naming the mistake whose values the output matches (unless they match `want` too). */
function diagnose(want: ArrayLike<number>, mistakes: Array<[ArrayLike<number>, string]>) {
  return (v: Float64Array): string | null => mistakes.find(([m]) => allClose(v, m) && !allClose(m, want))?.[1] ?? null;
}

/** B random unit vectors of dimension E. */
function captions(ctx: SuiteContext, B: number, E: number): Tensor2D {
  return ctx.tf.tidy(() => {
    const g = ctx.matrix(B, E);
    return ctx.tf.div(g, ctx.tf.norm(g, "euclidean", 1, true)) as Tensor2D;
  });
}

/** A guidance problem [B, D, E]: z ~ N(0, 1), W ~ N(0, 1/D), unit captions. */
const problem = (ctx: SuiteContext, B: number, D: number, E: number): [Tensor2D, Tensor2D, Tensor2D] => [ctx.matrix(B, D), ctx.matrix(D, E, 1 / Math.sqrt(D)), captions(ctx, B, E)];

/** The gradient when z itself is normalised: row b is (I − ẑ_b ẑ_bᵀ)·(W·c_b)/‖z_b‖, float64. */
function normalisedZGrad(z: Tensor2D, w: Tensor2D, c: Tensor2D): Mat {
  const W = rowsOf(w);
  const C = rowsOf(c);
  return rowsOf(z).map((zb, b) => {
    const r = Math.hypot(...zb);
    const wc = W.map((wd) => dotRow(wd, C[b]));
    const along = dotRow(zb, wc) / r;
    return wc.map((x, d) => (x - (along * zb[d]) / r) / r);
  });
}

/** A clipGuidanceGrad call against the reference, naming the usual mistakes; `extra` adds a property. */
function gradCall(ctx: SuiteContext, z: Tensor2D, w: Tensor2D, c: Tensor2D, note?: string, extra?: (v: Float64Array) => string | null): PlannedCall {
  const { tf } = ctx;
  const B = z.shape[0];
  const want = ctx.expectRef(ref.clipGuidanceGrad(z, w, c));
  const g = want.values as ArrayLike<number>;
  const tol = { atol: 1e-4 * Math.max(1, maxAbs(g)), rtol: 1e-4 };
  const [plain, every] = tf.tidy(() => {
    const summed = tf.tile(tf.sum(c, 0, true), [B, 1]) as Tensor2D;
    return [tf.matMul(c, w, false, true).dataSync(), ref.clipGuidanceGrad(z, w, summed).dataSync()];
  });
  const mistakes: Array<[ArrayLike<number>, string]> = [
    [plain, "this is c·Wᵀ, the gradient of ⟨z·W, c⟩: normalise u = z·W first (C_I(z) = u/‖u‖), which adds the term −⟨û, c⟩·û and the factor 1/‖u‖"],
    [normalisedZGrad(z, w, c).flat(), "this normalises z: the image embedding is C_I(z) = normalise(z·W), so normalise u = z·W (along E), not z"],
    [every, "this sums the whole similarity matrix Σ_{b,b'} ⟨û_b, c_b'⟩: each image goes with its own caption, Σ_b ⟨û_b, c_b⟩"],
    [Array.from(g, (x) => -x), "the sign is flipped: the gradient must point to where ⟨û_b, c_b⟩ grows (ascent, not descent)"],
    [Array.from(g, (x) => x / B), "this is the gradient of the batch mean: the objective is the sum over b, so row b must not depend on B"],
  ];
  const named = diagnose(g, mistakes);
  return { args: [z, w, c], expect: { ...want, ...tol, property: (v) => named(v) ?? extra?.(v) ?? null }, note };
}

/** Pythagorean unit vectors in the plane, readable in feedback. */
const UNIT2 = [[0.6, 0.8], [0.8, -0.6], [1, 0], [0, -1], [-0.28, 0.96], [-0.96, -0.28]];

/** A priorNoisedInput call against the reference, naming the usual mistakes. */
function noisedCall(ctx: SuiteContext, z0: Tensor2D, eps: Tensor2D, ab: number[], note?: string): PlannedCall {
  const alphaBar = ctx.tf.tensor1d(ab, "float32");
  const want = ctx.expectRef(ref.priorNoisedInput(z0, eps, alphaBar));
  const [Z, N] = [rowsOf(z0), rowsOf(eps)];
  const a = Array.from(alphaBar.dataSync());
  const mix = (f: (b: number, k: number) => number, g: (b: number, k: number) => number) => Z.flatMap((r, b) => r.map((x, k) => f(b, k) * x + g(b, k) * N[b][k]));
  const mistakes: Array<[ArrayLike<number>, string]> = [
    [mix((b) => a[b], (b) => 1 - a[b]), "the weights are ᾱ and 1 − ᾱ: use sqrt(ᾱ_t)·z_0 + sqrt(1 − ᾱ_t)·ε (variance preserving)"],
    [mix((b) => Math.sqrt(a[b]), (b) => 1 - a[b]), "the weight of ε is 1 − ᾱ: it must be sqrt(1 − ᾱ_t)"],
    [mix(() => Math.sqrt(a[0]), () => Math.sqrt(1 - a[0])), "every row uses the first row's ᾱ: row b has its own timestep, ᾱ_b (alphaBar has shape [B])"],
    [mix((b) => Math.sqrt(1 - a[b]), (b) => Math.sqrt(a[b])), "z_0 and ε are swapped: ᾱ = 1 must keep z_0 (weight sqrt(ᾱ_t)) and ᾱ = 0 give pure noise ε"],
  ];
  if (Z.length === Z[0].length) mistakes.push([mix((_, k) => Math.sqrt(a[k]), (_, k) => Math.sqrt(1 - a[k])), "ᾱ_b is applied to column b: reshape alphaBar to [B, 1] so that ᾱ_b scales row b"]);
  return { args: [z0, eps, alphaBar], expect: { ...want, property: diagnose(want.values as ArrayLike<number>, mistakes) }, note };
}

/** B distinct ᾱ values spread over (lo, hi). */
const alphaBars = (ctx: SuiteContext, B: number, lo = 0.02, hi = 0.98) => Array.from({ length: B }, (_, b) => lo + ((hi - lo) * (b + ctx.uniform(0.1, 0.9))) / B);

/** Every test is worth half a point; small cases show their inputs in feedback. */
const halfPoint = (name: string, build: HiddenTest["build"]): HiddenTest => ({ name, points: 0.5, build });
const smallCase = (name: string, build: HiddenTest["build"]): HiddenTest => ({ ...halfPoint(name, build), small: true });

const suite: HiddenSuite = {
  notebook: "06_glide_vs_dalle2_prior",
  exercises: {
    clipGuidanceGrad: [
      smallCase("small case (B = 2, D = 3, E = 2)", (ctx) => {
        let Z: Mat;
        let W: Mat;
        do { // redrawn until every ‖z_b·W‖ ≥ 0.5, so that the gradient stays readable
          Z = [0, 1].map(() => [0, 1, 2].map(() => round(2 * ctx.rng.normal())));
          W = [0, 1, 2].map(() => [0, 1].map(() => round(ctx.rng.normal())));
        } while (Z.some((zb) => Math.hypot(...[0, 1].map((e) => zb.reduce((s, x, d) => s + x * W[d][e], 0))) < 0.5));
        const [z, w] = [ctx.tensor(Z), ctx.tensor(W)];
        const c = ctx.tensor([UNIT2[ctx.int(0, 2)], UNIT2[ctx.int(3, 5)]]);
        return { calls: [gradCall(ctx, z, w, c)] };
      }),
      halfPoint("random problems (B up to 48, D up to 196, E up to 64)", (ctx) => ({
        calls: [[2, 4, 4, 12, 2, 6], [4, 16, 16, 64, 8, 32], [16, 48, 64, 196, 16, 64]].map(([b0, b1, d0, d1, e0, e1]) => {
          const [B, D, E] = [ctx.int(b0, b1), ctx.int(d0, d1), ctx.int(e0, e1)];
          return gradCall(ctx, ...problem(ctx, B, D, E), `B = ${B}, D = ${D}, E = ${E}`);
        }),
      })),
      halfPoint("row b depends only on z_b and c_b: each row alone gives the same gradient", (ctx) => {
        const [B, D, E] = [ctx.int(3, 8), ctx.int(8, 32), ctx.int(4, 16)];
        const [z, w, c] = problem(ctx, B, D, E);
        const picks = [0, ctx.int(1, B - 1)];
        const alone = picks.map((b) => gradCall(ctx, ctx.tf.slice(z, [b, 0], [1, D]), w, ctx.tf.slice(c, [b, 0], [1, E]), `row ${b} alone`));
        return {
          calls: [gradCall(ctx, z, w, c, `B = ${B}`), ...alone],
          check: ([batch, ...rows]) => {
            const b = picks.findIndex((p, i) => !allClose(rowAt(batch.values, D, p), rows[i].values));
            return b < 0 ? null : `row ${picks[b]} of the batch's gradient differs from the gradient of row ${picks[b]} alone: row b must depend only on z_b and c_b`;
          },
        };
      }),
      halfPoint("scale invariance: z_b → a_b·z_b divides row b of the gradient by a_b", (ctx) => {
        const [B, D, E] = [ctx.int(3, 8), ctx.int(8, 48), ctx.int(4, 16)];
        const [z, w, c] = problem(ctx, B, D, E);
        const a = Array.from({ length: B }, () => Math.exp(ctx.uniform(Math.log(0.05), Math.log(20))));
        const scaled = ctx.tf.tensor2d(rowsOf(z).map((r, b) => r.map((x) => a[b] * x)), [B, D], "float32");
        return {
          calls: [gradCall(ctx, z, w, c, "z"), gradCall(ctx, scaled, w, c, `a_b·z_b, a = ${a.map((x) => x.toFixed(2)).join(", ")}`)],
          check: ([g, gs]) => {
            const bad = a.findIndex((ab, b) => !allClose(rowAt(gs.values, D, b).map((x) => ab * x), rowAt(g.values, D, b), 1e-3));
            return bad < 0 ? null : `scaling z_${bad} by ${a[bad].toFixed(3)} must divide row ${bad} of the gradient by ${a[bad].toFixed(3)} (the cosine ignores ‖z_b‖)`;
          },
        };
      }),
      halfPoint("ascent and orthogonality: ⟨∇_b, z_b⟩ = 0 and the cosine grows along ∇_b", (ctx) => {
        const [B, D, E] = [ctx.int(4, 16), ctx.int(8, 64), ctx.int(4, 24)];
        const [z, w, c] = problem(ctx, B, D, E);
        const Z = rowsOf(z);
        const want = ctx.expectRef(ref.clipGuidanceGrad(z, w, c)).values as ArrayLike<number>;
        const geometry = (v: Float64Array) => {
          for (let b = 0; b < B; b++) {
            const gb = rowAt(v, D, b);
            if (Math.abs(dotRow(gb, Z[b])) > 1e-3 * Math.hypot(...gb) * Math.hypot(...Z[b]) + 1e-6) return `⟨∇_${b}, z_${b}⟩ = ${dotRow(gb, Z[b]).toExponential(2)} ≠ 0: the cosine does not change when z_b is scaled, so its gradient is orthogonal to z_b`;
            if (!(dotRow(gb, rowAt(want, D, b)) > 0)) return `a small step along row ${b} of your gradient lowers ⟨û_${b}, c_${b}⟩: the gradient must point uphill`;
          }
          return null;
        };
        return { calls: [gradCall(ctx, z, w, c, `B = ${B}`, geometry)] };
      }),
      halfPoint("stationary points (c_b = ±û_b gives 0), and tiny and huge images (‖z_b‖ = 10⁻², 10²)", (ctx) => {
        const [B, D, E] = [ctx.int(3, 8), ctx.int(8, 32), ctx.int(4, 16)];
        const [z, w] = problem(ctx, B, D, E);
        const signs = Array.from({ length: B }, () => (ctx.int(0, 1) ? 1 : -1));
        const aligned = ctx.tf.tidy(() => {
          const u = ctx.tf.matMul(z, w);
          return ctx.tf.mul(ctx.tf.div(u, ctx.tf.norm(u, "euclidean", 1, true)), ctx.tf.tensor2d(signs, [B, 1])) as Tensor2D;
        });
        const zero = (v: Float64Array) => (maxAbs(v) < 1e-4 ? null : "at c_b = ±û_b the cosine is at its maximum (+1) or minimum (−1): the gradient must vanish there");
        const sized = (norm: number) => {
          const [z2, w2, c2] = problem(ctx, B, D, E);
          const zn = ctx.tf.tensor2d(rowsOf(z2).map((r) => r.map((x) => (x * norm) / Math.hypot(...r))), [B, D], "float32");
          return gradCall(ctx, zn, w2, c2, `‖z_b‖ = ${norm}`);
        };
        return { calls: [gradCall(ctx, z, w, aligned, "c_b = ±û_b", zero), sized(0.01), sized(100)] };
      }),
    ],

    priorNoisedInput: [
      smallCase("small case (B = 3, E = 2)", (ctx) => {
        const z0 = ctx.tensor([0, 1, 2].map(() => [0, 1].map(() => round(1.5 * ctx.rng.normal()))));
        const eps = ctx.tensor([0, 1, 2].map(() => [0, 1].map(() => round(ctx.rng.normal()))));
        return { calls: [noisedCall(ctx, z0, eps, alphaBars(ctx, 3, 0.1, 0.9).map((x) => round(x, 2)))] };
      }),
      halfPoint("random batches, one ᾱ per row across (0, 1), a square batch (B = E) among them", (ctx) => {
        const E = ctx.int(4, 32);
        return {
          calls: [[E, E], [ctx.int(2, 8), ctx.int(2, 16)], [ctx.int(16, 128), E]].map(([B, n]) => noisedCall(ctx, ctx.matrix(B, n, ctx.uniform(1, 5)), ctx.matrix(B, n), alphaBars(ctx, B), `B = ${B}, E = ${n}`)),
        };
      }),
      halfPoint("limits: ᾱ = 1 keeps z0, ᾱ = 0 is pure noise ε, row by row", (ctx) => {
        const [B, E] = [ctx.int(4, 16), ctx.int(2, 32)];
        const [z0, eps] = [ctx.matrix(B, E, 2), ctx.matrix(B, E)];
        const mixed = Array.from({ length: B }, (_, b) => [1, 0, ctx.uniform(0.1, 0.9)][(b + ctx.int(0, 2)) % 3]);
        const [Z, N] = [z0.dataSync(), eps.dataSync()];
        const swapped = "z_0 and ε are swapped: ᾱ = 1 must keep z_0 (weight sqrt(ᾱ_t)) and ᾱ = 0 give pure noise ε";
        const exactly = (want: ArrayLike<number>, other: ArrayLike<number>) => ({ kind: "tensor" as const, shape: [B, E], values: Float64Array.from(want), property: diagnose(want, [[other, swapped]]) });
        return {
          calls: [
            { args: [z0, eps, ctx.tf.ones([B])], expect: exactly(Z, N), note: "ᾱ = 1 in every row" },
            { args: [z0, eps, ctx.tf.zeros([B])], expect: exactly(N, Z), note: "ᾱ = 0 in every row" },
            noisedCall(ctx, z0, eps, mixed, `ᾱ per row: ${mixed.map((x) => round(x, 2)).join(", ")}`),
          ],
        };
      }),
      halfPoint("weights sqrt(ᾱ_b) and sqrt(1 − ᾱ_b): variance preserving, per row", (ctx) => {
        const [B, E] = [ctx.int(3, 12), ctx.int(2, 16)];
        const ab = alphaBars(ctx, B, 0.05, 0.95);
        const [ones, zeros] = [ctx.tf.ones([B, E]) as Tensor2D, ctx.tf.zeros([B, E]) as Tensor2D];
        const perRow = (v: Float64Array): string | null => (Array.from(v).every((x, k) => close(x, v[k - (k % E)])) ? null : "every entry of a row must get the same weight");
        const weightOf = (x: Tensor2D, e: Tensor2D, note: string): PlannedCall => ({ args: [x, e, ctx.tf.tensor1d(ab, "float32")], expect: ctx.expectShape([B, E], perRow), note });
        return {
          calls: [weightOf(ones, zeros, "z0 = 1, ε = 0: the weight of z0 in each row"), weightOf(zeros, ones, "z0 = 0, ε = 1: the weight of ε in each row")],
          check: ([wz, we]) => {
            for (let b = 0; b < B; b++) {
              const [p, q] = [wz.values[b * E], we.values[b * E]];
              if (!close(p * p + q * q, 1)) return `in row ${b} (ᾱ = ${ab[b].toFixed(3)}) the weights of z0 and ε are ${p.toFixed(4)} and ${q.toFixed(4)}, whose squares sum to ${(p * p + q * q).toFixed(4)}, not 1: use sqrt(ᾱ) and sqrt(1 − ᾱ)`;
              if (!close(p, Math.sqrt(ab[b])) || !close(q, Math.sqrt(1 - ab[b]))) return `in row ${b} the weights of z0 and ε must be sqrt(ᾱ_b) = ${Math.sqrt(ab[b]).toFixed(4)} and sqrt(1 − ᾱ_b) = ${Math.sqrt(1 - ab[b]).toFixed(4)}; got ${p.toFixed(4)} and ${q.toFixed(4)}`;
            }
            return null;
          },
        };
      }),
    ],
  },
};

export default suite;
