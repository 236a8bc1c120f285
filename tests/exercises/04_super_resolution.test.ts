/**
 * Public checks for notebook 04's exercises (super-resolution: SR3, Saharia, Ho et al. 2021, and
 * the conditioning augmentation of Cascaded Diffusion Models, Ho et al. 2021). In the instructor
 * repository they run against the reference solutions; with EXERCISE_MODULE=path, against that
 * module (see harness.ts). In a student release, student mode (student-mode.ts) points them at the
 * functions extracted from the student's notebook and skips the checks of exercises that are still
 * stubs. Expected values come from plain-JavaScript arithmetic written independently here (block
 * means, Keys' cubic kernel evaluated pixel by pixel, float64 logs), never from the reference.
 *
 * Notation: y = a high-resolution image, x = D(y) its area downsampling by f, U(x) = its bicubic
 * upsampling (Keys a = −0.5, half-pixel centres, clamped borders), zt = z_t, a = the augmentation
 * level with γ(a) = cos²(π·a/2), eps = ε. Images are [B, H, W, C] in [−1, 1].
 *
 * @see notebooks/04_super_resolution.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, Rng, upsampleBicubic } from "@course/lib";
import { loadExercises } from "./harness";

interface Exercises04 {
  areaDownsample(y: tf.Tensor4D, factor: number): tf.Tensor4D;
  srInput(zt: tf.Tensor4D, low: tf.Tensor4D): tf.Tensor4D;
  augmentConditioning(low: tf.Tensor4D, level: number, eps: tf.Tensor4D): tf.Tensor4D;
  psnrDb(x: tf.Tensor4D, y: tf.Tensor4D): number;
}

const { impl, source } = loadExercises<Exercises04>("04_super_resolution");
const TOL = 1e-5;

type Shape4 = [number, number, number, number];

/** Images as a tensor and as their row-major float32 values. */
interface Images {
  t: tf.Tensor4D;
  a: number[];
  shape: Shape4;
}

/** Images from row-major values. */
function imagesOf(a: number[], shape: Shape4): Images {
  const v = a.map(Math.fround);
  return { t: tf.tensor4d(v, shape, "float32"), a: v, shape };
}

/** N(0, scale²) images. */
function randomImages(rng: Rng, shape: Shape4, scale = 1): Images {
  return imagesOf(Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => scale * rng.normal()), shape);
}

/** Row-major index of [b, h, w, c] in a [B, H, W, C] array. */
const idx = (s: Shape4, b: number, h: number, w: number, c: number) => ((b * s[1] + h) * s[2] + w) * s[3] + c;

/** Images of `shape` whose pixel [b, h, w, c] is f(b, h, w, c). */
function build(shape: Shape4, f: (b: number, h: number, w: number, c: number) => number): number[] {
  const out = new Array<number>(shape.reduce((p, d) => p * d, 1));
  for (let b = 0; b < shape[0]; b++) for (let h = 0; h < shape[1]; h++) for (let w = 0; w < shape[2]; w++) for (let c = 0; c < shape[3]; c++) out[idx(shape, b, h, w, c)] = f(b, h, w, c);
  return out;
}

/** The f×f block means of y, in float64. */
function blockMeans(y: Images, f: number): number[] {
  const [B, H, W, C] = y.shape;
  return build([B, H / f, W / f, C], (b, i, j, c) => {
    let s = 0;
    for (let di = 0; di < f; di++) for (let dj = 0; dj < f; dj++) s += y.a[idx(y.shape, b, i * f + di, j * f + dj, c)];
    return s / (f * f);
  });
}

/** Keys' cubic convolution kernel, a = −0.5. */
function keys(d: number): number {
  const x = Math.abs(d);
  if (x <= 1) return 1.5 * x ** 3 - 2.5 * x ** 2 + 1;
  if (x < 2) return -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2;
  return 0;
}

/** Source taps and weights of output index i of an f× upsampling of n samples (half-pixel, clamped). */
function taps(i: number, f: number, n: number): Array<[number, number]> {
  const u = (i + 0.5) / f - 0.5;
  const k0 = Math.floor(u);
  return [-1, 0, 1, 2].map((k): [number, number] => [Math.min(n - 1, Math.max(0, k0 + k)), keys(u - (k0 + k))]);
}

/** The bicubic upsampling U(x) by f, pixel by pixel, in float64. */
function bicubic(x: Images, f: number): number[] {
  const [B, h, w, C] = x.shape;
  return build([B, h * f, w * f, C], (b, i, j, c) => {
    let s = 0;
    for (const [r, wr] of taps(i, f, h)) for (const [q, wq] of taps(j, f, w)) s += wr * wq * x.a[idx(x.shape, b, r, q, c)];
    return s;
  });
}

/** Nearest-neighbour upsampling by f (each pixel an f×f block). */
function nearest(x: Images, f: number): number[] {
  const [B, h, w, C] = x.shape;
  return build([B, h * f, w * f, C], (b, i, j, c) => x.a[idx(x.shape, b, Math.floor(i / f), Math.floor(j / f), c)]);
}

/** Assert elementwise closeness of plain values, with a message on the first mismatch. */
function expectClose(got: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  if (got.length !== expected.length) throw new Error(`${what}: expected ${expected.length} values, got ${got.length}`);
  for (let i = 0; i < got.length; i++) {
    const e = expected[i];
    if (!Number.isFinite(got[i]) || Math.abs(got[i] - e) > tol * (1 + Math.abs(e))) {
      throw new Error(`${what}: entry ${i} is ${got[i]}, expected ${e.toFixed(6)} (tolerance ${tol})`);
    }
  }
}

/** Assert shape and elementwise closeness of a tensor, and dispose it. */
function expectImagesClose(actual: tf.Tensor, shape: number[], expected: ArrayLike<number>, tol: number, what: string): void {
  const got = Array.from(actual.dataSync());
  const gotShape = actual.shape.slice();
  actual.dispose();
  if (gotShape.join() !== shape.join()) throw new Error(`${what}: expected shape [${shape.join(", ")}], got [${gotShape.join(", ")}]`);
  expectClose(got, expected, tol, what);
}

/** Channels [c0, c1) of row-major [B, H, W, C] values. */
function channels(a: ArrayLike<number>, C: number, c0: number, c1: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < a.length; p += C) for (let c = c0; c < c1; c++) out.push(a[p + c]);
  return out;
}

/** PSNR in dB of one image pair for images in [−1, 1] (L = 2), float64. */
const psnr = (mse: number) => 10 * Math.log10(4 / mse);

beforeAll(async () => {
  await initBackend();
});

describe(`04_super_resolution exercises (${source})`, () => {
  describe("areaDownsample", () => {
    test("averages each f×f block: a hand-computed 4×4 → 2×2, and 4×4 → 1×1 at f = 4", () => {
      const y = imagesOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
      // blocks {1,2,5,6}, {3,4,7,8}, {9,10,13,14}, {11,12,15,16}: means, not maxima or corners
      expectImagesClose(impl.areaDownsample(y.t, 2), [1, 2, 2, 1], [3.5, 5.5, 11.5, 13.5], TOL, "areaDownsample(4×4, f=2)");
      expectImagesClose(impl.areaDownsample(y.t, 4), [1, 1, 1, 1], [8.5], TOL, "areaDownsample(4×4, f=4)");
      y.t.dispose();
    });

    test("equals the block means on random batches with several channels (f = 2, 3, 4; non-square)", () => {
      const rng = new Rng(401);
      for (const [shape, f] of [[[3, 8, 8, 2], 2], [[2, 12, 6, 3], 3], [[2, 8, 16, 1], 4]] as Array<[Shape4, number]>) {
        const y = randomImages(rng, shape);
        expectImagesClose(impl.areaDownsample(y.t, f), [shape[0], shape[1] / f, shape[2] / f, shape[3]], blockMeans(y, f), TOL, `areaDownsample([${shape}], f=${f})`);
        y.t.dispose();
      }
    });

    test("factor 1 is the identity, and undoes nearest-neighbour upsampling: D(nearest(x)) = x", () => {
      const rng = new Rng(402);
      const y = randomImages(rng, [2, 6, 4, 3]);
      expectImagesClose(impl.areaDownsample(y.t, 1), y.shape, y.a, TOL, "areaDownsample(f=1)");
      const x = randomImages(rng, [3, 4, 5, 2]);
      for (const f of [2, 3]) {
        const up = imagesOf(nearest(x, f), [3, 4 * f, 5 * f, 2]);
        expectImagesClose(impl.areaDownsample(up.t, f), x.shape, x.a, TOL, `areaDownsample(nearest(x, ${f}), ${f})`);
        up.t.dispose();
      }
      tf.dispose([y.t, x.t]);
    });

    test("leaks no tensors", () => {
      const y = randomImages(new Rng(403), [2, 4, 4, 1]);
      const before = tf.memory().numTensors;
      impl.areaDownsample(y.t, 2).dispose();
      expect(tf.memory().numTensors).toBe(before);
      y.t.dispose();
    });
  });

  describe("srInput", () => {
    test("has shape [B, S, S, 2C]: z_t unchanged in the first C channels, U(x) in the last C", () => {
      const rng = new Rng(411);
      const zt = randomImages(rng, [2, 8, 8, 3]);
      const low = randomImages(rng, [2, 4, 4, 3], 0.5);
      const out = impl.srInput(zt.t, low.t);
      expect(out.shape).toEqual([2, 8, 8, 6]);
      const v = Array.from(out.dataSync());
      out.dispose();
      expectClose(channels(v, 6, 0, 3), zt.a, TOL, "srInput channels 0–2 (must be z_t)");
      expectClose(channels(v, 6, 3, 6), bicubic(low, 2), 1e-4, "srInput channels 3–5 (must be U(x))");
      tf.dispose([zt.t, low.t]);
    });

    test("U(x) is Keys' bicubic (a = −0.5, half-pixel centres, clamped borders), for f = 2 and 4", () => {
      const rng = new Rng(412);
      for (const [B, s, C, f] of [[1, 4, 1, 2], [3, 8, 2, 2], [2, 16, 1, 4]]) {
        const zt = randomImages(rng, [B, s * f, s * f, C]);
        const low = randomImages(rng, [B, s, s, C], 0.6);
        const want = build([B, s * f, s * f, 2 * C], () => 0);
        const up = bicubic(low, f);
        for (let p = 0; p < B * s * f * s * f; p++) {
          for (let c = 0; c < C; c++) {
            want[p * 2 * C + c] = zt.a[p * C + c];
            want[p * 2 * C + C + c] = up[p * C + c];
          }
        }
        expectImagesClose(impl.srInput(zt.t, low.t), [B, s * f, s * f, 2 * C], want, 1e-4, `srInput(f=${f}, C=${C})`);
        tf.dispose([zt.t, low.t]);
      }
    });

    test("its conditioning channels agree with the library's upsampleBicubic, and differ from nearest upsampling", () => {
      const rng = new Rng(413);
      const zt = randomImages(rng, [2, 8, 8, 1]);
      const low = randomImages(rng, [2, 4, 4, 1]);
      const out = impl.srInput(zt.t, low.t);
      const v = Array.from(out.dataSync());
      out.dispose();
      const lib = upsampleBicubic(low.t, 2);
      const libValues = Array.from(lib.dataSync());
      lib.dispose();
      const cond = channels(v, 2, 1, 2);
      expectClose(cond, libValues, 1e-4, "srInput channel 1 vs upsampleBicubic(x, 2)");
      const near = nearest(low, 2);
      expect(Math.max(...cond.map((g, i) => Math.abs(g - near[i])))).toBeGreaterThan(0.05);
      tf.dispose([zt.t, low.t]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(414);
      const zt = randomImages(rng, [1, 4, 4, 2]);
      const low = randomImages(rng, [1, 2, 2, 2]);
      const before = tf.memory().numTensors;
      impl.srInput(zt.t, low.t).dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([zt.t, low.t]);
    });
  });

  describe("augmentConditioning", () => {
    test("a = 0 keeps x, a = 1 is pure noise ε", () => {
      const rng = new Rng(421);
      const x = randomImages(rng, [2, 4, 4, 3], 0.7);
      const eps = randomImages(rng, [2, 4, 4, 3]);
      expectImagesClose(impl.augmentConditioning(x.t, 0, eps.t), x.shape, x.a, TOL, "augmentConditioning(a=0)");
      expectImagesClose(impl.augmentConditioning(x.t, 1, eps.t), x.shape, eps.a, TOL, "augmentConditioning(a=1)");
      tf.dispose([x.t, eps.t]);
    });

    test("a = 0.5 gives (x + ε)/√2 (γ = ½)", () => {
      const rng = new Rng(422);
      const x = randomImages(rng, [3, 4, 4, 1], 0.7);
      const eps = randomImages(rng, [3, 4, 4, 1]);
      expectImagesClose(impl.augmentConditioning(x.t, 0.5, eps.t), x.shape, x.a.map((v, i) => (v + eps.a[i]) / Math.SQRT2), TOL, "augmentConditioning(a=0.5)");
      tf.dispose([x.t, eps.t]);
    });

    test("equals cos(πa/2)·x + sin(πa/2)·ε for any level a in [0, 1]", () => {
      const rng = new Rng(423);
      for (const a of [0.05, 0.2, 0.37, 0.8, 0.95]) {
        const x = randomImages(rng, [2, 8, 8, 2], 0.7);
        const eps = randomImages(rng, [2, 8, 8, 2]);
        const want = x.a.map((v, i) => Math.cos((Math.PI * a) / 2) * v + Math.sin((Math.PI * a) / 2) * eps.a[i]);
        expectImagesClose(impl.augmentConditioning(x.t, a, eps.t), x.shape, want, TOL, `augmentConditioning(a=${a})`);
        tf.dispose([x.t, eps.t]);
      }
    });

    test("leaks no tensors", () => {
      const rng = new Rng(424);
      const x = randomImages(rng, [1, 4, 4, 1]);
      const eps = randomImages(rng, [1, 4, 4, 1]);
      const before = tf.memory().numTensors;
      impl.augmentConditioning(x.t, 0.3, eps.t).dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x.t, eps.t]);
    });
  });

  describe("psnrDb", () => {
    test("is 10·log10(4/MSE) for a known MSE (range L = 2), as a JS number", () => {
      const y = imagesOf(build([1, 4, 4, 1], (b, h, w) => (h - w) / 4), [1, 4, 4, 1]);
      for (const d of [0.1, 0.5, 2]) {
        const x = imagesOf(y.a.map((v) => v + d), y.shape);
        const got = impl.psnrDb(x.t, y.t);
        expect(typeof got).toBe("number");
        expect(got).toBeCloseTo(psnr(d * d), 3); // 26.02 dB, 12.04 dB, 0 dB
        x.t.dispose();
      }
      y.t.dispose();
    });

    test("averages the per-image PSNRs over the batch (not the PSNR of the mean MSE)", () => {
      const y = imagesOf(build([2, 4, 4, 1], (b, h, w) => (b - h + w) / 8), [2, 4, 4, 1]);
      const x = imagesOf(y.a.map((v, i) => v + (i < 16 ? 0.1 : 0.4)), y.shape);
      const got = impl.psnrDb(x.t, y.t);
      expect(got).toBeCloseTo((psnr(0.01) + psnr(0.16)) / 2, 3); // 20.00 dB; the mean MSE would give 16.72 dB
      tf.dispose([x.t, y.t]);
    });

    test("matches float64 arithmetic on random batches of images in [−1, 1]", () => {
      const rng = new Rng(431);
      for (const [B, S, C] of [[1, 8, 1], [4, 8, 3], [6, 4, 2]]) {
        const shape: Shape4 = [B, S, S, C];
        const y = imagesOf(build(shape, () => 2 * rng.uniform() - 1), shape);
        const noise = Array.from({ length: B }, () => 0.02 + 0.3 * rng.uniform());
        const n = S * S * C;
        const x = imagesOf(y.a.map((v, i) => Math.max(-1, Math.min(1, v + noise[Math.floor(i / n)] * rng.normal()))), shape);
        let total = 0;
        for (let b = 0; b < B; b++) {
          let se = 0;
          for (let i = b * n; i < (b + 1) * n; i++) se += (x.a[i] - y.a[i]) ** 2;
          total += psnr(se / n);
        }
        expect(impl.psnrDb(x.t, y.t)).toBeCloseTo(total / B, 3);
        tf.dispose([x.t, y.t]);
      }
    });

    test("is +Infinity for identical images, and for a batch where one image matches exactly", () => {
      const rng = new Rng(432);
      const y = randomImages(rng, [3, 4, 4, 1], 0.5);
      expect(impl.psnrDb(y.t, y.t)).toBe(Infinity);
      const x = imagesOf(y.a.map((v, i) => (i < 16 ? v : v + 0.1)), y.shape);
      expect(impl.psnrDb(x.t, y.t)).toBe(Infinity);
      tf.dispose([x.t, y.t]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(433);
      const x = randomImages(rng, [2, 4, 4, 1]);
      const y = randomImages(rng, [2, 4, 4, 1]);
      const before = tf.memory().numTensors;
      impl.psnrDb(x.t, y.t);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x.t, y.t]);
    });
  });
});
