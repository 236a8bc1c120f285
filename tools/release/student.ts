/**
 * The student repository for week N (`npm run release -- --week N --out DIR`).
 *
 * Ships: package.json (student scripts only), package-lock.json, tsconfig*, jest.config.js
 * (plus student mode for the exercise checks), .gitignore, a generated README, lib/ sources,
 * the tools that run notebooks (no grader, no release code), checkpoints/, datasets/, the
 * notebooks of weeks ≤ N (stubs for exercises due in week N or later, reference solutions
 * filled in for earlier weeks unless withheld), solutions/ with the released regions only,
 * tests/lib, the public exercise checks and their harness, student-mode notebook tests, and
 * tests/tools without grader or release tests. Never: tests/exercises/hidden, grader code,
 * solutions not yet due, build outputs.
 *
 * Student mode: `npm start` runs tools/start.ts (exit 0 while only stubs fail) and the public
 * checks test the student's notebook functions, skipping those still stubs (student-mode.ts).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { Course, relPath, walkFiles } from "../course";
import { serializeNotebook } from "../notebook";
import { codeDigest } from "../notebook-digest";
import { INSTRUCTOR_ONLY, jestConfig, Plan, PlanFile, pruneBrokenImports, scriptsThatWork, template } from "./files";
import { releasedIds, releasedSolutionsText, studentNotebook } from "./notebooks";
import { ReadmeFacts, studentReadme } from "./readme";
import { releasedNotebooks } from "./weeks";

/** The release's manifest file (also marks an output folder as a release). */
export const MANIFEST = "course-release.json";

/** Scripts a student needs; everything else (grade, release, …) is dropped. */
export const STUDENT_SCRIPTS = ["postinstall", "build", "start", "test", "run-notebooks", "train", "bench", "slides", "book"];

/** Student release settings. */
export interface StudentOptions {
  week: number;
  withholdSolutions: boolean;
}

/** The manifest: what the release holds, per notebook and exercise. */
export interface Manifest {
  course: string;
  week: number;
  solutionsWithheld: boolean;
  /** Per notebook: its exercises, and the digest of its code cells as released (tools/notebook-digest.ts). */
  notebooks: { file: string; week: number; codeSha256: string; exercises: { id: string; points: number; week: number | string; solution: "released" | "stub" }[] }[];
}

function copyTree(course: Course, dirRel: string, plan: Plan, skip: (rel: string, isDir: boolean) => boolean = () => false): void {
  const root = course.layout.root;
  const dotted = (rel: string) => rel.split("/").some((seg) => seg.startsWith("."));
  for (const f of walkFiles(path.join(root, dirRel), (rel, isDir) => dotted(rel) || skip(rel, isDir))) plan.files.push({ to: relPath(root, f), from: f });
}

function toolsAndTests(course: Course, plan: Plan, shippedStems: Set<string>): void {
  const root = course.layout.root;
  const instructorOnly = (rel: string, isDir: boolean) => {
    if (INSTRUCTOR_ONLY.test(rel)) plan.dropped.push({ path: rel, why: "instructor only (grader, release, experiments, hidden or submission material)" });
    else if ((isDir && /(^|\/)(dist|node_modules)$/.test(rel)) || /\.tsbuildinfo$/.test(rel)) plan.dropped.push({ path: rel, why: "build output" });
    else return false;
    return true;
  };
  copyTree(course, "tools", plan, (rel, isDir) => instructorOnly(`tools/${rel}`, isDir));
  copyTree(course, "tests/lib", plan);
  copyTree(course, "tests/tools", plan, (rel, isDir) => instructorOnly(`tests/tools/${rel}`, isDir));
  for (const f of walkFiles(path.join(root, "tests", "exercises"), (rel, isDir) => isDir && rel === "hidden")) {
    const rel = relPath(root, f);
    const m = /^tests\/exercises\/(\d\d_[^/.]+)\./.exec(rel);
    if (m && !shippedStems.has(m[1])) plan.dropped.push({ path: rel, why: "checks of a notebook not in this release" });
    else if (INSTRUCTOR_ONLY.test(rel)) plan.dropped.push({ path: rel, why: "instructor only" });
    else plan.files.push({ to: rel, from: f });
  }
  const claims = path.join(root, "tests", "notebooks", "claims.ts");
  if (fs.existsSync(claims)) plan.files.push({ to: "tests/notebooks/claims.ts", from: claims });
  plan.files.push({ to: "tests/notebooks/execute.test.ts", content: template("execute.test.ts.tmpl") });
  plan.files.push({ to: "tests/notebooks/schema.test.ts", content: template("schema.test.ts.tmpl") });
  plan.files.push({ to: "tests/exercises/student-mode.ts", content: template("student-mode.ts.tmpl") });
  plan.files.push({ to: "tools/stubs.ts", content: template("stubs.ts.tmpl") });
  plan.files.push({ to: "tools/start.ts", content: template("start.ts.tmpl") });
  for (const f of walkFiles(path.join(root, "tests", "notebooks"))) {
    const rel = relPath(root, f);
    if (!plan.files.some((p) => p.to === rel)) plan.dropped.push({ path: rel, why: "instructor-mode notebook test (the release has its student-mode version)" });
  }
}

/** The plan of the week-`week` student release, its manifest and README. */
export function studentPlan(course: Course, opts: StudentOptions): { plan: Plan; manifest: Manifest } {
  const root = course.layout.root;
  const plan: Plan = { files: [], dropped: [] };
  const notebooks = releasedNotebooks(course, opts.week);
  const stems = new Set(notebooks.map((n) => n.stem));
  for (const name of ["package-lock.json", "tsconfig.base.json", "tsconfig.json", ".gitignore"]) {
    if (fs.existsSync(path.join(root, name))) plan.files.push({ to: name, from: path.join(root, name) });
  }
  for (const name of ["package.json", "tsconfig.json"]) plan.files.push({ to: `lib/${name}`, from: path.join(root, "lib", name) });
  copyTree(course, "lib/src", plan);
  copyTree(course, "checkpoints", plan);
  copyTree(course, "datasets", plan);
  toolsAndTests(course, plan, stems);

  const manifest: Manifest = { course: "", week: opts.week, solutionsWithheld: opts.withholdSolutions, notebooks: [] };
  const readmeTodo: ReadmeFacts["todo"] = [];
  const readmeReleased: ReadmeFacts["released"] = [];
  for (const nb of notebooks) {
    const shipped = studentNotebook(nb, opts.week, opts.withholdSolutions);
    plan.files.push({ to: nb.rel, content: serializeNotebook(shipped) });
    const released = releasedIds(nb, opts.week, opts.withholdSolutions);
    const exercises = nb.nb.cells.map((c) => c.metadata.exercise as { id: string; points: number; week: number | string } | undefined)
      .filter((e): e is { id: string; points: number; week: number | string } => typeof e === "object" && e !== null && typeof e.id === "string");
    manifest.notebooks.push({ file: nb.rel, week: nb.week, codeSha256: codeDigest(shipped), exercises: exercises.map((e) => ({ id: e.id, points: e.points, week: e.week, solution: released.has(e.id) ? "released" : "stub" })) });
    for (const e of nb.exercises) {
      if (released.has(e.id)) readmeReleased.push({ id: e.id, notebook: nb.rel });
      else readmeTodo.push({ id: e.id, notebook: nb.rel, week: e.week, points: e.points });
    }
    if (nb.solutionsFile && released.size > 0) {
      const text = releasedSolutionsText(fs.readFileSync(nb.solutionsFile, "utf8"), nb.regions, released, opts.week);
      if (text) plan.files.push({ to: relPath(root, nb.solutionsFile), content: text });
    }
  }
  for (const f of walkFiles(course.layout.notebooksDir, (rel) => rel.split("/").some((seg) => seg.startsWith(".")))) {
    const rel = relPath(root, f);
    if (!f.endsWith(".ipynb")) plan.files.push({ to: rel, from: f });
    else if (!plan.files.some((p) => p.to === rel)) plan.dropped.push({ path: rel, why: "a later week's notebook" });
  }

  pruneBrokenImports(plan);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, unknown> & { scripts?: Record<string, string>; name?: string };
  manifest.course = pkg.name ?? "";
  const picked: Record<string, string> = {};
  for (const k of STUDENT_SCRIPTS) if (pkg.scripts?.[k]) picked[k] = pkg.scripts[k];
  picked.start = "node tools/dist/start.js";
  for (const k of Object.keys(pkg.scripts ?? {})) if (!(k in picked)) plan.dropped.push({ path: `package.json scripts.${k}`, why: "instructor only" });
  const scripts = scriptsThatWork(picked, plan);
  plan.files.push({ to: "package.json", content: JSON.stringify({ ...pkg, scripts }, null, 2) + "\n" });

  const jest = jestConfig(root);
  const setup = [...((jest.setupFilesAfterEnv as string[] | undefined) ?? []), "<rootDir>/tests/exercises/student-mode.ts"];
  plan.files.push({
    to: "jest.config.js",
    content: `/** Jest for the student release (week ${opts.week}): the course's settings, plus student mode for the exercise checks (tests/exercises/student-mode.ts). */\n`
      + `module.exports = ${JSON.stringify({ ...jest, setupFilesAfterEnv: setup }, null, 2)};\n`,
  });
  plan.files.push({ to: MANIFEST, content: JSON.stringify(manifest, null, 1) + "\n" });

  const readme = path.join(root, "README.md");
  const facts: ReadmeFacts = {
    week: opts.week, notebooks: notebooks.map((n) => n.rel), todo: readmeTodo, released: readmeReleased, scripts,
    solutionsShipped: !opts.withholdSolutions && readmeReleased.length > 0,
  };
  plan.files.push({ to: "README.md", content: studentReadme(fs.existsSync(readme) ? fs.readFileSync(readme, "utf8") : "# Course\n", facts) });
  plan.files.sort((a: PlanFile, b: PlanFile) => a.to.localeCompare(b.to));
  return { plan, manifest };
}
