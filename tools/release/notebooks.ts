/**
 * The notebooks and solutions of a student release.
 *
 * A released notebook is the committed one (stubs, outputs stripped) with the reference
 * solution substituted into every exercise whose deadline has passed (week < N) — the same
 * substitution the instructor build uses (exercises.ts), applied to those exercises only. Its
 * solutions file keeps the header (imports) and the released regions only.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { SolutionRegion, substituteSolutions } from "../exercises";
import { Notebook, stripOutputs } from "../notebook";
import { CourseNotebook } from "../course";
import { isReleased } from "./weeks";

/** Ids of the exercises of `nb` whose reference ships in the week-`week` release. */
export function releasedIds(nb: CourseNotebook, week: number, withholdSolutions: boolean): Set<string> {
  return new Set(nb.exercises.filter((e) => isReleased(e, week, withholdSolutions)).map((e) => e.id));
}

/**
 * The student's copy of a notebook: outputs stripped; released exercises hold their reference
 * solution, every other exercise keeps its stub. Throws ExerciseError when a released exercise
 * has no region (or a region has no exercise), like the instructor build.
 */
export function studentNotebook(nb: CourseNotebook, week: number, withholdSolutions: boolean): Notebook {
  const released = releasedIds(nb, week, withholdSolutions);
  const clean = stripOutputs(nb.nb);
  if (released.size === 0) return clean;
  // Unreleased exercises "substitute" their own stub, so one substitution does both.
  const regions = new Map<string, SolutionRegion>();
  for (const ex of nb.exercises) {
    const src = clean.cells[ex.cell].source;
    const stub = Array.isArray(src) ? src.join("") : src;
    const region = nb.regions.get(ex.id);
    regions.set(ex.id, released.has(ex.id) && region ? region : { id: ex.id, text: stub, line: 0 });
  }
  for (const [id, r] of nb.regions) if (!regions.has(id)) regions.set(id, r);
  return substituteSolutions(clean, regions, { notebook: nb.rel, solutions: nb.solutionsFile ?? "(no solutions file)" });
}

/**
 * The released part of a solutions file: its header (everything before the first region) and the
 * regions of `released`, in file order; null when nothing is released.
 */
export function releasedSolutionsText(text: string, regions: Map<string, SolutionRegion>, released: Set<string>, week: number): string | null {
  const keep = [...regions.values()].filter((r) => released.has(r.id)).sort((a, b) => a.line - b.line);
  if (keep.length === 0) return null;
  const first = Math.min(...[...regions.values()].map((r) => r.line));
  const header = text.split(/\r?\n/).slice(0, first - 1).join("\n").trimEnd();
  const note = `// Student release for week ${week}: the reference solutions of the exercises whose deadline has passed.`;
  const body = keep.map((r) => `// #region exercise: ${r.id}\n${r.text}\n// #endregion`).join("\n\n");
  return `${note}\n${header}\n\n${body}\n`;
}
