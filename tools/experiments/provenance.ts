/**
 * Provenance of an experiment's results file: the git commit (and whether the code was dirty),
 * sha256 of every checkpoint file used, backend, Node version and time. No papers; tooling.
 *
 * @see tools/experiment.ts
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { checkpointPath } from "@course/lib";

/** The repository root (tools/dist/experiments → ../../..). */
export const ROOT = path.resolve(__dirname, "..", "..", "..");

/** HEAD's commit and whether lib/, tools/ or checkpoints/ differ from it ("unknown" outside git). */
export function gitState(root = ROOT): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--", "lib/src", "tools", "checkpoints"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: "unknown", dirty: true };
  }
}

/** sha256 (hex) of a file. */
export function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** sha256 of every file in a checkpoint's folder, by file name (sorted). */
export function checkpointHashes(name: string): Record<string, string> {
  const dir = checkpointPath(name);
  if (!fs.existsSync(dir)) throw new Error(`checkpoint ${name} not found at ${dir}`);
  const files = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
  return Object.fromEntries(files.map((f) => [f, sha256File(path.join(dir, f))]));
}
