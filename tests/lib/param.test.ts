import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { qSample } from "../../lib/src/forward";
import {
  epsToScore,
  epsToV,
  epsToX0,
  scoreToEps,
  tweedieScoreVE,
  tweedieScoreVP,
  vpToVe,
  vToEps,
  x0ToEps,
} from "../../lib/src/param";

beforeAll(async () => {
  await initBackend();
});

const schedule = makeSchedule("cosine", 1000);

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = d.dataSync()[0];
  d.dispose();
  return v;
}

describe("VP conversions", () => {
  test("epsToX0 recovers x0 from qSample's x_t and the true eps; x0ToEps recovers eps", () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(1);
    const x0 = rng.randn([6, 3]);
    const eps = rng.randn([6, 3]);
    const t = [0, 10, 200, 500, 800, 990];
    const xt = qSample(x0, t, eps, schedule);
    const x0Back = epsToX0(xt, eps, t, schedule);
    const epsBack = x0ToEps(xt, x0, t, schedule);
    expect(maxAbsDiff(x0Back, x0)).toBeLessThan(2e-3); // ÷ sqrt(ᾱ_990) ≈ 0.03 amplifies float32 error
    expect(maxAbsDiff(epsBack, eps)).toBeLessThan(2e-3); // ÷ σ_0 ≈ 0.006 amplifies float32 error
    tf.dispose([x0, eps, xt, x0Back, epsBack]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("known values at one timestep", () => {
    const xt = tf.tensor2d([[1, 2]]);
    const e = tf.tensor2d([[0.5, -1]]);
    const t = 500;
    const ab = schedule.alphaBars[t];
    const sg = schedule.sigmas[t];
    const x0 = epsToX0(xt, e, t, schedule);
    const v0 = x0.dataSync();
    expect(v0[0]).toBeCloseTo((1 - sg * 0.5) / Math.sqrt(ab), 5);
    expect(v0[1]).toBeCloseTo((2 + sg) / Math.sqrt(ab), 5);
    const sc = epsToScore(e, t, schedule);
    expect(sc.dataSync()[1]).toBeCloseTo(1 / sg, 5);
    const v = epsToV(xt, e, t, schedule);
    expect(v.dataSync()[0]).toBeCloseTo(Math.sqrt(ab) * 0.5 - sg * v0[0], 5); // v = sqrt(ᾱ)ε − σ x0
    tf.dispose([xt, e, x0, sc, v]);
  });

  test("round trips eps → score → eps and eps → v → eps, per-example t", () => {
    const rng = new Rng(2);
    const xt = rng.randn([4, 2, 2, 1]);
    const e = rng.randn([4, 2, 2, 1]);
    const t = [1, 250, 600, 999];
    const score = epsToScore(e, t, schedule);
    const e2 = scoreToEps(score, t, schedule);
    const v = epsToV(xt, e, t, schedule);
    const e3 = vToEps(xt, v, t, schedule);
    expect(maxAbsDiff(e2, e)).toBeLessThan(1e-5);
    expect(maxAbsDiff(e3, e)).toBeLessThan(1e-3); // ÷ sqrt(ᾱ_999) then × it again
    tf.dispose([xt, e, score, e2, v, e3]);
  });
});

describe("Tweedie forms and the VP ↔ VE map", () => {
  test("tweedieScoreVP and tweedieScoreVE known values", () => {
    const x0 = tf.tensor2d([[1, -1]]);
    const z = tf.tensor2d([[0.5, 0.2]]);
    const before = tf.memory().numTensors;
    const a = tweedieScoreVP(x0, z, 0.64);
    const b = tweedieScoreVE(x0, z, 0.25);
    const sVP = a.dataSync();
    expect(sVP[0]).toBeCloseTo((0.8 * 1 - 0.5) / 0.36, 5);
    expect(sVP[1]).toBeCloseTo((0.8 * -1 - 0.2) / 0.36, 5);
    const sVE = b.dataSync();
    expect(sVE[0]).toBeCloseTo(2, 5);
    expect(sVE[1]).toBeCloseTo(-4.8, 5);
    expect(() => tweedieScoreVP(x0, z, 1)).toThrow(/alphaBar/);
    expect(() => tweedieScoreVE(x0, z, 0)).toThrow(/sigma2/);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, z]);
  });

  test("vpToVe: z = x_t/sqrt(ᾱ), sigma2 = 1/SNR, and the VP score is the VE score / sqrt(ᾱ)", () => {
    const before = tf.memory().numTensors;
    const ab = 0.3;
    const xt = tf.tensor2d([[0.9, -0.3], [2, 1]]);
    const x0Hat = tf.tensor2d([[1, 0], [1.5, 1.5]]);
    const { z, sigma2 } = vpToVe(xt, ab);
    expect(sigma2).toBeCloseTo(0.7 / 0.3, 12);
    expect(z.dataSync()[0]).toBeCloseTo(0.9 / Math.sqrt(0.3), 5);
    const sVP = tweedieScoreVP(x0Hat, xt, ab);
    const sVE = tweedieScoreVE(x0Hat, z, sigma2);
    const mapped = tf.div(sVE, Math.sqrt(ab));
    expect(maxAbsDiff(sVP, mapped)).toBeLessThan(1e-5);
    tf.dispose([xt, x0Hat, z, sVP, sVE, mapped]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
