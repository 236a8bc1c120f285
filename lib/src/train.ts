/**
 * A small, seeded training loop: minibatch stochastic optimisation with Adam.
 *
 * Papers: Robbins & Monro 1951 (stochastic approximation); Kingma & Ba 2015, "Adam: A Method
 * for Stochastic Optimization" (the default optimizer).
 *
 * Determinism: the data order comes from an {@link Rng} (an epoch permutation, see
 * {@link batchIterator}), so two runs with the same seed on the same backend give identical
 * loss histories. The loss is read back once per `logEvery` steps (one sync per log, not per step).
 *
 * | code        | math                                  |
 * |-------------|---------------------------------------|
 * | variables   | θ                                     |
 * | lossFn      | L(θ; batch)                           |
 * | history[k]  | mean of L over the k-th log window    |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";
import { ProgressBar, ProgressMode } from "./progress";
import type { CheckpointMeta } from "./checkpoint";
import type { Schedule } from "./schedules";

/**
 * An endless stream of minibatches of indices into a dataset of n examples: each epoch is a
 * fresh permutation cut into batches of `batchSize`; the last partial batch of an epoch is
 * dropped (PyTorch's `drop_last=True`), so every batch has the same shape.
 *
 * @example const it = batchIterator(10000, 512, rng.fork("order")); it.next().value // Int32Array(512)
 * @see notebooks/01_score_matching.ipynb
 */
export function* batchIterator(n: number, batchSize: number, rng: Rng): Generator<Int32Array, never, unknown> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchIterator: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(n) || n < batchSize) throw new Error(`batchIterator: need n ≥ batchSize, got n=${n}, batchSize=${batchSize}`);
  for (;;) {
    const perm = rng.permutation(n);
    for (let s = 0; s + batchSize <= n; s += batchSize) yield perm.slice(s, s + batchSize);
  }
}

/**
 * Gather rows of a row-major [n, d] Float32Array: out[i] = data[idx[i]].
 * @returns Float32Array of length idx.length·d
 * @see notebooks/01_score_matching.ipynb
 */
export function gatherRows(data: Float32Array, d: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) out.set(data.subarray(idx[i] * d, idx[i] * d + d), i * d);
  return out;
}

/**
 * Where batches come from: an iterator, or a function of the step index and the run's Rng.
 * @see notebooks/01_score_matching.ipynb
 */
export type BatchSource<Batch> = Iterator<Batch> | ((step: number, rng: Rng) => Batch);

/**
 * Options of {@link train}.
 * @see notebooks/01_score_matching.ipynb
 */
export interface TrainOptions<Batch> {
  /** The trainable variables θ. */
  variables: tf.Variable[];
  /** The scalar loss of one batch (called inside the gradient tape). */
  lossFn: (batch: Batch) => tf.Scalar;
  /** Batches; any tensors inside a batch are disposed after its step. */
  batches: BatchSource<Batch>;
  /** Number of optimisation steps. */
  steps: number;
  /** Optimizer; default `tf.train.adam(learningRate)`, created and disposed by train(). */
  optimizer?: tf.Optimizer;
  /**
   * Learning rate of the default Adam (default 1e-3): a number, or a function of the 0-based
   * step, e.g. {@link cosineDecay}. A function needs the default optimizer.
   */
  learningRate?: number | ((step: number) => number);
  /** Randomness handed to a batch function. */
  rng: Rng;
  /** Progress display (default `auto`: notebook display in tslab, bar on stderr elsewhere). */
  progress?: ProgressMode;
  /** Progress label. */
  label?: string;
  /** Read back the loss every this many steps (default 50). */
  logEvery?: number;
}

/**
 * One logged point: the mean loss over the `logEvery` steps ending at `step` (1-based).
 * @see notebooks/01_score_matching.ipynb
 */
export interface LossPoint {
  step: number;
  loss: number;
}

/**
 * What {@link train} returns.
 * @see notebooks/01_score_matching.ipynb
 */
export interface TrainResult {
  history: LossPoint[];
  /** Wall-clock seconds of the loop. */
  seconds: number;
  /** The last logged loss (mean over the final window). */
  finalLoss: number;
}

/**
 * Cosine learning-rate decay (Loshchilov & Hutter 2017, SGDR without restarts):
 * lr(step) = lrMin + (lr0 − lrMin)·(1 + cos(π·step/steps))/2.
 * @example train({ …, learningRate: cosineDecay(1e-3, 6000) })
 * @see notebooks/01_score_matching.ipynb
 */
export function cosineDecay(lr0: number, steps: number, lrMin = 0): (step: number) => number {
  return (step: number) => lrMin + ((lr0 - lrMin) * (1 + Math.cos((Math.PI * Math.min(step, steps)) / steps))) / 2;
}

/**
 * Linear warm-up from lr0/warmup to lr0 over the first `warmup` steps, then {@link cosineDecay}
 * over the rest (Goyal et al. 2017's warm-up; Loshchilov & Hutter 2017's cosine). Warm-up keeps
 * Adam's first, badly estimated steps small, which matters for the U-Net's GroupNorm layers.
 * @example train({ …, learningRate: warmupCosine(2e-3, 1800, 100) })
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function warmupCosine(lr0: number, steps: number, warmup: number, lrMin = 0): (step: number) => number {
  if (!Number.isInteger(warmup) || warmup < 0 || warmup >= steps) throw new Error(`warmupCosine: warmup must be an integer in 0…${steps - 1}, got ${warmup}`);
  const decay = cosineDecay(lr0, steps - warmup, lrMin);
  return (step: number) => (step < warmup ? (lr0 * (step + 1)) / warmup : decay(step - warmup));
}

/** Set the step size of a tfjs optimizer (its `learningRate` field is protected in the typings). */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

function nextBatch<Batch>(source: BatchSource<Batch>, step: number, rng: Rng): Batch {
  if (typeof source === "function") return source(step, rng);
  const r = source.next();
  if (r.done) throw new Error(`train: the batch iterator ended at step ${step}`);
  return r.value;
}

/**
 * Minimise `lossFn` over `steps` minibatches. No tensors leak: batches and per-step losses
 * are disposed, and a default optimizer is disposed at the end.
 *
 * @example
 * const result = train({ variables: net.variables, lossFn, batches, steps: 2000, rng });
 * result.history // [{ step: 50, loss: 0.81 }, …]
 * @see notebooks/01_score_matching.ipynb
 */
export function train<Batch>(opts: TrainOptions<Batch>): TrainResult {
  const { variables, lossFn, batches, steps, rng } = opts;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`train: steps must be a positive integer, got ${steps}`);
  const logEvery = opts.logEvery ?? 50;
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new Error(`train: logEvery must be a positive integer, got ${logEvery}`);
  const ownOptimizer = opts.optimizer === undefined;
  const lr = opts.learningRate ?? 1e-3;
  if (typeof lr === "function" && !ownOptimizer) throw new Error("train: a learning-rate function needs the default optimizer");
  const optimizer = opts.optimizer ?? tf.train.adam(typeof lr === "number" ? lr : lr(0));
  const bar = new ProgressBar({ total: steps, label: opts.label ?? "train", mode: opts.progress ?? "auto" });
  const history: LossPoint[] = [];
  let pending: tf.Scalar[] = [];
  let lastLoss = NaN;
  const t0 = performance.now();
  try {
    for (let step = 0; step < steps; step++) {
      if (typeof lr === "function") setLearningRate(optimizer, lr(step));
      const batch = nextBatch(batches, step, rng);
      try {
        const cost = optimizer.minimize(() => lossFn(batch), true, variables);
        if (!cost) throw new Error("train: optimizer.minimize returned no cost");
        pending.push(cost);
      } finally {
        tf.dispose(batch as unknown as tf.TensorContainer);
      }
      if ((step + 1) % logEvery === 0 || step + 1 === steps) {
        const stacked = tf.stack(pending); // [window]
        const values = stacked.dataSync(); // one read per window, outside tidy
        stacked.dispose();
        tf.dispose(pending);
        pending = [];
        let sum = 0;
        for (let i = 0; i < values.length; i++) sum += values[i];
        lastLoss = sum / values.length;
        if (!Number.isFinite(lastLoss)) throw new Error(`train: loss is ${lastLoss} at step ${step + 1}; lower the learning rate?`);
        history.push({ step: step + 1, loss: lastLoss });
      }
      bar.update(step + 1, Number.isFinite(lastLoss) ? { loss: lastLoss } : undefined);
    }
    bar.done();
  } finally {
    tf.dispose(pending);
    if (ownOptimizer) optimizer.dispose();
  }
  return { history, seconds: (performance.now() - t0) / 1000, finalLoss: lastLoss };
}

/**
 * Optimisation settings a recipe carries for {@link trainRecipeLoop}: Adam with a linear warm-up
 * to `learningRate`, then cosine decay, over `steps` minibatches of `batchSize`.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface RecipeTrainConfig {
  steps: number;
  batchSize: number;
  /** Peak learning rate of Adam. */
  learningRate: number;
  /** Warm-up steps before the cosine decay. */
  warmup: number;
  seed: number;
}

/**
 * A model trained from a recipe, with what is needed to save or use it: every recipe family's
 * train function returns one (`schedule` for the diffusion models and the noised CLIP).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface Trained<Recipe, Net> {
  recipe: Recipe;
  net: Net;
  schedule?: Schedule;
  result: TrainResult;
  /** Checkpoint metadata: recipe config, seed, steps, batch size, final loss, seconds, backend, date, loss history. */
  meta: CheckpointMeta;
}

/**
 * Options of {@link trainRecipeLoop}: {@link train}'s, with the learning rate given as a peak and
 * a warm-up length instead of a function.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface RecipeLoopOptions<Batch> extends Omit<TrainOptions<Batch>, "learningRate" | "optimizer"> {
  /** Peak learning rate of Adam. */
  learningRate: number;
  /** Linear warm-up steps before the cosine decay (capped at steps − 1). */
  warmup: number;
}

/**
 * The training loop every recipe uses: Adam with a linear warm-up to `learningRate`, then cosine
 * decay to 0 ({@link warmupCosine}), logging every 50 steps unless told otherwise.
 * @example trainRecipeLoop({ variables: net.variables, lossFn, batches, steps: 1800, learningRate: 2e-3, warmup: 100, rng, label: "fmnist-unet" })
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function trainRecipeLoop<Batch>(opts: RecipeLoopOptions<Batch>): TrainResult {
  const { learningRate, warmup, ...rest } = opts;
  return train({ ...rest, learningRate: warmupCosine(learningRate, opts.steps, Math.min(warmup, opts.steps - 1)), logEvery: opts.logEvery ?? 50 });
}
