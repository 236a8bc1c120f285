/**
 * Noise schedules for discrete-time variance-preserving (VP) diffusion.
 *
 * Papers:
 * - Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (linear β schedule).
 * - Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models" (cosine
 *   schedule; the 1000/T rescaling of the linear schedule; respaced timesteps).
 * - Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models" (sampling on a subsequence
 *   of timesteps).
 *
 * Time convention: integer timestep t ∈ {0, …, T−1}; alphaBar[t] = Π_{s≤t} (1 − beta[s]);
 * z_t = sqrt(alphaBar_t)·x0 + sigma_t·eps with sigma_t = sqrt(1 − alphaBar_t).
 * t = −1 stands for clean data (alphaBar = 1); see {@link alphaBarAt}.
 *
 * | code        | paper symbol                      |
 * |-------------|-----------------------------------|
 * | `betas`     | β_t                               |
 * | `alphas`    | α_t = 1 − β_t                     |
 * | `alphaBars` | ᾱ_t = Π_{s≤t} α_s                 |
 * | `sigmas`    | σ_t = sqrt(1 − ᾱ_t)               |
 * | `logSnr`    | λ_t = ln(ᾱ_t / (1 − ᾱ_t))         |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Which β schedule: Ho et al. 2020 linear, or Nichol & Dhariwal 2021 cosine.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export type ScheduleKind = "linear" | "cosine";

/**
 * A discrete VP noise schedule; every array has length T and is indexed by t ∈ {0, …, T−1}.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface Schedule {
  kind: ScheduleKind;
  T: number;
  /** β_t */
  betas: Float64Array;
  /** α_t = 1 − β_t */
  alphas: Float64Array;
  /** ᾱ_t = Π_{s≤t} α_s */
  alphaBars: Float64Array;
  /** σ_t = sqrt(1 − ᾱ_t) */
  sigmas: Float64Array;
  /** λ_t = ln(ᾱ_t / (1 − ᾱ_t)) */
  logSnr: Float64Array;
}

/**
 * Options for {@link makeSchedule}; each applies only to its own kind.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export interface ScheduleOptions {
  /** linear: β_0 before the 1000/T rescaling (default 1e-4). */
  betaStart?: number;
  /** linear: β_{T−1} before the 1000/T rescaling (default 0.02). */
  betaEnd?: number;
  /** cosine: offset s (default 0.008). */
  s?: number;
  /** both: upper clip for β (default 0.999). */
  maxBeta?: number;
}

function checkT(T: number): void {
  if (!Number.isInteger(T) || T < 1) throw new Error(`schedule: T must be a positive integer, got ${T}`);
}

/**
 * Linear β schedule (Ho et al. 2020), rescaled by 1000/T as in improved DDPM so that a short
 * schedule (T = 50, 100, …) covers the same noise range as T = 1000. β is linear from
 * betaStart·1000/T to betaEnd·1000/T and clipped at `maxBeta` (matters only for T < 21).
 *
 * @example linearBetas(1000) // [1e-4, …, 0.02]
 * @see notebooks/01_score_matching.ipynb
 */
export function linearBetas(T: number, betaStart = 1e-4, betaEnd = 0.02, maxBeta = 0.999): Float64Array {
  checkT(T);
  const scale = 1000 / T;
  const lo = scale * betaStart;
  const hi = scale * betaEnd;
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) out[t] = Math.min(T === 1 ? lo : lo + ((hi - lo) * t) / (T - 1), maxBeta);
  return out;
}

/**
 * Cosine schedule (Nichol & Dhariwal 2021, Eq. 17): ᾱ(u) = f(u)/f(0) with
 * f(u) = cos²((u + s)/(1 + s) · π/2), u = t/T, and β_t = min(1 − ᾱ((t+1)/T)/ᾱ(t/T), maxBeta).
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function cosineBetas(T: number, s = 0.008, maxBeta = 0.999): Float64Array {
  checkT(T);
  const f = (u: number) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) out[t] = Math.min(1 - f((t + 1) / T) / f(t / T), maxBeta);
  return out;
}

/**
 * Build a {@link Schedule}: β from {@link linearBetas} or {@link cosineBetas}, then α, ᾱ, σ and
 * log-SNR. 1 − ᾱ is computed as −expm1(Σ log1p(−β)) so that σ and λ stay accurate near t = 0.
 *
 * @example const schedule = makeSchedule("linear", 1000);
 * @see notebooks/01_score_matching.ipynb
 */
export function makeSchedule(kind: ScheduleKind, T: number, opts: ScheduleOptions = {}): Schedule {
  const maxBeta = opts.maxBeta ?? 0.999;
  const betas =
    kind === "linear"
      ? linearBetas(T, opts.betaStart ?? 1e-4, opts.betaEnd ?? 0.02, maxBeta)
      : cosineBetas(T, opts.s ?? 0.008, maxBeta);
  const alphas = new Float64Array(T);
  const alphaBars = new Float64Array(T);
  const sigmas = new Float64Array(T);
  const logSnr = new Float64Array(T);
  let logAlphaBar = 0;
  for (let t = 0; t < T; t++) {
    alphas[t] = 1 - betas[t];
    logAlphaBar += Math.log1p(-betas[t]);
    alphaBars[t] = Math.exp(logAlphaBar);
    const oneMinus = -Math.expm1(logAlphaBar); // 1 − ᾱ_t without cancellation
    sigmas[t] = Math.sqrt(oneMinus);
    logSnr[t] = logAlphaBar - Math.log(oneMinus);
  }
  return { kind, T, betas, alphas, alphaBars, sigmas, logSnr };
}

/**
 * ᾱ at timestep t, with ᾱ_{−1} = 1 (clean data), the convention the samplers use for the
 * step after the last one.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function alphaBarAt(schedule: Schedule, t: number): number {
  if (t === -1) return 1;
  checkIndex(t, schedule.T);
  return schedule.alphaBars[t];
}

function checkIndex(t: number, T: number): void {
  if (!Number.isInteger(t) || t < 0 || t >= T) throw new Error(`timestep ${t} is not an integer in [0, ${T - 1}]`);
}

/**
 * Gather per-timestep coefficients into a tensor that broadcasts against a batch of rank
 * `rank` (like guided-diffusion's `_extract_into_tensor`). A scalar t gives shape [1, …, 1];
 * an array of B timesteps gives [B, 1, …, 1]. Always `rank` dims, float32.
 *
 * @example coef(schedule.sigmas, [0, 999], 2) // [2, 1] tensor of σ_0, σ_999
 * @see notebooks/01_score_matching.ipynb
 */
export function coef(values: Float64Array, t: number | ArrayLike<number>, rank = 2): tf.Tensor {
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`coef: rank must be a positive integer, got ${rank}`);
  const ts: ArrayLike<number> = typeof t === "number" ? [t] : t;
  const out = new Float32Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    checkIndex(ts[i], values.length);
    out[i] = values[ts[i]];
  }
  const shape = new Array<number>(rank).fill(1);
  shape[0] = ts.length;
  return tf.tensor(out, shape, "float32"); // [B, 1, …, 1]
}

/**
 * n distinct, evenly spaced integer timesteps in descending order from T−1 down to 0
 * (round(linspace(T−1, 0, n))), for respaced DDPM/DDIM sampling. n = T gives every step.
 *
 * @example timesteps(1000, 4) // [999, 666, 333, 0]
 * @see notebooks/01_score_matching.ipynb
 */
export function timesteps(T: number, n: number): number[] {
  checkT(T);
  if (!Number.isInteger(n) || n < 1 || n > T) throw new Error(`timesteps: n must be an integer in [1, ${T}], got ${n}`);
  if (n === 1) return [T - 1];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round(((T - 1) * (n - 1 - i)) / (n - 1)));
  return out;
}
