/**
 * Headless notebook runner: executes notebooks through the tslab kernel itself (the one Jupyter
 * starts, over the Jupyter protocol — no Python or Jupyter needed) and writes executed copies.
 *
 *   node tools/dist/run.js [notebooks...|--all] [--mode instructor|student] [--out build/executed]
 *        [--cell-timeout 300] [--budget 600] [--speed-factor F] [--solutions solutions] [--keep-going] [--quiet]
 *
 * Instructor mode substitutes solutions/NN_topic.ts into the exercise cells and stops a notebook
 * at its first failing cell (like nbconvert); student mode runs the stubs and records every
 * failure. Check cells run the student's functions through lib's `tryExercise`, which prints a
 * status line (`application/vnd.course.exercise+json`) instead of throwing: in student mode a
 * stub ("todo") is listed as an unfinished exercise, not a failure; an error from the student's
 * code is a failure with its reason, and so is any status line in instructor mode (the
 * solutions must all work). Results: <out>/<mode>/<name>.ipynb, summary.json (with the content
 * hashes of the run's inputs, tools/jupyter/inputs.ts) and report.json (the headline figures
 * that cells display as `application/vnd.course.report+json`).
 * A notebook's `metadata.course.budget_s` holds on the reference machine; the CLI times this
 * machine first (tools/speed.ts) and stretches the budgets on a slower one.
 * Exit code: 0 all ok, 1 a cell failed / timed out / a budget ran out, 2 usage or bad notebook.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { ExerciseError, instructorNotebook } from "./exercises";
import { CellFailure, executeNotebook, NotebookStatus } from "./jupyter/execute";
import { killAllKernels } from "./jupyter/kernel";
import { MAX_FACTOR, REFERENCE_MS, machineSpeed } from "./speed";
import { describeExerciseStatus, ExerciseStatusItem, exerciseStatuses, ReportItem, reportItems } from "./jupyter/outputs";
import { RunInputs, runInputs } from "./jupyter/inputs";
import { Notebook, NotebookError, readNotebook, writeNotebook } from "./notebook";

export { EXERCISE_MIME, REPORT_MIME } from "./jupyter/outputs";
export type { ExerciseStatusItem, ReportItem } from "./jupyter/outputs";

/** instructor: solutions substituted, stop at the first failure; student: stubs, record all failures. */
export type Mode = "instructor" | "student";

/** Runner settings (the CLI flags). */
export interface RunOptions {
  mode: Mode;
  /** Executed notebooks go to `<out>/<mode>/`. */
  out: string;
  cellTimeoutS: number;
  /** Per-notebook budget; undefined: the notebook's `metadata.course.budget_s`, else 600 s. */
  budgetS?: number;
  /**
   * How much slower this machine is than the one the notebooks' budgets were set on (tools/speed.ts):
   * a `metadata.course.budget_s` is multiplied by it; an explicit `budgetS` is not. Default 1.
   */
  speedFactor: number;
  solutionsDir: string;
  keepGoing: boolean;
  quiet: boolean;
  /** Kernel argv override with `{connection_file}`; default: kernel.json's. */
  kernelArgv?: string[];
  /** Progress lines (stdout) and failures (stderr). */
  log: (line: string) => void;
  logError: (line: string) => void;
}

/** Bad command line or output location (exit code 2). */
export class UsageError extends Error {
  constructor(message: string, readonly showUsage = false) {
    super(message);
    this.name = "UsageError";
  }
}

/** Notebooks that --all picks: notebooks/NN_*.ipynb. */
export const NOTEBOOK_PATTERN = /^\d\d_.+\.ipynb$/;

/** The CLI's help text. */
export const USAGE = `usage: node tools/dist/run.js [notebooks...|--all] [options]

Execute notebooks headless through the tslab kernel (no Python/Jupyter needed).

  --all                 every notebooks/NN_*.ipynb, in order
  --mode M              instructor (solutions substituted, stop at first failure; default)
                        or student (stubs as released: record every failure; exercises whose
                        check said "not implemented yet" are listed as unfinished, not failures)
  --out DIR             write <DIR>/<mode>/<name>.ipynb, summary.json, report.json
                        (default build/executed)
  --cell-timeout S      per-cell timeout in seconds (default 300); a timeout stops the notebook
  --budget S            per-notebook time budget in seconds (default: the notebook's
                        metadata.course.budget_s, stretched on a machine slower than the
                        one it was set on, else 600)
  --speed-factor F      stretch metadata budgets by F (1 to 4) instead of timing this
                        machine first (~1.5 s; the env var COURSE_SPEED_FACTOR does the same)
  --solutions DIR       solutions directory (default solutions)
  --keep-going          continue after a failing cell in instructor mode too
  --quiet               no per-cell progress lines
  --kernel-cmd CMD      kernel command (JSON array or words) containing {connection_file}
  --notebooks-dir DIR   where --all looks (default notebooks)
  --help                this text

exit code: 0 all ok (in student mode: unfinished exercises allowed); 1 a cell failed, an
exercise check reported an error, a cell timed out or a budget ran out; 2 usage error or a
missing or malformed notebook (nothing is run then).`;

/** The repository root (the folder with package.json above tools/ or tools/dist/). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Runner options with the CLI's defaults (paths under the repository root), then `over`. */
export function defaultRunOptions(over: Partial<RunOptions> = {}): RunOptions {
  const root = repoRoot();
  return {
    mode: "instructor", out: path.join(root, "build", "executed"), cellTimeoutS: 300, solutionsDir: path.join(root, "solutions"),
    keepGoing: false, quiet: false, speedFactor: 1, log: (l) => console.log(l), logError: (l) => console.error(l), ...over,
  };
}

/** Parse the command line; throws {@link UsageError}. */
export function parseArgs(argv: string[]): { opts: RunOptions; files: string[]; help: boolean; speedFactor?: number } {
  const root = repoRoot();
  const opts = defaultRunOptions();
  let all = false;
  let help = false;
  let notebooksDir = path.join(root, "notebooks");
  let speedFactor: number | undefined;
  const files: string[] = [];
  const args = argv.flatMap((a) => (/^--[\w-]+=/.test(a) ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`, true);
      return v;
    };
    const seconds = () => {
      const v = value();
      const n = Number(v);
      if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${a} must be a positive number of seconds (got '${v}')`);
      return n;
    };
    if (a === "--help" || a === "-h") help = true;
    else if (a === "--all") all = true;
    else if (a === "--mode") {
      const m = value();
      if (m !== "instructor" && m !== "student") throw new UsageError(`--mode must be instructor or student (got '${m}')`);
      opts.mode = m;
    } else if (a === "--out") opts.out = path.resolve(value());
    else if (a === "--cell-timeout") opts.cellTimeoutS = seconds();
    else if (a === "--budget") opts.budgetS = seconds();
    else if (a === "--speed-factor") {
      const v = value();
      const f = Number(v);
      if (!(f >= 1 && f <= MAX_FACTOR)) throw new UsageError(`--speed-factor must be a number from 1 to ${MAX_FACTOR} (got '${v}')`);
      speedFactor = f;
    }
    else if (a === "--solutions") opts.solutionsDir = path.resolve(value());
    else if (a === "--notebooks-dir") notebooksDir = path.resolve(value());
    else if (a === "--keep-going") opts.keepGoing = true;
    else if (a === "--quiet") opts.quiet = true;
    else if (a === "--kernel-cmd") opts.kernelArgv = parseKernelCmd(value());
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`, true);
    else files.push(a);
  }
  if (help) return { opts, files, help, speedFactor };
  if (all && files.length > 0) throw new UsageError("give notebook paths or --all, not both", true);
  if (all) {
    const names = fs.existsSync(notebooksDir) ? fs.readdirSync(notebooksDir).filter((n) => NOTEBOOK_PATTERN.test(n)).sort() : [];
    if (names.length === 0) throw new UsageError(`--all: no NN_*.ipynb notebooks in ${notebooksDir}`);
    files.push(...names.map((n) => path.join(notebooksDir, n)));
  }
  if (files.length === 0) throw new UsageError("no notebooks given (name them, or use --all)", true);
  return { opts, files, help, speedFactor };
}

function parseKernelCmd(cmd: string): string[] {
  let argv: unknown;
  try {
    argv = cmd.trim().startsWith("[") ? JSON.parse(cmd) : cmd.trim().split(/\s+/);
  } catch {
    throw new UsageError(`--kernel-cmd: not a JSON array: ${cmd}`);
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((x) => typeof x === "string")) throw new UsageError("--kernel-cmd: empty or not a list of strings");
  if (!argv.some((x: string) => x.includes("{connection_file}"))) throw new UsageError("--kernel-cmd must contain {connection_file}");
  return argv as string[];
}

/** Every report item displayed by the notebook's outputs, in cell order. */
export function collectReport(nb: Notebook): ReportItem[] {
  return nb.cells.flatMap((c) => reportItems(c.outputs ?? []));
}

/** Update a JSON object file with `entries` (other keys kept, so single-notebook runs accumulate). */
function mergeJson(file: string, entries: Record<string, unknown>): void {
  let prev: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) prev = parsed as Record<string, unknown>;
  } catch {
    // absent or unreadable: start afresh
  }
  fs.writeFileSync(file, JSON.stringify({ ...prev, ...entries }, null, 1) + "\n");
}

/** Result of running one notebook. */
export interface NotebookRun {
  name: string;
  path: string;
  mode: RunOptions["mode"];
  status: NotebookStatus;
  cells: number;
  executed: number;
  failures: CellFailure[];
  seconds: number;
  budgetS: number;
  kernelStartupMs: number | null;
  /** Where the executed notebook was written. */
  output: string;
  report: ReportItem[];
  /** Exercises whose stub was still in place (student mode), in notebook order. */
  unfinished: string[];
  /** Content hashes of what the run depended on. */
  inputs: RunInputs;
}

/** An exercise status line found in a cell's outputs. */
export interface CellExercise extends ExerciseStatusItem {
  /** 1-based index among all cells. */
  cell: number;
}

/** Every exercise status line of an executed notebook, in cell order. */
export function collectExercises(nb: Notebook): CellExercise[] {
  return nb.cells.flatMap((c, i) => exerciseStatuses(c.outputs ?? []).map((s) => ({ ...s, cell: i + 1 })));
}

/** A notebook read and, in instructor mode, with its solutions substituted; throws on bad input. */
export function prepareNotebook(file: string, opts: Pick<RunOptions, "mode" | "solutionsDir">): Notebook {
  const nb = readNotebook(file);
  return opts.mode === "instructor" ? instructorNotebook(nb, file, opts.solutionsDir) : nb;
}

/** Where the executed copy of `file` goes; throws {@link UsageError} if that would overwrite a source. */
export function outputPathFor(file: string, opts: Pick<RunOptions, "out" | "mode" | "solutionsDir">): string {
  const dir = path.resolve(opts.out, opts.mode);
  const target = path.join(dir, path.basename(file));
  const real = (p: string) => (fs.existsSync(p) ? fs.realpathSync(p) : path.resolve(p));
  const forbidden = [path.dirname(real(file)), real(path.join(repoRoot(), "notebooks")), real(opts.solutionsDir)];
  if (forbidden.includes(real(dir)) || real(target) === real(file)) {
    throw new UsageError(`refusing to write executed notebooks into ${dir}: it holds source notebooks or solutions (choose another --out)`);
  }
  return target;
}

/** Execute one notebook in a fresh kernel and write its executed copy. Throws only for bad input. */
export async function runNotebook(file: string, opts: RunOptions): Promise<NotebookRun> {
  const nb = prepareNotebook(file, opts);
  const output = outputPathFor(file, opts);
  const name = path.basename(file, ".ipynb");
  const course = nb.metadata.course as { budget_s?: unknown } | undefined;
  const stated = typeof course?.budget_s === "number" ? course.budget_s : undefined;
  const budgetS = opts.budgetS ?? (stated === undefined ? 600 : Math.round(stated * opts.speedFactor));
  const log = opts.quiet ? () => undefined : opts.log;
  const stretched = opts.budgetS === undefined && stated !== undefined && opts.speedFactor !== 1;
  log(`▶ ${name} (${opts.mode}, budget ${stretched ? `${stated} s × ${opts.speedFactor} = ` : ""}${budgetS} s)`);
  const inputs = runInputs(nb, repoRoot());
  const reasons = new Map<number, string>(); // cell → first line of its failure, for its progress line
  const exec = await executeNotebook(nb, {
    cwd: path.dirname(path.resolve(file)),
    cellTimeoutS: opts.cellTimeoutS,
    budgetS,
    keepGoing: opts.keepGoing || opts.mode === "student",
    kernelArgv: opts.kernelArgv,
    onKernelStarted: (ms) => log(`  kernel started in ${(ms / 1000).toFixed(1)} s`),
    onCell: (p) => {
      const statuses = exerciseStatuses(nb.cells[p.cell - 1].outputs ?? []);
      const bad = !p.ok || statuses.some((s) => s.status === "error" || opts.mode === "instructor");
      const why = p.ok ? statuses.map(describeExerciseStatus).join("; ") : reasons.get(p.cell) ?? "";
      log(`  [${p.position}/${p.total}] cell ${p.cell} ${bad ? "✗" : "✓"} ${p.seconds.toFixed(1)}s${why ? `  ${why}` : ""}`);
    },
    onFailure: (f) => {
      reasons.set(f.cell, f.message.split("\n").find((l) => l.trim() !== "") ?? "");
      opts.logError(formatFailure(file, f));
    },
  });
  // Status lines of exercise checks: unfinished exercises in student mode, failures otherwise.
  const exercises = collectExercises(nb);
  const unfinished = [...new Set(exercises.filter((e) => e.status === "todo" && opts.mode === "student").map((e) => e.id))];
  const failed = exercises.filter((e) => e.status === "error" || opts.mode === "instructor");
  for (const e of failed) {
    const f: CellFailure = { cell: e.cell, executionCount: nb.cells[e.cell - 1].execution_count ?? null, message: describeExerciseStatus(e) };
    exec.failures.push(f);
    opts.logError(formatFailure(file, f));
  }
  exec.failures.sort((a, b) => a.cell - b.cell);
  const status = exec.status === "ok" && failed.length > 0 ? "failed" : exec.status;
  writeNotebook(output, nb);
  return { name, path: file, mode: opts.mode, ...exec, status, budgetS, output, report: collectReport(nb), unfinished, inputs };
}

/** One failure as printed: notebook, cell, execution count and the (trimmed) message. */
export function formatFailure(file: string, f: CellFailure): string {
  const where = f.cell === 0 ? "kernel" : `cell ${f.cell}${f.executionCount === null ? "" : ` (In [${f.executionCount}])`}`;
  const lines = f.message.split("\n");
  const shown = lines.length > 20 ? [...lines.slice(0, 20), `… ${lines.length - 20} more lines (see the executed notebook)`] : lines;
  const note = f.causedBy === undefined ? "" : ` (follows from the failure of cell ${f.causedBy})`;
  return `✗ ${file} ${where}: ${shown.join("\n    ")}${note}`;
}

/** Run notebooks one after another and write summary.json and report.json; returns the runs. */
export async function runNotebooks(files: string[], opts: RunOptions): Promise<NotebookRun[]> {
  const runs: NotebookRun[] = [];
  for (const file of files) runs.push(await runNotebook(file, opts));
  const dir = path.resolve(opts.out, opts.mode);
  fs.mkdirSync(dir, { recursive: true });
  mergeJson(path.join(dir, "summary.json"), Object.fromEntries(runs.map((r) => [r.name, {
    path: r.path, mode: r.mode, status: r.status, cells: r.cells, executed: r.executed, seconds: round1(r.seconds),
    budgetS: r.budgetS, speedFactor: opts.speedFactor, kernelStartupS: r.kernelStartupMs === null ? null : round1(r.kernelStartupMs / 1000), failures: r.failures,
    unfinished: r.unfinished, inputs: r.inputs,
  }])));
  mergeJson(path.join(dir, "report.json"), Object.fromEntries(runs.map((r) => [r.name, r.report])));
  return runs;
}

/** The summary table printed at the end. */
export function summaryTable(runs: NotebookRun[]): string {
  const todo = (r: NotebookRun) => (r.unfinished.length === 0 ? "" : ` · ${r.unfinished.length} exercise${r.unfinished.length === 1 ? "" : "s"} to do`);
  const rows = [["notebook", "cells", "seconds", "status"], ...runs.map((r) => [r.name, `${r.executed}/${r.cells}`, r.seconds.toFixed(1), r.status + todo(r)])];
  const widths = rows[0].map((_, j) => Math.max(...rows.map((row) => row[j].length)));
  return rows.map((row) => row.map((c, j) => (j === 1 || j === 2 ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join("  ").trimEnd()).join("\n");
}

/** The CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let opts: RunOptions;
  let files: string[];
  try {
    let help: boolean;
    let speedFactor: number | undefined;
    ({ opts, files, help, speedFactor } = parseArgs(argv));
    if (help) {
      console.log(USAGE);
      return 0;
    }
    // Check every input before running anything: bad input is exit code 2, and fast.
    for (const f of files) {
      prepareNotebook(f, opts);
      outputPathFor(f, opts);
    }
    opts.speedFactor = speedFactor ?? speedFromEnvOrTiming(opts);
  } catch (e) {
    if (e instanceof UsageError || e instanceof NotebookError || e instanceof ExerciseError) {
      console.error(`run: ${e.message}`);
      if (e instanceof UsageError && e.showUsage) console.error(`\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const runs = await runNotebooks(files, opts);
  console.log(`\n${summaryTable(runs)}`);
  const todo = runs.filter((r) => r.unfinished.length > 0);
  if (todo.length > 0) console.log(`\nunfinished exercises (stubs still in place; their checks said so and did not fail):\n${todo.map((r) => `  ${r.name}: ${r.unfinished.join(", ")}`).join("\n")}`);
  console.log(`executed notebooks: ${path.resolve(opts.out, opts.mode)}`);
  return runs.every((r) => r.status === "ok") ? 0 : 1;
}

/** COURSE_SPEED_FACTOR, or this machine timed (tools/speed.ts) and the result printed. */
function speedFromEnvOrTiming(opts: RunOptions): number {
  let speed: { factor: number; ms: number | null };
  try {
    speed = machineSpeed();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (speed.ms !== null && !opts.quiet) {
    const verdict = speed.factor === 1 ? "budgets as stated" : `budgets × ${speed.factor}`;
    opts.log(`machine speed: calibration ${Math.round(speed.ms)} ms (reference machine ${REFERENCE_MS} ms) → ${verdict}`);
  }
  return speed.factor;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

if (require.main === module) {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      killAllKernels();
      console.error(`run: ${sig}, kernels stopped`);
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      killAllKernels();
      console.error(`run: internal error: ${e.message}`);
      process.exit(1);
    },
  );
}
