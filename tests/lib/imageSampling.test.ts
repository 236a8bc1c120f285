import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { EpsModel, ddimStep, ddpmStep, sample } from "../../lib/src/samplers";
import { epsModel } from "../../lib/src/nets/mlp";
import { UNet, UNetConfig } from "../../lib/src/nets/unet";
import { ClassifierConfig, ConvClassifier } from "../../lib/src/nets/classifier";
import { GuidedSampler, balancedLabels, cfgSampler, classifierGuidedSampler, sampleImages } from "../../lib/src/imageSampling";
import { maxAbsDiff, randomizeZeroInit, readAndDispose } from "./imageFixtures";

beforeAll(async () => {
  await initBackend();
  // These tests check the guidance arithmetic against tfjs references to 1e-5, so the U-Net runs
  // on tfjs here; tests/lib/engine.test.ts compares the onnx engine with tfjs.
  process.env.COURSE_ENGINE = "tfjs";
});

afterAll(() => {
  delete process.env.COURSE_ENGINE;
});

// groups 2 (not 8): with one channel per group, GroupNorm would cancel the per-channel
// embedding bias, and the nets would ignore t and y.
const UNET: UNetConfig = { imageSize: 8, inChannels: 1, channels: [8, 8], groups: 2, numClasses: 3 };
const NOISY: ClassifierConfig = { imageSize: 8, inChannels: 1, channels: [8, 8], groups: 2, numClasses: 3, featureDim: 8, timeDim: 8 };
const schedule = makeSchedule("cosine", 100);
const SHAPE: [number, number, number] = [8, 8, 1];
const STEPS = 4;
/** x̂0 clip of the comparisons: wide, so that an untrained net's images do not all saturate at ±1 (which would hide differences). */
const CLIP = 50;
const labels = Int32Array.from([0, 1, 2, 2, 1]);

let net: UNet;
let clf: ConvClassifier;

beforeAll(() => {
  // untrained nets with their zero-initialised layers made random, so ε̂ and the classifier depend on x, t and y
  net = new UNet(UNET, new Rng(1));
  randomizeZeroInit(net, 2, 0.3);
  clf = new ConvClassifier(NOISY, new Rng(3));
  randomizeZeroInit(clf, 4, 0.3);
});

afterAll(() => {
  net.dispose();
  clf.dispose();
});

/** sampleImages with the test's settings (DDIM η = 0, 4 steps, 8×8, x̂0 clipped to ±CLIP). */
function images(sampler: GuidedSampler, seed: number, extra: Partial<Parameters<typeof sampleImages>[0]> = {}): number[] {
  return readAndDispose(sampleImages({ sampler, labels, schedule, rng: new Rng(seed), imageShape: SHAPE, numSteps: STEPS, clipX0: CLIP, ...extra }));
}

/** The reference: sample() on one batch with a given model (and modifier), same settings. */
function reference(model: EpsModel, seed: number, modifier?: Parameters<typeof sample>[0]["modifier"]): number[] {
  return readAndDispose(sample({ model, modifier, schedule, step: ddimStep(0), shape: [labels.length, ...SHAPE], numSteps: STEPS, rng: new Rng(seed), clipX0: CLIP }));
}

describe("balancedLabels", () => {
  test("interleaves the classes so every prefix is balanced", () => {
    expect(Array.from(balancedLabels(3, 2))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(balancedLabels(10, 20).length).toBe(200);
    expect(balancedLabels(1, 3)).toBeInstanceOf(Int32Array);
    for (const [k, p] of [[0, 2], [3, 0], [2.5, 2], [3, 1.5], [-1, 2]]) {
      expect(() => balancedLabels(k, p)).toThrow(`balancedLabels: numClasses and perClass must be positive integers, got ${k}, ${p}`);
    }
  });
});

describe("cfgSampler", () => {
  test("s = 1 is the conditional model ε̂(z, t, y); s = 0 the unconditional ε̂(z, t, ∅)", () => {
    const s1 = images(cfgSampler(net, 1), 5);
    expect(maxAbsDiff(s1, reference(epsModel(net, labels), 5))).toBeLessThan(1e-5);
    const s0 = images(cfgSampler(net, 0), 5);
    expect(maxAbsDiff(s0, reference(epsModel(net, net.nullCond), 5))).toBeLessThan(1e-5);
    expect(maxAbsDiff(s0, s1)).toBeGreaterThan(1e-3); // the class matters
  });

  test("s = 2.5 follows ε̂(∅) + s·(ε̂(y) − ε̂(∅)) computed by hand", () => {
    const s = 2.5;
    const cond = epsModel(net, labels);
    const uncond = epsModel(net);
    const byHand: EpsModel = (x, t) =>
      tf.tidy(() => {
        const u = uncond(x, t);
        return tf.add(u, tf.mul(tf.sub(cond(x, t), u), s));
      });
    expect(maxAbsDiff(images(cfgSampler(net, s), 6), reference(byHand, 6))).toBeLessThan(1e-4);
  });

  test("a U-Net without classes has no ∅ and is rejected", () => {
    const uncondNet = new UNet({ ...UNET, numClasses: undefined }, new Rng(0));
    expect(() => cfgSampler(uncondNet, 2)).toThrow("cfgSampler: the U-Net has no classes (numClasses), so it has no ∅");
    uncondNet.dispose();
  });
});

describe("classifierGuidedSampler", () => {
  test("s = 0 is the conditional model (base cond) or the unconditional one (base uncond)", () => {
    const sampler = classifierGuidedSampler(net, clf, 0, schedule);
    expect(sampler(labels, { start: 0, end: labels.length }).modifier).toBeUndefined();
    expect(maxAbsDiff(images(sampler, 7), reference(epsModel(net, labels), 7))).toBeLessThan(1e-5);
    const uncond = classifierGuidedSampler(net, clf, 0, schedule, "uncond");
    expect(maxAbsDiff(images(uncond, 7), reference(epsModel(net), 7))).toBeLessThan(1e-5);
  });

  test("s = 3 follows ε̃ = ε̂ − s·σ_t·∇ log p(y | z_t, t) computed by hand with tf.grad", () => {
    const s = 3;
    const y = tf.oneHot(tf.tensor1d(labels, "int32"), 3);
    const byHand = (eps: tf.Tensor, x: tf.Tensor, t: number) =>
      tf.tidy(() => {
        const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(clf.apply(z as tf.Tensor4D, t)), y)))(x);
        return tf.sub(eps, tf.mul(g, s * schedule.sigmas[t]));
      });
    const guided = images(classifierGuidedSampler(net, clf, s, schedule), 8);
    expect(maxAbsDiff(guided, reference(epsModel(net, labels), 8, byHand))).toBeLessThan(1e-4);
    expect(maxAbsDiff(guided, images(classifierGuidedSampler(net, clf, 0, schedule), 8))).toBeGreaterThan(1e-3);
    y.dispose();
  });

  test("rejects a clean classifier, and a class-less U-Net for either base, up front", () => {
    const clean = new ConvClassifier({ ...NOISY, timeDim: undefined }, new Rng(0));
    expect(() => classifierGuidedSampler(net, clean, 1, schedule)).toThrow("classifierGuidedSampler: guidance needs a noise-conditional classifier p(y | z_t, t)");
    const uncondNet = new UNet({ ...UNET, numClasses: undefined }, new Rng(0));
    expect(() => classifierGuidedSampler(uncondNet, clf, 1, schedule, "uncond")).toThrow('classifierGuidedSampler: base "uncond" needs a class-conditional U-Net (numClasses)');
    expect(() => classifierGuidedSampler(uncondNet, clf, 1, schedule)).toThrow('classifierGuidedSampler: base "cond" needs a class-conditional U-Net (numClasses)');
    clean.dispose();
    uncondNet.dispose();
  });
});

describe("sampleImages", () => {
  test("shape [N, S, S, C]; a seed fixes the images, another seed changes them; nothing leaks", () => {
    const sampler = cfgSampler(net, 2);
    const before = tf.memory().numTensors;
    const out = sampleImages({ sampler, labels, schedule, rng: new Rng(9), imageShape: SHAPE, numSteps: STEPS, clipX0: CLIP });
    expect(out.shape).toEqual([5, 8, 8, 1]);
    expect(tf.memory().numTensors).toBe(before + 1);
    const a = readAndDispose(out);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(images(sampler, 9)).toEqual(a);
    expect(maxAbsDiff(images(sampler, 10), a)).toBeGreaterThan(1e-3);
    // classifier guidance (tf.grad inside every step) leaks nothing either
    images(classifierGuidedSampler(net, clf, 2, schedule), 9, { batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });

  test("batches: the sampler sees the labels in order, split by batchSize; the images are concatenated", () => {
    const seen: number[][] = [];
    const inner = cfgSampler(net, 1);
    const recording: GuidedSampler = (y, rows) => {
      seen.push(Array.from(y));
      return inner(y, rows);
    };
    const batched = images(recording, 11, { batchSize: 2 });
    expect(seen).toEqual([[0, 1], [2, 2], [1]]);
    expect(batched.length).toBe(5 * 64);
    // DDIM with η = 0 draws only x_T, batch after batch from one stream, so here batching
    // changes nothing (rows are independent in the U-Net). Stochastic steps draw per step and differ.
    expect(maxAbsDiff(batched, images(inner, 11))).toBeLessThan(1e-5);
    const ddpmOne = images(inner, 11, { step: ddpmStep() });
    const ddpmBatched = images(inner, 11, { step: ddpmStep(), batchSize: 2 });
    expect(ddpmBatched.length).toBe(ddpmOne.length);
    expect(maxAbsDiff(ddpmBatched.slice(0, 2 * 64), ddpmOne.slice(0, 2 * 64))).toBeGreaterThan(1e-4);
    expect(images(inner, 11, { step: ddpmStep(), batchSize: 2 })).toEqual(ddpmBatched);
  });

  test("x̂0 is clipped to [−1, 1] by default, so DDIM's final x̂0 stays in range even for a wild model", () => {
    const wild: GuidedSampler = () => ({ model: (x) => tf.mul(x, 1000) }); // ε̂ = 1000·x: x̂0 far outside [−1, 1]
    const clipped = images(wild, 12, { clipX0: undefined });
    expect(clipped.every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(clipped.filter((v) => Math.abs(v) === 1).length).toBeGreaterThan(0);
    const loose = images(wild, 12, { clipX0: 3 });
    expect(loose.every((v) => v >= -3 && v <= 3)).toBe(true);
    expect(Math.max(...loose.map(Math.abs))).toBeGreaterThan(1);
    expect(() => images(wild, 12, { clipX0: 0 })).toThrow(/clipX0 must be > 0/);
  });

  test("image shape defaults to 16×16×1", () => {
    const out = sampleImages({ sampler: () => ({ model: (x) => tf.mul(x, 0.5) }), labels: Int32Array.from([0, 1]), schedule, rng: new Rng(0), numSteps: 2 });
    expect(out.shape).toEqual([2, 16, 16, 1]);
    out.dispose();
  });

  test("bad input throws one clear line", () => {
    const sampler = cfgSampler(net, 1);
    const base = { sampler, labels, schedule, rng: new Rng(0), imageShape: SHAPE, numSteps: 2 };
    expect(() => sampleImages({ ...base, labels: new Int32Array(0) })).toThrow("sampleImages: no labels");
    expect(() => sampleImages({ ...base, batchSize: 0 })).toThrow("sampleImages: batchSize must be a positive integer, got 0");
    expect(() => sampleImages({ ...base, batchSize: 2.5 })).toThrow(/batchSize must be a positive integer/);
  });
});
