/**
 * A headless Jupyter client: starts a kernel (tslab, from the same kernel.json argv Jupyter uses),
 * talks the messaging protocol over ZeroMQ, runs code and collects nbformat outputs.
 *
 *   const kernel = await KernelClient.start({ cwd: "notebooks" });
 *   const r = await kernel.execute("console.log(1 + 1)", 60_000); // { status: "ok", outputs: [...] }
 *   await kernel.shutdown();
 *
 * Channels used: shell (DEALER) for execute/kernel_info, iopub (SUB, all topics) for outputs,
 * control (DEALER) for shutdown. stdin and heartbeat are not needed headless (allow_stdin is false).
 * Every kernel child is killed when this process exits, so no kernel outlives its runner.
 *
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html
 * @see notebooks/01_score_matching.ipynb
 */
import { ChildProcess, spawn } from "child_process";
import { randomUUID } from "crypto";
import { Dealer, Subscriber } from "zeromq";
import { kernelJson } from "../kernelspec";
import { channelAddress, ConnectionFile, removeConnectionFile, writeConnectionFile } from "./connection";
import { cleanErrorText, DisplayRegistry, Output, OutputCollector } from "./outputs";
import { deserialize, JupyterMessage, newMessage, serialize } from "./wire";

/** How to start a kernel. */
export interface KernelStartOptions {
  /** Working directory of the kernel (Jupyter uses the notebook's folder). */
  cwd: string;
  /** Kernel command; `{connection_file}` is replaced. Default: this checkout's tslab kernel.json argv. */
  argv?: string[];
  /** Give up if the kernel is not answering after this long (default 60 s). */
  startupTimeoutMs?: number;
  /** Environment of the kernel (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Where each start attempt gets its ports and key (default: {@link writeConnectionFile}; tests inject clashes). */
  connectionFile?: () => Promise<ConnectionFile>;
}

/** Outcome of one execute_request. */
export interface ExecuteResult {
  status: "ok" | "error" | "timeout";
  /** nbformat v4 outputs of the cell. */
  outputs: Output[];
  /** For failures: the error (`ename: evalue`, or what the cell wrote to stderr). */
  errorText: string;
  executionCount: number | null;
  seconds: number;
}

/** Thrown when a kernel cannot be started or dies. */
export class KernelError extends Error {}
/** A kernel that failed to bind a port: {@link KernelClient.start} retries on fresh ports. */
class PortTakenError extends KernelError {}
/** What tslab (zeromq.js) prints when a bind fails; the kernel lives on without that channel. */
const PORT_TAKEN = /EADDRINUSE|Address already in use/;

// The one piece of module state: kernels still running (and their connection files), killed
// and removed when this process exits, so no kernel outlives its runner.
const liveKernels = new Map<ChildProcess, ConnectionFile>();
let exitHookInstalled = false;
function track(child: ChildProcess, conn: ConnectionFile): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", killAllKernels);
  }
  liveKernels.set(child, conn);
  child.once("exit", () => liveKernels.delete(child));
}

/** Kill (SIGKILL) every kernel started by this process and delete its connection file; for exit and signal handlers. */
export function killAllKernels(): void {
  for (const [child, conn] of liveKernels) {
    try {
      child.kill("SIGKILL");
      removeConnectionFile(conn);
    } catch {
      // already gone
    }
  }
  liveKernels.clear();
}

/**
 * kernel.json's argv for this checkout (the same command Jupyter runs).
 */
export function defaultKernelArgv(): string[] {
  return kernelJson().argv as string[];
}

interface Pending {
  collector: OutputCollector;
  reply?: JupyterMessage;
  idle: boolean;
  waitIdle: boolean;
  settle: () => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait for `p`, but at most `ms`; the timer is cleared either way (no dangling timers). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([p.then(() => undefined, () => undefined), t]);
  } finally {
    clearTimeout(timer);
  }
}
/** tslab rejects requests for 200 ms after a failed cell (it resets its queue); wait this long. */
const ERROR_COOLDOWN_MS = 250;
const TAIL_BYTES = 4000;

/** A running kernel and the sockets connected to it. */
export class KernelClient {
  /** kernel_info_reply content. */
  kernelInfo: Record<string, unknown> = {};
  /** Milliseconds from spawn until the kernel answered on shell and iopub. */
  startupMs = 0;
  private readonly session = randomUUID();
  private readonly shell = new Dealer({ linger: 0 });
  private readonly control = new Dealer({ linger: 0 });
  private readonly iopub = new Subscriber({ linger: 0 });
  private readonly pending = new Map<string, Pending>();
  private readonly displays: DisplayRegistry = new Map();
  private exitInfo: string | null = null;
  private tail = "";
  private lastErrorAt = 0;
  private closed = false;

  private constructor(private readonly child: ChildProcess, private readonly conn: ConnectionFile) {
    const grab = (b: Buffer) => {
      this.tail = (this.tail + b.toString("utf8")).slice(-TAIL_BYTES);
    };
    child.stdout?.on("data", grab);
    child.stderr?.on("data", grab);
    child.once("exit", (code, signal) => {
      this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      for (const p of this.pending.values()) p.settle();
    });
    for (const s of [this.shell, this.control]) s.connect(channelAddress(conn.info, s === this.shell ? "shell" : "control"));
    this.iopub.connect(channelAddress(conn.info, "iopub"));
    this.iopub.subscribe();
    void this.pump(this.shell);
    void this.pump(this.control);
    void this.pump(this.iopub);
  }

  /**
   * Start a kernel and wait until it answers kernel_info on shell and publishes on iopub. A kernel
   * that could not bind one of its ports (another program took it between our pick and its bind;
   * tslab then stays alive but deaf) is killed and started again on fresh ports, up to 3 times.
   */
  static async start(opts: KernelStartOptions): Promise<KernelClient> {
    const attempts = 3;
    for (let attempt = 1; ; attempt++) {
      const conn = await (opts.connectionFile ?? writeConnectionFile)();
      try {
        return await KernelClient.startOn(conn, opts);
      } catch (e) {
        if (!(e instanceof PortTakenError) || attempt === attempts) throw e;
      }
    }
  }

  private static async startOn(conn: ConnectionFile, opts: KernelStartOptions): Promise<KernelClient> {
    const argv = (opts.argv ?? defaultKernelArgv()).map((a) => a.split("{connection_file}").join(conn.file));
    const t0 = Date.now();
    let spawnError: Error | null = null;
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    child.once("error", (e) => (spawnError = e));
    track(child, conn);
    const kernel = new KernelClient(child, conn);
    const timeoutMs = opts.startupTimeoutMs ?? 60_000;
    try {
      let info: JupyterMessage | undefined;
      // Keep asking until a reply arrives and its status also reaches us on iopub: a SUB socket
      // misses what is published before its subscription reaches the kernel ("slow joiner").
      while (!info) {
        if (spawnError) throw new KernelError(`could not start the kernel (${argv[0]}): ${(spawnError as Error).message}`);
        if (PORT_TAKEN.test(kernel.tail)) throw new PortTakenError(`the kernel could not bind its ports${kernel.tailNote()}`);
        const left = timeoutMs - (Date.now() - t0);
        if (left <= 0) throw new KernelError(`the kernel did not answer within ${Math.round(timeoutMs / 1000)} s${kernel.tailNote()}`);
        const r = await kernel.request(kernel.shell, "kernel_info_request", {}, true, Math.min(left, 500));
        if (r.reply && r.idle) info = r.reply;
      }
      kernel.kernelInfo = info.content;
      kernel.startupMs = Date.now() - t0;
      return kernel;
    } catch (e) {
      kernel.kill();
      throw e;
    }
  }

  /** True while the kernel process runs. */
  get alive(): boolean {
    return this.exitInfo === null && !this.closed;
  }

  /**
   * Run `code` as one cell. Resolves when the kernel has replied and gone idle. On timeout the
   * kernel is interrupted (SIGINT), given a moment to report, then killed.
   */
  async execute(code: string, timeoutMs: number): Promise<ExecuteResult> {
    const t0 = Date.now();
    const done = (status: ExecuteResult["status"], outputs: Output[], errorText: string, count: number | null) => ({
      status, outputs, errorText, executionCount: count, seconds: (Date.now() - t0) / 1000,
    });
    if (!this.alive) return done("error", [], `the kernel is not running${this.tailNote()}`, null);
    const cooldown = this.lastErrorAt + ERROR_COOLDOWN_MS - Date.now();
    if (cooldown > 0) await sleep(cooldown);
    const content = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
    const msg = newMessage("execute_request", content, this.session);
    const pending = this.track(msg.header.msg_id, true);
    const finished = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      pending.settle = () => {
        if (!this.alive || (pending.reply && pending.idle)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
    });
    await within(this.shell.send(serialize(msg, this.conn.info.key)), timeoutMs);
    const inTime = await finished;
    if (!inTime) {
      this.interrupt();
      await within(new Promise<void>((r) => (pending.settle = () => pending.reply && pending.idle && r())), 2000);
      this.kill();
    }
    this.pending.delete(msg.header.msg_id);
    const outputs = pending.collector.outputs;
    const reply = pending.reply?.content;
    const count = typeof reply?.execution_count === "number" ? reply.execution_count : null;
    if (!inTime) return done("timeout", outputs, `timed out after ${fmtSeconds(timeoutMs / 1000)} s`, count);
    if (!reply) return done("error", outputs, `the kernel died while running the cell (${this.exitInfo})${this.tailNote()}`, count);
    if (reply.status === "ok") return done("ok", outputs, "", count);
    this.lastErrorAt = Date.now();
    const err = pending.collector.firstError();
    const text =
      reply.status === "abort" ? "the kernel aborted the cell"
      : err ? cleanErrorText(`${err.ename}: ${err.evalue}`)
      : typeof reply.ename === "string" ? `${reply.ename}: ${String(reply.evalue ?? "")}`
      : cleanErrorText(pending.collector.stderrText()) || "the cell failed (execute_reply status error)";
    return done("error", outputs, text, count);
  }

  /** Send SIGINT, as Jupyter does for kernels with interrupt_mode "signal". */
  interrupt(): void {
    if (this.alive) this.child.kill("SIGINT");
  }

  /** Ask the kernel to shut down (control channel); kill it if it has not exited after `graceMs`. */
  async shutdown(graceMs = 2000): Promise<void> {
    if (this.alive) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      const msg = newMessage("shutdown_request", { restart: false }, this.session);
      await within(this.control.send(serialize(msg, this.conn.info.key)), graceMs);
      await within(exited, graceMs);
    }
    this.kill();
  }

  /** Kill the kernel now (SIGKILL), close the sockets and delete the connection file. */
  kill(): void {
    if (this.exitInfo === null) this.child.kill("SIGKILL");
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    removeConnectionFile(this.conn);
    for (const p of this.pending.values()) p.settle();
  }

  private tailNote(): string {
    const t = this.tail.trim();
    return t ? `; its output ended with:\n${t.split("\n").slice(-15).join("\n")}` : "";
  }

  private track(msgId: string, waitIdle: boolean): Pending {
    const p: Pending = { collector: new OutputCollector(this.displays), idle: false, waitIdle, settle: () => undefined };
    this.pending.set(msgId, p);
    return p;
  }

  /** Send a request and wait for its reply (and idle status if asked) or the timeout. */
  private async request(sock: Dealer, type: string, content: object, waitIdle: boolean, timeoutMs: number) {
    const msg = newMessage(type, content, this.session);
    const p = this.track(msg.header.msg_id, waitIdle);
    const settled = new Promise<void>((resolve) => {
      p.settle = () => (this.exitInfo !== null || this.closed || (p.reply && (p.idle || !waitIdle))) && resolve();
    });
    await within(sock.send(serialize(msg, this.conn.info.key)), timeoutMs);
    await within(settled, timeoutMs);
    this.pending.delete(msg.header.msg_id);
    if (this.exitInfo !== null) throw new KernelError(`the kernel exited (${this.exitInfo}) before it was ready${this.tailNote()}`);
    return p;
  }

  private async pump(sock: Dealer | Subscriber): Promise<void> {
    try {
      for await (const frames of sock) {
        let msg: JupyterMessage;
        try {
          msg = deserialize(frames, this.conn.info.key);
        } catch {
          continue; // not ours or corrupt: ignore, as Jupyter does
        }
        const p = this.pending.get(msg.parent_header.msg_id ?? "");
        if (!p) continue;
        if (sock === this.iopub) {
          if (msg.header.msg_type === "status") p.idle ||= msg.content.execution_state === "idle";
          else p.collector.handle(msg);
        } else if (msg.header.msg_type.endsWith("_reply")) {
          p.reply = msg;
        }
        p.settle();
      }
    } catch {
      // socket closed
    }
  }
}

function fmtSeconds(s: number): string {
  return Number.isInteger(s) ? String(s) : s.toFixed(1);
}
