/**
 * Exercise checks that never stop Run All. A notebook's ✏️ cells hold stubs that throw
 * `not implemented: <id>` until the student writes them; the cell after each one runs the
 * student's function through {@link tryExercise}:
 *  - a stub still in place prints one line, "✏️ `addNoise` is not implemented yet — edit the cell
 *    above", and the cell goes on with the library's version when it has one (and says so);
 *  - any other error from the student's code prints its message and the line of the student's
 *    function that raised it, not tslab's or TensorFlow.js's stack frames (set
 *    COURSE_FULL_ERRORS=1, or call `showFullErrors()`, for the whole stack);
 *  - either way the cell does not throw, so tslab keeps its declarations and the notebook runs on.
 * Each such line also carries {@link EXERCISE_MIME} `{ id, status, message, library }`, which the
 * runner (tools/run.ts) collects to list the unfinished exercises of a run.
 *
 * The stubs follow nbgrader/otter-grader: the student's function is graded, never the fallback.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as inspector from "inspector";
import { displayBundle, escapeHtml } from "./display";

/** MIME type of an exercise status line: `{ id, status, message, library }` (see {@link ExerciseStatus}). */
export const EXERCISE_MIME = "application/vnd.course.exercise+json";

/** What a check found: the stub is still there ("todo"), or the student's code threw ("error"). */
export interface ExerciseStatus {
  id: string;
  status: "todo" | "error";
  /** The error message ("" for a stub). */
  message: string;
  /** Where in the student's function it was raised (compiled line, types stripped), if known. */
  at?: string;
  /** True when the cell went on with the library's version. */
  library: boolean;
}

const STUB = /not implemented: ([A-Za-z_$][\w$]*)/;

let fullErrors = process.env.COURSE_FULL_ERRORS === "1";

/** Show the whole stack of errors from student code (also: the environment variable COURSE_FULL_ERRORS=1). */
export function showFullErrors(on = true): void {
  fullErrors = on;
}

/**
 * Run `mine`, the part of a cell that uses the student's exercise `id`. If it throws, print one
 * status line (see the module header) instead of throwing, and return `library()` when given
 * (the same result from the library's version) or else `undefined`.
 *
 * @example const panels = tryExercise("addNoise", () => draw(addNoise), () => draw(libraryNoise));
 * @see notebooks/01_score_matching.ipynb
 */
export function tryExercise<T>(id: string, mine: () => T, library: () => T): T;
export function tryExercise<T>(id: string, mine: () => T): T | undefined;
export function tryExercise<T>(id: string, mine: () => T, library?: () => T): T | undefined {
  if (!/^[A-Za-z_$][\w$]*$/.test(id)) throw new Error(`tryExercise: '${id}' is not an exercise id (a function name)`);
  try {
    return mine();
  } catch (e) {
    const status = exerciseStatus(id, e, library !== undefined);
    displayBundle(statusBundle(status, fullErrors ? stackOf(e) : undefined));
    return library?.();
  }
}

/**
 * The status of exercise `id` after `error`: a stub ("not implemented: <x>", which names the
 * exercise x that is missing, usually `id` itself) or an error from the student's code, with the
 * line of the student's function `id` that raised it when the stack shows it.
 */
export function exerciseStatus(id: string, error: unknown, library: boolean): ExerciseStatus {
  const message = error instanceof Error ? error.message : String(error);
  const stub = STUB.exec(message);
  if (stub) return { id: stub[1], status: "todo", message: "", library };
  const at = error instanceof Error ? failingLine(id, error) : undefined;
  return { id, status: "error", message, ...(at === undefined ? {} : { at }), library };
}

/** The one-line text of a status. */
export function statusText(s: ExerciseStatus): string {
  const rest = s.library ? "; below: the library's version until yours works" : "";
  if (s.status === "todo") return `✏️ \`${s.id}\` is not implemented yet — edit the cell above${rest}`;
  const at = s.at === undefined ? "" : `\n    at: ${s.at}`;
  return `✗ your \`${s.id}\` failed: ${s.message}${at}${rest ? `\n  (${rest.slice(2)})` : ""}`;
}

function statusBundle(s: ExerciseStatus, stack?: string): Record<string, string | object> {
  const text = statusText(s) + (stack ? `\n${stack}` : s.status === "error" ? "\n  (COURSE_FULL_ERRORS=1 or showFullErrors() shows the whole stack)" : "");
  const colour = s.status === "todo" ? "#8a5a00" : "#b00020";
  const html = `<pre class="course-exercise" style="color:${colour};white-space:pre-wrap;margin:2px 0">${escapeHtml(text)}</pre>`;
  return { [EXERCISE_MIME]: { ...s }, "text/html": html, "text/plain": text };
}

function stackOf(e: unknown): string {
  return e instanceof Error && e.stack ? e.stack : String(e);
}

/** A stack frame in a notebook cell: `at name (evalmachine.<anonymous>:L:C)` or `at evalmachine.<anonymous>:L:C`. */
const CELL_FRAME = /^\s*at (?:(.+?) \()?evalmachine\.<anonymous>:(\d+):(\d+)\)?\s*$/;

/**
 * The source line of the student's function `id` at which `error` was raised, or undefined.
 * tslab compiles each cell and runs it with `vm.runInThisContext` (file `evalmachine.<anonymous>`),
 * so frames carry script lines, not cell lines; the function's own start line comes from V8
 * (inspector `[[FunctionLocation]]`) and its compiled text from `toString()`.
 */
function failingLine(id: string, error: Error): string | undefined {
  const fn = (globalThis as { __tslab__?: { exports?: Record<string, unknown> } }).__tslab__?.exports?.[id];
  if (typeof fn !== "function") return undefined;
  const start = functionStartLine(fn);
  if (start === undefined) return undefined;
  const lines = Function.prototype.toString.call(fn).split("\n");
  const frames = (error.stack ?? "").split("\n").map((l) => CELL_FRAME.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const inside = (m: RegExpExecArray) => {
    const k = Number(m[2]) - 1 - start;
    return k >= 0 && k < lines.length ? k : -1;
  };
  const own = frames.findIndex((m) => m[1] === id || (m[1] ?? "").endsWith(`.${id}`));
  if (own < 0) return undefined;
  // the deepest frame above the function's own one that lies inside it (a closure within it), else its own
  const frame = frames.slice(0, own).find((m) => inside(m) >= 0) ?? frames[own];
  const k = inside(frame);
  return k < 0 ? undefined : lines[k].trim();
}

/** The 0-based line of the script at which function `fn` starts (V8's [[FunctionLocation]]). */
function functionStartLine(fn: unknown): number | undefined {
  const session = new inspector.Session();
  const key = "__courseExerciseFn";
  const g = globalThis as Record<string, unknown>;
  let line: number | undefined;
  try {
    session.connect();
    g[key] = fn;
    // The in-process session answers synchronously.
    session.post("Runtime.evaluate", { expression: `globalThis.${key}` }, (err, res) => {
      const objectId = err ? undefined : res?.result?.objectId;
      if (!objectId) return;
      session.post("Runtime.getProperties", { objectId, ownProperties: true }, (err2, props) => {
        const loc = err2 ? undefined : props?.internalProperties?.find((p) => p.name === "[[FunctionLocation]]");
        const value = loc?.value?.value as { lineNumber?: unknown } | undefined;
        if (typeof value?.lineNumber === "number") line = value.lineNumber;
      });
    });
  } catch {
    line = undefined;
  } finally {
    delete g[key];
    session.disconnect();
  }
  return line;
}
