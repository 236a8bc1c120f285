/**
 * Image training recipes on the shipped 16×16 Fashion-MNIST: the class-conditional U-Net
 * denoiser (with label dropout to ∅ for classifier-free guidance), the noise-conditional
 * classifier p_φ(y | z_t, t) for classifier guidance, and the clean evaluation classifier.
 * `npm run train -- <name>` writes checkpoints/<name>; notebooks load them with
 * {@link loadUNet} and {@link loadClassifier}, or retrain with {@link trainImageRecipe}.
 *
 * Papers: Ho, Jain & Abbeel 2020 (ε-prediction training, Algorithm 1); Nichol & Dhariwal 2021
 * (the cosine schedule); Dhariwal & Nichol 2021 (a classifier trained on noised images z_t with
 * the same schedule as the denoiser, §4); Ho & Salimans 2022 (label dropout p_uncond → ∅).
 *
 * Training steps, per example:
 *   U-Net:            x0, y ~ data; t ~ U{0…T−1}; ε ~ N(0, I); c = ∅ with prob. p_uncond else y
 *                     loss = ‖ε − ε̂_θ(sqrt(ᾱ_t)·x0 + σ_t·ε, t, c)‖²
 *   noisy classifier: loss = −log p_φ(y | sqrt(ᾱ_t)·x0 + σ_t·ε, t)
 *   clean classifier: loss = −log p(y | x0)
 *
 * | code         | math                          |
 * |--------------|-------------------------------|
 * | condDropout  | p_uncond (cond → ∅)           |
 * | schedule     | ᾱ_t, σ_t (shared by U-Net and noisy classifier) |
 * | warmup       | linear learning-rate warm-up steps before the cosine decay |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";
import { Schedule, ScheduleKind, makeSchedule } from "./schedules";
import { qSample } from "./forward";
import { crossEntropy, dsmLoss } from "./losses";
import { RecipeTrainConfig, Trained, batchIterator, trainRecipeLoop } from "./train";
import { ProgressMode } from "./progress";
import { CheckpointMeta, checkpointPath, loadNetCheckpoint, lookupRecipe, saveCheckpoint, trainingMeta } from "./checkpoint";
import { ImageDataset, fashionMnistBatch, loadFashionMnist } from "./data/fashionMnist";
import { UNet, UNetConfig, DEFAULT_UNET_CONFIG } from "./nets/unet";
import { ClassifierConfig, ConvClassifier, DEFAULT_CLEAN_CLASSIFIER_CONFIG, DEFAULT_NOISY_CLASSIFIER_CONFIG } from "./nets/classifier";
import { SrRecipe, trainSrNet } from "./superres/train";
import { captionedPairDataset, loadCaptionedFashion } from "./data/captionedFashion";
import { downsample } from "./superres/resize";

/**
 * Optimisation settings of an image recipe (Adam, linear warm-up then cosine decay).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface ImageTrainConfig extends RecipeTrainConfig {
  /** Probability of replacing the class by ∅ (U-Net only). */
  condDropout?: number;
}

/**
 * A class-conditional U-Net ε-denoiser recipe.
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export interface UNetRecipe {
  kind: "unet";
  name: string;
  description: string;
  net: UNetConfig;
  /**
   * Training images: the first `limit` of the train split (default all), area-downsampled by
   * `downsample` (default 1) for a cascade's low-resolution base model.
   */
  data: { dataset: "fashion-mnist"; limit?: number; downsample?: number };
  schedule: { kind: ScheduleKind; T: number };
  train: ImageTrainConfig;
}

/**
 * An image classifier recipe: noise-conditional (net.timeDim set, with the denoiser's
 * schedule) or clean.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface ClassifierRecipe {
  kind: "classifier";
  name: string;
  description: string;
  net: ClassifierConfig;
  /** Fashion-MNIST (10 classes), or captioned-fashion with the (item, colour) pair as the label (60). */
  data: { dataset: "fashion-mnist" | "captioned-fashion"; limit?: number };
  /** The noise schedule the classifier is trained under (noise-conditional only). */
  schedule?: { kind: ScheduleKind; T: number };
  train: ImageTrainConfig;
}

/**
 * Either image recipe.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export type ImageRecipe = UNetRecipe | ClassifierRecipe | SrRecipe;

/**
 * The schedule shared by the image denoisers and the noise-conditional classifier: cosine, T = 1000.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const IMAGE_SCHEDULE = { kind: "cosine", T: 1000 } as const;
const FMNIST = { dataset: "fashion-mnist" } as const;
const UNET_TRAIN: ImageTrainConfig = { steps: 1800, batchSize: 128, learningRate: 2e-3, warmup: 100, seed: 0 };
/** The super-resolution U-Net: 16×16 output, z_t and the upsampled x concatenated (SR3), aug level embedded (CDM). */
const SR_UNET_CONFIG: UNetConfig = { ...DEFAULT_UNET_CONFIG, condChannels: 1, augConditioned: true };

/**
 * The course's image recipes:
 * - `fmnist-unet`: U-Net 32-64-64, 10 classes + ∅, label dropout 5% as in the seed lecture.
 * - `fmnist-unet-drop20`: the same with label dropout 20%, for notebook 03's comparison.
 * - `fmnist8-unet`: U-Net 32-64 on 8×8 images, 10 classes + ∅: the cascade's base (notebook 04).
 * - `fmnist-sr`: SR3 8×8 → 16×16 with conditioning augmentation (notebook 04).
 * - `fmnist-sr4`: SR3 4×4 → 16×16 without augmentation (notebook 04's SR-vs-regression comparison).
 * - `fmnist-sr4-regression`: the same network trained with MSE, the regression baseline.
 * - `fmnist-clf-noisy`: p_φ(y | z_t, t), 16-32-64, for classifier guidance.
 * - `captions-eval`: p(item, colour | x) on the captioned colour images, evaluation only (notebook 06).
 * - `fmnist-clf-clean`: p(y | x), 16-32-64, evaluation only (accuracy and features).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const IMAGE_RECIPES: Readonly<Record<string, ImageRecipe>> = {
  "fmnist-unet": {
    kind: "unet",
    name: "fmnist-unet",
    description: "class-conditional U-Net 32-64-64 on 16x16 Fashion-MNIST, label dropout 5% (the seed's rate), cosine T=1000",
    net: DEFAULT_UNET_CONFIG,
    data: FMNIST,
    schedule: IMAGE_SCHEDULE,
    train: { ...UNET_TRAIN, condDropout: 0.05 },
  },
  "fmnist-unet-drop20": {
    kind: "unet",
    name: "fmnist-unet-drop20",
    description: "the same U-Net with label dropout 20%, to compare with 5% for classifier-free guidance",
    net: DEFAULT_UNET_CONFIG,
    data: FMNIST,
    schedule: IMAGE_SCHEDULE,
    train: { ...UNET_TRAIN, condDropout: 0.2 },
  },
  "fmnist8-unet": {
    kind: "unet",
    name: "fmnist8-unet",
    description: "class-conditional U-Net 32-64 on 8x8 (area-downsampled) Fashion-MNIST, label dropout 10%: the cascade's base model",
    net: { imageSize: 8, inChannels: 1, channels: [32, 64], numClasses: 10 },
    data: { ...FMNIST, downsample: 2 },
    schedule: IMAGE_SCHEDULE,
    train: { ...UNET_TRAIN, steps: 2000, condDropout: 0.1 },
  },
  "fmnist-sr": {
    kind: "sr",
    name: "fmnist-sr",
    description: "SR3 8x8 -> 16x16: U-Net 32-64-64 on [z_t, bicubic(x_a)], class-conditional (10% dropout), conditioning augmentation a ~ 0 (p 0.3) or U(0, 0.6)",
    objective: "eps",
    net: SR_UNET_CONFIG,
    factor: 2,
    aug: { maxLevel: 0.6, pZero: 0.3 },
    data: FMNIST,
    schedule: IMAGE_SCHEDULE,
    train: { ...UNET_TRAIN, steps: 1200, condDropout: 0.1 },
  },
  "fmnist-sr4": {
    kind: "sr",
    name: "fmnist-sr4",
    description: "SR3 4x4 -> 16x16: the same U-Net on [z_t, bicubic(x)], class-conditional (10% dropout), no augmentation; where regression to the mean shows",
    objective: "eps",
    net: { ...SR_UNET_CONFIG, augConditioned: false },
    factor: 4,
    data: FMNIST,
    schedule: IMAGE_SCHEDULE,
    train: { ...UNET_TRAIN, steps: 1200, condDropout: 0.1 },
  },
  "fmnist-sr4-regression": {
    kind: "sr",
    name: "fmnist-sr4-regression",
    description: "regression baseline 4x4 -> 16x16: the same U-Net trained with MSE to predict y (as a correction of the bicubic upsampling)",
    objective: "regression",
    net: { ...SR_UNET_CONFIG, augConditioned: false },
    factor: 4,
    data: FMNIST,
    train: { ...UNET_TRAIN, steps: 600 },
  },
  "fmnist-clf-noisy": {
    kind: "classifier",
    name: "fmnist-clf-noisy",
    description: "noise-conditional classifier p(y | z_t, t), 16-32-64, on noised 16x16 Fashion-MNIST (for classifier guidance)",
    net: DEFAULT_NOISY_CLASSIFIER_CONFIG,
    data: FMNIST,
    schedule: IMAGE_SCHEDULE,
    train: { steps: 6000, batchSize: 128, learningRate: 2e-3, warmup: 100, seed: 0 },
  },
  "captions-eval": {
    kind: "classifier",
    name: "captions-eval",
    description: "evaluation classifier for notebook 06: (item, colour) pair, 60 classes, 16-32-64 on colour 16x16 images; used by none of the generators",
    net: { ...DEFAULT_CLEAN_CLASSIFIER_CONFIG, inChannels: 3, numClasses: 60 },
    data: { dataset: "captioned-fashion" },
    train: { steps: 3000, batchSize: 128, learningRate: 2e-3, warmup: 100, seed: 0 },
  },
  "fmnist-clf-clean": {
    kind: "classifier",
    name: "fmnist-clf-clean",
    description: "clean classifier p(y | x), 16-32-64, on 16x16 Fashion-MNIST (evaluation only: accuracy and features)",
    net: DEFAULT_CLEAN_CLASSIFIER_CONFIG,
    data: FMNIST,
    train: { steps: 3000, batchSize: 128, learningRate: 2e-3, warmup: 100, seed: 0 },
  },
};

/**
 * Look up an image recipe by name; the error lists the known names.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function getImageRecipe(name: string): ImageRecipe {
  return lookupRecipe(IMAGE_RECIPES, name, "image recipe");
}

/**
 * Options of {@link trainImageRecipe}; each overrides the recipe.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface TrainImageOptions {
  steps?: number;
  seed?: number;
  progress?: ProgressMode;
  logEvery?: number;
  /** Training images (default: the recipe's split, loaded from datasets/). */
  data?: ImageDataset;
}

/**
 * A trained image model with what is needed to save or use it.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export type TrainedImageModel<Net> = Trained<ImageRecipe, Net>;

/** One minibatch: images, labels (or conditions), noise and timesteps. */
interface ImageBatch {
  x0: tf.Tensor4D; // [B, S, S, C]
  y: tf.Tensor1D; // [B] int32: labels, or conditions with ∅
  eps?: tf.Tensor4D; // [B, S, S, C]
  t?: Int32Array; // [B]
  tt?: tf.Tensor1D; // [B] int32
}

/**
 * A recipe's images for one split: Fashion-MNIST, or captioned-fashion labelled by (item, colour).
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function loadRecipeData(recipe: ImageRecipe, split: "train" | "test"): ImageDataset {
  const limit = split === "train" ? recipe.data.limit : undefined;
  return recipe.data.dataset === "captioned-fashion" ? captionedPairDataset(loadCaptionedFashion(split, { limit })) : loadFashionMnist(split, { limit });
}

function resolveSchedule(recipe: ImageRecipe): Schedule | undefined {
  return recipe.schedule ? makeSchedule(recipe.schedule.kind, recipe.schedule.T) : undefined;
}

/**
 * Train an image recipe from scratch. Everything random (init, data order, t, ε, dropout)
 * derives from the seed, so a rerun on the same backend gives the same weights. The caller
 * disposes `net`.
 *
 * @example const { net } = trainImageRecipe("fmnist-clf-clean", { steps: 200 });
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function trainImageRecipe(recipeOrName: ImageRecipe | string, opts: TrainImageOptions = {}): TrainedImageModel<UNet | ConvClassifier> {
  const recipe = typeof recipeOrName === "string" ? getImageRecipe(recipeOrName) : recipeOrName;
  const seed = opts.seed ?? recipe.train.seed;
  const steps = opts.steps ?? recipe.train.steps;
  const root = new Rng(seed);
  const data = opts.data ?? loadRecipeData(recipe, "train");
  const schedule = resolveSchedule(recipe);
  if (recipe.kind === "sr") {
    const net = new UNet(recipe.net, root.fork("init"));
    try {
      return { recipe, net, schedule, ...trainSrNet(recipe, net, data, schedule, root, steps, seed, opts) };
    } catch (e) {
      net.dispose();
      throw e;
    }
  }
  const isUNet = recipe.kind === "unet";
  const noisy = isUNet || recipe.net.timeDim !== undefined;
  if (noisy && !schedule) throw new Error(`${recipe.name}: a noise-conditional model needs a schedule`);
  const K = isUNet ? recipe.net.numClasses : undefined;
  const pDrop = recipe.train.condDropout ?? 0;
  if (pDrop > 0 && K === undefined) throw new Error(`${recipe.name}: condDropout needs a class-conditional net`);
  const net: UNet | ConvClassifier = isUNet ? new UNet(recipe.net, root.fork("init")) : new ConvClassifier(recipe.net, root.fork("init"));
  try {
    return trainNet(recipe, net, data, schedule, root, steps, seed, opts);
  } catch (e) {
    net.dispose(); // a failed run leaves nothing behind
    throw e;
  }
}

/** The training loop of {@link trainImageRecipe} for a freshly built net. */
function trainNet(
  recipe: UNetRecipe | ClassifierRecipe,
  net: UNet | ConvClassifier,
  data: ImageDataset,
  schedule: Schedule | undefined,
  root: Rng,
  steps: number,
  seed: number,
  opts: TrainImageOptions,
): TrainedImageModel<UNet | ConvClassifier> {
  const { batchSize, learningRate, warmup } = recipe.train;
  const noisy = recipe.kind === "unet" || recipe.net.timeDim !== undefined;
  const K = recipe.kind === "unet" ? recipe.net.numClasses : undefined;
  const pDrop = recipe.train.condDropout ?? 0;
  const order = batchIterator(data.n, batchSize, root.fork("order"));
  const f = recipe.kind === "unet" ? recipe.data.downsample ?? 1 : 1;
  const px = (data.height / f) * (data.width / f) * data.channels;

  const batches = (_step: number, rng: Rng): ImageBatch => {
    const idx = order.next().value;
    const y = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) y[i] = K !== undefined && rng.uniform() < pDrop ? K : data.labels[idx[i]];
    const x0 = f === 1 ? fashionMnistBatch(data, idx) : tf.tidy(() => downsample(fashionMnistBatch(data, idx), f)); // [B, S/f, S/f, C]
    const batch: ImageBatch = { x0, y: tf.tensor1d(y, "int32") };
    if (noisy) {
      const t = new Int32Array(batchSize);
      for (let i = 0; i < batchSize; i++) t[i] = rng.int(schedule!.T);
      batch.t = t;
      batch.tt = tf.tensor1d(t, "int32");
      batch.eps = tf.tensor4d(rng.normalArray(batchSize * px), batch.x0.shape);
    }
    return batch;
  };
  const lossFn = (b: ImageBatch): tf.Scalar => {
    const x = noisy ? (qSample(b.x0, b.t!, b.eps!, schedule!) as tf.Tensor4D) : b.x0; // [B, S, S, C]
    if (net instanceof UNet) return dsmLoss(net.apply(x, b.tt!, K !== undefined ? b.y : undefined), b.eps!); // []
    return crossEntropy(net.apply(x, noisy ? b.tt : undefined), b.y); // []
  };
  const result = trainRecipeLoop({ variables: net.variables, lossFn, batches, steps, learningRate, warmup, rng: root.fork("noise"), progress: opts.progress, label: recipe.name, logEvery: opts.logEvery });
  const meta = trainingMeta(recipe, { seed, steps, batchSize, learningRate }, result, net.numParams());
  return { recipe, net, schedule, result, meta };
}

/**
 * Test-split accuracy of a classifier: on clean images, or for a noise-conditional one on
 * z_t at each of `ts` (seeded noise). Returns one accuracy per entry of `ts` (or one for clean).
 *
 * @example classifierTestAccuracy(clf, loadFashionMnist("test"), { ts: [0, 500, 900], schedule })
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function classifierTestAccuracy(
  clf: ConvClassifier,
  data: ImageDataset,
  opts: { ts?: number[]; schedule?: Schedule; batchSize?: number; seed?: number } = {},
): number[] {
  const ts = clf.timeConditional ? opts.ts ?? [0] : [undefined];
  if (clf.timeConditional && !opts.schedule) throw new Error("classifierTestAccuracy: a noise-conditional classifier needs the schedule");
  const bs = opts.batchSize ?? 500;
  const rng = new Rng(opts.seed ?? 0);
  return ts.map((t) => {
    let correct = 0;
    for (let s = 0; s < data.n; s += bs) {
      const idx = Int32Array.from({ length: Math.min(bs, data.n - s) }, (_, i) => s + i);
      const pred = tf.tidy(() => {
        let x = fashionMnistBatch(data, idx); // [b, S, S, C]
        if (t !== undefined) x = qSample(x, t, rng.randn(x.shape), opts.schedule!) as tf.Tensor4D;
        return tf.argMax(clf.apply(x, t), 1); // [b]
      });
      const p = pred.dataSync();
      pred.dispose();
      for (let i = 0; i < idx.length; i++) if (p[i] === data.labels[idx[i]]) correct++;
    }
    return correct / data.n;
  });
}

/**
 * Save a trained image model as a checkpoint (default `checkpoints/<recipe name>`).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function saveImageModel(trained: TrainedImageModel<UNet | ConvClassifier>, dir = checkpointPath(trained.recipe.name), extraMeta: CheckpointMeta = {}) {
  return saveCheckpoint(dir, trained.net.getWeights(), { ...trained.meta, ...extraMeta });
}

/** Read a checkpoint and build its net from the manifest's recipe. */
function loadImageModel<R extends ImageRecipe, Net extends UNet | ConvClassifier>(
  name: string,
  dir: string,
  kind: R["kind"],
  build: (recipe: R) => Net,
): { net: Net; recipe: R; meta: CheckpointMeta } {
  return loadNetCheckpoint<R, Net>(dir, [kind], () => getImageRecipe(name) as R, build);
}

/**
 * Load a U-Net checkpoint (by recipe name from `checkpoints/<name>`, or from a folder). The
 * caller disposes `net`.
 *
 * @example const { net, schedule } = loadUNet("fmnist-unet");
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export function loadUNet(name: string, dir = checkpointPath(name)): { net: UNet; schedule: Schedule; recipe: UNetRecipe; meta: CheckpointMeta } {
  const r = loadImageModel<UNetRecipe, UNet>(name, dir, "unet", (recipe) => new UNet(recipe.net, new Rng(0)));
  return { ...r, schedule: makeSchedule(r.recipe.schedule.kind, r.recipe.schedule.T) };
}

/**
 * Load a super-resolution stage (diffusion or regression) by recipe name or from a folder.
 * `schedule` is set for a diffusion stage. The caller disposes `net`.
 *
 * @example const { net: sr, schedule } = loadSrModel("fmnist-sr");
 * @see notebooks/04_super_resolution.ipynb
 */
export function loadSrModel(name: string, dir = checkpointPath(name)): { net: UNet; schedule?: Schedule; recipe: SrRecipe; meta: CheckpointMeta } {
  const r = loadImageModel<SrRecipe, UNet>(name, dir, "sr", (recipe) => new UNet(recipe.net, new Rng(0)));
  return { ...r, schedule: r.recipe.schedule ? makeSchedule(r.recipe.schedule.kind, r.recipe.schedule.T) : undefined };
}

/**
 * Load a classifier checkpoint; `schedule` is set for a noise-conditional one. The caller
 * disposes `net`.
 *
 * @example const { net: clf, schedule } = loadClassifier("fmnist-clf-noisy");
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function loadClassifier(name: string, dir = checkpointPath(name)): { net: ConvClassifier; schedule?: Schedule; recipe: ClassifierRecipe; meta: CheckpointMeta } {
  const r = loadImageModel<ClassifierRecipe, ConvClassifier>(name, dir, "classifier", (recipe) => new ConvClassifier(recipe.net, new Rng(0)));
  return { ...r, schedule: r.recipe.schedule ? makeSchedule(r.recipe.schedule.kind, r.recipe.schedule.T) : undefined };
}
