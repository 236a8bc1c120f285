/**
 * `npm run grade`: the autograder CLI — one submission, a Gradescope submission folder, or a
 * batch folder. See {@link USAGE}; the work is in tools/grade/ (score.ts grades one notebook,
 * batch.ts runs workers, results.ts writes Gradescope's results.json and the gradebook,
 * supervise.ts is the parent that writes results for every submission if the grader dies).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { completeBatchAfterCrash, defaultJobs, gradeBatch, pickFromFolder, runWorker } from "./grade/batch";
import { formatTable, toGradescope, writeFileAtomic } from "./grade/results";
import { failedReport, GradeOptions, Grader, GradeReport } from "./grade/score";
import { gradeScript, supervise, writtenSince } from "./grade/supervise";
import { cleanText } from "./grade/text";
import type { SandboxLimits } from "./grade/sandbox";

/** The CLI's help text. */
export const USAGE = `usage: npm run grade -- <submission.ipynb | folder> [options]
       node tools/dist/grade.js <submission.ipynb | folder> [options]

Grade notebook submissions: each exercise cell (found by its metadata id) is compiled on its own
and run in a restricted child process against the hidden suite (tests/exercises/hidden/NN_*.ts);
the reference results (solutions/) are computed in this process. Writes Gradescope's results.json.

  one notebook   npm run grade -- alice.ipynb [--out results.json]
  Gradescope     node tools/dist/grade.js /autograder/submission --out /autograder/results/results.json
                 (a folder with --gradescope, or with --out FILE.json, is ONE submission: its single
                 .ipynb, found recursively; none or several → a results file with score 0 saying so)
  batch          npm run grade -- submissions/ --out grades/
                 (<student>.ipynb or <student>/<one>.ipynb each → grades/<student>.json, plus
                 grades/gradebook.csv; parallel workers, progress bar, resumable)

options:
  --out PATH       one notebook: results file (default <notebook>.results.json beside it; an existing
                   directory or a path ending in / → <dir>/<notebook>.json); batch: output folder
                   (default <folder>-grades)
  --gradescope     treat the folder as a single submission (see above)
  --force          batch: regrade students that already have a valid results file
  --jobs N         batch: parallel workers (default: one per CPU, here ${defaultJobs()})
  --notebook NN    grade as this course notebook (name or number); default: recognised by the
                   exercise ids in the submission, then by an NN_ file name
  --assignment NN  the notebook this submission or batch is for (name or number), used when a
                   submission cannot be recognised or has no notebook; batch default: the most
                   common NN_ prefix of the batch's notebook files
  --seed N         reuse the random inputs of an earlier run (its results.json extra_data.seed)
  --limit K=V      sandbox limit, repeatable: perCallMs, totalMs, cpuSeconds, memoryMb, outputBytes
  --root DIR       course repository (default: the one this grader belongs to)
  --quiet          no table (one notebook) / no progress bar (batch)
  --help           this text

The grader runs as a child of a small supervising process (1 GB V8 heap, killed past 1.4 GB of
RSS): if it dies, every submission still gets a results file saying the autograder failed (a batch
rerun regrades those). Each exercise cell is type-checked in its own limited process (30 s, 768 MB).

environment: COURSE_GRADE_UNSUPERVISED=1  no supervising process (debugging)
             COURSE_SANDBOX_NO_UNSHARE=1  behave as in a container that forbids unshare (no network
                                          or mount namespace: the stated fallback layers only)

exit code: 0 graded — whatever the score; a notebook that cannot be read, or a failure of the
autograder itself, still gets a results file with score 0 and the reason; 1 a results file could not
be written; 2 usage error (bad arguments, no such submission); 130 a batch was interrupted (the files
written so far are complete; rerun to resume).`;

/** Bad command line (exit code 2). */
class UsageError extends Error {}

/** Parsed command line. */
interface CliArgs {
  target: string;
  out?: string;
  gradescope: boolean;
  force: boolean;
  jobs: number;
  quiet: boolean;
  grade: GradeOptions;
}

const LIMIT_KEYS: Array<keyof SandboxLimits> = ["perCallMs", "totalMs", "cpuSeconds", "memoryMb", "outputBytes"];

function parseArgs(argv: string[]): CliArgs | null {
  const a: Partial<CliArgs> & { grade: GradeOptions } = { gradescope: false, force: false, jobs: defaultJobs(), quiet: false, grade: { root: path.resolve(__dirname, "..", "..") } };
  const limits: Partial<SandboxLimits> = {};
  const value = (i: number, flag: string) => {
    if (argv[i + 1] === undefined) throw new UsageError(`${flag} needs a value`);
    return argv[i + 1];
  };
  const int = (s: string, flag: string) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`${flag} needs a non-negative integer, got '${s}'`);
    return Number(s);
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === "-h" || f === "--help") return null;
    else if (f === "--out") a.out = value(i++, f);
    else if (f === "--gradescope") a.gradescope = true;
    else if (f === "--force") a.force = true;
    else if (f === "--quiet") a.quiet = true;
    else if (f === "--jobs") a.jobs = Math.max(1, int(value(i++, f), f));
    else if (f === "--seed") a.grade.seed = int(value(i++, f), f);
    else if (f === "--notebook") a.grade.notebook = value(i++, f);
    else if (f === "--assignment") a.grade.assignment = value(i++, f);
    else if (f === "--root") a.grade.root = path.resolve(value(i++, f));
    else if (f === "--limit") {
      const m = /^(\w+)=(\d+)$/.exec(value(i++, f));
      if (!m || !LIMIT_KEYS.includes(m[1] as keyof SandboxLimits)) throw new UsageError(`--limit wants K=V with K one of ${LIMIT_KEYS.join(", ")}`);
      limits[m[1] as keyof SandboxLimits] = Number(m[2]);
    } else if (f.startsWith("-")) throw new UsageError(`unknown option ${f}`);
    else if (a.target === undefined) a.target = f;
    else throw new UsageError(`one submission or folder at a time (got '${a.target}' and '${f}')`);
  }
  if (a.target === undefined) throw new UsageError("which submission? give a .ipynb file or a folder");
  if (Object.keys(limits).length > 0) a.grade.limits = limits;
  return a as CliArgs;
}

/** Where a single submission's results go. */
function singleOut(args: CliArgs, stem: string, fallbackDir: string): string {
  const out = args.out;
  if (!out) return path.join(fallbackDir, `${stem}.results.json`);
  if (out.endsWith("/") || out.endsWith(path.sep) || (fs.existsSync(out) && fs.statSync(out).isDirectory())) return path.join(out, `${stem}.json`);
  return path.resolve(out);
}

/** The notebook a single submission grades (a Gradescope folder's one notebook), its stem and results path. */
function singleTarget(args: CliArgs, isDir: boolean): { file: string | null; problem?: string; stem: string; out: string } {
  const target = path.resolve(args.target);
  let stem = path.basename(target).replace(/\.ipynb$/, "");
  let pick: { file: string | null; problem?: string } = { file: target };
  if (isDir) {
    pick = pickFromFolder(target);
    if (pick.file) stem = path.basename(pick.file, ".ipynb");
  }
  return { ...pick, stem, out: singleOut(args, cleanText(stem), isDir ? target : path.dirname(target)) };
}

/** Grade one submission (a notebook, or a Gradescope submission folder) and write its results. */
async function gradeOne(args: CliArgs, isDir: boolean): Promise<number> {
  const grader = new Grader({ ...args.grade, concurrency: os.cpus().length });
  const target = path.resolve(args.target);
  let report: GradeReport;
  let out: string;
  try {
    const t = singleTarget(args, isDir);
    out = t.out;
    report = t.file ? await grader.grade(t.file) : grader.ungradable(path.basename(target), t.problem ?? "no notebook", args.grade.notebook);
  } catch (e) {
    out = singleOut(args, path.basename(target).replace(/\.ipynb$/, ""), isDir ? target : path.dirname(target));
    report = failedReport(path.basename(target), (e as Error).message ?? String(e));
  } finally {
    grader.close();
  }
  try {
    writeFileAtomic(out, JSON.stringify(toGradescope(report), null, 2) + "\n");
  } catch (e) {
    process.stderr.write(`grade: cannot write ${out}: ${(e as Error).message}\n`);
    return 1;
  }
  if (!args.quiet) process.stdout.write(`${formatTable(report)}\n\nresults: ${out}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--worker") {
    runWorker(argv[1] ?? "{}");
    return -1;
  }
  const supervised = argv[0] === "--supervised";
  if (supervised) argv = argv.slice(1);
  let args: CliArgs | null;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`grade: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const target = path.resolve(args.target);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target); // a symlinked submission is reported, never followed
  } catch {
    process.stderr.write(`grade: no such file or folder: ${cleanText(args.target)}\n`);
    return 2;
  }
  const isDir = st.isDirectory();
  const single = !isDir || args.gradescope || (args.out ?? "").endsWith(".json");
  const out = path.resolve(args.out ?? `${target.replace(/[\\/]+$/, "")}-grades`);
  if (!supervised && process.env.COURSE_GRADE_UNSUPERVISED !== "1") {
    const a = args;
    const since = Date.now();
    const fallback = single
      ? (why: string) => {
        let file: string;
        try {
          file = singleTarget(a, isDir).out;
        } catch {
          file = singleOut(a, path.basename(target).replace(/\.ipynb$/, ""), isDir ? target : path.dirname(target));
        }
        if (!writtenSince(file, since)) writeFileAtomic(file, JSON.stringify(toGradescope(failedReport(path.basename(target), why)), null, 2) + "\n");
        process.stderr.write(`grade: ${why}; results: ${file}\n`);
      }
      : (why: string) => {
        const n = completeBatchAfterCrash(target, out, why);
        process.stderr.write(`grade: ${why}; ${n} submissions got an autograder-error result (a rerun regrades them); gradebook: ${path.join(out, "gradebook.csv")}\n`);
      };
    return (await supervise(gradeScript(), argv, fallback)).code;
  }
  if (single) return gradeOne(args, isDir);
  const summary = await gradeBatch({ folder: target, out, jobs: args.jobs, force: args.force, grade: args.grade, progress: args.quiet ? "none" : "auto" });
  if (summary.interrupted) {
    process.stderr.write(`grade: interrupted; ${summary.graded.length + summary.failed.length} graded this run (complete files only); rerun to resume\n`);
    return 130;
  }
  process.stdout.write(`graded ${summary.graded.length}, skipped ${summary.skipped.length} (already graded; --force regrades)` +
    `${summary.failed.length ? `, autograder failed on ${summary.failed.length}: ${summary.failed.join(", ")}` : ""}\ngradebook: ${summary.gradebook}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (e) => {
      process.stderr.write(`grade: internal error: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
