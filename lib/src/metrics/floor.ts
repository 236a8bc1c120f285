/**
 * The real-vs-real floor of a distance: the same metric between two disjoint sets of real
 * images at the same N as the comparison it sits beside. A sample set can only be judged
 * against this floor: a distance between two finite real sets is not 0 (the FID-style distance
 * is biased upwards at small N, Chong & Forsyth 2020, "Effectively Unbiased FID and Inception
 * Score and where to find them"), and a sample that scores below the floor says more about
 * the metric than about the sampler.
 *
 * | code      | meaning                                                           |
 * |-----------|-------------------------------------------------------------------|
 * | `pool`    | features of real images [P, F], P ≥ 2N                            |
 * | `n`       | N, the size of each of the two disjoint halves                    |
 * | `values`  | the metric on each of `repeats` seeded disjoint splits            |
 *
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
import { Rng } from "../random";
import { FeatureMatrix, toRows } from "./features";

/**
 * Result of {@link realVsRealFloor}.
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export interface RealFloor {
  /** The metric on each split. */
  values: number[];
  /** Their mean. */
  mean: number;
  /** N per half. */
  n: number;
  seed: number;
}

/**
 * The metric between two disjoint random halves of N real feature rows each, drawn from `pool`
 * (which needs ≥ 2N rows), over `repeats` seeded splits (default 1). Pass the same metric and N
 * as the comparison, e.g. `(a, b) => kernelInceptionDistance(a, b).kid`.
 *
 * @example realVsRealFloor(realFeats, 500, (a, b) => frechetDistance(a, b), { seed: 0 })
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
export function realVsRealFloor(
  pool: FeatureMatrix,
  n: number,
  metric: (a: FeatureMatrix, b: FeatureMatrix) => number,
  opts: { seed: number; repeats?: number },
): RealFloor {
  const r = toRows(pool, "realVsRealFloor");
  const repeats = opts.repeats ?? 1;
  if (!Number.isInteger(n) || n < 2) throw new Error(`realVsRealFloor: n must be an integer ≥ 2, got ${n}`);
  if (2 * n > r.n) throw new Error(`realVsRealFloor: two disjoint sets of ${n} need ${2 * n} real rows, the pool has ${r.n}`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`realVsRealFloor: repeats must be a positive integer, got ${repeats}`);
  if (!Number.isInteger(opts.seed)) throw new Error(`realVsRealFloor: seed must be an integer, got ${opts.seed}`);
  const rng = new Rng(opts.seed);
  const half = (idx: Int32Array) => {
    const data = new Float64Array(idx.length * r.f);
    idx.forEach((i, p) => data.set(r.data.subarray(i * r.f, (i + 1) * r.f), p * r.f));
    return { data, shape: [idx.length, r.f] as [number, number] };
  };
  const values: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const perm = rng.permutation(r.n);
    const v = metric(half(perm.slice(0, n)), half(perm.slice(n, 2 * n)));
    if (!Number.isFinite(v)) throw new Error(`realVsRealFloor: the metric returned ${v}`);
    values.push(v);
  }
  return { values, mean: values.reduce((a, b) => a + b, 0) / repeats, n, seed: opts.seed };
}
