/**
 * Grading one submission: find its exercise cells by metadata id (extract.ts), compile each one
 * alone (compile.ts), run the hidden suite's calls on it in a restricted child process
 * (exercise.ts + sandbox.ts, one process per exercise so that one exercise's crash, exit or endless
 * loop costs only that exercise), and check the returned values against the reference computed in
 * this trusted process (suite.ts). Scores are computed only here; nothing the student's process prints
 * or returns can set one.
 *
 * Whatever goes wrong, {@link Grader.grade} returns a report (score 0 and the reason when the
 * autograder itself failed) — it never throws.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { randomBytes } from "crypto";
import * as os from "os";
import * as path from "path";
import { initBackend, Rng } from "@course/lib";
import type { CourseExercise, CourseNotebook } from "../course";
import { gradedNotebooks, loadSuite } from "./load";
import type { Compiled } from "./compile";
import { CompileLimits, CompileService } from "./compile-service";
import { failAll, round6, runExercise, TestResult } from "./exercise";
import { findExercises, identifyNotebook, readSubmission, Submission, SubmissionError } from "./extract";
import { DEFAULT_LIMITS, SandboxLimits } from "./sandbox";
import { HiddenSuite, suitePoints } from "./suite";

export type { TestResult } from "./exercise";

/** One exercise's total. */
export interface ExerciseResult {
  id: string;
  score: number;
  maxScore: number;
  /** The first failure's message, for summaries ("" when all passed). */
  summary: string;
}

/** Everything the grader found about a submission (results.ts turns it into results.json). */
export interface GradeReport {
  submission: string;
  notebook: string | null;
  seed: number;
  score: number;
  maxScore: number;
  exercises: ExerciseResult[];
  tests: TestResult[];
  /** Notes for the student (unreadable notebook, grader failure); shown above the summary. */
  notes: string[];
  /** Seconds. */
  executionTime: number;
  /** Set when the autograder itself failed (the score is then 0). */
  autograderError?: string;
}

/** Grader settings. */
export interface GradeOptions {
  /** The course repository (notebooks/, solutions/, tests/exercises/hidden/). */
  root: string;
  limits?: Partial<SandboxLimits>;
  /** Reproduce a run: the seed printed in an earlier results.json. */
  seed?: number;
  /** Force the course notebook (name or NN prefix) instead of recognising it. */
  notebook?: string;
  /**
   * The notebook this submission (or batch) is for, used only when it cannot be recognised (no
   * known exercise ids, title or NN_ file name) and for submissions with no notebook at all, so
   * that every test still shows up in the results (a Gradescope assignment is one notebook).
   */
  assignment?: string;
  /** Exercises graded at once (default: number of CPUs). */
  concurrency?: number;
  scratchRoot?: string;
  /** Type-checking limits per exercise (default: compile-service.ts's). */
  compileLimits?: CompileLimits;
}

/** Grades submissions; keep one per process (it caches the course, suites and compiler). */
export class Grader {
  private notebooks: CourseNotebook[] | null = null;
  private compiler: CompileService | null = null;
  private readonly suites = new Map<string, HiddenSuite>();
  private trustedReady = false;
  readonly limits: SandboxLimits;

  constructor(readonly opts: GradeOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  /** Grade one notebook file. Never throws. */
  async grade(file: string): Promise<GradeReport> {
    const t0 = performance.now();
    const seed = this.opts.seed ?? randomBytes(4).readUInt32LE(0);
    const report: GradeReport = { submission: path.basename(file), notebook: null, seed, score: 0, maxScore: 0, exercises: [], tests: [], notes: [], executionTime: 0 };
    try {
      await this.gradeInto(file, report);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      report.autograderError = reason;
      report.notes.push(`The autograder failed while grading this submission (${reason.split("\n")[0]}). Your score is 0 for now; please tell your instructor.`);
      const nb = this.notebooks?.find((n) => n.stem === report.notebook);
      if (nb && report.tests.length === 0) this.fillNotGraded(report, nb, "not graded: the autograder failed (see above)");
    }
    report.score = round6(report.tests.reduce((s, t) => s + t.score, 0));
    report.maxScore = round6(report.exercises.reduce((s, e) => s + e.maxScore, 0));
    if (report.autograderError) report.score = 0;
    for (const ex of report.exercises) {
      const tests = report.tests.filter((t) => t.exercise === ex.id);
      ex.score = report.autograderError ? 0 : round6(tests.reduce((s, t) => s + t.score, 0));
      ex.summary = tests.find((t) => !t.passed)?.output.split("\n")[0] ?? "";
    }
    report.executionTime = Math.round(performance.now() - t0) / 1000;
    return report;
  }

  /** A report for a submission that could not be looked at (e.g. no notebook in a folder). */
  ungradable(name: string, message: string, notebook?: string): GradeReport {
    const report: GradeReport = { submission: name, notebook: null, seed: 0, score: 0, maxScore: 0, exercises: [], tests: [], notes: [message], executionTime: 0 };
    let nbs: CourseNotebook[] = [];
    try {
      nbs = this.loadNotebooks();
    } catch {
      nbs = [];
    }
    const want = notebook ?? this.opts.assignment;
    const nb = nbs.find((n) => n.stem === want || n.prefix === want) ?? (nbs.length === 1 ? nbs[0] : undefined);
    if (nb) this.fillNotGraded(report, nb, `not graded: ${message}`);
    return report;
  }

  /** Stop the grader's helper processes (the type checker). */
  close(): void {
    this.compiler?.close();
    this.compiler = null;
  }

  private loadNotebooks(): CourseNotebook[] {
    this.notebooks = this.notebooks ?? gradedNotebooks(this.opts.root);
    return this.notebooks;
  }

  private async gradeInto(file: string, report: GradeReport): Promise<void> {
    const notebooks = this.loadNotebooks();
    let sub: Submission | null = null;
    let unreadable: SubmissionError | null = null;
    try {
      sub = readSubmission(file);
    } catch (e) {
      if (!(e instanceof SubmissionError)) throw e;
      unreadable = e;
    }
    const nb = identifyNotebook(notebooks, file, sub, this.opts.notebook, this.opts.assignment);
    if (unreadable || !sub) {
      report.notes.push(`The autograder could not read your notebook: ${unreadable?.message}`);
      if (nb) this.fillNotGraded(report, nb, "not graded: the notebook could not be read (see above)");
      return;
    }
    const assigned = this.opts.notebook ? undefined : this.assignmentNotebook(notebooks);
    if (assigned && nb && nb.stem !== assigned.stem) {
      const why = `this looks like notebook ${nb.prefix}; this assignment is ${assigned.prefix}`;
      report.notes.push(`This submission was not graded: ${why} (${assigned.stem}). Submit your ${assigned.stem} notebook.`);
      this.fillNotGraded(report, assigned, `not graded: ${why}`);
      return;
    }
    if (!nb) {
      report.notes.push(`The autograder could not tell which course notebook this is (no exercise cells with known ids, and the file name does not start with a notebook number such as 01_). Submit the course notebook with its exercise cells.`);
      return;
    }
    report.notebook = nb.stem;
    const suite = this.suite(nb);
    this.compiler = this.compiler ?? new CompileService(this.opts.root, this.opts.compileLimits);
    this.compiler.warm(nb.prelude); // type checker start-up overlaps the trusted tfjs start-up
    await this.initTrusted();
    const found = findExercises(nb, sub);
    const sources = found.map((f) => ({ id: f.id, source: f.status === "ok" ? f.source : "", stub: (nb.exercises.find((e) => e.id === f.id) as CourseExercise).stub }));
    this.compiler = this.compiler ?? new CompileService(this.opts.root, this.opts.compileLimits);
    const compiled = await this.compiler.compileAll(nb.prelude, sources.filter((_, i) => found[i].status === "ok"));
    const rng = new Rng(report.seed);
    const jobs = nb.exercises.map((ex, i) => async (): Promise<TestResult[]> => {
      const f = found[i];
      const tests = suite.exercises[ex.id];
      const scale = ex.points / (suitePoints(tests) || 1);
      if (f.status !== "ok") return failAll(ex.id, tests, scale, f.message);
      const c = compiled.find((x) => x.id === ex.id) as Compiled;
      if (!c.ok) return failAll(ex.id, tests, scale, c.message);
      try {
        return await runExercise({ ex, tests, scale, moduleJs: c.moduleJs, rng, limits: this.limits, scratchRoot: this.opts.scratchRoot });
      } catch (e) {
        const reason = (e as Error).message ?? String(e);
        report.notes.push(`The autograder failed while running ${ex.id} (${reason.split("\n")[0]}); please tell your instructor.`);
        report.autograderError = report.autograderError ?? `${ex.id}: ${reason}`;
        return failAll(ex.id, tests, scale, `autograder error (not your fault): ${reason.split("\n")[0]}`);
      }
    });
    const results = await runLimited(jobs, this.opts.concurrency ?? os.cpus().length);
    report.exercises = nb.exercises.map((ex) => ({ id: ex.id, score: 0, maxScore: ex.points, summary: "" }));
    report.tests = results.flat();
  }

  /** The assignment of this run (fixed: given, or inferred once for a batch), if any. */
  private assignmentNotebook(notebooks: CourseNotebook[]): CourseNotebook | undefined {
    const want = this.opts.assignment;
    if (!want) return undefined;
    return notebooks.find((n) => n.stem === want || n.prefix === want) ?? notebooks.find((n) => n.prefix === want.slice(0, 2) && /^\d\d/.test(want));
  }

  private suite(nb: CourseNotebook): HiddenSuite {
    let s = this.suites.get(nb.stem);
    if (!s) {
      s = loadSuite(nb);
      this.suites.set(nb.stem, s);
    }
    return s;
  }

  private async initTrusted(): Promise<void> {
    if (this.trustedReady) return;
    await initBackend();
    this.trustedReady = true;
  }

  private fillNotGraded(report: GradeReport, nb: CourseNotebook, message: string): void {
    report.notebook = nb.stem;
    report.exercises = nb.exercises.map((e) => ({ id: e.id, score: 0, maxScore: e.points, summary: message }));
    let suite: HiddenSuite | null = null;
    try {
      suite = this.suite(nb);
    } catch {
      suite = null;
    }
    for (const ex of nb.exercises) {
      const tests = suite?.exercises[ex.id] ?? [{ name: "graded", points: ex.points, build: () => ({ calls: [] }) }];
      report.tests.push(...failAll(ex.id, tests, ex.points / (suitePoints(tests) || 1), message));
    }
  }
}

/** A report for a submission the autograder failed on before grading it (score 0, the reason). */
export function failedReport(submission: string, why: string): GradeReport {
  return {
    submission, notebook: null, seed: 0, score: 0, maxScore: 0, exercises: [], tests: [], executionTime: 0, autograderError: why,
    notes: [`The autograder failed on this submission: ${why}. Your score is 0 for now; please tell your instructor.`],
  };
}

/** Run async jobs with at most `limit` at once, keeping order. */
export async function runLimited<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  return out;
}
