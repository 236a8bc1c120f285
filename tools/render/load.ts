/**
 * Reading notebooks for rendering. Unlike the runner, the renderers accept a notebook whose
 * metadata breaks the nbformat schema (each problem becomes a warning and the cells render as
 * best they can); only a file that is missing, not JSON, or not nbformat 4 stops them.
 *
 * Outputs: a committed notebook has none, so the renderers take them from its executed copy
 * (`build/executed/instructor/<name>.ipynb`, written by `npm start`), matching cells by id (by
 * position when the notebook has no ids). The sources always come from the committed notebook,
 * so exercise cells show their stubs: the solutions the instructor run substituted never reach
 * a page. A copy older than the notebook (some non-exercise cell changed since it ran) is used
 * with a warning.
 *
 * @see tools/run.ts
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { NotebookError, parseNotebook } from "../notebook";
import { cellView, CellView, notebookTitle } from "./cells";
import { Diagnostics } from "./html";

/** A notebook ready to render. */
export interface RenderNotebook {
  /** The file as given (used in warnings). */
  file: string;
  /** File name without .ipynb, e.g. 01_score_matching. */
  stem: string;
  title: string;
  metadata: Record<string, unknown>;
  cells: CellView[];
  /** Where its outputs came from (the executed copy), if not from the file itself. */
  outputsFrom?: string;
  /**
   * Index of the first exercise cell whose executed copy ran other code than the page shows (the
   * reference solution in place of the stub): outputs from there on come from the reference run.
   */
  referenceRunFrom?: number;
}

/** A notebook that cannot be rendered at all (missing, not JSON, not nbformat 4). */
export class RenderInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderInputError";
  }
}

interface RawNotebook {
  metadata: Record<string, unknown>;
  cells: unknown[];
}

/** Read a notebook leniently; schema problems become warnings. Throws {@link RenderInputError}. */
/**
 * Where the executed copies are by default: `build/executed/instructor` (written by `npm start` in
 * the instructor repository), else `build/executed/student` (a student release's `npm start`, with
 * the student's own outputs), else the instructor folder (outputs then come out missing, with a warning).
 */
export function defaultExecutedDir(root: string): string {
  const base = path.join(root, "build", "executed");
  for (const mode of ["instructor", "student"]) if (fs.existsSync(path.join(base, mode))) return path.join(base, mode);
  return path.join(base, "instructor");
}

export function readRaw(file: string, diag: Diagnostics): RawNotebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RenderInputError(`${file}: cannot read notebook (${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message})`);
  }
  try {
    parseNotebook(text, file);
  } catch (e) {
    if (!(e instanceof NotebookError)) throw e;
    if (e.kind !== "schema") throw new RenderInputError(e.message);
    // Cell metadata problems are reported per cell (cells.ts), with a placeholder in the page.
    for (const p of e.problems.filter((x) => !/^cells\[\d+\]\.metadata\b/.test(x))) diag.warn(`${file}: ${p}`);
  }
  const json = JSON.parse(text) as Record<string, unknown>;
  const metadata = typeof json.metadata === "object" && json.metadata !== null && !Array.isArray(json.metadata) ? (json.metadata as Record<string, unknown>) : {};
  if (!Array.isArray(json.cells)) throw new RenderInputError(`${file}: notebook has no list of cells`);
  return { metadata, cells: json.cells };
}

/** The notebook's cells and title, without outputs from elsewhere. */
export function loadNotebook(file: string, diag: Diagnostics): RenderNotebook {
  const raw = readRaw(file, diag);
  const stem = path.basename(file).replace(/\.ipynb$/, "");
  const cells = raw.cells.map((c, i) => cellView(c, i, `${file} cell ${i + 1}`, diag));
  return { file, stem, title: notebookTitle(raw.metadata, cells, stem), metadata: raw.metadata, cells };
}

/** A path as shown in messages: relative to the working folder when inside it. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

/** How an executed copy relates to its notebook. */
export type CopyStatus = "missing" | "fresh" | "stale";

/** Pair each cell of `nb` with the executed copy's cell (by id, else by position). */
function pairCells(nb: RenderNotebook, executed: CellView[]): (CellView | undefined)[] {
  const byId = new Map(executed.filter((c) => c.id !== undefined).map((c) => [c.id as string, c]));
  const allIds = nb.cells.every((c) => c.id !== undefined) && byId.size > 0;
  if (allIds) return nb.cells.map((c) => byId.get(c.id as string));
  return nb.cells.length === executed.length ? executed : nb.cells.map(() => undefined);
}

/** Cells whose source differs from the executed copy's (exercise cells excepted: the run substituted them). */
function changedCells(nb: RenderNotebook, paired: (CellView | undefined)[]): number {
  return nb.cells.filter((c, i) => c.kind === "code" && c.exercise === null && (paired[i] === undefined || paired[i]?.source !== c.source)).length;
}

/** Whether `executedFile` is missing, matches `nb`, or is older than it. */
export function copyStatus(nb: RenderNotebook, executedFile: string): CopyStatus {
  if (!fs.existsSync(executedFile)) return "missing";
  try {
    const exec = loadNotebook(executedFile, new Diagnostics(() => undefined));
    return changedCells(nb, pairCells(nb, exec.cells)) === 0 ? "fresh" : "stale";
  } catch {
    return "stale";
  }
}

/**
 * `nb` with the outputs of its executed copy (sources untouched). Missing copy: a warning, no
 * outputs; stale copy: a warning, outputs kept where cells pair up.
 */
export function withExecutedOutputs(nb: RenderNotebook, executedFile: string, diag: Diagnostics): RenderNotebook {
  if (!fs.existsSync(executedFile)) {
    diag.warn(`${nb.file}: no executed copy at ${shown(executedFile)} (run \`npm start\`): rendered without outputs`);
    return nb;
  }
  let exec: RenderNotebook;
  try {
    exec = loadNotebook(executedFile, new Diagnostics(() => undefined));
  } catch (e) {
    diag.warn(`${nb.file}: executed copy unusable (${(e as Error).message}): rendered without outputs`);
    return nb;
  }
  const paired = pairCells(nb, exec.cells);
  const changed = changedCells(nb, paired);
  if (changed > 0) diag.warn(`${nb.file}: executed copy ${shown(executedFile)} is older than the notebook (${changed} code cell(s) changed since it ran; run \`npm start\`)`);
  const substituted = nb.cells.findIndex((c, i) => c.exercise !== null && paired[i] !== undefined && paired[i]?.source !== c.source);
  return {
    ...nb,
    outputsFrom: executedFile,
    ...(substituted >= 0 ? { referenceRunFrom: substituted } : {}),
    cells: nb.cells.map((c, i) => (c.kind === "code" && paired[i] ? { ...c, outputs: paired[i]?.outputs ?? [] } : c)),
  };
}

/** True when any code cell of the notebook holds outputs. */
export function hasOutputs(nb: RenderNotebook): boolean {
  return nb.cells.some((c) => c.outputs.length > 0);
}
