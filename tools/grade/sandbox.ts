/**
 * The grader's sandbox: runs functions of a student's compiled module in a separate, restricted
 * Node process (tools/grade/child.ts) with enforced limits, so that no submission can read the
 * reference solutions or hidden tests, reach the network, or take the batch down.
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
 * - No network namespace where unshare is forbidden (Docker's default seccomp profile, so most
 *   likely Gradescope): the network block is then the JS guards only. Without root there is no
 *   separate uid, and a child could signal the grader's other processes by any path the JS
 *   guard misses.
 * - The RSS watchdog polls every 20 ms: a fast allocation can overshoot memoryMb by a few
 *   hundred MB before the kill. RLIMIT_CPU is per child (a fresh child gets a fresh budget);
 *   totalMs bounds the whole run.
 * - A grader killed with SIGKILL leaves its scratch folders in the temp folder (its children die).
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs here)
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { randomBytes, randomInt } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Duplex } from "stream";
import type { ChildMessage, InitMessage, ResultMessage } from "./child";
import { decode, Wire } from "./serialize";

/** Limits of one {@link runInSandbox} run. */
export interface SandboxLimits {
  /** Wall-clock per call (and for loading the module). */
  perCallMs: number;
  /** Wall-clock for the whole run, child start-ups included. */
  totalMs: number;
  /** CPU seconds per child process (RLIMIT_CPU). */
  cpuSeconds: number;
  /** Resident memory per child (V8 heap cap and RSS watchdog). */
  memoryMb: number;
  /** stdout+stderr bytes per child before it is killed; also the most text kept per run. */
  outputBytes: number;
}

/** 10 s per call, 60 s per run, 60 CPU-s, 1024 MB, 64 KiB of output. */
export const DEFAULT_LIMITS: SandboxLimits = {
  perCallMs: 10_000, totalMs: 60_000, cpuSeconds: 60, memoryMb: 1024, outputBytes: 64 * 1024,
};

/** One call: an exported function of the student module and its wire-encoded arguments. */
export interface SandboxCall {
  exportName: string;
  args: Wire[];
}

/** What happened to one call. Messages are short and meant for the student. */
export type CallOutcome =
  | { status: "ok"; value: Wire; ms: number }
  | { status: "threw"; message: string; ms: number }
  | { status: "timeout" | "crashed" | "memory" | "output-limit" | "cpu-limit" | "exited" | "load-error"; message: string; ms: number };

/** Outcomes in call order, and the text the student's code printed. */
export interface SandboxResult {
  outcomes: CallOutcome[];
  stdout: string;
  stderr: string;
}

/** Options of {@link runInSandbox}. */
export interface SandboxOptions {
  /** CommonJS source of the compiled student module (it may require "@tensorflow/tfjs" and "@course/lib"). */
  moduleJs: string;
  calls: SandboxCall[];
  limits?: Partial<SandboxLimits>;
  /** Where the per-run scratch folder is made (default: the OS temp folder). */
  scratchRoot?: string;
  /** JS-level network/kill guards in the child (default true; tests turn them off to prove the OS mechanisms). */
  jsGuards?: boolean;
}

/** Which mechanisms are active here (probed once per process). */
export interface SandboxCapabilities {
  fsPermission: boolean;
  networkNamespace: boolean;
  separateUid: boolean;
  parentDeathSignal: boolean;
  cpuLimit: boolean;
  memoryWatchdog: boolean;
  /** The read allow-list handed to the child (scratch folders come on top). */
  allowRead: string[];
  /** One line per mechanism, for the grader's log. */
  summary: string[];
}

/** Packages tfjs + the wasm backend load at run time (checked by the sandbox tests). */
export const RUNTIME_PACKAGES = [
  "@tensorflow/tfjs", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu", "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-backend-webgl", "@tensorflow/tfjs-layers", "@tensorflow/tfjs-converter", "@tensorflow/tfjs-data",
  "long", "seedrandom",
] as const;

const STARTUP_MS = 30_000;
/** child.ts's exit status when its own code fails (kept here: importing child.js would run it). */
const HARNESS_FAILED = 70;
const WATCH_MS = 20;
const FSIZE_BYTES = 16 * 1024 * 1024;
const SCRATCH_BYTES = 64 * 1024 * 1024;
const SCRATCH_ENTRIES = 10_000;
const MAX_LINE_CHARS = 64 * 1024 * 1024;
const MAX_CHANNEL_CHARS = 512 * 1024 * 1024;

interface Plan {
  caps: SandboxCapabilities;
  permissionFlag: string;
  flagStyle: "repeat" | "comma";
  warningFlag: string;
  prlimit: string | null;
  unshare: string[];
  setpriv: string | null;
  uidRange: [number, number] | null;
  childScript: string;
  paths: { tfjs: string; wasm: string; lib: string };
}

function findRoot(): string {
  for (let d = __dirname; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "node_modules", "@tensorflow", "tfjs", "package.json"))) return d;
    if (path.dirname(d) === d) throw new Error(`sandbox: no node_modules/@tensorflow/tfjs above ${__dirname}`);
  }
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(path.delimiter).concat(["/usr/bin", "/bin", "/usr/sbin"])) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // next
    }
  }
  return null;
}

function uidRange(): [number, number] | null {
  try {
    for (const line of fs.readFileSync("/proc/self/uid_map", "utf8").trim().split("\n")) {
      const [inside, , count] = line.trim().split(/\s+/).map(Number);
      const lo = Math.max(inside, 1_000_000);
      const hi = Math.min(inside + count - 1, 2_000_000);
      if (hi - lo > 1000) return [lo, hi];
      const lo2 = Math.max(inside, 60_000);
      const hi2 = Math.min(inside + count - 1, 65_000);
      if (hi2 - lo2 > 100) return [lo2, hi2];
    }
  } catch {
    // not Linux
  }
  return null;
}

function fsFlags(flag: string, paths: string[], style: Plan["flagStyle"]): string[] {
  return style === "repeat" ? paths.map((p) => `${flag}=${p}`) : [`${flag}=${paths.join(",")}`];
}

/** The argv of one child: [prlimit] [unshare] [setpriv] node <flags> <script>. */
function command(plan: Plan, o: { limits: SandboxLimits; scratch: string | null; work: string | null; uid: number | null; script: string[] }): string[] {
  const cmd: string[] = [];
  if (plan.prlimit) {
    const cpu = Math.max(1, Math.ceil(o.limits.cpuSeconds));
    cmd.push(plan.prlimit, `--cpu=${cpu}:${cpu + 1}`, "--core=0", `--fsize=${FSIZE_BYTES}`, "--");
  }
  cmd.push(...plan.unshare);
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

const PROBE = `const a=JSON.parse(process.argv[1]),fs=require("fs");for(const f of a.allow)fs.readFileSync(f);
try{fs.readFileSync(a.deny);process.exit(3)}catch(e){}if(!a.netns)process.exit(0);
const s=require("net").connect(9,"127.0.0.1");s.on("connect",()=>process.exit(4));
s.on("error",(e)=>process.exit(e.code==="ENETUNREACH"?0:5));`;

let cachedPlan: Plan | null = null;

function makePlan(): Plan {
  const root = findRoot();
  const here = path.join(__dirname, "child.js");
  const childScript = fs.existsSync(here) ? here : path.join(root, "tools", "dist", "grade", "child.js");
  const serializeJs = path.join(path.dirname(childScript), "serialize.js");
  if (!fs.existsSync(childScript) || !fs.existsSync(serializeJs)) {
    throw new Error(`sandbox: ${childScript} is missing; build the tools first (npm run build)`);
  }
  const resolve = (id: string): string => fs.realpathSync(require.resolve(id, { paths: [root] }));
  const paths = { tfjs: resolve("@tensorflow/tfjs"), wasm: resolve("@tensorflow/tfjs-backend-wasm"), lib: resolve("@course/lib") };
  const libDir = path.dirname(fs.realpathSync(path.join(root, "node_modules", "@course", "lib", "package.json")));
  const packages = RUNTIME_PACKAGES.map((p) => path.join(root, "node_modules", p))
    .filter((d) => fs.existsSync(path.join(d, "package.json"))).map((d) => fs.realpathSync(d));
  const allowRead = [childScript, serializeJs, ...packages, path.join(libDir, "dist"), path.join(libDir, "package.json")];

  const flags = process.allowedNodeEnvironmentFlags;
  const permissionFlag = flags.has("--permission") ? "--permission" : flags.has("--experimental-permission") ? "--experimental-permission" : "";
  const warningFlag = flags.has("--disable-warning") ? "--disable-warning=ExperimentalWarning" : "--no-warnings";
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const unsharePath = which("unshare");
  const setpriv = which("setpriv");
  const range = isRoot && setpriv ? uidRange() : null;
  const base: Plan = {
    caps: { fsPermission: false, networkNamespace: false, separateUid: false, parentDeathSignal: setpriv !== null,
      cpuLimit: false, memoryWatchdog: fs.existsSync("/proc/self/status"), allowRead, summary: [] },
    permissionFlag, flagStyle: "repeat", warningFlag, prlimit: which("prlimit"), unshare: [], setpriv, uidRange: range,
    childScript, paths,
  };
  const probe = (p: Plan, netns: boolean): boolean => {
    const uid = p.uidRange ? p.uidRange[0] : null;
    const arg = JSON.stringify({ allow: [childScript, path.join(paths.wasm)], deny: path.join(root, "package.json"), netns });
    const [file, ...args] = command(p, { limits: DEFAULT_LIMITS, scratch: null, work: null, uid, script: ["-e", PROBE, arg] });
    return spawnSync(file, args, { cwd: "/", env: {}, stdio: "ignore", timeout: 15_000 }).status === 0;
  };
  if (!permissionFlag) return finishPlan(base, `this Node (${process.version}) has no permission model`);
  const unshares = unsharePath ? (isRoot ? [["-n"], ["-rn"]] : [["-rn"]]).map((f) => [unsharePath, ...f, "--"]) : [];
  for (const style of ["repeat", "comma"] as const) {
    for (const unshare of [...unshares, []]) {
      for (const uids of range ? [range, null] : [null]) {
        const p: Plan = { ...base, flagStyle: style, unshare, uidRange: uids };
        if (!probe(p, unshare.length > 0)) continue;
        p.caps = { ...p.caps, fsPermission: true, networkNamespace: unshare.length > 0, separateUid: uids !== null, cpuLimit: p.prlimit !== null };
        return finishPlan(p, "");
      }
    }
  }
  return finishPlan(base, "the permission-model probe failed");
}

function finishPlan(p: Plan, problem: string): Plan {
  const c = p.caps;
  c.summary = [
    c.fsPermission ? `filesystem: Node permission model (${p.permissionFlag}), read allow-list of ${c.allowRead.length} entries + scratch` : `filesystem: NOT RESTRICTED (${problem})`,
    c.networkNamespace ? `network: own network namespace (${path.basename(p.unshare[0])} ${p.unshare[1]})` : "network: JS-level guards only (no usable unshare): defence in depth, not a guarantee",
    c.separateUid ? "processes: separate uid per run (setpriv), cannot signal the grader or other runs" : "processes: same uid as the grader; JS guard on process.kill only",
    c.cpuLimit ? "cpu: RLIMIT_CPU per child (prlimit)" : "cpu: no RLIMIT_CPU (no prlimit); wall-clock limits only",
    c.memoryWatchdog ? "memory: V8 heap cap + RSS watchdog (/proc)" : "memory: V8 heap cap only (no /proc): wasm memory unbounded",
    c.parentDeathSignal ? "orphans: parent-death signal (setpriv --pdeathsig)" : "orphans: killed at grader exit only",
  ];
  return p;
}

function plan(): Plan {
  if (!cachedPlan) cachedPlan = makePlan();
  return cachedPlan;
}

/** Probe (once) and report the isolation mechanisms available here. */
export function sandboxCapabilities(): SandboxCapabilities {
  return plan().caps;
}

const live = new Set<ChildProcess>();
let exitHook = false;

function sec(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function bytes(n: number): string {
  return n % 1024 === 0 && n >= 1024 ? (n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`) : `${n} bytes`;
}

/** Text kept from all children of one run: at most `cap` bytes in all, then a marker. */
class OutputSink {
  private parts: Record<"stdout" | "stderr", Buffer[]> = { stdout: [], stderr: [] };
  private truncated = { stdout: false, stderr: false };
  private kept = 0;
  constructor(private readonly cap: number) {}
  add(stream: "stdout" | "stderr", chunk: Buffer): void {
    const room = this.cap - this.kept;
    if (chunk.length > room) this.truncated[stream] = true;
    if (room <= 0) return;
    const part = chunk.subarray(0, room);
    this.parts[stream].push(part);
    this.kept += part.length;
  }
  text(stream: "stdout" | "stderr"): string {
    const s = Buffer.concat(this.parts[stream]).toString("utf8");
    return this.truncated[stream] ? `${s}\n[output truncated: more than ${bytes(this.cap)} in all]\n` : s;
  }
}

interface RunCtx {
  plan: Plan;
  limits: SandboxLimits;
  scratch: string;
  modulePath: string;
  uid: number | null;
  sink: OutputSink;
  jsGuards: boolean;
  deadline: number;
}

type Failure = { status: Exclude<CallOutcome["status"], "ok" | "threw">; message: string };

function readProc(pid: number): { rssKb: number; cpuS: number } | null {
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
function scratchBytes(dir: string): number {
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

interface ChildRun {
  outcomes: CallOutcome[];
  loadError?: string;
}

type Phase = "starting" | "loading" | "calling" | "finished";

/** One child process: runs `calls` in order until they are done or the child dies. */
function runChild(ctx: RunCtx, calls: SandboxCall[]): Promise<ChildRun> {
  const { plan: p, limits } = ctx;
  return new Promise<ChildRun>((resolve, reject) => {
    const token = randomBytes(16).toString("hex");
    const prefix = `${token} `;
    const work = fs.mkdtempSync(path.join(ctx.scratch, "work-"));
    if (ctx.uid !== null) fs.chownSync(work, ctx.uid, ctx.uid);
    const [file, ...args] = command(p, { limits, scratch: ctx.scratch, work, uid: ctx.uid, script: [p.childScript] });
    const child = spawn(file, args, { cwd: work, env: { COURSE_BACKEND: "wasm" }, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    live.add(child);
    const outcomes: CallOutcome[] = [];
    let phase: Phase = "starting";
    let failure: (Failure & { phase: Phase }) | null = null;
    let index = 0;
    let callStart = Date.now();
    let exitCode: number | null = null;
    let timer: NodeJS.Timeout | undefined;
    let cpuS = 0;
    let printed = 0;
    let stderrTail = "";
    let loadError: string | undefined;

    const finish = (): void => {
      phase = "finished";
      clearTimeout(timer);
      clearInterval(watch);
      child.kill("SIGKILL");
    };
    const fail = (status: Failure["status"], message: string): void => {
      if (phase === "finished") return;
      failure = { status, message, phase };
      finish();
    };
    const arm = (ms: number, onFire: (byDeadline: boolean) => void): void => {
      clearTimeout(timer);
      const left = ctx.deadline - Date.now();
      timer = setTimeout(() => onFire(left <= ms), Math.max(0, Math.min(ms, left)));
    };
    const total = `the submission's total time limit of ${sec(limits.totalMs)} ran out`;
    const startCall = (): void => {
      if (index >= calls.length) return finish();
      callStart = Date.now();
      arm(limits.perCallMs, (byDeadline) => fail("timeout", byDeadline ? `stopped: ${total}` : `timed out after ${sec(limits.perCallMs)} (infinite loop?)`));
    };
    const onResult = (m: ResultMessage): void => {
      const ms = Date.now() - callStart;
      if (m.status === "ok") {
        const value: Wire = m.value === undefined ? { __undefined: true } : m.value;
        try {
          decode(value); // a tampered child can garble its own value; the grader always gets a decodable one
          outcomes.push({ status: "ok", value, ms });
        } catch {
          outcomes.push({ status: "threw", message: "returned a value the grader could not read", ms });
        }
      }
      else if (m.status === "threw" || m.status === "memory" || m.status === "load-error") {
        outcomes.push({ status: m.status, message: String(m.message).slice(0, 1000), ms });
      } else return;
      index++;
      if (m.restart === true) finish();
      else startCall();
    };
    const onMessage = (json: string): void => {
      let m: ChildMessage;
      try {
        m = JSON.parse(json) as ChildMessage;
      } catch {
        return;
      }
      if (typeof m !== "object" || m === null) return;
      if (m.type === "ready" && phase === "starting") {
        phase = "loading";
        arm(limits.perCallMs, (byDeadline) => fail("timeout", byDeadline ? `stopped while loading the module: ${total}`
          : `timed out after ${sec(limits.perCallMs)} while loading the module (infinite loop at the top level?)`));
      } else if (m.type === "loaded" && phase === "loading") {
        phase = "calling";
        startCall();
      } else if (m.type === "load-error" && phase === "loading") {
        loadError = String(m.message).slice(0, 1000);
        finish();
      } else if (m.type === "result" && phase === "calling" && m.i === index) {
        onResult(m);
      } else if (m.type === "exit" && typeof m.code === "number") {
        exitCode = m.code;
      } else if (m.type === "done" && phase === "calling" && index >= calls.length) {
        finish();
      }
    };

    // The reply channel: token lines only; anything else (a student writing to fd 3) is dropped.
    const channel = child.stdio[3] as Duplex;
    let pending: string[] = [];
    let pendingLen = 0;
    let junk = false;
    let channelChars = 0;
    channel.setEncoding("utf8");
    channel.on("data", (s: string) => {
      channelChars += s.length;
      if (channelChars > MAX_CHANNEL_CHARS) return fail("output-limit", "sent too much data to the grader");
      let start = 0;
      for (let nl = s.indexOf("\n"); nl >= 0; start = nl + 1, nl = s.indexOf("\n", start)) {
        if (!junk) pending.push(s.slice(start, nl));
        const line = junk ? "" : pending.join("");
        pending = [];
        pendingLen = 0;
        junk = false;
        if (line.startsWith(prefix)) onMessage(line.slice(prefix.length));
      }
      if (junk || start >= s.length) return;
      const rest = s.slice(start);
      pending.push(rest);
      pendingLen += rest.length;
      const head = pending.length === 1 ? rest : pending.join("");
      if (!prefix.startsWith(head.slice(0, prefix.length)) && !head.startsWith(prefix)) {
        junk = true; // cannot become a token line: stop buffering it
        pending = [];
        pendingLen = 0;
      } else if (pendingLen > MAX_LINE_CHARS) {
        fail("output-limit", "returned a value too large to grade");
      }
    });
    channel.on("error", () => undefined);
    const init: InitMessage = {
      token, modulePath: ctx.modulePath, tfjsPath: p.paths.tfjs, wasmPath: p.paths.wasm, libPath: p.paths.lib,
      calls, jsGuards: ctx.jsGuards,
    };
    channel.write(`${JSON.stringify(init)}\n`);

    const onOutput = (stream: "stdout" | "stderr") => (chunk: Buffer): void => {
      ctx.sink.add(stream, chunk);
      if (stream === "stderr") stderrTail = (stderrTail + chunk.toString("utf8")).slice(-4096);
      printed += chunk.length;
      if (printed > limits.outputBytes) fail("output-limit", `printed more than ${bytes(limits.outputBytes)} of output`);
    };
    child.stdout?.on("data", onOutput("stdout"));
    child.stderr?.on("data", onOutput("stderr"));
    child.stdout?.on("error", () => undefined);
    child.stderr?.on("error", () => undefined);

    let ticks = 0;
    const watch = setInterval(() => {
      const st = child.pid ? readProc(child.pid) : null;
      if (st) cpuS = st.cpuS;
      if (st && st.rssKb > limits.memoryMb * 1024) fail("memory", `used more than ${limits.memoryMb} MB of memory`);
      else if (++ticks % 5 === 0 && scratchBytes(work) > SCRATCH_BYTES) fail("output-limit", `wrote more than ${bytes(SCRATCH_BYTES)} of files`);
    }, WATCH_MS);
    arm(STARTUP_MS, (byDeadline) => fail("timeout", byDeadline ? total : `the sandbox did not start within ${sec(STARTUP_MS)}`));

    const classify = (code: number | null, signal: NodeJS.Signals | null): Failure => {
      const cpu = Math.max(1, Math.ceil(limits.cpuSeconds));
      if (signal === "SIGXCPU" || (signal === "SIGKILL" && p.caps.cpuLimit && cpuS >= cpu - 0.3)) {
        return { status: "cpu-limit", message: `used more than ${cpu} s of CPU time` };
      }
      if (signal === "SIGXFSZ") return { status: "output-limit", message: `wrote a file larger than ${bytes(FSIZE_BYTES)}` };
      if ((signal === "SIGABRT" || code === 134) && /heap out of memory|Reached heap limit|Allocation failed/.test(stderrTail)) {
        return { status: "memory", message: `used more than ${limits.memoryMb} MB of memory` };
      }
      if (signal === "SIGKILL") return { status: "crashed", message: "was killed (SIGKILL; out of memory?)" };
      if (signal) return { status: "crashed", message: `crashed (${signal})` };
      if (exitCode !== null) return { status: "exited", message: `called process.exit(${exitCode})` };
      if (code === HARNESS_FAILED) return { status: "crashed", message: "broke the grading harness (closed or corrupted its file descriptors?)" };
      return { status: "exited", message: `exited with code ${code}` };
    };

    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      live.delete(child);
      removeScratch(work);
      if (err) reject(err);
      else resolve(loadError !== undefined ? { outcomes, loadError } : { outcomes });
    };
    child.on("error", (e) => {
      fail("crashed", e.message);
      settle(new Error(`sandbox: could not start ${file}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      const f: (Failure & { phase: Phase }) | null = failure ?? (phase === "finished" ? null : { ...classify(code, signal), phase });
      if (f && f.phase === "starting") {
        if (f.status === "timeout" && Date.now() >= ctx.deadline) return settle(null);
        return settle(new Error(`sandbox: the child failed to start (${f.message}): ${stderrTail.trim().slice(-800)}`));
      }
      if (f && f.phase === "loading") {
        loadError = f.status === "timeout" ? f.message : `${f.message} while loading the module`;
      } else if (f && f.phase === "calling") {
        outcomes.push({ status: f.status, message: f.message, ms: Date.now() - callStart });
      }
      settle(null);
    });
  });
}

/** A child under its own uid must be able to traverse down to its scratch folder. */
function ensureTraversable(root: string): void {
  const st = fs.statSync(root);
  if ((st.mode & 0o001) === 0) fs.chmodSync(root, (st.mode & 0o7777) | 0o001); // scratchRoot is the sandbox's own folder
  for (let d = path.dirname(root); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) {
      throw new Error(`sandbox: ${d} is not traversable by other users (chmod o+x), but student code runs under its own uid`);
    }
    if (path.dirname(d) === d) return;
  }
}

function removeScratch(dir: string): void {
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

/**
 * Run `calls` of the student module `moduleJs` in restricted child processes, one call after
 * another. A call that times out or kills its process gets the matching status and the calls
 * after it continue in a fresh child, until `totalMs` is spent. A module that fails to load gives
 * every call `load-error`. Rejects only when the sandbox itself cannot work (no permission model,
 * tools not built, the child cannot start): the grader must report that as its own failure.
 */
export async function runInSandbox(opts: SandboxOptions): Promise<SandboxResult> {
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const p = plan();
  if (!p.caps.fsPermission) throw new Error(`sandbox unavailable: ${p.caps.summary[0]}`);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => live.forEach((c) => c.kill("SIGKILL")));
  }
  const deadline = Date.now() + limits.totalMs;
  const root = fs.realpathSync(opts.scratchRoot ?? os.tmpdir());
  if (p.uidRange) ensureTraversable(root);
  const scratch = fs.mkdtempSync(path.join(root, "course-sandbox-"));
  const uid = p.uidRange ? randomInt(p.uidRange[0], p.uidRange[1]) : null;
  const sink = new OutputSink(limits.outputBytes);
  const outcomes: CallOutcome[] = [];
  const n = opts.calls.length;
  try {
    const modulePath = path.join(scratch, "submission.js");
    fs.writeFileSync(modulePath, opts.moduleJs, { mode: 0o644 });
    fs.chmodSync(scratch, 0o711); // children traverse it and read submission.js; each writes only its own work folder
    const ctx: RunCtx = { plan: p, limits, scratch, modulePath, uid, sink, jsGuards: opts.jsGuards ?? true, deadline };
    while (outcomes.length < n && Date.now() < deadline) {
      const r = await runChild(ctx, opts.calls.slice(outcomes.length));
      outcomes.push(...r.outcomes);
      if (r.loadError !== undefined) {
        while (outcomes.length < n) outcomes.push({ status: "load-error", message: r.loadError, ms: 0 });
      }
      if (r.outcomes.length === 0) break;
    }
    while (outcomes.length < n) {
      outcomes.push({ status: "timeout", message: `not run: the submission's total time limit of ${sec(limits.totalMs)} was used up`, ms: 0 });
    }
  } finally {
    removeScratch(scratch);
  }
  return { outcomes, stdout: sink.text("stdout"), stderr: sink.text("stderr") };
}
