/**
 * Instructor builds: substitute the reference solutions for the exercise stubs of a notebook.
 *
 * After nbgrader/otter-grader: one source notebook holds signature + TSDoc + a stub per exercise
 * (`throw new Error("not implemented: <id>")`); the reference lives only in solutions/NN_topic.ts,
 * a normal TS module (its imports mirror the notebook's import cell) where each exercise is
 *
 *   // #region exercise: <id>
 *   /** TSDoc … *\/
 *   export function <id>(…) { … }
 *   // #endregion
 *
 * Substitution replaces the whole exercise cell with the region text. tslab 1.0.22 rejects
 * `export` on declarations in a cell ("Cannot redeclare exported variable"), so top-level
 * `export` keywords are stripped (every top-level declaration in tslab is shared anyway).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { exerciseCells, Notebook, splitLines } from "./notebook";

/** One `// #region exercise: <id>` … `// #endregion` block of a solutions file. */
export interface SolutionRegion {
  id: string;
  /** The lines between the markers, without surrounding blank lines. */
  text: string;
  /** 1-based line of the `#region` marker. */
  line: number;
}

/** A solutions file that does not match its notebook, or is malformed. */
export class ExerciseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExerciseError";
  }
}

/** The message of a student stub: `throw new Error(notImplemented(id))`. */
export function notImplemented(id: string): string {
  return `not implemented: ${id}`;
}

/** solutions/NN_topic.ts for notebooks/NN_topic.ipynb. */
export function solutionsFileFor(notebookPath: string, solutionsDir: string): string {
  return path.join(solutionsDir, path.basename(notebookPath).replace(/\.ipynb$/, "") + ".ts");
}

const REGION = /^\s*\/\/\s*#region\b\s*(.*)$/;
const EXERCISE = /^exercise:\s*([A-Za-z_$][\w$]*)\s*$/;
const END = /^\s*\/\/\s*#endregion\b/;

/** Parse the exercise regions of a solutions file; throws {@link ExerciseError} on bad markers. */
export function parseSolutions(text: string, file: string): Map<string, SolutionRegion> {
  const regions = new Map<string, SolutionRegion>();
  const lines = text.split(/\r?\n/);
  let open: { id: string; line: number; body: string[]; depth: number } | null = null;
  lines.forEach((line, i) => {
    const region = REGION.exec(line);
    if (open) {
      if (region) open.depth += 1;
      else if (END.test(line) && open.depth > 0) open.depth -= 1;
      else if (END.test(line)) {
        const body = open.body.join("\n").replace(/^\s*\n/, "").trimEnd();
        regions.set(open.id, { id: open.id, text: body, line: open.line });
        open = null;
        return;
      }
      open?.body.push(line);
      return;
    }
    if (!region) return;
    const ex = EXERCISE.exec(region[1].trim());
    if (!ex) {
      if (region[1].trim().startsWith("exercise")) throw new ExerciseError(`${file}:${i + 1}: malformed marker (want "// #region exercise: <functionName>")`);
      return;
    }
    if (regions.has(ex[1])) throw new ExerciseError(`${file}:${i + 1}: exercise '${ex[1]}' has a second region (first at line ${regions.get(ex[1])?.line})`);
    open = { id: ex[1], line: i + 1, body: [], depth: 0 };
  });
  if (open !== null) {
    const o = open as { id: string; line: number };
    throw new ExerciseError(`${file}:${o.line}: region 'exercise: ${o.id}' has no "// #endregion"`);
  }
  for (const r of regions.values()) {
    if (!new RegExp(`\\bfunction\\s+${r.id.replace(/\$/g, "\\$")}\\s*[<(]`).test(r.text)) {
      throw new ExerciseError(`${file}:${r.line}: region 'exercise: ${r.id}' does not define function ${r.id}`);
    }
  }
  return regions;
}

/** Remove `export` from top-level declarations (tslab cells reject it). */
export function stripExport(code: string): string {
  return code.replace(/^export\s+(?=(?:default\s+)?(?:async\s+)?(?:function|const|let|var|class|interface|type|enum|abstract|declare)\b)/gm, "");
}

/**
 * A copy of `nb` whose exercise cells hold the reference solutions. Every exercise must have a
 * region and every region an exercise; otherwise {@link ExerciseError} names both files.
 */
export function substituteSolutions(
  nb: Notebook,
  regions: Map<string, SolutionRegion>,
  names: { notebook: string; solutions: string },
): Notebook {
  const cells = exerciseCells(nb);
  const ids = new Set(cells.map((c) => c.id));
  const problems: string[] = [];
  for (const c of cells) {
    if (!regions.has(c.id)) problems.push(`exercise '${c.id}' (cell ${c.index + 1} of ${names.notebook}) has no "// #region exercise: ${c.id}" in ${names.solutions}`);
  }
  for (const r of regions.values()) {
    if (!ids.has(r.id)) problems.push(`${names.solutions}:${r.line}: region 'exercise: ${r.id}' has no exercise cell in ${names.notebook}`);
  }
  if (problems.length > 0) throw new ExerciseError(problems.join("\n"));
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const c of cells) {
    const region = regions.get(c.id) as SolutionRegion;
    copy.cells[c.index].source = splitLines(stripExport(region.text));
  }
  return copy;
}

/**
 * The instructor version of a notebook: its exercises replaced from `<solutionsDir>/<name>.ts`.
 * A notebook without exercise cells is returned unchanged (no solutions file needed).
 */
export function instructorNotebook(nb: Notebook, notebookPath: string, solutionsDir: string): Notebook {
  if (exerciseCells(nb).length === 0) return nb;
  const file = solutionsFileFor(notebookPath, solutionsDir);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new ExerciseError(`${notebookPath} has exercise cells but its solutions file ${file} cannot be read`);
  }
  return substituteSolutions(nb, parseSolutions(text, file), { notebook: notebookPath, solutions: file });
}
