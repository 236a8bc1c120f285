/**
 * The supervising parent of the grader (tools/grade/supervise.ts): whatever happens to the
 * grader process — killed at a random point, starved of memory — every submission still gets a
 * valid results file (single mode) or a results file and a gradebook row (batch), with tests and
 * total that agree. Before it, a killed or out-of-memory grader left no results.json at all.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { referenceNotebook, ROOT } from "./fixtures/submissions/materialize";
import { gradescopeProblems, GradescopeResults } from "../../tools/grade/results";
import { serializeNotebook } from "../../tools/notebook";

const GRADE_JS = path.join(ROOT, "tools", "dist", "grade.js");
const LIMITS = ["--limit", "perCallMs=5000", "--limit", "totalMs=30000"];
let dir = "";

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "grade-supervisor-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The child processes of `pid` (Linux /proc). */
function children(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Run the CLI; `killAfterMs`: SIGKILL the supervised grader (the CLI's child) that long after it appears. */
function run(args: string[], opts: { killAfterMs?: number; env?: Record<string, string> } = {}): Promise<{ code: number | null; stderr: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p: ChildProcess = spawn(process.execPath, [GRADE_JS, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let killed = false;
    p.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    if (opts.killAfterMs !== undefined) {
      const poll = setInterval(() => {
        const kids = p.pid ? children(p.pid) : [];
        if (kids.length === 0) return;
        clearInterval(poll);
        setTimeout(() => {
          killed = children(p.pid as number).includes(kids[0]);
          try {
            process.kill(kids[0], "SIGKILL");
          } catch {
            killed = false;
          }
        }, opts.killAfterMs);
      }, 20);
      p.on("close", () => clearInterval(poll));
    }
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, stderr, killed }));
  });
}

/** A results file is valid and its tests, exercises and total agree. */
function consistent(r: GradescopeResults): void {
  expect(gradescopeProblems(r)).toEqual([]);
  const sum = Math.round(r.tests.reduce((s, t) => s + t.score, 0) * 1e6) / 1e6;
  expect(r.score).toBe(sum);
  for (const t of r.tests) expect(t.score).toBe(t.status === "passed" ? t.max_score : 0);
  if (r.extra_data.autograder_error) expect(r.score).toBe(0);
}

/** Deterministic "random" kill points (a seeded LCG), spread over start-up, compiling and running. */
function killPoints(n: number, seed: number, maxMs: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return Math.round((x / 2 ** 31) * maxMs);
  });
}

describe("single mode: a valid results.json whatever happens to the grader", () => {
  const nb = () => {
    const f = path.join(dir, "01_score_matching.ipynb");
    if (!fs.existsSync(f)) fs.writeFileSync(f, serializeNotebook(referenceNotebook()));
    return f;
  };

  test.each(killPoints(3, 15, 6000))("killed with SIGKILL %i ms after it started", async (ms) => {
    const out = path.join(dir, `killed-${ms}.json`);
    const r = await run([nb(), "--out", out, "--quiet", ...LIMITS], { killAfterMs: ms });
    expect(r.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(out, "utf8")) as GradescopeResults;
    consistent(json);
    if (r.killed) {
      expect(json.extra_data.autograder_error).toMatch(/the grading process ended unexpectedly \(SIGKILL\)/);
      expect(json.output).toMatch(/please tell your instructor/);
    }
  }, 120_000);

  test("starved of memory (a 24 MB heap), it still writes the autograder-error result", async () => {
    const out = path.join(dir, "starved.json");
    const r = await run([nb(), "--out", out, "--quiet", ...LIMITS], { env: { COURSE_GRADE_HEAP_MB: "24" } });
    expect(r.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(out, "utf8")) as GradescopeResults;
    consistent(json);
    expect(json.extra_data.autograder_error).toMatch(/the grader ran out of memory|ended unexpectedly/);
  }, 120_000);
});

describe("batch: a results file and a gradebook row for every submission", () => {
  test("the batch grader killed part-way", async () => {
    const subs = path.join(dir, "batch");
    const out = path.join(dir, "batch-grades");
    fs.mkdirSync(subs);
    for (const s of ["ann", "ben", "cat"]) fs.writeFileSync(path.join(subs, `${s}.ipynb`), serializeNotebook(referenceNotebook()));
    const r = await run([subs, "--out", out, "--jobs", "1", "--quiet", ...LIMITS], { killAfterMs: 2500 });
    expect(r.code).toBe(0);
    for (const s of ["ann", "ben", "cat"]) consistent(JSON.parse(fs.readFileSync(path.join(out, `${s}.json`), "utf8")) as GradescopeResults);
    const csv = fs.readFileSync(path.join(out, "gradebook.csv"), "utf8").trim().split("\n");
    expect(csv.slice(1).map((l) => l.split(",")[0])).toEqual(["ann", "ben", "cat"]);
    if (r.killed) expect(r.stderr).toMatch(/got an autograder-error result \(a rerun regrades them\)/);
  }, 120_000);
});
