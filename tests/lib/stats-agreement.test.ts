/**
 * compareMeasuredItems / intervalsAgree: the check that a reduced experiment rerun agrees with
 * the shipped full-size file within the intervals.
 */
import { compareMeasuredItems, intervalsAgree } from "../../lib/src/stats/agreement";
import { wilsonInterval } from "../../lib/src/stats/wilson";

const it_ = (name: string, value: number, lo: number, hi: number) => ({ name, value, ci: [lo, hi] as [number, number] });

describe("intervalsAgree", () => {
  it("uses the half-widths facing each other: |a − b| ≤ √(ha² + hb²)", () => {
    // a = 0.8 (lower arm 0.03), b = 0.75 (upper arm 0.04): allowed 0.05, gap 0.05 → agree (boundary)
    const r = intervalsAgree(it_("acc", 0.8, 0.77, 0.9), it_("acc", 0.75, 0.6, 0.79));
    expect(r.allowed).toBeCloseTo(0.05, 12);
    expect(r.gap).toBeCloseTo(0.05, 12);
    expect(r.agree).toBe(true);
    const far = intervalsAgree(it_("acc", 0.8, 0.77, 0.9), it_("acc", 0.74, 0.6, 0.78));
    expect(far.agree).toBe(false);
    expect(far.detail).toMatch(/gap 0.06 > allowed/);
  });
  it("is stricter than mere overlap", () => {
    // Overlapping intervals whose centres are too far apart for both arms together.
    const r = intervalsAgree(it_("x", 0, -1, 1), it_("x", 1.8, 0.9, 2.7));
    expect(r.agree).toBe(false); // gap 1.8 > √(1 + 0.81) ≈ 1.345, although [−1, 1] and [0.9, 2.7] overlap
  });
  it("cannot judge without intervals", () => {
    expect(intervalsAgree({ name: "x", value: 1 }, it_("x", 1, 0, 2)).agree).toBe(false);
  });
  it("a subsample of a binomial run agrees with the whole; a shifted rate does not", () => {
    const full = wilsonInterval(1200, 1500); // 0.8
    const sub = wilsonInterval(47, 60); // 0.783
    const bad = wilsonInterval(30, 60); // 0.5
    const item = (iv: ReturnType<typeof wilsonInterval>) => ({ name: "acc", value: iv.estimate, ci: [iv.lo, iv.hi] as [number, number] });
    expect(intervalsAgree(item(full), item(sub)).agree).toBe(true);
    expect(intervalsAgree(item(full), item(bad)).agree).toBe(false);
  });
});

describe("compareMeasuredItems", () => {
  const shipped = [it_("a", 0.5, 0.4, 0.6), it_("b", 0.1, 0.05, 0.15), { name: "time", value: 12 }];
  it("compares every shipped item with an interval by name", () => {
    const ok = compareMeasuredItems(shipped, [it_("b", 0.12, 0.02, 0.3), it_("a", 0.45, 0.3, 0.6)]);
    expect(ok.ok).toBe(true);
    expect(ok.items.map((i) => i.name)).toEqual(["a", "b"]);
  });
  it("fails on a missing or disagreeing item", () => {
    const missing = compareMeasuredItems(shipped, [it_("a", 0.5, 0.4, 0.6)]);
    expect(missing.ok).toBe(false);
    expect(missing.items[1].detail).toBe("b: missing from the rerun");
    expect(compareMeasuredItems(shipped, [it_("a", 0.9, 0.85, 0.95), it_("b", 0.1, 0.05, 0.15)]).ok).toBe(false);
  });
  it("throws when nothing can be compared", () => {
    expect(() => compareMeasuredItems([{ name: "t", value: 1 }], [])).toThrow(/no items with an interval/);
  });
});
