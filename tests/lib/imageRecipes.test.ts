import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { qSample } from "../../lib/src/forward";
import { fashionMnistBatch } from "../../lib/src/data/fashionMnist";
import { DEFAULT_UNET_CONFIG, UNet } from "../../lib/src/nets/unet";
import { ConvClassifier, DEFAULT_CLEAN_CLASSIFIER_CONFIG, DEFAULT_NOISY_CLASSIFIER_CONFIG } from "../../lib/src/nets/classifier";
import {
  ClassifierRecipe,
  IMAGE_RECIPES,
  IMAGE_SCHEDULE,
  UNetRecipe,
  classifierTestAccuracy,
  getImageRecipe,
  loadClassifier,
  loadUNet,
  saveImageModel,
  trainImageRecipe,
} from "../../lib/src/imageRecipes";
import { tinyImageDataset } from "./imageFixtures";
import { SrRecipe } from "../../lib/src/superres/train";

beforeAll(async () => {
  await initBackend();
});

const data = tinyImageDataset(64, 1);
const FMNIST = { dataset: "fashion-mnist" } as const;
const SMALL_SCHEDULE = { kind: "cosine", T: 100 } as const;
const TRAIN = { steps: 4, batchSize: 8, learningRate: 2e-3, warmup: 2, seed: 0 };
const RUN = { data, progress: "none" as const, logEvery: 2 };

// groups 4 (two channels per group): with one channel per group, GroupNorm would cancel the
// per-channel embedding bias and the nets would ignore t and the class.
const TINY_UNET: UNetRecipe = {
  kind: "unet",
  name: "tiny-unet",
  description: "test U-Net",
  net: { imageSize: 16, inChannels: 1, channels: [8, 8], groups: 4, numClasses: 3 },
  data: FMNIST,
  schedule: SMALL_SCHEDULE,
  train: { ...TRAIN, condDropout: 0.5 },
};
const TINY_NOISY: ClassifierRecipe = {
  kind: "classifier",
  name: "tiny-clf-noisy",
  description: "test noisy classifier",
  net: { imageSize: 16, inChannels: 1, channels: [8, 8], groups: 4, numClasses: 3, featureDim: 16, timeDim: 8 },
  data: FMNIST,
  schedule: SMALL_SCHEDULE,
  train: TRAIN,
};
const TINY_CLEAN: ClassifierRecipe = {
  kind: "classifier",
  name: "tiny-clf-clean",
  description: "test clean classifier",
  net: { imageSize: 16, inChannels: 1, channels: [8, 8], groups: 4, numClasses: 3, featureDim: 16 },
  data: FMNIST,
  train: TRAIN,
};

/** Every weight of a net as name → values. */
function weightsOf(net: UNet | ConvClassifier): Record<string, number[]> {
  return Object.fromEntries(Object.entries(net.getWeights()).map(([k, v]) => [k, Array.from(v.dataSync())]));
}

/** Row r of a [rows, E] weight. */
function row(net: UNet, name: string, r: number): number[] {
  const w = net.getWeights()[name];
  const E = w.shape[1] as number;
  return Array.from(w.dataSync().slice(r * E, (r + 1) * E));
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-recipe-"));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("IMAGE_RECIPES / getImageRecipe", () => {
  test("the course recipes: names, kinds, nets, schedules, label dropout", () => {
    expect(Object.keys(IMAGE_RECIPES)).toEqual(["fmnist-unet", "fmnist-unet-drop20", "fmnist8-unet", "fmnist-sr", "fmnist-sr4", "fmnist-sr4-regression", "fmnist-clf-noisy", "captions-eval", "fmnist-clf-clean"]);
    for (const [name, r] of Object.entries(IMAGE_RECIPES)) expect(r.name).toBe(name);
    const unet = getImageRecipe("fmnist-unet") as UNetRecipe;
    const drop20 = getImageRecipe("fmnist-unet-drop20") as UNetRecipe;
    const noisy = getImageRecipe("fmnist-clf-noisy") as ClassifierRecipe;
    const clean = getImageRecipe("fmnist-clf-clean") as ClassifierRecipe;
    expect([unet.kind, drop20.kind, noisy.kind, clean.kind]).toEqual(["unet", "unet", "classifier", "classifier"]);
    expect(unet.net).toEqual(DEFAULT_UNET_CONFIG);
    expect(unet.train.condDropout).toBe(0.05);
    expect(drop20.train.condDropout).toBe(0.2);
    expect({ ...drop20, name: "", description: "", train: { ...drop20.train, condDropout: 0 } }).toEqual({ ...unet, name: "", description: "", train: { ...unet.train, condDropout: 0 } });
    // the noise-conditional classifier shares the denoiser's schedule; the clean one has none
    expect(unet.schedule).toEqual(IMAGE_SCHEDULE);
    expect(noisy.schedule).toEqual(unet.schedule);
    expect(noisy.net).toEqual(DEFAULT_NOISY_CLASSIFIER_CONFIG);
    expect(noisy.net.timeDim).toBeDefined();
    expect(clean.net).toEqual(DEFAULT_CLEAN_CLASSIFIER_CONFIG);
    expect(clean.net.timeDim).toBeUndefined();
    expect(clean.schedule).toBeUndefined();
    for (const r of Object.values(IMAGE_RECIPES)) expect(r.train.warmup).toBeLessThan(r.train.steps);
  });

  test("notebook 04's recipes: an 8×8 base and an SR3 stage with conditioning augmentation (the cascade); SR3 4×4 → 16×16 and its regression twin", () => {
    const base = getImageRecipe("fmnist8-unet") as UNetRecipe;
    const sr = getImageRecipe("fmnist-sr") as SrRecipe;
    const sr4 = getImageRecipe("fmnist-sr4") as SrRecipe;
    const reg4 = getImageRecipe("fmnist-sr4-regression") as SrRecipe;
    expect(base.net.imageSize * (base.data.downsample ?? 1)).toBe(16);
    expect(base.train.condDropout).toBeGreaterThan(0);
    expect([sr.kind, sr.objective, sr4.objective, reg4.kind, reg4.objective]).toEqual(["sr", "eps", "eps", "sr", "regression"]);
    expect(sr.net).toMatchObject({ imageSize: 16, condChannels: 1, augConditioned: true, numClasses: 10 });
    expect(sr.aug!.maxLevel).toBeGreaterThan(0);
    expect(sr.schedule).toEqual(IMAGE_SCHEDULE);
    expect(sr.factor * base.net.imageSize).toBe(sr.net.imageSize);
    // "the same network": the regression baseline differs from its diffusion twin only in the objective
    expect(reg4.net).toEqual(sr4.net);
    expect([sr4.factor, reg4.factor]).toEqual([4, 4]);
    expect(reg4.aug).toBeUndefined();
    expect(reg4.schedule).toBeUndefined();
  });

  test("unknown names throw one line listing the known ones (Object.prototype names too)", () => {
    expect(() => getImageRecipe("nope")).toThrow('unknown image recipe "nope"; known: fmnist-unet, fmnist-unet-drop20, fmnist8-unet, fmnist-sr, fmnist-sr4, fmnist-sr4-regression, fmnist-clf-noisy, captions-eval, fmnist-clf-clean');
    expect(() => getImageRecipe("toString")).toThrow(/unknown image recipe "toString"/);
    expect(() => getImageRecipe("__proto__")).toThrow(/unknown image recipe/);
  });
});

describe("trainImageRecipe", () => {
  test("U-Net: same seed → identical loss history and weights; another seed differs; only the nets stay alive", () => {
    const before = tf.memory().numTensors;
    const a = trainImageRecipe(TINY_UNET, RUN);
    const b = trainImageRecipe(TINY_UNET, RUN);
    const c = trainImageRecipe(TINY_UNET, { ...RUN, seed: 1 });
    expect(a.net).toBeInstanceOf(UNet);
    expect(tf.memory().numTensors).toBe(before + 3 * a.net.variables.length);
    expect(a.result.history.map((h) => h.step)).toEqual([2, 4]);
    expect(a.result.history.every((h) => Number.isFinite(h.loss) && h.loss > 0)).toBe(true);
    expect(a.result.history).toEqual(b.result.history);
    expect(weightsOf(a.net)).toEqual(weightsOf(b.net));
    expect(c.result.history).not.toEqual(a.result.history);
    expect(weightsOf(c.net)["in.w"]).not.toEqual(weightsOf(a.net)["in.w"]);
    // the schedule and the checkpoint metadata come from the recipe
    expect(a.schedule?.T).toBe(100);
    expect(a.meta).toMatchObject({ recipe: "tiny-unet", seed: 0, steps: 4, batchSize: 8, learningRate: 2e-3, numParams: a.net.numParams(), backend: tf.getBackend() });
    expect(a.meta.config).toEqual(TINY_UNET);
    expect(a.meta.lossHistory).toEqual(a.result.history.map((h) => ({ step: h.step, loss: Number(h.loss.toPrecision(5)) })));
    expect(c.meta.seed).toBe(1);
    [a, b, c].forEach((r) => r.net.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  test("label dropout: at p = 1 only the ∅ row of the class table learns; at p = 0 the ∅ row never does", () => {
    // Runs of 1 and 3 steps start from the same seeded init; a row with zero gradient stays put under Adam.
    const run = (condDropout: number, steps: number) => trainImageRecipe({ ...TINY_UNET, train: { ...TINY_UNET.train, condDropout } }, { ...RUN, steps }).net as UNet;
    const all1 = run(1, 1);
    const all3 = run(1, 3);
    for (let k = 0; k < 3; k++) expect(row(all3, "classTable", k)).toEqual(row(all1, "classTable", k));
    expect(row(all3, "classTable", 3)).not.toEqual(row(all1, "classTable", 3));
    const none1 = run(0, 1);
    const none3 = run(0, 3);
    expect(row(none3, "classTable", 3)).toEqual(row(none1, "classTable", 3));
    expect(row(none3, "classTable", 0)).not.toEqual(row(none1, "classTable", 0));
    [all1, all3, none1, none3].forEach((n) => n.dispose());
  });

  test("classifiers: noisy and clean train deterministically from the seed; opts.steps overrides the recipe", () => {
    const before = tf.memory().numTensors;
    for (const recipe of [TINY_NOISY, TINY_CLEAN]) {
      const a = trainImageRecipe(recipe, { ...RUN, steps: 3 });
      const b = trainImageRecipe(recipe, { ...RUN, steps: 3 });
      const c = trainImageRecipe(recipe, { ...RUN, steps: 3, seed: 7 });
      const clf = a.net as ConvClassifier;
      expect(clf).toBeInstanceOf(ConvClassifier);
      expect(clf.timeConditional).toBe(recipe === TINY_NOISY);
      expect(a.schedule?.T).toBe(recipe === TINY_NOISY ? 100 : undefined);
      expect(a.result.history.map((h) => h.step)).toEqual([2, 3]);
      expect(a.meta.steps).toBe(3);
      // a 3-class cross-entropy starts near ln 3
      expect(a.result.history[0].loss).toBeGreaterThan(0.5);
      expect(a.result.history[0].loss).toBeLessThan(3);
      expect(a.result.history).toEqual(b.result.history);
      expect(weightsOf(a.net)).toEqual(weightsOf(b.net));
      expect(c.result.history).not.toEqual(a.result.history);
      [a, b, c].forEach((r) => r.net.dispose());
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("bad recipes throw clear errors", () => {
    const { schedule: _omit, ...noSchedule } = TINY_NOISY;
    expect(() => trainImageRecipe(noSchedule, RUN)).toThrow("tiny-clf-noisy: a noise-conditional model needs a schedule");
    expect(() => trainImageRecipe("nope", RUN)).toThrow(/unknown image recipe "nope"/);
    const uncond: UNetRecipe = { ...TINY_UNET, net: { ...TINY_UNET.net, numClasses: undefined } };
    expect(() => trainImageRecipe(uncond, RUN)).toThrow("tiny-unet: condDropout needs a class-conditional net");
  });

  // Regression: bad input used to be rejected after `new UNet(...)`, leaking its variables.
  test("a rejected recipe (condDropout without classes) leaves no tensors behind", () => {
    const uncond: UNetRecipe = { ...TINY_UNET, net: { ...TINY_UNET.net, numClasses: undefined } };
    const before = tf.memory().numTensors;
    expect(() => trainImageRecipe(uncond, RUN)).toThrow(/condDropout/);
    expect(tf.memory().numTensors).toBe(before);
  });

  // Regression: a training run that throws after the net was built must dispose it.
  test("a failed training run (fewer images than one batch) leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    expect(() => trainImageRecipe(TINY_CLEAN, { ...RUN, data: tinyImageDataset(4, 2) })).toThrow(/need n ≥ batchSize/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("classifierTestAccuracy", () => {
  test("clean: equals the fraction of argmax predictions that match the labels, for any batch size", () => {
    const clf = trainImageRecipe(TINY_CLEAN, { ...RUN, steps: 2 }).net as ConvClassifier;
    const idx = Int32Array.from({ length: data.n }, (_, i) => i);
    const pred = tf.tidy(() => tf.argMax(clf.apply(fashionMnistBatch(data, idx)), 1));
    const p = pred.dataSync();
    let correct = 0;
    for (let i = 0; i < data.n; i++) if (p[i] === data.labels[i]) correct++;
    pred.dispose();
    const before = tf.memory().numTensors;
    const acc = classifierTestAccuracy(clf, data);
    expect(acc).toEqual([correct / data.n]);
    expect(classifierTestAccuracy(clf, data, { batchSize: 10 })).toEqual(acc); // 64 = 6·10 + 4: a partial last batch
    expect(classifierTestAccuracy(clf, data, { ts: [0, 50] })).toEqual(acc); // ts are ignored for a clean classifier
    expect(tf.memory().numTensors).toBe(before);
    clf.dispose();
  });

  test("noisy: needs the schedule; one accuracy per t on seeded z_t, matching a hand computation", () => {
    const { net, schedule } = trainImageRecipe(TINY_NOISY, { ...RUN, steps: 2 });
    const clf = net as ConvClassifier;
    expect(() => classifierTestAccuracy(clf, data)).toThrow("classifierTestAccuracy: a noise-conditional classifier needs the schedule");
    const ts = [0, 60, 99];
    const before = tf.memory().numTensors;
    const acc = classifierTestAccuracy(clf, data, { ts, schedule, seed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    // reference: one batch, z_t = sqrt(ᾱ_t)·x0 + σ_t·ε with ε drawn from Rng(seed) in order
    const rng = new Rng(3);
    const idx = Int32Array.from({ length: data.n }, (_, i) => i);
    const want = ts.map((t) => {
      const pred = tf.tidy(() => {
        const x0 = fashionMnistBatch(data, idx);
        return tf.argMax(clf.apply(qSample(x0, t, rng.randn(x0.shape), schedule!) as tf.Tensor4D, t), 1);
      });
      const p = Array.from(pred.dataSync());
      pred.dispose();
      return p.filter((v, i) => v === data.labels[i]).length / data.n;
    });
    expect(acc).toEqual(want);
    // the noise is one seeded stream, so batching does not change it
    expect(classifierTestAccuracy(clf, data, { ts, schedule, seed: 3, batchSize: 24 })).toEqual(acc);
    expect(classifierTestAccuracy(clf, data, { schedule, seed: 3 })).toEqual([acc[0]]); // default ts = [0]
    clf.dispose();
  });
});

describe("saveImageModel / loadUNet / loadClassifier", () => {
  test("U-Net round trip: same weights, schedule and metadata; loadClassifier refuses it", () => {
    withTempDir((dir) => {
      const trained = trainImageRecipe(TINY_UNET, { ...RUN, steps: 2 });
      const manifest = saveImageModel(trained, dir, { command: "test" });
      expect(manifest.meta.recipe).toBe("tiny-unet");
      const before = tf.memory().numTensors;
      const { net, schedule, recipe, meta } = loadUNet("ignored-name", dir);
      expect(tf.memory().numTensors).toBe(before + net.variables.length); // the loaded tensors were freed
      expect(recipe).toEqual(TINY_UNET);
      expect(schedule.T).toBe(100);
      expect(Array.from(schedule.alphaBars)).toEqual(Array.from(makeSchedule("cosine", 100).alphaBars));
      expect(meta).toMatchObject({ command: "test", seed: 0, steps: 2 });
      expect(weightsOf(net)).toEqual(weightsOf(trained.net));
      expect(() => loadClassifier("tiny-unet", dir)).toThrow(`checkpoint at ${dir} is not a classifier checkpoint (its manifest says unet)`);
      expect(tf.memory().numTensors).toBe(before + net.variables.length);
      net.dispose();
      trained.net.dispose();
    });
  });

  test("classifier round trip: noisy gets its schedule, clean none; loadUNet refuses a classifier", () => {
    for (const r of [TINY_NOISY, TINY_CLEAN]) {
      withTempDir((dir) => {
        const trained = trainImageRecipe(r, { ...RUN, steps: 1 });
        saveImageModel(trained, dir);
        const { net, schedule, recipe } = loadClassifier(r.name, dir);
        expect(recipe).toEqual(r);
        expect(schedule?.T).toBe(r === TINY_NOISY ? 100 : undefined);
        expect(net.timeConditional).toBe(r === TINY_NOISY);
        expect(weightsOf(net)).toEqual(weightsOf(trained.net));
        expect(() => loadUNet(r.name, dir)).toThrow(/is not a unet checkpoint \(its manifest says classifier\)/);
        net.dispose();
        trained.net.dispose();
      });
    }
  });

  test("a checkpoint whose tensors do not fit its recipe: one clear error with the rebuild command, nothing leaked", () => {
    withTempDir((dir) => {
      const trained = trainImageRecipe(TINY_CLEAN, { ...RUN, steps: 1 });
      // the manifest claims a wider net than the weights hold
      saveImageModel(trained, dir, { config: { ...TINY_CLEAN, net: { ...TINY_CLEAN.net, featureDim: 32 } } });
      const before = tf.memory().numTensors;
      let message = "";
      try {
        loadClassifier("tiny-clf-clean", dir);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(new RegExp(`^checkpoint at .* does not fit its recipe: .*features\\.w has shape`));
      expect(message).toMatch(/Rebuild it with: npm run train -- tiny-clf-clean$/);
      expect(message).not.toMatch(/\n/);
      expect(tf.memory().numTensors).toBe(before);
      trained.net.dispose();
    });
  });

  test("a missing checkpoint names the folder and the rebuild command", () => {
    withTempDir((dir) => {
      expect(() => loadUNet("fmnist-unet", path.join(dir, "fmnist-unet"))).toThrow(/No checkpoint at .*npm run train -- fmnist-unet/);
    });
  });
});
