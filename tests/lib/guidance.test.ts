import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { gmmScoreVP, ringMixture } from "../../lib/src/data/toy2d";
import { nearestModeStats } from "../../lib/src/metrics";
import { EpsModel, ddimStep, sample } from "../../lib/src/samplers";
import {
  CondEpsModel,
  cfgCombine,
  classifierFreeGuidance,
  classifierGradient,
  classifierGuidance,
  classifierScoreGuidance,
  guidedScore,
  labelLogProb,
} from "../../lib/src/guidance";

beforeAll(async () => {
  await initBackend();
});

/*
 * Analytic test bed: the 8-Gaussian ring noised to x_t = sqrt(ᾱ)x0 + σ ε. Component k of p_t is
 * N(aμ_k, v I) with a = sqrt(ᾱ), v = ᾱ std² + 1 − ᾱ. The exact noised classifier is the
 * responsibility p(y = k | x_t) = r_k(x_t), so ∇log p(y = k | x_t) = (aμ_k − Σ_j r_j aμ_j)/v,
 * and the class-conditional score is (aμ_k − x_t)/v.
 */
const schedule = makeSchedule("linear", 1000);
const gmm = ringMixture(); // 8 modes, radius 4, std 0.3
const K = gmm.means.length;
const NULL = K; // ∅
const coefs = (t: number) => {
  const ab = schedule.alphaBars[t];
  return { a: Math.sqrt(ab), v: ab * gmm.std ** 2 + 1 - ab, sigma: schedule.sigmas[t] };
};

/** Noised-mixture logits log π_k − ‖x − aμ_k‖²/(2v), built from tf ops: [B, K]. */
const ringLogits = (xt: tf.Tensor, t: number): tf.Tensor =>
  tf.tidy(() => {
    const { a, v } = coefs(t);
    const m = tf.mul(tf.tensor2d(gmm.means), a); // [K, 2]
    const d2 = tf.sum(tf.square(tf.sub(tf.expandDims(xt, 1), tf.expandDims(m, 0))), 2); // [B, K]
    return tf.sub(tf.log(tf.tensor1d(gmm.weights)), tf.div(d2, 2 * v)); // [B, K]
  });

/** Unconditional ε of the noised ring. */
const uncondModel: EpsModel = (xt, t) => tf.tidy(() => tf.mul(gmmScoreVP(xt as tf.Tensor2D, gmm, schedule.alphaBars[t]), -coefs(t).sigma));

/** Exact class-conditional ε: ε(x, t, k) = −σ (aμ_k − x)/v, and ε(x, t, ∅) = the unconditional ε. */
let condCalls: number[] = [];
const condModel: CondEpsModel = (xt, t, cond) =>
  tf.tidy(() => {
    condCalls.push(xt.shape[0]);
    const { a, v, sigma } = coefs(t);
    const oh = tf.oneHot(tf.cast(cond, "int32"), K + 1); // [B, K+1]
    const sel = tf.matMul(tf.slice(oh, [0, 0], [-1, K]), tf.mul(tf.tensor2d(gmm.means), a)); // [B, 2]
    const isNull = tf.slice(oh, [0, K], [-1, 1]); // [B, 1]
    const epsCond = tf.mul(tf.sub(sel, xt), -sigma / v); // [B, 2]
    return tf.add(tf.mul(isNull, uncondModel(xt, t)), tf.mul(tf.sub(1, isNull), epsCond)); // [B, 2]
  });

/** Float64 closed form of ∇ log p(y = k | x_t). */
function refGrad(x: number, y: number, k: number, t: number): [number, number] {
  const { a, v } = coefs(t);
  const logits = gmm.means.map((m) => -((x - a * m[0]) ** 2 + (y - a * m[1]) ** 2) / (2 * v));
  const mx = Math.max(...logits);
  const w = logits.map((l) => Math.exp(l - mx));
  const tot = w.reduce((p, q) => p + q, 0);
  let mx0 = 0;
  let my0 = 0;
  gmm.means.forEach((m, j) => {
    mx0 += (w[j] / tot) * a * m[0];
    my0 += (w[j] / tot) * a * m[1];
  });
  return [(a * gmm.means[k][0] - mx0) / v, (a * gmm.means[k][1] - my0) / v];
}

const points = (n: number, seed: number, scale = 3) => tf.mul(new Rng(seed).randn([n, 2]), scale) as tf.Tensor2D;
const closeTo = (a: tf.Tensor, b: tf.Tensor | number[][], tol: number) => {
  const x = a.arraySync() as number[][];
  const y = b instanceof tf.Tensor ? (b.arraySync() as number[][]) : b;
  x.forEach((row, i) => row.forEach((val, j) => expect(Math.abs(val - y[i][j])).toBeLessThan(tol * (1 + Math.abs(y[i][j])))));
};

describe("classifier guidance on the exact noised classifier of the ring", () => {
  test.each([200, 500, 800])("classifierGradient = ∇log N_k − ∇log p_t in closed form (t = %i), per-row labels", (t) => {
    const xt = points(16, t);
    const labels = Array.from({ length: 16 }, (_, i) => i % K);
    const before = tf.memory().numTensors;
    const g = classifierGradient(labelLogProb(ringLogits, labels), xt, t);
    expect(tf.memory().numTensors).toBe(before + 1);
    const xy = xt.arraySync();
    closeTo(g, xy.map(([x, y], i) => refGrad(x, y, labels[i], t)), 2e-3);
    tf.dispose([g, xt]);
  });

  test("s = 1 turns the unconditional score into the exact class-conditional score (score and ε form)", () => {
    const t = 400;
    const { a, v, sigma } = coefs(t);
    const k = 3;
    const xt = points(32, 1);
    const logProb = labelLogProb(ringLogits, k);
    const before = tf.memory().numTensors;
    const score = gmmScoreVP(xt, gmm, schedule.alphaBars[t]);
    const guided = classifierScoreGuidance({ logProb, guidanceScale: 1 })(score, xt, t);
    const eps = uncondModel(xt, t);
    const guidedEps = classifierGuidance({ logProb, guidanceScale: 1, schedule })(eps, xt, t);
    expect(tf.memory().numTensors).toBe(before + 4);
    const condScore = xt.arraySync().map(([x, y]) => [(a * gmm.means[k][0] - x) / v, (a * gmm.means[k][1] - y) / v]);
    closeTo(guided, condScore, 2e-3);
    closeTo(guidedEps, condScore.map((r) => r.map((c) => -sigma * c)), 2e-3);
    tf.dispose([score, guided, eps, guidedEps, xt]);
  });

  test("ε form is Dhariwal & Nichol's ε̂ − s·σ_t·∇log p(y|x_t); s = 0 changes nothing", () => {
    const t = 650;
    const s = 2.5;
    const xt = points(8, 2);
    const logProb = labelLogProb(ringLogits, 5);
    const eps = uncondModel(xt, t);
    const g = classifierGradient(logProb, xt, t);
    const expected = tf.sub(eps, tf.mul(g, s * coefs(t).sigma));
    const guidedEps = classifierGuidance({ logProb, guidanceScale: s, schedule })(eps, xt, t);
    closeTo(guidedEps, expected, 1e-5);
    const same = classifierGuidance({ logProb, guidanceScale: 0, schedule })(eps, xt, t);
    closeTo(same, eps, 1e-6);
    tf.tidy(() => expect(Array.from(guidedScore(tf.tensor2d([[1, 2]]), tf.tensor2d([[3, -1]]), 2).dataSync())).toEqual([7, 0]));
    tf.dispose([xt, eps, g, expected, guidedEps, same]);
  });

  test("bad inputs fail clearly", () => {
    const xt = points(4, 3);
    expect(() => classifierGradient(labelLogProb(ringLogits, [0, 1]), xt, 10)).toThrow(/2 labels for a batch of 4/);
    expect(() => classifierGradient((x) => tf.sum(x), xt, 10)).toThrow(/must return \[4\]/);
    expect(() => classifierGuidance({ logProb: labelLogProb(ringLogits, 0), guidanceScale: NaN, schedule })).toThrow(/finite/);
    xt.dispose();
  });
});

describe("classifier-free guidance algebra on the exact conditional ring model", () => {
  const t = 500;
  const k = 6;
  const run = (s: number, xt: tf.Tensor) => {
    condCalls = [];
    return classifierFreeGuidance({ model: condModel, cond: k, nullCond: NULL, guidanceScale: s })(xt, t);
  };

  test("s = 0 is unconditional, s = 1 conditional, and ε̃ is linear in s; one batched pass of 2B rows", () => {
    const xt = points(16, 4);
    const before = tf.memory().numTensors;
    const e0 = run(0, xt);
    expect(condCalls).toEqual([16]);
    const e1 = run(1, xt);
    expect(condCalls).toEqual([16]);
    const e3 = run(3, xt);
    expect(condCalls).toEqual([32]);
    const eNeg = run(-0.5, xt);
    expect(tf.memory().numTensors).toBe(before + 4);
    tf.tidy(() => {
      const u = uncondModel(xt, t);
      const c = condModel(xt, t, tf.fill([16], k, "int32"));
      closeTo(e0, u, 1e-6);
      closeTo(e1, c, 1e-6);
      closeTo(e3, tf.add(u, tf.mul(tf.sub(c, u), 3)), 1e-4);
      closeTo(eNeg, tf.add(u, tf.mul(tf.sub(c, u), -0.5)), 1e-4);
      // seed form: s·cond − (s − 1)·uncond
      closeTo(cfgCombine(c, u, 3), tf.sub(tf.mul(c, 3), tf.mul(u, 2)), 1e-4);
    });
    tf.dispose([xt, e0, e1, e3, eNeg]);
  });

  test("per-row classes and a tensor cond give the same rows as fixed classes", () => {
    const xt = points(8, 5);
    const ids = [0, 1, 2, 3, 4, 5, 6, 7];
    const perRow = classifierFreeGuidance({ model: condModel, cond: ids, nullCond: NULL, guidanceScale: 2 })(xt, t);
    const condT = tf.tensor1d(ids, "int32");
    const fromTensor = classifierFreeGuidance({ model: condModel, cond: condT, nullCond: NULL, guidanceScale: 2 })(xt, t);
    closeTo(perRow, fromTensor, 1e-6);
    const rows = perRow.arraySync() as number[][];
    ids.forEach((id, i) =>
      tf.tidy(() => closeTo(classifierFreeGuidance({ model: condModel, cond: id, nullCond: NULL, guidanceScale: 2 })(tf.slice(xt, [i, 0], [1, 2]), t), [rows[i]], 1e-5)),
    );
    expect(condT.isDisposed).toBe(false);
    expect(() => classifierFreeGuidance({ model: condModel, cond: [1, 2], nullCond: NULL, guidanceScale: 2 })(xt, t)).toThrow(/2 labels for a batch of 8/);
    tf.dispose([xt, perRow, condT, fromTensor]);
  });

  test("with exact models, CFG at scale s equals classifier guidance at scale s", () => {
    const xt = points(16, 6);
    const s = 4;
    const cfg = run(s, xt);
    const eps = uncondModel(xt, t);
    const cg = classifierGuidance({ logProb: labelLogProb(ringLogits, k), guidanceScale: s, schedule })(eps, xt, t);
    closeTo(cfg, cg, 5e-3);
    tf.dispose([xt, cfg, eps, cg]);
  });
});

describe("guided DDIM sampling from the analytic ring (256 samples, 50 steps)", () => {
  const k = 2;
  const B = 256;
  const centre = gmm.means[k];
  /** accuracy (nearest mode = k), spread = RMS distance to the samples' own mean, offset = ‖mean − μ_k‖ */
  const stats = (x: tf.Tensor2D) => {
    const data = x.arraySync();
    const mx = data.reduce((p, r) => p + r[0], 0) / B;
    const my = data.reduce((p, r) => p + r[1], 0) / B;
    const spread = Math.sqrt(data.reduce((p, r) => p + (r[0] - mx) ** 2 + (r[1] - my) ** 2, 0) / B);
    const accuracy = nearestModeStats(x, gmm.means, { labels: new Int32Array(B).fill(k) }).accuracy ?? NaN;
    return { accuracy, spread, offset: Math.hypot(mx - centre[0], my - centre[1]) };
  };
  const run = (model: EpsModel, modifier?: ReturnType<typeof classifierGuidance>) => {
    const before = tf.memory().numTensors;
    const x = sample({ model, schedule, step: ddimStep(), shape: [B, 2], numSteps: 50, rng: new Rng(7), modifier }) as tf.Tensor2D;
    expect(tf.memory().numTensors).toBe(before + 1); // no leak from guidance inside sample()
    const out = stats(x);
    x.dispose();
    return out;
  };
  const runCg = (s: number) => run(uncondModel, classifierGuidance({ logProb: labelLogProb(ringLogits, k), guidanceScale: s, schedule }));
  const runCfg = (s: number) => run(classifierFreeGuidance({ model: condModel, cond: k, nullCond: NULL, guidanceScale: s }));

  test("classifier guidance: accuracy rises to 1 by s = 1, then spread falls and the samples move away from the other modes", () => {
    const r = [0, 0.5, 1, 2, 4, 16].map(runCg);
    // measured (wasm): accuracy 0.15, 0.54, 1, 1, 1, 1; spread 3.96, 1.44, 0.385, 0.237, 0.172, 0.115;
    // offset 4.06, 0.68, 0.034, 0.30, 0.64, 1.69
    expect(r[0].accuracy).toBeLessThan(0.3); // ≈ 1/8: unconditional
    expect(r[0].spread).toBeGreaterThan(3);
    expect(r[1].accuracy).toBeGreaterThan(0.3);
    expect(r[1].accuracy).toBeLessThan(0.9);
    // s = 1 is the exact class-conditional N(μ_k, 0.3² I): spread 0.3·sqrt(2) ≈ 0.42 (50 DDIM steps give a little less)
    expect(r[2].accuracy).toBeGreaterThan(0.98);
    expect(r[2].spread).toBeGreaterThan(0.34);
    expect(r[2].spread).toBeLessThan(0.46);
    expect(r[2].offset).toBeLessThan(0.1);
    for (let i = 3; i < r.length; i++) {
      expect(r[i].accuracy).toBe(1);
      expect(r[i].spread).toBeLessThan(r[i - 1].spread); // less diversity
      expect(r[i].offset).toBeGreaterThan(r[i - 1].offset); // pushed beyond the data, away from the other classes
    }
  });

  test("classifier-free guidance gives the same picture, and the same samples as classifier guidance", () => {
    const [c1, c4] = [1, 4].map(runCfg);
    const g4 = runCg(4);
    expect(c1.accuracy).toBeGreaterThan(0.98);
    expect(c1.spread).toBeGreaterThan(0.34);
    expect(c4.accuracy).toBe(1);
    expect(c4.spread).toBeLessThan(c1.spread);
    expect(Math.abs(c4.spread - g4.spread)).toBeLessThan(0.01);
    expect(Math.abs(c4.offset - g4.offset)).toBeLessThan(0.01);
  });
});
