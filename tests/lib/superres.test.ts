import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { bicubicMatrix, downsample, upsampleBicubic, upsampleNearest } from "../../lib/src/superres/resize";
import { augGamma, augmentLowRes } from "../../lib/src/superres/augment";
import { SrRecipe, regressionPredict } from "../../lib/src/superres/train";
import { regressionUpsample, superResolve } from "../../lib/src/superres/sample";
import { UNet, UNetConfig } from "../../lib/src/nets/unet";
import { trainImageRecipe, saveImageModel, loadSrModel } from "../../lib/src/imageRecipes";
import { fashionMnistBatch } from "../../lib/src/data/fashionMnist";
import { randomizeZeroInit, readAndDispose, tinyImageDataset } from "./imageFixtures";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

beforeAll(async () => {
  await initBackend();
});

const rand = (shape: number[], seed = 1) => new Rng(seed).randn(shape) as tf.Tensor4D;

describe("resize operators", () => {
  test("downsample is the f×f block mean; downsample ∘ upsampleNearest is the identity", () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    expect(readAndDispose(downsample(x, 2))).toEqual([3.5, 5.5, 11.5, 13.5]);
    expect(readAndDispose(downsample(x, 4))).toEqual([8.5]);
    const low = rand([3, 8, 8, 2]);
    const up = upsampleNearest(low, 2);
    expect(up.shape).toEqual([3, 16, 16, 2]);
    const back = downsample(up, 2);
    expect(tf.max(tf.abs(tf.sub(back, low))).dataSync()[0]).toBeLessThan(1e-6);
    // each pixel became a 2×2 block
    const u = up.arraySync();
    expect(u[1][5][7][1]).toBeCloseTo(low.arraySync()[1][2][3][1], 6);
    tf.dispose([x, low, up, back]);
    expect(() => downsample(tf.zeros([1, 5, 5, 1]) as tf.Tensor4D, 2)).toThrow(/divisible by 2/);
  });

  test("bicubic matrix: rows sum to 1, Keys weights at the half-pixel offsets", () => {
    const m = bicubicMatrix(8, 2);
    for (let i = 0; i < 16; i++) {
      let s = 0;
      for (let j = 0; j < 8; j++) s += m[i * 8 + j];
      expect(s).toBeCloseTo(1, 6);
    }
    // row 5 reads u = 5.5/2 − 0.5 = 2.25: taps 1…4 at distances 1.25, 0.25, 0.75, 1.75 (a = −0.5)
    const keys = (d: number) => (d <= 1 ? 1.5 * d ** 3 - 2.5 * d ** 2 + 1 : -0.5 * d ** 3 + 2.5 * d ** 2 - 4 * d + 2);
    expect(Array.from(m.subarray(5 * 8, 6 * 8))).toEqual([0, keys(1.25), keys(0.25), keys(0.75), keys(1.75), 0, 0, 0].map((v) => expect.closeTo(v, 6)));
    expect(() => bicubicMatrix(0, 2)).toThrow(/positive integers/);
  });

  test("bicubic upsampling keeps constants, reproduces a linear ramp away from the border, and is separable", () => {
    const c = upsampleBicubic(tf.fill([2, 8, 8, 1], 0.3) as tf.Tensor4D, 2);
    expect(Math.max(...readAndDispose(tf.abs(tf.sub(c, 0.3))))).toBeLessThan(1e-6);
    // ramp along W: x[w] = w; output column i reads u = (i + 0.5)/2 − 0.5
    const ramp = tf.tidy(() => tf.tile(tf.reshape(tf.range(0, 8), [1, 1, 8, 1]), [1, 8, 1, 1])) as tf.Tensor4D;
    const up = upsampleBicubic(ramp, 2).arraySync()[0];
    for (let i = 4; i < 12; i++) expect(up[7][i][0]).toBeCloseTo((i + 0.5) / 2 - 0.5, 5);
    // against a direct per-pixel evaluation with the matrix
    const x = rand([1, 4, 4, 1], 3);
    const m = bicubicMatrix(4, 2);
    const xv = x.arraySync()[0];
    const y = upsampleBicubic(x, 2).arraySync()[0];
    for (const [i, j] of [[0, 0], [3, 5], [7, 7], [6, 1]]) {
      let v = 0;
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) v += m[i * 4 + a] * m[j * 4 + b] * xv[a][b][0];
      expect(y[i][j][0]).toBeCloseTo(v, 5);
    }
    tf.dispose([c, ramp, x]);
  });

  test("no tensors leak from the operators", () => {
    const x = rand([2, 8, 8, 1]);
    const before = tf.memory().numTensors;
    const up = upsampleBicubic(x, 2);
    tf.dispose([up, downsample(up, 2), upsampleNearest(x, 2)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe("conditioning augmentation", () => {
  test("γ(0) = 1 keeps x; γ(1) = 0 is pure noise; per-example levels match the scalar form", () => {
    expect(augGamma(0)).toBe(1);
    expect(augGamma(1)).toBeCloseTo(0, 12);
    expect(augGamma(0.5)).toBeCloseTo(0.5, 12);
    expect(() => augGamma(1.5)).toThrow(/\[0, 1\]/);
    const x = rand([3, 4, 4, 1], 1);
    const e = rand([3, 4, 4, 1], 2);
    expect(readAndDispose(augmentLowRes(x, 0, e))).toEqual(Array.from(x.dataSync()));
    const pure = readAndDispose(augmentLowRes(x, 1, e));
    Array.from(e.dataSync()).forEach((v, i) => expect(pure[i]).toBeCloseTo(v, 5));
    const levels = tf.tensor1d([0, 0.3, 0.7]);
    const perEx = augmentLowRes(x, levels, e).arraySync();
    const at03 = augmentLowRes(x, 0.3, e).arraySync();
    expect(perEx[1]).toEqual(at03[1].map((r) => r.map((c) => c.map((v) => expect.closeTo(v, 5)))));
    expect(perEx[0]).toEqual(x.arraySync()[0]);
    // variance is preserved for unit-variance x: γ + (1 − γ) = 1
    const big = rand([64, 8, 8, 1], 4);
    const noise = rand([64, 8, 8, 1], 5);
    const v = tf.moments(augmentLowRes(big, 0.4, noise)).variance.dataSync()[0];
    expect(v).toBeGreaterThan(0.9);
    expect(v).toBeLessThan(1.1);
    tf.dispose([x, e, levels, big, noise]);
    expect(() => augmentLowRes(rand([2, 4, 4, 1]), tf.tensor1d([0]), rand([2, 4, 4, 1]))).toThrow(/level must be \[2\]/);
  });
});

const TINY_SR_NET: UNetConfig = { imageSize: 16, inChannels: 1, channels: [8, 8], groups: 4, numClasses: 3, condChannels: 1, augConditioned: true };

describe("UNet conditioning image and aug level", () => {
  test("the output depends on the conditioning image and on the aug level; missing or wrong inputs throw", () => {
    const net = new UNet(TINY_SR_NET, new Rng(0));
    randomizeZeroInit(net, 1);
    const xt = rand([2, 16, 16, 1], 2);
    const img = rand([2, 16, 16, 1], 3);
    const img2 = rand([2, 16, 16, 1], 4);
    const c = tf.tensor1d([0, 1], "int32");
    const a = readAndDispose(net.apply(xt, 10, c, { image: img, aug: 0 }));
    const b = readAndDispose(net.apply(xt, 10, c, { image: img2, aug: 0 }));
    const d = readAndDispose(net.apply(xt, 10, c, { image: img, aug: 0.5 }));
    const dflt = readAndDispose(net.apply(xt, 10, c, { image: img }));
    expect(b).not.toEqual(a);
    expect(d).not.toEqual(a);
    expect(dflt).toEqual(a); // aug defaults to 0
    expect(() => net.apply(xt, 10, c)).toThrow(/needs a conditioning image/);
    expect(() => net.apply(xt, 10, c, { image: rand([2, 8, 8, 1]) })).toThrow(/conditioning image must be \[2, 16, 16, 1\]/);
    const plain = new UNet({ ...TINY_SR_NET, condChannels: 0, augConditioned: false }, new Rng(0));
    expect(() => plain.apply(xt, 10, c, { image: img })).toThrow(/condChannels 0/);
    expect(() => plain.apply(xt, 10, c, { aug: 0.2 })).toThrow(/not augConditioned/);
    tf.dispose([xt, img, img2, c]);
    net.dispose();
    plain.dispose();
  });
});

const data = tinyImageDataset(64, 1);
const SR: SrRecipe = {
  kind: "sr",
  name: "tiny-sr",
  description: "test SR",
  objective: "eps",
  net: TINY_SR_NET,
  factor: 2,
  aug: { maxLevel: 0.6, pZero: 0.3 },
  data: { dataset: "fashion-mnist" },
  schedule: { kind: "cosine", T: 100 },
  train: { steps: 4, batchSize: 8, learningRate: 2e-3, warmup: 2, seed: 0, condDropout: 0.1 },
};
const REG: SrRecipe = { ...SR, name: "tiny-reg", objective: "regression", aug: undefined, schedule: undefined, net: { ...TINY_SR_NET, augConditioned: false } };

describe("super-resolution training and sampling", () => {
  test("SR and regression recipes train deterministically, leave only the nets, and round-trip through a checkpoint", () => {
    const before = tf.memory().numTensors;
    const run = { data, progress: "none" as const, logEvery: 2 };
    const a = trainImageRecipe(SR, run);
    const b = trainImageRecipe(SR, run);
    const r = trainImageRecipe(REG, run);
    expect(a.result.history).toEqual(b.result.history);
    expect(a.result.history.every((h) => Number.isFinite(h.loss) && h.loss > 0)).toBe(true);
    expect(r.result.history[0].loss).toBeLessThan(a.result.history[0].loss); // MSE on y starts at the bicubic error, far below ε's ≈ 1
    expect(a.schedule?.T).toBe(100);
    expect(r.schedule).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before + a.net.variables.length + b.net.variables.length + r.net.variables.length);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sr-ck-"));
    saveImageModel(a, dir);
    const loaded = loadSrModel("tiny-sr", dir);
    expect(loaded.recipe).toEqual(SR);
    expect(loaded.schedule?.T).toBe(100);
    const flat = (n: UNet) => readAndDispose(tf.tidy(() => tf.concat(n.variables.map((v) => tf.reshape(v, [-1])))));
    expect(flat(loaded.net)).toEqual(flat(a.net as UNet));
    [a, b, r].forEach((m) => m.net.dispose());
    loaded.net.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  test("superResolve: seeded, shape [N, 16, 16, C], labels and level change the result, no leaks", () => {
    const net = new UNet(TINY_SR_NET, new Rng(0));
    randomizeZeroInit(net, 2);
    const schedule = makeSchedule("cosine", 100);
    const low = tf.tidy(() => downsample(fashionMnistBatch(data, Int32Array.from([0, 1, 2, 3, 4])), 2));
    const before = tf.memory().numTensors;
    const run = (o: Partial<Parameters<typeof superResolve>[0]>) =>
      readAndDispose(superResolve({ net, low, schedule, rng: new Rng(5), numSteps: 3, batchSize: 2, ...o }));
    const base = run({ labels: Int32Array.from([0, 1, 2, 0, 1]) });
    expect(base).toHaveLength(5 * 256);
    expect(run({ labels: Int32Array.from([0, 1, 2, 0, 1]) })).toEqual(base);
    expect(run({ labels: Int32Array.from([2, 2, 2, 2, 2]) })).not.toEqual(base);
    expect(run({ labels: Int32Array.from([0, 1, 2, 0, 1]), level: 0.3 })).not.toEqual(base);
    // each row is conditioned on its own image: the first row does not depend on the others
    const swapped = tf.tidy(() => tf.concat([tf.slice(low, [0, 0, 0, 0], [1, -1, -1, -1]), tf.reverse(tf.slice(low, [1, 0, 0, 0], [4, -1, -1, -1]), 0)])) as tf.Tensor4D;
    const other = readAndDispose(superResolve({ net, low: swapped, schedule, rng: new Rng(5), numSteps: 3, batchSize: 2, labels: Int32Array.from([0, 1, 0, 2, 1]) }));
    expect(other.slice(0, 256)).toEqual(base.slice(0, 256));
    expect(other.slice(256, 512)).not.toEqual(base.slice(256, 512));
    swapped.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => superResolve({ net, low, schedule, rng: new Rng(0), labels: new Int32Array(2) })).toThrow(/5 images but 2 labels/);
    const odd = rand([2, 5, 5, 1]);
    expect(() => superResolve({ net, low: odd, schedule, rng: new Rng(0) })).toThrow(/h dividing 16/);
    expect(() => regressionUpsample(net, odd)).toThrow(/h dividing 16/);
    tf.dispose([low, odd]);
    net.dispose();
  });

  test("a model that throws mid-run leaves nothing behind", () => {
    const net = new UNet(TINY_SR_NET, new Rng(0));
    const low = rand([3, 8, 8, 1]);
    const schedule = makeSchedule("cosine", 100);
    const before = tf.memory().numTensors;
    const orig = net.apply.bind(net);
    let calls = 0;
    net.apply = (...args: Parameters<UNet["apply"]>) => {
      if (++calls === 2) throw new Error("boom");
      return orig(...args);
    };
    // the tfjs engine calls net.apply; the onnx engine would run the exported graph instead
    const engine = process.env.COURSE_ENGINE;
    process.env.COURSE_ENGINE = "tfjs";
    try {
      expect(() => superResolve({ net, low, schedule, rng: new Rng(0), numSteps: 3 })).toThrow("boom");
    } finally {
      if (engine === undefined) delete process.env.COURSE_ENGINE;
      else process.env.COURSE_ENGINE = engine;
    }
    expect(tf.memory().numTensors).toBe(before);
    low.dispose();
    net.dispose();
  });

  test("regressionUpsample = bicubic + the net's correction, batch by batch; an untrained net gives exactly bicubic", () => {
    const net = new UNet({ ...TINY_SR_NET, augConditioned: false }, new Rng(0));
    const low = rand([5, 8, 8, 1], 9);
    const bic = upsampleBicubic(low, 2);
    expect(readAndDispose(regressionUpsample(net, low, undefined, 2))).toEqual(Array.from(bic.dataSync()));
    randomizeZeroInit(net, 3);
    const before = tf.memory().numTensors;
    const nullCond = tf.tensor1d([3, 3, 3, 3, 3], "int32"); // ∅ for every row, the default
    const direct = regressionPredict(net, bic, nullCond);
    const batched = readAndDispose(regressionUpsample(net, low, undefined, 2));
    expect(batched).not.toEqual(Array.from(bic.dataSync()));
    Array.from(direct.dataSync()).forEach((v, i) => expect(batched[i]).toBeCloseTo(v, 4));
    tf.dispose([direct, nullCond]);
    expect(tf.memory().numTensors).toBe(before);
    bic.dispose();
    low.dispose();
    net.dispose();
  });
});
