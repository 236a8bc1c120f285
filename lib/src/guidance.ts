/**
 * Guidance: functions that change the score or ε̂ so that samples follow a class.
 * Both plug into {@link sample}: classifier guidance as an ε modifier (guided-diffusion's
 * `cond_fn`), classifier-free guidance as a wrapped model.
 *
 * Papers:
 * - Dhariwal & Nichol 2021, "Diffusion Models Beat GANs on Image Synthesis" (classifier
 *   guidance; Alg. 2 and Eq. 14: ε̃ = ε̂ − s·sqrt(1 − ᾱ_t)·∇_{x_t} log p_φ(y | x_t)).
 * - Ho & Salimans 2021/2022, "Classifier-Free Diffusion Guidance" (Eq. 6:
 *   ε̃ = (1 + w)·ε̂(z, c) − w·ε̂(z, ∅); here w = s − 1).
 * - The seed lecture: z(t−Δt) = z(t) + η(∇ln P_t(z) + s·∇ln P(x | z)) (classifier guidance) and
 *   s·∇ln P_t(z | x) − (s − 1)·∇ln P_t(z | ∅) (classifier-free guidance).
 *
 * | code            | symbol                                               |
 * |-----------------|------------------------------------------------------|
 * | `guidanceScale` | s  (Ho & Salimans' w = s − 1)                        |
 * | `nullCond`      | ∅, the "no class" id                                 |
 * | `epsHat`        | ε̂_θ(x_t, t) or ε̂_θ(x_t, t, c)                        |
 * | `sigma`         | σ_t = sqrt(1 − ᾱ_t)                                  |
 * | `logProb`       | log p_φ(y | x_t, t) for the target labels y, per row |
 * | `grad`          | ∇_{x_t} log p_φ(y | x_t, t)                          |
 * | `score`         | ∇_{x_t} ln p_t(x_t) = −ε̂/σ_t                         |
 *
 * Score and ε forms are one piece of math: score' = score + s·∇log p(y|x_t) is, with
 * score = −ε̂/σ_t, the ε form ε̃ = ε̂ − s·σ_t·∇log p(y|x_t) ({@link scoreModifierToEps}).
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { EpsModel, EpsModifier, ScoreModifier, scoreModifierToEps } from "./samplers";
import { Schedule } from "./schedules";

/**
 * log p(y | x_t, t) of the target labels, one value per row: xt [B, …] → [B].
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export type LogProbFn = (xt: tf.Tensor, t: number) => tf.Tensor;

/**
 * ε̂_θ(x_t, t, c) of a class-conditional model; `cond` is [B] (class ids, with ∅ for
 * "unconditional") or any per-row conditioning tensor.
 *
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export type CondEpsModel = (xt: tf.Tensor, t: number, cond: tf.Tensor) => tf.Tensor;

/** Class ids: one for the whole batch, one per row, or a tensor. */
export type CondInput = number | ArrayLike<number> | tf.Tensor;

/** A [B] int32 tensor of class ids from a number (every row) or one id per row. */
function classIds(labels: number | ArrayLike<number>, B: number, who: string): tf.Tensor1D {
  if (typeof labels === "number") return tf.fill([B], labels, "int32") as tf.Tensor1D; // [B]
  if (labels.length !== B) throw new Error(`${who}: ${labels.length} labels for a batch of ${B}`);
  return tf.tensor1d(Array.from(labels), "int32"); // [B]
}

/**
 * log p(y | x_t, t) from a classifier's logits: log_softmax(logits)[y] per row. The label is
 * picked with a one-hot mask, not `tf.gather`, so the gradient also works on wasm (no
 * UnsortedSegmentSum kernel, see TFJS_NOTES.md).
 *
 * @param logits classifier (x_t, t) → logits [B, K]
 * @param labels target class: one for every row, or one per row
 * @example const logProb = labelLogProb((x, t) => clf.apply(x, t), 3);
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function labelLogProb(logits: (xt: tf.Tensor, t: number) => tf.Tensor, labels: number | ArrayLike<number>): LogProbFn {
  return (xt, t) =>
    tf.tidy(() => {
      const l = logits(xt, t); // [B, K]
      if (l.rank !== 2) throw new Error(`labelLogProb: logits must be [B, K], got [${l.shape}]`);
      const [B, K] = l.shape;
      const y = classIds(labels, B, "labelLogProb"); // [B]
      return tf.sum(tf.mul(tf.logSoftmax(l), tf.oneHot(y, K)), 1); // [B]
    });
}

/**
 * ∇_{x_t} log p(y | x_t, t) via `tf.grad` of the batch sum Σ_b log p(y_b | x_t^b): each row
 * gets its own gradient as long as the classifier treats rows independently.
 *
 * @returns a tensor like xt
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function classifierGradient(logProb: LogProbFn, xt: tf.Tensor, t: number): tf.Tensor {
  return tf.tidy(() => {
    const grad = tf.grad((x: tf.Tensor) => {
      const lp = logProb(x, t); // [B]
      if (lp.rank !== 1 || lp.shape[0] !== xt.shape[0]) throw new Error(`classifierGradient: logProb must return [${xt.shape[0]}], got [${lp.shape}]`);
      return tf.sum(lp); // []
    });
    return grad(xt); // like xt
  });
}

/**
 * The guided score, the seed's ∇ln P_t(z) + s·∇ln P(x | z): score + s·grad. Pure algebra;
 * it works on anything shaped like x_t.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function guidedScore(score: tf.Tensor, grad: tf.Tensor, guidanceScale: number): tf.Tensor {
  return tf.tidy(() => tf.add(score, tf.mul(grad, guidanceScale))); // like score
}

/**
 * Options for {@link classifierGuidance} and {@link classifierScoreGuidance}.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface ClassifierGuidanceOptions {
  /** log p(y | x_t, t) of the target labels, [B]; e.g. {@link labelLogProb} */
  logProb: LogProbFn;
  /** s ≥ 0; s = 0 leaves the model unchanged */
  guidanceScale: number;
}

function checkScale(s: number, who: string): number {
  if (!Number.isFinite(s)) throw new Error(`${who}: guidanceScale must be a finite number, got ${s}`);
  return s;
}

/**
 * Classifier guidance in score form, for score-based samplers and the 2D pictures:
 * score' = score + s·∇_{x_t} log p(y | x_t, t).
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function classifierScoreGuidance(opts: ClassifierGuidanceOptions): ScoreModifier {
  const s = checkScale(opts.guidanceScale, "classifierScoreGuidance");
  return (score, xt, t) =>
    tf.tidy(() => (s === 0 ? score.clone() : guidedScore(score, classifierGradient(opts.logProb, xt, t), s))); // like xt
}

/**
 * Classifier guidance in ε form (Dhariwal & Nichol 2021, Alg. 2 / Eq. 14), for
 * `sample({ …, modifier })`: ε̃ = ε̂ − s·σ_t·∇_{x_t} log p(y | x_t, t). Derived from
 * {@link classifierScoreGuidance} by {@link scoreModifierToEps}, so the math lives once.
 * With an exact classifier and s = 1 the guided model is exactly the class-conditional one,
 * since ∇log p_t(x) + ∇log p(y | x) = ∇log p_t(x | y).
 *
 * @example sample({ model, schedule, step: ddimStep(), shape, numSteps: 50, rng,
 *   modifier: classifierGuidance({ logProb: labelLogProb(clf, 3), guidanceScale: 4, schedule }) })
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function classifierGuidance(opts: ClassifierGuidanceOptions & { schedule: Schedule }): EpsModifier {
  return scoreModifierToEps(classifierScoreGuidance(opts), opts.schedule);
}

/**
 * The classifier-free combination, the seed's s·∇ln P_t(z | x) − (s − 1)·∇ln P_t(z | ∅), i.e.
 * uncond + s·(cond − uncond). Linear, so it is the same for scores and for ε̂.
 * s = 0 gives `uncond`, s = 1 gives `cond`.
 *
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export function cfgCombine(cond: tf.Tensor, uncond: tf.Tensor, guidanceScale: number): tf.Tensor {
  return tf.tidy(() => tf.add(uncond, tf.mul(tf.sub(cond, uncond), guidanceScale))); // like cond
}

/**
 * Options for {@link classifierFreeGuidance}.
 *
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export interface ClassifierFreeGuidanceOptions {
  /** ε̂_θ(x_t, t, c), trained with label dropout to ∅ */
  model: CondEpsModel;
  /** target class: a number (every row), one id per row, or a [B, …] tensor (not disposed) */
  cond: CondInput;
  /** ∅: the null class id (or a tensor broadcast to cond's shape) */
  nullCond: number | tf.Tensor;
  /** s; s = 1 is the conditional model, s = 0 the unconditional one */
  guidanceScale: number;
}

/**
 * Classifier-free guidance (Ho & Salimans 2022) as an {@link EpsModel} for `sample`:
 * ε̃ = s·ε̂(x_t, t, c) − (s − 1)·ε̂(x_t, t, ∅) = ε̂(x_t, ∅) + s·(ε̂(x_t, c) − ε̂(x_t, ∅)).
 * Under this convention s = 1 is the conditional model and s = 0 the unconditional one
 * (Ho & Salimans write w = s − 1, so their w = 0 is our s = 1). Conditional and unconditional
 * passes run as ONE batched forward pass of 2B rows (x_t concatenated with itself); at s = 1
 * or s = 0 only the needed pass runs.
 *
 * @example sample({ model: classifierFreeGuidance({ model, cond: 3, nullCond: 10, guidanceScale: 3 }), … })
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export function classifierFreeGuidance(opts: ClassifierFreeGuidanceOptions): EpsModel {
  const s = checkScale(opts.guidanceScale, "classifierFreeGuidance");
  const { model, cond, nullCond } = opts;
  return (xt, t) =>
    tf.tidy(() => {
      const B = xt.shape[0];
      const c = cond instanceof tf.Tensor ? cond : classIds(cond, B, "classifierFreeGuidance"); // [B, …]
      if (c.shape[0] !== B) throw new Error(`classifierFreeGuidance: cond has ${c.shape[0]} rows for a batch of ${B}`);
      if (s === 1) return model(xt, t, c); // the conditional model
      const empty = typeof nullCond === "number" ? tf.fill(c.shape, nullCond, c.dtype) : tf.broadcastTo(tf.cast(nullCond, c.dtype), c.shape); // like c
      if (s === 0) return model(xt, t, empty); // the unconditional model
      const both = model(tf.concat([xt, xt], 0), t, tf.concat([c, empty], 0)); // [2B, …]
      const [epsCond, epsUncond] = tf.split(both, 2, 0); // [B, …] each
      return cfgCombine(epsCond, epsUncond, s); // like xt
    });
}
