/**
 * The wire encoding between the grader and its sandbox (tools/grade/serialize.ts): exact wire
 * forms, round trips through JSON text, tensors with and without tfjs, hostile shapes of values,
 * and the short descriptions used in feedback.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import {
  decode, DecodedTensor, describe as describeValue, encode, UnsupportedValue, Wire,
} from "../../tools/grade/serialize";

beforeAll(async () => {
  await initBackend();
});

/** encode → JSON text → decode, as across the process boundary. */
const roundTrip = (v: unknown, withTf?: typeof tf): unknown => decode(JSON.parse(JSON.stringify(encode(v))) as Wire, withTf);

describe("encode", () => {
  test("gives the documented wire forms", () => {
    expect(encode(1.5)).toBe(1.5);
    expect(Object.is(encode(-0), 0)).toBe(true);
    expect(encode([NaN, Infinity, -Infinity])).toEqual([{ __num: "NaN" }, { __num: "Infinity" }, { __num: "-Infinity" }]);
    expect(encode(undefined)).toEqual({ __undefined: true });
    expect(encode({ a: "x", b: [true, null] })).toEqual({ a: "x", b: [true, null] });
    expect(encode(new Float32Array([1, NaN]))).toEqual({ __typed: { type: "Float32Array", data: [1, "NaN"] } });
    expect(encode(Buffer.from([1, 2]))).toEqual({ __typed: { type: "Uint8Array", data: [1, 2] } });
    expect(encode(new RangeError("bad"))).toEqual({ __error: "bad" });
  });

  test("encodes tensors of every numeric dtype, row-major, with non-finite entries as strings", () => {
    const before = tf.memory().numTensors;
    const t = tf.tensor2d([[1, NaN], [Infinity, -2]]);
    const i = tf.tensor1d([3, -4], "int32");
    const b = tf.tensor1d([1, 0], "bool");
    expect(encode(t)).toEqual({ __tensor: { shape: [2, 2], dtype: "float32", data: [1, "NaN", "Infinity", -2] } });
    expect(encode(i)).toEqual({ __tensor: { shape: [2], dtype: "int32", data: [3, -4] } });
    expect(encode(b)).toEqual({ __tensor: { shape: [2], dtype: "bool", data: [1, 0] } });
    const s = tf.scalar(2.5);
    expect(encode(s)).toEqual({ __tensor: { shape: [], dtype: "float32", data: [2.5] } });
    tf.dispose([t, i, b, s]);
    expect(tf.memory().numTensors).toBe(before); // encoding creates no tensors
  });

  test("marks what cannot cross: functions, symbols, bigints, cycles, class instances, disposed and string tensors", () => {
    const cyclic: Record<string, unknown> = { x: 1 };
    cyclic.self = cyclic;
    const shared = [1, 2];
    const disposed = tf.tensor1d([1]);
    disposed.dispose();
    const strings = tf.tensor1d(["a"], "string");
    expect(encode([() => 1, Symbol("s"), BigInt(3)])).toEqual([
      { __unsupported: "function" }, { __unsupported: "symbol" }, { __unsupported: "bigint" },
    ]);
    expect(encode(cyclic)).toEqual({ x: 1, self: { __unsupported: "cycle" } });
    expect(encode({ a: shared, b: shared })).toEqual({ a: [1, 2], b: [1, 2] }); // shared, not cyclic
    expect(encode([new Map(), new Date(0), Promise.resolve(1), new DataView(new ArrayBuffer(1))])).toEqual([
      { __unsupported: "Map" }, { __unsupported: "Date" }, { __unsupported: "Promise" }, { __unsupported: "DataView" },
    ]);
    expect(encode(new BigInt64Array(1))).toEqual({ __unsupported: "BigInt64Array" });
    expect(encode(disposed)).toEqual({ __unsupported: "disposed tensor" });
    expect(encode(strings)).toEqual({ __unsupported: "string tensor" });
    strings.dispose();
  });

  test("wraps objects whose keys look like markers, and bounds size and depth", () => {
    expect(encode({ __num: "NaN" })).toEqual({ __object: { __num: "NaN" } });
    expect(encode(new Array(11).fill(0), { maxElements: 10 })).toEqual({ __unsupported: "value too large" });
    let deep: unknown = 1;
    for (let i = 0; i < 5; i++) deep = [deep];
    expect(encode(deep, { maxDepth: 3 })).toEqual([[[[{ __unsupported: "nesting too deep" }]]]]);
  });
});

describe("decode", () => {
  test("round-trips plain values exactly, through JSON text", () => {
    const v = {
      n: [0, -1.25, 1e-300, NaN, Infinity, -Infinity], s: "é\n", u: undefined, nested: [[1, 2], [3, 4]],
      f64: new Float64Array([0.1, NaN]), i32: new Int32Array([-7]), marker: { __tensor: "not a tensor" },
    };
    expect(roundTrip(v)).toEqual(v);
  });

  test("re-creates tensors with tf, or DecodedTensor without it", () => {
    const before = tf.memory().numTensors;
    const t = tf.tensor2d([[1, NaN], [3, 4]]);
    const back = roundTrip(t, tf) as tf.Tensor;
    expect(back).toBeInstanceOf(tf.Tensor);
    expect(back.shape).toEqual([2, 2]);
    expect(Array.from(back.dataSync())).toEqual([1, NaN, 3, 4]);
    expect(roundTrip(t)).toEqual(new DecodedTensor([2, 2], "float32", [1, NaN, 3, 4]));
    const i32 = tf.tensor1d([5], "int32");
    const i = roundTrip(i32, tf) as tf.Tensor;
    expect(i.dtype).toBe("int32");
    tf.dispose([t, back, i32, i]);
    expect(tf.memory().numTensors).toBe(before); // decode's tensors are the caller's to dispose
  });

  test("gives markers for unsupported values and errors", () => {
    expect(decode({ __unsupported: "function" })).toEqual(new UnsupportedValue("function"));
    const e = decode({ __error: "boom" });
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe("boom");
  });

  test("rejects malformed wire values and never changes a prototype", () => {
    expect(() => decode({ __tensor: { shape: [2], dtype: "float32", data: [1] } })).toThrow(/size does not match/);
    expect(() => decode({ __tensor: { shape: [-1], dtype: "float32", data: [] } })).toThrow(/malformed/);
    expect(() => decode({ __typed: { type: "constructor", data: [] } })).toThrow(/malformed/);
    expect(() => decode({ __num: "1e3" })).toThrow(/malformed/);
    const evil = decode(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Wire) as Record<string, unknown>;
    expect(Object.getPrototypeOf(evil)).toBe(Object.prototype);
    expect(Object.keys(evil)).toEqual(["__proto__", "a"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("describe", () => {
  test("names values briefly for feedback", () => {
    const t = tf.zeros([3, 2]);
    expect(describeValue(t)).toBe("tensor float32 [3, 2]");
    expect(describeValue(decode(encode(t)))).toBe("tensor float32 [3, 2]");
    t.dispose();
    expect(describeValue(t)).toBe("disposed tensor float32 [3, 2]");
    expect(describeValue([1, 2, 3, 4])).toBe("number[] of length 4");
    expect(describeValue([[1, 2], [3, 4], [5, 6]])).toBe("number[][] of shape [3, 2]");
    expect(describeValue([1, "a"])).toBe("array of length 2");
    expect(describeValue([])).toBe("empty array");
    expect(describeValue(NaN)).toBe("NaN");
    expect(describeValue(-Infinity)).toBe("-Infinity");
    expect(describeValue(1 / 3)).toBe("0.333333");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(null)).toBe("null");
    expect(describeValue("abc")).toBe('string "abc"');
    expect(describeValue(new Float32Array(4))).toBe("Float32Array of length 4");
    expect(describeValue({ a: 1, b: 2 })).toBe("object {a, b}");
    expect(describeValue(new UnsupportedValue("cycle"))).toBe("unsupported value (cycle)");
    expect(describeValue(new Error("nope"))).toBe('error "nope"');
    expect(describeValue(Promise.resolve(1))).toBe("a Promise");
    expect(describeValue(() => 1)).toBe("a function");
  });
});
