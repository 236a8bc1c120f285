/**
 * Which parts of the course a week-N release holds (weeks are read once, in ../course.ts).
 *
 * An exercise is *released* in the week-N release when its week is < N: its deadline has passed,
 * so its reference solution ships. Anything whose week cannot be read (Infinity) is never
 * released. The week-N release holds the notebooks of weeks ≤ N.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { Course, CourseExercise, CourseNotebook } from "../course";

/**
 * Whether an exercise's reference ships in the week-`week` release.
 * @see notebooks/01_score_matching.ipynb
 */
export function isReleased(ex: CourseExercise, week: number, withholdSolutions = false): boolean {
  return !withholdSolutions && ex.week < week;
}

/**
 * The notebooks of the week-`week` release: those of weeks ≤ `week`.
 * @see notebooks/01_score_matching.ipynb
 */
export function releasedNotebooks(course: Course, week: number): CourseNotebook[] {
  return course.notebooks.filter((n) => n.week <= week);
}

/**
 * The week of exercise `id` in the notebook whose solutions file is `solutionsFile` (Infinity: unknown).
 * @see notebooks/01_score_matching.ipynb
 */
export function exerciseWeek(course: Course, solutionsFile: string, id: string): number {
  const nb = course.notebooks.find((n) => n.solutionsFile === solutionsFile);
  return nb?.exercises.find((e) => e.id === id)?.week ?? Infinity;
}
