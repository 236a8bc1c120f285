/**
 * Grading timings for `npm run bench`: one notebook-01 submission through the CLI (process start
 * included, as Gradescope runs it), and a batch of 40 submissions (a realistic mix: correct,
 * untouched stubs, one exercise wrong) on all cores.
 *
 * Targets (issue 3): one submission < 20 s, 40 in a batch < 5 min, on 2 cores.
 * Issue 15: the worst adversarial submission ({@link worstSubmission}) graded through the CLI in
 * < 3 min, with the grader process's peak resident memory < 1.5 GB (polled from /proc; the
 * type-checking process is reported beside it, sandbox children are limited on their own).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { instructorNotebook } from "../exercises";
import { Notebook, readNotebook, serializeNotebook } from "../notebook";

/** What {@link benchGrading} measured. */
export interface GradingBench {
  /** Wall seconds for one submission (CLI, process start included). */
  singleS: number;
  /** Wall seconds for the whole batch. */
  batchS: number;
  batchSize: number;
  jobs: number;
  /** Score of the reference submission (must be full marks) and the batch's results count. */
  singleScore: number;
  batchResults: number;
  /** The worst adversarial submission: wall seconds, peak RSS (MB) of the grader process and of grader + type checker. */
  worstS?: number;
  worstPeakMb?: number;
  worstTypeCheckerPeakMb?: number;
  worstScore?: number;
}

/** Options of {@link benchGrading}. */
export interface GradingBenchOptions {
  /** Course repository (default: this one). */
  root?: string;
  /** Submissions in the batch (default 40). */
  batchSize?: number;
  /** Workers (default: one per CPU). */
  jobs?: number;
  log?: (line: string) => void;
}

const TARGET_SINGLE_S = 20;
const TARGET_BATCH_S = 300;
const TARGET_WORST_S = 180;
const TARGET_WORST_MB = 1536;

/**
 * The worst submission of the adversarial classes for grading cost: the first exercise nested
 * 20,000 deep (the type checker overflows its stack), the second flooding the reply channel,
 * every other one an endless loop (each uses its exercise's whole time limit), and 50 MB of
 * outputs in an extra cell.
 */
export function worstSubmission(reference: Notebook): Notebook {
  const copy = JSON.parse(JSON.stringify(reference)) as Notebook;
  const cells = copy.cells.filter((c) => c.metadata.exercise !== undefined);
  cells.forEach((cell, k) => {
    const src = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    if (k === 0) cell.source = `const deep = ${"[".repeat(20_000)}${"]".repeat(20_000)};\n${src}`;
    else if (k === 1) cell.source = `const fs = require("fs");\nconst chunk = "\\n".repeat(1 << 19) + "x".repeat(1 << 19);\nfor (let sent = 0; sent < 40 << 20;) {\n  try { sent += fs.writeSync(3, chunk); } catch (e) { if ((e as { code?: string }).code !== "EAGAIN") break; }\n}\n${src}`;
    else cell.source = src.replace(/\{/, "{\n  for (;;) { /* endless */ }");
  });
  const text = `${"x".repeat(99)}\n`.repeat(510_000);
  copy.cells.push({ cell_type: "code", id: "huge-output", metadata: {}, execution_count: 1, source: "console.log(lots);", outputs: [{ output_type: "stream", name: "stdout", text }] } as unknown as Notebook["cells"][number]);
  return copy;
}

/** Children of a process (Linux /proc). */
function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** Grade {@link worstSubmission} of notebook 01 through the CLI: seconds, peak RSS (MB), score. */
export async function benchWorst(root: string): Promise<{ s: number; graderMb: number; checkerMb: number; score: number }> {
  const course = path.join(root, "notebooks", "01_score_matching.ipynb");
  const reference = instructorNotebook(readNotebook(course), course, path.join(root, "solutions"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-worst-"));
  try {
    const file = path.join(dir, "01_score_matching.ipynb");
    fs.writeFileSync(file, serializeNotebook(worstSubmission(reference)));
    const w = await gradeWorst(root, file, path.join(dir, "worst.json"));
    const score = (JSON.parse(fs.readFileSync(path.join(dir, "worst.json"), "utf8")) as { score: number }).score;
    return { ...w, score };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Grade `file` through the CLI, polling the grader's and the type checker's RSS. */
function gradeWorst(root: string, file: string, out: string): Promise<{ s: number; graderMb: number; checkerMb: number }> {
  const js = path.join(root, "tools", "dist", "grade.js");
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [js, file, "--out", out, "--quiet"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    let graderMb = 0;
    let checkerMb = 0;
    p.stderr.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    const poll = setInterval(() => {
      for (const g of childPids(p.pid ?? 0)) {
        graderMb = Math.max(graderMb, rssMb(g));
        const checker = childPids(g).filter((c) => cmdline(c).includes("compile-worker"));
        checkerMb = Math.max(checkerMb, ...checker.map(rssMb), 0);
      }
    }, 100);
    p.on("error", reject);
    p.on("exit", (code) => {
      clearInterval(poll);
      if (code === 0) resolve({ s: (performance.now() - t0) / 1000, graderMb, checkerMb });
      else reject(new Error(`grade exited ${code}: ${err}`));
    });
  });
}

/** A wrong variant of one exercise (the body of the reference region, slightly broken). */
function wrongVariant(nb: Notebook, k: number): Notebook {
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  const cells = copy.cells.filter((c) => c.metadata.exercise !== undefined);
  const cell = cells[k % cells.length];
  const src = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
  cell.source = src.replace(/Math\.sqrt\(1 - /g, "(1 - ").replace("tf.mean(", "tf.sum(").replace("tf.sub(x0Hat, z)", "tf.sub(z, x0Hat)");
  return copy;
}

/** Run the grade CLI; resolves with wall seconds. */
function runGrade(args: string[], root: string): Promise<number> {
  const js = path.join(root, "tools", "dist", "grade.js");
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [js, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`grade exited ${code}: ${err}`))));
  });
}

/** Measure grading one submission and a batch; the numbers and whether they meet the targets. */
export async function benchGrading(opts: GradingBenchOptions = {}): Promise<GradingBench> {
  const root = opts.root ?? path.resolve(__dirname, "..", "..", "..");
  const log = opts.log ?? (() => undefined);
  const n = opts.batchSize ?? 40;
  const jobs = opts.jobs ?? Math.max(1, os.cpus().length);
  const course = path.join(root, "notebooks", "01_score_matching.ipynb");
  const stubs = readNotebook(course);
  const reference = instructorNotebook(stubs, course, path.join(root, "solutions"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-grade-"));
  try {
    const single = path.join(dir, "01_score_matching.ipynb");
    fs.writeFileSync(single, serializeNotebook(reference));
    log("grading one notebook-01 submission …");
    const singleS = await runGrade([single, "--out", path.join(dir, "single.json"), "--quiet"], root);
    const singleScore = (JSON.parse(fs.readFileSync(path.join(dir, "single.json"), "utf8")) as { score: number }).score;
    const subs = path.join(dir, "submissions");
    fs.mkdirSync(subs);
    for (let i = 0; i < n; i++) {
      const nb = i % 4 === 0 ? stubs : i % 4 === 1 ? wrongVariant(reference, i) : reference;
      fs.writeFileSync(path.join(subs, `student_${String(i + 1).padStart(2, "0")}.ipynb`), serializeNotebook(nb));
    }
    log(`grading a batch of ${n} with ${jobs} workers …`);
    const out = path.join(dir, "grades");
    const batchS = await runGrade([subs, "--out", out, "--jobs", String(jobs), "--quiet"], root);
    const batchResults = fs.readdirSync(out).filter((f) => f.endsWith(".json")).length;
    log("grading the worst adversarial submission …");
    const w = await benchWorst(root);
    return { singleS, batchS, batchSize: n, jobs, singleScore, batchResults, worstS: w.s, worstPeakMb: w.graderMb, worstTypeCheckerPeakMb: w.checkerMb, worstScore: w.score };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Table rows for tools/bench.ts: [label, value, note]. */
export function gradingBenchRows(b: GradingBench): Array<[string, string, string]> {
  return [
    ["grade one notebook-01 submission (CLI)", `${b.singleS.toFixed(1)} s`, `target < ${TARGET_SINGLE_S} s: ${b.singleS < TARGET_SINGLE_S ? "met" : "MISSED"} (score ${b.singleScore})`],
    [`grade ${b.batchSize} submissions (batch, ${b.jobs} workers)`, `${b.batchS.toFixed(1)} s`, `target < ${TARGET_BATCH_S} s: ${b.batchS < TARGET_BATCH_S ? "met" : "MISSED"} (${b.batchResults} results)`],
    ...(b.worstS === undefined ? [] : [
      ["grade the worst adversarial submission (CLI)", `${b.worstS.toFixed(1)} s`, `target < ${TARGET_WORST_S} s: ${b.worstS < TARGET_WORST_S ? "met" : "MISSED"} (score ${b.worstScore})`] as [string, string, string],
      ["grader peak memory, worst adversarial submission", `${Math.round(b.worstPeakMb ?? 0)} MB`, `target < ${TARGET_WORST_MB} MB: ${(b.worstPeakMb ?? 0) < TARGET_WORST_MB ? "met" : "MISSED"}; type checker ${Math.round(b.worstTypeCheckerPeakMb ?? 0)} MB (heap-capped separately)`] as [string, string, string],
    ]),
  ];
}
