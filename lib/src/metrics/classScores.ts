/**
 * Label-aware scores of generated images: class accuracy, within-class diversity, and the
 * Inception-Score-style proxy (on the course's evaluation classifier).
 *
 * Papers:
 * - Dhariwal & Nichol 2021 and Ho & Salimans 2022 (accuracy/diversity trade-off of guidance).
 * - Salimans et al. 2016, "Improved Techniques for Training GANs" (Inception Score,
 *   IS = exp(E_x KL(p(y|x) ‖ p(y)))).
 *
 * | code     | symbol                                        |
 * |----------|-----------------------------------------------|
 * | `probs`  | p(y | x), one row per sample [N, K]           |
 * | `pY`     | p(y) = mean_x p(y | x), the marginal           |
 * | `feats`  | φ(x), features [N, F]                          |
 *
 * Diversity rewards garbage: noise images are far apart in feature space. {@link diversityAsAsked}
 * therefore keeps only the samples the judge classifies as their target class (a sample that is
 * not the asked-for item cannot add diversity), and reports how many were kept.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { FeatureMatrix, Rows, centredTensor, columnMean, forEachDistanceBlock, toRows } from "./features";

/** Labels as plain numbers: an array, or a [N] tensor (read back). */
type Labels = ArrayLike<number> | tf.Tensor;

function labelArray(labels: Labels, who: string): ArrayLike<number> {
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new Error(`${who}: labels must be [N], got [${labels.shape}]`);
    return labels.dataSync();
  }
  return labels;
}

/** argmax of each row of a float64 row matrix (first index on ties, like tf.argMax). */
function argmaxRows(r: Rows): Int32Array {
  const out = new Int32Array(r.n);
  for (let i = 0; i < r.n; i++) {
    let best = 0;
    for (let j = 1; j < r.f; j++) if (r.data[i * r.f + j] > r.data[i * r.f + best]) best = j;
    out[i] = best;
  }
  return out;
}

/**
 * Fraction of samples whose predicted class equals the target: `predicted` is either logits /
 * probabilities [N, K] (argmax taken) or class ids [N]; `target` is class ids [N] or one class
 * for all.
 *
 * @example classAccuracy(evalClassifier(samples), 3) // samples generated for class 3
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function classAccuracy(predicted: tf.Tensor | ArrayLike<number>[] | ArrayLike<number>, target: Labels | number): number {
  let pred: ArrayLike<number>;
  if (predicted instanceof tf.Tensor) {
    if (predicted.rank === 2) pred = argmaxRows(toRows(predicted as tf.Tensor2D, "classAccuracy"));
    else pred = labelArray(predicted, "classAccuracy");
  } else if (predicted.length > 0 && typeof predicted[0] !== "number") {
    pred = argmaxRows(toRows(predicted as ArrayLike<number>[], "classAccuracy"));
  } else pred = predicted as ArrayLike<number>;
  const n = pred.length;
  if (n === 0) throw new Error("classAccuracy: no samples");
  const tgt = typeof target === "number" ? null : labelArray(target, "classAccuracy");
  if (tgt && tgt.length !== n) throw new Error(`classAccuracy: ${n} predictions but ${tgt.length} targets`);
  let correct = 0;
  for (let i = 0; i < n; i++) if (pred[i] === (tgt ? tgt[i] : target)) correct++;
  return correct / n;
}

/** Mean Euclidean distance over pairs i ≠ j of the given rows (indices into r). */
function meanPairwiseDistance(r: Rows, idx: number[]): number {
  const m = idx.length;
  const sub: Rows = { data: new Float64Array(m * r.f), n: m, f: r.f };
  idx.forEach((i, p) => sub.data.set(r.data.subarray(i * r.f, (i + 1) * r.f), p * r.f));
  const x = centredTensor(sub, columnMean(sub)); // [m, F]
  let total = 0;
  try {
    forEachDistanceBlock(x, x, (start, d2) => {
      const block = d2.dataSync(); // [rows, m]
      const rows = d2.shape[0];
      const sqrt = Math.sqrt; // hoisted: a global lookup per element is ~20× slower in a vm context (jest)
      let sum = 0;
      for (let i = 0; i < rows; i++) for (let j = 0; j < m; j++) if (j !== start + i) sum += sqrt(block[i * m + j]);
      total += sum;
    });
  } finally {
    x.dispose();
  }
  return total / (m * (m - 1));
}

/**
 * Diversity: the mean pairwise Euclidean feature distance ‖φ_i − φ_j‖ over pairs i ≠ j within
 * each class, averaged over classes with equal weight. Classes with fewer than 2 samples are
 * skipped (an error if none is left). Without labels: the mean pairwise distance of the whole
 * set. Pass the class each sample was generated for (so that guidance towards one mode shows up
 * as lower diversity). A point mass gives 0; it falls as guidance concentrates samples.
 *
 * @example diversity(feats, targetLabels)
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function diversity(feats: FeatureMatrix, labels?: Labels): number {
  const r = toRows(feats, "diversity");
  const groups = new Map<number, number[]>();
  if (labels === undefined) groups.set(0, Array.from({ length: r.n }, (_, i) => i));
  else {
    const l = labelArray(labels, "diversity");
    if (l.length !== r.n) throw new Error(`diversity: ${r.n} samples but ${l.length} labels`);
    for (let i = 0; i < r.n; i++) {
      const g = groups.get(l[i]);
      if (g) g.push(i);
      else groups.set(l[i], [i]);
    }
  }
  const perClass = [...groups.values()].filter((idx) => idx.length >= 2).map((idx) => meanPairwiseDistance(r, idx));
  if (perClass.length === 0) throw new Error("diversity: need a class with at least 2 samples");
  return perClass.reduce((p, q) => p + q, 0) / perClass.length;
}

/**
 * Inception-Score-style proxy (Salimans et al. 2016) from class probabilities p(y | x) [N, K]:
 * IS = exp(mean_x KL(p(y|x) ‖ p(y))), p(y) = mean_x p(y|x), with 0·log 0 = 0. It lies in
 * [1, K]: 1 when every prediction is the same (e.g. all uniform), K when the predictions are
 * confident (one-hot) and the classes are used equally. `fromLogits: true` applies a softmax
 * first. One split (Salimans et al. average 10 splits of 5,000).
 *
 * @example inceptionScore(evalLogits, { fromLogits: true })
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export function inceptionScore(probs: tf.Tensor2D | ArrayLike<number>[], opts: { fromLogits?: boolean } = {}): number {
  const r = toRows(probs, "inceptionScore");
  const { n, f: K, data } = r;
  if (n === 0 || K === 0) throw new Error("inceptionScore: no samples");
  for (let i = 0; i < n; i++) {
    const row = data.subarray(i * K, (i + 1) * K);
    if (opts.fromLogits) {
      const mx = Math.max(...row);
      let s = 0;
      for (let j = 0; j < K; j++) s += (row[j] = Math.exp(row[j] - mx));
      for (let j = 0; j < K; j++) row[j] /= s;
    } else {
      const s = row.reduce((p, q) => p + q, 0);
      if (Math.abs(s - 1) > 1e-3 || row.some((v) => v < 0)) throw new Error(`inceptionScore: row ${i} is not a probability vector (sum ${s}); use fromLogits for logits`);
    }
  }
  const pY = columnMean(r); // [K]
  let kl = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < K; j++) {
    const p = data[i * K + j];
    if (p > 0) kl += p * (Math.log(p) - Math.log(pY[j]));
  }
  return Math.exp(kl / n);
}

/**
 * Result of {@link diversityAsAsked}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface DiversityAsAsked {
  /** Within-class mean pairwise feature distance over the kept samples (equal class weights). */
  diversity: number;
  /** Samples classified as their target (the ones used). */
  kept: number;
  /** Classes with at least 2 kept samples (the ones averaged). */
  classes: number;
}

/**
 * {@link diversity} over only the samples that the judge classifies as asked: argmax of
 * `predicted` (logits / probabilities [N, K], or class ids [N]) equal to the target in
 * `labels`. Classes with fewer than 2 such samples are skipped; throws if none is left.
 *
 * @example diversityAsAsked(feats, targets, logits) // { diversity, kept, classes }
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function diversityAsAsked(feats: FeatureMatrix, labels: Labels, predicted: tf.Tensor | ArrayLike<number>[] | ArrayLike<number>): DiversityAsAsked {
  const r = toRows(feats, "diversityAsAsked");
  const tgt = labelArray(labels, "diversityAsAsked");
  if (tgt.length !== r.n) throw new Error(`diversityAsAsked: ${r.n} samples but ${tgt.length} labels`);
  const pred = predictedClasses(predicted, "diversityAsAsked");
  if (pred.length !== r.n) throw new Error(`diversityAsAsked: ${r.n} samples but ${pred.length} predictions`);
  const groups = new Map<number, number[]>();
  let kept = 0;
  for (let i = 0; i < r.n; i++) {
    if (pred[i] !== tgt[i]) continue;
    kept++;
    const g = groups.get(tgt[i]);
    if (g) g.push(i);
    else groups.set(tgt[i], [i]);
  }
  const perClass = [...groups.values()].filter((idx) => idx.length >= 2).map((idx) => meanPairwiseDistance(r, idx));
  if (perClass.length === 0) throw new Error(`diversityAsAsked: no class has 2 samples classified as asked (${kept} of ${r.n} were)`);
  return { diversity: perClass.reduce((p, q) => p + q, 0) / perClass.length, kept, classes: perClass.length };
}

/** Predicted class ids from logits/probabilities [N, K] (argmax) or ids [N]. */
function predictedClasses(predicted: tf.Tensor | ArrayLike<number>[] | ArrayLike<number>, who: string): ArrayLike<number> {
  if (predicted instanceof tf.Tensor) return predicted.rank === 2 ? argmaxRows(toRows(predicted as tf.Tensor2D, who)) : labelArray(predicted, who);
  if (predicted.length > 0 && typeof predicted[0] !== "number") return argmaxRows(toRows(predicted as ArrayLike<number>[], who));
  return predicted as ArrayLike<number>;
}
