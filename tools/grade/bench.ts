/**
 * Grading timings for `npm run bench`: one notebook-01 submission through the CLI (process start
 * included, as Gradescope runs it), and a batch of 40 submissions (a realistic mix: correct,
 * untouched stubs, one exercise wrong) on all cores.
 *
 * Targets (issue 3): one submission < 20 s, 40 in a batch < 5 min, on 2 cores.
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
    return { singleS, batchS, batchSize: n, jobs, singleScore, batchResults };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Table rows for tools/bench.ts: [label, value, note]. */
export function gradingBenchRows(b: GradingBench): Array<[string, string, string]> {
  return [
    ["grade one notebook-01 submission (CLI)", `${b.singleS.toFixed(1)} s`, `target < ${TARGET_SINGLE_S} s: ${b.singleS < TARGET_SINGLE_S ? "met" : "MISSED"} (score ${b.singleScore})`],
    [`grade ${b.batchSize} submissions (batch, ${b.jobs} workers)`, `${b.batchS.toFixed(1)} s`, `target < ${TARGET_BATCH_S} s: ${b.batchS < TARGET_BATCH_S ? "met" : "MISSED"} (${b.batchResults} results)`],
  ];
}
