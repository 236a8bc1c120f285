/**
 * Evaluating a CLIP on a captioned split: embed images (clean, or noised to z_t at a chosen t for
 * a noised CLIP — or for a clean CLIP, to show why it cannot guide) and texts in batches, and score
 * zero-shot classification by class, colour or (class, colour) pair.
 *
 * Papers: Radford et al. 2021 (zero-shot transfer with prompts "a photo of a {label}"); Nichol
 * et al. 2022 (GLIDE: a CLIP trained on clean images is unreliable on z_t, hence the noised CLIP).
 *
 * | code       | math                                                     |
 * |------------|----------------------------------------------------------|
 * | t          | the diffusion time of the images scored (z_t); none = clean |
 * | prompts    | w_k = C_T("a photo of a {k}") for every label k           |
 * | accuracy   | mean over images of [argmax_k ⟨C_I(x_i), w_k⟩ = y_i]      |
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Schedule } from "../schedules";
import { qSample } from "../forward";
import { CaptionedDataset, captionMaxTokens, captionTokenizer, captionedBatch, promptsFor } from "../data/captionedFashion";
import { ClipModel } from "./model";
import { embedInBatches, zeroShotAccuracy } from "./zeroShot";

/**
 * Options of {@link embedCaptionedImages}.
 * @see notebooks/05_clip.ipynb
 */
export interface EmbedImagesOptions {
  /** Score noised images z_t at this t (needs `schedule`); the noise comes from `seed`. */
  t?: number;
  schedule?: Schedule;
  seed?: number;
  /** Only the first `limit` images (default all). */
  limit?: number;
  batchSize?: number;
}

/**
 * C_I of the split's images (or of z_t at `opts.t`), [N, E] unit rows. A noised CLIP is told t;
 * a clean CLIP is given z_t as if it were clean. The caller disposes the result.
 * @example const u = embedCaptionedImages(clip, test, { t: 500, schedule });
 * @see notebooks/05_clip.ipynb
 */
export function embedCaptionedImages(clip: ClipModel, data: CaptionedDataset, opts: EmbedImagesOptions = {}): tf.Tensor2D {
  const n = Math.min(opts.limit ?? data.n, data.n);
  const { t, schedule } = opts;
  if (t !== undefined && !schedule) throw new Error("embedCaptionedImages: noised images (t) need the schedule");
  if (t === undefined && clip.timeConditional) throw new Error("embedCaptionedImages: a noised CLIP needs t (use t = 0 for clean images)");
  const rng = new Rng(opts.seed ?? 0);
  return embedInBatches(n, opts.batchSize ?? 500, (s, e) =>
    tf.tidy(() => {
      let x = captionedBatch(data, Int32Array.from({ length: e - s }, (_, i) => s + i)); // [b, 16, 16, 3]
      if (t !== undefined && t > 0) x = qSample(x, t, rng.randn(x.shape), schedule!) as tf.Tensor4D;
      return clip.encodeImages(x, clip.timeConditional ? t : undefined); // [b, E]
    }),
  );
}

/**
 * C_T of texts, [N, E] unit rows, in batches. The caller disposes the result.
 * @example const w = embedTexts(clip, promptsFor("class"));
 * @see notebooks/05_clip.ipynb
 */
export function embedTexts(clip: ClipModel, texts: readonly string[], batchSize = 500): tf.Tensor2D {
  const tok = captionTokenizer();
  const L = captionMaxTokens();
  return embedInBatches(texts.length, batchSize, (s, e) => tf.tidy(() => clip.encodeTexts(tok.encodeTensor(texts.slice(s, e), L))));
}

/**
 * Zero-shot accuracy by class ("a photo of a sneaker"), colour ("a photo of a red item") or
 * pair ("a red sneaker", label = class·6 + colour), on clean images or on z_t at `opts.t`.
 * @example zeroShotScore(clip, test, "class") // e.g. 0.85
 * @see notebooks/05_clip.ipynb
 */
export function zeroShotScore(clip: ClipModel, data: CaptionedDataset, kind: "class" | "colour" | "pair", opts: EmbedImagesOptions = {}): number {
  const u = embedCaptionedImages(clip, data, opts);
  const w = embedTexts(clip, promptsFor(kind));
  try {
    const n = u.shape[0];
    const labels = Int32Array.from({ length: n }, (_, i) =>
      kind === "class" ? data.labels[i] : kind === "colour" ? data.colours[i] : data.labels[i] * data.colourNames.length + data.colours[i],
    );
    return zeroShotAccuracy(u, w, labels).accuracy;
  } finally {
    tf.dispose([u, w]);
  }
}
