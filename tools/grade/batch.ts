/**
 * Batch grading: a folder of submissions (`<student>.ipynb`, or `<student>/…/<one>.ipynb`),
 * graded in parallel by worker processes (one per core, `--jobs N`), with a progress bar, one
 * results file per student (`<out>/<student>.json`, Gradescope's format) and `<out>/gradebook.csv`
 * rewritten after each submission.
 *
 * - Resumable: a student whose results file exists and is valid is skipped unless `force`.
 * - Atomic: only the main process writes, always via temp file + rename; on SIGINT/SIGTERM it
 *   stops the workers and drops in-flight work, so no partial file is ever left behind.
 * - Robust: a worker that crashes or hangs costs only the submission it was grading, which gets a
 *   results file saying the autograder failed (score 0); a fresh worker takes over.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { ChildProcess, fork } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgressBar, ProgressMode } from "@course/lib";
import { failedReport, GradeOptions, Grader, GradeReport } from "./score";
import { identifyNotebook, notAFileReason, readSubmission, Submission } from "./extract";
import { cleanText } from "./text";
import { CourseNotebook } from "../course";
import { gradedNotebooks } from "./load";
import { GradebookRow, gradebookCsv, GradescopeResults, isTempFile, rowFromResults, toGradescope, writeFileAtomic } from "./results";

/** One submission of a batch. */
export interface BatchEntry {
  student: string;
  /** The notebook to grade, or null with `problem` when the folder has none or several. */
  file: string | null;
  problem?: string;
}

/** Batch settings. */
export interface BatchOptions {
  folder: string;
  out: string;
  jobs: number;
  force: boolean;
  grade: GradeOptions;
  progress?: ProgressMode;
  /** Wall-clock limit for one submission in a worker before it is killed (ms). */
  submissionTimeoutMs?: number;
}

/** What a batch did. */
export interface BatchSummary {
  graded: string[];
  skipped: string[];
  failed: string[];
  interrupted: boolean;
  gradebook: string;
}

/** Notebooks under `dir` (recursive; skips checkpoints, hidden folders and node_modules). */
export function findNotebooks(dir: string): string[] {
  return findNotebookEntries(dir).files;
}

/**
 * Notebook files under `dir`, and the `.ipynb` entries that are not regular files or folders
 * that cannot be read (symlinks are never followed), each with a student-facing reason.
 */
export function findNotebookEntries(dir: string): { files: string[]; odd: string[] } {
  const files: string[] = [];
  const odd: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 6) return;
    let list: fs.Dirent[];
    try {
      list = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      odd.push(`the folder ${depth === 0 ? "" : `${cleanText(path.relative(dir, d))} `}cannot be read (${code === "EACCES" || code === "EPERM" ? "permission denied" : code ?? "error"})`);
      return;
    }
    for (const e of list.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith(".") || e.name === "node_modules" || e.name === "__MACOSX") continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith(".ipynb")) files.push(p);
      else if (e.name.endsWith(".ipynb") && !e.isFile()) {
        let why: string | null = null;
        try {
          why = notAFileReason(fs.lstatSync(p), cleanText(e.name));
        } catch {
          why = `${cleanText(e.name)} cannot be read`;
        }
        if (why) odd.push(why);
      }
    }
  };
  walk(dir, 0);
  return { files, odd };
}

/** Pick the one notebook of a folder, explaining odd entries when there is none. */
export function pickFromFolder(dir: string): { file: string | null; problem?: string } {
  const { files, odd } = findNotebookEntries(dir);
  const pick = pickNotebook(files);
  if (!pick.file && files.length === 0 && odd.length > 0) return { file: null, problem: `no readable .ipynb notebook found in the submission: ${odd.slice(0, 3).join("; ")}` };
  return pick;
}

/** Pick the one notebook of a student's folder (preferring course-named `NN_*.ipynb`). */
export function pickNotebook(files: string[]): { file: string | null; problem?: string } {
  if (files.length === 1) return { file: files[0] };
  if (files.length === 0) return { file: null, problem: "no .ipynb notebook found in the submission" };
  const named = files.filter((f) => /^\d\d_/.test(path.basename(f)));
  if (named.length === 1) return { file: named[0] };
  const names = files.slice(0, 5).map((f) => cleanText(path.basename(f))).join(", ") + (files.length > 5 ? ", …" : "");
  return { file: null, problem: `found ${files.length} notebooks (${names}); submit exactly one` };
}

/**
 * The batch's assignment: the course notebook most of its readable submissions are recognised as
 * (by exercise ids, file name or title; ties: the earliest notebook), if any.
 */
export function batchAssignment(entries: BatchEntry[], root: string): string | undefined {
  let notebooks: CourseNotebook[];
  try {
    notebooks = gradedNotebooks(root);
  } catch {
    return undefined; // the grader reports the broken course itself
  }
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (!e.file) continue;
    let sub: Submission | null = null;
    try {
      sub = readSubmission(e.file);
    } catch {
      sub = null;
    }
    const nb = identifyNotebook(notebooks, e.file, sub);
    if (nb) counts.set(nb.stem, (counts.get(nb.stem) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

/** A student name safe for a file name and a gradebook cell (collisions are resolved after this). */
export function cleanStudentName(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const name = raw.replace(/[\\/:*?"<>|\x00-\x1f\x7f-\x9f]/g, "_").replace(/^\.+/, "").slice(0, 100);
  return name.length > 0 ? name : "student";
}

/**
 * The submissions of a batch folder, sorted by student. Every entry gets one: a notebook file, a
 * student folder (its one notebook), or anything else that is not hidden and is not a regular
 * non-notebook file (a symlink, a pipe, a device, a socket, an unreadable folder) as an entry
 * with a student-facing `problem`. Links are never followed, files are never opened here.
 */
export function discoverSubmissions(folder: string, exclude: string[] = []): BatchEntry[] {
  const skip = new Set(exclude.map((p) => path.resolve(p)));
  const entries: BatchEntry[] = [];
  const seen = new Set<string>();
  for (const e of fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(folder, e.name);
    if (e.name.startsWith(".") || skip.has(path.resolve(p))) continue;
    const stem = e.name.replace(/\.ipynb$/, "");
    let entry: BatchEntry | null = null;
    if (e.isFile()) entry = e.name.endsWith(".ipynb") ? { student: stem, file: p } : null;
    else if (e.isDirectory()) entry = { student: e.name, ...pickFromFolder(p) };
    else {
      let why: string | null;
      try {
        why = notAFileReason(fs.lstatSync(p), cleanText(e.name));
      } catch {
        why = `${cleanText(e.name)} cannot be read`;
      }
      entry = { student: stem, file: null, problem: why ?? `${cleanText(e.name)} is not a notebook file` };
    }
    if (!entry) continue;
    const clean = cleanStudentName(entry.student);
    let name = clean;
    for (let k = 2; seen.has(name); k++) name = `${clean}_${k}`;
    seen.add(name);
    entries.push({ ...entry, student: name });
  }
  return entries;
}

/** Path of this CLI's compiled entry (workers are forked from it). */
function gradeJs(): string {
  const near = path.resolve(__dirname, "..", "grade.js");
  return fs.existsSync(near) ? near : path.resolve(__dirname, "..", "dist", "grade.js");
}

/** Messages between the batch and its workers. */
type ToWorker = { type: "grade"; student: string; file: string | null; problem?: string };
type FromWorker = { type: "ready" } | { type: "done"; student: string; results: GradescopeResults };

/** Grade a folder of submissions. Resolves when done or interrupted. */
export async function gradeBatch(opts: BatchOptions): Promise<BatchSummary> {
  fs.mkdirSync(opts.out, { recursive: true });
  for (const f of fs.readdirSync(opts.out)) if (isTempFile(f)) fs.rmSync(path.join(opts.out, f), { force: true });
  const entries = discoverSubmissions(opts.folder, [opts.out]);
  // A batch is one assignment: unrecognisable or empty submissions are reported against it.
  const grade: GradeOptions = { ...opts.grade, assignment: opts.grade.assignment ?? batchAssignment(entries, opts.grade.root) };
  const gradebook = path.join(opts.out, "gradebook.csv");
  const rows = new Map<string, GradebookRow>();
  const summary: BatchSummary = { graded: [], skipped: [], failed: [], interrupted: false, gradebook };
  const todo: BatchEntry[] = [];
  for (const e of entries) {
    const row = opts.force ? null : existingRow(path.join(opts.out, `${e.student}.json`), e.student);
    if (row) {
      rows.set(e.student, row);
      summary.skipped.push(e.student);
    } else todo.push(e);
  }
  const writeGradebook = () => writeFileAtomic(gradebook, gradebookCsv([...rows.values()]));
  writeGradebook();
  if (todo.length === 0) return summary;

  const bar = new ProgressBar({ total: todo.length, label: "grading", mode: opts.progress ?? "auto" });
  const perSubmission = opts.submissionTimeoutMs ?? 15 * 60_000;
  let done = 0;
  let stopping = false;
  const queue = [...todo];
  const workers = new Set<ChildProcess>();

  const record = (student: string, results: GradescopeResults) => {
    if (stopping) return;
    try {
      writeFileAtomic(path.join(opts.out, `${student}.json`), JSON.stringify(results, null, 2) + "\n");
      rows.set(student, rowFromResults(student, results) as GradebookRow);
      writeGradebook();
      (results.extra_data.autograder_error ? summary.failed : summary.graded).push(student);
    } catch (e) {
      process.stderr.write(`\ngrade: cannot write the results of ${student}: ${(e as Error).message}\n`);
      summary.failed.push(student);
    }
    bar.update(++done, { failed: String(summary.failed.length) });
  };

  await new Promise<void>((resolve) => {
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      summary.interrupted = true;
      for (const w of workers) w.kill("SIGKILL");
      resolve();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const finish = () => {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      resolve();
    };
    const spawn = () => {
      const w = fork(gradeJs(), ["--worker", JSON.stringify(grade)], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
      w.stderr?.resume();
      workers.add(w);
      let current: BatchEntry | null = null;
      let timer: NodeJS.Timeout | null = null;
      let timedOut = false;
      const next = () => {
        if (timer) clearTimeout(timer);
        current = stopping ? null : queue.shift() ?? null;
        if (!current) {
          w.kill();
          return;
        }
        timer = setTimeout(() => {
          timedOut = true;
          w.kill("SIGKILL");
        }, perSubmission);
        w.send({ type: "grade", student: current.student, file: current.file, problem: current.problem } satisfies ToWorker);
      };
      w.on("message", (m: FromWorker) => {
        if (m.type === "done" && current && m.student === current.student) record(m.student, m.results);
        if (m.type === "ready" || m.type === "done") next();
      });
      w.on("exit", (code, signal) => {
        if (timer) clearTimeout(timer);
        workers.delete(w);
        if (stopping) return;
        if (current) {
          const why = timedOut ? `grading took longer than ${Math.round(perSubmission / 1000)} s` : `the grading process ended unexpectedly (${signal ?? `exit code ${code}`})`;
          record(current.student, toGradescope(failedReport(current.file ? path.basename(current.file) : current.student, why)));
          current = null;
        }
        if (queue.length > 0) spawn();
        else if (workers.size === 0) {
          bar.done();
          finish();
        }
      });
    };
    const n = Math.max(1, Math.min(opts.jobs, queue.length));
    for (let i = 0; i < n; i++) spawn();
  });
  return summary;
}

/**
 * The gradebook row of an existing, valid results file (null: grade it). A results file that
 * records an autograder error is regraded by a rerun.
 */
function existingRow(file: string, student: string): GradebookRow | null {
  try {
    const json = JSON.parse(fs.readFileSync(file, "utf8")) as GradescopeResults;
    if (json?.extra_data?.autograder_error) return null;
    return rowFromResults(student, json);
  } catch {
    return null;
  }
}

/**
 * After the batch grader died (see supervise.ts): every submission of `folder` without a results
 * file gets one saying the autograder failed (`why`), and gradebook.csv gets a row for every
 * submission. Only results files and the gradebook are written, atomically.
 */
export function completeBatchAfterCrash(folder: string, out: string, why: string): number {
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(out)) if (isTempFile(f)) fs.rmSync(path.join(out, f), { force: true });
  const rows: GradebookRow[] = [];
  let written = 0;
  for (const e of discoverSubmissions(folder, [out])) {
    const file = path.join(out, `${e.student}.json`);
    let row: GradebookRow | null = null;
    try {
      row = rowFromResults(e.student, JSON.parse(fs.readFileSync(file, "utf8")));
    } catch {
      row = null;
    }
    if (!row) {
      const results = toGradescope(failedReport(e.file ? path.basename(e.file) : e.student, why));
      writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
      row = rowFromResults(e.student, results) as GradebookRow;
      written++;
    }
    rows.push(row);
  }
  writeFileAtomic(path.join(out, "gradebook.csv"), gradebookCsv(rows));
  return written;
}

/** The worker side (`grade.js --worker <options JSON>`): grade what the parent sends. */
export function runWorker(optionsJson: string): void {
  const grader = new Grader({ ...(JSON.parse(optionsJson) as GradeOptions), concurrency: 1 });
  process.on("SIGINT", () => undefined);
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: ToWorker) => {
    if (m.type !== "grade") return;
    const job: Promise<GradeReport> = m.file ? grader.grade(m.file) : Promise.resolve(grader.ungradable(m.student, m.problem ?? "no notebook"));
    void job.then((report) => process.send?.({ type: "done", student: m.student, results: toGradescope(report) } satisfies FromWorker));
  });
  process.send?.({ type: "ready" } satisfies FromWorker);
}

/** Default worker count: one per core. */
export function defaultJobs(): number {
  return Math.max(1, os.cpus().length);
}
