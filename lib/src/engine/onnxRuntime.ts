/**
 * onnxruntime-node (Microsoft's ONNX Runtime with its multi-threaded MLAS CPU kernels), loaded
 * only if the optional dependency is installed, behind a small synchronous session.
 *
 * Why synchronous: the course's sampling loop ({@link sample}) and every notebook call are
 * synchronous. The package's public `InferenceSession.run` wraps a synchronous native call in a
 * promise (setImmediate); we call that native session directly (`dist/binding`, the pinned
 * 1.30.0 layout, checked on load) so an engine call returns a tf.Tensor like a tfjs net does.
 *
 * Session options follow the measurements in shared/TFJS_NOTES.md: intra-op threads = 2
 * (COURSE_ORT_THREADS overrides), inter-op 1, graph optimisation "all", worker threads that
 * do not spin (COURSE_ORT_SPIN=1 turns spinning back on).
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */

/** A tensor as the native binding takes and returns it. */
export interface OrtTensorLike {
  type: string;
  data: Float32Array | Int32Array | BigInt64Array;
  dims: readonly number[];
}

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, OrtTensorLike>;
  dispose(): void;
  inputMetadata: Array<{ name: string }>;
  outputMetadata: Array<{ name: string }>;
}

interface OrtModules {
  Tensor: new (type: string, data: Float32Array | Int32Array | BigInt64Array, dims: readonly number[]) => OrtTensorLike;
  NativeSession: new () => NativeSession;
  version: string;
}

/** A tensor record for the native binding: type, data, dims (what the binding reads and writes). */
class PlainTensor implements OrtTensorLike {
  readonly location = "cpu";
  constructor(readonly type: string, readonly data: Float32Array | Int32Array | BigInt64Array, readonly dims: readonly number[]) {}
}

let loaded: OrtModules | null | undefined;
let loadError = "";

/** Environment variable for the number of onnxruntime intra-op threads (default 2). */
export const ORT_THREADS_ENV = "COURSE_ORT_THREADS";

/**
 * The onnxruntime-node modules, or null when the optional dependency is missing or fails to load
 * ({@link ortUnavailableReason} says why).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function loadOrt(): OrtModules | null {
  if (loaded !== undefined) return loaded;
  try {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const ort = require("onnxruntime-node");
    const bindingModule = require("onnxruntime-node/dist/binding");
    const { isMainThread } = require("worker_threads");
    /* eslint-enable @typescript-eslint/no-var-requires */
    const native = bindingModule.binding;
    if (typeof native?.InferenceSession !== "function" || typeof native?.initOrtOnce !== "function") throw new Error("unexpected onnxruntime-node layout (pinned 1.30.0 expected)");
    // The binding builds its outputs with the tensor class given here. A plain record class (no
    // typed-array realm checks) also works where a test runner hands out typed arrays from another
    // realm (jest's vm context). (The package's own initOrt would set its Tensor class again.)
    native.initOrtOnce(2, PlainTensor, isMainThread);
    loaded = { Tensor: PlainTensor, NativeSession: native.InferenceSession, version: String(ort.env?.versions?.node ?? "?") };
  } catch (e) {
    loadError = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    loaded = null;
  }
  return loaded;
}

/**
 * Why onnxruntime-node could not be loaded ("" when it loaded or was never tried).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function ortUnavailableReason(): string {
  loadOrt();
  return loadError;
}

/** Set to 1 to let onnxruntime's worker threads spin between kernels (its default; off here). */
export const ORT_SPIN_ENV = "COURSE_ORT_SPIN";

/** Number of live native sessions (for disposal tests). */
let liveSessions = 0;

/**
 * The number of {@link OrtSession}s created and not yet disposed.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function liveOrtSessions(): number {
  return liveSessions;
}

/**
 * A loaded ONNX model with a synchronous `run`. Dispose it to free the native memory.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export class OrtSession {
  private session: NativeSession | null;
  private readonly ort: OrtModules;
  readonly outputNames: string[];

  constructor(model: Uint8Array, threads?: number) {
    const ort = loadOrt();
    if (!ort) throw new Error(`OrtSession: onnxruntime-node is not available (${loadError})`);
    this.ort = ort;
    const n = threads ?? Number(process.env[ORT_THREADS_ENV] ?? 2);
    if (!Number.isInteger(n) || n < 1) throw new Error(`OrtSession: ${ORT_THREADS_ENV} must be a positive integer, got ${process.env[ORT_THREADS_ENV]}`);
    const s = new ort.NativeSession();
    const spin = process.env[ORT_SPIN_ENV] === "1" ? "1" : "0";
    s.loadModel(model.buffer, model.byteOffset, model.byteLength, {
      intraOpNumThreads: n,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      // worker threads sleep instead of spinning between kernels: on a shared 2-core machine
      // spinning threads steal the cores that the other thread (and every other process) needs
      extra: { session: { intra_op: { allow_spinning: spin } } },
    });
    this.session = s;
    this.outputNames = s.outputMetadata.map((m) => m.name);
    liveSessions++;
  }

  /** Run the model on named float32/int32 inputs; returns the outputs by name. */
  run(feeds: Record<string, { data: Float32Array | Int32Array; dims: number[] }>): Record<string, OrtTensorLike> {
    if (!this.session) throw new Error("OrtSession.run: the session was disposed");
    const inputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(feeds)) {
      const isFloat = Object.prototype.toString.call(v.data) === "[object Float32Array]";
      inputs[k] = new this.ort.Tensor(isFloat ? "float32" : "int32", v.data, v.dims);
    }
    const fetches: Record<string, null> = {};
    for (const n of this.outputNames) fetches[n] = null;
    return this.session.run(inputs, fetches, {});
  }

  get disposed(): boolean {
    return this.session === null;
  }

  /** Free the native session (idempotent). */
  dispose(): void {
    if (!this.session) return;
    this.session.dispose();
    this.session = null;
    liveSessions--;
  }
}
