/**
 * Feature matrices for the image-sample metrics: one input type, a float64 row-major copy,
 * and blocked pairwise distances on the tf backend.
 *
 * The features usually come from the evaluation classifier's penultimate layer (as FID uses
 * Inception's pool features, Heusel et al. 2017).
 *
 * | code   | symbol                                   |
 * |--------|------------------------------------------|
 * | `n`    | N, number of samples (rows)              |
 * | `f`    | F, feature dimension (columns)           |
 * | `d2`   | ‖φ_i − φ_j‖², squared feature distance   |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/**
 * A feature matrix [N, F]: a tensor, an array of rows, or a flat row-major array with its shape.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export type FeatureMatrix = tf.Tensor2D | ArrayLike<number>[] | { data: ArrayLike<number>; shape: [number, number] };

/** A float64 row-major copy of a feature matrix. */
export interface Rows {
  data: Float64Array;
  n: number;
  f: number;
}

/** Copy any {@link FeatureMatrix} to float64 rows (reads tensors back outside tidy). */
export function toRows(x: FeatureMatrix, who: string): Rows {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${who}: features must be [N, F], got [${x.shape}]`);
    return { data: Float64Array.from(x.dataSync()), n: x.shape[0], f: x.shape[1] };
  }
  if ("shape" in x && "data" in x) {
    const [n, f] = x.shape;
    if (x.data.length !== n * f) throw new Error(`${who}: ${x.data.length} values for shape [${n}, ${f}]`);
    return { data: Float64Array.from(x.data), n, f };
  }
  const n = x.length;
  const f = n > 0 ? x[0].length : 0;
  const data = new Float64Array(n * f);
  for (let i = 0; i < n; i++) {
    if (x[i].length !== f) throw new Error(`${who}: row ${i} has ${x[i].length} features, row 0 has ${f}`);
    for (let j = 0; j < f; j++) data[i * f + j] = x[i][j];
  }
  return { data, n, f };
}

/** Column means of one or more row sets with the same F, in float64. */
export function columnMean(...sets: Rows[]): Float64Array {
  const f = sets[0].f;
  const mu = new Float64Array(f);
  let total = 0;
  for (const r of sets) {
    for (let i = 0; i < r.n; i++) for (let j = 0; j < f; j++) mu[j] += r.data[i * f + j];
    total += r.n;
  }
  for (let j = 0; j < f; j++) mu[j] /= Math.max(total, 1);
  return mu;
}

/**
 * Rows minus a shared centre, as a float32 tensor [N, F]. Distances do not change under a
 * shift, and centring first keeps ‖a‖² + ‖b‖² − 2a·b accurate in float32 (a point mass gives
 * exactly 0).
 */
export function centredTensor(r: Rows, centre: Float64Array): tf.Tensor2D {
  const out = new Float32Array(r.n * r.f);
  for (let i = 0; i < r.n; i++) for (let j = 0; j < r.f; j++) out[i * r.f + j] = r.data[i * r.f + j] - centre[j];
  return tf.tensor2d(out, [r.n, r.f]); // [N, F]
}

/** Rows of `a` per distance block: bounds memory to chunk × m floats. */
export const DIST_CHUNK = 512;

/**
 * Walk the squared distances between the rows of a [n, F] and b [m, F] in blocks of rows:
 * `visit(start, block)` gets d2 [r, m] (clamped ≥ 0) as a tensor that it may reduce with tf
 * ops and must not keep. Uses a plain matMul against an explicit transpose (TFJS_NOTES.md).
 */
export function forEachDistanceBlock(a: tf.Tensor2D, b: tf.Tensor2D, visit: (start: number, d2: tf.Tensor2D) => void): void {
  const n = a.shape[0];
  const bNorm = tf.tidy(() => tf.sum(tf.square(b), 1).reshape([1, -1])); // [1, m]
  const bT = tf.transpose(b); // [F, m]
  try {
    for (let start = 0; start < n; start += DIST_CHUNK) {
      const rows = Math.min(DIST_CHUNK, n - start);
      const d2 = tf.tidy(() => {
        const ac = tf.slice(a, [start, 0], [rows, -1]); // [r, F]
        const aNorm = tf.sum(tf.square(ac), 1, true); // [r, 1]
        return tf.relu(tf.sub(tf.add(aNorm, bNorm), tf.mul(tf.matMul(ac, bT), 2))) as tf.Tensor2D; // [r, m]
      });
      try {
        visit(start, d2);
      } finally {
        d2.dispose();
      }
    }
  } finally {
    bNorm.dispose();
    bT.dispose();
  }
}
