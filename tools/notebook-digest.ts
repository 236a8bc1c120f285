/**
 * A digest of a notebook's code: sha256 over its code cells' sources, in order (markdown,
 * outputs and metadata do not count). A student release records it per notebook in
 * course-release.json, so the release's own tests can tell a notebook that is still exactly as
 * released (e.g. a past week's, with its reference solutions) from one the student has changed.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { createHash } from "crypto";
import { cellSource, Notebook } from "./notebook";

/** sha256 (hex) of the code cells' sources of `nb`. */
export function codeDigest(nb: Notebook): string {
  const h = createHash("sha256");
  for (const c of nb.cells) if (c.cell_type === "code") h.update(cellSource(c)).update("\0");
  return h.digest("hex");
}
