/**
 * Small additions to existing lib modules for the guidance notebooks: crossEntropy (losses),
 * warmupCosine (train), the clipX0 option of sample (samplers), ConvClassifier.head
 * (nets/classifier) and MlpConfig.outDim (nets/mlp).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule, timesteps } from "../../lib/src/schedules";
import { posteriorCoefs } from "../../lib/src/forward";
import { crossEntropy } from "../../lib/src/losses";
import { maxAbsDiff as tensorMaxAbsDiff } from "../../lib/src/metrics";
import { cosineDecay, warmupCosine } from "../../lib/src/train";
import { EpsModel, ddimStep, ddpmStep, sample } from "../../lib/src/samplers";
import { ConvClassifier } from "../../lib/src/nets/classifier";
import { MlpDenoiser } from "../../lib/src/nets/mlp";
import { maxAbsDiff, randomizeZeroInit, readAndDispose } from "./imageFixtures";

beforeAll(async () => {
  await initBackend();
});

describe("crossEntropy", () => {
  const L = [[1, 2, 3], [0.5, -1, 2], [0, 0, 0], [-3, 4, 1]];
  const Y = [2, 0, 1, 1];
  const B = L.length;
  const softmax = (row: number[]) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };

  test("value: −(1/B) Σ_b log softmax(logits_b)[y_b], by hand and against tf.losses.softmaxCrossEntropy", () => {
    const byHand = -L.reduce((acc, row, b) => acc + Math.log(softmax(row)[Y[b]]), 0) / B;
    const logits = tf.tensor2d(L);
    const labels = tf.tensor1d(Y, "int32");
    const before = tf.memory().numTensors;
    const got = readAndDispose(crossEntropy(logits, labels));
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toBeCloseTo(byHand, 5);
    const stock = readAndDispose(tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 3), logits)));
    expect(got[0]).toBeCloseTo(stock[0], 5);
    // float labels are cast
    const asFloat = tf.tensor1d(Y, "float32");
    expect(readAndDispose(crossEntropy(logits, asFloat))[0]).toBeCloseTo(byHand, 5);
    tf.dispose([logits, labels, asFloat]);
  });

  test("gradient with respect to the logits is (softmax − onehot)/B", () => {
    const logits = tf.tensor2d(L);
    const labels = tf.tensor1d(Y, "int32");
    const g = readAndDispose(tf.grad((l: tf.Tensor) => crossEntropy(l as tf.Tensor2D, labels))(logits));
    const want = L.flatMap((row, b) => softmax(row).map((p, k) => (p - (k === Y[b] ? 1 : 0)) / B));
    expect(maxAbsDiff(g, want)).toBeLessThan(1e-6);
    tf.dispose([logits, labels]);
  });

  test("shape errors name the expected shapes", () => {
    tf.tidy(() => {
      const logits = tf.zeros([4, 3]) as tf.Tensor2D;
      expect(() => crossEntropy(tf.zeros([3]) as unknown as tf.Tensor2D, tf.zeros([3], "int32") as tf.Tensor1D)).toThrow("crossEntropy: logits must be [B, K], got [3]");
      expect(() => crossEntropy(logits, tf.zeros([3], "int32") as tf.Tensor1D)).toThrow("crossEntropy: labels must be [4], got [3]");
      expect(() => crossEntropy(logits, tf.zeros([4, 1], "int32") as unknown as tf.Tensor1D)).toThrow("crossEntropy: labels must be [4], got [4,1]");
    });
  });
});

describe("warmupCosine", () => {
  test("linear ramp lr0·(k+1)/warmup up to lr0 at step warmup − 1, then cosine from lr0 to lrMin at the end", () => {
    const f = warmupCosine(1e-3, 100, 10);
    for (let k = 0; k < 10; k++) expect(f(k)).toBeCloseTo((1e-3 * (k + 1)) / 10, 15);
    expect(f(9)).toBeCloseTo(1e-3, 15);
    expect(f(10)).toBeCloseTo(1e-3, 15); // the decay starts at lr0
    expect(f(55)).toBeCloseTo(5e-4, 15); // halfway through the 90 decay steps
    expect(f(100)).toBeCloseTo(0, 15);
    expect(f(99)).toBeGreaterThan(0);
    for (let k = 10; k < 100; k++) expect(f(k + 1)).toBeLessThanOrEqual(f(k));
    for (let k = 0; k < 9; k++) expect(f(k + 1)).toBeGreaterThan(f(k));
    expect(warmupCosine(1e-3, 100, 10, 1e-4)(100)).toBeCloseTo(1e-4, 15);
    // the decay is cosineDecay over the remaining steps
    const g = cosineDecay(1e-3, 90, 1e-4);
    const h = warmupCosine(1e-3, 100, 10, 1e-4);
    for (const k of [10, 31, 77, 100]) expect(h(k)).toBeCloseTo(g(k - 10), 15);
  });

  test("warmup 0 is plain cosineDecay; a bad warmup is an error", () => {
    const f = warmupCosine(2e-3, 50, 0);
    const g = cosineDecay(2e-3, 50);
    for (const k of [0, 1, 25, 49, 50]) expect(f(k)).toBe(g(k));
    expect(warmupCosine(1, 5, 4)(3)).toBe(1); // the largest warmup: steps − 1
    for (const w of [-1, 2.5, 100, 150, NaN]) expect(() => warmupCosine(1e-3, 100, w)).toThrow(`warmupCosine: warmup must be an integer in 0…99, got ${w}`);
  });
});

describe("sample: clipX0", () => {
  const schedule = makeSchedule("linear", 1000);
  const SHAPE = [6, 4];
  const N = 24;
  /** ε̂ = a·x: far from the truth, so x̂0 = x(1 − a·σ_t)/sqrt(ᾱ_t) lands well outside [−c, c] at high t (unclipped, a = 0.2 ends near ±100). */
  const linearModel = (a: number): EpsModel => (x) => tf.mul(x, a);

  /** Float64 reference of respaced DDIM (η = 0) or DDPM with ε̂ = a·x and optional x̂0 clipping, same noise order as the lib. */
  function reference(kind: "ddim" | "ddpm", a: number, seed: number, n: number, clip?: number): number[] {
    const rng = new Rng(seed);
    let x = Array.from(rng.normalArray(N));
    const ts = timesteps(schedule.T, n);
    for (let i = 0; i < n; i++) {
      const t = ts[i];
      const tPrev = i + 1 < n ? ts[i + 1] : -1;
      const ab = schedule.alphaBars[t];
      const abPrev = tPrev < 0 ? 1 : schedule.alphaBars[tPrev];
      const sigma = Math.sqrt(1 - ab);
      const c = posteriorCoefs(t, tPrev, schedule);
      const noise = kind === "ddpm" && tPrev >= 0 && c.variance > 0 ? Array.from(rng.normalArray(N)) : null;
      x = x.map((xt, j) => {
        let x0 = (xt - sigma * a * xt) / Math.sqrt(ab);
        let eps = a * xt;
        if (clip !== undefined) {
          x0 = Math.min(clip, Math.max(-clip, x0));
          eps = (xt - Math.sqrt(ab) * x0) / sigma;
        }
        if (kind === "ddim") return Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev) * eps;
        const mean = c.x0Coef * x0 + c.xtCoef * xt;
        return noise ? mean + Math.sqrt(c.variance) * noise[j] : mean;
      });
    }
    return x;
  }

  function run(kind: "ddim" | "ddpm", a: number, seed: number, n: number, clipX0?: number): number[] {
    const step = kind === "ddim" ? ddimStep(0) : ddpmStep();
    return readAndDispose(sample({ model: linearModel(a), schedule, step, shape: SHAPE, numSteps: n, rng: new Rng(seed), clipX0 }));
  }

  test.each(["ddim", "ddpm"] as const)("%s: clipped x̂0 (and, for DDIM, ε̂ recomputed from it) matches a float64 reference", (kind) => {
    const got = run(kind, 0.2, 1, 10, 0.5);
    const want = reference(kind, 0.2, 1, 10, 0.5);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
    // the final step returns x̂0 itself, so every output lies in [−c, c]
    expect(got.every((v) => Math.abs(v) <= 0.5 + 1e-6)).toBe(true);
    // the clip really acts: unclipped, the same sampler ends far outside [−c, c]
    const free = run(kind, 0.2, 1, 10);
    expect(Math.max(...free.map(Math.abs))).toBeGreaterThan(10);
  });

  test.each(["ddim", "ddpm"] as const)("%s: a huge ε̂ still gives outputs in [−c, c]; unclipped they explode", (kind) => {
    const clipped = run(kind, 1e4, 2, 8, 1);
    expect(clipped.every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(clipped.filter((v) => Math.abs(v) === 1).length).toBeGreaterThan(N / 2); // saturated
    const free = run(kind, 1e4, 2, 8);
    expect(Math.max(...free.map(Math.abs))).toBeGreaterThan(10);
  });

  test.each(["ddim", "ddpm"] as const)("%s: without clipX0 the result is the unclipped sampler's, as before the option existed", (kind) => {
    const free = run(kind, 0.5, 3, 10);
    expect(maxAbsDiff(free, reference(kind, 0.5, 3, 10))).toBeLessThan(1e-4);
    // a clip too wide to bind gives the same images (up to rounding in the recomputed ε̂)
    expect(maxAbsDiff(run(kind, 0.5, 3, 10, 1e6), free)).toBeLessThan(1e-4);
  });

  test("clipX0 must be > 0; nothing leaks", () => {
    for (const c of [0, -1, NaN]) expect(() => run("ddim", 1, 0, 2, c)).toThrow(`sample: clipX0 must be > 0, got ${c}`);
    const before = tf.memory().numTensors;
    run("ddpm", 3, 4, 5, 0.5);
    run("ddim", 3, 4, 5, 0.5);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("ConvClassifier.head", () => {
  test("head(features(x)) equals apply(x), clean and noise-conditional; logits are [B, K]", () => {
    const clean = new ConvClassifier({ imageSize: 8, inChannels: 1, channels: [8, 8], groups: 2, numClasses: 4, featureDim: 6 }, new Rng(1));
    const noisy = new ConvClassifier({ imageSize: 8, inChannels: 1, channels: [8, 8], groups: 2, numClasses: 4, featureDim: 6, timeDim: 8 }, new Rng(2));
    randomizeZeroInit(clean, 3, 0.3);
    randomizeZeroInit(noisy, 4, 0.3);
    const x = new Rng(5).randn([3, 8, 8, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([10, 500, 990], "int32");
    const before = tf.memory().numTensors;
    const viaHead = tf.tidy(() => clean.head(clean.features(x)));
    expect(viaHead.shape).toEqual([3, 4]);
    expect(readAndDispose(viaHead)).toEqual(readAndDispose(clean.apply(x)));
    expect(readAndDispose(tf.tidy(() => noisy.head(noisy.features(x, t))))).toEqual(readAndDispose(noisy.apply(x, t)));
    expect(readAndDispose(tf.tidy(() => noisy.head(noisy.features(x, 300))))).toEqual(readAndDispose(noisy.apply(x, 300)));
    expect(tf.memory().numTensors).toBe(before);
    // it is the last dense layer alone: features·W + b
    const f = tf.tensor2d([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2]]);
    const w = clean.getWeights();
    const want = tf.tidy(() => tf.add(tf.matMul(f, w["logits.w"] as tf.Tensor2D), w["logits.b"]));
    expect(maxAbsDiff(readAndDispose(clean.head(f)), readAndDispose(want))).toBeLessThan(1e-6);
    tf.dispose([x, t, f]);
    clean.dispose();
    noisy.dispose();
  });
});

describe("MlpConfig.outDim", () => {
  const base = { dataDim: 2, hidden: 16, depth: 2, timeDim: 8 };

  test("outDim K gives [B, K] outputs (e.g. a noise-conditional classifier's logits); the default is dataDim", () => {
    const xt = new Rng(6).randn([5, 2]) as tf.Tensor2D;
    const t = tf.tensor1d([0, 10, 100, 500, 999], "int32");
    const clf = new MlpDenoiser({ ...base, outDim: 7 }, new Rng(7));
    expect(clf.getWeights()["out.w"].shape).toEqual([16, 7]);
    expect(clf.getWeights()["out.b"].shape).toEqual([7]);
    const logits = clf.apply(xt, t);
    expect(logits.shape).toEqual([5, 7]);
    expect(readAndDispose(logits).every(Number.isFinite)).toBe(true);
    const den = new MlpDenoiser(base, new Rng(7));
    expect(den.apply(xt, t).shape).toEqual([5, 2]);
    expect(den.numParams()).toBe(clf.numParams() - 5 * (16 + 1)); // five fewer output units
    // same seed: the hidden layers are drawn identically, only the output layer's width differs
    expect(readAndDispose(den.getWeights()["layer0.w"].clone())).toEqual(readAndDispose(clf.getWeights()["layer0.w"].clone()));
    const cond = new MlpDenoiser({ ...base, outDim: 3, numClasses: 3 }, new Rng(8));
    const withClass = cond.apply(xt, t, tf.tensor1d([0, 1, 2, 3, 0], "int32"));
    expect(withClass.shape).toEqual([5, 3]);
    tf.dispose([xt, t, withClass]);
    [clf, den, cond].forEach((n) => n.dispose());
  });

  test("a bad outDim is an error, and nothing is allocated", () => {
    const before = tf.memory().numTensors;
    for (const outDim of [0, -2, 1.5]) expect(() => new MlpDenoiser({ ...base, outDim }, new Rng(0))).toThrow("MlpDenoiser: outDim must be a positive integer");
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("maxAbsDiff", () => {
  test("is the largest absolute entrywise difference, leaves no tensors, and rejects shape mismatches", () => {
    const a = tf.tensor2d([[1, -2], [3, 4]]);
    const b = tf.tensor2d([[1, 2], [3, 3.5]]);
    const before = tf.memory().numTensors;
    expect(tensorMaxAbsDiff(a, b)).toBe(4);
    expect(tensorMaxAbsDiff(a, a)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tensorMaxAbsDiff(a, tf.zeros([4]))).toThrow("maxAbsDiff: shapes [2,2] and [4] differ");
    tf.dispose([a, b]);
  });
});
