/**
 * Training a super-resolution stage on (x, y) pairs made from the shipped images: SR3's
 * conditional ε-denoiser (with CDM conditioning augmentation), or the regression baseline that
 * predicts y directly with the same network.
 *
 * Papers: Saharia, Ho et al. 2021 (SR3: ε-prediction on y conditioned on the upsampled x,
 * concatenated as extra channels); Ho, Saharia et al. 2021 (CDM §3.2: Gaussian conditioning
 * augmentation with the level as conditioning, and class conditioning at every stage).
 *
 * Training step, per example (y from the data, x = D(y), c its class):
 *   a = 0 with prob. pZero, else a ~ U(0, maxLevel);  x_a = augment(x, a, ε')
 *   u = U(x_a), the bicubic upsampling; c = ∅ with prob. condDropout
 *   "eps":        t ~ U{0…T−1}, ε ~ N(0, I);  loss = ‖ε − ε̂_θ(sqrt(ᾱ_t)·y + σ_t·ε, t, c, u, a)‖²
 *   "regression": ŷ = u + f_θ(0, 0, c, u);     loss = ‖y − ŷ‖²   (the mean of p(y | x): blur)
 *
 * | code       | math                                              |
 * |------------|---------------------------------------------------|
 * | factor     | f, the upsampling factor (y is f× the size of x)   |
 * | aug        | { maxLevel, pZero }: the distribution of a         |
 * | objective  | "eps" (diffusion SR) or "regression" (MSE on y)    |
 *
 * @see notebooks/04_super_resolution.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Schedule, ScheduleKind } from "../schedules";
import { qSample } from "../forward";
import { dsmLoss } from "../losses";
import { TrainResult, batchIterator, trainRecipeLoop } from "../train";
import type { ImageTrainConfig } from "../imageRecipes";
import { ProgressMode } from "../progress";
import { CheckpointMeta, trainingMeta } from "../checkpoint";
import { ImageDataset, fashionMnistBatch } from "../data/fashionMnist";
import { UNet, UNetConfig } from "../nets/unet";
import { downsample, upsampleBicubic } from "./resize";
import { augmentLowRes } from "./augment";

/**
 * A super-resolution stage recipe (net: a U-Net with condChannels = image channels).
 * @see notebooks/04_super_resolution.ipynb
 */
export interface SrRecipe {
  kind: "sr";
  name: string;
  description: string;
  objective: "eps" | "regression";
  net: UNetConfig;
  /** y is `factor`× the size of x. */
  factor: number;
  /** Conditioning augmentation (eps only; the net must be augConditioned). */
  aug?: { maxLevel: number; pZero: number };
  data: { dataset: "fashion-mnist"; limit?: number };
  /** The diffusion schedule ("eps" only). */
  schedule?: { kind: ScheduleKind; T: number };
  train: ImageTrainConfig;
}

/** One minibatch of pairs. */
interface SrBatch {
  y: tf.Tensor4D; // [B, S, S, C] the high-resolution target
  up: tf.Tensor4D; // [B, S, S, C] U(x_a)
  level?: tf.Tensor1D; // [B] a
  cond?: tf.Tensor1D; // [B] int32 classes with ∅
  tt?: tf.Tensor1D; // [B] int32
  t?: Int32Array;
  eps?: tf.Tensor4D; // [B, S, S, C]
}

/**
 * The regression baseline's prediction ŷ = U(x) + f_θ(0, 0, c, U(x)): the same U-Net, with
 * z_t = 0 and t = 0, read as a correction of the bicubic upsampling.
 * @param up U(x) [B, S, S, C]
 * @see notebooks/04_super_resolution.ipynb
 */
export function regressionPredict(net: UNet, up: tf.Tensor4D, cond?: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.add(up, net.apply(tf.zerosLike(up), 0, cond, { image: up })) as tf.Tensor4D);
}

/**
 * The training loop of a super-resolution recipe for a freshly built net (called by
 * trainImageRecipe, which owns the net's lifetime).
 * @see notebooks/04_super_resolution.ipynb
 */
export function trainSrNet(
  recipe: SrRecipe,
  net: UNet,
  data: ImageDataset,
  schedule: Schedule | undefined,
  root: Rng,
  steps: number,
  seed: number,
  opts: { progress?: ProgressMode; logEvery?: number },
): { result: TrainResult; meta: CheckpointMeta } {
  const { batchSize, learningRate, warmup } = recipe.train;
  const eps = recipe.objective === "eps";
  if (eps && !schedule) throw new Error(`${recipe.name}: diffusion SR needs a schedule`);
  if (recipe.aug && !net.config.augConditioned) throw new Error(`${recipe.name}: conditioning augmentation needs an augConditioned net`);
  if (net.config.condChannels !== data.channels) throw new Error(`${recipe.name}: the net's condChannels (${net.config.condChannels}) must equal the image channels (${data.channels})`);
  const K = net.config.numClasses;
  const pDrop = recipe.train.condDropout ?? 0;
  const order = batchIterator(data.n, batchSize, root.fork("order"));

  const batches = (_step: number, rng: Rng): SrBatch => {
    const idx = order.next().value;
    const t = eps ? Int32Array.from({ length: batchSize }, () => rng.int(schedule!.T)) : undefined;
    const tensors = tf.tidy(() => {
      const y = fashionMnistBatch(data, idx); // [B, S, S, C]
      const low = downsample(y, recipe.factor); // [B, S/f, S/f, C]
      const out: Record<string, tf.Tensor> = { y };
      if (recipe.aug) {
        const { maxLevel, pZero } = recipe.aug;
        out.level = tf.tensor1d(Float32Array.from({ length: batchSize }, () => (rng.uniform() < pZero ? 0 : rng.uniform() * maxLevel))); // [B]
        out.up = upsampleBicubic(augmentLowRes(low, out.level as tf.Tensor1D, rng.randn(low.shape) as tf.Tensor4D), recipe.factor);
      } else out.up = upsampleBicubic(low, recipe.factor); // [B, S, S, C]
      if (K !== undefined) out.cond = tf.tensor1d(Int32Array.from(idx, (i) => (rng.uniform() < pDrop ? K : data.labels[i])), "int32");
      if (t) {
        out.tt = tf.tensor1d(t, "int32");
        out.eps = rng.randn(y.shape);
      }
      return out;
    });
    return { ...(tensors as unknown as SrBatch), t };
  };
  const lossFn = (b: SrBatch): tf.Scalar => {
    if (!eps) return tf.mean(tf.squaredDifference(regressionPredict(net, b.up, b.cond), b.y)) as tf.Scalar; // []
    const zt = qSample(b.y, b.t!, b.eps!, schedule!) as tf.Tensor4D; // [B, S, S, C]
    return dsmLoss(net.apply(zt, b.tt!, b.cond, { image: b.up, aug: b.level }), b.eps!); // []
  };
  const result = trainRecipeLoop({ variables: net.variables, lossFn, batches, steps, learningRate, warmup, rng: root.fork("noise"), progress: opts.progress, label: recipe.name, logEvery: opts.logEvery });
  return { result, meta: trainingMeta(recipe, { seed, steps, batchSize, learningRate }, result, net.numParams()) };
}
