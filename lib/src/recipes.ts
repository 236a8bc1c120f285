/**
 * Training recipes: named, typed configurations of a denoiser, its data, schedule and
 * optimiser, shared by `npm run train -- <name>` (which writes checkpoints/<name>) and by
 * notebooks (which run the same recipe for a few hundred live steps).
 *
 * Papers: Ho, Jain & Abbeel 2020 (ε-prediction DSM training, Algorithm 1; linear schedule);
 * Ho & Salimans 2022 (classifier-free guidance: drop the class to ∅ with probability p_uncond).
 *
 * Training step (Ho et al. 2020, Algorithm 1), per example:
 *   1. x0 ~ data (seeded epoch permutation), t ~ U{0, …, T−1}, eps ~ N(0, I)
 *   2. xt = sqrt(alphaBar_t)·x0 + sigma_t·eps                        (qSample)
 *   3. loss = ‖eps − epsHat(xt, t[, cond])‖²                           (dsmLoss)
 *
 * | code        | math                              |
 * |-------------|-----------------------------------|
 * | condDropout | p_uncond (CFG), cond → ∅          |
 * | T           | number of diffusion timesteps     |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";
import { MlpConfig, MlpDenoiser } from "./nets/mlp";
import { Schedule, ScheduleKind, makeSchedule } from "./schedules";
import { qSample } from "./forward";
import { dsmLoss } from "./losses";
import { Labelled2D, ringGaussians } from "./data/toy2d";
import { Trained, batchIterator, cosineDecay, gatherRows, train } from "./train";
import { ProgressMode } from "./progress";
import { CheckpointMeta, checkpointPath, loadNetCheckpoint, saveCheckpoint, trainingMeta } from "./checkpoint";

/**
 * A diffusion-denoiser training recipe (ε-prediction MLP on 2-D toy data).
 * @see notebooks/01_score_matching.ipynb
 */
export interface DenoiserRecipe {
  name: string;
  description: string;
  net: MlpConfig;
  data: { kind: "ring"; n: number; numModes: number; radius: number; std: number };
  schedule: { kind: ScheduleKind; T: number };
  train: {
    steps: number;
    batchSize: number;
    learningRate: number;
    /** Learning-rate schedule over the run (default constant). */
    lrSchedule?: "constant" | "cosine";
    seed: number;
    /** Probability of replacing the class by ∅ (only for nets with numClasses). */
    condDropout?: number;
  };
}

const RING_DATA = { kind: "ring", n: 16384, numModes: 8, radius: 4, std: 0.3 } as const;
const RING_TRAIN = { steps: 6000, batchSize: 512, learningRate: 1e-3, lrSchedule: "cosine", seed: 0 } as const;

/**
 * The course's recipes.
 * - `ring-mlp`: unconditional ε-MLP (3×256, SiLU) on the 8-Gaussian ring; shipped checkpoint.
 * - `ring-mlp-cond`: the same net with an 8-class embedding (+∅), trained with class
 *   dropout 0.1 so it serves classifier-free guidance; not shipped, train it on demand.
 * @see notebooks/01_score_matching.ipynb
 */
export const RECIPES: Readonly<Record<string, DenoiserRecipe>> = {
  "ring-mlp": {
    name: "ring-mlp",
    description: "unconditional eps-MLP (3x256, SiLU) on the 8-Gaussian ring (radius 4, std 0.3), linear schedule T=1000",
    net: { dataDim: 2, hidden: 256, depth: 3, timeDim: 64 },
    data: RING_DATA,
    schedule: { kind: "linear", T: 1000 },
    train: RING_TRAIN,
  },
  "ring-mlp-cond": {
    name: "ring-mlp-cond",
    description: "class-conditional eps-MLP (3x256, SiLU, 8 classes + null) on the 8-Gaussian ring, class dropout 0.1 for CFG",
    net: { dataDim: 2, hidden: 256, depth: 3, timeDim: 64, numClasses: 8, classDim: 16 },
    data: RING_DATA,
    schedule: { kind: "linear", T: 1000 },
    train: { ...RING_TRAIN, condDropout: 0.1 },
  },
};

/**
 * Look up a recipe by name; the error lists the known names.
 * @see notebooks/01_score_matching.ipynb
 */
export function getRecipe(name: string): DenoiserRecipe {
  const r = Object.prototype.hasOwnProperty.call(RECIPES, name) ? RECIPES[name] : undefined;
  if (!r) throw new Error(`unknown recipe "${name}"; known recipes: ${Object.keys(RECIPES).join(", ")}`);
  return r;
}

/**
 * The recipe's training set, drawn from a fork of the seed.
 * @see notebooks/01_score_matching.ipynb
 */
export function recipeData(recipe: DenoiserRecipe, seed = recipe.train.seed): Labelled2D {
  const { n, numModes, radius, std } = recipe.data;
  return ringGaussians({ n, numModes, radius, std, rng: new Rng(seed).fork("data") });
}

/** One DSM minibatch. */
interface DsmBatch {
  x0: tf.Tensor2D; // [B, D]
  eps: tf.Tensor2D; // [B, D]
  t: Int32Array; // [B]
  tt: tf.Tensor1D; // [B]
  cond?: tf.Tensor1D; // [B] int32
}

/**
 * Options of {@link trainRecipe}; each overrides the recipe.
 * @see notebooks/01_score_matching.ipynb
 */
export interface TrainRecipeOptions {
  steps?: number;
  seed?: number;
  progress?: ProgressMode;
  logEvery?: number;
}

/**
 * A trained denoiser with what is needed to save or use it.
 * @see notebooks/01_score_matching.ipynb
 */
export type TrainedDenoiser = Trained<DenoiserRecipe, MlpDenoiser> & { schedule: Schedule };

/**
 * Train a recipe's denoiser from scratch (seeded: data, init, order, t and eps all derive from
 * the seed). The caller disposes `net`.
 *
 * @example const { net, schedule } = trainRecipe("ring-mlp", { steps: 300 });
 * @see notebooks/01_score_matching.ipynb
 */
export function trainRecipe(recipeOrName: DenoiserRecipe | string, opts: TrainRecipeOptions = {}): TrainedDenoiser {
  const recipe = typeof recipeOrName === "string" ? getRecipe(recipeOrName) : recipeOrName;
  const seed = opts.seed ?? recipe.train.seed;
  const steps = opts.steps ?? recipe.train.steps;
  const { batchSize, learningRate } = recipe.train;
  const root = new Rng(seed);
  const data = recipeData(recipe, seed);
  const schedule = makeSchedule(recipe.schedule.kind, recipe.schedule.T);
  const net = new MlpDenoiser(recipe.net, root.fork("init"));
  const order = batchIterator(data.n, batchSize, root.fork("order"));
  const numClasses = recipe.net.numClasses;
  const pDrop = recipe.train.condDropout ?? 0;
  const D = recipe.net.dataDim;

  const batches = (_step: number, rng: Rng): DsmBatch => {
    const idx = order.next().value;
    const t = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) t[i] = rng.int(schedule.T);
    const batch: DsmBatch = {
      x0: tf.tensor2d(gatherRows(data.x, D, idx), [batchSize, D]),
      eps: tf.tensor2d(rng.normalArray(batchSize * D), [batchSize, D]),
      t,
      tt: tf.tensor1d(t, "int32"),
    };
    if (numClasses !== undefined) {
      const c = new Int32Array(batchSize);
      for (let i = 0; i < batchSize; i++) c[i] = rng.uniform() < pDrop ? numClasses : data.y[idx[i]];
      batch.cond = tf.tensor1d(c, "int32");
    }
    return batch;
  };
  const lossFn = (b: DsmBatch): tf.Scalar => {
    const xt = qSample(b.x0, b.t, b.eps, schedule) as tf.Tensor2D; // [B, D]
    return dsmLoss(net.apply(xt, b.tt, b.cond), b.eps); // []
  };
  const result = train({
    variables: net.variables,
    lossFn,
    batches,
    steps,
    learningRate: recipe.train.lrSchedule === "cosine" ? cosineDecay(learningRate, steps) : learningRate,
    rng: root.fork("noise"),
    progress: opts.progress,
    label: recipe.name,
    logEvery: opts.logEvery ?? 50,
  });
  const meta = trainingMeta(recipe, { seed, steps, batchSize, learningRate }, result, net.numParams());
  return { recipe, net, schedule, result, meta };
}

/**
 * Save a trained denoiser as a checkpoint (default `checkpoints/<recipe name>`).
 * @see notebooks/01_score_matching.ipynb
 */
export function saveDenoiser(trained: TrainedDenoiser, dir = checkpointPath(trained.recipe.name), extraMeta: CheckpointMeta = {}) {
  return saveCheckpoint(dir, trained.net.getWeights(), { ...trained.meta, ...extraMeta });
}

/**
 * Load a recipe's checkpoint into a fresh {@link MlpDenoiser}: by recipe name from
 * `checkpoints/<name>`, or from an explicit folder. The caller disposes `net`.
 *
 * @example const { net, schedule } = loadDenoiser("ring-mlp");
 * @see notebooks/01_score_matching.ipynb
 */
export function loadDenoiser(name: string, dir = checkpointPath(name)): { net: MlpDenoiser; schedule: Schedule; recipe: DenoiserRecipe; meta: CheckpointMeta } {
  const build = (recipe: DenoiserRecipe) => {
    if (!recipe.schedule) throw new Error(`checkpoint at ${dir} has no recipe config in its manifest`);
    return new MlpDenoiser(recipe.net, new Rng(0));
  };
  const r = loadNetCheckpoint<DenoiserRecipe, MlpDenoiser>(dir, [], () => getRecipe(name), build);
  return { ...r, schedule: makeSchedule(r.recipe.schedule.kind, r.recipe.schedule.T) };
}
