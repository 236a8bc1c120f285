import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { qSample } from "../../lib/src/forward";
import { epsToX0 } from "../../lib/src/param";
import { dsmLoss, snrWeights } from "../../lib/src/losses";

beforeAll(async () => {
  await initBackend();
});

const schedule = makeSchedule("linear", 1000);

function scalar(x: tf.Tensor): number {
  const v = x.dataSync()[0];
  x.dispose();
  return v;
}

describe("dsmLoss", () => {
  test("known values, with and without weights", () => {
    const before = tf.memory().numTensors;
    const epsHat = tf.tensor2d([[1, 2], [3, 4]]);
    const eps = tf.tensor2d([[0, 0], [1, 1]]);
    // per example: (1 + 4)/2 = 2.5 and (4 + 9)/2 = 6.5
    expect(scalar(dsmLoss(epsHat, eps))).toBeCloseTo(4.5, 6);
    const w = tf.tensor1d([1, 0]);
    expect(scalar(dsmLoss(epsHat, eps, w))).toBeCloseTo(1.25, 6); // (1·2.5 + 0·6.5)/2
    const w2 = tf.tensor1d([2, 0.5]);
    expect(scalar(dsmLoss(epsHat, eps, w2))).toBeCloseTo((2 * 2.5 + 0.5 * 6.5) / 2, 6);
    tf.dispose([epsHat, eps, w, w2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("averages over all non-batch dims of an image batch", () => {
    const epsHat = tf.ones([2, 2, 2, 1]);
    const eps = tf.tensor4d([0, 0, 0, 0, 1, 1, 1, -1], [2, 2, 2, 1]);
    // example 0: mean of 1s = 1; example 1: (0 + 0 + 0 + 4)/4 = 1
    const w = tf.tensor1d([1, 3]);
    expect(scalar(dsmLoss(epsHat, eps, w))).toBeCloseTo((1 + 3) / 2, 6);
    tf.dispose([epsHat, eps, w]);
  });

  test("gradient is 2·w_i·(ε̂ − ε)/(B·D)", () => {
    const epsHat = tf.tensor2d([[1, 2], [3, 4]]);
    const eps = tf.tensor2d([[0, 0], [1, 1]]);
    const w = tf.tensor1d([1, 3]);
    const g = tf.grad((e: tf.Tensor) => dsmLoss(e, eps, w))(epsHat);
    const v = g.dataSync();
    expect(v[0]).toBeCloseTo((2 * 1 * 1) / 4, 6);
    expect(v[3]).toBeCloseTo((2 * 3 * 3) / 4, 6);
    tf.dispose([epsHat, eps, w, g]);
  });

  test("rejects mismatched shapes and weights", () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([2, 2]);
    const w = tf.ones([3]) as tf.Tensor1D;
    expect(() => dsmLoss(a, b)).toThrow(/shape/);
    expect(() => dsmLoss(a, a, w)).toThrow(/weights/);
    tf.dispose([a, b, w]);
  });
});

describe("snrWeights", () => {
  const t = [0, 300, 600, 999];
  const snr = t.map((ti) => schedule.alphaBars[ti] / (1 - schedule.alphaBars[ti]));

  function values(kind: "eps" | "x0" | "minSnr", gamma?: number): Float32Array {
    const w = snrWeights(t, schedule, kind, gamma);
    expect(w.shape).toEqual([4]);
    const v = w.dataSync() as Float32Array;
    w.dispose();
    return v;
  }

  test("eps: all ones", () => {
    expect(Array.from(values("eps"))).toEqual([1, 1, 1, 1]);
  });

  test("x0: 1/SNR", () => {
    const v = values("x0");
    expect(v[0]).toBeCloseTo(1e-4 / (1 - 1e-4), 8);
    for (let i = 0; i < 4; i++) expect(v[i] / (1 / snr[i])).toBeCloseTo(1, 5);
    expect(v[3]).toBeGreaterThan(2e4);
  });

  test("minSnr: min(SNR, γ)/SNR", () => {
    const v = values("minSnr");
    expect(v[0]).toBeCloseTo(5 / 9999, 7);
    expect(snr[3]).toBeLessThan(5);
    expect(v[3]).toBeCloseTo(1, 6);
    const v1 = values("minSnr", 1);
    for (let i = 0; i < 4; i++) expect(v1[i]).toBeCloseTo(Math.min(snr[i], 1) / snr[i], 6);
  });

  test("x0 weights turn the ε-MSE into the x0-MSE of the implied prediction", () => {
    const rng = new Rng(4);
    const ts = [100, 300, 500, 700];
    const x0 = rng.randn([4, 3]);
    const eps = rng.randn([4, 3]);
    const epsHat = tf.tidy(() => tf.add(eps, tf.mul(rng.randn([4, 3]), 0.3)));
    const xt = qSample(x0, ts, eps, schedule);
    const x0Hat = epsToX0(xt, epsHat, ts, schedule);
    const w = snrWeights(ts, schedule, "x0");
    const lhs = scalar(dsmLoss(epsHat, eps, w));
    const rhs = scalar(tf.tidy(() => tf.mean(tf.square(tf.sub(x0Hat, x0)))));
    expect(lhs / rhs).toBeCloseTo(1, 3);
    tf.dispose([x0, eps, epsHat, xt, x0Hat, w]);
  });

  test("rejects bad timesteps and gamma", () => {
    expect(() => snrWeights([1000], schedule, "eps")).toThrow(/timestep/);
    expect(() => snrWeights([1], schedule, "minSnr", 0)).toThrow(/gamma/);
  });
});
