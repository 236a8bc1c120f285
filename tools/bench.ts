/**
 * `npm run bench`: timings that tell whether the course runs fast enough on this machine.
 * Prints a table and writes build/bench.json (or --out FILE).
 *
 * Rows (median of several repeats after warm-up steps):
 * - the 2-D MLP denoiser's training step (3×256, SiLU, batch 512, Adam, DSM loss) three ways,
 *   side by side: our fast-gradient ops (lib/src/ops/), the same net with stock tfjs ops
 *   (plain tf.matMul autograd), and a tfjs Layers model's `trainOnBatch`;
 * - the ring-mlp recipe's whole training loop per step (data, noise, Adam, loss readback);
 * - drawing 2,000 samples with 100 DDIM steps;
 * - the 16×16 U-Net: training step at batch 128, forward at batch 256, and guided sampling of
 *   64 images × 50 steps with classifier-free and with classifier guidance (tools/bench-images.ts);
 * - the inference engines (tools/bench-engine.ts): U-Net forward at batch 256 and CFG sampling
 *   64 × 50 on tfjs and on onnxruntime-node; with `--vs-torch`, the same MLP and U-Net workloads in
 *   PyTorch CPU with 2 threads (tools/bench/torch_bench.py) right after ours, and the ratios;
 * - executing every notebook with the runner (`node tools/dist/run.js … --mode instructor`), one at a time;
 * - grading (one notebook-01 submission, a batch of 40), where the grader is part of the checkout.
 *
 * Usage: npm run bench [-- --quick] [-- --no-notebook] [-- --no-grading] [-- --vs-torch] [-- --out FILE]
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { imageBench } from "./bench-images";
import { text2ImgBench } from "./bench-text2img";
import { EngineBench, TorchBench, engineBench, torchBench } from "./bench-engine";
import { initBackend, Rng, DEFAULT_MLP_CONFIG, MlpDenoiser, epsModel, timestepEmbedding, dsmLoss, ddimStep, sample, makeSchedule, trainRecipe } from "@course/lib";
import { REFERENCE_MS, machineSpeed } from "./speed";

const ROOT = path.resolve(__dirname, "..", "..");
const BATCH = 512;
const TARGET_MS = 30;

interface BenchArgs {
  quick: boolean;
  notebook: boolean;
  grading: boolean;
  vsTorch: boolean;
  out: string;
}

function parseArgs(argv: string[]): BenchArgs | null {
  const args: BenchArgs = { quick: false, notebook: true, grading: true, vsTorch: false, out: path.join(ROOT, "build", "bench.json") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") args.quick = true;
    else if (a === "--no-notebook") args.notebook = false;
    else if (a === "--no-grading") args.grading = false;
    else if (a === "--vs-torch") args.vsTorch = true;
    else if (a === "--out" && argv[i + 1]) args.out = path.resolve(argv[++i]);
    else if (a === "-h" || a === "--help") return null;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** Median wall time (ms) of `repeats` calls after `warmup` calls. */
async function timeMs(fn: () => unknown, warmup: number, repeats: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
}

/** The three ways to take one MLP training step on the same inputs. */
async function mlpSteps(quick: boolean): Promise<{ fast: number; stock: number; layers: number }> {
  const rng = new Rng(0);
  const cfg = DEFAULT_MLP_CONFIG;
  const net = new MlpDenoiser(cfg, rng.fork("init"));
  const xt = rng.randn([BATCH, cfg.dataDim]) as tf.Tensor2D; // [B, 2]
  const eps = rng.randn([BATCH, cfg.dataDim]) as tf.Tensor2D; // [B, 2]
  const tt = tf.tensor1d(Int32Array.from({ length: BATCH }, () => rng.int(1000)), "int32"); // [B]
  const w = net.getWeights();
  const stockApply = () => {
    let h = tf.concat([xt, timestepEmbedding(tt, cfg.timeDim)], 1); // [B, 66]
    for (let i = 0; i < cfg.depth; i++) {
      const z = tf.add(tf.matMul(h, w[`layer${i}.w`]), w[`layer${i}.b`]); // [B, 256]
      h = tf.mul(z, tf.sigmoid(z));
    }
    return tf.add(tf.matMul(h, w["out.w"]), w["out.b"]); // [B, 2]
  };
  const optFast = tf.train.adam(1e-3);
  const optStock = tf.train.adam(1e-3);
  const step = (opt: tf.Optimizer, f: () => tf.Scalar) => {
    const loss = opt.minimize(f, true, net.variables)!;
    loss.dataSync();
    loss.dispose();
  };
  const [warm, reps, slowReps] = quick ? [2, 5, 3] : [5, 40, 15];
  const fast = await timeMs(() => step(optFast, () => dsmLoss(net.apply(xt, tt), eps)), warm, reps);
  const stock = await timeMs(() => step(optStock, () => dsmLoss(stockApply(), eps)), warm, slowReps);

  const model = tf.sequential();
  model.add(tf.layers.dense({ units: cfg.hidden, activation: "swish", inputShape: [cfg.dataDim + cfg.timeDim] }));
  for (let i = 1; i < cfg.depth; i++) model.add(tf.layers.dense({ units: cfg.hidden, activation: "swish" }));
  model.add(tf.layers.dense({ units: cfg.dataDim }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "meanSquaredError" });
  const input = tf.tidy(() => tf.concat([xt, timestepEmbedding(tt, cfg.timeDim)], 1)); // [B, 66]
  const layers = await timeMs(() => model.trainOnBatch(input, eps), warm, slowReps);

  model.dispose();
  tf.dispose([xt, eps, tt, input]);
  optFast.dispose();
  optStock.dispose();
  net.dispose();
  return { fast, stock, layers };
}

/** ms per step of the ring-mlp recipe's whole loop (batches from the dataset, noise, Adam). */
function trainLoopMsPerStep(quick: boolean): number {
  const steps = quick ? 30 : 200;
  const trained = trainRecipe("ring-mlp", { steps, progress: "none" });
  trained.net.dispose();
  return (1000 * trained.result.seconds) / steps;
}

async function ddimMs(quick: boolean): Promise<number> {
  const net = new MlpDenoiser(DEFAULT_MLP_CONFIG, new Rng(1));
  const schedule = makeSchedule("linear", 1000);
  const model = epsModel(net);
  const run = (numSteps: number) => () => {
    const x = sample({ model, schedule, step: ddimStep(0), shape: [2000, 2], numSteps, rng: new Rng(2) });
    x.dataSync();
    x.dispose();
  };
  await timeMs(run(5), 1, 0);
  const ms = await timeMs(run(100), 0, quick ? 1 : 3);
  net.dispose();
  return ms;
}

/** One notebook's execution time through the runner (child process), or why there is none. */
interface NotebookTiming {
  name: string;
  ms: number | null;
  note: string;
}

/** Run each notebooks/NN_*.ipynb through the runner as a child process, one after the other. */
function notebookTimings(): NotebookTiming[] {
  const dir = path.join(ROOT, "notebooks");
  const runner = path.join(ROOT, "tools", "dist", "run.js");
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^\d\d_.+\.ipynb$/.test(n)).sort() : [];
  if (names.length === 0) return [{ name: "notebooks", ms: null, note: "n/a (no notebooks/NN_*.ipynb)" }];
  return names.map((name) => {
    if (!fs.existsSync(runner)) return { name, ms: null, note: "n/a (runner tools/dist/run.js missing)" };
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-nb-"));
    try {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [runner, path.join(dir, name), "--mode", "instructor", "--out", out], { cwd: ROOT, encoding: "utf8", timeout: 30 * 60 * 1000 });
      const ms = performance.now() - t0;
      if (r.status !== 0) return { name, ms: null, note: `failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().split("\n").slice(-1)[0] ?? ""}` };
      return { name, ms, note: "instructor mode, whole runner process" };
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
}

/** The faster engine's time for a workload (onnx when installed and faster). */
function best(w: { tfjs: number; onnx: number | null }): { ms: number; engine: string } {
  return w.onnx !== null && w.onnx < w.tfjs ? { ms: w.onnx, engine: "onnx" } : { ms: w.tfjs, engine: "tfjs" };
}

function engineRows(e: EngineBench): [string, string, string][] {
  const row = (name: string, w: { tfjs: number; onnx: number | null }, note: string): [string, string, string][] => [
    [`${name}, tfjs engine`, fmt(w.tfjs), note],
    [`${name}, onnx engine`, fmt(w.onnx), w.onnx === null ? "onnxruntime-node not installed" : `${(w.tfjs / w.onnx).toFixed(1)}x faster than tfjs`],
  ];
  return [...row("U-Net forward b256", e.unetForwardB256, `${e.unetParams} parameters`), ...row("CFG sampling 64 x 50 (cfgSampler)", e.cfgSample64x50, "sampleImages, DDIM, s = 3")];
}

/** Ratios ours / PyTorch (2 threads) with the acceptance targets of issue 13. */
function torchRows(t: TorchBench | string | null, mlpStep: number, unetStep: number, e: EngineBench): [string, string, string][] {
  if (t === null) return [["vs PyTorch", "n/a", "add --vs-torch (needs python3-torch)"]];
  if (typeof t === "string") return [["vs PyTorch", "n/a", t]];
  const fwd = best(e.unetForwardB256);
  const cfg = best(e.cfgSample64x50);
  const mlpParams = new MlpDenoiser(DEFAULT_MLP_CONFIG, new Rng(0));
  const same = mlpParams.numParams() === t.mlp_params && e.unetParams === t.unet_params;
  mlpParams.dispose();
  const r = (name: string, ours: number, theirs: number, target: number, what: string): [string, string, string] => {
    const ratio = ours / theirs;
    return [`${name} / PyTorch`, `${ratio.toFixed(2)}x`, `ours ${fmt(ours)} (${what}) vs ${fmt(theirs)}; target <= ${target}x: ${ratio <= target ? "met" : "MISSED"}`];
  };
  return [
    ["PyTorch", t.torch, `${t.threads} threads; same nets: ${same ? "yes" : "NO"} (MLP ${t.mlp_params}, U-Net ${t.unet_params} parameters)`],
    r("U-Net forward b256", fwd.ms, t.unet_fwd, 1.0, fwd.engine),
    r("CFG sampling 64 x 50", cfg.ms, t.cfg_sample, 1.0, cfg.engine),
    r("MLP train step b512", mlpStep, t.mlp_step, 1.5, "tfjs"),
    r("U-Net train step b128", unetStep, t.unet_step, 2.0, "tfjs"),
  ];
}

function fmt(ms: number | null): string {
  if (ms === null) return "n/a";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** What tools/grade/bench.ts measures (declared here so the bench builds without the grader). */
interface GradingBench {
  singleS: number;
  batchS: number;
  batchSize: number;
  jobs: number;
  singleScore: number;
  batchResults: number;
}
interface GradingBenchModule {
  benchGrading(opts: { log: (s: string) => void }): Promise<GradingBench>;
  gradingBenchRows(b: GradingBench): [string, string, string][];
}

/** The grader's timing rows, loaded lazily: the student release ships the bench but not the grader. */
function loadGradingBench(): GradingBenchModule | null {
  const file = path.join(__dirname, "grade", "bench.js");
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return fs.existsSync(file) ? (require(file) as GradingBenchModule) : null;
}

async function main(argv: string[]): Promise<number> {
  let args: BenchArgs | null;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\nusage: npm run bench [-- --quick] [-- --no-notebook] [-- --no-grading] [-- --vs-torch] [-- --out FILE]\n`);
    return 2;
  }
  if (!args) {
    process.stdout.write("usage: npm run bench [-- --quick] [-- --no-notebook] [-- --no-grading] [-- --vs-torch] [-- --out FILE]\n");
    return 0;
  }
  const backend = await initBackend();
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
  log(`backend ${backend.name} (${backend.reason})`);
  const speed = machineSpeed({}); // always timed: the bench reports the machine it ran on
  log("MLP training step: ours / stock / Layers …");
  const mlp = await mlpSteps(args.quick);
  log("ring-mlp training loop …");
  const loop = trainLoopMsPerStep(args.quick);
  log("DDIM 2000 × 100 …");
  const ddim = await ddimMs(args.quick);
  log("U-Net 16x16: train step b128, forward b256, guided sampling 64 x 50, SR3 64 x 25 …");
  const img = await imageBench(timeMs, args.quick);
  log("engines: U-Net forward b256 and CFG sampling 64 x 50 on tfjs and onnx …");
  const eng = await engineBench(timeMs, args.quick);
  let torch: TorchBench | string | null = null;
  if (args.vsTorch) {
    log("PyTorch (2 threads): the same MLP and U-Net workloads, right after ours …");
    torch = torchBench(ROOT, args.quick);
  }
  log("CLIP train step b256; GLIDE (CFG, CLIP guidance) and unCLIP sampling, 64 images …");
  const t2i = await text2ImgBench(timeMs, args.quick);
  let nbs: NotebookTiming[] = [{ name: "notebooks", ms: null, note: "skipped (--no-notebook)" }];
  if (args.notebook) {
    log("notebooks, one at a time …");
    nbs = notebookTimings();
  }
  let grading: GradingBench | null = null;
  const gradingModule = args.grading ? loadGradingBench() : null;
  if (gradingModule) {
    log("grading: one submission, then a batch of 40 …");
    grading = await gradingModule.benchGrading({ log });
  }
  const rows: [string, string, string][] = [
    ["backend", backend.name, backend.reason],
    ["machine speed (calibration workload)", fmt(speed.ms), `${speed.factor === 1 ? "as fast as" : `${speed.factor}x slower than`} the reference machine (${REFERENCE_MS} ms); notebook budgets stretch by this`],
    ["MLP train step, fast ops (ours)", fmt(mlp.fast), `3x256 SiLU, batch ${BATCH}, Adam; target <= ${TARGET_MS} ms: ${mlp.fast <= TARGET_MS ? "met" : "MISSED"}`],
    ["MLP train step, stock tfjs ops", fmt(mlp.stock), `${(mlp.stock / mlp.fast).toFixed(1)}x ours (transposed-matMul gradients)`],
    ["MLP train step, tfjs Layers trainOnBatch", fmt(mlp.layers), `${(mlp.layers / mlp.fast).toFixed(1)}x ours`],
    ["ring-mlp training loop, per step", fmt(loop), "incl. batch, noise, qSample, loss readback"],
    ["DDIM, 2000 samples x 100 steps", fmt(ddim), "MLP eps-model, one batched pass"],
    ["U-Net 32-64-64 train step, batch 128", fmt(img.unetStepB128), "16x16x1, class-conditional, Adam"],
    ["U-Net forward, batch 256", fmt(img.unetForwardB256), ""],
    ["CFG sampling, 64 images x 50 DDIM steps", fmt(img.cfgSample64x50), "one batched 2B U-Net pass per step, s = 3"],
    ["classifier-guided sampling, 64 x 50", fmt(img.classifierGuidedSample64x50), "U-Net + classifier input gradient per step, s = 3"],
    ["SR3 super-resolution 8x8 -> 16x16, per image", fmt(img.srPerImage25), "25 DDIM steps, 64 images per batch, conditioning augmentation a = 0.2"],
    ["CLIP train step, batch 256", fmt(t2i.clipStepB256), "conv image tower + 2-layer text transformer, InfoNCE, Adam"],
    ["GLIDE + classifier-free guidance, per image", fmt(t2i.glideCfgPerImage), "RGB 16x16, 20 DDIM steps, 64 images, one batched 2B pass per step"],
    ["GLIDE + CLIP guidance, per image", fmt(t2i.glideClipPerImage), "20 steps, U-Net + noised-CLIP input gradient per step"],
    ["unCLIP (prior + decoder), per image", fmt(t2i.unclipPerImage), "prior 50 steps (MLP) + decoder 20 steps with CFG"],
    ...engineRows(eng),
    ...torchRows(torch, mlp.fast, img.unetStepB128, eng),
    ...nbs.map((n): [string, string, string] => [`${n.name.replace(/\.ipynb$/, "")} execution`, fmt(n.ms), n.note]),
    ...(grading && gradingModule
      ? gradingModule.gradingBenchRows(grading)
      : [["grading", "n/a", args.grading ? "grader not in this checkout (student release)" : "skipped (--no-grading)"] as [string, string, string]]),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write(rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`).join("\n") + "\n");
  const report = {
    date: new Date().toISOString(),
    backend: backend.name,
    backendReason: backend.reason,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "?", node: process.version, tfjs: tf.version.tfjs, calibrationMs: speed.ms, speedFactor: speed.factor, referenceMs: REFERENCE_MS },
    mlpStep: { config: { ...DEFAULT_MLP_CONFIG, batch: BATCH, optimizer: "adam" }, fastMs: mlp.fast, stockMs: mlp.stock, layersMs: mlp.layers, stockOverFast: mlp.stock / mlp.fast, layersOverFast: mlp.layers / mlp.fast, targetMs: TARGET_MS, targetMet: mlp.fast <= TARGET_MS },
    trainLoopMsPerStep: loop,
    ddim2000x100Ms: ddim,
    images: img,
    engines: eng,
    vsTorch: torch,
    text2img: t2i,
    notebooks: nbs,
    grading: grading && { singleS: grading.singleS, batchS: grading.batchS, batchSize: grading.batchSize, jobs: grading.jobs, singleScore: grading.singleScore, batchResults: grading.batchResults },
    quick: args.quick,
  };
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, JSON.stringify(report, null, 2) + "\n");
  log(`wrote ${args.out}`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`bench: failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
