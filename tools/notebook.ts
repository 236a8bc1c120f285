/**
 * Reading, validating and writing Jupyter notebooks (nbformat 4.5), and finding exercise cells.
 *
 * Validation uses nbformat's own JSON schema (jupyter/nbschema.ts: per cell and per output, with
 * JSON paths such as `cells[3].outputs[0].name`) plus the course's checks: unique cell ids and
 * well-formed exercise metadata.
 *
 * Notebooks are written as Jupyter writes them (nbformat.write): keys sorted, 1-space indent,
 * multi-line strings split into lists of lines, trailing newline — so diffs stay small.
 *
 * Exercise cells carry `metadata.exercise = { id, points, week }`; the id is also the name of
 * the function the cell defines and of the region in solutions/NN_topic.ts (see exercises.ts).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { schemaProblems } from "./jupyter/nbschema";
import { joinText, MultilineString, Output } from "./jupyter/outputs";

export { schemaPath } from "./jupyter/nbschema";
export { joinText } from "./jupyter/outputs";
export type { MultilineString, Output } from "./jupyter/outputs";

/** A notebook cell (nbformat 4.5). */
export interface Cell {
  id?: string;
  cell_type: "code" | "markdown" | "raw";
  metadata: Record<string, unknown>;
  source: MultilineString;
  outputs?: Output[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
}

/** A notebook (nbformat 4). */
export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

/** An exercise cell found by {@link exerciseCells}. */
export interface ExerciseCell {
  /** 0-based index among all cells. */
  index: number;
  id: string;
  points: number;
  week: number | string;
  source: string;
}

/** Why a notebook could not be read. */
export type NotebookErrorKind = "missing" | "json" | "format" | "schema";

/** A notebook that is missing, not JSON, not nbformat 4, or not schema-valid. */
export class NotebookError extends Error {
  constructor(readonly kind: NotebookErrorKind, readonly file: string, message: string, readonly problems: string[] = []) {
    super(message);
    this.name = "NotebookError";
  }
}

/** How many schema problems an error message lists. */
const SHOWN_PROBLEMS = 5;

/** Read and validate a notebook; throws {@link NotebookError} with a clear message. */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new NotebookError("missing", file, `${file}: cannot read notebook (${why})`);
  }
  return parseNotebook(text, file);
}

/** Parse and validate notebook JSON text (`file` is used in messages only). */
export function parseNotebook(text: string, file = "<notebook>"): Notebook {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NotebookError("json", file, `${file}: not valid JSON (${jsonErrorWhere(text, (e as Error).message)})`);
  }
  const major = isObject(json) ? json.nbformat : undefined;
  if (major !== 4) {
    const got = major === undefined ? "no nbformat field" : `nbformat ${JSON.stringify(major)}`;
    throw new NotebookError("format", file, `${file}: not an nbformat 4 notebook (${got})`);
  }
  const problems = validateNotebook(json);
  if (problems.length > 0) {
    const shown = problems.slice(0, SHOWN_PROBLEMS).map((p) => `  ${p}`);
    if (problems.length > SHOWN_PROBLEMS) shown.push(`  … and ${problems.length - SHOWN_PROBLEMS} more`);
    throw new NotebookError("schema", file, `${file}: not a valid nbformat 4.5 notebook:\n${shown.join("\n")}`, problems);
  }
  return json as unknown as Notebook;
}

/**
 * Problems with a notebook, each `"<json path>: <message>"`; empty when it is valid: the nbformat
 * 4.5 schema, unique cell ids, and well-formed `metadata.exercise` objects with unique ids.
 */
export function validateNotebook(nb: unknown): string[] {
  const problems = schemaProblems(nb);
  if (problems.length > 0) return problems;
  const cells = (nb as Notebook).cells;
  const seenCell = new Map<string, number>();
  const seenExercise = new Map<string, number>();
  cells.forEach((cell, i) => {
    if (cell.id !== undefined) {
      if (seenCell.has(cell.id)) problems.push(`cells[${i}].id: duplicate cell id '${cell.id}' (also cells[${seenCell.get(cell.id)}])`);
      seenCell.set(cell.id, i);
    }
    const ex = cell.metadata.exercise;
    if (ex === undefined) return;
    const where = `cells[${i}].metadata.exercise`;
    if (!isObject(ex)) return problems.push(`${where}: must be an object { id, points, week }`);
    if (cell.cell_type !== "code") problems.push(`${where}: exercise cells must be code cells`);
    if (typeof ex.id !== "string" || !/^[A-Za-z_$][\w$]*$/.test(ex.id)) problems.push(`${where}.id: must be a function name`);
    else if (seenExercise.has(ex.id)) problems.push(`${where}.id: duplicate exercise id '${ex.id}' (also cells[${seenExercise.get(ex.id)}])`);
    else seenExercise.set(ex.id, i);
    if (typeof ex.points !== "number" || !(ex.points >= 0)) problems.push(`${where}.points: must be a number ≥ 0`);
    if (typeof ex.week !== "number" && typeof ex.week !== "string") problems.push(`${where}.week: must be a number or string`);
  });
  return problems;
}

/** The exercise cells of a validated notebook, in order. */
export function exerciseCells(nb: Notebook): ExerciseCell[] {
  const out: ExerciseCell[] = [];
  nb.cells.forEach((cell, index) => {
    const ex = cell.metadata.exercise;
    if (!isObject(ex) || typeof ex.id !== "string") return;
    out.push({
      index,
      id: ex.id,
      points: typeof ex.points === "number" ? ex.points : 0,
      week: typeof ex.week === "number" || typeof ex.week === "string" ? ex.week : "",
      source: joinText(cell.source),
    });
  });
  return out;
}

/** A cell's source as one string. */
export function cellSource(cell: Cell): string {
  return joinText(cell.source);
}

/** Split text into Jupyter's list of lines (each but the last keeps its "\n"). */
export function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === "" ? [] : lines;
}

/** The notebook as Jupyter would write it (sorted keys, indent 1, split lines, final newline). */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(splitForDisk(nb)), null, 1) + "\n";
}

/** Write a notebook as Jupyter would, creating the directory. */
export function writeNotebook(file: string, nb: Notebook): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, serializeNotebook(nb));
}

/** A deep copy of a notebook with every code cell's outputs removed and execution_count null. */
export function stripOutputs(nb: Notebook): Notebook {
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const cell of copy.cells) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
  }
  return copy;
}

function splitForDisk(nb: Notebook): Notebook {
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const cell of copy.cells) {
    cell.source = splitLines(joinText(cell.source));
    for (const out of cell.outputs ?? []) {
      if (out.output_type === "stream") out.text = splitLines(joinText(out.text));
      if (out.output_type !== "display_data" && out.output_type !== "execute_result") continue;
      for (const [mime, value] of Object.entries(out.data)) {
        if (typeof value === "string" && !/^application\/(.*\+)?json$/.test(mime)) out.data[mime] = splitLines(value);
      }
    }
  }
  return copy;
}

function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (!isObject(x)) return x;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(x).sort()) out[k] = sortKeys(x[k]);
  return out;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Locate a JSON.parse error as "line L, column C" (V8 reports a position or a context snippet). */
function jsonErrorWhere(text: string, message: string): string {
  const first = message.split("\n")[0];
  let pos: number | undefined;
  const at = /at position (\d+)/.exec(message);
  if (at) pos = Number(at[1]);
  // V8: `Unexpected token 'x', ..."<10 chars before, 10 after>"... is not valid JSON`
  const snippet = /^.*?, \.\.\."([\s\S]*)"(?:\.\.\.)? is not valid JSON$/.exec(message);
  if (pos === undefined && snippet) {
    const found = text.indexOf(snippet[1]);
    if (found >= 0) pos = found + 10;
  }
  const what = first.replace(/ in JSON at position \d+.*/, "").replace(/, (\.\.\.)?".*$/, "");
  if (pos === undefined) return what;
  const before = text.slice(0, pos).split("\n");
  return `${what} at line ${before.length}, column ${before[before.length - 1].length + 1}`;
}
