/**
 * Record the TensorFlow.js kernels that one forward pass runs, so that the network can be
 * re-emitted for another engine (ONNX) without writing its architecture a second time.
 *
 * Every op of tfjs ends in `engine.runKernel(kernelName, inputs, attrs)`; the custom-gradient ops
 * of ../ops run ordinary ops in their forward function, so they are recorded kernel by kernel
 * too. While {@link traceKernels} runs `forward`, that method is wrapped: each call appends a
 * {@link TracedKernel} naming its input and output tensors by id. A tensor that no recorded kernel
 * produced is a graph input (listed in `inputs`), a weight (listed in `weights`) or, failing
 * both, a constant whose value is read right away (scalars, the sinusoid frequencies, GroupNorm's
 * group matrix, …).
 *
 * This is the "trace once" idea of torch.jit.trace / torch.onnx.export (Paszke et al. 2019,
 * "PyTorch: An Imperative Style, High-Performance Deep Learning Library"): the trace is only valid
 * for the traced shapes and for control flow that does not depend on tensor values, which holds
 * for the course's nets (their branches depend on the config and on which inputs are given).
 *
 * | code        | meaning                                                    |
 * |-------------|------------------------------------------------------------|
 * | id          | a tfjs tensor id (`tensor.id`)                             |
 * | TracedKernel| kernelName, attrs, input ids (in the kernel's input order), output ids |
 * | constants   | id → value, shape and dtype of a tensor from outside the trace |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/** A tensor's value, shape and dtype as read during tracing. */
export interface TracedValue {
  shape: number[];
  dtype: tf.DataType;
  /** The values (float32 or int32 data). */
  data: Float32Array | Int32Array | Uint8Array;
}

/** One kernel call. */
export interface TracedKernel {
  kernelName: string;
  attrs: Record<string, unknown>;
  /** Input names as tfjs passes them (e.g. "x", "filter", "bias"; "0", "1", … for Concat) with tensor ids. */
  inputs: Array<{ key: string; id: number }>;
  outputs: number[];
  /** Shapes and dtypes of the kernel's input and output tensors, by id. */
  shapes: Record<number, { shape: number[]; dtype: tf.DataType }>;
}

/** A finished trace. */
export interface KernelTrace {
  kernels: TracedKernel[];
  /** Graph inputs: name → tensor id. */
  inputs: Record<string, number>;
  /** Weights used by the forward pass: name → tensor id (values are read from `values`). */
  weights: Record<string, number>;
  /** The output tensor's id. */
  output: number;
  /** Values of weights and constants by id. */
  values: Record<number, TracedValue>;
  /** Shape and dtype of the output. */
  outputShape: number[];
}

interface RunKernelHost {
  runKernel: (kernelName: string, inputs: Record<string, tf.Tensor>, attrs?: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
}

function readValue(t: tf.Tensor): TracedValue {
  const data = t.dataSync();
  const copy = data instanceof Float32Array ? Float32Array.from(data) : data instanceof Int32Array ? Int32Array.from(data) : Uint8Array.from(data as Uint8Array);
  return { shape: t.shape.slice(), dtype: t.dtype, data: copy };
}

/**
 * Run `forward` once with the given named inputs and weights and record every kernel it runs.
 * The returned tensor of `forward` is disposed; tensors created during tracing are freed.
 *
 * @param forward the network's forward pass, reading only `inputs` and the weights
 * @param inputs named graph inputs (not disposed)
 * @param weights named weights (the net's variables; not disposed)
 * @example const trace = traceKernels((i) => net.apply(i.xt, i.t), { xt, t }, net.getWeights());
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function traceKernels(forward: (inputs: Record<string, tf.Tensor>) => tf.Tensor, inputs: Record<string, tf.Tensor>, weights: Record<string, tf.Tensor>): KernelTrace {
  const host = tf.engine() as unknown as RunKernelHost;
  const original = host.runKernel;
  const kernels: TracedKernel[] = [];
  const produced = new Set<number>();
  const inputIds: Record<string, number> = {};
  const weightIdToName = new Map<number, string>();
  const usedWeights: Record<string, number> = {};
  const values: Record<number, TracedValue> = {};
  for (const [k, t] of Object.entries(inputs)) inputIds[k] = t.id;
  const inputIdSet = new Set(Object.values(inputIds));
  for (const [k, t] of Object.entries(weights)) weightIdToName.set(t.id, k);

  const noteSource = (t: tf.Tensor) => {
    if (produced.has(t.id) || inputIdSet.has(t.id) || t.id in values) return;
    const w = weightIdToName.get(t.id);
    if (w !== undefined) usedWeights[w] = t.id;
    values[t.id] = readValue(t);
  };

  host.runKernel = function (this: unknown, kernelName, kernelInputs, attrs) {
    const shapes: TracedKernel["shapes"] = {};
    const ins: TracedKernel["inputs"] = [];
    for (const [key, t] of Object.entries(kernelInputs ?? {})) {
      if (t == null) continue;
      noteSource(t);
      ins.push({ key, id: t.id });
      shapes[t.id] = { shape: t.shape.slice(), dtype: t.dtype };
    }
    const out = original.call(this, kernelName, kernelInputs, attrs);
    const outs = Array.isArray(out) ? out : [out];
    for (const t of outs) {
      produced.add(t.id);
      shapes[t.id] = { shape: t.shape.slice(), dtype: t.dtype };
    }
    kernels.push({ kernelName, attrs: { ...(attrs ?? {}) }, inputs: ins, outputs: outs.map((t) => t.id), shapes });
    return out;
  };
  let result: tf.Tensor;
  try {
    result = tf.tidy(() => forward(inputs));
  } finally {
    host.runKernel = original;
  }
  const output = result.id;
  const outputShape = result.shape.slice();
  result.dispose();
  if (!produced.has(output)) throw new Error("traceKernels: the forward pass returned a tensor that no kernel produced (an input or a weight)");
  return { kernels, inputs: inputIds, weights: usedWeights, output, values, outputShape };
}
