/**
 * File-system and /proc helpers of the sandbox: what its watchdog measures and how its scratch
 * folders are prepared and removed.
 * - {@link readProc}: a child's resident memory (VmRSS, for the memory watchdog: wasm memory
 *   lives outside the V8 heap) and CPU time (utime+stime, to tell an RLIMIT_CPU kill apart);
 * - {@link scratchBytes}: the bytes under a child's work folder (the 64 MiB / 10,000-entry
 *   file-flood watchdog; RLIMIT_FSIZE bounds each file);
 * - {@link ensureTraversable}: a child under its own uid must reach the scratch folder;
 * - {@link removeScratch}: delete a scratch folder even when the child left it unwritable.
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Files plus folders under a work folder past which {@link scratchBytes} reports a flood. */
const SCRATCH_ENTRIES = 10_000;

/** Resident memory (kB) and CPU seconds of process `pid`; null when it is gone or there is no /proc. */
export function readProc(pid: number): { rssKb: number; cpuS: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    return { rssKb: rss ? Number(rss[1]) : 0, cpuS: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return null;
  }
}

/** Bytes of files under `dir` (Infinity past SCRATCH_ENTRIES entries: a flood of empty files). */
export function scratchBytes(dir: string): number {
  let total = 0;
  let entries = 0;
  const stack = [dir];
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    let list: fs.Dirent[] = [];
    try {
      list = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      // vanished or unreadable
    }
    for (const e of list) {
      if (++entries > SCRATCH_ENTRIES) return Infinity;
      const f = path.join(d, e.name);
      if (e.isDirectory()) stack.push(f);
      else {
        try {
          total += fs.lstatSync(f).size;
        } catch {
          // vanished
        }
      }
    }
  }
  return total;
}

/** A child under its own uid must be able to traverse down to its scratch folder. */
export function ensureTraversable(root: string): void {
  const st = fs.statSync(root);
  if ((st.mode & 0o001) === 0) fs.chmodSync(root, (st.mode & 0o7777) | 0o001); // scratchRoot is the sandbox's own folder
  for (let d = path.dirname(root); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) {
      throw new Error(`sandbox: ${d} is not traversable by other users (chmod o+x), but student code runs under its own uid`);
    }
    if (path.dirname(d) === d) return;
  }
}

/** Delete a scratch folder (recursively), making it writable first if needed; best effort. */
export function removeScratch(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    try {
      spawnSync("chmod", ["-R", "u+rwx", dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // left for the OS temp cleaner
    }
  }
}
