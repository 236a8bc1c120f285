/**
 * Content hashes of what a notebook run depends on, so a later check can reuse a recorded run
 * instead of executing the notebook again (as build systems key their caches on input content):
 * the code cells as executed (solutions substituted), the library build, the shipped checkpoints
 * and data, and the pinned dependencies. The runner records them in summary.json; a run whose
 * recorded hashes equal today's would compute the same numbers.
 *
 * @see tools/run.ts
 * @see notebooks/01_score_matching.ipynb
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Notebook } from "../notebook";
import { codeDigest } from "../notebook-digest";

/** sha256 (hex) of each input of a run. */
export interface RunInputs {
  /** The code cells' sources, in order, as executed. */
  code: string;
  /** lib/dist (the `@course/lib` the kernel imports). */
  lib: string;
  checkpoints: string;
  datasets: string;
  /** package-lock.json: the TensorFlow.js and tslab versions. */
  lockfile: string;
}

/** The inputs of running `nb` (already prepared for its mode) from the repository at `root`. */
export function runInputs(nb: Notebook, root: string): RunInputs {
  return {
    code: codeDigest(nb),
    lib: treeHash(path.join(root, "lib", "dist")),
    checkpoints: treeHash(path.join(root, "checkpoints")),
    datasets: treeHash(path.join(root, "datasets")),
    lockfile: treeHash(path.join(root, "package-lock.json")),
  };
}

/** The names of the inputs that differ between a recorded run and now (empty: the same). */
export function changedInputs(recorded: unknown, now: RunInputs): string[] {
  const rec = (typeof recorded === "object" && recorded !== null ? recorded : {}) as Record<string, unknown>;
  return (Object.keys(now) as (keyof RunInputs)[]).filter((k) => rec[k] !== now[k]);
}

/** Skipped in trees: build bookkeeping that changes without the output changing. */
const IGNORED = /(\.tsbuildinfo|\.map)$/;

/** sha256 over a file, or over a folder's files (relative path and content, sorted); "absent" if missing. */
export function treeHash(target: string): string {
  if (!fs.existsSync(target)) return "absent";
  const h = createHash("sha256");
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.statSync(full);
      if (st.isDirectory()) walk(full, r);
      else if (st.isFile() && !IGNORED.test(name)) h.update(r).update("\0").update(fs.readFileSync(full)).update("\0");
    }
  };
  if (fs.statSync(target).isDirectory()) walk(target, "");
  else h.update(fs.readFileSync(target));
  return h.digest("hex");
}
