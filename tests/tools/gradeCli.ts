/**
 * The grading CLI (tools/dist/grade.js, built by `npm run build`) run as a child process, for the
 * grade tests: its exit code, what it printed, and how long it took.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./fixtures/submissions/materialize";

export const GRADE_JS = path.join(ROOT, "tools", "dist", "grade.js");

/** How one CLI run ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Run `node tools/dist/grade.js ...args` from the repository root; `onSpawn` gets a way to signal it. */
export function gradeCli(args: string[], onSpawn?: (kill: (sig: NodeJS.Signals) => void) => void): Promise<CliRun> {
  if (!fs.existsSync(GRADE_JS)) throw new Error(`${GRADE_JS} missing: run \`npm run build\` first`);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [GRADE_JS, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
    onSpawn?.((sig) => p.kill(sig));
  });
}
