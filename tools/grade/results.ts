/**
 * Where grades land: Gradescope's results.json (their documented autograder format), a readable
 * table for the terminal, the batch gradebook.csv, and atomic file writes (temp file + rename, so
 * an interrupted grader never leaves a half-written file under the final name).
 *
 * Gradescope: https://gradescope-autograders.readthedocs.io/en/latest/specs/ — top level `score`,
 * `execution_time`, `output`, `tests: [{ name, score, max_score, status, output, visibility }]`,
 * optional `stdout_visibility` and `extra_data`.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import type { GradeReport } from "./score";
import { clip, csvCell, MAX_SUMMARY_OUTPUT, MAX_TEST_OUTPUT, studentText, summaryLine } from "./text";

/** One test in Gradescope's format. */
export interface GradescopeTest {
  name: string;
  score: number;
  max_score: number;
  status: "passed" | "failed";
  output: string;
  visibility: "visible" | "hidden" | "after_due_date" | "after_published";
}

/** Gradescope's results.json (plus our extra_data, which Gradescope stores as-is). */
export interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  stdout_visibility: "hidden" | "visible";
  tests: GradescopeTest[];
  extra_data: {
    grader: "course-autograder";
    notebook: string | null;
    seed: number;
    max_score: number;
    exercises: Record<string, { score: number; max_score: number }>;
    autograder_error?: string;
  };
}

/** The student-facing summary shown at the top of Gradescope's page. */
export function summaryText(r: GradeReport): string {
  const lines = [...r.notes];
  if (r.notebook) {
    lines.push(`${r.notebook}: ${fmt(r.score)} / ${fmt(r.maxScore)} points`);
    const w = Math.max(...r.exercises.map((e) => e.id.length), 8);
    for (const e of r.exercises) lines.push(`  ${e.id.padEnd(w)}  ${fmt(e.score)} / ${fmt(e.maxScore)}${e.summary && e.score < e.maxScore ? `   ${summaryLine(e.summary)}` : ""}`);
    lines.push(`(Inputs are random on every run; this run used seed ${r.seed}.)`);
  }
  return lines.join("\n");
}

/**
 * A report as Gradescope's results.json object. Every text is cleaned and bounded (control
 * characters, the grading machine's paths, {@link MAX_TEST_OUTPUT} per test), and the totals are
 * recomputed from the tests, so tests and total never disagree: when the autograder failed, every
 * test is failed with 0 points and the score is 0.
 */
export function toGradescope(r: GradeReport): GradescopeResults {
  const broken = !!r.autograderError;
  const tests: GradescopeTest[] = r.tests.map((t) => ({
    name: studentText(`${t.exercise}: ${t.test}`, 300),
    score: broken ? 0 : t.score,
    max_score: t.maxScore,
    status: !broken && t.passed ? "passed" : "failed",
    output: studentText(broken && t.passed ? "not graded: the autograder failed (see the summary)" : t.output, MAX_TEST_OUTPUT),
    visibility: "visible",
  }));
  const exercises: Record<string, { score: number; max_score: number }> = {};
  for (const e of r.exercises) {
    const own = tests.filter((t, i) => r.tests[i].exercise === e.id);
    exercises[e.id] = { score: round3(own.reduce((s, t) => s + t.score, 0)), max_score: e.maxScore };
  }
  const score = broken ? 0 : round3(tests.reduce((s, t) => s + t.score, 0));
  return {
    score,
    execution_time: Math.round(r.executionTime * 1000) / 1000,
    output: studentText(summaryText({ ...r, score, exercises: r.exercises.map((e) => ({ ...e, score: exercises[e.id].score })) }), MAX_SUMMARY_OUTPUT),
    stdout_visibility: "hidden",
    tests,
    extra_data: {
      grader: "course-autograder",
      notebook: r.notebook,
      seed: r.seed,
      max_score: r.maxScore,
      exercises,
      ...(r.autograderError ? { autograder_error: clip(studentText(r.autograderError, 2000), 2000) } : {}),
    },
  };
}

function round3(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Problems with a results.json against Gradescope's documented fields and types (empty = valid). */
export function gradescopeProblems(json: unknown): string[] {
  const p: string[] = [];
  const isNum = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  if (typeof json !== "object" || json === null || Array.isArray(json)) return ["results must be a JSON object"];
  const r = json as Record<string, unknown>;
  if (r.score === undefined && !Array.isArray(r.tests)) p.push("needs `score` or `tests`");
  if (r.score !== undefined && !isNum(r.score)) p.push("`score` must be a finite number");
  if (r.execution_time !== undefined && !isNum(r.execution_time)) p.push("`execution_time` must be a number (seconds)");
  if (r.output !== undefined && typeof r.output !== "string") p.push("`output` must be a string");
  const vis = ["hidden", "after_due_date", "after_published", "visible"];
  if (r.visibility !== undefined && !vis.includes(r.visibility as string)) p.push("`visibility` is not a Gradescope visibility");
  if (r.stdout_visibility !== undefined && !vis.includes(r.stdout_visibility as string)) p.push("`stdout_visibility` is not a Gradescope visibility");
  if (r.tests !== undefined) {
    if (!Array.isArray(r.tests)) p.push("`tests` must be a list");
    else r.tests.forEach((t: unknown, i: number) => {
      const where = `tests[${i}]`;
      if (typeof t !== "object" || t === null) return p.push(`${where} must be an object`);
      const o = t as Record<string, unknown>;
      if (o.name !== undefined && typeof o.name !== "string") p.push(`${where}.name must be a string`);
      if (o.score !== undefined && !isNum(o.score)) p.push(`${where}.score must be a number`);
      if (o.max_score !== undefined && !isNum(o.max_score)) p.push(`${where}.max_score must be a number`);
      if (o.status !== undefined && o.status !== "passed" && o.status !== "failed") p.push(`${where}.status must be "passed" or "failed"`);
      if (o.output !== undefined && typeof o.output !== "string") p.push(`${where}.output must be a string`);
      if (o.visibility !== undefined && !vis.includes(o.visibility as string)) p.push(`${where}.visibility is not a Gradescope visibility`);
    });
  }
  return p;
}

/** A readable table of a report (exercise, test, points, status). */
export function formatTable(r: GradeReport): string {
  const rows = r.tests.map((t) => [studentText(t.exercise, 60), studentText(t.test, 60), `${fmt(t.score)}/${fmt(t.maxScore)}`, t.passed ? "passed" : "FAILED"]);
  const head = ["exercise", "test", "points", "status"];
  const all = [head, ...rows, ["total", "", `${fmt(r.score)}/${fmt(r.maxScore)}`, ""]];
  const w = head.map((_, c) => Math.min(60, Math.max(...all.map((row) => row[c].length))));
  const line = (row: string[]) => row.map((cell, c) => (cell.length > w[c] ? cell.slice(0, w[c] - 1) + "…" : cell.padEnd(w[c]))).join("  ").trimEnd();
  const rule = w.map((n) => "-".repeat(n)).join("  ");
  const out = [line(head), rule, ...rows.map(line), rule, line(all[all.length - 1])];
  const failures = r.tests.filter((t) => !t.passed && !t.output.startsWith("not run:"));
  if (r.notes.length > 0) out.unshift(...r.notes, "");
  if (failures.length > 0) out.push("", ...failures.map((t) => `${t.exercise} / ${t.test}:\n  ${studentText(t.output, 1000).replace(/\n/g, "\n  ")}`));
  return studentText(out.join("\n"), 64_000);
}

/** Atomic writes and their temp-file names come from the library (one implementation). */
export { writeFileAtomic, isAtomicTempFile as isTempFile } from "@course/lib";

/** A row of the gradebook. */
export interface GradebookRow {
  student: string;
  exercises: Record<string, number>;
  total: number;
}

/** gradebook.csv: student, one column per exercise (in first-seen order), total. */
export function gradebookCsv(rows: GradebookRow[]): string {
  const ids: string[] = [];
  for (const r of rows) for (const id of Object.keys(r.exercises)) if (!ids.includes(id)) ids.push(id);
  const esc = csvCell;
  const sorted = [...rows].sort((a, b) => (a.student < b.student ? -1 : a.student > b.student ? 1 : 0));
  const lines = [["student", ...ids, "total"].map(esc).join(",")];
  for (const r of sorted) lines.push([esc(r.student), ...ids.map((id) => (id in r.exercises ? fmt(r.exercises[id]) : "")), fmt(r.total)].join(","));
  return lines.join("\n") + "\n";
}

/** A gradebook row from a results.json we wrote (null if it is not one). */
export function rowFromResults(student: string, json: unknown): GradebookRow | null {
  const r = json as Partial<GradescopeResults> | null;
  if (!r || typeof r.score !== "number" || !r.extra_data || typeof r.extra_data.exercises !== "object") return null;
  const exercises: Record<string, number> = {};
  for (const [id, e] of Object.entries(r.extra_data.exercises)) exercises[id] = e.score;
  return { student, exercises, total: r.score };
}

function fmt(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
