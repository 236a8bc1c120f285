/**
 * The one interval type every estimator of lib/src/stats returns, so that report items,
 * verdicts and the experiment checker read intervals the same way.
 *
 * | code         | symbol                                               |
 * |--------------|------------------------------------------------------|
 * | `estimate`   | θ̂, the point estimate                                |
 * | `lo`, `hi`   | the interval's ends, lo ≤ θ̂ ≤ hi                      |
 * | `confidence` | 1 − α, the nominal coverage (e.g. 0.95)              |
 * | `n`          | the number of independent units behind the estimate  |
 *
 * No paper of its own; the methods that fill it cite theirs (wilson.ts, bootstrap.ts).
 *
 * @see lib/src/stats/verdict.ts
 */

/**
 * A confidence interval with its point estimate, e.g. `{ estimate: 0.62, lo: 0.55, hi: 0.69,
 * confidence: 0.95, n: 200, method: "wilson" }`.
 * @see lib/src/stats/wilson.ts
 */
export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  confidence: number;
  /** Independent units (samples, pairs) behind the estimate; for two groups, their total. */
  n: number;
  /** How it was computed, e.g. "wilson", "newcombe", "bootstrap-bca", "bootstrap-percentile". */
  method: string;
}

/**
 * Format an interval as "0.620 [0.550, 0.690]" with `digits` decimals (default 3).
 *
 * @example formatInterval({ estimate: 0.62, lo: 0.55, hi: 0.69, confidence: 0.95, n: 200, method: "wilson" }) // "0.620 [0.550, 0.690]"
 * @see lib/src/stats/verdict.ts
 */
export function formatInterval(iv: Pick<Interval, "estimate" | "lo" | "hi">, digits = 3): string {
  return `${iv.estimate.toFixed(digits)} [${iv.lo.toFixed(digits)}, ${iv.hi.toFixed(digits)}]`;
}
