/**
 * Reverse-process samplers: small step functions and one loop that drives them
 * (fast.ai miniai's `sample(stepFn, model, …)`); guidance enters as an ε modifier
 * (guided-diffusion's `cond_fn`).
 *
 * Papers:
 * - Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (ancestral step, Eq. 7/11).
 * - Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models" (Eq. 12, η).
 * - Song et al. 2021, "Score-Based Generative Modeling through SDEs" (reverse VP SDE,
 *   Euler–Maruyama predictor, Langevin corrector with a target signal-to-noise ratio).
 * - Song & Ermon 2019, "Generative Modeling by Estimating Gradients of the Data Distribution"
 *   (annealed Langevin dynamics).
 * - Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
 *   Models" (the multistep second-order data-prediction solver, in ./dpmSolver.ts; it keeps its
 *   previous x̂0 in the per-run {@link StepState}).
 *
 * | code            | symbol                                                   |
 * |-----------------|----------------------------------------------------------|
 * | `t`, `tPrev`    | current and next (smaller) timestep; tPrev = −1 ⇒ ᾱ = 1  |
 * | `alphaBar`      | ᾱ_t;  `alphaBarPrev` = ᾱ_{tPrev}                          |
 * | `sigma`         | σ_t = sqrt(1 − ᾱ_t)                                      |
 * | `epsHat`        | ε̂_θ(x_t, t) (after the modifier)                         |
 * | `x0Hat`         | x̂_0 = (x_t − σ_t ε̂)/sqrt(ᾱ_t)                            |
 * | `beta`          | effective β between t and tPrev: 1 − ᾱ_t/ᾱ_{tPrev}        |
 * | `eta`           | η (DDIM stochasticity); `snr` = r (Langevin)              |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";
import { Schedule, alphaBarAt, timesteps } from "./schedules";
import { posteriorCoefs } from "./forward";

/**
 * ε̂_θ(x_t, t): same shape as xt; t is one timestep index for the whole batch.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export type EpsModel = (xt: tf.Tensor, t: number) => tf.Tensor;
/**
 * Changes ε̂ before a step uses it (guidance, like guided-diffusion's cond_fn).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export type EpsModifier = (epsHat: tf.Tensor, xt: tf.Tensor, t: number) => tf.Tensor;
/**
 * Changes the score ∇ ln p_t before a step uses it.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export type ScoreModifier = (score: tf.Tensor, xt: tf.Tensor, t: number) => tf.Tensor;

/**
 * Everything a step function may use.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface StepContext {
  xt: tf.Tensor;
  t: number;
  /** −1 at the final step */
  tPrev: number;
  /** the model with the modifier applied */
  eps: (x: tf.Tensor, t: number) => tf.Tensor;
  schedule: Schedule;
  rng: Rng;
  /** clip x̂0 to [−clipX0, clipX0] (images in [−1, 1]: 1); undefined = no clipping */
  clipX0?: number;
  /**
   * Memory that lives for one {@link sample} run (multistep solvers keep earlier model outputs
   * here); `sample` creates it empty and disposes it at the end. Absent when a step is called
   * on its own, so a multistep solver then takes a first-order step.
   */
  state?: StepState;
}

/**
 * Per-run memory of a multistep sampler: named tensors (kept out of tf.tidy, replaced ones are
 * disposed) and numbers. {@link sample} owns it and disposes it when the run ends.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export class StepState {
  private readonly tensors = new Map<string, tf.Tensor>();
  private readonly numbers = new Map<string, number>();

  /** Keep `t` (survives the step's tf.tidy) under `name`, disposing what was there. */
  setTensor(name: string, t: tf.Tensor): void {
    const old = this.tensors.get(name);
    this.tensors.set(name, tf.keep(t));
    if (old && old !== t) old.dispose();
  }

  getTensor(name: string): tf.Tensor | undefined {
    return this.tensors.get(name);
  }

  setNumber(name: string, v: number): void {
    this.numbers.set(name, v);
  }

  getNumber(name: string): number | undefined {
    return this.numbers.get(name);
  }

  /** Free every kept tensor and forget everything. */
  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
    this.numbers.clear();
  }
}

/**
 * One reverse step: returns x at tPrev. Must not dispose ctx.xt.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export type StepFn = (ctx: StepContext) => tf.Tensor;

/**
 * Turn a score modifier into an ε modifier: ε' = −σ_t · mod(−ε̂/σ_t, x_t, t).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function scoreModifierToEps(mod: ScoreModifier, schedule: Schedule): EpsModifier {
  return (epsHat, xt, t) =>
    tf.tidy(() => {
      const sigma = schedule.sigmas[t];
      return tf.mul(mod(tf.div(epsHat, -sigma), xt, t), -sigma); // like xt
    });
}

/** x̂0 = (x_t − σ_t ε̂)/sqrt(ᾱ_t). */
function predictX0(xt: tf.Tensor, epsHat: tf.Tensor, t: number, schedule: Schedule): tf.Tensor {
  return tf.div(tf.sub(xt, tf.mul(epsHat, schedule.sigmas[t])), Math.sqrt(schedule.alphaBars[t])); // like xt
}

/**
 * x̂0 and ε̂ for a step (exported for the solvers of ./dpmSolver), with optional clipping of x̂0 to [−c, c] (Ho et al. 2020 clip the
 * predicted image to the data range; guided-diffusion's `clip_denoised`). After clipping, ε̂ is
 * recomputed from the clipped x̂0, ε̂' = (x_t − sqrt(ᾱ_t)·x̂0)/σ_t, so a DDIM step stays
 * consistent: without this an η = 0 sampler on images saturates at high guidance scales.
 */
export function denoised(xt: tf.Tensor, epsHat: tf.Tensor, t: number, schedule: Schedule, clipX0?: number): { x0Hat: tf.Tensor; epsHat: tf.Tensor } {
  const x0Hat = predictX0(xt, epsHat, t, schedule); // like xt
  if (clipX0 === undefined) return { x0Hat, epsHat };
  const clipped = tf.clipByValue(x0Hat, -clipX0, clipX0); // like xt
  return { x0Hat: clipped, epsHat: tf.div(tf.sub(xt, tf.mul(clipped, Math.sqrt(schedule.alphaBars[t]))), schedule.sigmas[t]) };
}

/**
 * Ancestral DDPM step (Ho et al. 2020): x_{tPrev} = μ̃(x_t, x̂0) + sqrt(β̃)·z, with the
 * posterior of q(x_{tPrev} | x_t, x_0) on possibly respaced steps (ᾱ ratios) and the
 * "lower" variance β̃. No noise on the final step (it returns x̂0). Equals ddimStep(1).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function ddpmStep(): StepFn {
  return ({ xt, t, tPrev, eps, schedule, rng, clipX0 }) =>
    tf.tidy(() => {
      const { x0Hat } = denoised(xt, eps(xt, t), t, schedule, clipX0); // 1–2. predict the noise, then x0 [B, …]
      const c = posteriorCoefs(t, tPrev, schedule); // 3. posterior q(x_tPrev | x_t, x0Hat)
      const mean = tf.add(tf.mul(x0Hat, c.x0Coef), tf.mul(xt, c.xtCoef)); // like xt
      if (tPrev < 0 || c.variance === 0) return mean;
      return tf.add(mean, tf.mul(rng.randn(xt.shape), Math.sqrt(c.variance))); // 4. add noise
    });
}

/**
 * DDIM step (Song, Meng & Ermon 2021, Eq. 12):
 * x_{tPrev} = sqrt(ᾱ_prev)·x̂0 + sqrt(1 − ᾱ_prev − σ²)·ε̂ + σ·z, with
 * σ = η·sqrt((1 − ᾱ_prev)/(1 − ᾱ_t))·sqrt(1 − ᾱ_t/ᾱ_prev). η = 0 is deterministic (no rng
 * draws); η = 1 is the ancestral DDPM step.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function ddimStep(eta = 0): StepFn {
  if (!(eta >= 0)) throw new Error(`ddimStep: eta must be >= 0, got ${eta}`);
  return ({ xt, t, tPrev, eps, schedule, rng, clipX0 }) =>
    tf.tidy(() => {
      const alphaBar = schedule.alphaBars[t];
      const alphaBarPrev = alphaBarAt(schedule, tPrev);
      const { x0Hat, epsHat } = denoised(xt, eps(xt, t), t, schedule, clipX0); // 1–2. predict the noise, then x0 [B, …]
      const sigma = eta * Math.sqrt(((1 - alphaBarPrev) / (1 - alphaBar)) * (1 - alphaBar / alphaBarPrev)); // 3. σ_t(η)
      const dirCoef = Math.sqrt(Math.max(0, 1 - alphaBarPrev - sigma * sigma)); // 4. direction to x_t
      const mean = tf.add(tf.mul(x0Hat, Math.sqrt(alphaBarPrev)), tf.mul(epsHat, dirCoef)); // like xt
      if (sigma === 0) return mean;
      return tf.add(mean, tf.mul(rng.randn(xt.shape), sigma)); // 5. add noise
    });
}

/**
 * Euler–Maruyama step of the reverse-time VP SDE (Song et al. 2021):
 * dx = [−½β x − β ∇ln p_t(x)] dt + sqrt(β) dw̄, integrated backwards over one (possibly
 * respaced) step with the effective β = 1 − ᾱ_t/ᾱ_tPrev:
 * x_{tPrev} = (1 + β/2)·x_t + β·score + sqrt(β)·z, score = −ε̂/σ_t. The final step adds no
 * noise (Song et al.'s "denoise" of the last predictor step).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function eulerMaruyamaStep(): StepFn {
  return ({ xt, t, tPrev, eps, schedule, rng }) =>
    tf.tidy(() => {
      const beta = 1 - schedule.alphaBars[t] / alphaBarAt(schedule, tPrev);
      const epsHat = eps(xt, t); // 1. predict the noise            [B, …]
      const score = tf.div(epsHat, -schedule.sigmas[t]); // 2. score = −ε̂/σ_t
      const mean = tf.add(tf.mul(xt, 1 + beta / 2), tf.mul(score, beta)); // 3. drift
      if (tPrev < 0) return mean;
      return tf.add(mean, tf.mul(rng.randn(xt.shape), Math.sqrt(beta))); // 4. diffusion
    });
}

/**
 * Options for {@link langevinStep}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface LangevinOptions {
  /** K, Langevin updates per noise level (default 2) */
  stepsPerLevel?: number;
  /** r, target ‖(α/2)·score‖ / ‖sqrt(α)·z‖ (default 0.16, Song et al. 2021) */
  snr?: number;
  /** how to move to the next level: "ddim" (default) or "rescale"; see {@link langevinStep} */
  transition?: "ddim" | "rescale";
}

/** Batch mean of per-example Euclidean norms: a scalar tensor. */
function meanNorm(x: tf.Tensor): tf.Tensor {
  return tf.mean(tf.sqrt(tf.sum(tf.square(x.reshape([x.shape[0], -1])), 1))); // []
}

/**
 * Annealed Langevin dynamics (Song & Ermon 2019) at the noise level of t, then a move to
 * tPrev. At level t it does K updates x ← x + (α/2)·score + sqrt(α)·z, z ~ N(0, I),
 * score = −ε̂(x, t)/σ_t, with α = 4·(r·‖z‖/‖score‖)² (batch-mean norms) so that the drift is
 * r times the noise, as in Song et al. 2021's corrector.
 *
 * The move to the next level (documented choice):
 * - `"ddim"` (default): the deterministic DDIM map x_{tPrev} = sqrt(ᾱ_prev)·x̂0 + σ_prev·ε̂.
 *   Langevin corrects, DDIM predicts: a predictor–corrector sampler, K + 1 model calls a level.
 * - `"rescale"`: x_{tPrev} = x·sqrt(ᾱ_prev/ᾱ_t), the VP form of Song & Ermon's pure annealed
 *   Langevin, which keeps x in VE coordinates z = x/sqrt(ᾱ) and only lowers the noise;
 *   K model calls a level and needs stronger Langevin: on the 8-mode ring with 100 levels,
 *   snr 0.3 with K = 3 (or snr 0.16 with K = 10) works; the defaults (0.16, K = 2) do not.
 * Either way the final step (tPrev = −1) returns the Tweedie denoised x̂0.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function langevinStep(opts: LangevinOptions = {}): StepFn {
  const K = opts.stepsPerLevel ?? 2;
  const snr = opts.snr ?? 0.16;
  const transition = opts.transition ?? "ddim";
  if (!Number.isInteger(K) || K < 0) throw new Error(`langevinStep: stepsPerLevel must be an integer >= 0, got ${K}`);
  return ({ xt, t, tPrev, eps, schedule, rng }) =>
    tf.tidy(() => {
      const sigma = schedule.sigmas[t];
      let x = xt;
      for (let k = 0; k < K; k++) {
        const score = tf.div(eps(x, t), -sigma); // 1. score at level t     [B, …]
        const z = rng.randn(x.shape); // [B, …]
        const alpha = tf.mul(tf.square(tf.div(meanNorm(z), meanNorm(score))), 4 * snr * snr); // 2. step size α
        x = tf.add(x, tf.add(tf.mul(score, tf.div(alpha, 2)), tf.mul(z, tf.sqrt(alpha)))); // 3. Langevin update
      }
      const alphaBarPrev = alphaBarAt(schedule, tPrev);
      if (transition === "rescale" && tPrev >= 0) return tf.mul(x, Math.sqrt(alphaBarPrev / schedule.alphaBars[t])); // 4.
      const epsHat = eps(x, t); // 4. DDIM map to tPrev
      const x0Hat = predictX0(x, epsHat, t, schedule);
      if (tPrev < 0) return x0Hat;
      return tf.add(tf.mul(x0Hat, Math.sqrt(alphaBarPrev)), tf.mul(epsHat, Math.sqrt(1 - alphaBarPrev)));
    });
}

/**
 * Options for {@link sample}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface SampleOptions {
  model: EpsModel;
  schedule: Schedule;
  step: StepFn;
  /** shape of x_T, e.g. [B, 2] */
  shape: number[];
  /** number of (respaced) reverse steps, ≤ schedule.T */
  numSteps: number;
  rng: Rng;
  modifier?: EpsModifier;
  /** starting point (not disposed; default rng.randn(shape)) */
  xT?: tf.Tensor;
  /** called after step i of n (0-based) */
  onStep?: (i: number, n: number) => void;
  /** clip x̂0 to [−clipX0, clipX0] in steps that predict it (DDPM, DDIM); use 1 for images in [−1, 1] */
  clipX0?: number;
}

/**
 * The sampling loop: starts at x_T (given, or rng.randn(shape)), walks
 * {@link timesteps}(T, numSteps) with `step`, disposing each previous state, and returns x0.
 * The caller owns (and disposes) the result; no other tensor is left behind.
 *
 * @example const x0 = sample({ model, schedule, step: ddimStep(), shape: [512, 2], numSteps: 50, rng });
 * @see notebooks/01_score_matching.ipynb
 */
export function sample(opts: SampleOptions): tf.Tensor {
  const { model, schedule, step, shape, numSteps, rng, modifier, xT, onStep, clipX0 } = opts;
  if (clipX0 !== undefined && !(clipX0 > 0)) throw new Error(`sample: clipX0 must be > 0, got ${clipX0}`);
  if (xT && xT.shape.join() !== shape.join()) throw new Error(`sample: xT shape [${xT.shape}] != shape [${shape}]`);
  const ts = timesteps(schedule.T, numSteps);
  const eps = modifier
    ? (x: tf.Tensor, t: number) => tf.tidy(() => modifier(model(x, t), x, t))
    : (x: tf.Tensor, t: number) => model(x, t);
  let x = xT ? xT.clone() : rng.randn(shape); // [B, …]
  const state = new StepState(); // multistep memory for this run only
  try {
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i];
      const tPrev = i + 1 < ts.length ? ts[i + 1] : -1;
      const next = tf.tidy(() => step({ xt: x, t, tPrev, eps, schedule, rng, clipX0, state })); // like x
      if (next !== x) x.dispose();
      x = next;
      onStep?.(i, ts.length);
    }
  } catch (e) {
    x.dispose(); // a model or step that throws leaves nothing behind
    throw e;
  } finally {
    state.dispose();
  }
  return x;
}
