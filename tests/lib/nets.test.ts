import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { timestepEmbedding, timestepFrequencies } from "../../lib/src/nets/timeEmbedding";
import { DEFAULT_MLP_CONFIG, MlpConfig, MlpDenoiser, epsModel } from "../../lib/src/nets/mlp";

beforeAll(async () => {
  await initBackend();
});

function read(t: tf.Tensor): Float32Array {
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
}

function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol);
}

describe("timestepEmbedding", () => {
  test("frequencies are maxPeriod^(-i/half)", () => {
    expectAllClose(timestepFrequencies(8), [1, 0.1, 0.01, 0.001], 1e-12);
  });

  test("known values: t = 0 is [1…1, 0…0]; t = 10, d = 4 is [cos 10, cos 0.1, sin 10, sin 0.1]", () => {
    const e = read(timestepEmbedding(tf.tensor1d([0, 10], "int32"), 4));
    expectAllClose(e, [1, 1, 0, 0, Math.cos(10), Math.cos(0.1), Math.sin(10), Math.sin(0.1)]);
  });

  test("odd dim pads a zero column; shape [B, dim]", () => {
    const e = timestepEmbedding(tf.tensor1d([3, 7, 500]), 5);
    expect(e.shape).toEqual([3, 5]);
    const v = read(e);
    expect([v[4], v[9], v[14]]).toEqual([0, 0, 0]);
    expectAllClose([v[5], v[7]], [Math.cos(7), Math.sin(7)]);
  });

  test("bad arguments throw", () => {
    expect(() => timestepEmbedding(tf.tensor1d([1]), 1)).toThrow(/dim/);
  });
});

const SMALL: MlpConfig = { dataDim: 2, hidden: 16, depth: 2, timeDim: 8 };
const COND: MlpConfig = { ...SMALL, numClasses: 3, classDim: 4 };

function inputs(B: number, seed = 7): { xt: tf.Tensor2D; t: tf.Tensor1D } {
  const rng = new Rng(seed);
  const t = new Int32Array(B).map(() => rng.int(1000));
  return { xt: rng.randn([B, 2]) as tf.Tensor2D, t: tf.tensor1d(t, "int32") };
}

describe("MlpDenoiser", () => {
  test("shapes, parameter count and init bounds", () => {
    const net = new MlpDenoiser(DEFAULT_MLP_CONFIG, new Rng(0));
    // (66·256 + 256) + 2·(256·256 + 256) + (256·2 + 2)
    expect(net.numParams()).toBe(149250);
    expect(net.variables.length).toBe(8);
    const w = net.getWeights();
    expect(w["layer0.w"].shape).toEqual([66, 256]);
    const maxAbs = tf.tidy(() => tf.max(tf.abs(w["layer1.w"])).dataSync()[0]);
    expect(maxAbs).toBeLessThanOrEqual(1 / 16);
    expect(maxAbs).toBeGreaterThan(0.9 / 16);
    const { xt, t } = inputs(5);
    const y = net.apply(xt, t);
    expect(y.shape).toEqual([5, 2]);
    tf.dispose([xt, t, y]);
    net.dispose();
  });

  test("creating and disposing a net leaves no tensor behind", () => {
    const before = tf.memory().numTensors;
    const net = new MlpDenoiser(COND, new Rng(0));
    expect(tf.memory().numTensors).toBe(before + net.variables.length);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test("same seed → identical output; other seed → different output", () => {
    const { xt, t } = inputs(4);
    const outs = [0, 0, 1].map((seed) => {
      const net = new MlpDenoiser(SMALL, new Rng(seed));
      const v = read(net.apply(xt, t));
      net.dispose();
      return v;
    });
    expect(Array.from(outs[0])).toEqual(Array.from(outs[1]));
    expect(Array.from(outs[0])).not.toEqual(Array.from(outs[2]));
    tf.dispose([xt, t]);
  });

  test("weights round trip through getWeights/setWeights", () => {
    const a = new MlpDenoiser(COND, new Rng(1));
    const b = new MlpDenoiser(COND, new Rng(2));
    const copies = tf.tidy(() => Object.fromEntries(Object.entries(a.getWeights()).map(([k, v]) => [k, v.clone()])));
    b.setWeights(copies);
    const { xt, t } = inputs(6);
    const c = tf.tensor1d([0, 1, 2, 3, 0, 1], "int32");
    expect(Array.from(read(b.apply(xt, t, c)))).toEqual(Array.from(read(a.apply(xt, t, c))));
    expect(() => b.setWeights({ ...copies, extra: copies["out.b"] })).toThrow(/unexpected \[extra\]/);
    expect(() => b.setWeights({ ...copies, "out.b": copies["out.w"] })).toThrow(/out\.b has shape/);
    tf.dispose([xt, t, c, ...Object.values(copies)]);
    a.dispose();
    b.dispose();
  });

  test("the null class ∅ = numClasses uses the last table row, and is the default", () => {
    const net = new MlpDenoiser(COND, new Rng(3));
    expect(net.nullCond).toBe(3);
    const { xt, t } = inputs(4);
    const nulls = tf.fill([4], 3, "int32") as tf.Tensor1D;
    const implicit = read(net.apply(xt, t));
    expect(Array.from(read(net.apply(xt, t, nulls)))).toEqual(Array.from(implicit));
    const table = net.getWeights().classTable;
    const original = table.clone();
    // Changing the rows of real classes leaves ∅ outputs alone; changing row ∅ changes them.
    (table as tf.Variable).assign(tf.tidy(() => tf.concat([tf.zeros([3, 4]), tf.slice(original, [3, 0], [1, 4])])));
    expect(Array.from(read(net.apply(xt, t)))).toEqual(Array.from(implicit));
    (table as tf.Variable).assign(tf.tidy(() => tf.concat([tf.slice(original, [0, 0], [3, 4]), tf.ones([1, 4])])));
    expect(Array.from(read(net.apply(xt, t)))).not.toEqual(Array.from(implicit));
    tf.dispose([xt, t, nulls, original]);
    net.dispose();
  });

  test("class table gradient is zero on rows not in the batch", () => {
    const net = new MlpDenoiser(COND, new Rng(4));
    const { xt, t } = inputs(4);
    const c = tf.tensor1d([0, 0, 2, 2], "int32");
    const { grads, value } = tf.variableGrads(() => tf.sum(net.apply(xt, t, c)) as tf.Scalar, net.variables);
    const g = read(grads[net.variables[net.variables.length - 1].name]); // classTable: [4, 4]
    expect(g.slice(4, 8).every((v) => v === 0)).toBe(true); // row 1
    expect(g.slice(12, 16).every((v) => v === 0)).toBe(true); // row ∅
    expect(g.slice(0, 4).some((v) => v !== 0)).toBe(true);
    tf.dispose([xt, t, c, value, ...Object.values(grads)]);
    net.dispose();
  });

  test("epsModel fills t (and cond) for the batch and leaks nothing", () => {
    const net = new MlpDenoiser(COND, new Rng(5));
    const xt = new Rng(6).randn([3, 2]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const viaAdapter = read(epsModel(net, 1)(xt, 250));
    const perRow = read(epsModel(net, new Int32Array([1, 1, 1]))(xt, 250));
    expect(tf.memory().numTensors).toBe(before);
    const direct = read(net.apply(xt, tf.tensor1d([250, 250, 250]), tf.tensor1d([1, 1, 1], "int32")));
    expect(Array.from(viaAdapter)).toEqual(Array.from(direct));
    expect(Array.from(perRow)).toEqual(Array.from(direct));
    expect(() => epsModel(net, new Int32Array([1]))(xt, 1)).toThrow(/cond has 1 ids/);
    xt.dispose();
    net.dispose();
  });

  test("bad inputs throw", () => {
    const net = new MlpDenoiser(SMALL, new Rng(0));
    tf.tidy(() => {
      expect(() => net.apply(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2]) as tf.Tensor1D)).toThrow(/xt must be/);
      expect(() => net.apply(tf.zeros([2, 2]) as tf.Tensor2D, tf.zeros([2]) as tf.Tensor1D, tf.zeros([2], "int32") as tf.Tensor1D)).toThrow(/no numClasses/);
    });
    expect(() => new MlpDenoiser({ ...SMALL, depth: 0 }, new Rng(0))).toThrow(/depth/);
    net.dispose();
  });
});
