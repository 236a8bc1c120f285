/**
 * Sampling many class-targeted images with a guided sampler, in batches: the piece the
 * guidance notebooks sweep over. A {@link GuidedSampler} turns one batch's target labels into
 * the `model` (and optional ε `modifier`) that {@link sample} runs; the factories below build
 * the two guidance methods of the course on the U-Net.
 *
 * Papers: Dhariwal & Nichol 2021 (classifier guidance, Alg. 2: ε̃ = ε̂ − s·σ_t·∇log p_φ(y | z_t));
 * Ho & Salimans 2022 (classifier-free guidance: ε̃ = ε̂(z, ∅) + s·(ε̂(z, c) − ε̂(z, ∅)));
 * the U-Net runs on the engine of ./engine (onnxruntime-node when installed), the
 * classifier's input gradient on tfjs;
 * Song, Meng & Ermon 2021 (DDIM, the default sampler here, with x̂0 clipped to [−1, 1]).
 *
 * | code      | math                                             |
 * |-----------|--------------------------------------------------|
 * | labels    | y, the class each sample is generated for        |
 * | s         | the guidance scale s                             |
 * | base      | the model guided by the classifier: ε̂(z, t, y) ("cond") or ε̂(z, t, ∅) ("uncond") |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";
import { Schedule } from "./schedules";
import { EpsModel, EpsModifier, StepFn, ddimStep, sample } from "./samplers";
import { unetApply } from "./engine/engine";
import { UNet } from "./nets/unet";
import { ConvClassifier } from "./nets/classifier";
import { classifierFreeGuidance, classifierGuidance, labelLogProb } from "./guidance";
import { ProgressBar, ProgressMode } from "./progress";

/**
 * What a batch with target labels `labels` is sampled with; `rows` says which rows of the whole
 * run the batch holds (for per-sample conditioning such as a super-resolution input).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export type GuidedSampler = (labels: Int32Array, rows: { start: number; end: number }) => { model: EpsModel; modifier?: EpsModifier };

/**
 * Classifier-free guidance on a class-conditional U-Net trained with label dropout:
 * ε̃ = ε̂(z, ∅) + s·(ε̂(z, y) − ε̂(z, ∅)); s = 1 is the conditional model, s = 0 the unconditional.
 *
 * @example sampleImages({ sampler: cfgSampler(unet, 3), labels, schedule, rng })
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export function cfgSampler(net: UNet, s: number): GuidedSampler {
  const nullCond = net.nullCond;
  if (nullCond === undefined) throw new Error("cfgSampler: the U-Net has no classes (numClasses), so it has no ∅");
  return (labels) => {
    const apply = unetApply(net); // the chosen engine (onnxruntime-node when installed)
    const model = (xt: tf.Tensor, t: number, cond: tf.Tensor) => apply(xt as tf.Tensor4D, t, cond as tf.Tensor1D); // [B, S, S, C]
    return { model: classifierFreeGuidance({ model, cond: labels, nullCond, guidanceScale: s }) };
  };
}

/**
 * Classifier guidance with a noise-conditional classifier p_φ(y | z_t, t) on the U-Net: the
 * conditional model ε̂(z, t, y) (`base: "cond"`, default; s = 0 is the conditional model alone)
 * or the unconditional ε̂(z, t, ∅) (`base: "uncond"`), with ε̃ = ε̂ − s·σ_t·∇log p_φ(y | z_t, t).
 *
 * @example sampleImages({ sampler: classifierGuidedSampler(unet, clf, 4, schedule), labels, schedule, rng })
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function classifierGuidedSampler(net: UNet, clf: ConvClassifier, s: number, schedule: Schedule, base: "cond" | "uncond" = "cond"): GuidedSampler {
  if (!clf.timeConditional) throw new Error("classifierGuidedSampler: guidance needs a noise-conditional classifier p(y | z_t, t)");
  if (net.nullCond === undefined) throw new Error(`classifierGuidedSampler: base "${base}" needs a class-conditional U-Net (numClasses)`);
  const logits = (x: tf.Tensor, t: number) => clf.apply(x as tf.Tensor4D, t); // [B, K]
  return (labels) => ({
    model: unetEpsModel(net, base === "cond" ? labels : net.nullCond!),
    modifier: s === 0 ? undefined : classifierGuidance({ logProb: labelLogProb(logits, labels), guidanceScale: s, schedule }),
  });
}

/**
 * The U-Net as an {@link EpsModel} with fixed class ids on the chosen engine (like
 * `epsModel(net, cond)`, which stays on tfjs). The classifier's input gradient stays on tfjs.
 */
function unetEpsModel(net: UNet, cond: number | Int32Array): EpsModel {
  const apply = unetApply(net);
  return (xt, t) =>
    tf.tidy(() => {
      const B = xt.shape[0];
      if (typeof cond !== "number" && cond.length !== B) throw new Error(`classifierGuidedSampler: ${cond.length} labels for a batch of ${B}`);
      const c = typeof cond === "number" ? tf.fill([B], cond, "int32") : tf.tensor1d(cond, "int32"); // [B]
      return apply(xt as tf.Tensor4D, t, c as tf.Tensor1D); // [B, S, S, C]
    });
}

/**
 * Options of {@link sampleImages}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface SampleImagesOptions {
  sampler: GuidedSampler;
  /** The target class of every sample, [N]. */
  labels: Int32Array;
  schedule: Schedule;
  rng: Rng;
  /** Image shape [S, S, C] (default [16, 16, 1]). */
  imageShape?: [number, number, number];
  /** Reverse steps (default 25). */
  numSteps?: number;
  /** Step function (default DDIM, η = 0). */
  step?: StepFn;
  /** Samples per batch (default 128). */
  batchSize?: number;
  /** x̂0 clipping (default 1: images in [−1, 1]). */
  clipX0?: number;
  /** Progress display (default "none"). */
  progress?: ProgressMode;
  label?: string;
}

/**
 * Sample one image per entry of `labels`, batch by batch, and return them as one tensor
 * [N, S, S, C] (the caller disposes it). Each batch draws its noise from `rng`, so a seed fixes
 * the result; nothing else is left in memory.
 *
 * @example const imgs = sampleImages({ sampler: cfgSampler(unet, 2), labels, schedule, rng: new Rng(0) });
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function sampleImages(opts: SampleImagesOptions): tf.Tensor4D {
  const { sampler, labels, schedule, rng } = opts;
  const [S, S2, C] = opts.imageShape ?? [16, 16, 1];
  const numSteps = opts.numSteps ?? 25;
  const batchSize = opts.batchSize ?? 128;
  if (labels.length === 0) throw new Error("sampleImages: no labels");
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`sampleImages: batchSize must be a positive integer, got ${batchSize}`);
  const step = opts.step ?? ddimStep(0);
  const numBatches = Math.ceil(labels.length / batchSize);
  const bar = new ProgressBar({ total: numBatches * numSteps, label: opts.label ?? "sample", mode: opts.progress ?? "none" });
  const parts: tf.Tensor[] = [];
  try {
    for (let b = 0; b < numBatches; b++) {
      const rows = { start: b * batchSize, end: Math.min(labels.length, (b + 1) * batchSize) };
      const y = labels.subarray(rows.start, rows.end);
      const { model, modifier } = sampler(y, rows);
      parts.push(
        sample({
          model,
          modifier,
          schedule,
          step,
          shape: [y.length, S, S2, C],
          numSteps,
          rng,
          clipX0: opts.clipX0 ?? 1,
          onStep: (i) => bar.update(b * numSteps + i + 1),
        }),
      );
    }
    bar.done();
    return (parts.length === 1 ? parts[0].clone() : tf.concat(parts, 0)) as tf.Tensor4D; // [N, S, S, C]
  } finally {
    tf.dispose(parts);
  }
}

/**
 * `perClass` target labels for each of `numClasses` classes, interleaved (0, 1, …, K−1, 0, 1, …)
 * so that any prefix, and every batch, is class-balanced.
 *
 * @example balancedLabels(10, 20) // Int32Array(200) [0, 1, …, 9, 0, 1, …]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function balancedLabels(numClasses: number, perClass: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1 || !Number.isInteger(perClass) || perClass < 1) {
    throw new Error(`balancedLabels: numClasses and perClass must be positive integers, got ${numClasses}, ${perClass}`);
  }
  return Int32Array.from({ length: numClasses * perClass }, (_, i) => i % numClasses);
}
