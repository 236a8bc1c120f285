/**
 * The conditioning vectors of the course's text-to-image models, all made from a frozen CLIP:
 * GLIDE-style models see the caption's text embedding C_T(x); the unCLIP decoder sees the image
 * embedding C_I(y) and C_T(x); the unCLIP prior models C_I(y) given C_T(x). Embeddings are unit
 * vectors in E = 64 dimensions, scaled by √E so that their entries have about unit variance.
 * A zero vector is the null condition ∅ (caption or embedding dropped, for classifier-free
 * guidance).
 *
 * Papers: Nichol et al. 2022 (GLIDE: text conditioning, caption dropout for CFG); Ramesh et al.
 * 2022 (unCLIP: the decoder P(y | C_I(y), x) with CLIP-embedding dropout 10% and caption dropout
 * 50%; the prior P(C_I(y) | x)); Saharia et al. 2022 (Imagen: a frozen pretrained text encoder
 * works as well as a jointly trained one — the choice made here to keep training short).
 *
 * | code        | math                       | shape    |
 * |-------------|----------------------------|----------|
 * | textEmb     | √E · C_T(x)                | [N, E]   |
 * | imageEmb    | √E · C_I(y)                | [N, E]   |
 * | context     | GLIDE: textEmb; decoder: [imageEmb, textEmb] | [N, E] / [N, 2E] |
 *
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { CaptionedDataset } from "../data/captionedFashion";
import { ClipModel } from "../clip/model";
import { embedCaptionedImages, embedTexts } from "../clip/evaluate";

/**
 * √E, the scale applied to CLIP's unit embeddings before a diffusion model sees them.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function embedScale(clip: ClipModel): number {
  return Math.sqrt(clip.config.embedDim);
}

/**
 * √E·C_T of each text, [N, E]; the caller disposes it.
 * @example const c = scaledTextEmbeddings(clip, ["a red sneaker"]);
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function scaledTextEmbeddings(clip: ClipModel, texts: readonly string[]): tf.Tensor2D {
  const e = embedTexts(clip, texts);
  const out = tf.mul(e, embedScale(clip)) as tf.Tensor2D;
  e.dispose();
  return out;
}

/**
 * √E·C_I of a split's clean images, [N, E]; the caller disposes it.
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function scaledImageEmbeddings(clip: ClipModel, data: CaptionedDataset, limit?: number): tf.Tensor2D {
  const e = embedCaptionedImages(clip, data, { limit, t: clip.timeConditional ? 0 : undefined });
  const out = tf.mul(e, embedScale(clip)) as tf.Tensor2D;
  e.dispose();
  return out;
}

/**
 * The unCLIP decoder's context [imageEmb, textEmb], [N, 2E].
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function decoderContext(imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D): tf.Tensor2D {
  if (imageEmb.shape[0] !== textEmb.shape[0]) throw new Error(`decoderContext: ${imageEmb.shape[0]} image embeddings but ${textEmb.shape[0]} text embeddings`);
  return tf.concat([imageEmb, textEmb], 1) as tf.Tensor2D;
}
