/**
 * Intervals for accuracies (proportions): Wilson's score interval for one proportion and
 * Newcombe's hybrid score interval for the difference of two independent proportions.
 *
 * Papers:
 * - Wilson 1927, "Probable inference, the law of succession, and statistical inference"
 *   (JASA 22): the score interval, which keeps near-nominal coverage at small n and near 0 or 1,
 *   where the Wald interval p̂ ± z·√(p̂(1 − p̂)/n) fails.
 * - Newcombe 1998, "Interval estimation for the difference between independent proportions:
 *   comparison of eleven methods" (Stat. Med. 17), method 10: the difference's interval from the
 *   two Wilson intervals.
 *
 * | code             | symbol                                                      |
 * |------------------|-------------------------------------------------------------|
 * | `x`, `n`         | successes x out of n trials                                 |
 * | `p`              | p̂ = x / n                                                   |
 * | `z`              | z_{1−α/2}                                                   |
 * | `[l1, u1]`, `[l2, u2]` | Wilson intervals of p̂1 and p̂2                         |
 * | Wilson           | (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)            |
 * | Newcombe         | d̂ = p̂1 − p̂2, [d̂ − √((p̂1−l1)² + (u2−p̂2)²), d̂ + √((u1−p̂1)² + (p̂2−l2)²)] |
 *
 * Newcombe's interval assumes independent groups. For paired outcomes (the same noise sampled at
 * two guidance scales) it is conservative when the pairs are positively correlated; use
 * {@link pairedBootstrapCI} on the per-sample indicators for the paired interval.
 *
 * @see lib/src/stats/bootstrap.ts
 */
import { Interval } from "./interval";
import { zFor } from "./normal";

function checkCounts(x: number, n: number, who: string): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${who}: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(x) || x < 0 || x > n) throw new Error(`${who}: successes must be an integer in 0…${n}, got ${x}`);
}

/**
 * Wilson score interval (Wilson 1927) of a proportion x / n at the given confidence (default
 * 0.95). The ends are exactly 0 for x = 0 and 1 for x = n.
 *
 * @example wilsonInterval(81, 263) // { estimate: 0.308, lo: 0.2553, hi: 0.3662, … }
 * @see lib/src/stats/verdict.ts
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval {
  checkCounts(successes, n, "wilsonInterval");
  const z = zFor(confidence);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const lo = successes === 0 ? 0 : Math.max(0, centre - half);
  const hi = successes === n ? 1 : Math.min(1, centre + half);
  return { estimate: p, lo: Math.min(lo, p), hi: Math.max(hi, p), confidence, n, method: "wilson" };
}

/**
 * Newcombe's hybrid score interval (Newcombe 1998, method 10) for p1 − p2 of two independent
 * proportions x1/n1 and x2/n2, built from their {@link wilsonInterval}s. `n` of the result is
 * n1 + n2.
 *
 * @example newcombeDifference(56, 70, 48, 80) // { estimate: 0.2, lo: 0.0524, hi: 0.3339, … }
 * @see lib/src/stats/verdict.ts
 */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): Interval {
  checkCounts(x1, n1, "newcombeDifference (group 1)");
  checkCounts(x2, n2, "newcombeDifference (group 2)");
  const a = wilsonInterval(x1, n1, confidence);
  const b = wilsonInterval(x2, n2, confidence);
  const d = a.estimate - b.estimate;
  const lo = d - Math.sqrt((a.estimate - a.lo) ** 2 + (b.hi - b.estimate) ** 2);
  const hi = d + Math.sqrt((a.hi - a.estimate) ** 2 + (b.estimate - b.lo) ** 2);
  return { estimate: d, lo, hi, confidence, n: n1 + n2, method: "newcombe" };
}

/**
 * Successes behind a reported accuracy: round(accuracy · n), checked to be a whole count
 * (within 1e-6), so that intervals can be rebuilt from a report item's value and n.
 *
 * @example successesFromRate(0.83, 100) // 83
 * @see lib/src/stats/wilson.ts
 */
export function successesFromRate(rate: number, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`successesFromRate: n must be a positive integer, got ${n}`);
  if (!(rate >= 0 && rate <= 1)) throw new Error(`successesFromRate: rate must be in [0, 1], got ${rate}`);
  const x = Math.round(rate * n);
  if (Math.abs(x - rate * n) > 1e-6 * n) throw new Error(`successesFromRate: ${rate} × ${n} = ${rate * n} is not a whole number of successes`);
  return x;
}
