/**
 * The cells of a notebook as the renderers see them, read leniently: each cell's slide type
 * (Jupyter's `metadata.slideshow.slide_type`), its Jupyter Book tags (`metadata.tags`) and its
 * exercise (`metadata.exercise = { id, points, week }`). Metadata that is malformed is reported
 * (a warning, and a visible placeholder in the cell) and otherwise ignored: the cell still
 * renders as a plain cell.
 *
 * @see https://jupyterbook.org/en/stable/content/metadata.html
 * @see notebooks/01_score_matching.ipynb
 */
import { joinText } from "../jupyter/outputs";
import { Diagnostics } from "./html";

/** Jupyter's slide types; `-` continues whatever the previous cell was part of. */
export type SlideType = "slide" | "subslide" | "fragment" | "skip" | "notes" | "-";

const SLIDE_TYPES = new Set<string>(["slide", "subslide", "fragment", "skip", "notes", "-"]);

/** The Jupyter Book tags the renderers honour. */
export type RenderTag = "remove-cell" | "remove-input" | "remove-output" | "hide-input" | "hide-output";

/** An exercise cell's metadata. */
export interface ExerciseInfo {
  id: string;
  points: number;
  week: number | string;
}

/** One cell, normalised. */
export interface CellView {
  /** 0-based position in the notebook. */
  index: number;
  id?: string;
  kind: "markdown" | "code" | "raw";
  source: string;
  outputs: unknown[];
  attachments?: Record<string, unknown>;
  /** null: the cell has no slide metadata. */
  slideType: SlideType | null;
  tags: Set<string>;
  exercise: ExerciseInfo | null;
  /** Metadata problems, shown as placeholders in the cell (and warned about). */
  problems: string[];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A cell's view; `where` names it in warnings (e.g. `notebooks/x.ipynb cell 3`). */
export function cellView(raw: unknown, index: number, where: string, diag: Diagnostics): CellView {
  const problems: string[] = [];
  const c = isObject(raw) ? raw : {};
  if (!isObject(raw)) problems.push("not a cell object");
  const kind = c.cell_type === "code" || c.cell_type === "markdown" || c.cell_type === "raw" ? c.cell_type : "raw";
  if (isObject(raw) && kind !== c.cell_type) problems.push(`unknown cell_type ${JSON.stringify(c.cell_type ?? null)} (shown as raw text)`);
  let source = "";
  if (typeof c.source === "string" || (Array.isArray(c.source) && c.source.every((x) => typeof x === "string"))) source = joinText(c.source as string | string[]);
  else if (c.source !== undefined) problems.push("source is not text");
  const meta = isObject(c.metadata) ? c.metadata : {};
  if (c.metadata !== undefined && !isObject(c.metadata)) problems.push("metadata is not an object");

  let slideType: SlideType | null = null;
  if (meta.slideshow !== undefined) {
    const st = isObject(meta.slideshow) ? meta.slideshow.slide_type : undefined;
    if (typeof st === "string" && SLIDE_TYPES.has(st)) slideType = st as SlideType;
    else if (!isObject(meta.slideshow)) problems.push("metadata.slideshow is not an object { slide_type }");
    else if (st !== undefined) problems.push(`metadata.slideshow.slide_type ${JSON.stringify(st)} is not one of slide, subslide, fragment, skip, notes, -`);
  }

  const tags = new Set<string>();
  if (meta.tags !== undefined) {
    if (Array.isArray(meta.tags) && meta.tags.every((t) => typeof t === "string")) for (const t of meta.tags) tags.add(t);
    else problems.push("metadata.tags is not a list of strings");
  }

  let exercise: ExerciseInfo | null = null;
  if (meta.exercise !== undefined) {
    const ex = meta.exercise;
    if (isObject(ex) && typeof ex.id === "string" && /^[A-Za-z_$][\w$]*$/.test(ex.id) && kind === "code") {
      exercise = { id: ex.id, points: typeof ex.points === "number" ? ex.points : 0, week: typeof ex.week === "number" || typeof ex.week === "string" ? ex.week : "" };
    } else problems.push("metadata.exercise is not { id, points, week } on a code cell (shown as a plain cell)");
  }

  let outputs: unknown[] = [];
  if (kind === "code") {
    if (Array.isArray(c.outputs)) outputs = c.outputs;
    else if (c.outputs !== undefined) problems.push("outputs is not a list");
  }
  for (const p of problems) diag.warn(`${where}: ${p}`);
  return {
    index,
    id: typeof c.id === "string" ? c.id : undefined,
    kind,
    source,
    outputs,
    attachments: isObject(c.attachments) ? c.attachments : undefined,
    slideType,
    tags,
    exercise,
    problems,
  };
}

/** The title of a notebook: `metadata.course.title`, else its first `#` heading, else `fallback`. */
export function notebookTitle(metadata: Record<string, unknown>, cells: CellView[], fallback: string): string {
  const course = isObject(metadata.course) ? metadata.course : {};
  if (typeof course.title === "string" && course.title.trim()) return course.title.trim();
  for (const c of cells) {
    const m = c.kind === "markdown" ? /^#\s+(.+)$/m.exec(c.source) : null;
    if (m) return m[1].replace(/[*_`$]/g, "").trim();
  }
  return fallback;
}
