/**
 * Does a rerun agree with a shipped result? Each measured item of an experiment file carries an
 * estimate and a confidence interval; a reduced-size rerun in CI agrees with the shipped
 * full-size file when, for every item, the two estimates differ by no more than their intervals
 * allow.
 *
 * Rule (the usual approximate test of equal means from two independent intervals, e.g. Schenker
 * & Gentleman 2001, "On judging the significance of differences by examining the overlap between
 * confidence intervals"): with h_a and h_b the half-widths of each interval on the side facing the
 * other estimate, the items agree when |θ̂_a − θ̂_b| ≤ √(h_a² + h_b²). At two 95% intervals this is
 * a test of θ_a = θ_b at about the 5% level (stricter than "the intervals overlap").
 *
 * | code        | symbol                            |
 * |-------------|-----------------------------------|
 * | `a`, `b`    | shipped and rerun items           |
 * | `ha`, `hb`  | h_a, h_b (facing half-widths)     |
 * | `gap`       | |θ̂_a − θ̂_b|                       |
 * | `allowed`   | √(h_a² + h_b²)                    |
 *
 * @see tools/experiment.ts
 */

/**
 * The part of a report item the check reads.
 * @see lib/src/stats/agreement.ts
 */
export interface MeasuredItem {
  name: string;
  value: number;
  ci?: [number, number];
}

/**
 * One item's comparison.
 * @see lib/src/stats/agreement.ts
 */
export interface ItemAgreement {
  name: string;
  agree: boolean;
  /** |shipped − rerun| and the allowed √(h_a² + h_b²) (NaN when an item or interval is missing). */
  gap: number;
  allowed: number;
  detail: string;
}

/**
 * Whether two interval estimates of the same quantity agree (see the header's rule).
 *
 * @example intervalsAgree({ name: "acc", value: 0.8, ci: [0.77, 0.83] }, { name: "acc", value: 0.75, ci: [0.65, 0.84] })
 * @see tools/experiment.ts
 */
export function intervalsAgree(a: MeasuredItem, b: MeasuredItem): ItemAgreement {
  if (!a.ci || !b.ci) {
    return { name: a.name, agree: false, gap: NaN, allowed: NaN, detail: `${a.name}: ${!a.ci ? "the shipped item" : "the rerun item"} has no interval, so agreement cannot be judged` };
  }
  const facing = (x: MeasuredItem, other: number) => (other < x.value ? x.value - x.ci![0] : x.ci![1] - x.value);
  const ha = facing(a, b.value);
  const hb = facing(b, a.value);
  const gap = Math.abs(a.value - b.value);
  const allowed = Math.sqrt(ha * ha + hb * hb);
  const agree = gap <= allowed + 1e-12;
  const f = (v: number) => Number(v.toPrecision(4));
  return {
    name: a.name,
    agree,
    gap,
    allowed,
    detail: `${a.name}: shipped ${f(a.value)} [${f(a.ci[0])}, ${f(a.ci[1])}], rerun ${f(b.value)} [${f(b.ci[0])}, ${f(b.ci[1])}]: gap ${f(gap)} ${agree ? "≤" : ">"} allowed ${f(allowed)}`,
  };
}

/**
 * Compare every shipped item that has an interval with the rerun's item of the same name; a
 * missing rerun item disagrees. Items without an interval in the shipped file are not compared.
 * Returns one entry per compared item; `ok` when all agree.
 *
 * @example const { ok, items } = compareMeasuredItems(shipped.items, rerun.items)
 * @see tools/experiment.ts
 */
export function compareMeasuredItems(shipped: readonly MeasuredItem[], rerun: readonly MeasuredItem[]): { ok: boolean; items: ItemAgreement[] } {
  const byName = new Map(rerun.map((it) => [it.name, it]));
  const items = shipped
    .filter((it) => it.ci)
    .map((it) => {
      const other = byName.get(it.name);
      return other ? intervalsAgree(it, other) : { name: it.name, agree: false, gap: NaN, allowed: NaN, detail: `${it.name}: missing from the rerun` };
    });
  if (items.length === 0) throw new Error("compareMeasuredItems: the shipped result has no items with an interval to compare");
  return { ok: items.every((i) => i.agree), items };
}
