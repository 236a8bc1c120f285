/**
 * What the grader knows about the course (never taken from a submission): the exercise list of
 * each course notebook (ids, points, weeks and released stubs from notebooks/NN_topic.ipynb), the
 * notebook's import cell (the prelude every exercise is compiled with), and the hidden suite
 * (tests/exercises/hidden/NN_topic.ts, which imports solutions/NN_topic.ts).
 *
 * Suites and solutions are TypeScript; outside jest they are loaded through a require hook that
 * transpiles .ts with the `typescript` package (no extra dependency, no files written).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { exerciseCells, joinText, readNotebook } from "../notebook";
import type { HiddenSuite } from "./suite";

/** One exercise as the course defines it. */
export interface CourseExercise {
  id: string;
  points: number;
  week: number | string;
  /** The released stub cell (its signature is the reference signature). */
  stub: string;
  /** Parameter names of the stub's function, for feedback. */
  params: string[];
}

/** A course notebook that has exercises. */
export interface CourseNotebook {
  /** File stem, e.g. "01_score_matching". */
  name: string;
  /** "01". */
  prefix: string;
  file: string;
  exercises: CourseExercise[];
  /** The import declarations of the notebook's (non-exercise) code cells, in order. */
  prelude: string[];
  suiteFile: string;
  solutionsFile: string;
}

/** The course: its root folder and gradable notebooks. */
export interface Course {
  root: string;
  notebooks: CourseNotebook[];
}

/** Where the hidden suite of a notebook lives. */
export function suiteFileFor(root: string, name: string): string {
  return path.join(root, "tests", "exercises", "hidden", `${name}.ts`);
}

/** Read notebooks/NN_*.ipynb under `root`; only notebooks with exercise cells are kept. */
export function loadCourse(root: string): Course {
  const dir = path.join(root, "notebooks");
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^\d\d_.+\.ipynb$/.test(f)).sort() : [];
  const notebooks: CourseNotebook[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const nb = readNotebook(file);
    const cells = exerciseCells(nb);
    if (cells.length === 0) continue;
    const exerciseIdx = new Set(cells.map((c) => c.index));
    const prelude: string[] = [];
    nb.cells.forEach((cell, i) => {
      if (cell.cell_type !== "code" || exerciseIdx.has(i)) return;
      for (const decl of importDeclarations(joinText(cell.source))) if (!prelude.includes(decl)) prelude.push(decl);
    });
    const name = f.replace(/\.ipynb$/, "");
    notebooks.push({
      name,
      prefix: f.slice(0, 2),
      file,
      exercises: cells.map((c) => ({ id: c.id, points: c.points, week: c.week, stub: c.source, params: paramNames(c.source, c.id) })),
      prelude,
      suiteFile: suiteFileFor(root, name),
      solutionsFile: path.join(root, "solutions", `${name}.ts`),
    });
  }
  return { root, notebooks };
}

/** The top-level import declarations of some TypeScript source, as text. */
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

/** Make `require("x.ts")` work outside jest (jest's ts-jest handles .ts itself). */
export function ensureTsLoader(): void {
  const ext = require.extensions as NodeJS.RequireExtensions | undefined;
  if (!ext || !ext[".js"] || ext[".ts"]) return;
  ext[".ts"] = (module, filename) => {
    const out = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true, inlineSourceMap: true },
    });
    (module as NodeJS.Module & { _compile(code: string, file: string): void })._compile(out.outputText, filename);
  };
}

/** Load a notebook's hidden suite (trusted process only) and check it covers the exercises. */
export function loadSuite(nb: CourseNotebook): HiddenSuite {
  if (!fs.existsSync(nb.suiteFile)) throw new Error(`no hidden grading suite for ${nb.name} (expected tests/exercises/hidden/${nb.name}.ts)`);
  ensureTsLoader();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(nb.suiteFile) as { default?: HiddenSuite; suite?: HiddenSuite };
  const suite = mod.default ?? mod.suite;
  if (!suite || typeof suite.exercises !== "object") throw new Error(`the hidden suite of ${nb.name} does not export a HiddenSuite (default export)`);
  const missing = nb.exercises.filter((e) => !(suite.exercises[e.id]?.length > 0)).map((e) => e.id);
  if (missing.length > 0) throw new Error(`the hidden suite of ${nb.name} has no tests for ${missing.join(", ")}`);
  return suite;
}
