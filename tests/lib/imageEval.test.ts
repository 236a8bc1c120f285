import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { fashionMnistBatch } from "../../lib/src/data/fashionMnist";
import { ClassifierConfig, ConvClassifier } from "../../lib/src/nets/classifier";
import { frechetDistance } from "../../lib/src/metrics/frechet";
import { precisionRecall } from "../../lib/src/metrics/precisionRecall";
import { diversity, inceptionScore } from "../../lib/src/metrics/classScores";
import { ImageEvaluator, ImageMetrics } from "../../lib/src/imageEval";
import { maxAbsDiff, randomizeZeroInit, readAndDispose, tinyImageDataset } from "./imageFixtures";

beforeAll(async () => {
  await initBackend();
});

/**
 * featureDim 8 < the number of images, so the feature covariances are full rank; groups 2 so that
 * the last GroupNorm does not normalise each channel on its own (which would make the pooled
 * features of an untrained net nearly constant). Untrained features still vary little
 * (variance ~1e-4), so FID-style values are compared relative to each other, not to fixed numbers.
 */
const CLEAN: ClassifierConfig = { imageSize: 16, inChannels: 1, channels: [8, 8], groups: 2, numClasses: 3, featureDim: 8 };
const data = tinyImageDataset(60, 21);
const all = Int32Array.from({ length: data.n }, (_, i) => i);

let clf: ConvClassifier;
beforeAll(() => {
  clf = new ConvClassifier(CLEAN, new Rng(22));
  randomizeZeroInit(clf, 23, 0.3);
});
afterAll(() => clf.dispose());

/** argmax of the classifier's logits for each image. */
function predictions(images: tf.Tensor4D): number[] {
  return readAndDispose(tf.tidy(() => tf.argMax(clf.apply(images), 1)));
}

/** Per-row features of every image of `data`, for locating the reference set. */
function featureRows(images: tf.Tensor4D): number[][] {
  const f = clf.features(images);
  const F = f.shape[1];
  const v = readAndDispose(f);
  return Array.from({ length: images.shape[0] }, (_, i) => v.slice(i * F, (i + 1) * F));
}

function expectMetricsClose(a: ImageMetrics, b: ImageMetrics, digits = 5): void {
  for (const k of Object.keys(a) as (keyof ImageMetrics)[]) expect(a[k]).toBeCloseTo(b[k], digits);
}

describe("ImageEvaluator", () => {
  test("samples identical to the reference set: FID-style ≈ 0, precision = recall = 1; every score matches the metric functions", () => {
    const ev = new ImageEvaluator(clf, data, { numReference: data.n });
    expect(ev.referenceFeatures.shape).toEqual([60, 8]);
    const images = fashionMnistBatch(data, all);
    const m = ev.evaluate(images, data.labels);
    expect(m.n).toBe(60);
    expect(Math.abs(m.fid)).toBeLessThan(1e-9);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(1);
    const pred = predictions(images);
    expect(m.accuracy).toBe(pred.filter((p, i) => p === data.labels[i]).length / data.n);
    const feats = clf.features(images);
    const logits = clf.apply(images);
    expect(m.diversity).toBeCloseTo(diversity(feats, data.labels), 6);
    expect(m.inceptionScore).toBeCloseTo(inceptionScore(logits, { fromLogits: true }), 6);
    tf.dispose([images, feats, logits]);
    ev.dispose();
  });

  test("accuracy is the classifier's agreement with the target labels, whatever they are", () => {
    const ev = new ImageEvaluator(clf, data, { numReference: 30 });
    const images = fashionMnistBatch(data, all);
    const pred = predictions(images);
    const targets = [Int32Array.from(pred), Int32Array.from(pred, (p) => (p + 1) % 3), Int32Array.from(data.labels, (y, i) => (i % 2 ? y : (y + 2) % 3))];
    const accs = targets.map((y) => ev.evaluate(images, y).accuracy);
    expect(accs[0]).toBe(1);
    expect(accs[1]).toBe(0);
    expect(accs[2]).toBe(pred.filter((p, i) => p === targets[2][i]).length / data.n);
    expect(ev.evaluate(images, Array.from(pred)).accuracy).toBe(1); // plain arrays work too
    images.dispose();
    ev.dispose();
  });

  test("other images: FID-style, precision and recall are those of the metric functions on the features", () => {
    const ev = new ImageEvaluator(clf, data, { numReference: 40, k: 4 });
    const images = tf.tidy(() => tf.clipByValue(tf.add(fashionMnistBatch(data, all.subarray(0, 24)), tf.mul(new Rng(5).randn([24, 16, 16, 1]), 0.8)), -1, 1)) as tf.Tensor4D;
    const labels = data.labels.subarray(0, 24);
    const m = ev.evaluate(images, labels);
    const feats = clf.features(images);
    const fid = frechetDistance(ev.referenceFeatures, feats);
    expect(fid).toBeGreaterThan(1e-6);
    expect(Math.abs(m.fid - fid)).toBeLessThan(1e-3 * fid);
    const pr = precisionRecall(ev.referenceFeatures, feats, { k: 4 });
    expect(m.precision).toBe(pr.precision);
    expect(m.recall).toBe(pr.recall);
    // the forward-pass batch size changes nothing
    const small = new ImageEvaluator(clf, data, { numReference: 40, k: 4, batchSize: 7 });
    expect(maxAbsDiff(readAndDispose(small.referenceFeatures.clone()), readAndDispose(ev.referenceFeatures.clone()))).toBeLessThan(1e-5);
    const m7 = small.evaluate(images, labels);
    expect(Math.abs(m7.fid - m.fid)).toBeLessThan(1e-3 * m.fid);
    expectMetricsClose({ ...m7, fid: 0 }, { ...m, fid: 0 });
    tf.dispose([images, feats]);
    ev.dispose();
    small.dispose();
  });

  test("the reference set is a seeded draw of numReference images with their labels; evaluateReal uses the rest", () => {
    const ev = new ImageEvaluator(clf, data, { numReference: 36, seed: 4 });
    const images = fashionMnistBatch(data, all);
    const rows = featureRows(images);
    const ref = readAndDispose(ev.referenceFeatures.clone());
    // find which image each reference row is (all 60 feature rows are distinct)
    const refIdx = Array.from({ length: 36 }, (_, r) => rows.findIndex((f) => maxAbsDiff(f, ref.slice(r * 8, (r + 1) * 8)) < 1e-5));
    expect(refIdx.every((i) => i >= 0)).toBe(true);
    expect(new Set(refIdx).size).toBe(36);
    expect(Array.from(ev.referenceLabels)).toEqual(refIdx.map((i) => data.labels[i]));
    expect(refIdx).not.toEqual(refIdx.slice().sort((a, b) => a - b)); // a shuffled draw, not a prefix
    const again = new ImageEvaluator(clf, data, { numReference: 36, seed: 4 });
    const other = new ImageEvaluator(clf, data, { numReference: 36, seed: 5 });
    expect(readAndDispose(again.referenceFeatures.clone())).toEqual(ref);
    expect(Array.from(other.referenceLabels)).not.toEqual(Array.from(ev.referenceLabels));
    // evaluateReal(all 24 held-out) = evaluate(the complement of the reference set): every metric is order-free
    const heldOut = Int32Array.from(all.filter((i) => !refIdx.includes(i)));
    const rest = fashionMnistBatch(data, heldOut);
    const real = ev.evaluateReal(data, 24);
    expect(real.n).toBe(24);
    const want = ev.evaluate(rest, Int32Array.from(heldOut, (i) => data.labels[i]));
    expectMetricsClose({ ...real, fid: 0 }, { ...want, fid: 0 });
    expect(Math.abs(real.fid - want.fid)).toBeLessThan(1e-3 * want.fid);
    // disjoint from the reference, so far from the ≈ 0 of the reference images themselves
    const refImages = fashionMnistBatch(data, Int32Array.from(refIdx));
    const self = ev.evaluate(refImages, ev.referenceLabels);
    refImages.dispose();
    expect(self.precision).toBe(1);
    expect(real.fid).toBeGreaterThan(1e3 * Math.abs(self.fid));
    expect(ev.evaluateReal(data, 10).n).toBe(10);
    expect(() => ev.evaluateReal(data, 25)).toThrow("ImageEvaluator.evaluateReal: n must be an integer in 2…24, got 25");
    expect(() => ev.evaluateReal(data, 4.5)).toThrow(/n must be an integer/);
    tf.dispose([images, rest]);
    [ev, again, other].forEach((e) => e.dispose());
  });

  // Regression: a negative n once passed the check and heldOut.slice(0, n) silently dropped the
  // last |n| images instead of throwing.
  test("evaluateReal rejects a negative n", () => {
    const ev = new ImageEvaluator(clf, data, { numReference: 36 });
    try {
      expect(() => ev.evaluateReal(data, -3)).toThrow(/n must be/);
    } finally {
      ev.dispose();
    }
  });

  test("bad input: label count, too few images, NaN pixels, a noise-conditional classifier, numReference", () => {
    const ev = new ImageEvaluator(clf, data, { numReference: 20 });
    const images = fashionMnistBatch(data, all.subarray(0, 6));
    expect(() => ev.evaluate(images, [0, 1, 2])).toThrow("ImageEvaluator.evaluate: 6 images but 3 labels");
    const three = fashionMnistBatch(data, all.subarray(0, 3));
    expect(() => ev.evaluate(three, [0, 1, 2])).toThrow("ImageEvaluator.evaluate: need more than k = 3 images, got 3");
    const nan = tf.tidy(() => tf.where(tf.equal(tf.range(0, 6 * 256).reshape([6, 16, 16, 1]), 300), tf.fill([6, 16, 16, 1], NaN), images)) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(() => ev.evaluate(nan, data.labels.subarray(0, 6))).toThrow("ImageEvaluator.evaluate: the images give non-finite features (NaN or Inf pixels?)");
    expect(tf.memory().numTensors).toBe(before);
    const noisy = new ConvClassifier({ ...CLEAN, timeDim: 8 }, new Rng(0));
    expect(() => new ImageEvaluator(noisy, data)).toThrow("ImageEvaluator: use the clean classifier p(y | x), not a noise-conditional one");
    expect(() => new ImageEvaluator(clf, data)).toThrow("ImageEvaluator: numReference must be an integer in 2…60, got 500"); // default 500 > 60 images
    for (const n of [1, 61, 2.5]) expect(() => new ImageEvaluator(clf, data, { numReference: n })).toThrow(/numReference must be an integer in 2…60/);
    tf.dispose([images, three, nan]);
    noisy.dispose();
    ev.dispose();
  });

  test("no leaks: evaluate, evaluateReal and embed (once disposed) leave nothing", () => {
    const ev = new ImageEvaluator(clf, data, { numReference: 30, batchSize: 16 });
    const before = tf.memory().numTensors;
    const images = fashionMnistBatch(data, all.subarray(0, 12));
    ev.evaluate(images, data.labels.subarray(0, 12));
    ev.evaluateReal(data, 12);
    const emb = ev.embed(images);
    expect(emb.features.shape).toEqual([12, 8]);
    expect(emb.logits.shape).toEqual([12, 3]);
    expect(maxAbsDiff(readAndDispose(emb.logits), readAndDispose(clf.apply(images)))).toBeLessThan(1e-5);
    emb.features.dispose();
    images.dispose();
    expect(tf.memory().numTensors).toBe(before);
    ev.dispose();
    expect(tf.memory().numTensors).toBe(before - 1); // the reference features
    expect(clf.variables.every((v) => !v.isDisposed)).toBe(true); // the caller's classifier survives
  });

  // Regression: the constructor once dropped the reference logits from embed() without disposing them.
  test("constructor + dispose leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    const ev = new ImageEvaluator(clf, data, { numReference: 30 });
    expect(tf.memory().numTensors).toBe(before + 1); // only the reference features
    ev.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("ImageEvaluator: judge and evaluateValid (issue 14)", () => {
  test("judge gives per-image correctness whose mean is evaluate()'s accuracy; evaluateValid's scores match the metric functions", () => {
    const { kernelInceptionDistance } = jest.requireActual("../../lib/src/metrics/kid") as typeof import("../../lib/src/metrics/kid");
    const ev = new ImageEvaluator(clf, data, { numReference: 40, seed: 1 });
    const idx = Int32Array.from({ length: 20 }, (_, i) => 40 + i);
    const images = fashionMnistBatch(data, idx);
    const labels = Int32Array.from(idx, (i) => data.labels[i]);
    const before = tf.memory().numTensors;
    const ok = ev.judge(images, labels);
    const v = ev.evaluateValid(images, labels, { seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const pred = predictions(images);
    expect(Array.from(ok)).toEqual(pred.map((p, i) => (p === labels[i] ? 1 : 0)));
    const m = ev.evaluate(images, labels);
    const correct = ok.reduce((a, b) => a + b, 0);
    expect(correct / 20).toBeCloseTo(m.accuracy, 12);
    expect(v.correct).toBe(correct);
    expect(v.accuracy.estimate).toBeCloseTo(m.accuracy, 12);
    expect(v.accuracy.method).toBe("wilson");
    expect(v.accuracy.lo).toBeLessThanOrEqual(v.accuracy.estimate);
    const feats = clf.features(images);
    const kid = kernelInceptionDistance(ev.referenceFeatures, feats);
    const pr = precisionRecall(ev.referenceFeatures, feats, { equalSize: "subsample", seed: 2 });
    feats.dispose();
    expect(v.kid.kid).toBeCloseTo(kid.kid, 6);
    expect(v.precision).toBe(pr.precision);
    expect(v.recall).toBe(pr.recall);
    expect(() => ev.judge(images, [0])).toThrow(/20 images but 1 labels/);
    images.dispose();
    const big = fashionMnistBatch(data, all);
    expect(() => ev.evaluateValid(big, data.labels, { seed: 0 })).toThrow(/needs n ≤ numReference = 40, got 60/);
    big.dispose();
    ev.dispose();
  });
});
