/**
 * Shared fixtures for the image-pipeline tests (imageRecipes, imageSampling, imageEval,
 * guidanceSweep, clipTrain, text2img): a tiny labelled 16×16 image set built in memory, so that
 * no test reads datasets/, a way to make zero-initialised layers random so that every layer
 * shapes a net's output, and a tiny CLIP recipe.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/src/random";
import { ImageDataset } from "../../lib/src/data/fashionMnist";
import { ClipConfig } from "../../lib/src/clip/model";
import { ClipRecipe } from "../../lib/src/clip/train";
import { RecipeTrainConfig } from "../../lib/src/train";

/**
 * `n` seeded 16×16×1 images in [−1, 1] with labels i mod numClasses; each class has its own
 * mean brightness and stripe pattern, so the classes differ and every image is distinct.
 */
export function tinyImageDataset(n: number, seed: number, numClasses = 3): ImageDataset {
  const rng = new Rng(seed);
  const px = 16 * 16;
  const images = new Float32Array(n * px); // [n, 16, 16, 1]
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % numClasses;
    labels[i] = y;
    for (let p = 0; p < px; p++) {
      const stripe = Math.floor(p / 16) % (y + 2) === 0 ? 0.5 : -0.5;
      images[i * px + p] = Math.tanh(0.6 * stripe + 0.3 * (y - 1) + 0.5 * rng.normal());
    }
  }
  return { images, labels, n, height: 16, width: 16, channels: 1, classNames: Array.from({ length: numClasses }, (_, k) => `class${k}`) };
}

/** Overwrite the zero-initialised convs (residual blocks' conv2, a U-Net's `out`) with N(0, scale²) values. */
export function randomizeZeroInit(net: { getWeights(): Record<string, tf.Tensor> }, seed: number, scale = 0.1): void {
  const rng = new Rng(seed);
  for (const [name, v] of Object.entries(net.getWeights())) {
    if (/(conv2|^out)\.(w|b)$/.test(name)) (v as tf.Variable).assign(tf.tidy(() => tf.mul(rng.randn(v.shape), scale)));
  }
}

/** A tensor's values as a plain array (the tensor is disposed). */
export function readAndDispose(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

/** Largest absolute element-wise difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const TINY_CLIP: ClipConfig = {
  embedDim: 8,
  image: { imageSize: 16, inChannels: 3, channels: [4, 8], groups: 2, featureDim: 8 },
  text: { vocabSize: 64, maxLen: 16, width: 8, heads: 2, layers: 1 },
};

/**
 * A tiny CLIP recipe (E = 8, conv 4-8, one transformer layer) for the CLIP and text-to-image
 * tests; `noisy`: the image tower takes t (timeDim 8) and trains on z_t of a 100-step cosine schedule.
 */
export function tinyClipRecipe(noisy: boolean, train: RecipeTrainConfig = { steps: 4, batchSize: 16, learningRate: 1e-3, warmup: 2, seed: 0 }): ClipRecipe {
  const base: ClipRecipe = { kind: "clip", name: "tiny-clip", description: "test CLIP", net: TINY_CLIP, data: { dataset: "captioned-fashion" }, train };
  if (!noisy) return base;
  return { ...base, name: "tiny-clip-noisy", net: { ...TINY_CLIP, image: { ...TINY_CLIP.image, timeDim: 8 } }, schedule: { kind: "cosine", T: 100 } };
}
