/**
 * Crash-safe file writes shared by the library (checkpoints) and the course tools (datasets,
 * grader results): write a temp file in the same folder, fsync it, then rename it over the
 * target, so a reader sees either the old file or the complete new one, never half of it.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";

/** Temp names look like ".<name>.<pid>.<random>.tmp" (hidden, and recognisable by {@link isAtomicTempFile}). */
const TEMP_NAME = /^\..+\.\d+\.[a-z0-9]+\.tmp$/;

/**
 * Write `data` to `file` atomically (creating the folder if needed).
 *
 * @example writeFileAtomic("checkpoints/ring-mlp/manifest.json", JSON.stringify(manifest));
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeFileSync(fd, data); // writes all of it, looping over partial writes
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Is `name` (a bare file name) a temp file left by an interrupted {@link writeFileAtomic}? */
export function isAtomicTempFile(name: string): boolean {
  return TEMP_NAME.test(name);
}
