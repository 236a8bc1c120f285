/**
 * Engine rows of `npm run bench` (issue 13): the 16×16 U-Net's forward pass at batch 256 and
 * classifier-free guided sampling of 64 images × 50 DDIM steps (the lib's cfgSampler +
 * sampleImages, s = 3), each on the tfjs engine and on the onnx engine (onnxruntime-node, when
 * installed), and — with `--vs-torch` — the same MLP and U-Net workloads in PyTorch CPU with
 * 2 threads (tools/bench/torch_bench.py, Debian's python3-torch), run right after ours so the
 * ratios compare one machine state.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  DEFAULT_UNET_CONFIG, ENGINE_ENV, Rng, UNet, cfgSampler, loadOrt, makeSchedule, netSpec, onnxEngine, releaseEngineSessions, sampleImages,
} from "@course/lib";

type Timer = (f: () => void | Promise<void>, warm: number, reps: number) => Promise<number>;

/** Milliseconds per workload and engine (onnx null when onnxruntime-node is not installed). */
export interface EngineBench {
  unetForwardB256: { tfjs: number; onnx: number | null };
  cfgSample64x50: { tfjs: number; onnx: number | null };
  unetParams: number;
}

/** Run `f` with COURSE_ENGINE set to `engine`, restoring it afterwards. */
function withEngine<T>(engine: "tfjs" | "onnx", f: () => T): T {
  const before = process.env[ENGINE_ENV];
  process.env[ENGINE_ENV] = engine;
  releaseEngineSessions();
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env[ENGINE_ENV];
    else process.env[ENGINE_ENV] = before;
    releaseEngineSessions();
  }
}

export async function engineBench(time: Timer, quick: boolean): Promise<EngineBench> {
  const rng = new Rng(0);
  const net = new UNet(DEFAULT_UNET_CONFIG, rng.fork("unet"));
  const schedule = makeSchedule("cosine", 1000);
  const haveOrt = loadOrt() !== null;
  const x = rng.randn([256, 16, 16, 1]) as tf.Tensor4D; // [256, 16, 16, 1]
  const t = tf.fill([256], 500, "float32") as tf.Tensor1D; // [256]
  const cond = tf.fill([256], 10, "int32") as tf.Tensor1D; // [256] ∅
  const inputs = { xt: x, t, cond };
  const spec = netSpec(net);
  const reps = quick ? 2 : 5;
  const fwdTfjs = await time(() => {
    const y = spec.forward(inputs);
    y.dataSync();
    y.dispose();
  }, 1, reps);
  let fwdOnnx: number | null = null;
  if (haveOrt) {
    const compiled = onnxEngine.compile(spec);
    fwdOnnx = await time(() => {
      const y = compiled.run(inputs);
      y.dataSync();
      y.dispose();
    }, 1, reps);
    compiled.dispose();
  }
  const labels = Int32Array.from({ length: 64 }, (_, i) => i % 10);
  const cfg = () => {
    const imgs = sampleImages({ sampler: cfgSampler(net, 3), labels, schedule, rng: new Rng(1), numSteps: 50, batchSize: 64 });
    imgs.dataSync();
    imgs.dispose();
  };
  const cfgTfjs = await withEngine("tfjs", () => time(cfg, 0, 1));
  const cfgOnnx = haveOrt ? await withEngine("onnx", () => time(cfg, 1, quick ? 1 : 3)) : null;
  const unetParams = net.numParams();
  tf.dispose([x, t, cond]);
  net.dispose();
  return { unetForwardB256: { tfjs: fwdTfjs, onnx: fwdOnnx }, cfgSample64x50: { tfjs: cfgTfjs, onnx: cfgOnnx }, unetParams };
}

/** What tools/bench/torch_bench.py prints (milliseconds, parameter counts). */
export interface TorchBench {
  torch: string;
  threads: number;
  mlp_params: number;
  unet_params: number;
  mlp_step: number;
  unet_step: number;
  unet_fwd: number;
  cfg_sample: number;
}

/**
 * Time the PyTorch mirror with 2 threads, or say why it cannot run (no python3 or no torch:
 * `apt-get install python3-torch` on Debian).
 */
export function torchBench(root: string, quick: boolean): TorchBench | string {
  const script = path.join(root, "tools", "bench", "torch_bench.py");
  // COURSE_PYTHON, else the first of python3 and Debian's /usr/bin/python3 (a pyenv shim can hide it) that imports torch
  const candidates = [process.env.COURSE_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p);
  const python = candidates.find((p) => spawnSync(p, ["-c", "import torch"], { encoding: "utf8" }).status === 0);
  if (python === undefined) return `PyTorch not found for ${candidates.join(", ")} (Debian: apt-get install python3-torch; or set COURSE_PYTHON)`;
  // OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP threads sleep instead of spinning, as onnxruntime's
  // do here (lib/src/engine/onnxRuntime.ts), so neither side is penalised on a shared machine
  const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? "PASSIVE" };
  const r = spawnSync(python, [script, "--threads", "2", ...(quick ? ["--quick"] : [])], { encoding: "utf8", env, timeout: 20 * 60 * 1000 });
  if (r.status !== 0) return `torch_bench.py failed (exit ${r.status ?? r.signal}): ${(r.stderr || "").trim().split("\n").slice(-1)[0]}`;
  return JSON.parse(r.stdout.trim().split("\n").slice(-1)[0]) as TorchBench;
}
