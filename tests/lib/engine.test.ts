/**
 * The inference engines: ONNX graphs traced from lib's own nets agree with tfjs within 1e-4,
 * sessions are disposed, no tf tensor leaks, and guided sampling gives the same images on both
 * engines. Tests that need onnxruntime-node print a SKIPPED line when it is not installed.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { UNet, DEFAULT_UNET_CONFIG } from "../../lib/src/nets/unet";
import { MlpDenoiser } from "../../lib/src/nets/mlp";
import { ConvClassifier, DEFAULT_NOISY_CLASSIFIER_CONFIG } from "../../lib/src/nets/classifier";
import { ExportableNet, netSpec } from "../../lib/src/engine/specs";
import { ENGINE_ENV, lastEngineChoice, netForward, onnxEngine, releaseEngineSessions, tfjsEngine, unetApply } from "../../lib/src/engine/engine";
import { liveOrtSessions, loadOrt, ortUnavailableReason } from "../../lib/src/engine/onnxRuntime";
import { traceKernels } from "../../lib/src/engine/trace";
import { traceToOnnx } from "../../lib/src/engine/onnxExport";
import { makeSchedule } from "../../lib/src/schedules";
import { cfgSampler, sampleImages } from "../../lib/src/imageSampling";

const HAVE_ORT = loadOrt() !== null;
const ortTest = HAVE_ORT ? test : test.skip;
if (!HAVE_ORT) console.log(`SKIPPED: ONNX engine tests (onnxruntime-node not installed: ${ortUnavailableReason()})`);

beforeAll(async () => {
  await initBackend();
});

afterEach(() => {
  releaseEngineSessions();
  delete process.env[ENGINE_ENV];
});

/** Replace every weight with N(0, 0.15²) so zero-initialised layers do not hide mistakes. */
function randomise(net: ExportableNet, seed: number): void {
  const rng = new Rng(seed);
  const w: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(net.getWeights())) w[k] = tf.tensor(rng.normalArray(v.size).map((x) => 0.15 * x), v.shape);
  net.setWeights(w);
  tf.dispose(Object.values(w));
}

/** Inputs of batch B for a net's spec, from a seed (class ids in range). */
function inputsFor(net: ExportableNet, B: number, seed: number, numIds = 11): Record<string, tf.Tensor> {
  const rng = new Rng(seed);
  const out: Record<string, tf.Tensor> = {};
  for (const [name, s] of Object.entries(netSpec(net).inputs)) {
    const shape = [B, ...s.shape];
    const n = shape.reduce((a, b) => a * b, 1);
    if (s.dtype === "int32") out[name] = tf.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % numIds), shape, "int32");
    else if (name === "t") out[name] = tf.tensor(Float32Array.from({ length: n }, (_, i) => (i * 97 + seed) % 1000), shape);
    else if (name === "aug") out[name] = tf.tensor(rng.uniformArray(n, 0, 1), shape);
    else out[name] = tf.tensor(rng.normalArray(n), shape);
  }
  return out;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

const NETS: Array<[string, () => ExportableNet, number]> = [
  ["U-Net (class-conditional, 32-64-64)", () => new UNet(DEFAULT_UNET_CONFIG, new Rng(0)), 11],
  ["U-Net (SR3 image + CDM aug + context, 3 channels)", () => new UNet({ imageSize: 8, inChannels: 3, channels: [16, 32], condChannels: 3, augConditioned: true, contextDim: 12 }, new Rng(1)), 1],
  ["MLP denoiser (class-conditional)", () => new MlpDenoiser({ dataDim: 2, hidden: 64, depth: 3, timeDim: 16, numClasses: 8 }, new Rng(2)), 9],
  ["MLP prior (context)", () => new MlpDenoiser({ dataDim: 12, hidden: 32, depth: 2, timeDim: 16, contextDim: 12 }, new Rng(3)), 1],
  ["noise-conditional classifier", () => new ConvClassifier(DEFAULT_NOISY_CLASSIFIER_CONFIG, new Rng(4)), 1],
  ["clean classifier", () => new ConvClassifier({ ...DEFAULT_NOISY_CLASSIFIER_CONFIG, timeDim: undefined }, new Rng(5)), 1],
];

describe("ONNX export parity (onnxruntime vs tfjs, max |Δ| ≤ 1e-4)", () => {
  for (const [label, make, numIds] of NETS) {
    ortTest(label, () => {
      const net = make();
      randomise(net, 11);
      const spec = netSpec(net);
      const onnx = onnxEngine.compile(spec);
      const before = tf.memory().numTensors;
      try {
        for (const B of [5, 33]) {
          // batch sizes other than the traced one (7): the batch axis is symbolic
          const inputs = inputsFor(net, B, B, numIds);
          const ref = spec.forward(inputs);
          const got = onnx.run(inputs);
          expect(got.shape).toEqual(ref.shape);
          const scale = Math.max(...Array.from(ref.dataSync(), Math.abs));
          expect(scale).toBeGreaterThan(0.05); // the weights are not trivially zero
          expect(maxAbsDiff(got, ref)).toBeLessThan(1e-4);
          tf.dispose([ref, got, ...Object.values(inputs)]);
        }
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        onnx.dispose();
        net.dispose();
      }
    });
  }
});

describe("sessions and memory", () => {
  ortTest("a compiled ONNX net frees its session on dispose and refuses to run after", () => {
    const net = new MlpDenoiser({ dataDim: 2, hidden: 16, depth: 1, timeDim: 8 }, new Rng(0));
    const live = liveOrtSessions();
    const c = onnxEngine.compile(netSpec(net));
    expect(liveOrtSessions()).toBe(live + 1);
    c.dispose();
    c.dispose(); // idempotent
    expect(liveOrtSessions()).toBe(live);
    const inputs = inputsFor(net, 3, 0);
    expect(() => c.run(inputs)).toThrow(/disposed/);
    tf.dispose(Object.values(inputs));
    net.dispose();
  });

  ortTest("netForward caches one session per net, re-exports after training, and releaseEngineSessions frees all", () => {
    process.env[ENGINE_ENV] = "onnx";
    const net = new MlpDenoiser({ dataDim: 2, hidden: 16, depth: 1, timeDim: 8 }, new Rng(0));
    randomise(net, 1);
    const live = liveOrtSessions();
    const before = tf.memory().numTensors;
    const inputs = inputsFor(net, 4, 1);
    const y1 = netForward(net)(inputs);
    netForward(net)(inputs).dispose(); // same weights: the cached session
    expect(liveOrtSessions()).toBe(live + 1);
    randomise(net, 2); // "training" changes the weights
    const y2 = netForward(net)(inputs);
    const ref = netSpec(net).forward(inputs);
    expect(liveOrtSessions()).toBe(live + 1); // the stale session was replaced
    expect(maxAbsDiff(y2, ref)).toBeLessThan(1e-5);
    expect(maxAbsDiff(y1, y2)).toBeGreaterThan(1e-3);
    tf.dispose([y1, y2, ref, ...Object.values(inputs)]);
    expect(tf.memory().numTensors).toBe(before);
    releaseEngineSessions();
    expect(liveOrtSessions()).toBe(live);
    net.dispose();
  });

  test("the tfjs engine and COURSE_ENGINE=tfjs leave no tensors and open no sessions", () => {
    process.env[ENGINE_ENV] = "tfjs";
    const net = new UNet({ imageSize: 8, inChannels: 1, channels: [8, 16], numClasses: 3 }, new Rng(0));
    const live = liveOrtSessions();
    const xt = tf.randomNormal([2, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const a = unetApply(net)(xt, 10);
    const b = net.apply(xt, 10);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(lastEngineChoice()?.engine).toBe("tfjs");
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    expect(liveOrtSessions()).toBe(live);
    const c = tfjsEngine.compile(netSpec(net));
    expect(() => c.run({ xt })).toThrow(/needs input t/);
    xt.dispose();
    net.dispose();
  });

  test("COURSE_ENGINE with an unknown value is a clear error", () => {
    process.env[ENGINE_ENV] = "gpu";
    const net = new MlpDenoiser({ dataDim: 2, hidden: 8, depth: 1, timeDim: 8 }, new Rng(0));
    expect(() => netForward(net)).toThrow(/COURSE_ENGINE=gpu is not an engine; use tfjs or onnx/);
    net.dispose();
  });

  test("a kernel with no ONNX mapping is named in the error", () => {
    const x = tf.tensor2d([[1, 2]]);
    const trace = traceKernels((i) => tf.cumsum(i.x, 1), { x }, {});
    expect(() => traceToOnnx(trace, "cumsum")).toThrow(/tfjs kernel Cumsum has no ONNX mapping/);
    x.dispose();
  });
});

describe("guided sampling on both engines", () => {
  ortTest("fixed-seed CFG sampling (16 images, 10 DDIM steps, s = 3): onnx within 2e-3 of tfjs", () => {
    const net = new UNet(DEFAULT_UNET_CONFIG, new Rng(0));
    randomise(net, 3);
    const schedule = makeSchedule("cosine", 1000);
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % 10);
    const run = (engine: "tfjs" | "onnx") => {
      process.env[ENGINE_ENV] = engine;
      releaseEngineSessions();
      const imgs = sampleImages({ sampler: cfgSampler(net, 3), labels, schedule, rng: new Rng(7), numSteps: 10, batchSize: 16 });
      expect(lastEngineChoice()?.engine).toBe(engine);
      return imgs;
    };
    const before = tf.memory().numTensors;
    const a = run("tfjs");
    const b = run("onnx");
    // x̂0 is clipped to [−1, 1]; float32 round-off through 10 steps of the guided map stays small
    expect(maxAbsDiff(a, b)).toBeLessThan(2e-3);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  ortTest("without COURSE_ENGINE onnx runs whenever onnxruntime-node loads (a fixed choice: same numbers every run)", () => {
    const net = new UNet({ imageSize: 8, inChannels: 1, channels: [8, 16], numClasses: 3 }, new Rng(0));
    const xt = tf.randomNormal([4, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D;
    const y = unetApply(net)(xt, 10);
    expect(lastEngineChoice()?.engine).toBe("onnx");
    tf.dispose([xt, y]);
    net.dispose();
  });
});
