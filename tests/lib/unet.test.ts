import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { DEFAULT_UNET_CONFIG, UNet, UNetConfig } from "../../lib/src/nets/unet";
import { epsModel } from "../../lib/src/nets/mlp";

beforeAll(async () => {
  await initBackend();
});

/** A tiny U-Net (8×8, two levels) for fast checks. */
const TINY: UNetConfig = { imageSize: 8, inChannels: 1, channels: [8, 16], groups: 4, numClasses: 3 };

function read(t: tf.Tensor): Float32Array {
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
}

function inputs(B: number, S: number, seed = 7): { xt: tf.Tensor4D; t: tf.Tensor1D } {
  const rng = new Rng(seed);
  return { xt: rng.randn([B, S, S, 1]) as tf.Tensor4D, t: tf.tensor1d(Array.from({ length: B }, () => rng.int(1000)), "int32") };
}

/** Overwrite the zero-initialised convs with random values so that the output depends on every layer. */
function randomizeZeroInit(net: UNet, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, v] of Object.entries(net.getWeights())) {
    if (/(conv2|^out)\.(w|b)$/.test(name)) (v as tf.Variable).assign(tf.tidy(() => tf.mul(rng.randn(v.shape), 0.1)));
  }
}

describe("UNet", () => {
  test("default net: shapes, parameter count, ε̂ = 0 at init (zero-initialised output conv)", () => {
    const net = new UNet(DEFAULT_UNET_CONFIG, new Rng(0));
    expect(net.numParams()).toBe(622113);
    expect(net.nullCond).toBe(10);
    const w = net.getWeights();
    expect(w.classTable.shape).toEqual([11, 128]);
    expect(w["up0.conv1.w"].shape).toEqual([3, 3, 96, 32]);
    expect(w["emb.proj.w"].shape).toEqual([128, 32 + 64 + 64 + 64 + 64 + 64 + 32]);
    const { xt, t } = inputs(3, 16);
    const y = net.apply(xt, t, tf.tensor1d([0, 5, 10], "int32"));
    expect(y.shape).toEqual([3, 16, 16, 1]);
    expect(read(y).every((v) => v === 0)).toBe(true);
    tf.dispose([xt, t]);
    net.dispose();
  });

  test("same seed → identical weights and outputs; another seed → different", () => {
    const { xt, t } = inputs(2, 8);
    const outs = [0, 0, 1].map((seed) => {
      const net = new UNet(TINY, new Rng(seed));
      randomizeZeroInit(net, 99);
      const v = read(net.apply(xt, t));
      net.dispose();
      return Array.from(v);
    });
    expect(outs[0]).toEqual(outs[1]);
    expect(outs[0]).not.toEqual(outs[2]);
    tf.dispose([xt, t]);
  });

  test("the null class ∅ = numClasses uses only the last table row, and is the default", () => {
    const net = new UNet(TINY, new Rng(3));
    randomizeZeroInit(net, 4);
    const { xt, t } = inputs(2, 8);
    const implicit = Array.from(read(net.apply(xt, t)));
    const nulls = tf.tensor1d([3, 3], "int32");
    expect(Array.from(read(net.apply(xt, t, nulls)))).toEqual(implicit);
    const table = net.getWeights().classTable as tf.Variable;
    const original = table.clone();
    const E = original.shape[1] as number;
    table.assign(tf.tidy(() => tf.concat([tf.zeros([3, E]), tf.slice(original, [3, 0], [1, E])])));
    expect(Array.from(read(net.apply(xt, t)))).toEqual(implicit); // real-class rows do not matter for ∅
    table.assign(tf.tidy(() => tf.concat([tf.slice(original, [0, 0], [3, E]), tf.ones([1, E])])));
    expect(Array.from(read(net.apply(xt, t)))).not.toEqual(implicit); // row ∅ does
    const c0 = read(net.apply(xt, t, tf.tensor1d([0, 0], "int32")));
    expect(Array.from(c0)).not.toEqual(implicit);
    tf.dispose([xt, t, nulls, original]);
    net.dispose();
  });

  test("weights round trip through getWeights/setWeights; bad names and shapes throw", () => {
    const a = new UNet(TINY, new Rng(1));
    randomizeZeroInit(a, 5);
    const b = new UNet(TINY, new Rng(2));
    const copies = tf.tidy(() => Object.fromEntries(Object.entries(a.getWeights()).map(([k, v]) => [k, v.clone()])));
    b.setWeights(copies);
    const { xt, t } = inputs(2, 8);
    const c = tf.tensor1d([1, 3], "int32");
    expect(Array.from(read(b.apply(xt, t, c)))).toEqual(Array.from(read(a.apply(xt, t, c))));
    expect(() => b.setWeights({ ...copies, extra: copies["out.b"] })).toThrow(/unexpected \[extra\]/);
    expect(() => b.setWeights({ ...copies, "out.b": copies["out.w"] })).toThrow(/out\.b has shape/);
    tf.dispose([xt, t, c, ...Object.values(copies)]);
    a.dispose();
    b.dispose();
  });

  test("the gradient of the loss agrees with finite differences along random directions", () => {
    const net = new UNet(TINY, new Rng(6));
    randomizeZeroInit(net, 7);
    const rng = new Rng(8);
    const { xt, t } = inputs(2, 8, 9);
    const c = tf.tensor1d([0, 2], "int32");
    const target = rng.randn([2, 8, 8, 1]);
    const loss = (x: tf.Tensor) => tf.mean(tf.square(tf.sub(net.apply(x as tf.Tensor4D, t, c), target))) as tf.Scalar;
    const lossAt = (x: tf.Tensor) => tf.tidy(() => loss(x).dataSync()[0]);
    // input direction (the path classifier-free guidance and training both rely on)
    const v = rng.randn(xt.shape) as tf.Tensor4D;
    const gx = tf.grad(loss)(xt);
    const dot = tf.tidy(() => tf.sum(tf.mul(gx, v)).dataSync()[0]);
    const h = 1e-2;
    const fd = (lossAt(tf.tidy(() => tf.add(xt, tf.mul(v, h)))) - lossAt(tf.tidy(() => tf.sub(xt, tf.mul(v, h))))) / (2 * h);
    expect(Math.abs(dot - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    // parameter direction: every variable at once
    const { grads } = tf.variableGrads(() => loss(xt), net.variables);
    const dirs = net.variables.map((w) => rng.randn(w.shape));
    const dotP = tf.tidy(() => net.variables.reduce((s: number, w, i) => s + tf.sum(tf.mul(grads[w.name], dirs[i])).dataSync()[0], 0));
    const shift = (sign: number) => net.variables.forEach((w, i) => w.assign(tf.tidy(() => tf.add(w, tf.mul(dirs[i], sign * 1e-3)))));
    shift(1);
    const up = lossAt(xt);
    shift(-2);
    const down = lossAt(xt);
    shift(1);
    const fdP = (up - down) / 2e-3;
    expect(Math.abs(dotP - fdP)).toBeLessThan(2e-2 + 2e-2 * Math.abs(fdP));
    tf.dispose([xt, t, c, target, v, gx, ...Object.values(grads), ...dirs]);
    net.dispose();
  });

  test("tiny overfit: the ε-loss on 8 fixed images drops by half in 20 Adam steps, leaking nothing", () => {
    const net = new UNet(DEFAULT_UNET_CONFIG, new Rng(10));
    const rng = new Rng(11);
    const x0 = tf.tidy(() => tf.tanh(rng.randn([8, 16, 16, 1]))) as tf.Tensor4D;
    const eps = rng.randn([8, 16, 16, 1]);
    const t = tf.tensor1d([50, 150, 250, 350, 450, 550, 650, 750], "int32");
    const c = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 10], "int32");
    const xt = tf.tidy(() => tf.add(tf.mul(x0, 0.6), tf.mul(eps, 0.8))) as tf.Tensor4D;
    const opt = tf.train.adam(2e-3);
    const step = () => {
      const l = opt.minimize(() => tf.mean(tf.square(tf.sub(net.apply(xt, t, c), eps))) as tf.Scalar, true, net.variables)!;
      const v = l.dataSync()[0];
      l.dispose();
      return v;
    };
    const first = step();
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 1; i < 20; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(first).toBeGreaterThan(0.8); // ε̂ = 0 at init: the loss starts at E[ε²] ≈ 1
    expect(last).toBeLessThan(0.5 * first);
    const fwdBefore = tf.memory().numTensors;
    tf.dispose(net.apply(xt, 100));
    expect(tf.memory().numTensors).toBe(fwdBefore);
    opt.dispose();
    tf.dispose([x0, eps, t, c, xt]);
    net.dispose();
  });

  test("epsModel adapts the U-Net to the samplers, with a fixed class, leaking nothing", () => {
    const net = new UNet(TINY, new Rng(12));
    randomizeZeroInit(net, 13);
    const { xt } = inputs(3, 8);
    const before = tf.memory().numTensors;
    const viaAdapter = read(epsModel(net, 2)(xt, 250));
    const unconditional = read(epsModel(net)(xt, 250));
    expect(tf.memory().numTensors).toBe(before);
    const direct = read(net.apply(xt, tf.tensor1d([250, 250, 250]), tf.tensor1d([2, 2, 2], "int32")));
    expect(Array.from(viaAdapter)).toEqual(Array.from(direct));
    expect(Array.from(unconditional)).toEqual(Array.from(read(net.apply(xt, 250))));
    xt.dispose();
    net.dispose();
  });

  test("bad configs and inputs throw", () => {
    expect(() => new UNet({ ...TINY, channels: [8, 10] }, new Rng(0))).toThrow(/multiples of groups/);
    expect(() => new UNet({ ...TINY, imageSize: 6, channels: [8, 16, 16] }, new Rng(0))).toThrow(/divisible/);
    const net = new UNet({ ...TINY, numClasses: undefined }, new Rng(0));
    tf.tidy(() => {
      expect(() => net.apply(tf.zeros([2, 8, 8, 2]) as tf.Tensor4D, 1)).toThrow(/xt must be \[B, 8, 8, 1\]/);
      expect(() => net.apply(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D, tf.zeros([3]) as tf.Tensor1D)).toThrow(/t must be \[2\]/);
      expect(() => net.apply(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D, 1, tf.zeros([2], "int32") as tf.Tensor1D)).toThrow(/no numClasses/);
    });
    net.dispose();
  });
});
