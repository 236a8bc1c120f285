/**
 * Seeds for repeated measurements: derive k reproducible seeds from one, run a measurement per
 * seed, and pool or summarise the results. A verdict rests on several seeds so that one lucky
 * draw of noise cannot decide it (issue 14: "3 seeds for each verdict").
 *
 * Derivation: splitmix32 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
 * generators"; the 32-bit variant the course's {@link Rng} seeds with) of the master seed.
 *
 * | code        | meaning                                              |
 * |-------------|------------------------------------------------------|
 * | `master`    | the one seed a notebook or experiment states         |
 * | `seeds[j]`  | the j-th derived seed, j = 0…k−1 (distinct uint32)   |
 * | `values[j]` | the measurement under seeds[j]                       |
 *
 * @see lib/src/stats/verdict.ts
 */

/**
 * k distinct 32-bit seeds derived from one master seed; the same master always gives the same
 * list, and the first j of k seeds equal the list for j (prefix-stable).
 *
 * @example deriveSeeds(2024, 3) // three fixed integers
 * @see lib/src/stats/seeds.ts
 */
export function deriveSeeds(master: number, k: number): number[] {
  if (!Number.isInteger(master)) throw new Error(`deriveSeeds: master seed must be an integer, got ${master}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`deriveSeeds: k must be a positive integer, got ${k}`);
  let s = master >>> 0;
  const out: number[] = [];
  const seen = new Set<number>();
  while (out.length < k) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    if (!seen.has(z)) {
      seen.add(z);
      out.push(z);
    }
  }
  return out;
}

/**
 * One measurement under one seed.
 * @see lib/src/stats/seeds.ts
 */
export interface SeededResult<T> {
  seed: number;
  result: T;
}

/**
 * Run `measure(seed, j)` once per seed, in order; `onDone(j + 1)` after each (e.g. a progress
 * bar's update).
 *
 * @example runSeeds(deriveSeeds(0, 3), (seed) => accuracyOfSamples(seed))
 * @see lib/src/stats/seeds.ts
 */
export function runSeeds<T>(seeds: readonly number[], measure: (seed: number, index: number) => T, onDone?: (done: number) => void): SeededResult<T>[] {
  if (seeds.length === 0) throw new Error("runSeeds: no seeds");
  for (const s of seeds) if (!Number.isInteger(s)) throw new Error(`runSeeds: seeds must be integers, got ${s}`);
  if (new Set(seeds).size !== seeds.length) throw new Error(`runSeeds: seeds must be distinct, got ${seeds.join(", ")}`);
  return seeds.map((seed, j) => {
    const result = measure(seed, j);
    onDone?.(j + 1);
    return { seed, result };
  });
}

/**
 * Pool per-seed samples into one sample (concatenation, seed order): valid when each seed
 * draws independent units, e.g. per-image correctness under different noise.
 *
 * @example poolSamples(runs.map((r) => r.result.correct))
 * @see lib/src/stats/seeds.ts
 */
export function poolSamples(parts: readonly ArrayLike<number>[]): Float64Array {
  if (parts.length === 0) throw new Error("poolSamples: nothing to pool");
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float64Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(Array.from(p), off);
    off += p.length;
  }
  return out;
}

/**
 * Spread of one number across seeds: mean, sample standard deviation (k − 1; 0 for k = 1),
 * min and max. Descriptive only: with k = 3 the spread is itself uncertain, so intervals come
 * from the pooled units, not from these.
 * @see lib/src/stats/seeds.ts
 */
export interface SeedSummary {
  k: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
}

/**
 * Summarise one measurement over seeds ({@link SeedSummary}).
 *
 * @example summarizeSeeds([0.81, 0.84, 0.80]) // { k: 3, mean: 0.8167, sd: 0.0208, min: 0.8, max: 0.84 }
 * @see lib/src/stats/seeds.ts
 */
export function summarizeSeeds(values: readonly number[]): SeedSummary {
  if (values.length === 0) throw new Error("summarizeSeeds: no values");
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`summarizeSeeds: every value must be finite, got ${v}`);
  const k = values.length;
  const m = values.reduce((a, b) => a + b, 0) / k;
  const sd = k > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (k - 1)) : 0;
  return { k, mean: m, sd, min: Math.min(...values), max: Math.max(...values) };
}
