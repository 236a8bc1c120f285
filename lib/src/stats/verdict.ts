/**
 * Verdicts decided by statistics, stated before the result: given the predicted direction of a
 * claim's effect and the effect's confidence interval, say "reproduced", "not reproduced
 * (significant, opposite)" or "inconclusive at n = …", with a sentence generated from the
 * interval that never claims more than the interval shows.
 *
 * Decision rule (a two-sided test at level α = 1 − confidence by interval inversion, Neyman
 * 1937): the effect is significant when the interval excludes the null value δ0 (default 0).
 *
 * | code         | meaning                                                         |
 * |--------------|-----------------------------------------------------------------|
 * | `direction`  | the predicted sign of effect − δ0: "greater" or "less"          |
 * | `nullValue`  | δ0, the "no effect" value (0 for differences)                    |
 * | `interval`   | [lo, hi] of the effect at confidence 1 − α                       |
 *
 * @see lib/src/stats/interval.ts
 */
import { Interval } from "./interval";

/**
 * The three outcomes; the inconclusive one names n.
 * @see lib/src/stats/verdict.ts
 */
export type VerdictLabel = "reproduced" | "not reproduced (significant, opposite)" | `inconclusive at n = ${number}`;

/**
 * What {@link decideVerdict} needs.
 * @see lib/src/stats/verdict.ts
 */
export interface VerdictInput {
  /** The claim in words, e.g. "s > 1 sharpens class specificity". */
  claim: string;
  /** The measured effect in words, e.g. "accuracy at s = 3 minus accuracy at s = 1". */
  effect: string;
  /** Predicted sign of (effect − nullValue). */
  direction: "greater" | "less";
  interval: Interval;
  /** Default 0. */
  nullValue?: number;
  /** Seeds behind the interval, stated in the sentence. */
  seeds?: readonly number[];
  /** Unit appended to numbers (e.g. " points"); default "". */
  unit?: string;
  /** Decimals shown (default 3). */
  digits?: number;
}

/**
 * A verdict: its label, its kind and the sentence to print.
 * @see lib/src/stats/verdict.ts
 */
export interface Verdict {
  label: VerdictLabel;
  kind: "reproduced" | "opposite" | "inconclusive";
  sentence: string;
}

/**
 * Decide a claim from an interval: "reproduced" when the whole interval lies on the predicted
 * side of the null value, "not reproduced (significant, opposite)" when it lies wholly on the
 * other side, else "inconclusive at n = …". An interval that touches the null value is
 * inconclusive. The sentence states the estimate, the interval with its confidence, n and the
 * seeds, and what the interval allows, nothing more.
 *
 * @example decideVerdict({ claim: "s > 1 sharpens class specificity", effect: "accuracy(s=3) − accuracy(s=1)", direction: "greater", interval })
 * @see lib/src/stats/verdict.ts
 */
export function decideVerdict(input: VerdictInput): Verdict {
  const { interval: iv, direction } = input;
  const d0 = input.nullValue ?? 0;
  const digits = input.digits ?? 3;
  const unit = input.unit ?? "";
  if (direction !== "greater" && direction !== "less") throw new Error(`decideVerdict: direction must be "greater" or "less", got ${String(direction)}`);
  for (const [k, v] of [["estimate", iv.estimate], ["lo", iv.lo], ["hi", iv.hi], ["nullValue", d0]] as const) {
    if (!Number.isFinite(v)) throw new Error(`decideVerdict: ${k} must be finite, got ${v}`);
  }
  if (!(iv.lo <= iv.estimate && iv.estimate <= iv.hi)) throw new Error(`decideVerdict: need lo ≤ estimate ≤ hi, got ${iv.lo} ≤ ${iv.estimate} ≤ ${iv.hi}`);
  if (!Number.isInteger(iv.n) || iv.n < 1) throw new Error(`decideVerdict: interval.n must be a positive integer, got ${iv.n}`);
  if (!input.claim.trim() || !input.effect.trim()) throw new Error("decideVerdict: claim and effect need words");
  const f = (v: number) => `${v >= 0 && v !== 0 ? "+" : ""}${v.toFixed(digits)}${unit}`;
  const pct = `${Math.round(iv.confidence * 1000) / 10}%`;
  const seeds = input.seeds && input.seeds.length ? `, ${input.seeds.length} seed${input.seeds.length > 1 ? "s" : ""} (${input.seeds.join(", ")})` : "";
  const stats = `${input.effect} = ${f(iv.estimate)}, ${pct} CI [${f(iv.lo)}, ${f(iv.hi)}], n = ${iv.n}${seeds}`;
  const predicted = direction === "greater" ? "above" : "below";
  const other = direction === "greater" ? "below" : "above";
  const above = iv.lo > d0;
  const below = iv.hi < d0;
  const onPredicted = direction === "greater" ? above : below;
  const onOther = direction === "greater" ? below : above;
  if (onPredicted) {
    return { label: "reproduced", kind: "reproduced", sentence: `Reproduced: ${input.claim}. ${stats}; the interval lies entirely ${predicted} ${f(d0)}, as predicted.` };
  }
  if (onOther) {
    return {
      label: "not reproduced (significant, opposite)",
      kind: "opposite",
      sentence: `Not reproduced (significant, opposite): ${input.claim} was predicted, but ${stats}; the interval lies entirely ${other} ${f(d0)}.`,
    };
  }
  const label: VerdictLabel = `inconclusive at n = ${iv.n}`;
  return {
    label,
    kind: "inconclusive",
    sentence: `Inconclusive at n = ${iv.n}: ${stats}; the interval contains ${f(d0)}, so this sample cannot tell whether ${input.claim}.`,
  };
}
