import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { dense } from "../../lib/src/ops";
import { batchIterator, cosineDecay, gatherRows, train, TrainResult } from "../../lib/src/train";
import { getRecipe, loadDenoiser, saveDenoiser, trainRecipe } from "../../lib/src/recipes";
import { epsModel } from "../../lib/src/nets/mlp";

beforeAll(async () => {
  await initBackend();
});

describe("batchIterator", () => {
  test("each epoch is a permutation cut into full batches (last partial batch dropped)", () => {
    const it = batchIterator(10, 4, new Rng(0));
    for (let epoch = 0; epoch < 3; epoch++) {
      const a = it.next().value;
      const b = it.next().value;
      expect(a.length).toBe(4);
      const seen = new Set([...a, ...b]);
      expect(seen.size).toBe(8); // 8 distinct of 10 per epoch
      for (const i of seen) expect(i >= 0 && i < 10).toBe(true);
    }
  });

  test("same seed gives the same order, another seed another", () => {
    const take = (seed: number) => {
      const it = batchIterator(100, 10, new Rng(seed));
      return Array.from({ length: 25 }, () => Array.from(it.next().value)).flat();
    };
    expect(take(3)).toEqual(take(3));
    expect(take(3)).not.toEqual(take(4));
  });

  test("bad sizes throw", () => {
    expect(() => batchIterator(3, 4, new Rng(0)).next()).toThrow(/n ≥ batchSize/);
    expect(() => batchIterator(3, 0, new Rng(0)).next()).toThrow(/batchSize/);
  });
});

test("gatherRows picks rows", () => {
  const data = Float32Array.from([0, 1, 10, 11, 20, 21]);
  expect(Array.from(gatherRows(data, 2, [2, 0, 2]))).toEqual([20, 21, 0, 1, 20, 21]);
});

test("cosineDecay: lr0 at 0, midpoint at steps/2, lrMin at the end", () => {
  const f = cosineDecay(1e-3, 100, 1e-4);
  expect(f(0)).toBeCloseTo(1e-3, 12);
  expect(f(50)).toBeCloseTo(5.5e-4, 12);
  expect(f(100)).toBeCloseTo(1e-4, 12);
  expect(f(200)).toBeCloseTo(1e-4, 12);
});

/** Linear regression y = x·w* + 0.5 with a dense layer: a tiny problem with a known optimum. */
function tinyProblem(seed: number) {
  const rng = new Rng(seed);
  const n = 64;
  const x = rng.normalArray(n * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = 1.5 * x[3 * i] - 2 * x[3 * i + 1] + 0.25 * x[3 * i + 2] + 0.5;
  const w = tf.variable(tf.zeros([3, 1]));
  const b = tf.variable(tf.zeros([1]));
  const order = batchIterator(n, 16, rng.fork("order"));
  const batches = () => {
    const idx = order.next().value;
    return { x: tf.tensor2d(gatherRows(x, 3, idx), [16, 3]), y: tf.tensor2d(gatherRows(y, 1, idx), [16, 1]) };
  };
  const lossFn = (bt: { x: tf.Tensor2D; y: tf.Tensor2D }) =>
    tf.mean(tf.square(tf.sub(dense(bt.x, w as tf.Variable<tf.Rank.R2>, b as tf.Variable<tf.Rank.R1>), bt.y))) as tf.Scalar;
  return { w, b, batches, lossFn, rng };
}

function runTiny(seed: number, steps = 150): { result: TrainResult; w: number[] } {
  const p = tinyProblem(seed);
  const result = train({ variables: [p.w, p.b], lossFn: p.lossFn, batches: p.batches, steps, learningRate: 0.05, rng: p.rng, progress: "none", logEvery: 10 });
  const w = Array.from(p.w.dataSync());
  tf.dispose([p.w, p.b]);
  return { result, w };
}

describe("train", () => {
  test("loss decreases and the weights approach the optimum", () => {
    const { result, w } = runTiny(0, 300);
    expect(result.history[0].loss).toBeGreaterThan(1);
    expect(result.finalLoss).toBeLessThan(0.01 * result.history[0].loss);
    expect(w[0]).toBeCloseTo(1.5, 1);
    expect(w[1]).toBeCloseTo(-2, 1);
    expect(result.seconds).toBeGreaterThan(0);
  });

  test("history has one point per logEvery steps, plus a final partial window", () => {
    const { result } = runTiny(0, 25);
    expect(result.history.map((h) => h.step)).toEqual([10, 20, 25]);
    expect(result.finalLoss).toBe(result.history[2].loss);
  });

  test("same seed → identical loss history; another seed → different", () => {
    const a = runTiny(7).result.history;
    const b = runTiny(7).result.history;
    const c = runTiny(8).result.history;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  test("no tensor leaks over many steps (batches, losses and the default Adam are disposed)", () => {
    const p = tinyProblem(1);
    const before = tf.memory().numTensors;
    train({ variables: [p.w, p.b], lossFn: p.lossFn, batches: p.batches, steps: 40, rng: p.rng, progress: "none", logEvery: 7 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([p.w, p.b]);
  });

  test("a batch function receives (step, rng), and a learning-rate function is applied", () => {
    const v = tf.variable(tf.scalar(0));
    const steps: number[] = [];
    const rng = new Rng(0);
    // Adam with a constant gradient moves by ≈ lr per step: lr is 0 except at the last step.
    train({
      variables: [v],
      lossFn: () => tf.square(tf.sub(v, 1)) as tf.Scalar,
      batches: (step, r) => {
        steps.push(step);
        expect(r).toBe(rng);
        return {};
      },
      steps: 5,
      learningRate: (step) => (step === 4 ? 0.1 : 0),
      rng,
      progress: "none",
    });
    expect(steps).toEqual([0, 1, 2, 3, 4]);
    expect(v.dataSync()[0]).toBeCloseTo(0.1, 5);
    v.dispose();
  });

  test("a non-finite loss stops training with the step", () => {
    const v = tf.variable(tf.scalar(1));
    const before = tf.memory().numTensors;
    expect(() =>
      train({ variables: [v], lossFn: () => tf.div(v, tf.scalar(0)) as tf.Scalar, batches: () => ({}), steps: 10, rng: new Rng(0), progress: "none", logEvery: 2 }),
    ).toThrow(/loss is (Infinity|NaN) at step 2/);
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });

  test("bad options throw", () => {
    const v = tf.variable(tf.scalar(1));
    const base = { variables: [v], lossFn: () => tf.square(v) as tf.Scalar, batches: () => ({}), rng: new Rng(0), progress: "none" as const };
    expect(() => train({ ...base, steps: 0 })).toThrow(/steps/);
    const opt = tf.train.sgd(0.1);
    expect(() => train({ ...base, steps: 1, optimizer: opt, learningRate: () => 1 })).toThrow(/default optimizer/);
    opt.dispose();
    v.dispose();
  });
});

describe("recipes (trainRecipe / saveDenoiser / loadDenoiser)", () => {
  const tiny = { steps: 4, progress: "none" as const, logEvery: 2 };

  test("getRecipe: the ring-mlp config, and a clear error for unknown names", () => {
    expect(getRecipe("ring-mlp").net).toEqual({ dataDim: 2, hidden: 256, depth: 3, timeDim: 64 });
    expect(getRecipe("ring-mlp").data).toMatchObject({ numModes: 8, radius: 4, std: 0.3 });
    expect(() => getRecipe("nope")).toThrow('unknown recipe "nope"; known recipes: ring-mlp, ring-mlp-cond');
    expect(() => getRecipe("toString")).toThrow(/unknown recipe/);
  });

  test("seeded: same seed → same losses and weights; only the net's variables stay alive", () => {
    const before = tf.memory().numTensors;
    const a = trainRecipe("ring-mlp", tiny);
    const b = trainRecipe("ring-mlp", tiny);
    const c = trainRecipe("ring-mlp", { ...tiny, seed: 1 });
    expect(tf.memory().numTensors).toBe(before + 3 * a.net.variables.length);
    expect(a.result.history).toEqual(b.result.history);
    expect(a.result.history).not.toEqual(c.result.history);
    expect(Array.from(a.net.getWeights()["out.w"].dataSync())).toEqual(Array.from(b.net.getWeights()["out.w"].dataSync()));
    expect(a.meta).toMatchObject({ recipe: "ring-mlp", seed: 0, steps: 4, batchSize: 512, numParams: 149250, backend: tf.getBackend() });
    [a, b, c].forEach((r) => r.net.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  test("ring-mlp-cond trains a class-conditional net with a null class", () => {
    const r = trainRecipe("ring-mlp-cond", tiny);
    expect(r.net.nullCond).toBe(8);
    expect(r.net.getWeights().classTable.shape).toEqual([9, 16]);
    expect(Number.isFinite(r.result.finalLoss)).toBe(true);
    r.net.dispose();
  });

  test("save → load gives the same model", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recipe-"));
    try {
      const r = trainRecipe("ring-mlp", tiny);
      saveDenoiser(r, dir, { command: "test" });
      const { net, schedule, meta } = loadDenoiser("ring-mlp", dir);
      expect(schedule.T).toBe(1000);
      expect(meta.command).toBe("test");
      const xt = new Rng(9).randn([4, 2]);
      const y1 = epsModel(r.net)(xt, 300);
      const y2 = epsModel(net)(xt, 300);
      expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
      tf.dispose([xt, y1, y2]);
      r.net.dispose();
      net.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
