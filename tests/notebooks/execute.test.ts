/**
 * Every notebook executes headless through the tslab kernel, within its time budget (stretched
 * on a machine slower than the reference one, as the runner does: tools/speed.ts):
 *  - instructor mode (solutions substituted): every cell passes;
 *    and the headline figures it reports (report.json) satisfy the claims in ./claims.ts;
 *  - student mode (stubs as released): every failing cell fails with its own
 *    "not implemented: <id>" stub error (no knock-on failures: cells that use a student's
 *    function must not define names that later cells need), and every exercise shows up.
 * Executed copies go to a temp dir; the committed notebooks are never written.
 *
 * With COURSE_REUSE_EXECUTED=1 (set by .ci/run, which runs `npm start` on the same checkout just
 * before the tests), the instructor check reads the run `npm start` recorded in
 * build/executed/instructor (summary.json, report.json) instead of executing the notebook again,
 * provided that copy is fresh (every cell's source matches the notebook). Elsewhere it executes.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exerciseCells, readNotebook } from "../../tools/notebook";
import { defaultRunOptions, NOTEBOOK_PATTERN, NotebookRun, runNotebook, RunOptions } from "../../tools/run";
import { CLAIMS } from "./claims";
import { MAX_FACTOR, machineSpeed } from "../../tools/speed";
import { Diagnostics } from "../../tools/render/html";
import { copyStatus, loadNotebook } from "../../tools/render/load";

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

/** The instructor run `npm start` recorded for this notebook, when reuse is on and the copy is fresh. */
function recordedRun(file: string): Pick<NotebookRun, "status" | "cells" | "executed" | "seconds" | "budgetS" | "report" | "failures"> | undefined {
  if (process.env.COURSE_REUSE_EXECUTED !== "1") return undefined;
  const dir = path.join(ROOT, "build", "executed", "instructor");
  const stem = path.basename(file, ".ipynb");
  try {
    if (copyStatus(loadNotebook(file, new Diagnostics(() => undefined)), path.join(dir, path.basename(file))) !== "fresh") return undefined;
    const summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"))[stem];
    const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"))[stem];
    if (!summary || summary.mode !== "instructor" || !Array.isArray(report)) return undefined;
    if (typeof summary.budgetS !== "number") return undefined;
    return { status: summary.status, cells: summary.cells, executed: summary.executed, seconds: summary.seconds, budgetS: summary.budgetS, failures: summary.failures ?? [], report };
  } catch {
    return undefined;
  }
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

  // Student mode checks failures, not speed: it runs beside other suites, so it gets twice the budget.
  test(`student mode fails only with "not implemented:", once per exercise at least`, async () => {
    const run = await runNotebook(file, { ...options("student"), budgetS: 2 * budget });
    expect(["ok", "failed"]).toContain(run.status); // no timeout, budget or kernel error
    const stray = run.failures.filter((f) => f.causedBy !== undefined || !f.message.includes("not implemented:"));
    if (stray.length > 0) throw new Error(`${name} (student): failures that are not stubs:\n${describeFailures({ ...run, failures: stray })}`);
    for (const ex of exerciseCells(readNotebook(file))) {
      expect(run.failures.some((f) => f.message.includes(`not implemented: ${ex.id}`))).toBe(true);
    }
  }, (2 * budget + 60) * 1000);
});
