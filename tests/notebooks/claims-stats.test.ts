/**
 * Claims decided by statistics, and the flipped-report test: on a report whose measured
 * directions are flipped, every claims check must fail (issue 14, "claims tests that can fail").
 *
 * The fixture holds today's items (names and values) from notebooks 02 and 03 of the instructor
 * run at commit 9dc5ebe (build/executed/instructor/report.json), notebook 06's fidelities quoted
 * in issue 14 (83% against 82% on 100 samples), and the guidance-accuracy experiment's items.
 */
import * as fs from "fs";
import * as path from "path";
import type { ReportItem } from "../../lib/src/report";
import { Report, STAT_CLAIMS, StatClaim, effectInterval, failingClaims, flipReport, judgeClaim } from "./claims-stats";

const ROOT = path.resolve(__dirname, "..", "..");
const acc = (name: string, value: number): ReportItem => ({ name, value, unit: "fraction", meaning: "evaluator accuracy" });

/** Today's values (see the header); the experiment's items as a reduced run reports them. */
const FIXTURE: Report = {
  "02_classifier_guidance": [acc("cg accuracy s=0", 0.8), acc("cg accuracy s=4", 149 / 150), { name: "cg diversity s=4", value: 3.4803, unit: "", meaning: "diversity" }],
  "03_classifier_free_guidance": [acc("cfg accuracy s=0", 10 / 120), acc("cfg accuracy s=1", 99 / 120), acc("cfg accuracy s=2", 117 / 120), { name: "cfg diversity s=4", value: 2.8136, unit: "", meaning: "diversity" }],
  "06_glide_vs_dalle2_prior": [acc("glide-cfg fidelity", 0.83), acc("glide-clip fidelity", 0.82)],
  "guidance-accuracy": [
    { name: "cfg accuracy gain s=3 vs s=1", value: 0.15, unit: "fraction", meaning: "paired gain", n: 60, ci: [0.0833, 0.2667], seeds: [2409937542] },
  ],
};

const NB06: StatClaim = {
  source: "06_glide_vs_dalle2_prior",
  claim: "classifier-free guidance beats CLIP guidance on fidelity (GLIDE)",
  effect: "fidelity(CFG) − fidelity(CLIP guidance)",
  direction: "greater",
  spec: { kind: "accuracyDifference", a: "glide-cfg fidelity", b: "glide-clip fidelity", n: 100 },
};

describe("statistical claims on today's items", () => {
  it("every claim that today's numbers decide is reproduced, with its interval in the sentence", () => {
    expect(failingClaims(STAT_CLAIMS, FIXTURE)).toEqual([]);
    const v = judgeClaim(STAT_CLAIMS[1], FIXTURE);
    expect(v.sentence).toMatch(/^Reproduced: s > 1 sharpens .* = \+0\.150, 95% CI \[\+0\.\d{3}, \+0\.\d{3}\], n = 240/);
  });

  it("notebook 06's 'CFG beats CLIP guidance' (83% vs 82% on 100) is inconclusive, so its check fails", () => {
    const v = judgeClaim(NB06, FIXTURE);
    expect(v.label).toBe("inconclusive at n = 200");
    expect(failingClaims([NB06], FIXTURE)).toHaveLength(1);
  });

  it("an item without n and ci cannot decide a claim", () => {
    const c: StatClaim = { source: "03_classifier_free_guidance", claim: "diversity falls with s", effect: "diversity", direction: "less", spec: { kind: "item", item: "cfg diversity s=4" } };
    expect(() => effectInterval(c.spec, FIXTURE[c.source], c.source)).toThrow(/has no ci, so a claim cannot be decided/);
    expect(failingClaims([c], FIXTURE)[0].reason).toMatch(/has no ci/);
    expect(failingClaims([{ ...c, spec: { kind: "item", item: "missing" } }], FIXTURE)[0].reason).toMatch(/no report item "missing"/);
  });
});

describe("flipped report: every claims check fails on it", () => {
  it.each(STAT_CLAIMS.map((c) => [c.claim, c] as const))("%s", (_name, c) => {
    const flipped = flipReport(FIXTURE, STAT_CLAIMS);
    expect(judgeClaim(c, FIXTURE).kind).toBe("reproduced");
    const v = judgeClaim(c, flipped);
    expect(v.kind).toBe("opposite"); // a significant effect flipped is significant the other way
    expect(failingClaims([c], flipped)).toHaveLength(1);
  });

  it("flipping twice restores the report, and leaves unclaimed items alone", () => {
    const once = flipReport(FIXTURE, STAT_CLAIMS);
    const twice = flipReport(once, STAT_CLAIMS);
    for (const [src, items] of Object.entries(FIXTURE)) {
      items.forEach((it, i) => {
        expect(twice[src][i].name).toBe(it.name);
        expect(twice[src][i].value).toBeCloseTo(it.value, 12);
      });
    }
    expect(once["03_classifier_free_guidance"][0].value).toBeCloseTo(1 - 10 / 120, 12);
    expect(once["02_classifier_guidance"][2]).toEqual(FIXTURE["02_classifier_guidance"][2]);
    expect(once["guidance-accuracy"][0]).toMatchObject({ value: -0.15, ci: [-0.2667, -0.0833] });
  });

  it("the current instructor run and the shipped experiment, when present: flipping turns every reproduced claim into a failure", () => {
    const report: Report = {};
    const runFile = path.join(ROOT, "build", "executed", "instructor", "report.json");
    if (fs.existsSync(runFile)) Object.assign(report, JSON.parse(fs.readFileSync(runFile, "utf8")));
    const expFile = path.join(ROOT, "experiments", "guidance-accuracy.json");
    if (fs.existsSync(expFile)) report["guidance-accuracy"] = JSON.parse(fs.readFileSync(expFile, "utf8")).items;
    const claims = STAT_CLAIMS.filter((c) => report[c.source]);
    const flipped = flipReport(report, claims);
    for (const c of claims) {
      let before: string;
      try {
        before = judgeClaim(c, report).kind;
      } catch {
        continue; // items not in this run
      }
      if (before === "reproduced") expect(failingClaims([c], flipped)).toHaveLength(1);
    }
  });
});
