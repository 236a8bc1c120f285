/**
 * The headless runner end to end: the CLI (tools/dist/run.js, built by `npm run build`) on the
 * fixture notebooks through real tslab kernels, plus the kernel client itself.
 * Kernel starts (~1.5 s each) are the cost; runs are grouped so the file takes ~30 s.
 */
import { spawnSync } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultKernelArgv, KernelClient } from "../../tools/jupyter/kernel";
import { stripExport } from "../../tools/exercises";
import { defaultRunOptions, runNotebook } from "../../tools/run";
import { joinText, Notebook, readNotebook } from "../../tools/notebook";

const ROOT = path.resolve(__dirname, "..", "..");
const RUN_JS = path.join(ROOT, "tools", "dist", "run.js");
const FIX = path.join(__dirname, "fixtures");
const NB = (name: string) => path.join(FIX, "notebooks", name);
const SOLUTIONS = path.join(FIX, "solutions");

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI with a marker in its environment (to find orphaned kernels afterwards). Budgets are
 * taken as stated (COURSE_SPEED_FACTOR=1) unless `env` says otherwise.
 */
function cli(args: string[], marker = randomUUID(), env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): CliResult {
  if (!fs.existsSync(RUN_JS)) throw new Error(`${RUN_JS} missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [RUN_JS, ...args], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, COURSE_SPEED_FACTOR: "1", COURSE_TEST_MARKER: marker, ...env }, timeout: timeoutMs,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Processes whose environment holds `marker` (Linux /proc; empty elsewhere). */
function processesWithMarker(marker: string): number[] {
  if (!fs.existsSync("/proc/self/environ")) return [];
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, "utf8").includes(`COURSE_TEST_MARKER=${marker}`);
    } catch {
      return false;
    }
  });
}

function noStackFrames(r: CliResult): void {
  expect(r.stdout).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

function snapshot(files: string[]): Array<[string, string, number]> {
  return files.map((f) => [f, fs.readFileSync(f, "base64"), fs.statSync(f).mtimeMs]);
}

const made: string[] = [];
const tmp = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "run-test-"));
  made.push(dir);
  return dir;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const json = <T>(file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as T;
/** summary.json of a CLI run; if the run wrote none, say how the CLI ended and what it printed. */
function summaryOf(r: CliResult, file: string): Summary {
  if (!fs.existsSync(file)) {
    const tail = (s: string) => (s ?? "").split("\n").slice(-25).join("\n");
    throw new Error(`the CLI wrote no ${file} (exit code ${r.code}; null: killed by the spawn timeout)\nstdout:\n${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`);
  }
  return json<Summary>(file);
}
const text = (nb: Notebook, cell: number) => JSON.stringify(nb.cells[cell - 1].outputs);

interface Summary {
  [name: string]: { status: string; cells: number; executed: number; failures: Array<{ cell: number; executionCount: number | null; message: string; causedBy?: number }> };
}

describe("bad input: exit code 2, a clear message, nothing run", () => {
  test("--help", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: node tools\/dist\/run\.js/);
  });

  test.each([
    [["--bogus", "x.ipynb"], /run: unknown option --bogus/],
    [[], /run: no notebooks given/],
    [[NB("nope.ipynb")], /nope\.ipynb: cannot read notebook \(no such file\)/],
    [[path.join(FIX, "bad", "malformed.ipynb")], /malformed\.ipynb: not valid JSON \(.*line 3, column \d+\)/],
    [[path.join(FIX, "bad", "schema_invalid.ipynb")], /not a valid nbformat 4\.5 notebook:\n {2}cells\[0\]: must have required property 'outputs'/],
    [[path.join(FIX, "bad", "v3.ipynb")], /not an nbformat 4 notebook/],
    [[NB("01_good.ipynb"), "--solutions", path.join(FIX, "bad")], /01_good\.ipynb has exercise cells but its solutions file .*01_good\.ts cannot be read/],
    [[NB("01_good.ipynb"), "--speed-factor", "0.5"], /--speed-factor must be a number from 1 to 4 \(got '0\.5'\)/],
    // a bad notebook anywhere in the list stops everything before a kernel starts
    [[NB("02_fails.ipynb"), NB("nope.ipynb")], /nope\.ipynb: cannot read notebook/],
  ])("%j", (args, re) => {
    const r = cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stdout).not.toContain("▶");
    noStackFrames(r);
  });

  test("refuses an --out that would write over the sources", () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, "instructor"));
    const src = path.join(dir, "instructor", "02_fails.ipynb");
    fs.copyFileSync(NB("02_fails.ipynb"), src);
    const before = snapshot([src]);
    const r = cli([src, "--out", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to write executed notebooks into .*instructor/);
    expect(snapshot([src])).toEqual(before);
  });
});

describe("instructor mode", () => {
  const out = tmp();
  const sources = [NB("01_good.ipynb"), NB("02_fails.ipynb")];
  const before = snapshot(sources);
  let r: CliResult;
  beforeAll(() => {
    r = cli([...sources, "--out", out, "--solutions", SOLUTIONS]);
  });

  test("exit 1 (02 fails); progress and summary table printed; no runner stack", () => {
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/▶ 01_good \(instructor, budget 120 s\)/);
    expect(r.stdout).toMatch(/^ {2}\[7\/7\] cell 9 ✓ \d+\.\ds$/m);
    expect(r.stdout).toMatch(/^01_good\s+7\/7\s+\d+\.\d\s+ok$/m);
    expect(r.stdout).toMatch(/^02_fails\s+2\/4\s+\d+\.\d\s+failed$/m);
    expect(r.stderr).toContain("02_fails.ipynb cell 3 (In [2]): Error: boom from cell 3");
    noStackFrames(r);
  });

  test("sources untouched; executed copies written under --out", () => {
    expect(snapshot(sources)).toEqual(before);
    const nb = readNotebook(path.join(out, "instructor", "01_good.ipynb"));
    expect(joinText(nb.cells[5].source)).toContain("return 2 * x;"); // solution substituted
    expect(joinText(nb.cells[5].source)).not.toContain("export");
    expect(text(nb, 3)).toContain("hello from the kernel\\n");
    expect(text(nb, 7)).toContain("double(21) = 42");
    expect(nb.cells[7].outputs).toEqual([{ output_type: "display_data", data: { "text/plain": ["step 5/5"] }, metadata: {} }]);
    expect(nb.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5, 6, 7, null]);
    expect(nb.metadata.language_info).toMatchObject({ name: "typescript" });
  });

  test("stops at the first failure, like nbconvert", () => {
    const nb = readNotebook(path.join(out, "instructor", "02_fails.ipynb"));
    expect(nb.cells[2].execution_count).toBe(2);
    expect(text(nb, 3)).toContain("boom from cell 3");
    expect(nb.cells[3].execution_count).toBeNull();
    expect(nb.cells[4].outputs).toEqual([]);
  });

  test("summary.json and report.json", () => {
    const summary = summaryOf(r, path.join(out, "instructor", "summary.json"));
    expect(summary["01_good"]).toMatchObject({ status: "ok", cells: 7, executed: 7, failures: [] });
    expect(summary["02_fails"]).toMatchObject({ status: "failed", cells: 4, executed: 2, failures: [{ cell: 3, executionCount: 2, message: "Error: boom from cell 3" }] });
    expect(json(path.join(out, "instructor", "report.json"))).toEqual({
      "01_good": [{ name: "answer", value: 42, unit: "", meaning: "double(21)" }],
      "02_fails": [],
    });
  });
});

describe("student mode: keeps going, records every failure; timeouts stop and kill", () => {
  const out = tmp();
  const marker = randomUUID();
  let r: CliResult;
  let summary: Summary;
  beforeAll(() => {
    r = cli([NB("01_good.ipynb"), NB("02_fails.ipynb"), NB("03_loop.ipynb"), "--mode", "student", "--cell-timeout", "3", "--out", out], marker);
    summary = summaryOf(r, path.join(out, "student", "summary.json"));
  });

  test("exit 1, no stack frames, every failure printed", () => {
    expect(r.code).toBe(1);
    noStackFrames(r);
    expect(r.stderr).toContain("01_good.ipynb cell 7 (In [5]): Error: not implemented: double");
    expect(r.stderr).toMatch(/01_good\.ipynb cell 9 \(In \[7\]\): 2:31 - Cannot find name 'answer'\.[\s\S]*\(follows from the failure of cell 7\)/);
    expect(r.stderr).toContain("02_fails.ipynb cell 4 (In [3]): 1:7 - Type 'string' is not assignable to type 'number'.");
    expect(r.stderr).toContain("03_loop.ipynb cell 2 (In [2]): timed out after 3 s");
  });

  test("the stub fails with 'not implemented'; later uses are marked as knock-on failures", () => {
    expect(summary["01_good"]).toMatchObject({ status: "failed", executed: 7 });
    expect(summary["01_good"].failures.map((f) => [f.cell, f.causedBy])).toEqual([[7, undefined], [9, 7]]);
  });

  test("a throw and a tslab type error are both failures, and the cell after them still runs", () => {
    expect(summary["02_fails"].failures.map((f) => f.cell)).toEqual([3, 4]);
    expect(summary["02_fails"].executed).toBe(4);
    expect(text(readNotebook(path.join(out, "student", "02_fails.ipynb")), 5)).toContain("after");
  });

  test("an infinite loop times out, stops the notebook, and leaves no kernel behind", () => {
    expect(summary["03_loop"]).toMatchObject({ status: "timeout", executed: 2, failures: [{ cell: 2, message: "timed out after 3 s" }] });
    expect(processesWithMarker(marker)).toEqual([]);
  });
});

describe("exercise checks (lib's tryExercise): Run All gets through the stubs, and the runner lists them", () => {
  const out = tmp();
  let student: CliResult;
  let instructor: CliResult;
  let sum: Record<string, { status: string; failures: Array<{ cell: number; message: string }>; unfinished: string[]; inputs: Record<string, string> }>;
  beforeAll(() => {
    // two notebooks that import @course/lib (TensorFlow.js) per run: more than the 90 s of the others under load
    student = cli([NB("05_exercises.ipynb"), NB("06_student_error.ipynb"), "--mode", "student", "--out", out], undefined, {}, 240_000);
    instructor = cli([NB("05_exercises.ipynb"), NB("06_student_error.ipynb"), "--out", out, "--solutions", SOLUTIONS], undefined, {}, 240_000);
    sum = { ...summaryOf(student, path.join(out, "student", "summary.json")) } as unknown as typeof sum;
  }, 500_000);

  test("student mode: stubs are unfinished exercises, not failures; every cell runs; the library's version stands in", () => {
    expect(sum["05_exercises"]).toMatchObject({ status: "ok", failures: [], unfinished: ["triple", "half"], executed: 6 });
    expect(student.stdout).toMatch(/^05_exercises\s+6\/6\s+\d+\.\d\s+ok · 2 exercises to do$/m);
    expect(student.stdout).toMatch(/unfinished exercises[^\n]*\n {2}05_exercises: triple, half$/m);
    expect(student.stdout).toMatch(/^ {2}\[3\/6\] cell 4 ✓ \d+\.\ds {2}✏️ triple not implemented yet \(the library's version ran instead\)$/m);
    const nb = readNotebook(path.join(out, "student", "05_exercises.ipynb"));
    expect(text(nb, 4)).toContain("✏️ `triple` is not implemented yet — edit the cell above; below: the library's version until yours works");
    expect(text(nb, 4)).toContain("tripled = 42");
    expect(text(nb, 6)).toContain("✏️ `half` is not implemented yet — edit the cell above");
    expect(JSON.stringify(nb.cells.map((c) => c.outputs ?? []))).not.toMatch(/evalmachine|\bat Object\.|node_modules/);
    expect(json<Record<string, unknown[]>>(path.join(out, "student", "report.json"))["05_exercises"]).toEqual([{ name: "tripled", value: 42, unit: "", meaning: "triple(14), or the library's 42" }]);
  });

  test("an error from the student's code: its message and the line of the student's function, no stack; a failure with its reason", () => {
    expect(sum["06_student_error"]).toMatchObject({ status: "failed", unfinished: [] });
    const reason = "your norm failed: Cannot read properties of undefined (reading 'length') (at: const wrong = p.z.length;)";
    expect(sum["06_student_error"].failures).toEqual([{ cell: 4, executionCount: 3, message: reason }]);
    expect(student.stdout).toContain(`cell 4 ✗`);
    expect(student.stdout).toContain(`  ${reason}`);
    expect(student.stderr).toContain(`06_student_error.ipynb cell 4 (In [3]): ${reason}`);
    const nb = readNotebook(path.join(out, "student", "06_student_error.ipynb"));
    expect(text(nb, 4)).toContain("✗ your `norm` failed: Cannot read properties of undefined (reading 'length')");
    expect(text(nb, 4)).toContain("    at: const wrong = p.z.length;");
    expect(text(nb, 5)).toContain("still running, n = 5"); // the cell after it ran, with the fallback
    noStackFrames(student);
    expect(student.code).toBe(1);
  });

  test("instructor mode: solutions leave no status line; any status line is a failure", () => {
    const isum = json<typeof sum>(path.join(out, "instructor", "summary.json"));
    expect(isum["05_exercises"]).toMatchObject({ status: "ok", failures: [], unfinished: [] });
    const nb = readNotebook(path.join(out, "instructor", "05_exercises.ipynb"));
    expect(text(nb, 4)).toContain("tripled = 42");
    expect(text(nb, 4)).not.toContain("not implemented");
    expect(isum["06_student_error"].status).toBe("failed");
    expect(instructor.code).toBe(1);
  });

  test("summary.json records the content hashes of the run's inputs; the code hash follows the mode", () => {
    const isum = json<typeof sum>(path.join(out, "instructor", "summary.json"));
    for (const s of [sum["05_exercises"], isum["05_exercises"]]) {
      expect(Object.keys(s.inputs).sort()).toEqual(["checkpoints", "code", "datasets", "lib", "lockfile"]);
      for (const v of Object.values(s.inputs)) expect(v).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(isum["05_exercises"].inputs.code).not.toBe(sum["05_exercises"].inputs.code); // solutions substituted
    expect(isum["06_student_error"].inputs.code).toBe(sum["06_student_error"].inputs.code); // no exercise cells
  });
});

describe("a slower machine stretches the notebooks' stated budgets (tools/speed.ts)", () => {
  test("COURSE_SPEED_FACTOR=2: 01_good's 120 s become 240 s, and summary.json records both", () => {
    const out = tmp();
    const r = cli([NB("01_good.ipynb"), "--out", out, "--solutions", SOLUTIONS], undefined, { COURSE_SPEED_FACTOR: "2" });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/▶ 01_good \(instructor, budget 120 s × 2 = 240 s\)/);
    expect(r.stdout).not.toContain("machine speed:"); // the override skips the timing
    expect(summaryOf(r, path.join(out, "instructor", "summary.json"))["01_good"]).toMatchObject({ status: "ok", budgetS: 240, speedFactor: 2 });
  });

  test("an explicit --budget is taken as given", () => {
    const r = cli([NB("01_good.ipynb"), "--out", tmp(), "--solutions", SOLUTIONS, "--budget", "50"], undefined, { COURSE_SPEED_FACTOR: "2" });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/▶ 01_good \(instructor, budget 50 s\)/);
  });

  test("without an override the CLI times this machine and says what it found", () => {
    const out = tmp();
    const r = cli([NB("01_good.ipynb"), "--out", out, "--solutions", SOLUTIONS], undefined, { COURSE_SPEED_FACTOR: "" });
    expect(r.code).toBe(0);
    const m = /^machine speed: calibration \d+ ms \(reference machine \d+ ms\) → (?:budgets as stated|budgets × ([\d.]+))$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const factor = m && m[1] ? Number(m[1]) : 1;
    expect(summaryOf(r, path.join(out, "instructor", "summary.json"))["01_good"]).toMatchObject({ budgetS: Math.round(120 * factor), speedFactor: factor });
  });

  test.each(["0.5", "9", "fast"])("COURSE_SPEED_FACTOR=%s: exit 2 before any kernel starts", (value) => {
    const r = cli([NB("01_good.ipynb"), "--out", tmp(), "--solutions", SOLUTIONS], undefined, { COURSE_SPEED_FACTOR: value });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run: COURSE_SPEED_FACTOR must be a number from 1 to 4, got "${value}"`);
    expect(r.stdout).not.toContain("▶");
    noStackFrames(r);
  });
});

describe("library API", () => {
  // 04_slow: two 8 s cells, a 12 s budget that counts the kernel start (2 s idle, 7 s seen on a loaded 2-core VM)
  test("runNotebook: a notebook's metadata budget (12 s) stops it, however long the kernel took to start", async () => {
    const opts = defaultRunOptions({ mode: "student", out: tmp(), cellTimeoutS: 60, quiet: true, logError: () => undefined });
    const run = await runNotebook(NB("04_slow.ipynb"), opts);
    expect(run.budgetS).toBe(12);
    expect(run.status).toBe("budget");
    expect(run.failures[0].message).toMatch(/notebook budget of 12 s (exceeded|used up before this cell)/);
    expect(run.seconds).toBeLessThan(16);
  });

  test("runNotebook: a kernel slower to start than the whole budget ends in 'budget', not a kernel error", async () => {
    const slowKernel = ["bash", "-c", 'sleep 13 && exec "$@"', "slow-kernel", ...defaultKernelArgv()];
    const opts = defaultRunOptions({ mode: "student", out: tmp(), cellTimeoutS: 60, quiet: true, logError: () => undefined, kernelArgv: slowKernel });
    const run = await runNotebook(NB("04_slow.ipynb"), opts);
    expect(run.status).toBe("budget");
    expect(run.failures[0].message).toMatch(/notebook budget of 12 s used up before this cell/);
  });

  test("KernelClient: tslab quirks (export rejected, top-level await, type errors on stderr)", async () => {
    const kernel = await KernelClient.start({ cwd: path.join(FIX, "notebooks") });
    try {
      expect(kernel.kernelInfo).toMatchObject({ implementation: "tslab" });
      const exported = "export function sq(a: number): number { return a * a; }";
      const rejected = await kernel.execute(exported, 30_000);
      expect(rejected.status).toBe("error");
      expect(rejected.errorText).toMatch(/Cannot redeclare exported variable 'sq'/);
      expect((await kernel.execute(stripExport(exported), 30_000)).status).toBe("ok");
      const awaited = await kernel.execute("await new Promise((r) => setTimeout(r, 50));\nsq(7)", 30_000);
      expect(awaited).toMatchObject({ status: "ok", outputs: [{ output_type: "stream", name: "stdout", text: "49\n" }] });
      const typeError = await kernel.execute('const n: number = "a";', 30_000);
      expect(typeError).toMatchObject({ status: "error", errorText: "1:7 - Type 'string' is not assignable to type 'number'." });
      expect(typeError.outputs).toEqual([{ output_type: "stream", name: "stderr", text: "1:7 - Type 'string' is not assignable to type 'number'.\n" }]);
      expect((await kernel.execute("sq(3)", 30_000)).status).toBe("ok"); // right after an error (tslab's 200 ms reset)
    } finally {
      await kernel.shutdown();
    }
    expect(kernel.alive).toBe(false);
  });

  test("KernelClient: a kernel command that dies reports its output", async () => {
    const argv = [process.execPath, "-e", "console.error('kernel exploded'); process.exit(3)", "{connection_file}"];
    await expect(KernelClient.start({ cwd: ROOT, argv })).rejects.toThrow(/exited \(exit code 3\) before it was ready[\s\S]*kernel exploded/);
  });
});
