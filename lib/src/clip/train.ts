/**
 * Training recipes for the course's CLIP models on captioned Fashion-MNIST: a clean CLIP
 * (contrastive pre-training, notebook 05) and a noised CLIP whose image tower sees z_t and t, the
 * model GLIDE retrained so that CLIP can guide a diffusion sampler (notebooks 05 and 06).
 * `npm run train -- <name>` writes checkpoints/<name>; notebooks load them with {@link loadClip}.
 *
 * Papers: Radford et al. 2021 (CLIP: symmetric InfoNCE over a batch of (image, caption) pairs,
 * learnable temperature); Nichol et al. 2022 (GLIDE §3.2 and App. C: a "noised CLIP" trained on
 * z_t with the diffusion model's schedule).
 *
 * Training step: B pairs (x, caption) from the train split; tokens = tokenizer(caption);
 *   clean:  loss = InfoNCE(s · C_I(x) C_T(caption)ᵀ)
 *   noised: t ~ U{0…T−1}, ε ~ N(0, I), z_t = sqrt(ᾱ_t)·x + σ_t·ε;  loss = InfoNCE(s · C_I(z_t, t) C_T(caption)ᵀ)
 *
 * | code        | math                                     |
 * |-------------|------------------------------------------|
 * | clip        | (C_I, C_T, s = exp(logitScale))          |
 * | schedule    | ᾱ_t, σ_t of the image diffusion models   |
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Schedule, ScheduleKind, makeSchedule } from "../schedules";
import { qSample } from "../forward";
import { RecipeTrainConfig, Trained, batchIterator, trainRecipeLoop } from "../train";
import { ProgressMode } from "../progress";
import { CheckpointMeta, checkpointPath, loadNetCheckpoint, lookupRecipe, saveCheckpoint, trainingMeta } from "../checkpoint";
import { CaptionedDataset, captionMaxTokens, captionTokenizer, captionedBatch, loadCaptionedFashion } from "../data/captionedFashion";
import { ClipConfig, ClipModel, DEFAULT_CLIP_CONFIG, DEFAULT_NOISY_CLIP_CONFIG } from "./model";

/**
 * A CLIP training recipe (noised when `schedule` is set; the image tower then needs a timeDim).
 * @see notebooks/05_clip.ipynb
 */
export interface ClipRecipe {
  kind: "clip";
  name: string;
  description: string;
  net: ClipConfig;
  data: { dataset: "captioned-fashion"; limit?: number };
  schedule?: { kind: ScheduleKind; T: number };
  train: RecipeTrainConfig;
}

const CLIP_TRAIN = { steps: 3000, batchSize: 256, learningRate: 1e-3, warmup: 100, seed: 0 };

/**
 * The course's CLIP recipes:
 * - `clip`: clean CLIP on captioned Fashion-MNIST (notebook 05).
 * - `clip-noisy`: the same with the image tower on z_t and t (cosine, T = 1000, as the image
 *   diffusion models), for CLIP guidance (notebooks 05 and 06).
 * @see notebooks/05_clip.ipynb
 */
export const CLIP_RECIPES: Readonly<Record<string, ClipRecipe>> = {
  clip: {
    kind: "clip",
    name: "clip",
    description: "CLIP (conv image tower 16-32-32, 2-layer transformer text tower, E = 64) on captioned 16x16 Fashion-MNIST",
    net: DEFAULT_CLIP_CONFIG,
    data: { dataset: "captioned-fashion" },
    train: CLIP_TRAIN,
  },
  "clip-noisy": {
    kind: "clip",
    name: "clip-noisy",
    description: "noised CLIP: the image tower sees z_t and t (cosine, T=1000), as GLIDE trained for CLIP guidance",
    net: DEFAULT_NOISY_CLIP_CONFIG,
    data: { dataset: "captioned-fashion" },
    schedule: { kind: "cosine", T: 1000 },
    train: CLIP_TRAIN,
  },
};

/**
 * Look up a CLIP recipe by name; the error lists the known names.
 * @see notebooks/05_clip.ipynb
 */
export function getClipRecipe(name: string): ClipRecipe {
  return lookupRecipe(CLIP_RECIPES, name, "CLIP recipe");
}

/**
 * A trained CLIP with what is needed to save or use it.
 * @see notebooks/05_clip.ipynb
 */
export type TrainedClip = Trained<ClipRecipe, ClipModel>;

/** One minibatch: images, caption tokens, and (noised CLIP) timesteps and noise. */
interface ClipBatch {
  x: tf.Tensor4D; // [B, 16, 16, 3]
  ids: tf.Tensor2D; // [B, L] int32
  tt?: tf.Tensor1D; // [B] int32
  t?: Int32Array;
  eps?: tf.Tensor4D; // [B, 16, 16, 3]
}

/**
 * Train a CLIP recipe from scratch (seeded: init, order, t, ε). The caller disposes `net`.
 * @example const { net } = trainClipRecipe("clip", { steps: 200 });
 * @see notebooks/05_clip.ipynb
 */
export function trainClipRecipe(
  recipeOrName: ClipRecipe | string,
  opts: { steps?: number; seed?: number; progress?: ProgressMode; logEvery?: number; data?: CaptionedDataset } = {},
): TrainedClip {
  const recipe = typeof recipeOrName === "string" ? getClipRecipe(recipeOrName) : recipeOrName;
  const seed = opts.seed ?? recipe.train.seed;
  const steps = opts.steps ?? recipe.train.steps;
  const { batchSize, learningRate, warmup } = recipe.train;
  const root = new Rng(seed);
  const data = opts.data ?? loadCaptionedFashion("train", { limit: recipe.data.limit });
  const schedule = recipe.schedule ? makeSchedule(recipe.schedule.kind, recipe.schedule.T) : undefined;
  const net = new ClipModel(recipe.net, root.fork("init"));
  if (net.timeConditional !== (schedule !== undefined)) {
    net.dispose();
    throw new Error(`${recipe.name}: a noised CLIP needs both a schedule and an image tower with timeDim (and a clean one neither)`);
  }
  try {
    const tok = captionTokenizer();
    const L = captionMaxTokens();
    const order = batchIterator(data.n, batchSize, root.fork("order"));
    const batches = (_step: number, rng: Rng): ClipBatch => {
      const idx = order.next().value;
      const batch: ClipBatch = { x: captionedBatch(data, idx), ids: tok.encodeTensor(Array.from(idx, (i) => data.captions[i]), L) };
      if (schedule) {
        batch.t = Int32Array.from({ length: batchSize }, () => rng.int(schedule.T));
        batch.tt = tf.tensor1d(batch.t, "int32");
        batch.eps = rng.randn(batch.x.shape) as tf.Tensor4D;
      }
      return batch;
    };
    const lossFn = (b: ClipBatch): tf.Scalar => {
      const x = schedule ? (qSample(b.x, b.t!, b.eps!, schedule) as tf.Tensor4D) : b.x; // [B, 16, 16, 3]
      return net.loss(x, b.ids, b.tt); // []
    };
    const result = trainRecipeLoop({ variables: net.variables, lossFn, batches, steps, learningRate, warmup, rng: root.fork("noise"), progress: opts.progress, label: recipe.name, logEvery: opts.logEvery });
    net.clampLogitScale();
    const meta = trainingMeta(recipe, { seed, steps, batchSize, learningRate }, result, net.numParams());
    return { recipe, net, schedule, result, meta: { ...meta, logitScale: net.scale } };
  } catch (e) {
    net.dispose();
    throw e;
  }
}

/**
 * Save a trained CLIP (default `checkpoints/<recipe name>`).
 * @see notebooks/05_clip.ipynb
 */
export function saveClip(trained: TrainedClip, dir = checkpointPath(trained.recipe.name), extraMeta: CheckpointMeta = {}) {
  return saveCheckpoint(dir, trained.net.getWeights(), { ...trained.meta, ...extraMeta });
}

/**
 * Load a CLIP checkpoint by recipe name (from `checkpoints/<name>`) or from a folder; `schedule`
 * is set for a noised CLIP. The caller disposes `net`.
 * @example const { net: clip } = loadClip("clip");
 * @see notebooks/05_clip.ipynb
 */
export function loadClip(name: string, dir = checkpointPath(name)): { net: ClipModel; schedule?: Schedule; recipe: ClipRecipe; meta: CheckpointMeta } {
  const r = loadNetCheckpoint<ClipRecipe, ClipModel>(dir, ["clip"], () => getClipRecipe(name), (recipe) => new ClipModel(recipe.net, new Rng(0)));
  return { ...r, schedule: r.recipe.schedule ? makeSchedule(r.recipe.schedule.kind, r.recipe.schedule.T) : undefined };
}
