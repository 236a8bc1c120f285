/**
 * The standard normal distribution: its CDF Φ and quantile function Φ⁻¹, which the interval
 * methods of this folder need (Wilson's z, the BCa bias correction).
 *
 * Papers / algorithms:
 * - Marsaglia 2004, "Evaluating the Normal Distribution" (J. Stat. Software 11(4)): Φ by its
 *   Taylor series Φ(x) = ½ + φ(x)·(x + x³/3 + x⁵/(3·5) + …), absolute error ≈ 1e-15.
 * - Acklam 2003, "An algorithm for computing the inverse normal cumulative distribution
 *   function": rational approximations of Φ⁻¹, relative error < 1.15e-9.
 *
 * | code          | symbol                         |
 * |---------------|--------------------------------|
 * | `normalCdf`   | Φ(x)                           |
 * | `normalQuantile` | Φ⁻¹(p)                      |
 * | `zFor`        | z_{1−α/2} for confidence 1 − α |
 *
 * @see lib/src/stats/wilson.ts
 */

/**
 * Standard normal CDF Φ(x) (Marsaglia 2004); 0 or 1 beyond |x| > 37.
 *
 * @example normalCdf(1.959963984540054) // 0.975
 * @see lib/src/stats/bootstrap.ts
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -37) return 0;
  if (x > 37) return 1;
  let s = x;
  let t = 0;
  let b = x;
  const q = x * x;
  for (let i = 1; s !== t && i < 2000; ) {
    t = s;
    i += 2;
    b *= q / i;
    s = t + b;
  }
  return 0.5 + s * Math.exp(-0.5 * q - 0.91893853320467274178);
}

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/**
 * Standard normal quantile Φ⁻¹(p) for p in (0, 1) (Acklam 2003); −∞ / +∞ at p = 0 / 1.
 *
 * @example normalQuantile(0.975) // 1.959963985
 * @see lib/src/stats/wilson.ts
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`normalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const plow = 0.02425;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  if (p > 1 - plow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}

/**
 * The two-sided critical value z_{1−α/2} of a confidence level 1 − α (0.95 → 1.96). Throws
 * unless 0 < confidence < 1.
 *
 * @example zFor(0.95) // 1.959963985
 * @see lib/src/stats/wilson.ts
 */
export function zFor(confidence: number): number {
  checkConfidence(confidence, "zFor");
  return normalQuantile(1 - (1 - confidence) / 2);
}

/**
 * Throw a clear error unless `confidence` is strictly between 0 and 1.
 * @see lib/src/stats/interval.ts
 */
export function checkConfidence(confidence: number, who: string): void {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`${who}: confidence must be strictly between 0 and 1 (e.g. 0.95), got ${confidence}`);
}
