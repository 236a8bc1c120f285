import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { pca } from "../../lib/src/metrics/pca";

beforeAll(async () => {
  await initBackend();
});

describe("pca", () => {
  test("finds the known directions and variances of a stretched Gaussian, sign-fixed, centred projections", () => {
    const rng = new Rng(1);
    const N = 4000;
    // x = 3·a·u + 1·b·v + 0.1·noise, with orthonormal u, v in 4-D, plus an offset
    const u = [0.6, 0.8, 0, 0];
    const v = [0, 0, -1, 0];
    const rows = Array.from({ length: N }, () => {
      const a = rng.normal(), b = rng.normal();
      return u.map((ui, j) => 5 + 3 * a * ui + b * v[j] + 0.1 * rng.normal());
    });
    const r = pca(rows, 2);
    expect(r.variances[0]).toBeCloseTo(9, 0);
    expect(r.variances[1]).toBeCloseTo(1, 0);
    expect(r.explained[0]).toBeGreaterThan(0.85);
    expect(r.explained[0] + r.explained[1]).toBeLessThanOrEqual(1 + 1e-9);
    // components match ±u, ±v with the largest entry positive: u as is, v flipped
    u.forEach((x, j) => expect(r.components[0][j]).toBeCloseTo(x, 1));
    v.forEach((x, j) => expect(r.components[1][j]).toBeCloseTo(-x, 1));
    Array.from(r.mean).forEach((m) => expect(m).toBeCloseTo(5, 0));
    let s0 = 0;
    for (let i = 0; i < N; i++) s0 += r.projected[i * 2];
    expect(Math.abs(s0 / N)).toBeLessThan(1e-9);
  });

  test("accepts a tensor, leaves no tensors behind, and rejects bad input", () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 7]]);
    const before = tf.memory().numTensors;
    const r = pca(x, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.projected).toHaveLength(3);
    x.dispose();
    expect(() => pca([[1, 2]], 1)).toThrow(/at least 2 rows/);
    expect(() => pca([[1, 2], [3, 4]], 3)).toThrow(/k must be an integer in 1…2/);
  });
});
