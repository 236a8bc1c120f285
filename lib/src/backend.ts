/**
 * Choose the TensorFlow.js backend at run time.
 *
 * Order of preference: `tensorflow` (@tensorflow/tfjs-node, native libtensorflow; an optional
 * dependency that only installs where its binary could be downloaded) → `wasm`
 * (@tensorflow/tfjs-backend-wasm, SIMD, single-threaded in Node) → `cpu` (pure JavaScript,
 * a slow correctness reference).
 *
 * Override with the environment variable `COURSE_BACKEND` = `tensorflow` | `node` | `wasm` | `cpu`.
 * An override that cannot be honoured is an error, not a silent fallback.
 *
 * The sampling engine (./engine: tfjs, or onnxruntime-node when installed; `COURSE_ENGINE`
 * forces one) is reported alongside, so every notebook's first cell prints which engine runs.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { describeEngine } from "./engine/engine";

/** Backend names as tfjs registers them. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** The active tfjs backend. */
  name: BackendName;
  /** Human-readable reason, e.g. "tfjs-node not installed; using wasm (SIMD)"; ends with the sampling engine. */
  reason: string;
  /** The inference engine for sampling, e.g. "tfjs (onnxruntime-node not installed: …)". */
  engine: string;
}

/** Environment variable that forces a backend. */
export const BACKEND_ENV = "COURSE_BACKEND";

let chosen: Promise<BackendInfo> | null = null;

function parseOverride(raw: string | undefined): BackendName | null {
  if (raw === undefined || raw.trim() === "") return null;
  const v = raw.trim().toLowerCase();
  if (v === "node" || v === "tensorflow" || v === "tfjs-node") return "tensorflow";
  if (v === "wasm" || v === "cpu") return v;
  throw new Error(`${BACKEND_ENV}=${raw} is not a backend; use one of: tensorflow (alias node), wasm, cpu`);
}

async function tryNode(): Promise<string | null> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    require("@tensorflow/tfjs-node");
  } catch (e) {
    return `tfjs-node unavailable (${firstLine(e)})`;
  }
  return (await tf.setBackend("tensorflow")) ? null : "tfjs-node loaded but its backend failed to initialise";
}

async function tryWasm(): Promise<string | null> {
  try {
    require("@tensorflow/tfjs-backend-wasm");
  } catch (e) {
    return `tfjs-backend-wasm unavailable (${firstLine(e)})`;
  }
  return (await tf.setBackend("wasm")) ? null : "wasm backend failed to initialise";
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0];
}

async function choose(override: BackendName | null): Promise<Omit<BackendInfo, "engine">> {
  if (override === "tensorflow") {
    const err = await tryNode();
    if (err) throw new Error(`${BACKEND_ENV} asks for tfjs-node but ${err}`);
    return { name: "tensorflow", reason: `forced by ${BACKEND_ENV}` };
  }
  if (override === "wasm") {
    const err = await tryWasm();
    if (err) throw new Error(`${BACKEND_ENV} asks for wasm but ${err}`);
    return { name: "wasm", reason: `forced by ${BACKEND_ENV}` };
  }
  if (override === "cpu") {
    await tf.setBackend("cpu");
    return { name: "cpu", reason: `forced by ${BACKEND_ENV}` };
  }
  const nodeErr = await tryNode();
  if (!nodeErr) return { name: "tensorflow", reason: "tfjs-node (native libtensorflow)" };
  const wasmErr = await tryWasm();
  if (!wasmErr) return { name: "wasm", reason: `${nodeErr}; using wasm (SIMD)` };
  await tf.setBackend("cpu");
  return { name: "cpu", reason: `${nodeErr}; ${wasmErr}; using the pure-JS cpu backend (slow)` };
}

/**
 * Pick and initialise the backend once per process; later calls return the same answer.
 * Call it (and await it) before any tensor work.
 *
 * @example
 * const info = await initBackend();
 * console.log(`backend: ${info.name} (${info.reason})`);
 */
export function initBackend(): Promise<BackendInfo> {
  if (!chosen) {
    chosen = (async () => {
      const info = await choose(parseOverride(process.env[BACKEND_ENV]));
      await tf.ready();
      const engine = describeEngine();
      return { ...info, reason: `${info.reason}; sampling engine: ${engine}`, engine };
    })();
    chosen.catch(() => {
      chosen = null;
    });
  }
  return chosen;
}

/**
 * Switch to a named backend explicitly (e.g. a test comparing backends). Unlike
 * {@link initBackend} this ignores `COURSE_BACKEND`. Returns the previous backend's name.
 */
export async function useBackend(name: BackendName): Promise<string> {
  const previous = tf.getBackend();
  const err = name === "tensorflow" ? await tryNode() : name === "wasm" ? await tryWasm() : null;
  if (err) throw new Error(`cannot use backend ${name}: ${err}`);
  if (name === "cpu") await tf.setBackend("cpu");
  await tf.ready();
  return previous;
}
