/**
 * Values across the grader's process boundary: a JSON-safe encoding ("wire" form) of what a
 * student function receives and returns, plus a short human description for feedback.
 *
 * Used on both sides of the sandbox (tools/grade/sandbox.ts, tools/grade/child.ts): the trusted
 * grader encodes arguments, the restricted child decodes them (re-creating tensors with its own
 * tfjs), calls the student function and encodes the result; the grader decodes that without
 * tfjs (tensors come back as {@link DecodedTensor}) or with it.
 *
 * | JavaScript value                         | wire form                                                  |
 * |------------------------------------------|------------------------------------------------------------|
 * | finite number, string, boolean, null      | itself (−0 becomes 0)                                      |
 * | NaN, Infinity, −Infinity                  | `{"__num": "NaN" \| "Infinity" \| "-Infinity"}`             |
 * | undefined                                 | `{"__undefined": true}`                                    |
 * | tf.Tensor (any tfjs instance)             | `{"__tensor": {shape, dtype, data}}`, data flat, row-major, non-finite entries as the strings above |
 * | typed array                               | `{"__typed": {type, data}}`                                |
 * | Error                                     | `{"__error": message}`                                     |
 * | array / plain object                      | recursively; an object whose keys clash with a marker is wrapped as `{"__object": {...}}` |
 * | function, symbol, bigint, cycle, Map, ... | `{"__unsupported": "<kind>"}`                              |
 *
 * Decoding is strict about shapes (a malformed wire value throws) and never lets a key such as
 * `__proto__` change a prototype.
 *
 * @see notebooks/01_score_matching.ipynb (the graded exercises whose values cross this boundary)
 */
import type * as TF from "@tensorflow/tfjs";

/** A JSON value: what crosses the process boundary. */
export type Wire = number | string | boolean | null | Wire[] | { [k: string]: Wire };

/** A number on the wire: finite numbers as themselves, the rest as strings. */
export type WireNumber = number | "NaN" | "Infinity" | "-Infinity";

/** Marker keys of the encoding; a one-key object with one of these is a special value. */
const MARKERS: ReadonlySet<string> = new Set([
  "__tensor", "__typed", "__num", "__undefined", "__unsupported", "__error", "__object",
]);

const TYPED = {
  Float32Array, Float64Array, Int8Array, Int16Array, Int32Array,
  Uint8Array, Uint8ClampedArray, Uint16Array, Uint32Array,
} as const;
type TypedName = keyof typeof TYPED;
type NumericTyped = InstanceType<(typeof TYPED)[TypedName]>;
const isTypedName = (n: unknown): n is TypedName => typeof n === "string" && Object.prototype.hasOwnProperty.call(TYPED, n);

/** The dtypes a wire tensor may claim (what tf.tensor accepts for numbers). */
export const TENSOR_DTYPES: ReadonlySet<string> = new Set(["float32", "int32", "bool"]);
/** Highest rank of a wire tensor the grader decodes. */
export const MAX_RANK = 8;
/** Most values of one decoded tensor or typed array. */
export const MAX_DECODED_ELEMENTS = 1 << 22;

/** A tensor decoded without tfjs: shape, dtype and flat row-major data (NaN/±Infinity restored). */
export class DecodedTensor {
  constructor(readonly shape: number[], readonly dtype: string, readonly data: number[]) {}
}

/** A value that could not be sent (a function, a cycle, a disposed tensor, ...), by kind. */
export class UnsupportedValue {
  constructor(readonly kind: string) {}
}

/** Limits of {@link encode}. */
export interface EncodeOptions {
  /** Most numbers/elements in one value (tensor, typed and plain array entries together). */
  maxElements: number;
  /** Deepest nesting of arrays/objects. */
  maxDepth: number;
}

/** Defaults of {@link encode}: 2 M elements (≈ 50 MB of JSON at worst), depth 64. */
export const DEFAULT_ENCODE: EncodeOptions = { maxElements: 2_000_000, maxDepth: 64 };

interface TensorLike {
  shape: number[];
  dtype: string;
  size: number;
  isDisposed: boolean;
  dataSync(): ArrayLike<number>;
}

/** Duck-typed tf.Tensor check: works for any tfjs instance, needs no tfjs import. */
export function isTensorLike(v: unknown): v is TensorLike {
  if (typeof v !== "object" || v === null) return false;
  const t = v as Partial<TensorLike>;
  return Array.isArray(t.shape) && typeof t.dtype === "string" && typeof t.dataSync === "function"
    && typeof t.isDisposed === "boolean";
}

/** "Float32Array", ...; "Uint8Array" for a Buffer too (the %TypedArray% toStringTag). */
function typedName(v: ArrayBufferView): string {
  return Object.prototype.toString.call(v).slice(8, -1);
}

/** A number as it travels inside tensor/typed data. */
export function wireNumber(n: number): WireNumber {
  if (Number.isFinite(n)) return n === 0 ? 0 : n;
  return Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity";
}

/** Inverse of {@link wireNumber}. */
export function fromWireNumber(w: unknown): number {
  if (typeof w === "number") return w;
  if (w === "NaN") return NaN;
  if (w === "Infinity") return Infinity;
  if (w === "-Infinity") return -Infinity;
  throw new Error(`malformed wire number: ${JSON.stringify(w)}`);
}

/**
 * Encode any value into its JSON-safe wire form (see the table in the module header). Never
 * throws for odd values (they become `__unsupported`), but a getter or a tensor's `dataSync`
 * that throws propagates.
 */
export function encode(v: unknown, opts: Partial<EncodeOptions> = {}): Wire {
  const o = { ...DEFAULT_ENCODE, ...opts };
  let budget = o.maxElements;
  const path = new Set<object>();
  const spend = (n: number): boolean => (budget -= n) >= 0;

  const enc = (x: unknown, depth: number): Wire => {
    switch (typeof x) {
      case "number": return Number.isFinite(x) ? (x === 0 ? 0 : x) : { __num: wireNumber(x) };
      case "string": case "boolean": return x;
      case "undefined": return { __undefined: true };
      case "function": return { __unsupported: "function" };
      case "symbol": return { __unsupported: "symbol" };
      case "bigint": return { __unsupported: "bigint" };
    }
    if (x === null) return null;
    const obj = x as object;
    if (path.has(obj)) return { __unsupported: "cycle" };
    if (depth > o.maxDepth) return { __unsupported: "nesting too deep" };
    if (isTensorLike(obj)) return encTensor(obj);
    if (ArrayBuffer.isView(obj)) {
      const name = typedName(obj);
      if (!isTypedName(name)) return { __unsupported: name };
      const arr = obj as NumericTyped;
      if (!spend(arr.length)) return { __unsupported: "value too large" };
      return { __typed: { type: name, data: Array.from(arr, wireNumber) } };
    }
    if (obj instanceof Error) return { __error: String(obj.message) };
    path.add(obj);
    try {
      if (Array.isArray(obj)) {
        if (!spend(obj.length)) return { __unsupported: "value too large" };
        const out: Wire[] = [];
        for (let i = 0; i < obj.length; i++) out.push(enc(obj[i], depth + 1));
        return out;
      }
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        const ctor = proto && typeof proto.constructor === "function" ? String(proto.constructor.name) : "";
        return { __unsupported: ctor || "object" };
      }
      const keys = Object.keys(obj);
      if (!spend(keys.length)) return { __unsupported: "value too large" };
      const entries: { [k: string]: Wire } = {};
      for (const k of keys) define(entries, k, enc((obj as Record<string, unknown>)[k], depth + 1));
      return keys.some((k) => MARKERS.has(k)) ? { __object: entries } : entries;
    } finally {
      path.delete(obj);
    }
  };

  const encTensor = (t: TensorLike): Wire => {
    if (t.isDisposed) return { __unsupported: "disposed tensor" };
    if (t.dtype === "string" || t.dtype === "complex64") return { __unsupported: `${t.dtype} tensor` };
    if (!spend(t.size)) return { __unsupported: "value too large" };
    const shape = t.shape.map((d) => Number(d));
    return { __tensor: { shape, dtype: t.dtype, data: Array.from(t.dataSync(), wireNumber) } };
  };

  return enc(v, 0);
}

/** Set an own enumerable property, even for keys like `__proto__`. */
function define(o: object, k: string, value: unknown): void {
  Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(w: unknown): w is { [k: string]: Wire } {
  return typeof w === "object" && w !== null && !Array.isArray(w);
}

function malformed(what: string): Error {
  return new Error(`malformed wire value: ${what}`);
}

/**
 * Decode a wire value. With `tf`, tensors are re-created as tf.Tensors (the caller owns and
 * disposes them); without it they come back as {@link DecodedTensor}. Unsupported values come
 * back as {@link UnsupportedValue}, errors as `Error`. Throws on a malformed wire value.
 */
export function decode(w: Wire, tf?: typeof TF): unknown {
  if (w === null || typeof w !== "object") {
    if (typeof w === "number" && !Number.isFinite(w)) throw malformed("non-finite number");
    return w;
  }
  if (Array.isArray(w)) return w.map((x) => decode(x, tf));
  const keys = Object.keys(w);
  if (keys.length === 1 && MARKERS.has(keys[0])) {
    const body = w[keys[0]];
    switch (keys[0]) {
      case "__num": return fromWireNumber(body);
      case "__undefined": return undefined;
      case "__unsupported": return new UnsupportedValue(String(body));
      case "__error": return new Error(String(body));
      case "__object": {
        if (!isRecord(body)) throw malformed("__object");
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(body)) define(out, k, decode(body[k], tf));
        return out;
      }
      case "__typed": {
        if (!isRecord(body) || !isTypedName(body.type) || !Array.isArray(body.data)) throw malformed("__typed");
        if (body.data.length > MAX_DECODED_ELEMENTS) throw malformed(`a typed array of ${body.data.length} values`);
        return new TYPED[body.type](body.data.map(fromWireNumber));
      }
      case "__tensor": {
        if (!isRecord(body) || !Array.isArray(body.shape) || typeof body.dtype !== "string" || !Array.isArray(body.data)
          || !body.shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
          throw malformed("__tensor");
        }
        if (!TENSOR_DTYPES.has(body.dtype)) throw malformed(`a tensor of unknown dtype ${JSON.stringify(body.dtype.slice(0, 20))}`);
        if (body.shape.length > MAX_RANK) throw malformed(`a tensor of rank ${body.shape.length} (at most ${MAX_RANK})`);
        if (body.data.length > MAX_DECODED_ELEMENTS) throw malformed(`a tensor of ${body.data.length} values (at most ${MAX_DECODED_ELEMENTS})`);
        const shape = body.shape as number[];
        const data = body.data.map(fromWireNumber);
        if (data.length !== shape.reduce((a, b) => a * b, 1)) throw malformed("__tensor size does not match its shape");
        if (!tf) return new DecodedTensor(shape, body.dtype, data);
        return tf.tensor(data, shape, body.dtype as TF.DataType);
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) define(out, k, decode(w[k], tf));
  return out;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function arrayShape(v: unknown[]): number[] | null {
  if (v.length > 0 && v.every((x) => typeof x === "number")) return [v.length];
  if (v.length > 0 && v.every((x) => Array.isArray(x))) {
    const inner = (v as unknown[][]).map(arrayShape);
    const first = inner[0];
    if (first && inner.every((s) => s !== null && s.join() === first.join())) return [v.length, ...first];
  }
  return null;
}

/**
 * A short human description of a value for feedback, e.g. `tensor float32 [3, 2]`,
 * `number[] of length 4`, `number[][] of shape [3, 2]`, `NaN`, `string "abc"`, `undefined`.
 * Works on raw values, decoded values and tensors alike; never throws.
 */
export function describe(v: unknown): string {
  try {
    if (v === null) return "null";
    switch (typeof v) {
      case "number": return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
      case "string": return `string ${JSON.stringify(clip(v, 40))}`;
      case "boolean": return String(v);
      case "undefined": return "undefined";
      case "function": return "a function";
      case "symbol": return "a symbol";
      case "bigint": return `bigint ${v}`;
    }
    if (v instanceof DecodedTensor || isTensorLike(v)) {
      const t = v as { dtype: string; shape: number[]; isDisposed?: boolean };
      const dims = Array.from(t.shape.slice(0, 6), String).join(", ");
      return `${t.isDisposed ? "disposed " : ""}tensor ${clip(String(t.dtype), 20)} [${dims}${t.shape.length > 6 ? `, … (${t.shape.length} dims)` : ""}]`;
    }
    if (v instanceof UnsupportedValue) return `unsupported value (${v.kind})`;
    if (v instanceof Error) return `error ${JSON.stringify(clip(String(v.message), 60))}`;
    if (ArrayBuffer.isView(v)) return `${typedName(v)} of length ${(v as NumericTyped).length}`;
    if (Array.isArray(v)) {
      if (v.length === 0) return "empty array";
      const shape = arrayShape(v);
      if (shape && shape.length === 1) return `number[] of length ${shape[0]}`;
      if (shape) return `number${"[]".repeat(Math.min(shape.length, 6))}${shape.length > 6 ? "…" : ""} of shape [${shape.slice(0, 6).join(", ")}${shape.length > 6 ? `, … (${shape.length} dims)` : ""}]`;
      return `array of length ${v.length}`;
    }
    if (typeof (v as { then?: unknown }).then === "function") return "a Promise";
    const keys = Object.keys(v as object);
    const shown = keys.slice(0, 5).join(", ") + (keys.length > 5 ? ", …" : "");
    return keys.length === 0 ? "empty object" : `object {${shown}}`;
  } catch {
    return "a value that could not be inspected";
  }
}
