/**
 * HIDDEN grading suite for notebooks/04_super_resolution.ipynb. NEVER SHIPPED TO STUDENTS.
 *
 * Loaded only by the trusted grader process (tools/grade/score.ts); not a jest test file. Each test
 * draws fresh inputs from `ctx.rng` (seeded per grading run, recorded in results.json), computes the
 * expected results with the reference in solutions/ (or closed forms), and sends only the inputs to
 * the sandboxed student code. Four half-point tests per exercise: 2 points each, as in the notebook.
 *
 * Each test checks the reference values in its own regime (small case, random batches, identities,
 * limits), so a typical mistake loses all of an exercise's points: max-pooling, stride sampling or a
 * block sum instead of the mean; [U(x), z_t] instead of [z_t, U(x)], or nearest/bilinear instead of
 * bicubic; γ instead of sqrt(γ), or the weights swapped; range 1 instead of 2, or the PSNR of the
 * mean MSE instead of the mean PSNR. Property checks name the mistake when the values match it.
 * psnrDb returns a JS number (+Infinity for an exact match): see {@link expectNumber}.
 *
 * Notation: y = high-resolution images, x = D(y) (area downsampling by f), U(x) = its bicubic
 * upsampling, zt = z_t, a = the augmentation level, γ(a) = cos²(π·a/2), eps = ε; images are
 * [B, H, W, C] in [−1, 1].
 *
 * @see notebooks/04_super_resolution.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { Expectation, HiddenSuite, HiddenTest, PlannedCall, SuiteContext } from "../../../tools/grade/suite";
import * as ref from "../../../solutions/04_super_resolution";

type Shape4 = [number, number, number, number];
type Tensor4D = tfTypes.Tensor4D;

/** A value rounded to `d` decimals, so that small cases read well in feedback. */
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const sizeOf = (s: number[]) => s.reduce((p, d) => p * d, 1);
/** Row-major values of a tensor (read in the trusted process). */
const valuesOf = (t: tfTypes.Tensor): Float32Array => t.dataSync() as Float32Array;
const close = (x: number, want: number, tol = 1e-4) => Math.abs(x - want) <= tol * (1 + Math.abs(want));
const allClose = (v: ArrayLike<number>, w: ArrayLike<number>, tol = 1e-4) => v.length === w.length && Array.from(v).every((x, i) => close(x, w[i], tol));

/** Images of `shape` from a draw per pixel. */
function images(ctx: SuiteContext, shape: Shape4, draw: () => number): Tensor4D {
  return ctx.tf.tensor4d(Float32Array.from({ length: sizeOf(shape) }, draw), shape, "float32");
}
const normalImages = (ctx: SuiteContext, shape: Shape4, scale = 1) => images(ctx, shape, () => scale * ctx.rng.normal());
const smallImages = (ctx: SuiteContext, shape: Shape4) => images(ctx, shape, () => round(Math.tanh(ctx.rng.normal()), 1));

/** Expect exactly `values` (computed here) for a tensor of `shape`. */
function expectValues(shape: number[], values: ArrayLike<number>): Expectation {
  return { kind: "tensor", shape, values };
}

/**
 * What a number-returning call (psnrDb) must return: a JS number, `value` (±Infinity exactly, else
 * within atol + rtol·|value|), via the grader's number expectations (Expectation kind "number").
 */
function expectNumber(value: number, diagnose?: (x: number) => string | null): Expectation {
  return { kind: "number", shape: [], values: [value], atol: 1e-3, rtol: 1e-4, property: diagnose && ((v: Float64Array) => diagnose(v[0])) };
}

/** A property naming the mistake whose values the output matches (unless they match `want` too). */
function diagnose(want: ArrayLike<number>, mistakes: Array<[ArrayLike<number>, string]>) {
  return (v: Float64Array): string | null => mistakes.find(([m]) => allClose(v, m) && !allClose(m, want))?.[1] ?? null;
}

/** Row-major values of a [B, H, W, C] array whose pixel [n, r, q, k] is at(n, r, q, k). */
function grid(dims: number[], at: (n: number, r: number, q: number, k: number) => number): number[] {
  const out: number[] = [];
  for (let n = 0; n < dims[0]; n++) for (let r = 0; r < dims[1]; r++) for (let q = 0; q < dims[2]; q++) for (let k = 0; k < dims[3]; k++) out.push(at(n, r, q, k));
  return out;
}

/** A statistic of each fh×fw block of the [B, H, W, C] values v (per image and channel), float64. */
function blocks(v: ArrayLike<number>, s: number[], fh: number, fw: number, stat: (px: number[]) => number): number[] {
  return grid([s[0], s[1] / fh, s[2] / fw, s[3]], (b, i, j, c) => {
    const px: number[] = [];
    for (let di = 0; di < fh; di++) for (let dj = 0; dj < fw; dj++) px.push(v[((b * s[1] + i * fh + di) * s[2] + j * fw + dj) * s[3] + c]);
    return stat(px);
  });
}
const mean = (px: number[]) => px.reduce((t, x) => t + x, 0) / px.length;

/** An areaDownsample call against the reference, naming max-pooling, stride sampling or a sum. */
function downCall(ctx: SuiteContext, y: Tensor4D, f: number, note?: string): PlannedCall {
  const want = ctx.expectRef(ref.areaDownsample(y, f));
  const property = diagnose(want.values as ArrayLike<number>, [
    [blocks(valuesOf(y), y.shape, f, f, (p) => Math.max(...p)), "each output pixel is the maximum of its f×f block (max-pooling): D takes the block's mean"],
    [blocks(valuesOf(y), y.shape, f, f, (p) => p[0]), "each output pixel is one pixel of its f×f block (sampling every f-th pixel): D takes the block's mean"],
    [blocks(valuesOf(y), y.shape, f, f, (p) => f * f * mean(p)), "each output pixel is the sum of its f×f block: divide by f² for the mean"],
  ]);
  return { args: [y, f], expect: { ...want, property }, note };
}

/** Nearest-neighbour upsampling of x by f, row-major values. */
function nearestValues(x: Tensor4D, f: number): number[] {
  const [n0, r0, q0, k0] = x.shape;
  const v = valuesOf(x);
  return grid([n0, f * r0, f * q0, k0], (n, r, q, k) => v[((n * r0 + Math.floor(r / f)) * q0 + Math.floor(q / f)) * k0 + k]);
}

/** Channels [c0, c1) of row-major [..., C] values. */
const channels = (v: ArrayLike<number>, C: number, c0: number, c1: number) => Array.from(v).filter((_, k) => k % C >= c0 && k % C < c1);

/** An srInput call against the reference, checking the channel order and naming nearest upsampling. */
function srCall(ctx: SuiteContext, zt: Tensor4D, low: Tensor4D, extra?: (cond: number[]) => string | null): PlannedCall {
  const C = zt.shape[3];
  const z = valuesOf(zt);
  const near = nearestValues(low, zt.shape[1] / low.shape[1]);
  const want = ctx.expectRef(ref.srInput(zt, low));
  const up = channels(want.values as ArrayLike<number>, 2 * C, C, 2 * C);
  const property = (v: Float64Array): string | null => {
    const first = channels(v, 2 * C, 0, C);
    const last = channels(v, 2 * C, C, 2 * C);
    if (!allClose(first, z)) {
      return allClose(last, z) ? "z_t is in the last C channels: the input is [z_t, U(x)], z_t first" : "the first C channels must be z_t, unchanged";
    }
    if (allClose(last, near) && !allClose(up, near)) return "the last C channels are the nearest-neighbour upsampling of x: U(x) is the bicubic upsampling (upsampleBicubic)";
    return extra ? extra(last) : null;
  };
  return { args: [zt, low], expect: { ...want, property } };
}

/** An augmentConditioning call against the reference, naming γ-for-sqrt(γ) and swapped weights. */
function augCall(ctx: SuiteContext, low: Tensor4D, level: number, eps: Tensor4D, note?: string): PlannedCall {
  const x = valuesOf(low);
  const e = valuesOf(eps);
  const g = Math.cos((Math.PI * level) / 2) ** 2;
  const want = ctx.expectRef(ref.augmentConditioning(low, level, eps));
  const property = diagnose(want.values as ArrayLike<number>, [
    [x.map((v, i) => g * v + (1 - g) * e[i]), "x_a = γ·x + (1 − γ)·ε: the weights are sqrt(γ(a)) and sqrt(1 − γ(a))"],
    [x.map((v, i) => Math.sqrt(1 - g) * v + Math.sqrt(g) * e[i]), "the weights of x and ε are swapped: a = 0 must keep x (weight sqrt(γ(a)) = cos(π·a/2))"],
  ]);
  return { args: [low, level, eps], expect: { ...want, property }, note };
}

/** Per-image mean squared errors of x vs y, float64. */
function perImageMse(x: Tensor4D, y: Tensor4D): number[] {
  const b = valuesOf(y);
  const n = sizeOf(x.shape.slice(1));
  return blocks(Array.from(valuesOf(x), (a, k) => (a - b[k]) ** 2), [x.shape[0], n, 1, 1], n, 1, mean);
}

/** A psnrDb call against the reference, naming range 1 and the PSNR of the mean MSE. */
function psnrCall(x: Tensor4D, y: Tensor4D, note?: string): PlannedCall {
  const want = ref.psnrDb(x, y);
  const mse = perImageMse(x, y);
  const mistakes: Array<[number, string]> = [
    [want - 10 * Math.log10(4), "this is 10·log10(1/MSE): images in [−1, 1] have peak-to-peak range L = 2, so PSNR = 10·log10(4/MSE)"],
    [10 * Math.log10(4 / mean(mse)), "this is the PSNR of the batch's mean MSE: average the per-image PSNRs 10·log10(4/MSE_i) instead"],
    [want * mse.length, "this is the sum of the per-image PSNRs: take their mean"],
  ];
  const why = (v: number) => mistakes.find(([m]) => close(v, m, 1e-4) && !close(m, want, 1e-3))?.[1] ?? null;
  return { args: [x, y], expect: expectNumber(want, why), note };
}

/** Images in [−1, 1] and a noisy copy, each image with its own noise level. */
function psnrPair(ctx: SuiteContext, shape: Shape4): [Tensor4D, Tensor4D] {
  const y = images(ctx, shape, () => ctx.uniform(-1, 1));
  const n = sizeOf(shape.slice(1));
  const sigma = Array.from({ length: shape[0] }, () => Math.exp(ctx.uniform(Math.log(0.01), Math.log(0.5))));
  const v = valuesOf(y);
  const x = ctx.tf.tensor4d(v.map((t, k) => Math.max(-1, Math.min(1, t + sigma[Math.floor(k / n)] * ctx.rng.normal()))), shape, "float32");
  return [x, y];
}

/** A random batch shape [B, S, S, C] with S divisible by f. */
const batchShape = (ctx: SuiteContext, f: number, maxB = 4): Shape4 => {
  const s = f * ctx.int(2, 5);
  return [ctx.int(1, maxB), s, s, [1, 3][ctx.int(0, 1)]];
};

/** Every test is worth half a point (four per exercise); small cases show their inputs in feedback. */
const halfPoint = (name: string, build: HiddenTest["build"]): HiddenTest => ({ name, points: 0.5, build });
const smallCase = (name: string, build: HiddenTest["build"]): HiddenTest => ({ ...halfPoint(name, build), small: true });

const suite: HiddenSuite = {
  notebook: "04_super_resolution",
  exercises: {
    areaDownsample: [
      smallCase("small case (4×4 → 2×2)", (ctx) => ({ calls: [downCall(ctx, smallImages(ctx, [1, 4, 4, 1]), 2)] })),
      halfPoint("random batches, channels, non-square sizes and factors 2, 3, 4", (ctx) => ({
        calls: [2, 3, 4].map((f) => downCall(ctx, normalImages(ctx, [ctx.int(1, 4), f * ctx.int(2, 5), f * ctx.int(2, 5), ctx.int(1, 3)]), f, `f = ${f}`)),
      })),
      halfPoint("identities: factor 1 keeps y, and D undoes nearest-neighbour upsampling", (ctx) => {
        const y = normalImages(ctx, batchShape(ctx, 1));
        const f = ctx.int(2, 4);
        const x = normalImages(ctx, [ctx.int(1, 4), ctx.int(2, 5), ctx.int(2, 5), ctx.int(1, 3)]);
        const up = ctx.tf.tensor4d(nearestValues(x, f), [x.shape[0], x.shape[1] * f, x.shape[2] * f, x.shape[3]], "float32");
        return {
          calls: [
            { args: [y, 1], expect: expectValues(y.shape, valuesOf(y)), note: "f = 1" },
            { args: [up, f], expect: expectValues(x.shape, valuesOf(x)), note: `nearest-upsampled by ${f}` },
            downCall(ctx, normalImages(ctx, batchShape(ctx, 2)), 2, "a typical case"),
          ],
        };
      }),
      halfPoint("keeps each image's mean brightness (the mean of the block means)", (ctx) => {
        const f = ctx.int(2, 4);
        const shape = batchShape(ctx, f);
        const y = images(ctx, shape, () => Math.tanh(0.4 + ctx.rng.normal()));
        const means = (v: ArrayLike<number>, sh: number[]) => blocks(v, sh, sh[1], sh[2], mean); // per image and channel
        const target = means(valuesOf(y), shape);
        const call = downCall(ctx, y, f);
        const inner = call.expect.property;
        const kept = (v: Float64Array, s: number[]) => (allClose(means(v, s), target) ? (inner ? inner(v, s) : null) : "the mean of each image and channel must not change: D averages, so mean(D(y)) = mean(y)");
        return { calls: [{ ...call, expect: { ...call.expect, property: kept } }] };
      }),
    ],

    srInput: [
      smallCase("small case (z_t 4×4, x 2×2, one channel)", (ctx) => ({ calls: [srCall(ctx, smallImages(ctx, [1, 4, 4, 1]), smallImages(ctx, [1, 2, 2, 1]))] })),
      halfPoint("random batches, channels, sizes and factors 2 and 4", (ctx) => ({
        calls: [2, 4, 2].map((f) => {
          const [B, S, , C] = batchShape(ctx, 2 * f);
          return srCall(ctx, normalImages(ctx, [B, S, S, C]), normalImages(ctx, [B, S / f, S / f, C], 0.5));
        }),
      })),
      halfPoint("z_t first and unchanged, then U(x): the channel order is [z_t, U(x)]", (ctx) => {
        const [B, S, , C] = batchShape(ctx, 4);
        return { calls: [srCall(ctx, normalImages(ctx, [B, S, S, C], 2), images(ctx, [B, S / 2, S / 2, C], () => ctx.uniform(-1, 1)))] };
      }),
      halfPoint("U(x) is bicubic: it overshoots at a sharp edge, unlike nearest or bilinear upsampling", (ctx) => {
        const f = [2, 4][ctx.int(0, 1)];
        const s = ctx.int(4, 6);
        const B = ctx.int(1, 3);
        // a bright 2×2 square in a dark 4×4 frame, at a random place inside each image
        const v = new Float32Array(B * s * s).fill(-0.8);
        for (let b = 0; b < B; b++) {
          const [r, c] = [ctx.int(0, s - 4), ctx.int(0, s - 4)];
          for (const [i, j] of [[1, 1], [1, 2], [2, 1], [2, 2]]) v[(b * s + r + i) * s + c + j] = 0.8;
        }
        const low = ctx.tf.tensor4d(v, [B, s, s, 1]);
        const overshoot = (cond: number[]) => (Math.max(...cond) > 0.85 ? null
          : `U(x) stays within x's range [−0.8, 0.8] at a sharp edge (max ${Math.max(...cond).toFixed(3)}): bicubic interpolation (Keys, a = −0.5) overshoots there, as nearest or bilinear would not`);
        return { calls: [srCall(ctx, normalImages(ctx, [B, s * f, s * f, 1]), low, overshoot)] };
      }),
    ],

    augmentConditioning: [
      smallCase("small case (2×2)", (ctx) => ({ calls: [augCall(ctx, smallImages(ctx, [1, 2, 2, 1]), round(ctx.uniform(0.2, 0.8)), smallImages(ctx, [1, 2, 2, 1]))] })),
      halfPoint("random batches and levels across [0, 1]", (ctx) => ({
        calls: [[0.05, 0.3], [0.3, 0.7], [0.7, 0.95]].map(([lo, hi]) => {
          const shape = batchShape(ctx, 1, 8);
          return augCall(ctx, images(ctx, shape, () => ctx.uniform(-1, 1)), ctx.uniform(lo, hi), normalImages(ctx, shape));
        }),
      })),
      halfPoint("limits: a = 0 keeps x, a = 1 is pure noise ε", (ctx) => {
        const shape = batchShape(ctx, 1, 8);
        const x = images(ctx, shape, () => ctx.uniform(-1, 1));
        const eps = normalImages(ctx, shape);
        const shape2 = batchShape(ctx, 1, 8);
        return {
          calls: [
            { args: [x, 0, eps], expect: expectValues(shape, valuesOf(x)), note: "a = 0" },
            { args: [x, 1, eps], expect: expectValues(shape, valuesOf(eps)), note: "a = 1" },
            augCall(ctx, images(ctx, shape2, () => ctx.uniform(-1, 1)), ctx.uniform(0.2, 0.8), normalImages(ctx, shape2), "a typical level"),
          ],
        };
      }),
      halfPoint("weights sqrt(γ(a)) and sqrt(1 − γ(a)): variance preserving, (x + ε)/√2 at a = ½", (ctx) => {
        const shape = batchShape(ctx, 1);
        const level = ctx.uniform(0.15, 0.85);
        const ones = ctx.tf.ones(shape) as Tensor4D;
        const zeros = ctx.tf.zeros(shape) as Tensor4D;
        const x = images(ctx, shape, () => ctx.uniform(-1, 1));
        const eps = normalImages(ctx, shape);
        const e = valuesOf(eps);
        const constant = (v: Float64Array) => (v.every((t) => close(t, v[0])) ? null : "the same weight must apply to every pixel");
        return {
          calls: [
            { args: [ones, level, zeros], expect: ctx.expectShape(shape, constant), note: "x = 1, ε = 0: the weight of x" },
            { args: [zeros, level, ones], expect: ctx.expectShape(shape, constant), note: "x = 0, ε = 1: the weight of ε" },
            { args: [x, 0.5, eps], expect: expectValues(shape, valuesOf(x).map((t, i) => (t + e[i]) / Math.SQRT2)), note: "a = 0.5" },
          ],
          check: ([wx, we]) => {
            const [a, b] = [wx.values[0], we.values[0]];
            const [c, s] = [Math.cos((Math.PI * level) / 2), Math.sin((Math.PI * level) / 2)];
            if (!close(a * a + b * b, 1)) return `at a = ${level.toFixed(3)} the weights of x and ε are ${a.toFixed(4)} and ${b.toFixed(4)}, whose squares sum to ${(a * a + b * b).toFixed(4)}, not 1: use sqrt(γ(a)) and sqrt(1 − γ(a))`;
            if (!close(a, c) || !close(b, s)) return `at a = ${level.toFixed(3)} the weight of x must be sqrt(γ(a)) = cos(π·a/2) = ${c.toFixed(4)} and that of ε sqrt(1 − γ(a)) = ${s.toFixed(4)}; got ${a.toFixed(4)} and ${b.toFixed(4)}`;
            return null;
          },
        };
      }),
    ],

    psnrDb: [
      smallCase("small case (two 2×2 images)", (ctx) => {
        const x = smallImages(ctx, [2, 2, 2, 1]);
        // each pixel moved 0.05 … 0.6 towards 0 (so y stays in [−1, 1]), image 1 further than image 0
        const y = ctx.tf.tensor4d(valuesOf(x).map((v, k) => round(v - Math.sign(v || 1) * ctx.uniform(0.05, 0.3) * (k < 4 ? 1 : 2))), [2, 2, 2, 1]);
        return { calls: [psnrCall(x, y)] };
      }),
      halfPoint("random batches: the mean over images of the per-image PSNR", (ctx) => ({ calls: [0, 1, 2].map(() => psnrCall(...psnrPair(ctx, [ctx.int(2, 8), 8, 8, [1, 3][ctx.int(0, 1)]]))) })),
      halfPoint("a known error: 10·log10(4/δ²) for images off by a constant δ", (ctx) => {
        const shape: Shape4 = [ctx.int(2, 6), 8, 8, ctx.int(1, 3)];
        const n = sizeOf(shape.slice(1));
        const delta = Array.from({ length: shape[0] }, () => 2 ** -ctx.int(1, 6)); // 0.5 … 1/64
        const y = images(ctx, shape, () => Math.round(ctx.uniform(-32, 32)) / 64); // multiples of 1/64: y + δ is exact
        const x = ctx.tf.tensor4d(valuesOf(y).map((v, k) => v + delta[Math.floor(k / n)]), shape, "float32");
        const want = delta.reduce((s, d) => s + 10 * Math.log10(4 / (d * d)), 0) / shape[0];
        const call = psnrCall(x, y, `δ per image: ${delta.join(", ")}`);
        return { calls: [{ ...call, expect: { ...call.expect, values: [want] } }] };
      }),
      halfPoint("identical images give +Infinity, as does a batch with one exact match", (ctx) => {
        const shape: Shape4 = [ctx.int(2, 5), 8, 8, 1];
        const y = images(ctx, shape, () => ctx.uniform(-1, 1));
        const [x2, y2] = psnrPair(ctx, shape);
        const exact = valuesOf(y2);
        const one = ctx.tf.tensor4d(valuesOf(x2).map((v, k) => (k < sizeOf(shape.slice(1)) ? exact[k] : v)), shape, "float32");
        return {
          calls: [
            { args: [y, y.clone()], expect: expectNumber(Infinity), note: "x = y" },
            { args: [one, y2], expect: expectNumber(Infinity), note: "image 0 matches exactly" },
            psnrCall(...psnrPair(ctx, shape), "a typical batch"),
          ],
        };
      }),
    ],
  },
};

export default suite;
