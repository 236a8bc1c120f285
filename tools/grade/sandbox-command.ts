/**
 * The command line of one sandbox child: where the OS-level limits are applied. A child runs as
 *   [prlimit …] [unshare …] [setpriv …] node <permission flags> <V8 heap cap> <script>
 * | wrapper / flag                         | enforces                                                      |
 * |----------------------------------------|---------------------------------------------------------------|
 * | `prlimit --cpu=N:N+1`                  | RLIMIT_CPU per child (SIGXCPU at N CPU-s, SIGKILL at N+1)      |
 * | `prlimit --core=0 --fsize=16 MiB`      | no core dumps; RLIMIT_FSIZE per file written (SIGXFSZ)        |
 * | `unshare -n` / `unshare -rn`           | a fresh network namespace with no interface up                |
 * | `unshare -m` + `sh -c 'mount -t tmpfs …'` | a private mount namespace in which solutions/ and tests/ are empty, unreadable tmpfs mounts (where the OS allows it) |
 * | `setpriv --reuid/--regid --clear-groups` | a separate, unused uid per run (root only)                  |
 * | `setpriv --nnp --pdeathsig=KILL`       | no privilege gain on exec; the child dies with the grader     |
 * | permission flag + `--allow-fs-read/-write` | Node permission model: the read allow-list + scratch, writes to the child's work folder only |
 * | `--max-old-space-size`                 | V8 heap cap (memoryMb; the RSS watchdog covers wasm memory)   |
 * Which wrappers a {@link Plan} uses is decided by probing (tools/grade/sandbox-plan.ts).
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import type { SandboxCapabilities, SandboxLimits } from "./sandbox-types";

/** RLIMIT_FSIZE of a child: the largest file it may write. */
export const FSIZE_BYTES = 16 * 1024 * 1024;

/** How children are launched on this machine (the probed mechanisms and the paths they need). */
export interface Plan {
  caps: SandboxCapabilities;
  permissionFlag: string;
  flagStyle: "repeat" | "comma";
  warningFlag: string;
  prlimit: string | null;
  unshare: string[];
  /** Folders hidden behind empty tmpfs mounts in the child's private mount namespace (empty: none). */
  hide: string[];
  setpriv: string | null;
  uidRange: [number, number] | null;
  childScript: string;
  paths: { tfjs: string; wasm: string; lib: string };
}

function fsFlags(flag: string, paths: string[], style: Plan["flagStyle"]): string[] {
  return style === "repeat" ? paths.map((p) => `${flag}=${p}`) : [`${flag}=${paths.join(",")}`];
}

/** `sh -c` script: mount an empty mode-000 tmpfs over each of the first $1 folders, then exec the rest (with the environment the shell was given: no PWD). */
export const HIDE_SCRIPT = 'n=$1; shift; while [ "$n" -gt 0 ]; do mount -t tmpfs -o size=4k,mode=000 tmpfs "$1" || exit 97; shift; n=$((n - 1)); done; unset PWD OLDPWD; exec "$@"';

/** The argv of one child: [prlimit] [unshare] [setpriv] node <flags> <script>. */
export function command(plan: Plan, o: { limits: SandboxLimits; scratch: string | null; work: string | null; uid: number | null; script: string[] }): string[] {
  const cmd: string[] = [];
  if (plan.prlimit) {
    const cpu = Math.max(1, Math.ceil(o.limits.cpuSeconds));
    cmd.push(plan.prlimit, `--cpu=${cpu}:${cpu + 1}`, "--core=0", `--fsize=${FSIZE_BYTES}`, "--");
  }
  cmd.push(...plan.unshare);
  if (plan.hide.length > 0) cmd.push("/bin/sh", "-c", HIDE_SCRIPT, "sh", String(plan.hide.length), ...plan.hide);
  if (plan.setpriv) {
    cmd.push(plan.setpriv);
    if (o.uid !== null) cmd.push(`--reuid=${o.uid}`, `--regid=${o.uid}`, "--clear-groups");
    cmd.push("--nnp", "--pdeathsig=KILL", "--");
  }
  const read = o.scratch ? [...plan.caps.allowRead, o.scratch] : plan.caps.allowRead;
  cmd.push(process.execPath, plan.permissionFlag, ...fsFlags("--allow-fs-read", read, plan.flagStyle));
  if (o.work) cmd.push(...fsFlags("--allow-fs-write", [o.work], plan.flagStyle));
  cmd.push(`--max-old-space-size=${Math.max(16, Math.floor(o.limits.memoryMb))}`, plan.warningFlag, ...o.script);
  return cmd;
}
