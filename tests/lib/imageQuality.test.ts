import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { psnr, psnrPerImage, sharpness, ssim } from "../../lib/src/metrics/imageQuality";
import { upsampleBicubic, downsample } from "../../lib/src/superres/resize";

beforeAll(async () => {
  await initBackend();
});

const rand = (shape: number[], seed: number) => tf.tidy(() => tf.clipByValue(new Rng(seed).randn(shape), -1, 1)) as tf.Tensor4D;

describe("PSNR", () => {
  test("identical images give +∞; a known MSE gives 10·log10(L²/MSE)", () => {
    const x = rand([3, 16, 16, 1], 1);
    expect(psnr(x, x)).toBe(Infinity);
    const y = tf.add(x, 0.1) as tf.Tensor4D; // MSE = 0.01 everywhere
    Array.from(psnrPerImage(x, y)).forEach((v) => expect(v).toBeCloseTo(10 * Math.log10(4 / 0.01), 3));
    expect(psnr(x, y, 1)).toBeCloseTo(10 * Math.log10(1 / 0.01), 3);
    expect(() => psnr(x, tf.zeros([3, 8, 8, 1]) as tf.Tensor4D)).toThrow(/one shape/);
    tf.dispose([x, y]);
  });
});

describe("SSIM", () => {
  test("identical images score 1; noise lowers it; it is symmetric; an unrelated image scores near 0", () => {
    const x = rand([4, 16, 16, 1], 2);
    expect(ssim(x, x)).toBeCloseTo(1, 5);
    const noise = tf.mul(new Rng(3).randn(x.shape), 0.3) as tf.Tensor4D;
    const noisy = tf.add(x, noise) as tf.Tensor4D;
    const s = ssim(x, noisy);
    expect(s).toBeLessThan(0.9);
    expect(s).toBeCloseTo(ssim(noisy, x), 5);
    const shifted = rand([4, 16, 16, 1], 9); // independent: σ_xy ≈ 0
    expect(Math.abs(ssim(x, shifted))).toBeLessThan(0.15);
    expect(() => ssim(tf.zeros([1, 4, 4, 1]) as tf.Tensor4D, tf.zeros([1, 4, 4, 1]) as tf.Tensor4D)).toThrow(/smaller than the 7×7 window/);
    tf.dispose([x, noise, noisy, shifted]);
  });
});

describe("sharpness", () => {
  test("a checkerboard's forward differences are known; blurring lowers sharpness; constants score 0", () => {
    const board = tf.tidy(() => {
      const v = Float32Array.from({ length: 64 }, (_, i) => ((Math.floor(i / 8) + (i % 8)) % 2 ? 1 : -1));
      return tf.tensor4d(v, [1, 8, 8, 1]);
    });
    expect(sharpness(board)).toBeCloseTo(Math.sqrt(8), 5); // |dx| = |dy| = 2 everywhere
    expect(sharpness(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D)).toBe(0);
    const x = rand([4, 16, 16, 1], 4);
    const blurred = tf.tidy(() => upsampleBicubic(downsample(x, 2), 2));
    expect(sharpness(blurred)).toBeLessThan(0.7 * sharpness(x));
    tf.dispose([board, x, blurred]);
  });

  test("no tensors leak", () => {
    const x = rand([2, 16, 16, 1], 5);
    const y = rand([2, 16, 16, 1], 6);
    const before = tf.memory().numTensors;
    psnr(x, y);
    ssim(x, y);
    sharpness(x);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
