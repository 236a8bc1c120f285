/**
 * The course as the release tools see it: notebooks with their week, exercises with their due
 * week and points, the reference regions in solutions/, and the hidden grading suites.
 *
 * Weeks: a notebook's week is `metadata.course.week` (else the number in its NN_ prefix); an
 * exercise's week is its cell's `metadata.exercise.week` (a number, or a string holding one such
 * as "2" or "week 2"). An exercise is *released* in the week-N release when its week is < N: its
 * deadline has passed, so its reference solution ships. Anything whose week cannot be read is
 * never released.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { parseSolutions, solutionsFileFor, SolutionRegion } from "../exercises";
import { exerciseCells, Notebook, readNotebook } from "../notebook";
import { NOTEBOOK_PATTERN } from "../run";

/** Where the instructor's course lives (paths absolute). */
export interface CourseLayout {
  root: string;
  notebooksDir: string;
  solutionsDir: string;
  /** Hidden grading suites: never shipped to students. */
  hiddenDir: string;
}

/** One exercise cell of a notebook. */
export interface CourseExercise {
  id: string;
  points: number;
  /** Due week; Infinity when the metadata holds no readable week. */
  week: number;
  /** 0-based cell index in its notebook. */
  cell: number;
}

/** One course notebook and its solutions. */
export interface CourseNotebook {
  file: string;
  /** Path relative to the course root, with forward slashes. */
  rel: string;
  /** File name without .ipynb, e.g. 01_score_matching. */
  stem: string;
  week: number;
  nb: Notebook;
  exercises: CourseExercise[];
  /** solutions/<stem>.ts when it exists. */
  solutionsFile: string | null;
  regions: Map<string, SolutionRegion>;
}

/** Everything the release tools read from the instructor's repository. */
export interface Course {
  layout: CourseLayout;
  notebooks: CourseNotebook[];
  /** Every solutions/*.ts file, with its parsed regions. */
  solutions: { file: string; rel: string; text: string; regions: Map<string, SolutionRegion> }[];
  /** Every file under the hidden-suites folder. */
  hidden: string[];
}

/** The standard layout under a repository root. */
export function courseLayout(root: string): CourseLayout {
  return {
    root,
    notebooksDir: path.join(root, "notebooks"),
    solutionsDir: path.join(root, "solutions"),
    hiddenDir: path.join(root, "tests", "exercises", "hidden"),
  };
}

/** A week from metadata: a number, or the first integer in a string; else Infinity. */
export function parseWeek(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const m = /\d+/.exec(value);
    if (m) return Number(m[0]);
  }
  return Infinity;
}

/** The week of a notebook: metadata.course.week, else its NN_ prefix. */
export function notebookWeek(nb: Notebook, file: string): number {
  const course = nb.metadata.course as { week?: unknown } | undefined;
  const w = parseWeek(course?.week);
  if (Number.isFinite(w)) return w;
  const m = /^(\d+)_/.exec(path.basename(file));
  return m ? Number(m[1]) : Infinity;
}

/** Whether an exercise's reference ships in the week-`week` release. */
export function isReleased(ex: CourseExercise, week: number, withholdSolutions = false): boolean {
  return !withholdSolutions && ex.week < week;
}

/** Relative path with forward slashes. */
export function relPath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

/** Every file below `dir` (absolute paths, sorted); none when it does not exist. */
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

/** Read the course; throws NotebookError/ExerciseError on malformed notebooks or solutions. */
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
    const sol = solutionsFileFor(file, layout.solutionsDir);
    const parsed = solutions.find((s) => s.file === sol);
    return {
      file,
      rel: relPath(layout.root, file),
      stem: name.replace(/\.ipynb$/, ""),
      week: notebookWeek(nb, file),
      nb,
      exercises: exerciseCells(nb).map((c) => ({ id: c.id, points: c.points, week: parseWeek(c.week), cell: c.index })),
      solutionsFile: parsed ? sol : null,
      regions: parsed ? parsed.regions : new Map(),
    };
  });
  return { layout, notebooks, solutions, hidden: walkFiles(layout.hiddenDir) };
}

/** The notebooks of the week-`week` release: those of weeks ≤ `week`. */
export function releasedNotebooks(course: Course, week: number): CourseNotebook[] {
  return course.notebooks.filter((n) => n.week <= week);
}

/** The week of exercise `id` in the notebook whose solutions file is `solutionsFile` (Infinity: unknown). */
export function exerciseWeek(course: Course, solutionsFile: string, id: string): number {
  const nb = course.notebooks.find((n) => n.solutionsFile === solutionsFile);
  return nb?.exercises.find((e) => e.id === id)?.week ?? Infinity;
}
