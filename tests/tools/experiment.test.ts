/**
 * `npm run experiment` (tools/dist/experiment.js, built by `npm run build`): the command line,
 * one reduced run of guidance-accuracy (≈ 45 s on 2 cores) with its provenance and statistics,
 * and the agreement check against the shipped full-size file.
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { validateReportItems } from "../../lib/src/report";
import { deriveSeeds } from "../../lib/src/stats/seeds";
import { compareMeasuredItems } from "../../lib/src/stats/agreement";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "tools", "dist", "experiment.js");
const SHIPPED = path.join(ROOT, "experiments", "guidance-accuracy.json");
let tmp: string;

function run(args: string[], timeout = 60000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing; run \`npm run build\` first`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "experiment-cli-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("--help (and no name) prints usage and the experiments, exit 0", () => {
  for (const args of [["--help"], []]) {
    const r = run(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: npm run experiment -- <name>");
    expect(r.stdout).toMatch(/guidance-accuracy\s+CFG accuracy at s = 1 vs s = 3/);
  }
});

test.each([
  [["no-such"], /unknown experiment "no-such"; known: guidance-accuracy/],
  [["guidance-accuracy", "--size", "huge"], /--size must be full or reduced, got huge/],
  [["guidance-accuracy", "--seed", "-1"], /--seed needs a value|--seed needs an integer/],
  [["guidance-accuracy", "--bogus"], /unknown option --bogus/],
  [["guidance-accuracy", "other"], /one experiment at a time/],
])("bad command line %j: clear error, exit 2", (args, msg) => {
  const r = run(args);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(msg);
});

describe("a reduced run", () => {
  let out: string;
  let result: {
    experiment: string;
    size: string;
    provenance: { commit: string; seeds: number[]; masterSeed: number; checkpoints: Record<string, Record<string, string>>; n: number; backend: string; seconds: number; startedAt: string };
    items: { name: string; value: number; ci?: [number, number]; n?: number; seeds?: number[] }[];
    verdicts: { claim: string; label: string; sentence: string }[];
  };
  let stdout: string;

  beforeAll(() => {
    out = path.join(tmp, "reduced.json");
    const r = run(["guidance-accuracy", "--size", "reduced", "--out", out, "--progress", "none"], 115000);
    stdout = r.stdout;
    if (r.code !== 0) throw new Error(`reduced run failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    result = JSON.parse(fs.readFileSync(out, "utf8"));
  }, 120000);

  test("records its provenance: commit, seeds, checkpoint sha256, n, backend, time", () => {
    expect(result.experiment).toBe("guidance-accuracy");
    expect(result.size).toBe("reduced");
    const p = result.provenance;
    expect(p.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(p.masterSeed).toBe(14);
    expect(p.seeds).toEqual(deriveSeeds(14, 1));
    expect(p.n).toBe(60);
    expect(["tensorflow", "wasm", "cpu"]).toContain(p.backend);
    expect(p.seconds).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(p.startedAt))).toBe(false);
    for (const ck of ["fmnist-unet", "fmnist-clf-clean"]) {
      for (const file of ["manifest.json", "weights.bin"]) {
        const sha = createHash("sha256").update(fs.readFileSync(path.join(ROOT, "checkpoints", ck, file))).digest("hex");
        expect(p.checkpoints[ck][file]).toBe(sha);
      }
    }
  });

  test("reports every statistic with n, a valid interval and the seeds, and a verdict from the paired interval", () => {
    expect(() => validateReportItems(result.items)).not.toThrow();
    expect(result.items.map((i) => i.name)).toEqual(["cfg accuracy s=1", "cfg accuracy s=3", "cfg accuracy gain s=3 vs s=1", "cfg accuracy gain s=3 vs s=1 (unpaired)"]);
    for (const it of result.items) {
      expect(it.n).toBe(it.name.includes("unpaired") ? 120 : 60);
      expect(it.ci).toHaveLength(2);
      expect(it.seeds).toEqual(result.provenance.seeds);
    }
    const [a1, a3, gain] = result.items;
    expect(gain.value).toBeCloseTo(a3.value - a1.value, 12);
    expect(result.verdicts).toHaveLength(1);
    const v = result.verdicts[0];
    expect(v.claim).toBe("s > 1 sharpens class specificity");
    const expected = gain.ci![0] > 0 ? "reproduced" : gain.ci![1] < 0 ? "not reproduced (significant, opposite)" : "inconclusive at n = 60";
    expect(v.label).toBe(expected);
    expect(v.sentence).toContain(`n = 60, 1 seed (${result.provenance.seeds[0]})`);
  });

  test("agrees with the shipped full-size file within the intervals (when one is shipped)", () => {
    if (!fs.existsSync(SHIPPED)) {
      expect(stdout).toContain("to check against");
      return;
    }
    const shipped = JSON.parse(fs.readFileSync(SHIPPED, "utf8"));
    expect(shipped.size).toBe("full");
    const cmp = compareMeasuredItems(shipped.items, result.items);
    expect(cmp.items.filter((i) => !i.agree)).toEqual([]);
    expect(stdout).toMatch(/agrees with experiments\/guidance-accuracy\.json within the intervals/);
  });

  test("--check: a file agrees with itself, and disagrees with a reference whose accuracies are shifted (exit 1)", () => {
    const same = run(["guidance-accuracy", "--check", out, "--against", out]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/agrees with .* within the intervals/);
    const shifted = JSON.parse(JSON.stringify(result));
    for (const it of shifted.items) {
      const d = it.value < 0.5 ? 0.45 : -0.45;
      it.value += d;
      it.ci = [it.value - 0.01, it.value + 0.01];
    }
    const ref = path.join(tmp, "shifted.json");
    fs.writeFileSync(ref, JSON.stringify(shifted));
    const bad = run(["guidance-accuracy", "--check", out, "--against", ref]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("DISAGREES: cfg accuracy s=1");
    const missing = run(["guidance-accuracy", "--check", path.join(tmp, "none.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot check/);
  });
});
