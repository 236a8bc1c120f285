/**
 * Scoring generated images against held-out real ones on the clean evaluation classifier:
 * class accuracy, the FID-style distance, improved precision/recall, within-class diversity and
 * the Inception-Score-style proxy, all from one forward pass per image. The guidance notebooks
 * call {@link ImageEvaluator.evaluate} once per guidance scale.
 *
 * Papers: Heusel et al. 2017 (FID); Kynkäänniemi et al. 2019 (improved precision and recall);
 * Salimans et al. 2016 (Inception Score); Dhariwal & Nichol 2021 and Ho & Salimans 2022 (these
 * metrics against the guidance scale). Here the feature extractor is the course's clean
 * classifier (not Inception), so numbers compare across this course, not with papers.
 *
 * | field        | meaning                                                        |
 * |--------------|----------------------------------------------------------------|
 * | accuracy     | fraction of samples the evaluator classifies as their target y |
 * | fid          | Fréchet distance of feature Gaussians, samples vs real          |
 * | precision    | fraction of samples inside the real feature manifold (k-NN)    |
 * | recall       | fraction of real images inside the samples' manifold (k-NN)    |
 * | diversity    | mean pairwise feature distance within each target class        |
 * | inceptionScore | exp(E KL(p(y|x) ‖ p(y))) on the evaluator's probabilities    |
 *
 * {@link ImageEvaluator.evaluateValid} (issue 14) gives the scores that hold at the course's
 * sizes: accuracy with its Wilson interval (Wilson 1927), KID with its standard error
 * (Bińkowski et al. 2018) instead of the FID-style distance, precision/recall on equal-size sets
 * (Kynkäänniemi et al. 2019) and diversity over the samples classified as asked.
 * {@link ImageEvaluator.judge} returns the per-image correctness behind the accuracy, for paired
 * intervals.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";
import { ConvClassifier } from "./nets/classifier";
import { ImageDataset, fashionMnistBatch } from "./data/fashionMnist";
import { classAccuracy, diversity, diversityAsAsked, inceptionScore } from "./metrics/classScores";
import { KidResult, kernelInceptionDistance } from "./metrics/kid";
import { Interval } from "./stats/interval";
import { wilsonInterval } from "./stats/wilson";
import { frechetDistance } from "./metrics/frechet";
import { precisionRecall } from "./metrics/precisionRecall";

/**
 * The scores of one set of generated images.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface ImageMetrics {
  n: number;
  accuracy: number;
  fid: number;
  precision: number;
  recall: number;
  diversity: number;
  inceptionScore: number;
}

/**
 * Scores of {@link ImageEvaluator.evaluateValid}: each valid at the sizes the course uses.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface ValidImageMetrics {
  n: number;
  /** Samples classified as their target. */
  correct: number;
  /** Accuracy with its 95% Wilson interval. */
  accuracy: Interval;
  /** KID against the reference set, with its jackknife SE. */
  kid: KidResult;
  /** Precision/recall against a seeded subsample of the reference set of the samples' size. */
  precision: number;
  recall: number;
  /** Within-class diversity over the samples classified as asked (`kept` of them). */
  diversityAsAsked: { diversity: number; kept: number; classes: number } | null;
}

/**
 * Options of {@link ImageEvaluator}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface ImageEvaluatorOptions {
  /** Real images used as the reference set (default 500: the first of a seeded permutation, so classes are balanced only in expectation). */
  numReference?: number;
  /** k of the k-NN manifolds (default 3). */
  k?: number;
  /** Forward-pass batch size (default 256). */
  batchSize?: number;
  seed?: number;
}

/**
 * Holds the evaluation classifier and the reference set's features (computed once).
 * Dispose it when done; the classifier is not disposed (the caller owns it).
 *
 * @example
 * const evaluator = new ImageEvaluator(cleanClf, loadFashionMnist("test"), { numReference: 500 });
 * const m = evaluator.evaluate(samples, labels); // { accuracy, fid, precision, recall, … }
 * @see notebooks/02_classifier_guidance.ipynb
 */
export class ImageEvaluator {
  /** Features of the reference images [numReference, F]. */
  readonly referenceFeatures: tf.Tensor2D;
  /** Labels of the reference images. */
  readonly referenceLabels: Int32Array;
  private readonly k: number;
  private readonly batchSize: number;
  /** Indices of the reference data not in the reference set, for {@link evaluateReal}. */
  private readonly heldOut: Int32Array;

  constructor(
    readonly classifier: ConvClassifier,
    reference: ImageDataset,
    opts: ImageEvaluatorOptions = {},
  ) {
    if (classifier.timeConditional) throw new Error("ImageEvaluator: use the clean classifier p(y | x), not a noise-conditional one");
    const n = opts.numReference ?? 500;
    if (!Number.isInteger(n) || n < 2 || n > reference.n) throw new Error(`ImageEvaluator: numReference must be an integer in 2…${reference.n}, got ${n}`);
    this.k = opts.k ?? 3;
    this.batchSize = opts.batchSize ?? 256;
    const perm = new Rng(opts.seed ?? 0).permutation(reference.n);
    const idx = perm.slice(0, n);
    this.heldOut = perm.slice(n);
    this.referenceLabels = Int32Array.from(idx, (i) => reference.labels[i]);
    const images = fashionMnistBatch(reference, idx); // [n, S, S, C]
    try {
      const { features, logits } = this.embed(images);
      logits.dispose();
      this.referenceFeatures = features;
    } finally {
      images.dispose();
    }
  }

  /**
   * Features [N, F] and logits [N, K] of images, in batches; the caller disposes both.
   */
  embed(images: tf.Tensor4D): { features: tf.Tensor2D; logits: tf.Tensor2D } {
    const feats: tf.Tensor2D[] = [];
    const logits: tf.Tensor2D[] = [];
    try {
      for (let s = 0; s < images.shape[0]; s += this.batchSize) {
        const size = Math.min(this.batchSize, images.shape[0] - s);
        tf.tidy(() => {
          const x = tf.slice(images, [s, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D; // [b, S, S, C]
          const f = this.classifier.features(x); // [b, F]
          const l = this.classifier.head(f); // [b, K]
          feats.push(tf.keep(f));
          logits.push(tf.keep(l));
        });
      }
      return { features: tf.concat(feats, 0), logits: tf.concat(logits, 0) };
    } finally {
      tf.dispose([...feats, ...logits]);
    }
  }

  /**
   * Score generated images against the reference set. `labels` is the class each image was
   * generated for (accuracy and within-class diversity use it).
   */
  evaluate(images: tf.Tensor4D, labels: ArrayLike<number>): ImageMetrics {
    const n = images.shape[0];
    if (labels.length !== n) throw new Error(`ImageEvaluator.evaluate: ${n} images but ${labels.length} labels`);
    if (n <= this.k) throw new Error(`ImageEvaluator.evaluate: need more than k = ${this.k} images, got ${n}`);
    const { features, logits } = this.embed(images);
    try {
      const finite = tf.tidy(() => tf.all(tf.isFinite(features)).dataSync()[0]);
      if (!finite) throw new Error("ImageEvaluator.evaluate: the images give non-finite features (NaN or Inf pixels?)");
      const pr = precisionRecall(this.referenceFeatures, features, { k: this.k });
      return {
        n,
        accuracy: classAccuracy(logits, labels),
        fid: frechetDistance(this.referenceFeatures, features),
        precision: pr.precision,
        recall: pr.recall,
        diversity: diversity(features, labels),
        inceptionScore: inceptionScore(logits, { fromLogits: true }),
      };
    } finally {
      tf.dispose([features, logits]);
    }
  }

  /**
   * Per-image verdicts of the judge: 1 where the evaluator classifies image i as labels[i], else 0.
   * @see notebooks/02_classifier_guidance.ipynb
   */
  judge(images: tf.Tensor4D, labels: ArrayLike<number>): Uint8Array {
    const n = images.shape[0];
    if (labels.length !== n) throw new Error(`ImageEvaluator.judge: ${n} images but ${labels.length} labels`);
    const { features, logits } = this.embed(images);
    try {
      const pred = tf.tidy(() => tf.argMax(logits, 1).dataSync()); // [N]
      return Uint8Array.from({ length: n }, (_, i) => (pred[i] === labels[i] ? 1 : 0));
    } finally {
      tf.dispose([features, logits]);
    }
  }

  /**
   * Scores that hold at small N (issue 14): accuracy with a Wilson interval, KID with its SE,
   * precision/recall against `n` reference images drawn with `seed` (needs n ≤ numReference), and
   * diversity over the samples classified as asked (null when no class has 2 of them). The
   * existing {@link evaluate} is unchanged.
   * @see notebooks/02_classifier_guidance.ipynb
   */
  evaluateValid(images: tf.Tensor4D, labels: ArrayLike<number>, opts: { seed: number }): ValidImageMetrics {
    const n = images.shape[0];
    if (labels.length !== n) throw new Error(`ImageEvaluator.evaluateValid: ${n} images but ${labels.length} labels`);
    if (n <= this.k) throw new Error(`ImageEvaluator.evaluateValid: need more than k = ${this.k} images, got ${n}`);
    if (n > this.referenceFeatures.shape[0]) throw new Error(`ImageEvaluator.evaluateValid: equal-size precision/recall needs n ≤ numReference = ${this.referenceFeatures.shape[0]}, got ${n}`);
    const { features, logits } = this.embed(images);
    try {
      const finite = tf.tidy(() => tf.all(tf.isFinite(features)).dataSync()[0]);
      if (!finite) throw new Error("ImageEvaluator.evaluateValid: the images give non-finite features (NaN or Inf pixels?)");
      const pred = tf.tidy(() => tf.argMax(logits, 1).dataSync()); // [N]
      let correct = 0;
      for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
      const pr = precisionRecall(this.referenceFeatures, features, { k: this.k, equalSize: "subsample", seed: opts.seed });
      let asAsked: ValidImageMetrics["diversityAsAsked"] = null;
      try {
        asAsked = diversityAsAsked(features, labels, pred);
      } catch (e) {
        if (!/no class has 2 samples/.test((e as Error).message)) throw e;
      }
      return {
        n,
        correct,
        accuracy: wilsonInterval(correct, n),
        kid: kernelInceptionDistance(this.referenceFeatures, features),
        precision: pr.precision,
        recall: pr.recall,
        diversityAsAsked: asAsked,
      };
    } finally {
      tf.dispose([features, logits]);
    }
  }

  /**
   * Scores of `n` real images that are not in the reference set (`data` must be the dataset the
   * evaluator was built from): the ceiling the samples are measured against.
   */
  evaluateReal(data: ImageDataset, n: number): ImageMetrics {
    if (!Number.isInteger(n) || n < 2 || n > this.heldOut.length) throw new Error(`ImageEvaluator.evaluateReal: n must be an integer in 2…${this.heldOut.length}, got ${n}`);
    const idx = this.heldOut.slice(0, n);
    const images = fashionMnistBatch(data, idx);
    try {
      return this.evaluate(images, Int32Array.from(idx, (i) => data.labels[i]));
    } finally {
      images.dispose();
    }
  }

  dispose(): void {
    this.referenceFeatures.dispose();
  }
}
