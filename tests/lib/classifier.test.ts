import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { ClassifierConfig, ConvClassifier, DEFAULT_CLEAN_CLASSIFIER_CONFIG, DEFAULT_NOISY_CLASSIFIER_CONFIG } from "../../lib/src/nets/classifier";

beforeAll(async () => {
  await initBackend();
});

const TINY_NOISY: ClassifierConfig = { imageSize: 8, inChannels: 1, channels: [8, 16], groups: 4, numClasses: 4, featureDim: 12, timeDim: 8 };
const TINY_CLEAN: ClassifierConfig = { ...TINY_NOISY, timeDim: undefined };

function read(t: tf.Tensor): Float32Array {
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
}

/** Make the zero-initialised convs random so that every layer shapes the output. */
function randomizeZeroInit(net: ConvClassifier, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, v] of Object.entries(net.getWeights())) {
    if (/conv2\.(w|b)$/.test(name)) (v as tf.Variable).assign(tf.tidy(() => tf.mul(rng.randn(v.shape), 0.2)));
  }
}

describe("ConvClassifier", () => {
  test("default configs: shapes of logits and features; noisy takes t, clean does not", () => {
    const noisy = new ConvClassifier(DEFAULT_NOISY_CLASSIFIER_CONFIG, new Rng(0));
    const clean = new ConvClassifier(DEFAULT_CLEAN_CLASSIFIER_CONFIG, new Rng(0));
    expect(noisy.timeConditional).toBe(true);
    expect(clean.timeConditional).toBe(false);
    const x = new Rng(1).randn([3, 16, 16, 1]) as tf.Tensor4D;
    const logits = noisy.apply(x, tf.tensor1d([0, 500, 999], "int32"));
    expect(logits.shape).toEqual([3, 10]);
    const f = clean.features(x);
    expect(f.shape).toEqual([3, 128]);
    expect(clean.apply(x).shape).toEqual([3, 10]);
    expect(() => noisy.apply(x)).toThrow(/noise-conditional; pass t/);
    expect(() => clean.apply(x, 3)).toThrow(/not noise-conditional/);
    expect(() => noisy.apply(x, tf.zeros([2]) as tf.Tensor1D)).toThrow(/t must be \[3\]/);
    expect(() => clean.apply(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D)).toThrow(/\[B, 16, 16, 1\]/);
    expect(noisy.numParams() - clean.numParams()).toBe(
      // the time MLP (32 → 64 → 64) and the block-bias projection (64 → Σ channels)
      32 * 64 + 64 + 64 * 64 + 64 + 64 * (16 + 32 + 64) + (16 + 32 + 64),
    );
    tf.dispose([x, logits, f]);
    noisy.dispose();
    clean.dispose();
  });

  test("features are the input of the last dense layer: logits = features·W + b", () => {
    const net = new ConvClassifier(TINY_CLEAN, new Rng(2));
    randomizeZeroInit(net, 3);
    tf.tidy(() => {
      const x = new Rng(4).randn([5, 8, 8, 1]) as tf.Tensor4D;
      const w = net.getWeights();
      const viaFeatures = tf.add(tf.matMul(net.features(x), w["logits.w"] as tf.Tensor2D), w["logits.b"]);
      const got = net.apply(x).dataSync();
      const want = viaFeatures.dataSync();
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
      expect(Array.from(net.features(x).dataSync()).every((v) => v >= -0.2785)).toBe(true); // SiLU ≥ −0.2785
    });
    net.dispose();
  });

  test("the noise-conditional classifier depends on t; the output per row does not depend on other rows", () => {
    const net = new ConvClassifier(TINY_NOISY, new Rng(5));
    randomizeZeroInit(net, 6);
    const x = new Rng(7).randn([2, 8, 8, 1]) as tf.Tensor4D;
    const a = read(net.apply(x, 10));
    const b = read(net.apply(x, 900));
    expect(Array.from(a)).not.toEqual(Array.from(b));
    const first = read(net.apply(tf.slice(x, [0, 0, 0, 0], [1, 8, 8, 1]) as tf.Tensor4D, 10));
    for (let i = 0; i < 4; i++) expect(Math.abs(first[i] - a[i])).toBeLessThan(1e-5);
    x.dispose();
    net.dispose();
  });

  test("∇_x log p(y | x_t, t) matches central finite differences (the classifier-guidance gradient)", () => {
    const net = new ConvClassifier(TINY_NOISY, new Rng(8));
    randomizeZeroInit(net, 9);
    const rng = new Rng(10);
    const x = rng.randn([2, 8, 8, 1]) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([1, 3], "int32"), 4);
    const t = tf.tensor1d([100, 700], "int32");
    const logp = (z: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(net.apply(z as tf.Tensor4D, t)), y)) as tf.Scalar;
    const g = read(tf.grad(logp)(x));
    const xs = x.dataSync().slice() as Float32Array;
    const at = (arr: Float32Array) => tf.tidy(() => logp(tf.tensor4d(arr, [2, 8, 8, 1])).dataSync()[0]);
    const h = 1e-2;
    for (const i of [0, 9, 27, 63, 64, 100, 127]) {
      const keep = xs[i];
      xs[i] = keep + h;
      const up = at(xs);
      xs[i] = keep - h;
      const down = at(xs);
      xs[i] = keep;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(g[i] - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    }
    expect(g.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    tf.dispose([x, y, t]);
    net.dispose();
  });

  test("weights round trip; different seeds give different nets", () => {
    const a = new ConvClassifier(TINY_NOISY, new Rng(11));
    const b = new ConvClassifier(TINY_NOISY, new Rng(12));
    const x = new Rng(13).randn([2, 8, 8, 1]) as tf.Tensor4D;
    expect(Array.from(read(a.apply(x, 5)))).not.toEqual(Array.from(read(b.apply(x, 5))));
    const copies = tf.tidy(() => Object.fromEntries(Object.entries(a.getWeights()).map(([k, v]) => [k, v.clone()])));
    b.setWeights(copies);
    expect(Array.from(read(b.apply(x, 5)))).toEqual(Array.from(read(a.apply(x, 5))));
    expect(() => b.setWeights({ ...copies, "logits.b": copies["features.b"] })).toThrow(/logits\.b has shape/);
    tf.dispose([x, ...Object.values(copies)]);
    a.dispose();
    b.dispose();
  });

  test("tiny overfit: 16 labelled images learned in 25 Adam steps, leaking nothing", () => {
    const cfg: ClassifierConfig = { ...DEFAULT_CLEAN_CLASSIFIER_CONFIG, channels: [16, 32, 32] };
    const net = new ConvClassifier(cfg, new Rng(14));
    const rng = new Rng(15);
    const x = rng.randn([16, 16, 16, 1]) as tf.Tensor4D;
    const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), "int32");
    const y = tf.oneHot(labels, 10);
    const opt = tf.train.adam(3e-3);
    const step = () => {
      const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, net.apply(x)) as tf.Scalar, true, net.variables)!;
      const v = l.dataSync()[0];
      l.dispose();
      return v;
    };
    const first = step();
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 1; i < 25; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(first).toBeGreaterThan(1.8); // ≈ ln 10 at init
    expect(last).toBeLessThan(0.3);
    const pred = tf.tidy(() => tf.argMax(net.apply(x), 1));
    expect(Array.from(read(pred))).toEqual(Array.from(labels.dataSync()));
    const fwdBefore = tf.memory().numTensors;
    tf.dispose([net.apply(x), net.features(x)]);
    expect(tf.memory().numTensors).toBe(fwdBefore);
    opt.dispose();
    tf.dispose([x, labels, y]);
    net.dispose();
  });
});
