/**
 * Claims decided by statistics (issue 14): each claim states its predicted direction before the
 * result, and the check reads the effect and its confidence interval from report items (a
 * notebook's report.json or an experiment's results file), never a boolean the notebook computed.
 * A claim passes only when its verdict is "reproduced"; "inconclusive at n = …" and "not
 * reproduced (significant, opposite)" fail.
 *
 * {@link flipReport} rewrites a report so that every claimed effect points the other way; the
 * claims tests must fail on it (a claims test that passes on both is not a test).
 *
 * Statistics: lib/src/stats (Wilson 1927 and Newcombe 1998 for accuracies, Efron 1987 BCa for the
 * experiments' paired gains; the decision rule in verdict.ts).
 *
 * | code                   | meaning                                                         |
 * |------------------------|-----------------------------------------------------------------|
 * | `EffectSpec` "item"    | one item whose value is the effect and whose ci is its interval |
 * | `EffectSpec` "accuracyDifference" | a − b of two accuracy items, Newcombe's interval from their n |
 * | `nullValue`            | δ0, the "no effect" value (0 for differences)                   |
 */
import type { ReportItem } from "../../lib/src/report";
import { Interval, Verdict, decideVerdict, newcombeDifference, successesFromRate } from "../../lib/src/stats";

/** Where a claim's effect and interval come from. */
export type EffectSpec =
  | { kind: "item"; item: string; nullValue?: number }
  | {
      kind: "accuracyDifference";
      /** Accuracy items (fractions); the effect is a − b. */
      a: string;
      b: string;
      /** Samples behind each accuracy, when the items do not carry `n` (today's notebook items). */
      n?: number;
    };

/** A claim with its predicted direction, stated before the result. */
export interface StatClaim {
  /** Notebook stem or experiment name whose items it reads. */
  source: string;
  claim: string;
  /** What the effect is, in words. */
  effect: string;
  direction: "greater" | "less";
  spec: EffectSpec;
}

/** report.json's shape: items per notebook (or per experiment). */
export type Report = Record<string, ReportItem[]>;

function find(items: readonly ReportItem[], name: string, source: string): ReportItem {
  const it = items.find((i) => i.name === name);
  if (!it) throw new Error(`${source}: no report item "${name}"`);
  return it;
}

/**
 * The effect's interval for a claim, read from the items: an item's value and its `ci` (an item
 * without `ci` or `n` cannot decide a claim and throws), or Newcombe's interval for the
 * difference of two accuracy items with their `n`.
 */
export function effectInterval(spec: EffectSpec, items: readonly ReportItem[], source: string): Interval {
  if (spec.kind === "item") {
    const it = find(items, spec.item, source);
    if (!it.ci || it.n === undefined) throw new Error(`${source}: item "${spec.item}" has no ${!it.ci ? "ci" : "n"}, so a claim cannot be decided from it (report it with n and ci)`);
    return { estimate: it.value, lo: it.ci[0], hi: it.ci[1], n: it.n, confidence: 0.95, method: "reported" };
  }
  const a = find(items, spec.a, source);
  const b = find(items, spec.b, source);
  const na = a.n ?? spec.n;
  const nb = b.n ?? spec.n;
  if (na === undefined || nb === undefined) throw new Error(`${source}: accuracy items "${spec.a}" and "${spec.b}" need n (on the item or in the claim)`);
  return newcombeDifference(successesFromRate(a.value, na), na, successesFromRate(b.value, nb), nb);
}

/** The verdict of one claim on a report. */
export function judgeClaim(c: StatClaim, report: Report): Verdict {
  const items = report[c.source];
  if (!items) throw new Error(`no report for ${c.source}`);
  const spec = c.spec;
  const seeds = spec.kind === "item" ? find(items, spec.item, c.source).seeds : undefined;
  return decideVerdict({ claim: c.claim, effect: c.effect, direction: c.direction, interval: effectInterval(spec, items, c.source), nullValue: spec.kind === "item" ? spec.nullValue : 0, seeds });
}

/** Claims that are not reproduced on a report, each with the reason (its verdict sentence or the error). */
export function failingClaims(claims: readonly StatClaim[], report: Report): { claim: StatClaim; reason: string }[] {
  const out: { claim: StatClaim; reason: string }[] = [];
  for (const c of claims) {
    try {
      const v = judgeClaim(c, report);
      if (v.kind !== "reproduced") out.push({ claim: c, reason: v.sentence });
    } catch (e) {
      out.push({ claim: c, reason: (e as Error).message });
    }
  }
  return out;
}

/**
 * A copy of `report` in which every claimed effect points the other way, all at once: an "item"
 * effect is reflected about its null value (value and ci); every accuracy that an
 * "accuracyDifference" reads becomes 1 − accuracy (ci reflected too), which reverses every
 * difference between accuracies together (several claims may share an item) and keeps the
 * counts whole. Each item is flipped once; unclaimed items are unchanged.
 */
export function flipReport(report: Report, claims: readonly StatClaim[]): Report {
  const out: Report = JSON.parse(JSON.stringify(report));
  const reflect = new Map<string, number>(); // "source\0item" → centre c of v ↦ 2c − v
  for (const c of claims) {
    const spec = c.spec;
    if (spec.kind === "item") reflect.set(`${c.source}\u0000${spec.item}`, spec.nullValue ?? 0);
    else for (const name of [spec.a, spec.b]) reflect.set(`${c.source}\u0000${name}`, 0.5);
  }
  for (const [source, items] of Object.entries(out)) {
    for (const it of items) {
      const centre = reflect.get(`${source}\u0000${it.name}`);
      if (centre === undefined) continue;
      it.value = 2 * centre - it.value;
      if (it.ci) it.ci = [2 * centre - it.ci[1], 2 * centre - it.ci[0]];
    }
  }
  return out;
}

/**
 * The claims that today's items can already decide by statistics (accuracies with the notebooks'
 * sample counts), plus the experiment's. The notebooks' own claims.ts stays with the notebooks;
 * these move there once the notebooks report n and ci.
 */
export const STAT_CLAIMS: StatClaim[] = [
  {
    source: "02_classifier_guidance",
    claim: "classifier guidance (s = 4) sharpens class specificity over the conditional model (s = 0)",
    effect: "accuracy(s=4) − accuracy(s=0)",
    direction: "greater",
    spec: { kind: "accuracyDifference", a: "cg accuracy s=4", b: "cg accuracy s=0", n: 150 }, // balancedLabels(10, 15)
  },
  {
    source: "03_classifier_free_guidance",
    claim: "s > 1 sharpens class specificity (CFG s = 2 against s = 1)",
    effect: "accuracy(s=2) − accuracy(s=1)",
    direction: "greater",
    spec: { kind: "accuracyDifference", a: "cfg accuracy s=2", b: "cfg accuracy s=1", n: 120 }, // balancedLabels(10, 12)
  },
  {
    source: "03_classifier_free_guidance",
    claim: "the unconditional model (s = 0) is less class-specific than the conditional one (s = 1)",
    effect: "accuracy(s=0) − accuracy(s=1)",
    direction: "less",
    spec: { kind: "accuracyDifference", a: "cfg accuracy s=0", b: "cfg accuracy s=1", n: 120 },
  },
  {
    source: "guidance-accuracy",
    claim: "s > 1 sharpens class specificity",
    effect: "accuracy(s=3) − accuracy(s=1), paired",
    direction: "greater",
    spec: { kind: "item", item: "cfg accuracy gain s=3 vs s=1" },
  },
];
