/**
 * Super-resolving low-resolution images: SR3's conditional sampler (with a chosen
 * conditioning-augmentation level, as in CDM), the regression baseline, and a whole cascade.
 *
 * Papers: Saharia, Ho et al. 2021 (SR3: sample y ~ p(y | x) by running the reverse process with
 * U(x) concatenated at every step); Ho, Saharia et al. 2021 (CDM: base model → SR stages, each
 * conditioned on the class; at sampling the low-res input is augmented at one fixed level a and
 * the stage is told a).
 *
 * | code     | math                                                           |
 * |----------|----------------------------------------------------------------|
 * | low      | x, the low-resolution images [N, h, w, C]                      |
 * | level    | a, the conditioning-augmentation level used at sampling         |
 * | labels   | c, each image's class (∅ = net.nullCond for an unconditional stage) |
 *
 * @see notebooks/04_super_resolution.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Schedule } from "../schedules";
import { StepFn } from "../samplers";
import { ProgressMode } from "../progress";
import { UNet } from "../nets/unet";
import { GuidedSampler, sampleImages } from "../imageSampling";
import { unetApply } from "../engine/engine";
import { upsampleBicubic } from "./resize";
import { augmentLowRes } from "./augment";
import { regressionPredict } from "./train";

/**
 * Options of {@link superResolve}.
 * @see notebooks/04_super_resolution.ipynb
 */
export interface SuperResolveOptions {
  /** The SR stage: a U-Net with condChannels = C (and augConditioned if level > 0). */
  net: UNet;
  /** Low-resolution inputs x [N, h, w, C]. */
  low: tf.Tensor4D;
  /** Class of each image (default ∅ when the net is class-conditional). */
  labels?: Int32Array;
  /** Conditioning-augmentation level a ∈ [0, 1] (default 0). */
  level?: number;
  schedule: Schedule;
  rng: Rng;
  /** Reverse steps (default 25). */
  numSteps?: number;
  /** Step function (default DDIM η = 0, as in sampleImages). */
  step?: StepFn;
  batchSize?: number;
  progress?: ProgressMode;
  label?: string;
}

/** The upsampling factor from the net's size and the input's, checked. */
function factorOf(net: UNet, low: tf.Tensor4D, who: string): number {
  const S = net.config.imageSize;
  if (low.rank !== 4 || low.shape[1] !== low.shape[2] || S % low.shape[1] !== 0) throw new Error(`${who}: low must be [N, h, h, C] with h dividing ${S}, got [${low.shape}]`);
  if (low.shape[3] !== net.config.condChannels) throw new Error(`${who}: the net conditions on ${net.config.condChannels} channels, low has ${low.shape[3]}`);
  return S / low.shape[1];
}

/** Labels for an SR run: the given ones (checked) or ∅ for every row. */
function srLabels(net: UNet, n: number, labels: Int32Array | undefined, who: string): Int32Array | undefined {
  if (labels !== undefined && labels.length !== n) throw new Error(`${who}: ${n} images but ${labels.length} labels`);
  if (net.nullCond === undefined) {
    if (labels !== undefined) throw new Error(`${who}: labels given but the net has no classes`);
    return undefined;
  }
  return labels ?? new Int32Array(n).fill(net.nullCond);
}

/**
 * Sample y ~ p_θ(y | x) for every low-resolution x (SR3), with the conditioning augmented at
 * `level` (CDM). Returns [N, S, S, C]; the caller disposes it. Seeded by `rng`.
 *
 * @example const y = superResolve({ net: sr, low, labels, level: 0.2, schedule, rng: new Rng(0) });
 * @see notebooks/04_super_resolution.ipynb
 */
export function superResolve(opts: SuperResolveOptions): tf.Tensor4D {
  const { net, low, rng } = opts;
  const level = opts.level ?? 0;
  const f = factorOf(net, low, "superResolve");
  if (level > 0 && !net.config.augConditioned) throw new Error("superResolve: a conditioning-augmentation level needs an augConditioned net");
  const n = low.shape[0];
  const labels = srLabels(net, n, opts.labels, "superResolve");
  // The augmentation noise comes from a fork, so the sampling noise is the same at every level.
  const augNoise = () => rng.fork("conditioning-augmentation").randn(low.shape) as tf.Tensor4D;
  const up = tf.tidy(() => upsampleBicubic(level > 0 ? augmentLowRes(low, level, augNoise()) : low, f)); // [N, S, S, C]
  try {
    const aug = net.config.augConditioned ? level : undefined;
    const sampler: GuidedSampler = (_y, rows) => {
      const apply = unetApply(net); // the chosen engine (onnxruntime-node when installed)
      return {
        model: (xt, t) =>
          tf.tidy(() => {
            const image = tf.slice(up, [rows.start, 0, 0, 0], [rows.end - rows.start, -1, -1, -1]) as tf.Tensor4D; // [b, S, S, C]
            const cond = labels ? tf.tensor1d(labels.subarray(rows.start, rows.end), "int32") : undefined; // [b]
            return apply(xt as tf.Tensor4D, t, cond, { image, aug });
          }),
      };
    };
    const S = net.config.imageSize;
    return sampleImages({
      sampler,
      labels: labels ?? new Int32Array(n),
      schedule: opts.schedule,
      rng,
      imageShape: [S, S, low.shape[3]],
      numSteps: opts.numSteps,
      step: opts.step,
      batchSize: opts.batchSize,
      progress: opts.progress,
      label: opts.label ?? "super-resolve",
    });
  } finally {
    up.dispose();
  }
}

/**
 * The regression baseline on every low-resolution x: ŷ = E[y | x] as learned with MSE (one
 * forward pass per batch). Returns [N, S, S, C]; the caller disposes it.
 * @example const yReg = regressionUpsample(reg, low, labels);
 * @see notebooks/04_super_resolution.ipynb
 */
export function regressionUpsample(net: UNet, low: tf.Tensor4D, labels?: Int32Array, batchSize = 256): tf.Tensor4D {
  const f = factorOf(net, low, "regressionUpsample");
  const ys = srLabels(net, low.shape[0], labels, "regressionUpsample");
  const parts: tf.Tensor4D[] = [];
  try {
    for (let s = 0; s < low.shape[0]; s += batchSize) {
      const b = Math.min(batchSize, low.shape[0] - s);
      parts.push(
        tf.tidy(() => {
          const up = upsampleBicubic(tf.slice(low, [s, 0, 0, 0], [b, -1, -1, -1]) as tf.Tensor4D, f); // [b, S, S, C]
          return regressionPredict(net, up, ys ? tf.tensor1d(ys.subarray(s, s + b), "int32") : undefined);
        }),
      );
    }
    return (parts.length === 1 ? parts[0].clone() : tf.concat(parts, 0)) as tf.Tensor4D;
  } finally {
    tf.dispose(parts);
  }
}
