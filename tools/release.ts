/**
 * Student releases, Gradescope autograder bundles, and the release leak check.
 *
 *   node tools/dist/release.js --week N --out DIR [--withhold-solutions] [--force]
 *   node tools/dist/release.js --autograder --week N --out DIR [--timeout S] [--no-zip] [--force]
 *   node tools/dist/release.js --check DIR [--week N]
 *
 * A student release is checked for leaks as its last step (release/leakcheck.ts) and the
 * command fails if anything leaks. Exit code: 0 done / clean, 1 a leak or a README that is not
 * true for the release, 2 usage error or a malformed course (bad notebook or solutions file).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { courseLayout, loadCourse } from "./course";
import { ExerciseError } from "./exercises";
import { NotebookError } from "./notebook";
import { repoRoot } from "./run";
import { BUNDLE_MANIFEST, bundlePlan, nodeMinimum, zipBundle } from "./release/autograder";
import { prepareOut, writePlan } from "./release/files";
import { checkRelease, formatReport } from "./release/leakcheck";
import { readmeProblems } from "./release/readme";
import { MANIFEST, studentPlan } from "./release/student";

/** The CLI's help text. */
export const USAGE = `usage:
  node tools/dist/release.js --week N --out DIR [--withhold-solutions] [--force]
      the student repository for week N: notebooks of weeks ≤ N, stubs for exercises due in
      week N or later, reference solutions of earlier weeks (unless --withhold-solutions), the
      public checks only; ends with the leak check
  node tools/dist/release.js --autograder --week N --out DIR [--timeout S] [--no-zip] [--force]
      the Gradescope autograder bundle for week N (setup.sh, run_autograder, the grader, the
      hidden suites and solutions) and DIR/autograder.zip
  node tools/dist/release.js --check DIR [--week N]
      the leak check alone: exit 1 if DIR holds solution text not yet released in week N or any
      hidden test (N defaults to the week in DIR/${MANIFEST})

  --force       replace DIR when it holds an earlier release/bundle
  --timeout S   grading time limit per notebook in run_autograder (default 900)
  --root DIR    the course repository (default: this checkout)

exit code: 0 done; 1 a leak (or a README that is untrue for the release); 2 usage error or a
malformed course`;

class UsageError extends Error {}

interface Args {
  kind: "student" | "autograder" | "check" | "help";
  week?: number;
  out?: string;
  withhold: boolean;
  force: boolean;
  zip: boolean;
  timeoutS: number;
  root: string;
}

/** Parse the command line; throws UsageError. */
export function parseArgs(argv: string[]): Args {
  const a: Args = { kind: "student", withhold: false, force: false, zip: true, timeoutS: 900, root: repoRoot() };
  const value = (i: number) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${argv[i]} needs a value`);
    return v;
  };
  let check: string | undefined;
  let autograder = false;
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === "--help" || x === "-h") return { ...a, kind: "help" };
    else if (x === "--week") {
      const v = value(i++);
      if (!/^\d+$/.test(v)) throw new UsageError(`--week must be a whole number (got '${v}')`);
      a.week = Number(v);
    } else if (x === "--out") a.out = path.resolve(value(i++));
    else if (x === "--check") check = path.resolve(value(i++));
    else if (x === "--autograder") autograder = true;
    else if (x === "--withhold-solutions") a.withhold = true;
    else if (x === "--force") a.force = true;
    else if (x === "--no-zip") a.zip = false;
    else if (x === "--root") a.root = path.resolve(value(i++));
    else if (x === "--timeout") {
      const v = Number(value(i++));
      if (!(v > 0)) throw new UsageError("--timeout must be a positive number of seconds");
      a.timeoutS = Math.round(v);
    } else throw new UsageError(`unknown argument ${x}`);
  }
  if (check !== undefined) {
    if (autograder || a.out) throw new UsageError("--check takes a release folder and optionally --week, nothing else");
    return { ...a, kind: "check", out: check };
  }
  if (a.week === undefined) throw new UsageError("--week N is required");
  if (!a.out) throw new UsageError("--out DIR is required");
  if (autograder && a.withhold) throw new UsageError("--withhold-solutions applies to student releases only");
  return { ...a, kind: autograder ? "autograder" : "student" };
}

function weekOfRelease(dir: string): number {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new UsageError(`${dir} has no ${MANIFEST}: give --week N`);
  const week = (JSON.parse(fs.readFileSync(file, "utf8")) as { week?: unknown }).week;
  if (typeof week !== "number") throw new UsageError(`${file} has no numeric "week": give --week N`);
  return week;
}

/** The CLI; returns the exit code. */
export function main(argv: string[]): number {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`release: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  try {
    const course = loadCourse(courseLayout(args.root));
    const out = args.out as string;
    if (args.kind === "check") {
      if (!fs.existsSync(out)) throw new UsageError(`${out} does not exist`);
      const report = checkRelease(out, course, args.week ?? weekOfRelease(out));
      console.log(formatReport(report));
      return report.findings.length === 0 ? 0 : 1;
    }
    const week = args.week as number;
    if (!course.notebooks.some((n) => n.week <= week)) throw new UsageError(`no notebook belongs to week ${week} or earlier`);
    if (args.kind === "autograder") {
      prepareOut(out, args.force, BUNDLE_MANIFEST, args.root);
      const plan = bundlePlan(course, { week, timeoutS: args.timeoutS, nodeMin: nodeMinimum(args.root) });
      writePlan(plan, out);
      const zip = args.zip ? zipBundle(out) : null;
      console.log(`autograder bundle for week ${week}: ${out} (${plan.files.length} files)`);
      for (const d of plan.dropped) console.log(`  left out ${d.path}: ${d.why}`);
      console.log(zip ? `upload ${zip} to Gradescope` : `zip the folder's contents (not the folder): cd ${out} && zip -r ../autograder.zip .`);
      return 0;
    }
    prepareOut(out, args.force, MANIFEST, args.root);
    const { plan, manifest } = studentPlan(course, { week, withholdSolutions: args.withhold });
    writePlan(plan, out);
    console.log(`student release for week ${week}: ${out} (${plan.files.length} files)`);
    for (const nb of manifest.notebooks) {
      console.log(`  ${nb.file}: ${nb.exercises.map((e) => `${e.id} ${e.solution === "released" ? "(solution)" : "(stub)"}`).join(", ") || "no exercises"}`);
    }
    for (const d of plan.dropped) console.log(`  left out ${d.path}: ${d.why}`);
    const scripts = (JSON.parse(fs.readFileSync(path.join(out, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const untrue = readmeProblems(fs.readFileSync(path.join(out, "README.md"), "utf8"), out, scripts);
    for (const p of untrue) console.error(`README: ${p}`);
    const report = checkRelease(out, course, week);
    console.log(formatReport(report));
    if (report.findings.length > 0) console.error(`release: the release in ${out} leaks (see above): do not publish it`);
    return report.findings.length === 0 && untrue.length === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError || e instanceof NotebookError || e instanceof ExerciseError) {
      console.error(`release: ${e.message}`);
      return 2;
    }
    if (e instanceof Error && /^--out |release templates|jest\.config/.test(e.message)) {
      console.error(`release: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
