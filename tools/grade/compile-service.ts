/**
 * Compiling a submission's exercise cells under limits: each exercise is type-checked in the
 * type-checking process (tools/grade/compile-worker.ts), one at a time, with
 * - a V8 heap cap ({@link COMPILE_HEAP_MB}) on that process: running out is a compile error;
 * - a wall-clock limit per exercise ({@link COMPILE_MS}), then SIGKILL: a compile error;
 * - a size cap per cell ({@link MAX_CELL_CHARS}) checked here, before anything is parsed.
 * After a breach the process is replaced for the next exercise. The grader process itself never
 * parses or type-checks student text (it only reads notebook JSON), so no cell can exhaust it.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { ChildProcess, fork } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Compiled, ExerciseSource } from "./compile";
import type { CompileAllRequest, CompileReply, CompileRequest, WarmRequest } from "./compile-worker";

/** Wall-clock limit for type-checking one exercise cell. */
export const COMPILE_MS = 30_000;
/** V8 heap of the type-checking process. */
export const COMPILE_HEAP_MB = 768;
/**
 * Start-up of a type-checking process (loading TypeScript, parsing tfjs/lib/node declarations:
 * ~1 s idle, much more on a loaded machine); not counted against any cell. Past it, the
 * autograder itself failed (not the student's fault).
 */
export const WARM_MS = 180_000;
/** Longest exercise cell the grader compiles. */
export const MAX_CELL_CHARS = 50_000;

/** Limits of a {@link CompileService} (tests shrink them). */
export interface CompileLimits {
  ms: number;
  heapMb: number;
}

function workerScript(root: string): string {
  const here = path.join(__dirname, "compile-worker.js");
  return fs.existsSync(here) ? here : path.join(root, "tools", "dist", "grade", "compile-worker.js");
}

/** One type-checking process at a time, replaced after a breach; keep one per grader. */
export class CompileService {
  private worker: ChildProcess | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private warming: Promise<ChildProcess | null> | null = null;

  constructor(readonly root: string, readonly limits: CompileLimits = { ms: COMPILE_MS, heapMb: COMPILE_HEAP_MB }) {}

  /**
   * Compile the exercises (calls are serialised). Fast path: all cells in one program, within one
   * exercise's limits; if that breaches a limit or TypeScript fails, each cell alone, so the
   * breach is charged to the cell that caused it.
   */
  compileAll(prelude: string[], exercises: ExerciseSource[]): Promise<Compiled[]> {
    const run = this.queue.then(async () => {
      const fitting = exercises.filter((ex) => ex.source.length <= MAX_CELL_CHARS);
      const together = fitting.length > 1 ? await this.attemptAll(prelude, fitting) : null;
      const out: Compiled[] = [];
      for (const ex of exercises) out.push(together?.find((c) => c.id === ex.id) ?? await this.compileOne(prelude, ex));
      return out;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Start the type-checking process now (in parallel with the grader's other start-up work), so
   * the first cell does not wait for it; errors surface on the first compile instead.
   */
  warm(prelude: string[]): void {
    if (this.worker || this.warming) return;
    this.warming = this.spawn(prelude).catch(() => null).finally(() => { this.warming = null; });
  }

  /** Stop the type-checking process (the grader's exit also ends it: it is an IPC child). */
  close(): void {
    this.worker?.kill("SIGKILL");
    this.worker = null;
  }

  private spawn(prelude: string[]): Promise<ChildProcess> {
    const script = workerScript(this.root);
    if (!fs.existsSync(script)) throw new Error(`${script} is missing; build the tools first (npm run build)`);
    const w = fork(script, [], {
      execArgv: [`--max-old-space-size=${this.limits.heapMb}`],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "json",
    });
    w.stderr?.resume();
    w.on("error", () => undefined);
    // An idle type checker never keeps the grader alive (the timers do while it works).
    w.unref();
    (w as unknown as { channel?: { unref(): void } }).channel?.unref();
    (w.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    this.worker = w;
    return new Promise((resolve, reject) => {
      const done = (err: Error | null) => {
        clearTimeout(timer);
        w.removeListener("message", onMessage);
        w.removeListener("exit", onExit);
        if (err) {
          w.kill("SIGKILL");
          if (this.worker === w) this.worker = null;
          reject(err);
        } else resolve(w);
      };
      const onMessage = (m: CompileReply) => { if (m?.type === "warm") done(null); };
      const onExit = (code: number | null, signal: string | null) => done(new Error(`the type checker did not start (${signal ?? `exit code ${code}`})`));
      const timer = setTimeout(() => done(new Error(`the type checker did not start within ${WARM_MS / 1000} s`)), WARM_MS);
      w.on("message", onMessage);
      w.once("exit", onExit);
      w.send({ type: "warm", root: this.root, prelude } satisfies WarmRequest);
    });
  }

  private async compileOne(prelude: string[], ex: ExerciseSource): Promise<Compiled> {
    if (ex.source.length > MAX_CELL_CHARS) {
      return ({ id: ex.id, ok: false, problem: "syntax", message: `the '${ex.id}' cell is ${Math.round(ex.source.length / 1000)} KB long; exercise cells may be at most ${MAX_CELL_CHARS / 1000} KB. Keep only your solution in it.` });
    }
    const first = await this.attempt(prelude, ex);
    // an idle type checker that exited just as the request went out: once more with a fresh one
    if (first !== "idle-exit") return first;
    const second = await this.attempt(prelude, ex);
    if (second !== "idle-exit") return second;
    throw new Error("the type checker keeps exiting");
  }

  /** The fast path: null when it breached a limit, TypeScript failed, or the process went away. */
  private async attemptAll(prelude: string[], exercises: ExerciseSource[]): Promise<Compiled[] | null> {
    if (this.warming) await this.warming;
    const w = this.worker && this.worker.connected && this.worker.exitCode === null ? this.worker : await this.spawn(prelude);
    return new Promise<Compiled[] | null>((resolve) => {
      let done = false;
      const end = (r: Compiled[] | null, kill: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        w.removeListener("message", onMessage);
        w.removeListener("exit", onExit);
        if (kill) {
          w.kill("SIGKILL");
          if (this.worker === w) this.worker = null;
        }
        resolve(r);
      };
      const onMessage = (m: CompileReply) => {
        if (m?.type === "compiled-all") end(Array.isArray(m.results) && m.results.length === exercises.length ? m.results : null, false);
      };
      const onExit = () => end(null, true);
      const timer = setTimeout(() => end(null, true), this.limits.ms);
      w.on("message", onMessage);
      w.once("exit", onExit);
      w.send({ type: "compile-all", root: this.root, prelude, exercises } satisfies CompileAllRequest, (e) => { if (e) end(null, true); });
    });
  }

  private async attempt(prelude: string[], ex: ExerciseSource): Promise<Compiled | "idle-exit"> {
    if (this.warming) await this.warming;
    const w = this.worker && this.worker.connected && this.worker.exitCode === null ? this.worker : await this.spawn(prelude);
    return new Promise<Compiled | "idle-exit">((resolve) => {
      let done = false;
      let stderr = "";
      const onErr = (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); };
      w.stderr?.on("data", onErr);
      const end = (c: Compiled | "idle-exit", kill: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        w.removeListener("message", onMessage);
        w.removeListener("exit", onExit);
        w.stderr?.removeListener("data", onErr);
        if (kill) {
          w.kill("SIGKILL");
          if (this.worker === w) this.worker = null;
        }
        resolve(c);
      };
      const fail = (why: string) => ({ id: ex.id, ok: false as const, problem: "type" as const, message: `the '${ex.id}' cell does not compile: ${why}; simplify it (exercise cells need no elaborate types)` });
      const onMessage = (m: CompileReply) => {
        if (m && m.type === "compiled" && m.result && m.result.id === ex.id) end(m.result, false);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (code === 0 && signal === null) return end("idle-exit", true);
        const oom = /heap out of memory|Reached heap limit|Allocation failed/.test(stderr) || code === 134 || signal === "SIGABRT";
        end(fail(oom ? `type-checking it used more than ${this.limits.heapMb} MB of memory` : `the type checker stopped (${signal ?? `exit code ${code}`})`), true);
      };
      const timer = setTimeout(() => end(fail(`type-checking it took longer than ${Math.round(this.limits.ms / 1000)} s`), true), this.limits.ms);
      w.on("message", onMessage);
      w.once("exit", onExit);
      const req: CompileRequest = { type: "compile", root: this.root, prelude, exercise: ex };
      w.send(req, (e) => { if (e) end(fail(`the type checker could not be reached (${e.message})`), true); });
    });
  }
}
