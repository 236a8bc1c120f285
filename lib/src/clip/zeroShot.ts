/**
 * Evaluating a CLIP embedding space: zero-shot classification (each image gets the class whose
 * prompt embedding is most similar) and retrieval recall@k in both directions. Everything works
 * on embeddings, in row batches, and returns plain arrays and numbers.
 *
 * Papers: Radford et al. 2021 (CLIP: zero-shot classifiers from prompts such as "a photo of a
 * {label}", and image–text retrieval recall@k); van den Oord et al. 2018 (InfoNCE, whose
 * objective is exactly "retrieve the partner among B candidates").
 *
 * | code       | math                                                         | shape   |
 * |------------|--------------------------------------------------------------|---------|
 * | imageEmb   | unit image embeddings u_i                                    | [N, E]  |
 * | promptEmb  | unit prompt embeddings w_c, one per class                     | [K, E]  |
 * | textEmb    | unit caption embeddings v_i, paired with u_i by row           | [N, E]  |
 * | prediction | ŷ_i = argmax_c ⟨u_i, w_c⟩                                     | [N]     |
 * | rank_i     | #{j : ⟨q_i, k_j⟩ > ⟨q_i, k_i⟩} (query q, keys k)              | [N]     |
 * | recall@k   | mean_i [rank_i < k]                                          |         |
 *
 * Ties: a candidate only outranks the partner when strictly more similar, so duplicate captions
 * (common in captioned Fashion-MNIST) all count as hits.
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Zero-shot predictions and accuracy.
 * @see notebooks/05_clip.ipynb
 */
export interface ZeroShotResult {
  /** Predicted class ŷ_i per image [N]. */
  predictions: Int32Array;
  /** Fraction of images with ŷ_i = y_i. */
  accuracy: number;
}

/**
 * Recall@k of image–text retrieval, keyed by k.
 * @see notebooks/05_clip.ipynb
 */
export interface RetrievalRecall {
  /** Each caption queries the images: its own image in the top k. */
  textToImage: Record<number, number>;
  /** Each image queries the captions: its own caption in the top k. */
  imageToText: Record<number, number>;
}

function checkEmb(fn: string, a: tf.Tensor2D, b: tf.Tensor2D, sameRows: boolean): void {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[1]) throw new Error(`${fn}: expected two [·, E] embeddings, got [${a.shape}] and [${b.shape}]`);
  if (sameRows && a.shape[0] !== b.shape[0]) throw new Error(`${fn}: ${a.shape[0]} image and ${b.shape[0]} text embeddings; pairs must match by row`);
}

function checkBatch(fn: string, batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
}

/**
 * Run `f(start, end)` on row ranges of `batchSize` and concatenate the [end − start, E] results
 * into one [n, E] tensor (each batch's intermediates are freed right away).
 *
 * @example const img = embedInBatches(ds.n, 512, (s, e) => tf.tidy(() => clip.encodeImages(captionedBatch(ds, range(s, e)))));
 * @see notebooks/05_clip.ipynb
 */
export function embedInBatches(n: number, batchSize: number, f: (start: number, end: number) => tf.Tensor2D): tf.Tensor2D {
  checkBatch("embedInBatches", batchSize);
  if (!Number.isInteger(n) || n < 1) throw new Error(`embedInBatches: n must be a positive integer, got ${n}`);
  const parts: tf.Tensor2D[] = [];
  try {
    for (let s = 0; s < n; s += batchSize) {
      const part = f(s, Math.min(n, s + batchSize));
      parts.push(part);
      if (part.rank !== 2 || part.shape[0] !== Math.min(n, s + batchSize) - s) throw new Error(`embedInBatches: f(${s}, ${Math.min(n, s + batchSize)}) returned [${part.shape}]`);
    }
    return parts.length === 1 ? (parts.pop() as tf.Tensor2D) : (tf.concat(parts, 0) as tf.Tensor2D); // [n, E]
  } finally {
    tf.dispose(parts);
  }
}

/**
 * Zero-shot class predictions ŷ_i = argmax_c ⟨u_i, w_c⟩ (ties → the lower class index).
 * @param imageEmb [N, E]; promptEmb [K, E] (row c = the prompt of class c)
 * @returns [N] class indices
 * @see notebooks/05_clip.ipynb
 */
export function zeroShotPredict(imageEmb: tf.Tensor2D, promptEmb: tf.Tensor2D, batchSize = 1024): Int32Array {
  checkEmb("zeroShotPredict", imageEmb, promptEmb, false);
  checkBatch("zeroShotPredict", batchSize);
  const [N, E] = imageEmb.shape;
  const out = new Int32Array(N);
  for (let s = 0; s < N; s += batchSize) {
    const n = Math.min(batchSize, N - s);
    const pred = tf.tidy(() => tf.argMax(tf.matMul(tf.slice(imageEmb, [s, 0], [n, E]), promptEmb, false, true), 1)); // [n]
    out.set(pred.dataSync(), s);
    pred.dispose();
  }
  return out;
}

/**
 * Zero-shot classification: predictions and their accuracy against `labels`.
 * @param imageEmb [N, E]; promptEmb [K, E]; labels [N] class indices 0…K−1
 * @example zeroShotAccuracy(img, clip.encodeTexts(tok.encodeTensor(promptsFor("class"), L)), ds.labels)
 * @see notebooks/05_clip.ipynb
 */
export function zeroShotAccuracy(imageEmb: tf.Tensor2D, promptEmb: tf.Tensor2D, labels: ArrayLike<number>, batchSize = 1024): ZeroShotResult {
  if (labels.length !== imageEmb.shape[0]) throw new Error(`zeroShotAccuracy: ${labels.length} labels for ${imageEmb.shape[0]} images`);
  const predictions = zeroShotPredict(imageEmb, promptEmb, batchSize);
  let hits = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) hits++;
  return { predictions, accuracy: predictions.length ? hits / predictions.length : NaN };
}

/** rank_i = #{j : ⟨q_i, k_j⟩ > ⟨q_i, k_i⟩} for every query row, in batches. */
function partnerRanks(queries: tf.Tensor2D, keys: tf.Tensor2D, batchSize: number): Int32Array {
  const [N, E] = queries.shape;
  const out = new Int32Array(N);
  for (let s = 0; s < N; s += batchSize) {
    const n = Math.min(batchSize, N - s);
    const ranks = tf.tidy(() => {
      const q = tf.slice(queries, [s, 0], [n, E]); // [n, E]
      const sims = tf.matMul(q, keys, false, true); // [n, N]
      const own = tf.sum(tf.mul(tf.slice(sims, [0, s], [n, n]), tf.eye(n)), 1, true); // [n, 1] ⟨q_i, k_i⟩, the same float as in sims
      return tf.sum(tf.cast(tf.greater(sims, own), "int32"), 1); // [n]
    });
    out.set(ranks.dataSync(), s);
    ranks.dispose();
  }
  return out;
}

/**
 * Recall@k of retrieval between paired embeddings (row i of each is one image–caption pair), in
 * both directions: the fraction of queries whose partner is among the k most similar candidates
 * (a candidate exactly as similar as the partner does not push it down).
 *
 * @param imageEmb [N, E]; textEmb [N, E]
 * @param ks the k values (default [1, 5, 10])
 * @example retrievalRecall(img, txt).textToImage[5] // fraction of captions with their image in the top 5
 * @see notebooks/05_clip.ipynb
 */
export function retrievalRecall(imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D, ks: number[] = [1, 5, 10], batchSize = 1024): RetrievalRecall {
  checkEmb("retrievalRecall", imageEmb, textEmb, true);
  checkBatch("retrievalRecall", batchSize);
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) throw new Error(`retrievalRecall: ks must be positive integers, got [${ks}]`);
  const recall = (ranks: Int32Array) => {
    const r: Record<number, number> = {};
    for (const k of ks) r[k] = ranks.reduce((n, rank) => n + (rank < k ? 1 : 0), 0) / ranks.length;
    return r;
  };
  return { textToImage: recall(partnerRanks(textEmb, imageEmb, batchSize)), imageToText: recall(partnerRanks(imageEmb, textEmb, batchSize)) };
}
