/**
 * Reading a submitted notebook and finding its exercise cells by their metadata id — never by
 * position, so students may add, reorder or run cells and leave outputs (outputs are ignored).
 *
 * The exercise list comes from the COURSE notebook (../course.ts), so deleting a cell's metadata
 * cannot dodge grading: a course exercise without a tagged cell in the submission scores 0.
 *
 * Reading is lenient where it can be (a notebook that fails the nbformat schema is still graded
 * if its cells can be read) and explains itself where it cannot (not JSON, not a notebook,
 * nbformat 3, larger than {@link MAX_NOTEBOOK_BYTES}).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { joinText, NotebookError, parseNotebook } from "../notebook";
import type { CourseNotebook } from "../course";

/** Notebooks larger than this are refused (50 MB of outputs still grade). */
export const MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024;

/** Why a submission could not be read at all. */
export type SubmissionProblem = "missing" | "too-large" | "json" | "not-notebook" | "nbformat";

/** A submission that cannot be graded; `message` is written for the student. */
export class SubmissionError extends Error {
  constructor(readonly problem: SubmissionProblem, message: string) {
    super(message);
    this.name = "SubmissionError";
  }
}

/** A cell of the submission that carries `metadata.exercise.id`. */
export interface TaggedCell {
  /** 0-based index among all cells. */
  index: number;
  id: string;
  cellType: string;
  source: string;
}

/** What the grader keeps of a submission (outputs and untagged cells are dropped). */
export interface Submission {
  file: string;
  bytes: number;
  tagged: TaggedCell[];
  /** Notebook-level metadata `course.title`, if present (helps tell notebooks apart). */
  title?: string;
}

/** An exercise found in (or missing from) a submission. */
export type FoundExercise =
  | { id: string; status: "ok"; source: string; cellIndex: number }
  | { id: string; status: "missing" | "duplicate" | "not-code"; message: string };

const MB = 1024 * 1024;

/**
 * What is wrong with a directory entry that should be a notebook file, for the student: a
 * symlink, a pipe, a device, a socket (never followed, never opened); null for a regular file.
 */
export function notAFileReason(st: fs.Stats, name: string): string | null {
  if (st.isFile()) return null;
  const what = st.isSymbolicLink() ? "a symbolic link" : st.isFIFO() ? "a named pipe" : st.isSocket() ? "a socket"
    : st.isCharacterDevice() || st.isBlockDevice() ? "a device file" : st.isDirectory() ? "a folder" : "not a regular file";
  return `${name} is ${what}, not a notebook file; the autograder does not follow or open it. Submit the .ipynb file itself.`;
}

/** A student-facing reason a file could not be opened or read (no paths). */
function openReason(e: unknown, name: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return `${name} is a symbolic link, not a notebook file; the autograder does not follow links. Submit the .ipynb file itself.`;
  if (code === "EACCES" || code === "EPERM") return `${name} cannot be read: its file permissions do not allow reading (permission denied). Upload it again as an ordinary file.`;
  if (code === "ENOENT") return `${name} disappeared before it could be read`;
  return `${name} cannot be read (${code ?? "unknown error"})`;
}

/**
 * Read a submitted notebook; throws {@link SubmissionError} with a student-facing message. The
 * file is opened without following a final symlink and without blocking (a FIFO or device never
 * stalls the grader), then checked to be a regular file before one byte is read.
 */
export function readSubmission(file: string): Submission {
  const name = path.basename(file);
  let fd: number;
  try {
    const lst = fs.lstatSync(file);
    const why = notAFileReason(lst, name);
    if (why) throw new SubmissionError("missing", why);
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    if (e instanceof SubmissionError) throw e;
    throw new SubmissionError("missing", openReason(e, name));
  }
  let text: string;
  let bytes: number;
  try {
    const st = fs.fstatSync(fd);
    const why = notAFileReason(st, name);
    if (why) throw new SubmissionError("missing", why);
    bytes = st.size;
    if (bytes > MAX_NOTEBOOK_BYTES) {
      throw new SubmissionError("too-large", `your notebook is ${(bytes / MB).toFixed(0)} MB; the autograder reads notebooks up to ${MAX_NOTEBOOK_BYTES / MB} MB. Clear the outputs (Edit → Clear All Outputs), save and resubmit.`);
    }
    const buf = Buffer.alloc(bytes);
    let got = 0;
    while (got < bytes) {
      const n = fs.readSync(fd, buf, got, bytes - got, got);
      if (n === 0) break;
      got += n;
    }
    text = buf.subarray(0, got).toString("utf8");
  } catch (e) {
    if (e instanceof SubmissionError) throw e;
    throw new SubmissionError("missing", openReason(e, name));
  } finally {
    fs.closeSync(fd);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseSubmission(text, file, bytes);
}

/** Parse submission text (exposed for tests). */
export function parseSubmission(text: string, file: string, bytes = Buffer.byteLength(text)): Submission {
  const name = path.basename(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SubmissionError("json", jsonMessage(text, name));
  }
  text = "";
  if (!isObject(json)) throw new SubmissionError("not-notebook", `${name} is JSON but not a Jupyter notebook (it is ${Array.isArray(json) ? "a list" : typeof json}, not an object with "cells").`);
  const nbformat = json.nbformat;
  if (typeof nbformat === "number" && nbformat !== 4) {
    throw new SubmissionError("nbformat", `${name} is an nbformat ${nbformat} notebook; only nbformat 4 is supported. Open it in Jupyter or VS Code and save it again (it will be converted to nbformat 4), then resubmit.`);
  }
  if (nbformat === undefined && Array.isArray(json.worksheets)) {
    throw new SubmissionError("nbformat", `${name} looks like an nbformat 3 notebook ("worksheets"); only nbformat 4 is supported. Open it in Jupyter and save it again, then resubmit.`);
  }
  if (nbformat === undefined || !Array.isArray(json.cells)) {
    const why = nbformat === undefined ? `no "nbformat" field` : `no "cells" list`;
    throw new SubmissionError("not-notebook", `${name} is JSON but not a Jupyter notebook (${why}).`);
  }
  const tagged: TaggedCell[] = [];
  json.cells.forEach((cell: unknown, index: number) => {
    if (!isObject(cell) || !isObject(cell.metadata)) return;
    const ex = cell.metadata.exercise;
    if (!isObject(ex) || typeof ex.id !== "string") return;
    const src = cell.source;
    const source = typeof src === "string" ? src : Array.isArray(src) && src.every((s) => typeof s === "string") ? joinText(src as string[]) : "";
    tagged.push({ index, id: ex.id, cellType: typeof cell.cell_type === "string" ? cell.cell_type : "?", source });
  });
  const course = isObject(json.metadata) && isObject(json.metadata.course) ? json.metadata.course : undefined;
  return { file, bytes, tagged, title: typeof course?.title === "string" ? course.title : undefined };
}

/**
 * Which course notebook a submission is: `forced` if given; else the one sharing most exercise
 * ids; else by `NN_` file name; else by the notebook's course title; else `fallback` (the
 * assignment); else the only course notebook.
 */
export function identifyNotebook(nbs: readonly CourseNotebook[], file: string, sub: Submission | null, forced?: string, fallback?: string): CourseNotebook | null {
  const named = (want: string) => nbs.find((n) => n.stem === want || n.prefix === want || n.stem === want.replace(/\.ipynb$/, "")) ?? null;
  if (forced) return named(forced);
  const prefix = /^(\d\d)_/.exec(path.basename(file))?.[1];
  const byPrefix = nbs.find((n) => n.prefix === prefix);
  if (sub) {
    const ids = new Set(sub.tagged.map((c) => c.id));
    const scored = nbs.map((n) => ({ n, overlap: n.exercises.filter((e) => ids.has(e.id)).length }));
    const best = Math.max(0, ...scored.map((s) => s.overlap));
    if (best > 0) {
      const top = scored.filter((s) => s.overlap === best).map((s) => s.n);
      return top.length === 1 ? top[0] : top.find((n) => n === byPrefix) ?? top.find((n) => n.stem.endsWith(sub.title ?? "\0")) ?? top[0];
    }
  }
  if (byPrefix) return byPrefix;
  const byTitle = sub?.title !== undefined ? nbs.filter((n) => titleOf(n) === sub.title) : [];
  if (byTitle.length === 1) return byTitle[0];
  if (fallback) return named(fallback);
  return nbs.length === 1 ? nbs[0] : null;
}

/** A course notebook's metadata.course.title, if any. */
function titleOf(n: CourseNotebook): string | undefined {
  const course = (n.nb.metadata as { course?: { title?: unknown } } | undefined)?.course;
  return typeof course?.title === "string" ? course.title : undefined;
}

/** Find each course exercise's cell in the submission, by metadata id. */
export function findExercises(nb: CourseNotebook, sub: Submission): FoundExercise[] {
  return nb.exercises.map((ex): FoundExercise => {
    const cells = sub.tagged.filter((c) => c.id === ex.id);
    if (cells.length === 0) {
      return { id: ex.id, status: "missing", message: `exercise cell '${ex.id}' not found (did you delete or re-create the cell? keep its metadata: the grader finds exercise cells by their metadata "exercise": {"id": "${ex.id}"})` };
    }
    if (cells.length > 1) {
      const where = cells.slice(0, 5).map((c) => c.index + 1).join(", ") + (cells.length > 5 ? `, … and ${cells.length - 5} more` : "");
      return { id: ex.id, status: "duplicate", message: `exercise id '${ex.id}' appears on ${cells.length} cells (cells ${where}); keep exactly one cell with this id (copying a cell copies its metadata)` };
    }
    const cell = cells[0];
    if (cell.cellType !== "code") {
      return { id: ex.id, status: "not-code", message: `exercise cell '${ex.id}' (cell ${cell.index + 1}) is a ${cell.cellType} cell; it must be a code cell` };
    }
    return { id: ex.id, status: "ok", source: cell.source, cellIndex: cell.index };
  });
}

/** The JSON error with line and column, as notebook.ts reports it. */
function jsonMessage(text: string, name: string): string {
  try {
    parseNotebook(text, name);
  } catch (e) {
    if (e instanceof NotebookError && e.kind === "json") return `${e.message.replace(`${name}: `, `${name} is `)}. Is it really a .ipynb saved by Jupyter?`;
  }
  return `${name} is not valid JSON. Is it really a .ipynb saved by Jupyter?`;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
