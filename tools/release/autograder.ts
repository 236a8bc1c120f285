/**
 * The Gradescope autograder bundle for week N (`npm run release -- --autograder --week N --out DIR`).
 *
 * Gradescope's layout (gradescope-autograders.readthedocs.io, "Autograder Specifications"): the
 * zip's root holds `setup.sh` (run once as root when the image is built; unzipped in
 * /autograder/source) and `run_autograder` (run per submission, working directory /autograder),
 * which must write /autograder/results/results.json from /autograder/submission/.
 *
 * The bundle holds the course files the grader needs: package files (scripts: build and grade
 * only; postinstall builds, no Jupyter kernelspec), lib/ sources, tools/ including the grader
 * (not the release code), the notebooks of weeks ≤ N (the course's exercise list and stubs),
 * their solutions, the exercise harness, public checks and hidden suites, checkpoints/ and
 * datasets/. `autograder.zip` (the same files, at the zip's root) is written next to them when
 * `zip` is available.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Course, relPath, walkFiles } from "../course";
import { releasedNotebooks } from "./weeks";
import { Plan, pruneBrokenImports, template } from "./files";

/** Marks an output folder as an autograder bundle. */
export const BUNDLE_MANIFEST = "autograder.json";

/** Bundle settings. */
export interface BundleOptions {
  week: number;
  /** Per-run grading limit written into run_autograder (seconds). */
  timeoutS: number;
  /** Minimum Node.js version setup.sh insists on. */
  nodeMin: string;
}

/**
 * The oldest Node.js that both the course (package.json `engines.node`, ">=18.17" → "18.17") and
 * the grader accept: the grader's sandbox needs Node 20 when its sources use
 * `--experimental-permission` (Node 22 when they know only `--permission`).
 */
export function nodeMinimum(root: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { engines?: { node?: string } };
  const m = /(\d+)(?:\.(\d+))?/.exec(pkg.engines?.node ?? "");
  let best: [number, number] = m ? [Number(m[1]), Number(m[2] ?? 0)] : [18, 17];
  const grader = walkFiles(path.join(root, "tools"), (rel, isDir) => isDir && /^(dist|release)$/.test(rel)).filter((f) => /grade/.test(relPath(root, f)) && f.endsWith(".ts"));
  for (const f of grader) {
    const text = fs.readFileSync(f, "utf8");
    const need: [number, number] = /--experimental-permission\b/.test(text) ? [20, 0] : /["'`]--permission\b/.test(text) ? [22, 0] : [0, 0];
    if (need[0] > best[0] || (need[0] === best[0] && need[1] > best[1])) best = need;
  }
  return `${best[0]}.${best[1]}`;
}

/** The Node.js version setup.sh installs from npm when apt's is too old: this one, if new enough. */
export function nodePin(nodeMin: string, version = process.versions.node): string {
  const [maj, min] = nodeMin.split(".").map(Number);
  const [a, b] = version.split(".").map(Number);
  return a > maj || (a === maj && b >= min) ? version : String(maj);
}

/** The plan of the week-`week` autograder bundle. */
export function bundlePlan(course: Course, opts: BundleOptions): Plan {
  const root = course.layout.root;
  const plan: Plan = { files: [], dropped: [] };
  const notebooks = releasedNotebooks(course, opts.week);
  const stems = new Set(notebooks.map((n) => n.stem));
  const copy = (dirRel: string, skip: (rel: string, isDir: boolean) => boolean = () => false) => {
    for (const f of walkFiles(path.join(root, dirRel), (rel, isDir) => rel.split("/").some((s) => s.startsWith(".")) || skip(rel, isDir))) {
      plan.files.push({ to: relPath(root, f), from: f });
    }
  };
  for (const name of ["package-lock.json", "tsconfig.base.json", "tsconfig.json"]) {
    if (fs.existsSync(path.join(root, name))) plan.files.push({ to: name, from: path.join(root, name) });
  }
  for (const name of ["package.json", "tsconfig.json"]) plan.files.push({ to: `lib/${name}`, from: path.join(root, "lib", name) });
  copy("lib/src");
  copy("tools", (rel, isDir) => (isDir ? /^(dist|release)$/.test(rel) : /^release\.ts$/.test(rel) || /\.tsbuildinfo$/.test(rel)));
  copy("checkpoints");
  copy("datasets");
  const ofShipped = (rel: string) => {
    const m = /(?:^|\/)(\d\d_[^/.]+)\.[^/]+$/.exec(rel);
    return !m || stems.has(m[1]);
  };
  copy("tests/exercises", (rel, isDir) => !isDir && !ofShipped(rel));
  for (const nb of notebooks) {
    plan.files.push({ to: nb.rel, from: nb.file });
    if (nb.solutionsFile) plan.files.push({ to: relPath(root, nb.solutionsFile), from: nb.solutionsFile });
  }
  pruneBrokenImports(plan);

  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, unknown> & { scripts?: Record<string, string>; name?: string };
  const scripts: Record<string, string> = { postinstall: "npm run build" };
  for (const k of ["build", "grade"]) if (pkg.scripts?.[k]) scripts[k] = pkg.scripts[k];
  plan.files.push({ to: "package.json", content: JSON.stringify({ ...pkg, scripts }, null, 2) + "\n" });
  plan.files.push({ to: "jest.config.js", from: path.join(root, "jest.config.js") });

  const vars = {
    COURSE: pkg.name ?? "course",
    WEEK: String(opts.week),
    NODE_MIN: opts.nodeMin,
    TIMEOUT_S: String(opts.timeoutS),
    // The assignment is the week's notebook (the last one released if none is due this week).
    ASSIGNMENT: (notebooks.filter((n) => n.week === opts.week).pop() ?? notebooks[notebooks.length - 1])?.stem ?? "",
    NODE_PIN: nodePin(opts.nodeMin),
  };
  plan.files.push({ to: "setup.sh", content: template("setup.sh.tmpl", vars), executable: true });
  plan.files.push({ to: "run_autograder", content: template("run_autograder.tmpl", vars), executable: true });
  plan.files.push({
    to: BUNDLE_MANIFEST,
    content: JSON.stringify({ course: vars.COURSE, week: opts.week, notebooks: notebooks.map((n) => n.rel), nodeMin: opts.nodeMin }, null, 1) + "\n",
  });
  plan.files.sort((a, b) => a.to.localeCompare(b.to));
  return plan;
}

/** Zip the bundle folder's contents (not the folder) into `<dir>/autograder.zip`; null when `zip` is missing. */
export function zipBundle(dir: string): string | null {
  const zipFile = path.join(dir, "autograder.zip");
  const probe = spawnSync("zip", ["-v"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) return null;
  fs.rmSync(zipFile, { force: true });
  const r = spawnSync("zip", ["-r", "-X", "-q", "autograder.zip", ".", "-x", "autograder.zip"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`zip failed: ${r.stderr || r.stdout}`);
  return zipFile;
}
