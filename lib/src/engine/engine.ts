/**
 * Inference engines behind one interface: `tfjs` (the network's own forward pass) and `onnx`
 * (the same network traced once, exported to ONNX and run by onnxruntime-node). Samplers and
 * guidance call {@link netForward}; training and input gradients (classifier and CLIP
 * guidance) stay on tfjs, which differentiates.
 *
 * Choice: `COURSE_ENGINE=tfjs|onnx` forces an engine (onnx without onnxruntime-node installed is
 * an error). Otherwise onnx runs whenever onnxruntime-node loads, and tfjs without it. The choice
 * is fixed, not timed per run, so that an executed notebook gives the same numbers run after run
 * (`npm run bench` measures the two engines side by side: onnx sampled 2.8× faster).
 *
 * Sessions are cached per network (at most {@link MAX_CACHED_SESSIONS}, least recently used are
 * disposed) and keyed by a fingerprint of the weights, so training a net after sampling from it
 * re-exports it. {@link releaseEngineSessions} frees them all.
 *
 * | code         | meaning                                                      |
 * |--------------|--------------------------------------------------------------|
 * | EngineName   | "tfjs" or "onnx"                                             |
 * | CompiledNet  | a network ready to run on one engine: run(named inputs) → tensor |
 * | TRACE_BATCH  | the batch size a graph is traced at (its batch axis is symbolic) |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { ExportableNet, NetSpec, netSpec } from "./specs";
import { ImageConditioning, UNet } from "../nets/unet";
import { MlpDenoiser } from "../nets/mlp";
import { traceKernels } from "./trace";
import { traceToOnnx } from "./onnxExport";
import { OrtSession, loadOrt, ortUnavailableReason } from "./onnxRuntime";

/** The engines. */
export type EngineName = "tfjs" | "onnx";

/** Environment variable that forces an engine. */
export const ENGINE_ENV = "COURSE_ENGINE";

/** The batch size graphs are traced at; prime, so it is never mistaken for another axis. */
export const TRACE_BATCH = 7;

/** Sessions kept at once. */
export const MAX_CACHED_SESSIONS = 8;

/**
 * A network ready to run on one engine. `run` returns a new tensor (the caller disposes it) and
 * takes every input of the net's {@link NetSpec}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface CompiledNet {
  readonly engine: EngineName;
  run(inputs: Record<string, tf.Tensor>): tf.Tensor;
  dispose(): void;
}

/**
 * An inference engine.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface Engine {
  readonly name: EngineName;
  compile(spec: NetSpec): CompiledNet;
}

function checkInputs(spec: NetSpec, inputs: Record<string, tf.Tensor>): void {
  const names = Object.keys(spec.inputs);
  for (const n of names) if (!(n in inputs)) throw new Error(`${spec.label}: the engine needs input ${n} (inputs: ${names.join(", ")})`);
  for (const n of Object.keys(inputs)) if (!(n in spec.inputs)) throw new Error(`${spec.label}: unexpected input ${n} (inputs: ${names.join(", ")})`);
}

/**
 * The tfjs engine: the network's own forward pass.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const tfjsEngine: Engine = {
  name: "tfjs",
  compile: (spec) => ({
    engine: "tfjs",
    run: (inputs) => {
      checkInputs(spec, inputs);
      return spec.forward(inputs);
    },
    dispose: () => undefined,
  }),
};

/** Random inputs of batch B following a spec (ids cycle through 0…3). */
function exampleInputs(spec: NetSpec, B: number): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, s] of Object.entries(spec.inputs)) {
    const shape = [B, ...s.shape];
    out[name] = s.dtype === "int32" ? tf.tensor(Int32Array.from({ length: B }, (_, i) => i % 4), shape, "int32") : tf.randomUniform(shape, 0, 1, "float32", 1);
  }
  return out;
}

/**
 * The ONNX graph of a network (bytes of an ONNX ModelProto), traced from its tfjs forward pass
 * with the current weights; the batch axis is symbolic.
 *
 * @example fs.writeFileSync("unet.onnx", exportOnnx(unet));
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function exportOnnx(net: ExportableNet): Uint8Array {
  return exportSpec(netSpec(net));
}

function exportSpec(spec: NetSpec): Uint8Array {
  const inputs = exampleInputs(spec, TRACE_BATCH);
  try {
    return traceToOnnx(traceKernels(spec.forward, inputs, spec.weights()), spec.label, TRACE_BATCH);
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

/**
 * The onnx engine: traces the network once, exports it and runs it in onnxruntime-node.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const onnxEngine: Engine = {
  name: "onnx",
  compile: (spec) => {
    const session = new OrtSession(exportSpec(spec));
    return {
      engine: "onnx",
      run: (inputs) => {
        checkInputs(spec, inputs);
        const feeds: Record<string, { data: Float32Array | Int32Array; dims: number[] }> = {};
        for (const [name, s] of Object.entries(spec.inputs)) {
          const t = inputs[name];
          const data = t.dtype === s.dtype ? t.dataSync() : tf.tidy(() => tf.cast(t, s.dtype)).dataSync();
          feeds[name] = { data: data as Float32Array | Int32Array, dims: t.shape };
        }
        const out = session.run(feeds).output;
        return tf.tensor(out.data as Float32Array, out.dims as number[], "float32");
      },
      dispose: () => session.dispose(),
    };
  },
};

/**
 * The engine forced by COURSE_ENGINE, or null when it is unset.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function forcedEngine(): EngineName | null {
  const raw = process.env[ENGINE_ENV];
  if (raw === undefined || raw.trim() === "") return null;
  const v = raw.trim().toLowerCase();
  if (v === "tfjs" || v === "onnx") return v;
  throw new Error(`${ENGINE_ENV}=${raw} is not an engine; use tfjs or onnx`);
}

/**
 * Which engines can run here and how the choice is made, in one line (printed by initBackend).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function describeEngine(): string {
  const forced = forcedEngine();
  const ort = loadOrt();
  if (forced === "onnx" && !ort) throw new Error(`${ENGINE_ENV}=onnx but onnxruntime-node is not available (${ortUnavailableReason()})`);
  if (forced) return `${forced} (forced by ${ENGINE_ENV})`;
  if (!ort) return `tfjs (onnxruntime-node not installed: ${ortUnavailableReason()})`;
  return "onnx (onnxruntime-node installed; COURSE_ENGINE=tfjs forces tfjs)";
}

interface CacheEntry {
  fingerprint: number;
  onnx: CompiledNet | null;
  /** The engine this network runs on. */
  choice: EngineName;
}

const cache = new Map<ExportableNet, CacheEntry>();
let lastChoice: { label: string; engine: EngineName } | null = null;

/** A hash of every weight's float bits (FNV-1a over 32-bit words). */
function fingerprint(spec: NetSpec): number {
  let h = 0x811c9dc5;
  for (const [name, w] of Object.entries(spec.weights()).sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
    const bits = new Int32Array((w.dataSync() as Float32Array).buffer);
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 16777619);
  }
  return h >>> 0;
}

function dropEntry(net: ExportableNet): void {
  const e = cache.get(net);
  if (e?.onnx) e.onnx.dispose();
  cache.delete(net);
}

/**
 * Free every cached onnxruntime session.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function releaseEngineSessions(): void {
  for (const net of [...cache.keys()]) dropEntry(net);
  lastChoice = null;
}

/**
 * The engine the last {@link netForward} call chose (null before any).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function lastEngineChoice(): { label: string; engine: EngineName } | null {
  return lastChoice;
}

function entryFor(net: ExportableNet, spec: NetSpec): CacheEntry {
  const fp = fingerprint(spec);
  const old = cache.get(net);
  if (old && old.fingerprint === fp) {
    cache.delete(net); // re-insert: most recently used last
    cache.set(net, old);
    return old;
  }
  if (old) dropEntry(net);
  const forced = forcedEngine();
  if (forced === "onnx" && !loadOrt()) throw new Error(`${ENGINE_ENV}=onnx but onnxruntime-node is not available (${ortUnavailableReason()})`);
  const useOnnx = forced !== "tfjs" && loadOrt() !== null;
  const entry: CacheEntry = { fingerprint: fp, onnx: useOnnx ? onnxEngine.compile(spec) : null, choice: useOnnx ? "onnx" : "tfjs" };
  cache.set(net, entry);
  lastChoice = { label: spec.label, engine: entry.choice };
  while (cache.size > MAX_CACHED_SESSIONS) dropEntry(cache.keys().next().value as ExportableNet);
  return entry;
}

/**
 * The forward pass of `net` on the chosen engine: named inputs (see {@link netSpec}) → a new
 * tensor. Resolve it once per batch of work (it fingerprints the weights); the returned
 * function is cheap to call every step.
 *
 * @example const f = netForward(unet); const eps = f({ xt, t, cond });
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function netForward(net: ExportableNet): (inputs: Record<string, tf.Tensor>) => tf.Tensor {
  const spec = netSpec(net);
  const entry = entryFor(net, spec);
  const tfjs = tfjsEngine.compile(spec);
  const onnx = entry.onnx;
  return (inputs) => (onnx === null ? tfjs.run(inputs) : onnx.run(inputs));
}

/**
 * A drop-in for `unet.apply(xt, t, cond, extra)` that runs on the chosen engine: same
 * arguments, same defaults (cond ∅, aug 0, zero context), same result.
 *
 * @example const apply = unetApply(unet); const eps = apply(xt, 500, cond);
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function unetApply(net: UNet): (xt: tf.Tensor4D, t: tf.Tensor1D | number, cond?: tf.Tensor1D, extra?: ImageConditioning) => tf.Tensor4D {
  const forward = netForward(net);
  const { numClasses, condChannels, augConditioned, contextDim } = net.config;
  return (xt, t, cond, extra = {}) =>
    tf.tidy(() => {
      const B = xt.shape[0];
      if (extra.image === undefined && condChannels > 0) return net.apply(xt, t, cond, extra); // let the net report the missing image
      const inputs: Record<string, tf.Tensor> = { xt, t: typeof t === "number" ? tf.fill([B], t, "float32") : t };
      if (numClasses !== undefined) inputs.cond = cond ?? tf.fill([B], numClasses, "int32");
      else if (cond !== undefined) return net.apply(xt, t, cond, extra); // the net's own error
      if (condChannels > 0) inputs.image = extra.image!;
      if (augConditioned) inputs.aug = extra.aug === undefined || typeof extra.aug === "number" ? tf.fill([B], extra.aug ?? 0, "float32") : extra.aug;
      if (contextDim > 0) inputs.context = extra.context ?? tf.zeros([B, contextDim]);
      return forward(inputs) as tf.Tensor4D;
    });
}

/**
 * A drop-in for `mlp.apply(xt, t, cond, context)` on the chosen engine.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function mlpApply(net: MlpDenoiser): (xt: tf.Tensor2D, t: tf.Tensor1D, cond?: tf.Tensor1D, context?: tf.Tensor2D) => tf.Tensor2D {
  const forward = netForward(net);
  const { numClasses } = net.config;
  const contextDim = net.config.contextDim ?? 0;
  return (xt, t, cond, context) =>
    tf.tidy(() => {
      const B = xt.shape[0];
      const inputs: Record<string, tf.Tensor> = { xt, t };
      if (numClasses !== undefined) inputs.cond = cond ?? tf.fill([B], numClasses, "int32");
      else if (cond !== undefined) return net.apply(xt, t, cond, context);
      if (contextDim > 0) inputs.context = context ?? tf.zeros([B, contextDim]);
      return forward(inputs) as tf.Tensor2D;
    });
}
