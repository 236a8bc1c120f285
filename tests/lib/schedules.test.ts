import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { alphaBarAt, coef, cosineBetas, linearBetas, makeSchedule, timesteps } from "../../lib/src/schedules";

beforeAll(async () => {
  await initBackend();
});

describe("linearBetas", () => {
  test("T = 1000 runs from 1e-4 to 0.02 in equal increments", () => {
    const b = linearBetas(1000);
    expect(b.length).toBe(1000);
    expect(b[0]).toBeCloseTo(1e-4, 12);
    expect(b[999]).toBeCloseTo(0.02, 12);
    expect(b[500] - b[499]).toBeCloseTo((0.02 - 1e-4) / 999, 12);
  });

  test("is rescaled by 1000/T (improved DDPM) and clipped at maxBeta", () => {
    const b = linearBetas(100);
    expect(b[0]).toBeCloseTo(1e-3, 12);
    expect(b[99]).toBeCloseTo(0.2, 12);
    const short = linearBetas(10);
    expect(short[0]).toBeCloseTo(0.01, 12);
    expect(short[9]).toBe(0.999);
  });
});

describe("cosineBetas / makeSchedule('cosine')", () => {
  test("β_0 matches the closed form and ᾱ_0 ≈ 1, ᾱ_{T−1} tiny", () => {
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const b = cosineBetas(1000);
    expect(b[0]).toBeCloseTo(1 - f(0.001) / f(0), 14);
    expect(b[999]).toBe(0.999); // 1 − f(1)/… = 1, clipped
    const s = makeSchedule("cosine", 1000);
    expect(s.alphaBars[0]).toBeCloseTo(0.999958715775178, 12);
    expect(s.alphaBars[999]).toBeLessThan(1e-8);
    // ᾱ_t tracks f(t+1/T)/f(0) until the clip bites
    expect(s.alphaBars[499]).toBeCloseTo(f(0.5) / f(0), 10);
  });
});

describe("makeSchedule", () => {
  test("linear T = 1000: ᾱ_{T−1} matches the DDPM value, σ² + ᾱ = 1, λ = ln(ᾱ/(1−ᾱ))", () => {
    const s = makeSchedule("linear", 1000);
    expect(s.kind).toBe("linear");
    expect(s.T).toBe(1000);
    let prod = 1;
    for (let t = 0; t < 1000; t++) prod *= 1 - s.betas[t];
    expect(s.alphaBars[999]).toBeCloseTo(prod, 15);
    expect(s.alphaBars[999]).toBeCloseTo(4.0358e-5, 8);
    for (const t of [0, 1, 10, 500, 999]) {
      expect(s.alphas[t]).toBeCloseTo(1 - s.betas[t], 15);
      expect(s.sigmas[t] ** 2 + s.alphaBars[t]).toBeCloseTo(1, 14);
      expect(s.logSnr[t]).toBeCloseTo(Math.log(s.alphaBars[t] / (1 - s.alphaBars[t])), 8);
    }
    expect(s.sigmas[0]).toBeCloseTo(0.01, 12); // 1 − ᾱ_0 = β_0 exactly
    expect(s.logSnr[0]).toBeCloseTo(Math.log((1 - 1e-4) / 1e-4), 10);
  });

  test("ᾱ and logSnr decrease strictly for both kinds and several T", () => {
    for (const kind of ["linear", "cosine"] as const) {
      for (const T of [10, 50, 1000]) {
        const s = makeSchedule(kind, T);
        for (let t = 1; t < T; t++) {
          expect(s.alphaBars[t]).toBeLessThan(s.alphaBars[t - 1]);
          expect(s.logSnr[t]).toBeLessThan(s.logSnr[t - 1]);
        }
      }
    }
  });

  test("options reach the β functions; bad T throws", () => {
    const s = makeSchedule("linear", 1000, { betaStart: 1e-3, betaEnd: 0.01 });
    expect(s.betas[0]).toBeCloseTo(1e-3, 12);
    expect(s.betas[999]).toBeCloseTo(0.01, 12);
    expect(makeSchedule("cosine", 100, { maxBeta: 0.5 }).betas[99]).toBe(0.5);
    expect(() => makeSchedule("linear", 0)).toThrow(/T must be/);
    expect(() => makeSchedule("linear", 2.5)).toThrow(/T must be/);
  });
});

describe("alphaBarAt", () => {
  test("t = −1 means clean data", () => {
    const s = makeSchedule("linear", 100);
    expect(alphaBarAt(s, -1)).toBe(1);
    expect(alphaBarAt(s, 7)).toBe(s.alphaBars[7]);
    expect(() => alphaBarAt(s, 100)).toThrow(/timestep/);
  });
});

describe("coef", () => {
  const s = makeSchedule("linear", 1000);

  test("scalar t gives [1, …, 1] with rank dims", () => {
    const before = tf.memory().numTensors;
    const c = coef(s.sigmas, 999, 4);
    expect(c.shape).toEqual([1, 1, 1, 1]);
    expect(c.dataSync()[0]).toBeCloseTo(s.sigmas[999], 6);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test("an array of t gives [B, 1] and gathers per example", () => {
    const c = coef(s.alphaBars, [0, 500, 999]);
    expect(c.shape).toEqual([3, 1]);
    const v = c.dataSync();
    expect(v[0]).toBeCloseTo(s.alphaBars[0], 6);
    expect(v[1]).toBeCloseTo(s.alphaBars[500], 6);
    expect(v[2]).toBeCloseTo(4.0358e-5, 9);
    c.dispose();
    const c3 = coef(s.betas, new Int32Array([1, 2]), 3);
    expect(c3.shape).toEqual([2, 1, 1]);
    c3.dispose();
  });

  test("broadcasts against a batch", () => {
    const x = tf.ones([2, 3, 3, 1]);
    const c = coef(s.betas, [0, 999], 4);
    const y = tf.mul(c, x);
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo(1e-4, 8);
    expect(v[17]).toBeCloseTo(0.02, 7);
    tf.dispose([x, c, y]);
  });

  test("rejects bad timesteps", () => {
    expect(() => coef(s.betas, 1000)).toThrow(/timestep/);
    expect(() => coef(s.betas, [-1])).toThrow(/timestep/);
    expect(() => coef(s.betas, 1.5)).toThrow(/timestep/);
  });
});

describe("timesteps", () => {
  test("known spacings", () => {
    expect(timesteps(1000, 4)).toEqual([999, 666, 333, 0]);
    expect(timesteps(1000, 10)).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    expect(timesteps(10, 3)).toEqual([9, 5, 0]);
    expect(timesteps(50, 1)).toEqual([49]);
    expect(timesteps(5, 5)).toEqual([4, 3, 2, 1, 0]);
  });

  test("always n distinct descending integers from T−1 to 0", () => {
    const T = 37;
    for (let n = 2; n <= T; n++) {
      const ts = timesteps(T, n);
      expect(ts.length).toBe(n);
      expect(ts[0]).toBe(T - 1);
      expect(ts[n - 1]).toBe(0);
      for (let i = 1; i < n; i++) expect(ts[i]).toBeLessThan(ts[i - 1]);
    }
  });

  test("n outside [1, T] throws", () => {
    expect(() => timesteps(10, 11)).toThrow(/n must be/);
    expect(() => timesteps(10, 0)).toThrow(/n must be/);
  });
});
