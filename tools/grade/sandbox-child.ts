/**
 * One sandbox child from spawn to exit: starts tools/dist/grade/child.js with the command line
 * of tools/grade/sandbox-command.ts (prlimit, unshare, setpriv, permission flags), sends it the
 * calls with a fresh secret token on fd 3, and enforces from the parent:
 * | limit                   | how                                                                  |
 * |-------------------------|----------------------------------------------------------------------|
 * | start-up                | 30 s for the child to report ready (else the sandbox itself failed)   |
 * | perCallMs, totalMs      | one timer per call (and for loading the module), capped by the run's deadline, then SIGKILL |
 * | memoryMb                | watchdog every 20 ms reading VmRSS from /proc, SIGKILL past the cap   |
 * | outputBytes             | stdout+stderr bytes counted per child, SIGKILL past the cap (text kept by the run's OutputSink) |
 * | files                   | every 5th watchdog tick: more than 64 MiB / 10,000 entries in the work folder, SIGKILL |
 * | the reply channel       | token lines only, size-bounded (tools/grade/sandbox-channel.ts)      |
 * The child's end is classified into a student message: SIGXCPU (or SIGKILL at the CPU budget)
 * → cpu-limit, SIGXFSZ → output-limit, a V8 heap abort → memory, process.exit → exited, the
 * harness's own failure code → crashed. Live children are killed when the grader exits.
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Duplex } from "stream";
import type { ChildMessage, InitMessage, ResultMessage } from "./child";
import { ChannelBudget, readTokenLines } from "./sandbox-channel";
import { command, FSIZE_BYTES, Plan } from "./sandbox-command";
import { readProc, removeScratch, scratchBytes } from "./sandbox-fs";
import { bytes, OutputSink, sec } from "./sandbox-text";
import type { CallOutcome, SandboxCall, SandboxLimits } from "./sandbox-types";
import { decode, Wire } from "./serialize";

const STARTUP_MS = 30_000;
/** child.ts's exit status when its own code fails (kept here: importing child.js would run it). */
const HARNESS_FAILED = 70;
const WATCH_MS = 20;
const SCRATCH_BYTES = 64 * 1024 * 1024;

const live = new Set<ChildProcess>();
let exitHook = false;

/** Kill every live child when the grader exits (the hook is installed once per process). */
export function killChildrenAtExit(): void {
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => live.forEach((c) => c.kill("SIGKILL")));
  }
}

/** What one run's children share: the plan, the limits, the run's scratch folder and deadline. */
export interface RunCtx {
  plan: Plan;
  limits: SandboxLimits;
  scratch: string;
  modulePath: string;
  uid: number | null;
  sink: OutputSink;
  jsGuards: boolean;
  deadline: number;
  /** Characters the run's reply channels may still carry (shared by its children). */
  channel: ChannelBudget;
}

/** The outcomes of the calls one child got through, or why the module did not load. */
export interface ChildRun {
  outcomes: CallOutcome[];
  loadError?: string;
}

type Failure = { status: Exclude<CallOutcome["status"], "ok" | "threw">; message: string };

type Phase = "starting" | "loading" | "calling" | "finished";

/** One child process: runs `calls` in order until they are done or the child dies. */
export function runChild(ctx: RunCtx, calls: SandboxCall[]): Promise<ChildRun> {
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
        } catch (e) {
          outcomes.push({ status: "threw", message: `returned a value the grader could not read (${String((e as Error).message).slice(0, 200)})`, ms });
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
    readTokenLines(channel, prefix, onMessage, (message) => fail("output-limit", message), ctx.channel);
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
