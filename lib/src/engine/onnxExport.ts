/**
 * Emit an ONNX model (Bai, Lu, Zhang et al., "ONNX: Open Neural Network Exchange", opset 17)
 * from a kernel trace of a tfjs forward pass ({@link traceKernels}): one ONNX node (or a short
 * fixed pattern) per tfjs kernel, weights and constants as initializers. The protobuf is written
 * by the `onnx-proto` package (the official onnx.proto compiled for protobufjs).
 *
 * Layout: tfjs works in NHWC, ONNX's Conv and AveragePool in NCHW. Each conv is wrapped in a
 * pair of Transposes; onnxruntime's transpose optimizer cancels the pairs between consecutive
 * layout-agnostic ops. Filters that are weights are stored already transposed to [co, ci, k, k].
 *
 * | tfjs kernel                 | ONNX                                               |
 * |-----------------------------|----------------------------------------------------|
 * | Add, Sub, Multiply, RealDiv, Maximum, Minimum | Add, Sub, Mul, Div, Max, Min     |
 * | Sigmoid, Cos, Sin, Exp, Log, Sqrt, Tanh, Relu, Neg, Abs | same; Rsqrt → Sqrt + Reciprocal; Square → Mul(x, x) |
 * | BatchMatMul, _FusedMatMul   | (Transpose) MatMul (+ Add bias) (+ activation)      |
 * | Conv2D, FusedConv2D         | Transpose, Conv (pads from tf "same"), Transpose   |
 * | AvgPool                     | ReduceMean over H, W (global) or AveragePool       |
 * | Reshape, Transpose, Concat, SplitV, Slice, Cast, Identity, Softmax, ClipByValue, Sum, Mean, Max, GatherV2, Pack, Tile | direct |
 * | OneHot                      | Equal(Unsqueeze(ids), range) → Where               |
 * | Fill                        | an initializer                                     |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import { onnx } from "onnx-proto";
import { KernelTrace, TracedKernel, TracedValue } from "./trace";

/** The ONNX opset the exporter writes. */
export const ONNX_OPSET = 17;

const DTYPE: Record<string, number> = { float32: onnx.TensorProto.DataType.FLOAT, int32: onnx.TensorProto.DataType.INT32, bool: onnx.TensorProto.DataType.BOOL };

function onnxType(dtype: string): number {
  const t = DTYPE[dtype];
  if (t === undefined) throw new Error(`exportOnnx: dtype ${dtype} is not supported`);
  return t;
}

type Attr = number | number[] | string | { floats: number[] } | { float: number };

function attr(name: string, v: Attr): onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === "number") return { name, type: A.INT, i: v };
  if (typeof v === "string") return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if ("float" in v) return { name, type: A.FLOAT, f: v.float };
  return { name, type: A.FLOATS, floats: v.floats };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Builds the node list and initializers. */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;
  private readonly names = new Map<number, string>();
  /** Shape and dtype of every traced tensor id. */
  readonly shapes = new Map<number, { shape: number[]; dtype: string }>();
  /** Batch axis of every tensor computed from the graph inputs (inputs carry it first). */
  private readonly batchAxis = new Map<number, number>();
  /** Reshape targets with the batch dimension as −1, by kernel index. */
  readonly reshapeTargets = new Map<TracedKernel, number[]>();

  /** @param batch the traced batch size when dim 0 is to be symbolic, else undefined */
  constructor(private readonly trace: KernelTrace, readonly batch?: number) {
    for (const k of trace.kernels) for (const [id, s] of Object.entries(k.shapes)) this.shapes.set(Number(id), s);
    for (const id of Object.values(trace.inputs)) this.batchAxis.set(id, 0);
    for (const k of trace.kernels) this.propagateBatch(k);
    if (batch !== undefined) {
      for (const [id, v] of Object.entries(trace.values)) {
        if (!Object.values(trace.weights).includes(Number(id)) && v.shape[0] === batch) {
          throw new Error(`exportOnnx: a constant [${v.shape}] has the traced batch size ${batch} as its first axis (pass every input, e.g. a zero context, as a tensor)`);
        }
      }
    }
    for (const [name, id] of Object.entries(trace.inputs)) this.names.set(id, name);
    for (const [name, id] of Object.entries(trace.weights)) this.names.set(id, name);
  }

  /** Where the batch axis of each output of `k` is (for the symbolic batch of reshapes). */
  private propagateBatch(k: TracedKernel): void {
    const dep = k.inputs.find((i) => this.batchAxis.has(i.id));
    if (dep === undefined) return;
    const a = this.batchAxis.get(dep.id)!;
    const inShape = this.shapes.get(dep.id)!.shape;
    for (const o of k.outputs) {
      const outShape = this.shapes.get(o)!.shape;
      let b: number;
      if (k.kernelName === "Reshape") {
        // the output axis whose leading dims multiply to those before the batch axis in the input
        const lead = inShape.slice(0, a).reduce((x, y) => x * y, 1);
        let p = 1;
        let j = 0;
        while (j < outShape.length && (p < lead || outShape[j] === 1)) p *= outShape[j++]; // (size-1 axes are not the batch)
        if (this.batch !== undefined) {
          if (p !== lead || j >= outShape.length || outShape[j] % this.batch !== 0 || inShape[a] % this.batch !== 0) {
            throw new Error(`exportOnnx: a reshape moves the batch axis ([${inShape}] → [${outShape}]); export with a fixed batch`);
          }
          const target = outShape.slice();
          target[j] = -1;
          this.reshapeTargets.set(k, target);
        }
        b = j;
      } else if (k.kernelName === "Transpose") b = (k.attrs.perm as number[]).indexOf(a);
      else if (["Sum", "Mean", "Max"].includes(k.kernelName) && !k.attrs.keepDims) b = a - normAxes(k.attrs.axis, inShape.length).filter((x) => x < a).length;
      else if (k.kernelName === "OneHot") b = a;
      else b = a + outShape.length - inShape.length; // broadcasting aligns trailing axes
      this.batchAxis.set(o, b);
    }
  }

  fresh(base: string): string {
    return `${base}_${this.counter++}`;
  }

  /** The ONNX name of tensor `id`, adding an initializer for a weight or constant on first use. */
  name(id: number): string {
    const known = this.names.get(id);
    if (known !== undefined) {
      const v = this.trace.values[id];
      if (v !== undefined && !this.initializers.some((i) => i.name === known)) this.addInit(known, v);
      return known;
    }
    const v = this.trace.values[id];
    const n = v !== undefined ? `const_${id}` : `t${id}`;
    this.names.set(id, n);
    if (v !== undefined) this.addInit(n, v);
    return n;
  }

  value(id: number): TracedValue | undefined {
    return this.trace.values[id];
  }

  shape(id: number): number[] {
    const s = this.shapes.get(id);
    if (s === undefined) throw new Error(`exportOnnx: unknown shape of tensor ${id}`);
    return s.shape;
  }

  addInit(name: string, v: TracedValue): void {
    this.initializers.push({ name, dims: v.shape, dataType: onnxType(v.dtype), rawData: bytesOf(v.data) });
  }

  /** An int64 constant (shapes, axes, split sizes). */
  ints(values: number[], base = "ints"): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: bytesOf(BigInt64Array.from(values.map((x) => BigInt(x)))) });
    return name;
  }

  /** A float32 or int32 constant of the given shape. */
  tensor(data: Float32Array | Int32Array, shape: number[], base = "const"): string {
    const name = this.fresh(base);
    this.addInit(name, { shape, dtype: data instanceof Float32Array ? "float32" : "int32", data });
    return name;
  }

  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): void {
    this.nodes.push({ opType, input: inputs, output: outputs, name: this.fresh(opType), attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
  }

  /** A one-output node writing a fresh name; returns the name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const out = this.fresh(opType.toLowerCase());
    this.node(opType, inputs, [out], attrs);
    return out;
  }
}

const BINARY: Record<string, string> = { Add: "Add", Sub: "Sub", Multiply: "Mul", RealDiv: "Div", Maximum: "Max", Minimum: "Min", Pow: "Pow" };
const UNARY: Record<string, string> = { Sigmoid: "Sigmoid", Cos: "Cos", Sin: "Sin", Exp: "Exp", Log: "Log", Sqrt: "Sqrt", Tanh: "Tanh", Relu: "Relu", Neg: "Neg", Abs: "Abs", Erf: "Erf", Reciprocal: "Reciprocal", Identity: "Identity" };

function activation(g: GraphBuilder, x: string, act: unknown, out: string): void {
  const a = act ?? "linear";
  if (a === "linear") g.node("Identity", [x], [out]);
  else if (a === "relu") g.node("Relu", [x], [out]);
  else if (a === "sigmoid") g.node("Sigmoid", [x], [out]);
  else throw new Error(`exportOnnx: fused activation ${String(a)} is not supported`);
}

/** tf's "same"/"valid"/number padding as ONNX pads [top, left, bottom, right]. */
function convPads(pad: unknown, inHW: number[], outHW: number[], k: number[], strides: number[], dilations: number[]): number[] {
  if (pad === "valid") return [0, 0, 0, 0];
  if (typeof pad === "number") return [pad, pad, pad, pad];
  if (pad !== "same") throw new Error(`exportOnnx: padding ${JSON.stringify(pad)} is not supported`);
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const total = Math.max((outHW[i] - 1) * strides[i] + (k[i] - 1) * dilations[i] + 1 - inHW[i], 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

function pair(v: unknown, dflt: number): number[] {
  if (v === undefined || v === null) return [dflt, dflt];
  return typeof v === "number" ? [v, v] : (v as number[]).slice(0, 2);
}

function emitConv(g: GraphBuilder, k: TracedKernel, fused: boolean): void {
  const input = (key: string) => k.inputs.find((i) => i.key === key);
  const x = input("x")!;
  const f = input("filter")!;
  const bias = input("bias");
  if (input("preluActivationWeights")) throw new Error("exportOnnx: prelu is not supported");
  if ((k.attrs.dataFormat ?? "NHWC") !== "NHWC") throw new Error("exportOnnx: Conv2D must be NHWC");
  const fShape = g.shape(f.id); // [kh, kw, ci, co]
  const strides = pair(k.attrs.strides, 1);
  const dilations = pair(k.attrs.dilations, 1);
  const inShape = g.shape(x.id);
  const outShape = g.shape(k.outputs[0]);
  const pads = convPads(k.attrs.pad, inShape.slice(1, 3), outShape.slice(1, 3), fShape.slice(0, 2), strides, dilations);
  const fv = g.value(f.id);
  let w: string;
  if (fv !== undefined) {
    const [kh, kw, ci, co] = fShape;
    const src = fv.data as Float32Array;
    const dst = new Float32Array(src.length);
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) dst[((o * ci + c) * kh + a) * kw + b] = src[((a * kw + b) * ci + c) * co + o];
    w = g.tensor(dst, [co, ci, kh, kw], "conv_w");
  } else w = g.op("Transpose", [g.name(f.id)], { perm: [3, 2, 0, 1] });
  const xc = g.op("Transpose", [g.name(x.id)], { perm: [0, 3, 1, 2] });
  const ins = [xc, w];
  if (bias) ins.push(g.name(bias.id));
  const yc = g.op("Conv", ins, { kernel_shape: fShape.slice(0, 2), strides, dilations, pads });
  const y = g.op("Transpose", [yc], { perm: [0, 2, 3, 1] });
  activation(g, y, fused ? k.attrs.activation : "linear", g.name(k.outputs[0]));
}

function emitMatMul(g: GraphBuilder, k: TracedKernel, fused: boolean): void {
  const input = (key: string) => k.inputs.find((i) => i.key === key);
  const a = input("a")!;
  const b = input("b")!;
  const bias = input("bias");
  if (input("preluActivationWeights")) throw new Error("exportOnnx: prelu is not supported");
  const perm = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  let an = g.name(a.id);
  let bn = g.name(b.id);
  if (k.attrs.transposeA) an = g.op("Transpose", [an], { perm: perm(g.shape(a.id).length) });
  if (k.attrs.transposeB) bn = g.op("Transpose", [bn], { perm: perm(g.shape(b.id).length) });
  let y = g.op("MatMul", [an, bn]);
  if (bias) y = g.op("Add", [y, g.name(bias.id)]);
  activation(g, y, fused ? k.attrs.activation : "linear", g.name(k.outputs[0]));
}

function normAxes(axis: unknown, rank: number): number[] {
  const list = axis === undefined || axis === null ? [...Array(rank).keys()] : typeof axis === "number" ? [axis] : (axis as number[]);
  return list.map((a) => (a < 0 ? a + rank : a));
}

function emitKernel(g: GraphBuilder, k: TracedKernel): void {
  const inId = (i = 0) => k.inputs[i].id;
  const inName = (i = 0) => g.name(inId(i));
  const out = () => g.name(k.outputs[0]);
  const name = k.kernelName;
  if (name in BINARY) return g.node(BINARY[name], [inName(0), inName(1)], [out()]);
  if (name in UNARY) return g.node(UNARY[name], [inName()], [out()]);
  switch (name) {
    case "Rsqrt":
      return g.node("Reciprocal", [g.op("Sqrt", [inName()])], [out()]);
    case "Square":
      return g.node("Mul", [inName(), inName()], [out()]);
    case "SquaredDifference": {
      const d = g.op("Sub", [inName(0), inName(1)]);
      return g.node("Mul", [d, d], [out()]);
    }
    case "Reshape":
      return g.node("Reshape", [inName(), g.ints(g.reshapeTargets.get(k) ?? g.shape(k.outputs[0]), "shape")], [out()]);
    case "Transpose":
      return g.node("Transpose", [inName()], [out()], { perm: k.attrs.perm as number[] });
    case "Concat": {
      const rank = g.shape(k.outputs[0]).length;
      return g.node("Concat", k.inputs.map((i) => g.name(i.id)), [out()], { axis: normAxes(k.attrs.axis, rank)[0] });
    }
    case "SplitV": {
      const rank = g.shape(inId()).length;
      const axis = normAxes(k.attrs.axis, rank)[0];
      const sizes = k.outputs.map((o) => g.shape(o)[axis]);
      return g.node("Split", [inName(), g.ints(sizes, "split")], k.outputs.map((o) => g.name(o)), { axis });
    }
    case "Slice": {
      const begin = k.attrs.begin as number[];
      const size = k.attrs.size as number[];
      const inShape = g.shape(inId());
      const ends = begin.map((b, i) => (size[i] === -1 ? inShape[i] : b + size[i]));
      return g.node("Slice", [inName(), g.ints(begin, "starts"), g.ints(ends, "ends"), g.ints([...begin.keys()], "axes")], [out()]);
    }
    case "Cast":
      return g.node("Cast", [inName()], [out()], { to: onnxType(k.attrs.dtype as string) });
    case "Softmax":
      return g.node("Softmax", [inName()], [out()], { axis: (k.attrs.dim as number) ?? -1 });
    case "ClipByValue": {
      const lo = g.tensor(Float32Array.of(k.attrs.clipValueMin as number), [], "clip_min");
      const hi = g.tensor(Float32Array.of(k.attrs.clipValueMax as number), [], "clip_max");
      return g.node("Clip", [inName(), lo, hi], [out()]);
    }
    case "Sum":
    case "Mean":
    case "Max": {
      const axes = normAxes(k.attrs.axis, g.shape(inId()).length);
      const keepdims = k.attrs.keepDims ? 1 : 0;
      if (name === "Sum") return g.node("ReduceSum", [inName(), g.ints(axes, "axes")], [out()], { keepdims });
      return g.node(name === "Mean" ? "ReduceMean" : "ReduceMax", [inName()], [out()], { axes, keepdims });
    }
    case "GatherV2": {
      const rank = g.shape(inId(0)).length;
      if (k.attrs.batchDims) throw new Error("exportOnnx: GatherV2 with batchDims is not supported");
      return g.node("Gather", [inName(0), inName(1)], [out()], { axis: normAxes(k.attrs.axis, rank)[0] });
    }
    case "Pack": {
      const rank = g.shape(k.outputs[0]).length;
      const axis = normAxes(k.attrs.axis, rank)[0];
      const parts = k.inputs.map((i) => g.op("Unsqueeze", [g.name(i.id), g.ints([axis], "axes")]));
      return g.node("Concat", parts, [out()], { axis });
    }
    case "Tile":
      return g.node("Tile", [inName(), g.ints(k.attrs.reps as number[], "reps")], [out()]);
    case "OneHot": {
      const depth = k.attrs.depth as number;
      const ids = g.op("Unsqueeze", [inName(), g.ints([-1], "axes")]); // [B, 1]
      const eq = g.op("Equal", [ids, g.tensor(Int32Array.from({ length: depth }, (_, i) => i), [depth], "range")]); // [B, depth]
      const isFloat = k.attrs.dtype === "float32";
      const mk = (v: number) => g.tensor(isFloat ? Float32Array.of(v) : Int32Array.of(v), [], "onehot_v");
      const ids32 = g.shapes.get(inId())?.dtype === "int32" ? null : "indices must be int32";
      if (ids32) throw new Error(`exportOnnx: OneHot ${ids32}`);
      return g.node("Where", [eq, mk((k.attrs.onValue as number) ?? 1), mk((k.attrs.offValue as number) ?? 0)], [out()]);
    }
    case "Fill": {
      const shape = k.attrs.shape as number[];
      if (g.batch !== undefined && shape[0] === g.batch) throw new Error("exportOnnx: a Fill of batch size inside the net (pass every input as a tensor)");
      const n = shape.reduce((a, b) => a * b, 1);
      const v = k.attrs.value as number;
      const data = k.attrs.dtype === "int32" ? new Int32Array(n).fill(v) : new Float32Array(n).fill(v);
      return g.node("Identity", [g.tensor(data, shape, "fill")], [out()]);
    }
    case "AvgPool": {
      const inShape = g.shape(inId());
      const fs = pair(k.attrs.filterSize, 1);
      const st = pair(k.attrs.strides, 1);
      if (fs[0] === inShape[1] && fs[1] === inShape[2] && (k.attrs.pad === "valid" || (fs[0] === 1 && fs[1] === 1))) {
        return g.node("ReduceMean", [inName()], [out()], { axes: [1, 2], keepdims: 1 });
      }
      const outShape = g.shape(k.outputs[0]);
      const pads = convPads(k.attrs.pad, inShape.slice(1, 3), outShape.slice(1, 3), fs, st, [1, 1]);
      const xc = g.op("Transpose", [inName()], { perm: [0, 3, 1, 2] });
      const yc = g.op("AveragePool", [xc], { kernel_shape: fs, strides: st, pads, count_include_pad: 0 });
      return g.node("Transpose", [yc], [out()], { perm: [0, 2, 3, 1] });
    }
    case "Conv2D":
      return emitConv(g, k, false);
    case "FusedConv2D":
      return emitConv(g, k, true);
    case "BatchMatMul":
      return emitMatMul(g, k, false);
    case "_FusedMatMul":
      return emitMatMul(g, k, true);
    default:
      throw new Error(`exportOnnx: the tfjs kernel ${name} has no ONNX mapping yet (add it to lib/src/engine/onnxExport.ts)`);
  }
}

/**
 * Serialise a trace as an ONNX model (bytes of a ModelProto). Inputs keep their names; the
 * output is called "output". With `batch` (the traced batch size) the first axis of every input
 * and of the output is the symbolic dimension "batch", so one graph serves every batch size.
 *
 * @example const bytes = traceToOnnx(traceKernels(forward, inputs, net.getWeights()), "unet", 7);
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function traceToOnnx(trace: KernelTrace, graphName: string, batch?: number): Uint8Array {
  const g = new GraphBuilder(trace, batch);
  const dims = (shape: number[]) => shape.map((d, i) => (i === 0 && batch !== undefined ? { dimParam: "batch" } : { dimValue: d }));
  const inputInfo: onnx.IValueInfoProto[] = [];
  for (const [name, id] of Object.entries(trace.inputs)) {
    const s = g.shapes.get(id);
    if (s === undefined) continue; // an input the forward pass never read
    inputInfo.push({ name, type: { tensorType: { elemType: onnxType(s.dtype), shape: { dim: dims(s.shape) } } } });
  }
  for (const k of trace.kernels) emitKernel(g, k);
  const outName = g.name(trace.output);
  g.node("Identity", [outName], ["output"]);
  const outDtype = g.shapes.get(trace.output)!.dtype;
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "@course/lib traceToOnnx",
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    graph: {
      name: graphName,
      node: g.nodes,
      initializer: g.initializers,
      input: inputInfo,
      output: [{ name: "output", type: { tensorType: { elemType: onnxType(outDtype), shape: { dim: dims(trace.outputShape) } } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
