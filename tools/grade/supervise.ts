/**
 * The grader's supervising parent: `npm run grade` starts the real grader as a child process
 * (`grade.js --supervised …`, with a V8 heap cap) and stays small itself, so that whatever
 * happens to the grader — its own out-of-memory abort, a crash, a SIGKILL from outside, a
 * runaway RSS — every submission still gets a results file:
 * - single mode: a valid results.json at the usual path ("autograder error" with the reason,
 *   score 0, no tests that disagree with the total) unless the grader wrote one this run;
 * - batch: a results file and a gradebook row for every submission of the folder (those the
 *   grader did not finish get the autograder error; a rerun regrades them).
 * Limits enforced here: {@link GRADER_HEAP_MB} of V8 heap (inherited by the batch's workers) and
 * {@link GRADER_RSS_MB} of resident memory, polled from /proc, then SIGKILL.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { readProc } from "./sandbox-fs";
import { cleanText } from "./text";

/** V8 heap of the grader process (and of each batch worker, which inherit it). */
export const GRADER_HEAP_MB = 1024;
/** Resident memory of the grader process before the supervisor kills it. */
export const GRADER_RSS_MB = 1400;
const WATCH_MS = 200;

/** What to write when the grader dies. */
export type Fallback = (why: string) => void;

/** What the supervisor saw (for tests and the bench). */
export interface Supervised {
  code: number;
  /** Peak resident memory of the grader process (MB), polled. */
  peakRssMb: number;
  /** Set when the grader died and the fallback results were written. */
  died?: string;
}

/**
 * Run `grade.js --supervised <argv>` and wait. Exit codes 0, 1, 2 and 130 are the grader's own
 * answers and pass through; anything else (a signal, an abort, an unexpected code) calls
 * `fallback` with a reason and returns 0 (results written), or 1 if the fallback failed.
 */
export function supervise(script: string, argv: string[], fallback: Fallback, opts: { rssMb?: number; heapMb?: number } = {}): Promise<Supervised> {
  const rssCap = opts.rssMb ?? GRADER_RSS_MB;
  // COURSE_GRADE_HEAP_MB starves the grader on purpose (tests of the fallback)
  opts = { ...opts, heapMb: opts.heapMb ?? (Number(process.env.COURSE_GRADE_HEAP_MB) || GRADER_HEAP_MB) };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${opts.heapMb ?? GRADER_HEAP_MB}`, script, "--supervised", ...argv], { stdio: ["ignore", "inherit", "pipe"] });
    let stderrTail = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d: string) => {
      process.stderr.write(cleanText(d));
      stderrTail = (stderrTail + d).slice(-4000);
    });
    let peak = 0;
    let killedFor: string | null = null;
    const watch = setInterval(() => {
      const st = child.pid ? readProc(child.pid) : null;
      if (!st) return;
      peak = Math.max(peak, st.rssKb / 1024);
      if (st.rssKb > rssCap * 1024 && !killedFor) {
        killedFor = `the grader used more than ${rssCap} MB of memory`;
        child.kill("SIGKILL");
      }
    }, WATCH_MS);
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.on("close", (code, signal) => {
      clearInterval(watch);
      process.removeListener("SIGINT", onInt);
      process.removeListener("SIGTERM", onTerm);
      const peakRssMb = Math.round(peak);
      if (!killedFor && signal === null && code !== null && [0, 1, 2, 130].includes(code)) return resolve({ code, peakRssMb });
      const oom = /heap out of memory|Reached heap limit|Allocation failed/.test(stderrTail);
      const why = killedFor ?? (oom ? `the grader ran out of memory (more than ${opts.heapMb ?? GRADER_HEAP_MB} MB of heap)`
        : `the grading process ended unexpectedly (${signal ?? `exit code ${code}`})`);
      try {
        fallback(why);
        resolve({ code: 0, peakRssMb, died: why });
      } catch (e) {
        process.stderr.write(`grade: the grader died (${why}) and its results could not be written: ${(e as Error).message}\n`);
        resolve({ code: 1, peakRssMb, died: why });
      }
    });
    child.on("error", (e) => {
      process.stderr.write(`grade: cannot start the grader: ${e.message}\n`);
    });
  });
}

/** True when `file` holds a results file written after `since` (ms since epoch). */
export function writtenSince(file: string, since: number): boolean {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.mtimeMs < since - 1000) return false;
    const json = JSON.parse(fs.readFileSync(file, "utf8")) as { score?: unknown };
    return typeof json.score === "number";
  } catch {
    return false;
  }
}

/** The compiled grade.js next to this module. */
export function gradeScript(): string {
  const near = path.resolve(__dirname, "..", "grade.js");
  return fs.existsSync(near) ? near : path.resolve(__dirname, "..", "dist", "grade.js");
}
