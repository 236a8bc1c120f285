/**
 * What the grader loads from the course (tools/course.ts; never from a submission): the notebooks
 * it grades (those with exercise cells) and each one's hidden suite
 * (tests/exercises/hidden/NN_topic.ts, which imports solutions/NN_topic.ts).
 *
 * Suites and solutions are TypeScript; outside jest they are loaded through a require hook that
 * transpiles .ts with the `typescript` package (no extra dependency, no files written).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as ts from "typescript";
import { courseLayout, CourseNotebook, loadCourse } from "../course";
import type { HiddenSuite } from "./suite";

/**
 * The gradable notebooks of the course under `root`: those with exercise cells, in file order.
 * @see notebooks/01_score_matching.ipynb
 */
export function gradedNotebooks(root: string): CourseNotebook[] {
  return loadCourse(courseLayout(root)).notebooks.filter((n) => n.exercises.length > 0);
}

/**
 * Make `require("x.ts")` work outside jest (jest's ts-jest handles .ts itself).
 * @see notebooks/01_score_matching.ipynb
 */
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

/**
 * Load a notebook's hidden suite (trusted process only) and check it covers the exercises.
 * @see notebooks/01_score_matching.ipynb
 */
export function loadSuite(nb: CourseNotebook): HiddenSuite {
  if (!fs.existsSync(nb.suiteFile)) throw new Error(`no hidden grading suite for ${nb.stem} (expected tests/exercises/hidden/${nb.stem}.ts)`);
  ensureTsLoader();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(nb.suiteFile) as { default?: HiddenSuite; suite?: HiddenSuite };
  const suite = mod.default ?? mod.suite;
  if (!suite || typeof suite.exercises !== "object") throw new Error(`the hidden suite of ${nb.stem} does not export a HiddenSuite (default export)`);
  const missing = nb.exercises.filter((e) => !(suite.exercises[e.id]?.length > 0)).map((e) => e.id);
  if (missing.length > 0) throw new Error(`the hidden suite of ${nb.stem} has no tests for ${missing.join(", ")}`);
  return suite;
}
