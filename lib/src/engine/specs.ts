/**
 * How each exportable network of lib is called with named inputs: the input names, per-row
 * shapes and dtypes, and the forward pass (the net's own `apply`). The architecture itself is
 * never restated here; the ONNX graph comes from tracing `forward` ({@link traceKernels}).
 *
 * | net            | inputs (per row)                                                    | output        |
 * |----------------|---------------------------------------------------------------------|---------------|
 * | UNet           | xt [S,S,C], t [], cond [] int32?, image [S,S,Cc]?, aug []?, context [D]? | ε̂ [S,S,C] |
 * | MlpDenoiser    | xt [D], t [], cond [] int32?, context [Dc]?                          | ε̂ or logits   |
 * | ConvClassifier | x [S,S,C], t []?                                                     | logits [K]    |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { UNet } from "../nets/unet";
import { MlpDenoiser } from "../nets/mlp";
import { ConvClassifier } from "../nets/classifier";

/** One named input: its shape without the batch axis, and dtype. */
export interface InputSpec {
  shape: number[];
  dtype: "float32" | "int32";
}

/**
 * A network as the engines see it: named inputs (each with a leading batch axis) → one tensor.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface NetSpec {
  /** A short label, e.g. "UNet". */
  label: string;
  inputs: Record<string, InputSpec>;
  /** The tfjs forward pass on named inputs (every input given). */
  forward: (inputs: Record<string, tf.Tensor>) => tf.Tensor;
  /** The variables whose values the forward reads. */
  weights: () => Record<string, tf.Tensor>;
}

/** Networks that have a {@link NetSpec}. */
export type ExportableNet = UNet | MlpDenoiser | ConvClassifier;

/**
 * The {@link NetSpec} of a U-Net, MLP or classifier.
 * @example const spec = netSpec(unet); spec.forward({ xt, t, cond })
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function netSpec(net: ExportableNet): NetSpec {
  const f32 = (shape: number[]): InputSpec => ({ shape, dtype: "float32" });
  const i32: InputSpec = { shape: [], dtype: "int32" };
  if (net instanceof UNet) {
    const { imageSize: S, inChannels, numClasses, condChannels, augConditioned, contextDim } = net.config;
    const inputs: Record<string, InputSpec> = { xt: f32([S, S, inChannels]), t: f32([]) };
    if (numClasses !== undefined) inputs.cond = i32;
    if (condChannels > 0) inputs.image = f32([S, S, condChannels]);
    if (augConditioned) inputs.aug = f32([]);
    if (contextDim > 0) inputs.context = f32([contextDim]);
    return {
      label: "UNet",
      inputs,
      forward: (i) => net.apply(i.xt as tf.Tensor4D, i.t as tf.Tensor1D, i.cond as tf.Tensor1D | undefined, { image: i.image as tf.Tensor4D | undefined, aug: i.aug as tf.Tensor1D | undefined, context: i.context as tf.Tensor2D | undefined }),
      weights: () => net.getWeights(),
    };
  }
  if (net instanceof MlpDenoiser) {
    const { dataDim, numClasses } = net.config;
    const contextDim = net.config.contextDim ?? 0;
    const inputs: Record<string, InputSpec> = { xt: f32([dataDim]), t: f32([]) };
    if (numClasses !== undefined) inputs.cond = i32;
    if (contextDim > 0) inputs.context = f32([contextDim]);
    return {
      label: "MlpDenoiser",
      inputs,
      forward: (i) => net.apply(i.xt as tf.Tensor2D, i.t as tf.Tensor1D, i.cond as tf.Tensor1D | undefined, i.context as tf.Tensor2D | undefined),
      weights: () => net.getWeights(),
    };
  }
  if (net instanceof ConvClassifier) {
    const { imageSize: S, inChannels } = net.config;
    const inputs: Record<string, InputSpec> = { x: f32([S, S, inChannels]) };
    if (net.timeConditional) inputs.t = f32([]);
    return {
      label: "ConvClassifier",
      inputs,
      forward: (i) => net.apply(i.x as tf.Tensor4D, i.t as tf.Tensor1D | undefined),
      weights: () => net.getWeights(),
    };
  }
  throw new Error("netSpec: only UNet, MlpDenoiser and ConvClassifier can be exported");
}
