/**
 * The grader's sandbox: runs functions of a student's compiled module in a separate, restricted
 * Node process (tools/grade/child.ts) with enforced limits, so that no submission can read the
 * reference solutions or hidden tests, reach the network, or take the batch down.
 *
 * This file is the sandbox's façade: the public API below is re-exported from modules with one
 * job each:
 * | module                          | job                                                              |
 * |---------------------------------|------------------------------------------------------------------|
 * | sandbox-types.ts                | the public types and {@link DEFAULT_LIMITS}                      |
 * | sandbox-plan.ts                 | capability probing, the read allow-list, {@link sandboxCapabilities} |
 * | sandbox-command.ts              | a child's command line: prlimit, unshare, setpriv, permission flags, heap cap |
 * | sandbox-child.ts                | one child: timers, RSS/file watchdog, output cap, outcome classification |
 * | sandbox-channel.ts              | the token-only reply channel on fd 3                             |
 * | sandbox-run.ts                  | {@link runInSandbox}: the call loop, a fresh child after a fatal outcome |
 * | sandbox-fs.ts, sandbox-text.ts  | /proc and scratch-folder helpers; message wording and the output sink |
 *
 * Mechanisms (each verified by tests/tools/sandbox.test.ts; {@link sandboxCapabilities} reports
 * which are active on this machine):
 * | threat                        | mechanism (the guarantee)                                          |
 * |-------------------------------|--------------------------------------------------------------------|
 * | reading solutions/, tests/, other submissions, lib/src, /etc | Node permission model (`--experimental-permission`) with `--allow-fs-read` = the allow-list below; it also denies child processes, worker threads, native addons, WASI, the inspector and process.binding |
 * | writing outside scratch       | `--allow-fs-write` = the child's own work folder in the per-run scratch folder (a fresh one per child; symlinks/hard links need full access) |
 * | network                       | a fresh network namespace (`unshare -n` as root, else `unshare -rn`): no interface is up, connect() fails with ENETUNREACH. Without it: the JS-level guards only (defence in depth, not a guarantee) |
 * | signalling/ptracing the grader or other children | a separate, unused uid per run (`setpriv --reuid`, root only); JS guard on process.kill otherwise |
 * | orphans                       | `setpriv --pdeathsig=KILL`, RLIMIT_CPU, and a kill of live children at exit |
 * | infinite loops, slow code     | parent timers per call (perCallMs) and per run (totalMs), then SIGKILL |
 * | CPU                           | RLIMIT_CPU per child process (`prlimit --cpu`), SIGXCPU            |
 * | memory                        | V8 `--max-old-space-size` + a parent watchdog polling VmRSS (wasm memory lives outside the V8 heap; RLIMIT_AS is unusable because wasm reserves huge virtual ranges) |
 * | output floods                 | parent counts stdout+stderr per child, kills past outputBytes, keeps at most outputBytes per run; files: RLIMIT_FSIZE (16 MiB each) and a 64 MiB / 10,000-entry watchdog on the work folder |
 * | forged results                | replies travel on fd 3 with a per-child secret token (see child.ts), never on stdout |
 * | secrets, second layer         | a private mount namespace (`unshare -m`, where allowed) in which solutions/ and tests/ are empty mode-000 tmpfs mounts |
 * | huge or endless replies       | the parent caps each reply (8 MiB) and each run's channel (32 MiB) before parsing, in a linear-time reader (sandbox-channel.ts) |
 * | reaching the harness          | student code gets no require.cache, require.main, process.mainModule or file requires; the harness's exports are frozen and captured before student code runs |
 *
 * Read allow-list (nothing else in the repository or on the machine): the two harness files
 * (tools/dist/grade/child.js, serialize.js); the package folders tfjs loads at run time
 * ({@link RUNTIME_PACKAGES}, hoisted copies under node_modules; nested node_modules inside them
 * come along); @course/lib's `dist/` and `package.json` (not `src/`: node_modules/@course/lib is
 * a symlink to lib/, so the lib is allowed by its real path); the scratch folder.
 *
 * Caveats (what a determined student could still do, and where the guarantees end):
 * - The permission model (experimental in Node 20, needs Node ≥ 20) guards Node's fs APIs;
 *   native code reads outside it (libc's getaddrinfo reads /etc/hosts), and fs.realpathSync or
 *   error messages can reveal whether a path exists, not its content. Student code can read its
 *   own inputs and forge its own results; that gains nothing, since references and checks live
 *   in the grader. tools/grade must never put secrets in a child's arguments or environment.
 * - No network or mount namespace where unshare is forbidden (Docker's default seccomp profile, so
 *   most likely Gradescope; simulate it with COURSE_SANDBOX_NO_UNSHARE=1): the network block is
 *   then the JS guards only, and the permission model is the only layer hiding the secrets. Without root there is no
 *   separate uid, and a child could signal the grader's other processes by any path the JS
 *   guard misses.
 * - The RSS watchdog polls every 20 ms: a fast allocation can overshoot memoryMb by a few
 *   hundred MB before the kill. RLIMIT_CPU is per child (a fresh child gets a fresh budget);
 *   totalMs bounds the whole run.
 * - A grader killed with SIGKILL leaves its scratch folders in the temp folder (its children die).
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs here)
 */
export type { CallOutcome, SandboxCall, SandboxCapabilities, SandboxLimits, SandboxOptions, SandboxResult } from "./sandbox-types";
export { DEFAULT_LIMITS } from "./sandbox-types";
export { RUNTIME_PACKAGES, sandboxCapabilities } from "./sandbox-plan";
export { runInSandbox } from "./sandbox-run";
