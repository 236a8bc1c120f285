/**
 * The grader under hostile input, one test per class of issue 15 (a grader that nothing a student
 * writes can bring down):
 * - fast checks of each bound on its own (reply channel, decoding, output size, CSV, names,
 *   symlinks and pipes, the assignment of a run);
 * - one batch through the CLI in which EVERY exercise of the course notebook gets each hostile
 *   cell of tests/tools/fixtures/hostile/cases.ts (spread over as few submissions as it takes),
 *   so the suite grows with every new exercise case and class.
 * Each check names what the grader did before the fix (the test fails on it).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { PassThrough } from "stream";
import { referenceNotebook, ROOT, withExercise } from "./fixtures/submissions/materialize";
import { hostileCells, HostileCase } from "./fixtures/hostile/cases";
import { channelBudget, readTokenLines } from "../../tools/grade/sandbox-channel";
import { decode, describe as describeValue } from "../../tools/grade/serialize";
import { gradebookCsv, gradescopeProblems, GradescopeResults, toGradescope } from "../../tools/grade/results";
import { discoverSubmissions } from "../../tools/grade/batch";
import { findExercises, readSubmission, SubmissionError } from "../../tools/grade/extract";
import { outcomeMessage } from "../../tools/grade/feedback";
import { DEFAULT_LIMITS } from "../../tools/grade/sandbox";
import { summaryLine } from "../../tools/grade/text";
import { gradedNotebooks } from "../../tools/grade/load";
import type { GradeReport } from "../../tools/grade/score";
import { Notebook, readNotebook, serializeNotebook } from "../../tools/notebook";
import { gradeCli } from "./gradeCli";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

let dir = "";
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "grade-adv-limits-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const runCli = gradeCli;

describe("the reply channel (before: quadratic re-joining, 512 MiB in all)", () => {
  const feed = async (chunks: () => Iterable<string>, maxReply?: number, budget?: number) => {
    const ch = new PassThrough();
    const got: string[] = [];
    const floods: string[] = [];
    readTokenLines(ch as unknown as import("stream").Duplex, "tok ", (m) => got.push(m), (m) => floods.push(m), budget ? channelBudget(budget) : undefined, maxReply);
    const t0 = Date.now();
    for (const c of chunks()) {
      ch.write(c);
      await new Promise((r) => setImmediate(r));
      if (floods.length > 0) break;
    }
    return { got, floods, ms: Date.now() - t0 };
  };

  test("one 48 MB reply arriving in 16 KB pieces is read in linear time", async () => {
    const piece = "1,".repeat(8192);
    const r = await feed(function* () {
      yield "tok [";
      for (let i = 0; i < 3000; i++) yield piece;
      yield "0]\n";
    }, 64 * 1024 * 1024, 128 * 1024 * 1024);
    expect(r.floods).toEqual([]);
    expect(r.got).toHaveLength(1);
    expect(r.got[0].length).toBe(3000 * piece.length + 3);
    expect(r.ms).toBeLessThan(15_000); // quadratic: ~70 GB of copying
  });

  test("a reply over the per-reply cap, and a newline flood over the per-exercise cap, end the child", async () => {
    const big = await feed(function* () {
      yield "tok ";
      for (let i = 0; i < 1000; i++) yield "x".repeat(1 << 16);
    });
    expect(big.floods).toEqual(["returned a value too large to grade"]);
    const flood = await feed(function* () {
      for (let i = 0; i < 1000; i++) yield "\n".repeat(1 << 16);
    });
    expect(flood.floods).toEqual(["sent too much data to the grader"]);
    expect(flood.ms).toBeLessThan(10_000);
  });
});

describe("decoding and feedback are bounded (before: tf.tensor threw in the grader; 15 MB shapes)", () => {
  test("a tensor with an unknown dtype, a huge rank or too many values is malformed", () => {
    expect(() => decode({ __tensor: { shape: [1], dtype: "evil", data: [1] } })).toThrow(/unknown dtype "evil"/);
    expect(() => decode({ __tensor: { shape: new Array(100).fill(1), dtype: "float32", data: [1] } })).toThrow(/rank 100/);
    expect(describeValue({ shape: new Array(1e6).fill(1), dtype: "float32", dataSync: () => [1], size: 1 }).length).toBeLessThan(100);
  });

  test("an autograder error never leaves passed tests beside a total of 0", () => {
    const report: GradeReport = {
      submission: "x.ipynb", notebook: "01_score_matching", seed: 1, score: 0, maxScore: 2, executionTime: 1,
      exercises: [{ id: "addNoise", score: 0, maxScore: 2, summary: "" }], notes: [], autograderError: "boom",
      tests: [{ exercise: "addNoise", test: "t", score: 2, maxScore: 2, passed: true, output: "passed" }],
    };
    const r = toGradescope(report);
    expect(r.score).toBe(0);
    expect(r.tests.map((t) => [t.status, t.score])).toEqual([["failed", 0]]);
    expect(r.extra_data.exercises.addNoise.score).toBe(0);
  });

  test("summary lines are never cut inside an array; messages and results have size caps", () => {
    const line = `ddimUpdate(xt = [[${"-0.1234, ".repeat(40)}]], epsHat = a 2×2 tensor) [a typical step]: expected [[${"-1.234, ".repeat(30)}]], got [[0]]`;
    const s = summaryLine(line);
    expect(s.length).toBeLessThanOrEqual(160);
    expect(s).not.toMatch(/\[\[-?$|\[\[-? …$/);
    expect((s.match(/\[/g) ?? []).length).toBe((s.match(/\]/g) ?? []).length);
    const huge: GradeReport = {
      submission: "x", notebook: "n", seed: 1, score: 0, maxScore: 1, executionTime: 1, notes: ["\u001b[31mred\u0007"],
      exercises: [{ id: "a", score: 0, maxScore: 1, summary: "x".repeat(1e6) }],
      tests: [{ exercise: "a", test: "t", score: 0, maxScore: 1, passed: false, output: `${ROOT}/tools/x.ts ${"y".repeat(1e6)}` }],
    };
    const r = toGradescope(huge);
    expect(JSON.stringify(r).length).toBeLessThan(30_000);
    expect(JSON.stringify(r)).not.toContain(ROOT);
    expect(r.output).not.toMatch(CONTROL);
  });

  test("timeouts say which limit ran out", () => {
    const total = outcomeMessage("f", { status: "timeout", message: "stopped: the submission's total time limit of 60 s ran out", ms: 1 }, DEFAULT_LIMITS);
    expect(total).toMatch(/the 60 s limit for all of this exercise's tests together ran out/);
    expect(total).not.toMatch(/did not return within 10 s/);
    expect(outcomeMessage("f", { status: "timeout", message: "timed out after 10 s (infinite loop?)", ms: 1 }, DEFAULT_LIMITS)).toMatch(/did not return within 10 s/);
  });

  test("the duplicate-cell message stays short however many copies there are", () => {
    const nb = gradedNotebooks(ROOT)[0];
    const id = nb.exercises[0].id;
    const tagged = Array.from({ length: 5000 }, (_, i) => ({ index: i, id, cellType: "code", source: "" }));
    const found = findExercises(nb, { file: "x", bytes: 1, tagged });
    const f = found[0] as { message: string };
    expect(f.message.length).toBeLessThan(300);
    expect(f.message).toMatch(/appears on 5000 cells/);
  });

  test("gradebook.csv neutralises formulas and control characters", () => {
    const csv = gradebookCsv([{ student: "=HYPERLINK(\"http://x\")", exercises: { a: 1 }, total: 1 }, { student: "@sum\u0007", exercises: { a: 0 }, total: 0 }]);
    expect(csv).toContain("\"'=HYPERLINK(\"\"http://x\"\")\"");
    expect(csv).toContain("'@sum,");
    expect(csv).not.toMatch(CONTROL);
  });
});

describe("odd files (before: dropped silently, or followed)", () => {
  test("symlinks, pipes and sockets each become an entry with a reason; cleaned names never collide", async () => {
    const subs = path.join(dir, "odd");
    fs.mkdirSync(subs);
    const good = path.join(dir, "good.ipynb");
    fs.writeFileSync(good, serializeNotebook(referenceNotebook()));
    fs.copyFileSync(good, path.join(subs, "alice.ipynb"));
    fs.symlinkSync(good, path.join(subs, "link_out.ipynb"));
    fs.symlinkSync(path.join(subs, "alice.ipynb"), path.join(subs, "link_in.ipynb"));
    fs.symlinkSync(dir, path.join(subs, "linkdir"));
    require("child_process").execFileSync("mkfifo", [path.join(subs, "pipe.ipynb")]);
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(path.join(subs, "sock.ipynb"), r));
    fs.copyFileSync(good, path.join(subs, "bad\u0007name.ipynb"));
    fs.copyFileSync(good, path.join(subs, "bad_name.ipynb"));
    try {
      const t0 = Date.now();
      const entries = discoverSubmissions(subs);
      const by = Object.fromEntries(entries.map((e) => [e.student, e]));
      expect(Object.keys(by).sort()).toEqual(["alice", "bad_name", "bad_name_2", "link_in", "link_out", "linkdir", "pipe", "sock"]);
      for (const s of ["link_in", "link_out", "linkdir"]) expect(by[s].problem).toMatch(/is a symbolic link, not a notebook file/);
      expect(by.pipe.problem).toMatch(/is a named pipe/);
      expect(by.sock.problem).toMatch(/is a socket/);
      for (const e of entries) expect(e.student).not.toMatch(CONTROL);
      // a pipe given directly is refused without blocking, and a link is never followed
      expect(() => readSubmission(path.join(subs, "pipe.ipynb"))).toThrow(SubmissionError);
      expect(() => readSubmission(path.join(subs, "link_out.ipynb"))).toThrow(/symbolic link/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      server.close();
    }
  });
});

test("an unreadable submission gets a student-facing reason, not an autograder failure with a path", () => {
  const f = path.join(dir, "locked.ipynb");
  fs.writeFileSync(f, "{}");
  fs.chmodSync(f, 0o000);
  fs.chmodSync(dir, 0o755);
  const script = `try { require(${JSON.stringify(path.join(ROOT, "tools", "dist", "grade", "extract.js"))}).readSubmission(${JSON.stringify(f)}); console.log("read"); } catch (e) { console.log(e.name + ": " + e.message); }`;
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  // as root the file is readable anyway: read it as an unprivileged user (setpriv), as a grader not running as root would
  const cmd = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script] : [process.execPath, "-e", script];
  const out = require("child_process").execFileSync(cmd[0], cmd.slice(1), { encoding: "utf8" }) as string;
  expect(out.trim()).toBe("SubmissionError: locked.ipynb cannot be read: its file permissions do not allow reading (permission denied). Upload it again as an ordinary file.");
});

/** Submission k gives EVERY exercise its k-th hostile cell (one submission per class). */
function hostileSubmissions(nb: Notebook, exercises: Array<{ id: string; stub: string }>): Array<{ name: string; nb: Notebook; cases: Record<string, HostileCase> }> {
  const perExercise = exercises.map((ex) => hostileCells(ex));
  return perExercise[0].map((first, k) => {
    let sub = nb;
    const cases: Record<string, HostileCase> = {};
    exercises.forEach((ex, i) => {
      cases[ex.id] = perExercise[i][k];
      sub = withExercise(sub, ex.id, perExercise[i][k].source);
    });
    return { name: `hostile_${first.name.replace(/-/g, "_")}`, nb: sub, cases };
  });
}

describe("a batch: every hostile cell in every exercise of notebook 01, another week's notebook, a symlink", () => {
  const nb01 = gradedNotebooks(ROOT).find((n) => n.prefix === "01");
  if (!nb01) throw new Error("notebook 01 not found");
  const subs = hostileSubmissions(referenceNotebook(), nb01.exercises);
  const results = new Map<string, GradescopeResults>();
  let batch: { code: number | null; stdout: string; stderr: string };
  let csv: string[] = [];

  beforeAll(async () => {
    const folder = path.join(dir, "hostile");
    const out = path.join(dir, "hostile-grades");
    fs.mkdirSync(folder);
    for (const s of subs) fs.writeFileSync(path.join(folder, `${s.name}.ipynb`), serializeNotebook(s.nb));
    const other = gradedNotebooks(ROOT).find((n) => n.prefix !== "01");
    if (other) fs.writeFileSync(path.join(folder, "other_week.ipynb"), serializeNotebook(readNotebook(other.file)));
    fs.symlinkSync(path.join(folder, `${subs[0].name}.ipynb`), path.join(folder, "symlinked.ipynb"));
    batch = await runCli([folder, "--out", out, "--jobs", "2", "--quiet", "--assignment", "01", "--limit", "perCallMs=5000", "--limit", "totalMs=30000"]);
    for (const f of fs.readdirSync(out).filter((x) => x.endsWith(".json"))) results.set(f.replace(/\.json$/, ""), JSON.parse(fs.readFileSync(path.join(out, f), "utf8")));
    csv = fs.readFileSync(path.join(out, "gradebook.csv"), "utf8").trim().split("\n");
  }, 280_000);

  test("every submission has a valid results file and one gradebook row; only this assignment's columns", () => {
    expect(batch.code).toBe(0);
    expect([...results.keys()].sort()).toEqual([...subs.map((s) => s.name), "other_week", "symlinked"].sort());
    for (const r of results.values()) expect(gradescopeProblems(r)).toEqual([]);
    expect(csv[0]).toBe(`student,${nb01.exercises.map((e) => e.id).join(",")},total`);
    expect(csv).toHaveLength(results.size + 1);
  });

  test("another week's notebook gets 0 for this assignment, saying which notebook it looks like", () => {
    const r = results.get("other_week") as GradescopeResults;
    expect(r.score).toBe(0);
    expect(r.output).toMatch(/this looks like notebook 0[2-9]; this assignment is 01/);
    expect(Object.keys(r.extra_data.exercises)).toEqual(nb01.exercises.map((e) => e.id));
  });

  test("a symlinked submission is reported to the student, not followed", () => {
    const r = results.get("symlinked") as GradescopeResults;
    expect(r.score).toBe(0);
    expect(r.extra_data.autograder_error).toBeUndefined();
    expect(r.output).toMatch(/symlinked\.ipynb is a symbolic link, not a notebook file/);
  });

  test.each(subs.flatMap((s) => Object.entries(s.cases).map(([id, c]) => [s.name, id, c.name] as const)))("%s: %s (%s) fails alone, with its message", (name, id) => {
    const r = results.get(name) as GradescopeResults;
    const c = (subs.find((s) => s.name === name) as (typeof subs)[number]).cases[id];
    expect(r.extra_data.autograder_error).toBeUndefined();
    const tests = r.tests.filter((t) => t.name.startsWith(`${id}: `));
    expect(tests.every((t) => t.score === 0)).toBe(true);
    expect(tests[0].output).toMatch(c.expect);
  });

  test("no output holds control characters or the grading machine's paths, and every file is small", () => {
    for (const s of subs) {
      const r = results.get(s.name) as GradescopeResults;
      const text = JSON.stringify(r);
      expect(text).not.toContain(ROOT);
      expect(text).not.toContain(os.tmpdir() + "/course-sandbox");
      for (const t of r.tests) expect(t.output).not.toMatch(CONTROL);
      expect(r.output).not.toMatch(CONTROL);
      expect(text.length).toBeLessThan(200_000);
    }
  });
});
