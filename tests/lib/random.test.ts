import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";

beforeAll(async () => {
  await initBackend();
});

describe("Rng", () => {
  test("is reproducible for a seed and differs between seeds", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xa);
  });

  test("first draws for seed 0 are pinned (a change of generator changes every executed notebook)", () => {
    // Values recorded from this implementation (xoshiro128** seeded by splitmix32, Box–Muller).
    const r = new Rng(0);
    expect([r.uniform(), r.uniform(), r.uniform()]).toEqual([0.8868539538234472, 0.26395898405462503, 0.012474989285692573]);
    const n = Array.from(new Rng(0).normalArray(3));
    [-0.0429257564, 0.4881672859, -1.3734577894].forEach((v, i) => expect(n[i]).toBeCloseTo(v, 7));
  });

  test("uniform and normal have the right moments", () => {
    const r = new Rng(1);
    const N = 200000;
    let su = 0, sn = 0, sn2 = 0;
    for (let i = 0; i < N; i++) {
      su += r.uniform();
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(su / N).toBeCloseTo(0.5, 2);
    expect(sn / N).toBeCloseTo(0, 2);
    expect(sn2 / N).toBeCloseTo(1, 1);
  });

  test("int covers its range uniformly and rejects bad n", () => {
    const r = new Rng(2);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 50000; i++) counts[r.int(5)]++;
    for (const c of counts) expect(Math.abs(c / 50000 - 0.2)).toBeLessThan(0.01);
    expect(() => r.int(0)).toThrow(/positive integer/);
    expect(() => r.int(2.5)).toThrow(/positive integer/);
    expect(() => new Rng(NaN)).toThrow(/finite/);
  });

  test("uniformArray respects its bounds", () => {
    const a = new Rng(3).uniformArray(1000, -2, 5);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...a)).toBeLessThan(5);
  });

  test("permutation and shuffle are permutations and seeded", () => {
    const p = new Rng(4).permutation(100);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(new Rng(4).permutation(100))).toEqual(Array.from(p));
    const arr = ["a", "b", "c", "d"];
    expect(new Rng(5).shuffle(arr)).toBe(arr);
    expect([...arr].sort()).toEqual(["a", "b", "c", "d"]);
  });

  test("randn gives a float32 tensor of the given shape with the same draws as normalArray", () => {
    const t = new Rng(6).randn([3, 4]);
    expect(t.shape).toEqual([3, 4]);
    expect(t.dtype).toBe("float32");
    expect(Array.from(t.dataSync())).toEqual(Array.from(new Rng(6).normalArray(12)));
    t.dispose();
  });

  test("fork gives independent, reproducible streams without advancing the parent", () => {
    const parent = new Rng(7);
    const f1 = parent.fork("data").nextUint32();
    const f2 = parent.fork("noise").nextUint32();
    expect(parent.fork("data").nextUint32()).toBe(f1);
    expect(f1).not.toBe(f2);
    expect(parent.nextUint32()).toBe(new Rng(7).nextUint32());
  });

  test("leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    new Rng(8).randn([10]).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
