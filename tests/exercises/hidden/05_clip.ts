/**
 * HIDDEN grading suite for notebooks/05_clip.ipynb. NEVER SHIPPED TO STUDENTS.
 *
 * Loaded only by the trusted grader process (tools/grade/score.ts); not a jest test file. Each test
 * draws fresh inputs from `ctx.rng` (seeded per grading run, recorded in results.json), computes the
 * expected results with the reference in solutions/, and sends only the inputs to the sandboxed
 * student code. Four half-point tests per exercise: 2 points each, as in the notebook.
 *
 * Every test compares with the reference, and its logits are redrawn until each typical mistake is
 * far outside the tolerance, so that these lose all of clipLoss's points: the row (or column)
 * cross-entropy alone, the sum of both instead of their mean, −log softmax averaged over every entry
 * instead of the diagonal, a sum over the batch. A softmax without the max taken out (or the log of
 * a softmax) overflows or underflows only in the large-logit test: 1.5 of 2. For zeroShotClassify,
 * argmin instead of argmax and float32 labels (int32 is required) lose all points; the nearest
 * prompt in Euclidean distance, which agrees with the dot product on unit vectors, fails the two
 * tests whose prompts differ in length (1 of 2); ties to the last label fail the tie test (1.5 of 2).
 * Property checks name the mistake when the values match it. Cosine similarity is not penalised:
 * wherever prompts are not unit vectors, the images are drawn so that the cosine and the dot
 * product pick the same label, with no near-ties (best beats runner-up by 1e-3).
 *
 * Notation: L = logits, L[i][j] = s·⟨u_i, v_j⟩ (image i, caption j; the pairs are on the diagonal),
 * B = the batch size, s = the logit scale; images u_i ([N, E]), prompts w_k ([K, E]).
 *
 * @see notebooks/05_clip.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { HiddenSuite, HiddenTest, PlannedCall, SuiteContext } from "../../../tools/grade/suite";
import * as ref from "../../../solutions/05_clip";

type Mat = number[][];

/** A value rounded to `d` decimals, so that small cases read well in feedback. */
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const near = (x: number, want: number, tol = 1e-4) => Math.abs(x - want) <= tol * (1 + Math.abs(want));
const avg = (x: number[]) => x.reduce((t, v) => t + v, 0) / x.length;
const dot = (a: number[], b: number[]) => a.reduce((t, v, k) => t + v * b[k], 0);
const flip = (a: Mat): Mat => a[0].map((_, j) => a.map((r) => r[j]));
/** a as a float32 tensor, and a's values as float32 rounds them. */
const tensorOf = (ctx: SuiteContext, a: Mat): tfTypes.Tensor2D => ctx.tf.tensor2d(a, [a.length, a[0].length], "float32");
const f32 = (a: Mat): Mat => a.map((r) => r.map(Math.fround));

/** log Σ_k e^{x_k}, float64, with the max taken out. */
const logSumExp = (x: number[]) => {
  const m = x.reduce((a, b) => Math.max(a, b), -Infinity);
  return m + Math.log(x.reduce((t, v) => t + Math.exp(v - m), 0));
};
/** Mean over rows of lse(row) − target, for the diagonal target and for every entry of the row. */
const rowCe = (L: Mat) => ({ diag: avg(L.map((r, i) => logSumExp(r) - r[i])), every: avg(L.map((r) => logSumExp(r) - avg(r))) });

/** The typical wrong losses for L (float32 values), with what to tell the student. */
function wrongLosses(L: Mat): Array<[number, string]> {
  const [r, c] = [rowCe(L), rowCe(flip(L))];
  return [
    [r.diag, "this is the row cross-entropy alone (image → caption): CLIP's loss averages it with the column one (caption → image), ½·(rows + columns)"],
    [c.diag, "this is the column cross-entropy alone (caption → image): CLIP's loss averages it with the row one (image → caption), ½·(rows + columns)"],
    [r.diag + c.diag, "this is the sum of the row and column cross-entropies: take their mean, ½·(rows + columns)"],
    [(r.every + c.every) / 2, "this averages −log softmax over every entry: only the diagonal entries (the matching pairs i ↔ i) are targets"],
    [r.every, "this averages −log softmax over every entry of each row: only the diagonal entries (the matching pairs i ↔ i) are targets"],
    [(L.length * (r.diag + c.diag)) / 2, "this is the sum over the B pairs: take the mean"],
  ];
}

/** A clipLoss call against the reference; its property names the wrong loss that the output matches. */
function lossCall(ctx: SuiteContext, L: Mat, note?: string, tol?: { atol?: number; rtol?: number }): PlannedCall {
  const logits = tensorOf(ctx, L);
  const want = ctx.expectRef(ref.clipLoss(logits), tol);
  const w = (want.values as ArrayLike<number>)[0];
  const mistakes = wrongLosses(f32(L));
  const property = (v: Float64Array) => mistakes.find(([m]) => near(v[0], m) && !near(m, w))?.[1] ?? null;
  return { args: [logits], expect: { ...want, property }, note };
}

/** Logits from `draw`, redrawn until every wrong loss is ≥ 10× the tolerance away from the right one. */
function telling(draw: () => Mat): Mat {
  for (let tries = 0; tries < 500; tries++) {
    const L = f32(draw());
    const [r, c] = [rowCe(L).diag, rowCe(flip(L)).diag];
    const w = (r + c) / 2;
    if (wrongLosses(L).every(([m]) => Math.abs(m - w) > 2e-3 * (1 + w))) return L;
  }
  throw new Error("05_clip suite: could not draw logits for clipLoss");
}

/** B × B logits scale·N(0, 1) (+ `shift(i, j)`). */
const gaussian = (ctx: SuiteContext, B: number, scale: number, shift = (_i: number, _j: number) => 0): Mat =>
  Array.from({ length: B }, (_, i) => Array.from({ length: B }, (_, j) => scale * ctx.rng.normal() + shift(i, j)));

/** A random unit vector of dimension E. */
function unitVector(ctx: SuiteContext, E: number): number[] {
  const v = Array.from({ length: E }, () => ctx.rng.normal());
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** CLIP-like logits s·⟨u_i, v_j⟩: unit u_i, and v_i = u_i + noise·(Gaussian), normalised. */
function clipLogits(ctx: SuiteContext, B: number, E: number, s: number, noise: number): Mat {
  const u = Array.from({ length: B }, () => unitVector(ctx, E));
  const v = u.map((x) => {
    const y = x.map((t) => t + (noise * ctx.rng.normal()) / Math.sqrt(E));
    const n = Math.hypot(...y);
    return y.map((t) => t / n);
  });
  return u.map((a) => v.map((b) => s * dot(a, b)));
}

/** First index of the largest (or smallest) value of each row; `last` takes the last of ties. */
const pick = (rows: Mat, sign: 1 | -1, last = false) =>
  rows.map((r) => r.reduce((b, x, k) => (sign * x > sign * r[b] || (last && x === r[b]) ? k : b), 0));

/** A zeroShotClassify call against the reference (int32), naming argmin, Euclidean and last-of-ties answers. */
function classifyCall(ctx: SuiteContext, images: Mat, prompts: Mat, note?: string): PlannedCall {
  const [u, w] = [tensorOf(ctx, images), tensorOf(ctx, prompts)];
  const want = ctx.expectRef(ref.zeroShotClassify(u, w));
  const [U, W] = [f32(images), f32(prompts)];
  const sims = U.map((a) => W.map((b) => dot(a, b)));
  const dists = U.map((a) => W.map((b) => Math.hypot(...a.map((t, k) => t - b[k]))));
  const target = Array.from(want.values as ArrayLike<number>);
  const mistakes: Array<[number[], string]> = [
    [pick(sims, -1), "these are the least similar prompts (argmin): the label is argmax_k ⟨u_i, w_k⟩"],
    [pick(dists, -1), "these are the nearest prompts in Euclidean distance: the label is the largest dot product argmax_k ⟨u_i, w_k⟩ (they differ when prompts differ in length)"],
    [pick(sims, 1, true), "ties go to the highest label here: give the lowest one, as tf.argMax does"],
  ];
  const same = (a: ArrayLike<number>, b: number[]) => b.every((x, i) => a[i] === x);
  const property = (v: Float64Array) => mistakes.find(([m]) => same(v, m) && !same(target, m))?.[1] ?? null;
  return { args: [u, w], expect: { ...want, property }, note };
}

/**
 * Prompts from `drawPrompts` and N images from `draw` with a clear label each: the best dot product
 * beats the runner-up by 1e-3 (no float32 near-ties), the cosine picks the same label, and
 * `accept(prompts)(row, u)` holds. Images are redrawn as needed, and the prompts too if that fails.
 */
function promptsAndImages(N: number, drawPrompts: () => Mat, draw: () => number[], accept = (_w: Mat) => (_i: number, _u: number[]) => true): [Mat, Mat] {
  for (let attempt = 0; attempt < 50; attempt++) {
    const prompts = drawPrompts();
    const ok = accept(prompts);
    const out: Mat = [];
    for (let tries = 0; out.length < N && tries < 50 * N + 50; tries++) {
      const u = draw();
      const sims = prompts.map((w) => dot(u, w));
      const best = pick([sims], 1)[0];
      const gap = Math.min(...sims.filter((_, k) => k !== best).map((x) => sims[best] - x));
      if (gap > 1e-3 && pick([prompts.map((w, k) => sims[k] / Math.hypot(...w))], 1)[0] === best && ok(out.length, u)) out.push(u);
    }
    if (out.length === N) return [prompts, out];
  }
  throw new Error("05_clip suite: could not draw embeddings for zeroShotClassify");
}

/** An `accept` for promptsAndImages: every other image (from the first) has a nearer prompt in Euclidean distance than its label's. */
function euclidDiffers(prompts: Mat) {
  const nearest = (u: number[]) => pick([prompts.map((w) => Math.hypot(...w.map((t, k) => t - u[k])))], -1)[0];
  return (i: number, u: number[]) => i % 2 === 1 || nearest(u) !== pick([prompts.map((w) => dot(u, w))], 1)[0];
}

/** Every test is worth half a point (four per exercise); small cases show their inputs in feedback. */
const halfPoint = (name: string, build: HiddenTest["build"]): HiddenTest => ({ name, points: 0.5, build });
const smallCase = (name: string, build: HiddenTest["build"]): HiddenTest => ({ ...halfPoint(name, build), small: true });
const roundAll = (a: number[], d = 2) => a.map((x) => round(x, d));

const suite: HiddenSuite = {
  notebook: "05_clip",
  exercises: {
    clipLoss: [
      smallCase("small case (3×3 logits)", (ctx) => ({ calls: [lossCall(ctx, telling(() => gaussian(ctx, 3, 2).map((r) => r.map((x) => round(x)))))] })),
      halfPoint("random batches of CLIP logits s·⟨u_i, v_j⟩ (B from 2 to 96, s from 5 to 30)", (ctx) => ({
        calls: [[2, 6], [8, 32], [48, 96]].map(([lo, hi]) => {
          let note = "";
          const L = telling(() => {
            const [B, E, s] = [ctx.int(lo, hi), ctx.int(8, 32), ctx.uniform(5, 30)];
            note = `B = ${B}, E = ${E}, s = ${s.toFixed(1)}`;
            return clipLogits(ctx, B, E, s, ctx.uniform(0.7, 2));
          });
          return lossCall(ctx, L, note);
        }),
      })),
      halfPoint("symmetric in images and captions: clipLoss(Lᵀ) = clipLoss(L); equal logits give log B", (ctx) => {
        const B = ctx.int(4, 12);
        const star = ctx.int(0, B - 1); // one caption that scores high with every image: easy rows, a hard column
        const L = gaussian(ctx, B, 1.5, (_i, j) => (j === star ? 4 : 0));
        const Bc = ctx.int(1, 16);
        const c = round(ctx.uniform(-10, 10));
        return {
          calls: [
            lossCall(ctx, L, "one caption matches every image"),
            lossCall(ctx, flip(L), "the same logits, transposed"),
            { ...lossCall(ctx, Array.from({ length: Bc }, () => new Array<number>(Bc).fill(c))), note: `${Bc}×${Bc} logits all ${c}: log ${Bc}` },
          ],
          check: ([a, b]) => (near(a.values[0], b.values[0]) ? null : `clipLoss(Lᵀ) = ${b.values[0].toFixed(4)} ≠ clipLoss(L) = ${a.values[0].toFixed(4)}: the loss must treat images and captions alike`),
        };
      }),
      halfPoint("large logits (|L| up to 10³) stay finite: take the max out (log-sum-exp)", (ctx) => {
        const tol = { atol: 1e-3, rtol: 1e-4 };
        const B = ctx.int(3, 8);
        const c = 1000 * (ctx.int(0, 1) * 2 - 1);
        return {
          calls: [
            lossCall(ctx, telling(() => gaussian(ctx, ctx.int(4, 16), 1000)), "logits 1000·N(0, 1)", tol),
            lossCall(ctx, Array.from({ length: B }, () => new Array<number>(B).fill(c)), `${B}×${B} logits all ${c}: log ${B}`, tol),
            lossCall(ctx, clipLogits(ctx, ctx.int(8, 32), 16, 100, ctx.uniform(0.2, 1)), "CLIP's largest scale, s = 100", tol),
          ],
        };
      }),
    ],

    zeroShotClassify: [
      smallCase("small case (4 images, 3 labels of different lengths, E = 3)", (ctx) => {
        const drawPrompts = () => Array.from({ length: 3 }, () => roundAll(unitVector(ctx, 3).map((x) => x * ctx.uniform(0.4, 2.5)), 1));
        const [prompts, images] = promptsAndImages(4, drawPrompts, () => roundAll(unitVector(ctx, 3)), euclidDiffers);
        return { calls: [classifyCall(ctx, images, prompts)] };
      }),
      halfPoint("random batches of unit embeddings (N up to 128, K up to 20, E up to 64)", (ctx) => ({
        calls: [[1, 8, 2, 4, 2, 8], [8, 32, 3, 10, 8, 32], [64, 128, 10, 20, 32, 64]].map(([n0, n1, k0, k1, e0, e1]) => {
          const [N, K, E] = [ctx.int(n0, n1), ctx.int(k0, k1), ctx.int(e0, e1)];
          const [prompts, images] = promptsAndImages(N, () => Array.from({ length: K }, () => unitVector(ctx, E)), () => unitVector(ctx, E));
          return classifyCall(ctx, images, prompts, `N = ${N}, K = ${K}, E = ${E}`);
        }),
      })),
      halfPoint("the dot product ⟨u, w⟩, not the Euclidean distance: prompts of different lengths", (ctx) => {
        const [N, K, E] = [ctx.int(12, 48), ctx.int(3, 8), ctx.int(2, 4)];
        const drawPrompts = () => Array.from({ length: K }, () => unitVector(ctx, E).map((x) => x * Math.exp(ctx.uniform(Math.log(0.3), Math.log(3)))));
        const [prompts, images] = promptsAndImages(N, drawPrompts, () => unitVector(ctx, E), euclidDiffers);
        return { calls: [classifyCall(ctx, images, prompts, `prompt lengths ${prompts.map((w) => Math.hypot(...w).toFixed(2)).join(", ")}`)] };
      }),
      halfPoint("ties go to the lowest label (as tf.argMax); a single label; int32 labels", (ctx) => {
        const [N, K, E] = [ctx.int(8, 32), ctx.int(2, 6), ctx.int(4, 16)];
        const [base, images] = promptsAndImages(N, () => Array.from({ length: K }, () => unitVector(ctx, E)), () => unitVector(ctx, E));
        const order = Array.from({ length: 2 * K }, (_, i) => i % K);
        for (let i = order.length - 1; i > 0; i--) {
          const j = ctx.int(0, i);
          [order[i], order[j]] = [order[j], order[i]];
        }
        const prompts = order.map((k) => base[k]); // every prompt twice: each image ties two labels
        const [, lone] = promptsAndImages(1, () => base, () => unitVector(ctx, E));
        return {
          calls: [
            classifyCall(ctx, images, prompts, "every prompt appears twice"),
            classifyCall(ctx, Array.from({ length: ctx.int(1, 5) }, () => unitVector(ctx, E)), [unitVector(ctx, E)], "a single label: all 0"),
            classifyCall(ctx, lone, base, "one image"),
          ],
        };
      }),
    ],
  },
};

export default suite;
