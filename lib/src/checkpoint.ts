/**
 * Checkpoints: named float32/int32 tensors plus metadata, in a folder
 *
 *   <dir>/manifest.json   format, version, tensor table (name, shape, dtype, byte offset/length),
 *                         weights size and checksum, free-form metadata (config, seed, …)
 *   <dir>/weights.bin     the tensors' values, concatenated, little-endian
 *
 * Both files are written to a temporary name and renamed into place, weights first, so a
 * crash never leaves a manifest that points at half-written weights; the manifest's checksum
 * (FNV-1a, Fowler–Noll–Vo) catches a weights file from another run.
 *
 * Checkpoints live in `<repo>/checkpoints/<name>` ({@link checkpointsDir}); the environment
 * variable COURSE_CHECKPOINTS points elsewhere. Rebuild one with `npm run train -- <name>`.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "./io";
import type { TrainResult } from "./train";

/**
 * Environment variable that overrides {@link checkpointsDir}.
 * @see notebooks/01_score_matching.ipynb
 */
export const CHECKPOINTS_ENV = "COURSE_CHECKPOINTS";
const FORMAT = "course-checkpoint";
const VERSION = 1;
const WEIGHTS = "weights.bin";
const MANIFEST = "manifest.json";

/**
 * Free-form metadata saved with a checkpoint; the named fields are conventional.
 * @see notebooks/01_score_matching.ipynb
 */
export interface CheckpointMeta {
  recipe?: string;
  config?: unknown;
  seed?: number;
  steps?: number;
  batchSize?: number;
  finalLoss?: number;
  trainSeconds?: number;
  backend?: string;
  command?: string;
  date?: string;
  [key: string]: unknown;
}

/**
 * One row of the manifest's tensor table.
 * @see notebooks/01_score_matching.ipynb
 */
export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  offset: number;
  byteLength: number;
}

/**
 * The parsed manifest.json.
 * @see notebooks/01_score_matching.ipynb
 */
export interface CheckpointManifest {
  format: string;
  version: number;
  weightsFile: string;
  weightsBytes: number;
  weightsChecksum: string;
  tensors: TensorEntry[];
  meta: CheckpointMeta;
}

/**
 * The folder holding all checkpoints: $COURSE_CHECKPOINTS, else `<repo root>/checkpoints`
 * (found from this file, so it works from lib/src and lib/dist alike).
 * @see notebooks/01_score_matching.ipynb
 */
export function checkpointsDir(): string {
  const env = process.env[CHECKPOINTS_ENV];
  return env && env.trim() !== "" ? path.resolve(env) : path.resolve(__dirname, "..", "..", "checkpoints");
}

/**
 * The folder of the named checkpoint, e.g. `checkpointPath("ring-mlp")`.
 * @see notebooks/01_score_matching.ipynb
 */
export function checkpointPath(name: string): string {
  return path.join(checkpointsDir(), name);
}

/** FNV-1a 32-bit hash of bytes, as 8 hex digits. */
function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * Save named tensors and metadata to `dir` (created if needed; existing files replaced).
 * @returns the manifest written
 * @example saveCheckpoint(checkpointPath("ring-mlp"), net.getWeights(), { seed: 0, steps: 6000 })
 * @see notebooks/01_score_matching.ipynb
 */
export function saveCheckpoint(dir: string, tensors: Record<string, tf.Tensor>, meta: CheckpointMeta = {}): CheckpointManifest {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== "float32" && t.dtype !== "int32") throw new Error(`saveCheckpoint: ${name} has dtype ${t.dtype}; only float32 and int32 are stored`);
    entries.push({ name, shape: [...t.shape], dtype: t.dtype, offset, byteLength: t.size * 4 });
    offset += t.size * 4;
  }
  const buf = new ArrayBuffer(offset);
  const view = new DataView(buf);
  for (const e of entries) {
    const values = tensors[e.name].dataSync();
    for (let i = 0; i < values.length; i++) {
      if (e.dtype === "float32") view.setFloat32(e.offset + 4 * i, values[i], true);
      else view.setInt32(e.offset + 4 * i, values[i], true);
    }
  }
  const bytes = new Uint8Array(buf);
  const manifest: CheckpointManifest = {
    format: FORMAT,
    version: VERSION,
    weightsFile: WEIGHTS,
    weightsBytes: bytes.length,
    weightsChecksum: `fnv1a32:${fnv1a(bytes)}`,
    tensors: entries,
    meta,
  };
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, WEIGHTS), bytes);
  writeFileAtomic(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

function rebuildHint(dir: string): string {
  return `Rebuild it with: npm run train -- ${path.basename(path.resolve(dir))}`;
}

/**
 * Read and validate a checkpoint's manifest.json (no tensors are created).
 * @see notebooks/01_score_matching.ipynb
 */
export function readManifest(dir: string): CheckpointManifest {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new Error(`No checkpoint at ${dir} (${MANIFEST} not found). ${rebuildHint(dir)}`);
  let m: CheckpointManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8")) as CheckpointManifest;
  } catch (e) {
    throw new Error(`Corrupt checkpoint at ${dir}: ${MANIFEST} is not valid JSON (${(e as Error).message}). ${rebuildHint(dir)}`);
  }
  const bad = (why: string) => new Error(`Corrupt checkpoint at ${dir}: ${why}. ${rebuildHint(dir)}`);
  if (m === null || typeof m !== "object" || m.format !== FORMAT) throw bad(`${MANIFEST} is not a ${FORMAT} manifest`);
  if (m.version !== VERSION) throw bad(`format version ${m.version} is not supported (expected ${VERSION})`);
  if (!Array.isArray(m.tensors)) throw bad("the manifest has no tensor table");
  for (const e of m.tensors) {
    const size = Array.isArray(e.shape) ? e.shape.reduce((a, b) => a * b, 1) : NaN;
    const ok = (e.dtype === "float32" || e.dtype === "int32") && e.byteLength === size * 4 && e.offset >= 0 && e.offset + e.byteLength <= m.weightsBytes;
    if (!ok) throw bad(`tensor entry ${JSON.stringify(e.name)} is inconsistent`);
  }
  return m;
}

/**
 * Load a checkpoint: the named tensors (the caller disposes them) and its metadata.
 * Throws a clear error naming the path when the folder, the manifest or the weights are
 * missing or do not match.
 *
 * @example const { tensors, meta } = loadCheckpoint(checkpointPath("ring-mlp"));
 * @see notebooks/01_score_matching.ipynb
 */
export function loadCheckpoint(dir: string): { tensors: Record<string, tf.Tensor>; meta: CheckpointMeta; manifest: CheckpointManifest } {
  const m = readManifest(dir);
  const file = path.join(dir, m.weightsFile ?? WEIGHTS);
  const bad = (why: string) => new Error(`Corrupt checkpoint at ${dir}: ${why}. ${rebuildHint(dir)}`);
  if (!fs.existsSync(file)) throw bad(`${path.basename(file)} is missing`);
  const bytes = new Uint8Array(fs.readFileSync(file));
  if (bytes.length !== m.weightsBytes) throw bad(`${path.basename(file)} has ${bytes.length} bytes, the manifest says ${m.weightsBytes}`);
  if (`fnv1a32:${fnv1a(bytes)}` !== m.weightsChecksum) throw bad(`${path.basename(file)} does not match the manifest's checksum`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, tf.Tensor> = {};
  for (const e of m.tensors) {
    const n = e.byteLength / 4;
    const values = e.dtype === "float32" ? new Float32Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) values[i] = e.dtype === "float32" ? view.getFloat32(e.offset + 4 * i, true) : view.getInt32(e.offset + 4 * i, true);
    tensors[e.name] = tf.tensor(values, e.shape, e.dtype);
  }
  return { tensors, meta: m.meta ?? {}, manifest: m };
}

/**
 * The metadata of a training run, as saved in its checkpoint: the recipe (name and config), seed,
 * steps, batch size, learning rate, final loss, wall-clock seconds, backend, parameter count, date
 * and the logged loss history. One builder for every recipe kind.
 *
 * @example trainingMeta(recipe, { seed, steps, batchSize, learningRate }, result, net.numParams())
 * @see notebooks/01_score_matching.ipynb
 */
export function trainingMeta(
  recipe: { name: string },
  run: { seed: number; steps: number; batchSize: number; learningRate: number },
  result: TrainResult,
  numParams: number,
): CheckpointMeta {
  return {
    recipe: recipe.name,
    config: recipe,
    ...run,
    finalLoss: result.finalLoss,
    trainSeconds: Math.round(result.seconds * 10) / 10,
    backend: tf.getBackend(),
    numParams,
    date: new Date().toISOString(),
    lossHistory: result.history.map((h) => ({ step: h.step, loss: Number(h.loss.toPrecision(5)) })),
  };
}

/**
 * A net that can take a checkpoint's weights (every course network).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface CheckpointableNet {
  setWeights(weights: Record<string, tf.Tensor>): void;
  dispose(): void;
}

/**
 * Load a checkpoint and build its net from the recipe in its manifest (or, for an old manifest
 * without one, from `fallback()`): one loader for every recipe family. `kinds` lists the recipe
 * kinds this loader accepts. Errors name the folder and the command that rebuilds it; the
 * checkpoint's tensors are always freed, and a net that does not fit is disposed.
 *
 * @example loadNetCheckpoint(dir, ["clip"], () => getClipRecipe(name), (r) => new ClipModel(r.net, new Rng(0)))
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function loadNetCheckpoint<R extends { kind?: string; name: string; net?: unknown }, Net extends CheckpointableNet>(
  dir: string,
  kinds: readonly string[],
  fallback: () => R,
  build: (recipe: R) => Net,
): { net: Net; recipe: R; meta: CheckpointMeta } {
  const { tensors, meta } = loadCheckpoint(dir);
  try {
    const recipe = (meta.config as R | undefined) ?? fallback();
    if (!recipe || (recipe.kind !== undefined && !kinds.includes(recipe.kind))) {
      throw new Error(`checkpoint at ${dir} is not a ${kinds.join(" or ")} checkpoint (its manifest says ${recipe?.kind ?? "nothing"})`);
    }
    if (!recipe.net) throw new Error(`checkpoint at ${dir} has no recipe config in its manifest`);
    const net = build(recipe);
    try {
      net.setWeights(tensors);
    } catch (e) {
      net.dispose();
      throw new Error(`checkpoint at ${dir} does not fit its recipe: ${(e as Error).message}. Rebuild it with: npm run train -- ${recipe.name}`);
    }
    return { net, recipe, meta };
  } finally {
    tf.dispose(tensors);
  }
}

/**
 * A recipe by name from a registry (own properties only, so "toString" is unknown); the error
 * lists the known names.
 * @example lookupRecipe(CLIP_RECIPES, "clip", "CLIP recipe")
 * @see notebooks/01_score_matching.ipynb
 */
export function lookupRecipe<R>(registry: Readonly<Record<string, R>>, name: string, what: string): R {
  const r = Object.prototype.hasOwnProperty.call(registry, name) ? registry[name] : undefined;
  if (!r) throw new Error(`unknown ${what} "${name}"; known: ${Object.keys(registry).join(", ")}`);
  return r;
}
