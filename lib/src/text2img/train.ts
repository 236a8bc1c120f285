/**
 * Training the text-to-image models of notebook 06 on captioned Fashion-MNIST, all conditioned
 * through a frozen CLIP (checkpoint `clip`):
 * - `glide`: a GLIDE-style U-Net ε̂(z_t, t, C_T(x)) with caption dropout for classifier-free guidance;
 * - `unclip-decoder`: the unCLIP decoder ε̂(z_t, t, [C_I(y), C_T(x)]), both parts dropped independently;
 * - `unclip-prior`: the unCLIP diffusion prior over image embeddings, ε̂(z_t, t, C_T(x)) with
 *   z_0 = √E·C_I(y), an MLP (the paper uses a transformer and predicts z_0 directly).
 *
 * Papers: Nichol et al. 2022 (GLIDE); Ramesh et al. 2022 (DALL·E 2 / unCLIP: prior and decoder,
 * dropout rates 10% for the CLIP embedding and 50% for the caption in the decoder); Ho & Salimans
 * 2022 (condition dropout for classifier-free guidance); Ho et al. 2020 (ε-prediction).
 *
 * Training step (U-Nets): y, x ~ data; c = context(y, x) with parts zeroed at the dropout rates;
 *   t ~ U{0…T−1}, ε ~ N(0, I); loss = ‖ε − ε̂_θ(sqrt(ᾱ_t)·y + σ_t·ε, t, c)‖²
 * Prior: the same with y replaced by z_0 = √E·C_I(y) and c = √E·C_T(x) (dropped at `text`).
 *
 * | code       | math                                         |
 * |------------|----------------------------------------------|
 * | context    | "text": C_T(x);  "image+text": [C_I(y), C_T(x)] (each ·√E) |
 * | dropout    | probability of zeroing each part (→ ∅)       |
 *
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Schedule, ScheduleKind, makeSchedule } from "../schedules";
import { qSample } from "../forward";
import { dsmLoss } from "../losses";
import { RecipeTrainConfig, Trained, batchIterator, trainRecipeLoop } from "../train";
import { ProgressMode } from "../progress";
import { CheckpointMeta, checkpointPath, loadNetCheckpoint, lookupRecipe, saveCheckpoint, trainingMeta } from "../checkpoint";
import { CaptionedDataset, captionedBatch, loadCaptionedFashion } from "../data/captionedFashion";
import { UNet, UNetConfig } from "../nets/unet";
import { MlpConfig, MlpDenoiser } from "../nets/mlp";
import { loadClip } from "../clip/train";
import { scaledImageEmbeddings, scaledTextEmbeddings } from "./context";

/**
 * A text-to-image recipe: a U-Net on images (GLIDE, the unCLIP decoder) or the MLP prior over
 * CLIP image embeddings.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export interface Text2ImgRecipe {
  kind: "text-unet" | "prior";
  name: string;
  description: string;
  /** The U-Net (text-unet) or MLP (prior) configuration; its contextDim must fit `context`. */
  net: UNetConfig | MlpConfig;
  /** The frozen CLIP checkpoint the conditioning comes from. */
  clip: string;
  /** What the model is conditioned on (the prior always models C_I given C_T). */
  context: "text" | "image+text";
  /** Probability of zeroing the image and the text part of the context. */
  dropout: { image?: number; text: number };
  data: { dataset: "captioned-fashion"; limit?: number };
  schedule: { kind: ScheduleKind; T: number };
  train: RecipeTrainConfig;
}

const SCHEDULE = { kind: "cosine", T: 1000 } as const;
const DATA = { dataset: "captioned-fashion" } as const;
const RGB_UNET = { imageSize: 16, inChannels: 3, channels: [32, 64, 64] };
const UNET_TRAIN = { steps: 1000, batchSize: 128, learningRate: 2e-3, warmup: 100, seed: 0 };

/**
 * The course's text-to-image recipes (notebook 06).
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export const TEXT2IMG_RECIPES: Readonly<Record<string, Text2ImgRecipe>> = {
  glide: {
    kind: "text-unet",
    name: "glide",
    description: "GLIDE-style text-conditional U-Net 32-64-64 on RGB 16x16, conditioned on the frozen CLIP text embedding, caption dropout 20%",
    net: { ...RGB_UNET, contextDim: 64 },
    clip: "clip",
    context: "text",
    dropout: { text: 0.2 },
    data: DATA,
    schedule: SCHEDULE,
    train: UNET_TRAIN,
  },
  "unclip-decoder": {
    kind: "text-unet",
    name: "unclip-decoder",
    description: "unCLIP decoder: the same U-Net conditioned on [C_I(y), C_T(x)], dropout 10% (image embedding) and 50% (caption)",
    net: { ...RGB_UNET, contextDim: 128 },
    clip: "clip",
    context: "image+text",
    dropout: { image: 0.1, text: 0.5 },
    data: DATA,
    schedule: SCHEDULE,
    train: UNET_TRAIN,
  },
  "unclip-prior": {
    kind: "prior",
    name: "unclip-prior",
    description: "unCLIP diffusion prior: MLP 4x512 over sqrt(E)*C_I(y) given sqrt(E)*C_T(x), caption dropout 10%",
    net: { dataDim: 64, hidden: 512, depth: 4, timeDim: 64, contextDim: 64 },
    clip: "clip",
    context: "text",
    dropout: { text: 0.1 },
    data: DATA,
    schedule: SCHEDULE,
    train: { steps: 6000, batchSize: 256, learningRate: 1e-3, warmup: 100, seed: 0 },
  },
};

/**
 * Look up a text-to-image recipe by name; the error lists the known names.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function getText2ImgRecipe(name: string): Text2ImgRecipe {
  return lookupRecipe(TEXT2IMG_RECIPES, name, "text-to-image recipe");
}

/**
 * A trained text-to-image model.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export type TrainedText2Img = Trained<Text2ImgRecipe, UNet | MlpDenoiser> & { schedule: Schedule };

/** Rows of a [N, D] Float32Array gathered at idx, with rows whose `drop` flag is set zeroed. */
function gatherDropped(src: Float32Array, d: number, idx: Int32Array, drop: boolean[]): tf.Tensor2D {
  const out = new Float32Array(idx.length * d);
  idx.forEach((i, b) => {
    if (!drop[b]) out.set(src.subarray(i * d, (i + 1) * d), b * d);
  });
  return tf.tensor2d(out, [idx.length, d]);
}

/**
 * Train a text-to-image recipe from scratch. The frozen CLIP embeds every training image and
 * caption once, up front; everything random derives from the seed. The caller disposes `net`.
 * @example const { net } = trainText2ImgRecipe("unclip-prior", { steps: 500 });
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function trainText2ImgRecipe(
  recipeOrName: Text2ImgRecipe | string,
  opts: { steps?: number; seed?: number; progress?: ProgressMode; logEvery?: number; data?: CaptionedDataset; clipDir?: string } = {},
): TrainedText2Img {
  const recipe = typeof recipeOrName === "string" ? getText2ImgRecipe(recipeOrName) : recipeOrName;
  const seed = opts.seed ?? recipe.train.seed;
  const steps = opts.steps ?? recipe.train.steps;
  const { batchSize, learningRate, warmup } = recipe.train;
  const root = new Rng(seed);
  const data = opts.data ?? loadCaptionedFashion("train", { limit: recipe.data.limit });
  const schedule = makeSchedule(recipe.schedule.kind, recipe.schedule.T);
  const { net: clip } = loadClip(recipe.clip, opts.clipDir);
  let textEmb: Float32Array;
  let imageEmb: Float32Array;
  try {
    const t = scaledTextEmbeddings(clip, data.captions);
    const i = scaledImageEmbeddings(clip, data);
    textEmb = t.dataSync() as Float32Array;
    imageEmb = i.dataSync() as Float32Array;
    tf.dispose([t, i]);
  } finally {
    clip.dispose();
  }
  const E = textEmb.length / data.n;
  const isPrior = recipe.kind === "prior";
  const want = isPrior || recipe.context === "text" ? E : 2 * E;
  const got = (recipe.net as { contextDim?: number }).contextDim ?? 0;
  if (got !== want) throw new Error(`${recipe.name}: the net's contextDim is ${got}, but its context needs ${want}`);
  if (isPrior && (recipe.net as MlpConfig).dataDim !== E) throw new Error(`${recipe.name}: the prior's dataDim must be the CLIP width ${E}`);
  const net = isPrior ? new MlpDenoiser(recipe.net as MlpConfig, root.fork("init")) : new UNet(recipe.net as UNetConfig, root.fork("init"));
  try {
    const order = batchIterator(data.n, batchSize, root.fork("order"));
    const pText = recipe.dropout.text;
    const pImage = recipe.dropout.image ?? 0;
    const batches = (_step: number, rng: Rng) => {
      const idx = order.next().value;
      const dropText = Array.from(idx, () => rng.uniform() < pText);
      const dropImage = Array.from(idx, () => rng.uniform() < pImage);
      const x0 = isPrior ? gatherDropped(imageEmb, E, idx, dropImage.map(() => false)) : captionedBatch(data, idx); // [B, E] or [B, 16, 16, 3]
      const text = gatherDropped(textEmb, E, idx, dropText); // [B, E]
      let context: tf.Tensor2D = text;
      if (!isPrior && recipe.context === "image+text") {
        const image = gatherDropped(imageEmb, E, idx, dropImage);
        context = tf.concat([image, text], 1) as tf.Tensor2D; // [B, 2E]
        tf.dispose([image, text]);
      }
      const t = Int32Array.from({ length: batchSize }, () => rng.int(schedule.T));
      return { x0, context, t, tt: tf.tensor1d(t, "int32"), eps: rng.randn(x0.shape) };
    };
    const lossFn = (b: ReturnType<typeof batches>): tf.Scalar => {
      const zt = qSample(b.x0, b.t, b.eps, schedule); // like x0
      const epsHat = net instanceof MlpDenoiser ? net.apply(zt as tf.Tensor2D, b.tt, undefined, b.context) : net.apply(zt as tf.Tensor4D, b.tt, undefined, { context: b.context });
      return dsmLoss(epsHat, b.eps); // []
    };
    const result = trainRecipeLoop({ variables: net.variables, lossFn, batches, steps, learningRate, warmup, rng: root.fork("noise"), progress: opts.progress, label: recipe.name, logEvery: opts.logEvery });
    return { recipe, net, schedule, result, meta: trainingMeta(recipe, { seed, steps, batchSize, learningRate }, result, net.numParams()) };
  } catch (e) {
    net.dispose();
    throw e;
  }
}

/**
 * Save a trained text-to-image model (default `checkpoints/<recipe name>`).
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function saveText2Img(trained: TrainedText2Img, dir = checkpointPath(trained.recipe.name), extraMeta: CheckpointMeta = {}) {
  return saveCheckpoint(dir, trained.net.getWeights(), { ...trained.meta, ...extraMeta });
}

/**
 * Load a text-to-image checkpoint (by recipe name, or from a folder). The caller disposes `net`.
 * @example const { net: glide, schedule } = loadText2Img("glide");
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function loadText2Img(name: string, dir = checkpointPath(name)): { net: UNet | MlpDenoiser; schedule: Schedule; recipe: Text2ImgRecipe; meta: CheckpointMeta } {
  const build = (recipe: Text2ImgRecipe) => (recipe.kind === "prior" ? new MlpDenoiser(recipe.net as MlpConfig, new Rng(0)) : new UNet(recipe.net as UNetConfig, new Rng(0)));
  const r = loadNetCheckpoint<Text2ImgRecipe, UNet | MlpDenoiser>(dir, ["text-unet", "prior"], () => getText2ImgRecipe(name), build);
  return { ...r, schedule: makeSchedule(r.recipe.schedule.kind, r.recipe.schedule.T) };
}
