import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { posteriorCoefs, qPosterior, qSample } from "../../lib/src/forward";

beforeAll(async () => {
  await initBackend();
});

const schedule = makeSchedule("linear", 1000);

/** q(x_tPrev | x_t, x_0) by Bayes' rule on the two Gaussians (independent of the code's form). */
function bayesPosterior(x0: number, xt: number, t: number, tPrev: number): { mean: number; variance: number } {
  const abPrev = tPrev < 0 ? 1 : schedule.alphaBars[tPrev];
  const a = schedule.alphaBars[t] / abPrev; // x_t | x_prev ~ N(sqrt(a) x_prev, 1 − a)
  const prec = 1 / (1 - abPrev) + a / (1 - a);
  const variance = 1 / prec;
  return { mean: variance * ((Math.sqrt(abPrev) * x0) / (1 - abPrev) + (Math.sqrt(a) * xt) / (1 - a)), variance };
}

describe("qSample", () => {
  test("known values for scalar and per-example t", () => {
    const before = tf.memory().numTensors;
    const x0 = tf.tensor2d([[1, -2], [3, 0.5]]);
    const eps = tf.tensor2d([[0.5, 1], [-1, 2]]);
    const ya = qSample(x0, 0, eps, schedule);
    const a = ya.dataSync();
    const s0 = Math.sqrt(1 - 1e-4);
    expect(a[0]).toBeCloseTo(s0 * 1 + 0.01 * 0.5, 6);
    expect(a[3]).toBeCloseTo(s0 * 0.5 + 0.01 * 2, 6);
    const yb = qSample(x0, [0, 999], eps, schedule);
    const b = yb.dataSync();
    const ab = schedule.alphaBars[999];
    expect(b[1]).toBeCloseTo(s0 * -2 + 0.01 * 1, 6);
    expect(b[2]).toBeCloseTo(Math.sqrt(ab) * 3 + Math.sqrt(1 - ab) * -1, 6);
    tf.dispose([x0, eps, ya, yb]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("x_t has mean sqrt(ᾱ)·x0 and variance 1 − ᾱ (Monte Carlo, 20k draws)", () => {
    const rng = new Rng(3);
    const n = 20000;
    const t = 300;
    const x0 = tf.fill([n, 1], 2);
    const eps = rng.randn([n, 1]);
    const xt = qSample(x0, t, eps, schedule);
    const v = xt.dataSync();
    let m = 0;
    for (let i = 0; i < n; i++) m += v[i];
    m /= n;
    let s2 = 0;
    for (let i = 0; i < n; i++) s2 += (v[i] - m) ** 2;
    s2 /= n - 1;
    const ab = schedule.alphaBars[t];
    expect(Math.abs(m - 2 * Math.sqrt(ab))).toBeLessThan(4 * Math.sqrt((1 - ab) / n));
    expect(Math.abs(s2 / (1 - ab) - 1)).toBeLessThan(0.04);
    tf.dispose([x0, eps, xt]);
  });

  test("works for rank-4 batches", () => {
    const x0 = tf.ones([2, 2, 2, 1]);
    const eps = tf.zeros([2, 2, 2, 1]);
    const y = qSample(x0, [10, 20], eps, schedule);
    expect(y.shape).toEqual([2, 2, 2, 1]);
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo(Math.sqrt(schedule.alphaBars[10]), 6);
    expect(v[7]).toBeCloseTo(Math.sqrt(schedule.alphaBars[20]), 6);
    tf.dispose([x0, eps, y]);
  });
});

describe("posteriorCoefs / qPosterior", () => {
  test("consecutive steps give Ho et al. Eq. 7", () => {
    const t = 400;
    const c = posteriorCoefs(t, t - 1, schedule);
    const b = schedule.betas[t];
    const ab = schedule.alphaBars[t];
    const abPrev = schedule.alphaBars[t - 1];
    expect(c.x0Coef).toBeCloseTo((Math.sqrt(abPrev) * b) / (1 - ab), 12);
    expect(c.xtCoef).toBeCloseTo((Math.sqrt(1 - b) * (1 - abPrev)) / (1 - ab), 12);
    expect(c.variance).toBeCloseTo(((1 - abPrev) / (1 - ab)) * b, 12);
  });

  test("respaced steps match Bayes' rule", () => {
    for (const [t, tPrev] of [[999, 888], [500, 100], [111, 0], [5, 2]]) {
      const c = posteriorCoefs(t, tPrev, schedule);
      const ref = bayesPosterior(0.7, -1.3, t, tPrev);
      expect(c.x0Coef * 0.7 + c.xtCoef * -1.3).toBeCloseTo(ref.mean, 9);
      expect(c.variance).toBeCloseTo(ref.variance, 12);
    }
  });

  test("qPosterior tensors: scalar t, per-example t, and tPrev = −1", () => {
    const before = tf.memory().numTensors;
    const x0 = tf.tensor2d([[0.7, 2], [-1, 0]]);
    const xt = tf.tensor2d([[-1.3, 0.1], [0.4, 3]]);
    const p = qPosterior(x0, xt, 500, 100, schedule);
    expect(p.variance.shape).toEqual([1, 1]);
    expect(p.mean.dataSync()[0]).toBeCloseTo(bayesPosterior(0.7, -1.3, 500, 100).mean, 5);
    expect(p.variance.dataSync()[0]).toBeCloseTo(bayesPosterior(0, 0, 500, 100).variance, 6);
    const q = qPosterior(x0, xt, [500, 20], [100, -1], schedule);
    expect(q.variance.shape).toEqual([2, 1]);
    const m = q.mean.dataSync();
    expect(m[1]).toBeCloseTo(bayesPosterior(2, 0.1, 500, 100).mean, 5);
    expect(m[2]).toBeCloseTo(-1, 6); // tPrev = −1: the mean is x0
    expect(m[3]).toBeCloseTo(0, 6);
    expect(q.variance.dataSync()[1]).toBe(0);
    tf.dispose([x0, xt, p.mean, p.variance, q.mean, q.variance]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("rejects tPrev ≥ t", () => {
    expect(() => posteriorCoefs(10, 10, schedule)).toThrow(/tPrev < t/);
  });
});
