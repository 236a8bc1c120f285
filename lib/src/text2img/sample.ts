/**
 * Sampling the three text-to-image systems of notebook 06 from captions:
 * - GLIDE with classifier-free guidance on the caption (ε̃ = ε̂(∅) + s·(ε̂(c) − ε̂(∅)));
 * - GLIDE with CLIP guidance: the text-conditional model plus s·σ_t·∇_z ⟨C_I(z_t, t), C_T(x)⟩,
 *   with the noised CLIP, per the seed's approximation ln P(z | x) ≈ C_T(x)ᵀ C_I(z);
 * - unCLIP: the prior samples an image embedding for the caption, the decoder renders it.
 *
 * Papers: Nichol et al. 2022 (GLIDE §2.4–2.5, §3.2: CFG and CLIP guidance compared); Ramesh
 * et al. 2022 (unCLIP: prior then decoder, both with classifier-free guidance); Ho & Salimans
 * 2022; Dhariwal & Nichol 2021 (the guided ε̃ = ε̂ − s·σ_t·∇ log p).
 *
 * | code        | math                                                        | shape  |
 * |-------------|-------------------------------------------------------------|--------|
 * | context     | the U-Net's conditioning vector per sample (0 = ∅)           | [N, D] |
 * | textEmb     | √E·C_T(x) (context of GLIDE and the prior)                   | [N, E] |
 * | clipText    | C_T(x), unit rows, of the *noised* CLIP (CLIP guidance)      | [N, E] |
 * | s           | guidance scale                                              |        |
 *
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Schedule } from "../schedules";
import { StepFn, ddimStep, sample } from "../samplers";
import { UNet } from "../nets/unet";
import { MlpDenoiser } from "../nets/mlp";
import { ClipModel } from "../clip/model";
import { classifierFreeGuidance, classifierGuidance } from "../guidance";
import { GuidedSampler } from "../imageSampling";
import { mlpApply, unetApply } from "../engine/engine";

/** Rows [start, end) of a [N, D] tensor (call inside tf.tidy). */
function rowsOf(x: tf.Tensor2D, rows: { start: number; end: number }): tf.Tensor2D {
  return tf.slice(x, [rows.start, 0], [rows.end - rows.start, -1]) as tf.Tensor2D;
}

function checkContext(net: UNet, context: tf.Tensor2D, who: string): void {
  const D = net.config.contextDim;
  if (!D) throw new Error(`${who}: the U-Net takes no context (contextDim 0)`);
  if (context.rank !== 2 || context.shape[1] !== D) throw new Error(`${who}: context must be [N, ${D}], got [${context.shape}]`);
}

/**
 * Classifier-free guidance on a context-conditional U-Net: ε̃ = ε̂(z, ∅) + s·(ε̂(z, c) − ε̂(z, ∅)),
 * with ∅ the zero context; s = 1 is the conditional model. `context` is not disposed.
 * @example sampleImages({ sampler: contextCfgSampler(glide, textEmb, 3), labels: new Int32Array(N), imageShape: [16, 16, 3], … })
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function contextCfgSampler(net: UNet, context: tf.Tensor2D, s: number): GuidedSampler {
  checkContext(net, context, "contextCfgSampler");
  return (_labels, rows) => {
    const apply = unetApply(net); // the chosen engine (onnxruntime-node when installed)
    const model = (xt: tf.Tensor, t: number, c: tf.Tensor) => apply(xt as tf.Tensor4D, t, undefined, { context: c as tf.Tensor2D });
    return {
      model: (xt, t) =>
        tf.tidy(() => classifierFreeGuidance({ model, cond: rowsOf(context, rows), nullCond: 0, guidanceScale: s })(xt, t)),
    };
  };
}

/**
 * CLIP guidance (GLIDE §2.5) on the text-conditional U-Net: ε̃ = ε̂(z, c) − s·σ_t·∇_z ⟨C_I(z_t, t), C_T(x)⟩,
 * with a noised CLIP. `base: "uncond"` guides the unconditional model ε̂(z, ∅) instead. s = 0 is
 * the base model. Neither tensor is disposed.
 * @param clipText the noised CLIP's unit text embeddings C_T(x), [N, E]
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function clipGuidedSampler(net: UNet, clip: ClipModel, context: tf.Tensor2D, clipText: tf.Tensor2D, s: number, schedule: Schedule, base: "cond" | "uncond" = "cond"): GuidedSampler {
  checkContext(net, context, "clipGuidedSampler");
  if (!clip.timeConditional) throw new Error("clipGuidedSampler: CLIP guidance needs a noised CLIP C_I(z_t, t) (see notebook 05)");
  if (clipText.shape[0] !== context.shape[0]) throw new Error(`clipGuidedSampler: ${context.shape[0]} contexts but ${clipText.shape[0]} CLIP text embeddings`);
  return (_labels, rows) => {
    const apply = unetApply(net); // the U-Net on the chosen engine; the CLIP gradient stays on tfjs
    return {
      model: (xt, t) =>
        tf.tidy(() => {
          const c = base === "cond" ? rowsOf(context, rows) : (tf.zeros([rows.end - rows.start, context.shape[1]]) as tf.Tensor2D);
          return apply(xt as tf.Tensor4D, t, undefined, { context: c });
        }),
      modifier:
        s === 0
          ? undefined
          : classifierGuidance({
              // ln P(z | x) ≈ C_T(x)ᵀ C_I(z_t, t): one value per row
              logProb: (x, t) => tf.sum(tf.mul(clip.encodeImages(x as tf.Tensor4D, t), rowsOf(clipText, rows)), 1),
              guidanceScale: s,
              schedule,
            }),
    };
  };
}

/**
 * Options of {@link samplePrior}.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export interface SamplePriorOptions {
  prior: MlpDenoiser;
  /** √E·C_T(x) of each caption, [N, E] (not disposed). */
  textEmb: tf.Tensor2D;
  /** Classifier-free guidance scale of the prior (default 1: the conditional prior). */
  s?: number;
  schedule: Schedule;
  rng: Rng;
  numSteps?: number;
  step?: StepFn;
}

/**
 * The unCLIP prior: sample z_0 ~ P(√E·C_I(y) | x) for each caption (DDIM, x̂0 clipped to ±√E),
 * then put it back on the sphere of radius √E (CLIP image embeddings are unit vectors). Returns
 * [N, E]; the caller disposes it.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function samplePrior(opts: SamplePriorOptions): tf.Tensor2D {
  const { prior, textEmb, schedule, rng } = opts;
  const E = prior.config.dataDim;
  if (textEmb.rank !== 2 || textEmb.shape[1] !== (prior.config.contextDim ?? 0)) throw new Error(`samplePrior: textEmb must be [N, ${prior.config.contextDim ?? 0}], got [${textEmb.shape}]`);
  const apply = mlpApply(prior); // the chosen engine (onnxruntime-node when installed)
  const model = (xt: tf.Tensor, t: number, c: tf.Tensor) =>
    tf.tidy(() => apply(xt as tf.Tensor2D, tf.fill([xt.shape[0]], t, "float32") as tf.Tensor1D, undefined, c as tf.Tensor2D));
  const z = sample({
    model: (xt, t) => classifierFreeGuidance({ model, cond: textEmb, nullCond: 0, guidanceScale: opts.s ?? 1 })(xt, t),
    schedule,
    step: opts.step ?? ddimStep(1),
    shape: [textEmb.shape[0], E],
    numSteps: opts.numSteps ?? 50,
    rng,
    // x̂0 clipped to ±√E, the largest coordinate a point of the √E sphere can have: without it,
    // x̂0 = (z_t − σ_t ε̂)/sqrt(ᾱ_t) explodes at the first respaced steps (ᾱ_t ≈ 0) and DDIM
    // samples end far off the data (measured: mean cosine to the caption's embeddings 0.46 → 0.95).
    clipX0: Math.sqrt(E),
  });
  const out = tf.tidy(() => tf.mul(tf.div(z, tf.norm(z, "euclidean", 1, true)), Math.sqrt(E)) as tf.Tensor2D); // [N, E] on the √E sphere
  z.dispose();
  return out;
}
