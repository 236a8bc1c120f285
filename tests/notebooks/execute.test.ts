/**
 * Every notebook executes headless through the tslab kernel, within its time budget (stretched
 * on a machine slower than the reference one, as the runner does: tools/speed.ts):
 *  - instructor mode (solutions substituted): every cell passes;
 *    and the headline figures it reports (report.json) satisfy the claims in ./claims.ts;
 *  - student mode (stubs as released): Run All executes every cell without an error (the checks
 *    run the stubs through lib's `tryExercise`, which says "not implemented yet" in one line and
 *    goes on with the library's version), and the run lists every exercise as unfinished.
 * Executed copies go to a temp dir; the committed notebooks are never written.
 *
 * The instructor check reuses the run `npm start` recorded in build/executed/instructor
 * (summary.json, report.json) when the content hashes of its inputs that the runner recorded
 * (code cells with solutions, lib/dist, checkpoints, datasets, package-lock.json:
 * tools/jupyter/inputs.ts) equal today's; it says which runs it reused and why it did not.
 * COURSE_REUSE_EXECUTED=0 executes every notebook regardless.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exerciseCells, readNotebook } from "../../tools/notebook";
import { defaultRunOptions, NOTEBOOK_PATTERN, NotebookRun, prepareNotebook, runNotebook, RunOptions } from "../../tools/run";
import { changedInputs, runInputs } from "../../tools/jupyter/inputs";
import { CLAIMS } from "./claims";
import { MAX_FACTOR, machineSpeed } from "../../tools/speed";

const ROOT = path.resolve(__dirname, "..", "..");
const NOTEBOOKS = path.join(ROOT, "notebooks");
const notebooks = fs.existsSync(NOTEBOOKS) ? fs.readdirSync(NOTEBOOKS).filter((n) => NOTEBOOK_PATTERN.test(n)).sort() : [];
const out = fs.mkdtempSync(path.join(os.tmpdir(), "nb-execute-"));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const speed = machineSpeed();
console.log(`machine speed: calibration ${speed.ms === null ? "skipped (COURSE_SPEED_FACTOR)" : `${Math.round(speed.ms)} ms`} → budgets × ${speed.factor}`);

function options(mode: RunOptions["mode"]): RunOptions {
  return defaultRunOptions({ mode, out, solutionsDir: path.join(ROOT, "solutions"), speedFactor: speed.factor, quiet: true, logError: () => undefined });
}

function budgetOf(file: string): number {
  const course = readNotebook(file).metadata.course as { budget_s?: unknown } | undefined;
  return typeof course?.budget_s === "number" ? course.budget_s : 600;
}

/**
 * The instructor run `npm start` recorded for this notebook, if its inputs are unchanged (else
 * undefined, with the reason logged).
 */
function recordedRun(file: string): Pick<NotebookRun, "status" | "cells" | "executed" | "seconds" | "budgetS" | "report" | "failures"> | undefined {
  const stem = path.basename(file, ".ipynb");
  if (process.env.COURSE_REUSE_EXECUTED === "0") return undefined;
  const dir = path.join(ROOT, "build", "executed", "instructor");
  const not = (why: string) => {
    console.log(`${stem}: executing the instructor notebook (${why})`);
    return undefined;
  };
  let summary: Record<string, unknown> | undefined;
  let report: unknown;
  try {
    summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"))[stem];
    report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"))[stem];
  } catch {
    return not(`no run recorded in ${path.relative(ROOT, dir)}`);
  }
  if (!summary || summary.mode !== "instructor" || !Array.isArray(report) || typeof summary.budgetS !== "number") return not("no run of it recorded");
  if (summary.status !== "ok") return not(`the recorded run ended "${String(summary.status)}"`);
  const changed = changedInputs(summary.inputs, runInputs(prepareNotebook(file, options("instructor")), ROOT));
  if (changed.length > 0) return not(`changed since the recorded run: ${changed.join(", ")}`);
  console.log(`${stem}: reusing the instructor run recorded by npm start (its inputs are unchanged)`);
  const s = summary as { status: NotebookRun["status"]; cells: number; executed: number; seconds: number; budgetS: number; failures?: NotebookRun["failures"] };
  return { status: s.status, cells: s.cells, executed: s.executed, seconds: s.seconds, budgetS: s.budgetS, failures: s.failures ?? [], report: report as NotebookRun["report"] };
}

function describeFailures(run: Pick<NotebookRun, "failures">): string {
  return run.failures.map((f) => `cell ${f.cell}: ${f.message.split("\n").slice(0, 3).join(" | ")}`).join("\n");
}

if (notebooks.length === 0) {
  test.skip("no notebooks/NN_*.ipynb yet: nothing to execute", () => undefined);
}

describe.each(notebooks)("%s", (name) => {
  const file = path.join(NOTEBOOKS, name);
  const stated = budgetOf(file);
  const budget = Math.round(stated * speed.factor);

  test(`instructor mode passes within its budget (${stated} s on the reference machine)`, async () => {
    const run = recordedRun(file) ?? (await runNotebook(file, options("instructor")));
    if (run.status !== "ok") throw new Error(`${name} (instructor): ${run.status}\n${describeFailures(run)}`);
    expect(run.executed).toBe(run.cells);
    // a reused run was held to the budget npm start stretched by its own timing of the machine
    expect(run.seconds).toBeLessThanOrEqual(Math.max(run.budgetS, budget));
    expect(run.budgetS).toBeLessThanOrEqual(stated * MAX_FACTOR);
    const stem = name.replace(/\.ipynb$/, "");
    const items = new Map<string, number>(run.report.map((i): [string, number] => [i.name, Number(i.value)])); // what report.json records
    const broken = (CLAIMS[stem] ?? []).filter((c) => !items.has(c.item) || !c.holds(items.get(c.item) as number, items));
    const why = broken.map((c) => `${c.item} = ${items.get(c.item) ?? "missing"}: expected ${c.says}`).join("\n");
    expect(why).toBe("");
  }, (budget + 60) * 1000);

  // Student mode checks that Run All gets through, not speed: it runs beside other suites, so it gets twice the budget.
  test("student mode: Run All executes every cell without an error and lists every exercise as unfinished", async () => {
    const run = await runNotebook(file, { ...options("student"), budgetS: 2 * budget });
    if (run.status !== "ok") throw new Error(`${name} (student): ${run.status}\n${describeFailures(run)}`);
    expect(run.failures).toEqual([]);
    expect(run.executed).toBe(run.cells);
    expect(run.unfinished).toEqual(exerciseCells(readNotebook(file)).map((ex) => ex.id));
  }, (2 * budget + 60) * 1000);
});
