/**
 * The course model, read from the instructor's repository (never from a submission or a release):
 * the layout, the numbered notebooks with their week, each notebook's exercises (id, points, due
 * week, cell index, released stub and its parameter names), its prelude (the import declarations
 * every exercise is compiled with), the reference regions in solutions/ and the hidden grading
 * suites. The grader (grade/) and the release tools (release/) both read the course through here.
 *
 * Weeks: a notebook's week is `metadata.course.week` (else the number in its NN_ prefix); an
 * exercise's week is its cell's `metadata.exercise.week` (a number, or a string holding one such
 * as "2" or "week 2"), parsed once by {@link parseWeek}; Infinity when it cannot be read.
 *
 * This module holds code only (paths and parsing), no solution text.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { parseSolutions, solutionsFileFor, SolutionRegion } from "./exercises";
import { exerciseCells, joinText, Notebook, readNotebook } from "./notebook";
import { NOTEBOOK_PATTERN } from "./run";

/**
 * Where the instructor's course lives (paths absolute).
 * @see notebooks/01_score_matching.ipynb
 */
export interface CourseLayout {
  root: string;
  notebooksDir: string;
  solutionsDir: string;
  /** Hidden grading suites: never shipped to students. */
  hiddenDir: string;
}

/**
 * One exercise cell of a course notebook.
 * @see notebooks/01_score_matching.ipynb
 */
export interface CourseExercise {
  id: string;
  points: number;
  /** Due week; Infinity when the metadata holds no readable week. */
  week: number;
  /** 0-based cell index in its notebook. */
  cell: number;
  /** The released stub cell (its signature is the reference signature). */
  stub: string;
  /** Parameter names of the stub's `function <id>(…)`, for feedback (empty if there is none). */
  params: string[];
}

/**
 * One course notebook (notebooks/NN_topic.ipynb), its solutions and its hidden suite.
 * @see notebooks/01_score_matching.ipynb
 */
export interface CourseNotebook {
  file: string;
  /** Path relative to the course root, with forward slashes. */
  rel: string;
  /** File name without .ipynb, e.g. 01_score_matching. */
  stem: string;
  /** The NN of the file name, e.g. "01". */
  prefix: string;
  week: number;
  nb: Notebook;
  exercises: CourseExercise[];
  /** The import declarations of the notebook's non-exercise code cells, in order, without repeats. */
  prelude: string[];
  /** solutions/<stem>.ts when it exists. */
  solutionsFile: string | null;
  regions: Map<string, SolutionRegion>;
  /** Where its hidden suite lives (tests/exercises/hidden/<stem>.ts), whether or not it exists. */
  suiteFile: string;
}

/**
 * Everything the grader and the release tools read from the instructor's repository.
 * @see notebooks/01_score_matching.ipynb
 */
export interface Course {
  layout: CourseLayout;
  notebooks: CourseNotebook[];
  /** Every solutions/*.ts file, with its parsed regions. */
  solutions: { file: string; rel: string; text: string; regions: Map<string, SolutionRegion> }[];
  /** Every file under the hidden-suites folder. */
  hidden: string[];
}

/**
 * The standard layout under a repository root.
 * @see notebooks/01_score_matching.ipynb
 */
export function courseLayout(root: string): CourseLayout {
  return {
    root,
    notebooksDir: path.join(root, "notebooks"),
    solutionsDir: path.join(root, "solutions"),
    hiddenDir: path.join(root, "tests", "exercises", "hidden"),
  };
}

/**
 * A week from metadata: a number, or the first integer in a string; else Infinity.
 * @see notebooks/01_score_matching.ipynb
 */
export function parseWeek(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const m = /\d+/.exec(value);
    if (m) return Number(m[0]);
  }
  return Infinity;
}

/**
 * The week of a notebook: metadata.course.week, else its NN_ prefix.
 * @see notebooks/01_score_matching.ipynb
 */
export function notebookWeek(nb: Notebook, file: string): number {
  const course = nb.metadata.course as { week?: unknown } | undefined;
  const w = parseWeek(course?.week);
  if (Number.isFinite(w)) return w;
  const m = /^(\d+)_/.exec(path.basename(file));
  return m ? Number(m[1]) : Infinity;
}

/**
 * Relative path with forward slashes.
 * @see notebooks/01_score_matching.ipynb
 */
export function relPath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

/**
 * Every file below `dir` (absolute paths, sorted); none when it does not exist.
 * @see notebooks/01_score_matching.ipynb
 */
export function walkFiles(dir: string, skip: (rel: string, isDir: boolean) => boolean = () => false, base = dir): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    const rel = relPath(base, full);
    if (skip(rel, e.isDirectory())) continue;
    if (e.isDirectory()) out.push(...walkFiles(full, skip, base));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

/**
 * The top-level import declarations of some TypeScript source, as text.
 * @see notebooks/01_score_matching.ipynb
 */
export function importDeclarations(source: string): string[] {
  const sf = ts.createSourceFile("cell.ts", source, ts.ScriptTarget.ES2020, true);
  return sf.statements.filter((s) => ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s)).map((s) => s.getText(sf));
}

/** Parameter names of `function <id>(…)` in `source` (empty if there is none). */
function paramNames(source: string, id: string): string[] {
  const sf = ts.createSourceFile("stub.ts", source, ts.ScriptTarget.ES2020, true);
  for (const s of sf.statements) {
    if (ts.isFunctionDeclaration(s) && s.name?.text === id) return s.parameters.map((p) => p.name.getText(sf));
  }
  return [];
}

/** The import declarations of the code cells of `nb` other than `skip`, in order, without repeats. */
function notebookPrelude(nb: Notebook, skip: Set<number>): string[] {
  const prelude: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code" || skip.has(i)) return;
    for (const decl of importDeclarations(joinText(cell.source))) if (!prelude.includes(decl)) prelude.push(decl);
  });
  return prelude;
}

/**
 * Read the course: notebooks/NN_*.ipynb (all of them, with or without exercises), solutions/*.ts
 * and the hidden-suite folder. Throws NotebookError/ExerciseError on malformed notebooks or solutions.
 * @see notebooks/01_score_matching.ipynb
 */
export function loadCourse(layout: CourseLayout): Course {
  const names = fs.existsSync(layout.notebooksDir) ? fs.readdirSync(layout.notebooksDir).filter((n) => NOTEBOOK_PATTERN.test(n)).sort() : [];
  const solutions = (fs.existsSync(layout.solutionsDir) ? fs.readdirSync(layout.solutionsDir).filter((n) => n.endsWith(".ts")).sort() : []).map((n) => {
    const file = path.join(layout.solutionsDir, n);
    const text = fs.readFileSync(file, "utf8");
    return { file, rel: relPath(layout.root, file), text, regions: parseSolutions(text, relPath(layout.root, file)) };
  });
  const notebooks = names.map((name): CourseNotebook => {
    const file = path.join(layout.notebooksDir, name);
    const nb = readNotebook(file);
    const cells = exerciseCells(nb);
    const stem = name.replace(/\.ipynb$/, "");
    const sol = solutionsFileFor(file, layout.solutionsDir);
    const parsed = solutions.find((s) => s.file === sol);
    return {
      file,
      rel: relPath(layout.root, file),
      stem,
      prefix: name.slice(0, 2),
      week: notebookWeek(nb, file),
      nb,
      exercises: cells.map((c) => ({ id: c.id, points: c.points, week: parseWeek(c.week), cell: c.index, stub: c.source, params: paramNames(c.source, c.id) })),
      prelude: notebookPrelude(nb, new Set(cells.map((c) => c.index))),
      solutionsFile: parsed ? sol : null,
      regions: parsed ? parsed.regions : new Map(),
      suiteFile: path.join(layout.hiddenDir, `${stem}.ts`),
    };
  });
  return { layout, notebooks, solutions, hidden: walkFiles(layout.hiddenDir) };
}
