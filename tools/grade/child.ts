/**
 * The harness that runs INSIDE the grader's sandbox: one restricted Node process per
 * {@link https://nodejs.org/api/permissions.html permission-model} child, started by
 * tools/grade/sandbox.ts (which documents the restrictions). It loads TensorFlow.js (wasm) and
 * @course/lib, then the student's compiled CommonJS module, then runs the requested calls one
 * after another and reports each result.
 *
 * Protocol, on file descriptor 3 (a socket pair with the parent; stdout/stderr are only text):
 * - parent → child, once, before any student code runs: one JSON line {@link InitMessage}
 *   holding a random per-child `token` and all the calls;
 * - child → parent: lines `"\n" + token + " " + JSON + "\n"` ({@link ChildMessage}). The leading
 *   newline ends any partial line written before it; the parent ignores every line without the
 *   token. Student prints (stdout, stderr) never reach the channel, and a student writing to fd 3
 *   does not know the token.
 *
 * Between calls the harness disposes the tensors and variables the call created (an engine
 * scope) and probes tfjs with a tiny op; if tfjs no longer works (the wasm heap aborted, the
 * engine was broken) the reply asks the parent for a fresh child for the remaining calls.
 *
 * Trust: once the student module is loaded, everything in this process is the student's to
 * tamper with (Math.random, tf and its prototypes, console, JSON, process.exit, ...). That can
 * only change this student's own results: inputs are fresh per run, reference results and
 * scores are computed in the trusted parent, and the parent times and classifies every call
 * itself. The harness captures what it needs (the channel's read/write, JSON, the token, a
 * tfjs health probe, process.reallyExit) before loading student code, so tampering cannot
 * steal the token by ordinary means or make the harness report for another call. A determined
 * student could still forge their own results (e.g. via a heap snapshot), which gains nothing
 * over returning those values.
 *
 * @see notebooks/01_score_matching.ipynb (its exercise functions are what this runs)
 */
import * as fs from "fs";
import { builtinModules } from "module";
import * as vm from "vm";
import type * as TF from "@tensorflow/tfjs";
import { encode, describe, decode, Wire } from "./serialize";

/** One call of an exported student function with wire-encoded arguments. */
export interface ChildCall {
  exportName: string;
  args: Wire[];
}

/** The parent's one message to the child. */
export interface InitMessage {
  token: string;
  /** The student module (CommonJS), in the scratch folder. */
  modulePath: string;
  /** Resolved entry files of @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm and @course/lib. */
  tfjsPath: string;
  wasmPath: string;
  libPath: string;
  calls: ChildCall[];
  /** Install the JS-level network/signal guards (defence in depth; tests turn them off). */
  jsGuards: boolean;
}

/** The outcome of call `i`; `restart` asks for a fresh child for the calls after it. */
export type ResultMessage =
  | { type: "result"; i: number; status: "ok"; value: Wire; restart: boolean }
  | { type: "result"; i: number; status: "threw" | "memory" | "load-error"; message: string; restart: boolean };

/** The child's messages to the parent. */
export type ChildMessage =
  | ResultMessage
  | { type: "ready"; backend: string }
  | { type: "loaded" }
  | { type: "load-error"; message: string }
  | { type: "exit"; code: number }
  | { type: "done" };

const CHANNEL_FD = 3;
/**
 * Largest reply line the child sends; larger values are replaced by an "unsupported" marker.
 * Module-local (not exported), and below the parent's hard cap (sandbox-channel.ts), which is
 * what actually bounds a reply: a tampered harness can only get its child killed.
 */
const MAX_REPLY_CHARS = 8 * 1024 * 1024 - 4096;

// Captured before any student code can run: student code that reaches serialize.js's exports
// (they are frozen anyway) cannot swap the functions this harness calls.
const encodeValue = encode;
const decodeValue = decode;
const describeValue = describe;
const isBuiltin = (builtinModules as readonly string[]).includes.bind(builtinModules);
const writeSync = fs.writeSync;
const readSync = fs.readSync;
const readFileSync = fs.readFileSync;
const stringify = JSON.stringify;
const parse = JSON.parse;
const reallyExit = (process as unknown as { reallyExit?: (code: number) => void }).reallyExit;
const processOn = process.on.bind(process);

function readInit(): InitMessage {
  const buf = Buffer.alloc(1 << 16);
  const chunks: Buffer[] = [];
  for (;;) {
    let n: number;
    try {
      n = readSync(CHANNEL_FD, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      continue;
    }
    if (n === 0) throw new Error("the grader closed the channel before sending the calls");
    const chunk = Buffer.from(buf.subarray(0, n));
    chunks.push(chunk);
    if (chunk.includes(10)) break;
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return parse(text.slice(0, text.indexOf("\n"))) as InitMessage;
}

/** A short message for a thrown value: "msg" for Error, "RangeError: msg" for subclasses. */
function errorMessage(e: unknown): string {
  try {
    let s: string;
    if (e instanceof Error) {
      const name = String(e.name);
      s = name === "Error" || name === "" ? String(e.message) : `${name}: ${String(e.message)}`;
    } else {
      s = `threw ${describeValue(e)}`;
    }
    return s.length > 500 ? `${s.slice(0, 499)}…` : s;
  } catch {
    return "threw a value that could not be read";
  }
}

/** Defence in depth only: the guarantees are the network namespace and the separate uid. */
function installGuards(): void {
  const deny = (what: string) => function denied(): never {
    throw new Error(`${what} is disabled in the grader`);
  };
  /* eslint-disable @typescript-eslint/no-var-requires */
  const net = require("net") as Record<string, unknown> & { Socket: { prototype: object }; Server: { prototype: object } };
  const dgram = require("dgram") as Record<string, unknown> & { Socket: { prototype: object } };
  /* eslint-enable @typescript-eslint/no-var-requires */
  Object.assign(net.Socket.prototype, { connect: deny("network access") });
  Object.assign(net.Server.prototype, { listen: deny("network access") });
  Object.assign(dgram.Socket.prototype, { bind: deny("network access"), send: deny("network access") });
  Object.assign(net, { connect: deny("network access"), createConnection: deny("network access") });
  dgram.createSocket = deny("network access");
  const dns = require("dns") as Record<string, unknown> & { promises: Record<string, unknown> }; // eslint-disable-line @typescript-eslint/no-var-requires
  for (const api of [dns, dns.promises]) {
    for (const k of Object.keys(api)) if (typeof api[k] === "function" && k !== "Resolver") api[k] = deny("name resolution");
  }
  const proc = process as unknown as { _kill: (pid: number, sig: number) => number };
  const rawKill = proc._kill;
  const own = process.pid;
  proc._kill = (pid: number, sig: number): number => (Number(pid) === own ? rawKill.call(process, pid, sig) : -1 /* EPERM */);
}

/**
 * Before student code runs: freeze the harness's modules' exports and drop the ways back into
 * the module system that a CommonJS main module leaves on `process` and `require`.
 */
function hideModuleSystem(): void {
  const cache = require.cache;
  for (const key of Object.keys(cache)) {
    if (/[\\/]grade[\\/](child|serialize)\.js$/.test(key)) Object.freeze(cache[key]?.exports);
  }
  try {
    Object.defineProperty(process, "mainModule", { value: undefined, configurable: false, writable: false });
  } catch {
    // already gone
  }
}

/** Modules student code may not load: they reach the module system (require.cache, the harness). */
const REFUSED = new Set(["module", "node:module", "repl", "node:repl"]);

/**
 * Compile and run the student module with a require that serves tfjs, @course/lib and Node's
 * built-in modules (the permission model restricts those) — nothing else: no file paths, no
 * `require.cache`, no `require.main`, so the harness's own modules are out of reach.
 */
function loadModule(source: string, preloaded: Record<string, unknown>): Record<string, unknown> {
  const fn = vm.compileFunction(source, ["exports", "require", "module", "__filename", "__dirname"], { filename: "submission.js" });
  const mod = { exports: {} as Record<string, unknown> };
  const hostRequire = require;
  const req = (id: string): unknown => {
    if (Object.prototype.hasOwnProperty.call(preloaded, id)) return preloaded[id];
    if (typeof id === "string" && isBuiltin(id.replace(/^node:/, "")) && !REFUSED.has(id)) return hostRequire(id);
    throw new Error(`cannot import "${String(id).slice(0, 80)}" in an exercise cell: only @tensorflow/tfjs, @course/lib and Node's built-in modules are available`);
  };
  fn.call(mod.exports, mod.exports, req, mod, "submission.js", ".");
  return mod.exports;
}

async function main(): Promise<void> {
  const init = readInit();
  const token = init.token;
  const send = (m: ChildMessage): void => {
    writeSync(CHANNEL_FD, `\n${token} ${stringify(m)}\n`);
  };
  const source = readFileSync(init.modulePath, "utf8");

  process.env.COURSE_BACKEND = "wasm";
  /* eslint-disable @typescript-eslint/no-var-requires */
  const tf = require(init.tfjsPath) as typeof TF;
  require(init.wasmPath);
  const lib = require(init.libPath) as typeof import("@course/lib");
  /* eslint-enable @typescript-eslint/no-var-requires */
  await lib.initBackend();
  const engine = tf.engine();
  const startScope = engine.startScope.bind(engine);
  const endScope = engine.endScope.bind(engine);
  const disposeVariables = tf.disposeVariables;
  const scalar = tf.scalar;
  const add = tf.add;
  const healthy = (): boolean => {
    try {
      const a = scalar(1);
      const b = add(a, a);
      const ok = b.dataSync()[0] === 2;
      a.dispose();
      b.dispose();
      return ok;
    } catch {
      return false;
    }
  };
  send({ type: "ready", backend: tf.getBackend() });

  // From here on, student code may run.
  setInterval(() => undefined, 1 << 30); // keep alive: a never-settling promise is a timeout, not an exit
  processOn("exit", (code: number) => send({ type: "exit", code }));
  // The wasm backend's emscripten glue rethrows from these (a late error would kill the child).
  process.removeAllListeners("uncaughtException");
  process.removeAllListeners("unhandledRejection");
  processOn("uncaughtException", (e: unknown) => {
    writeSync(2, `uncaught error: ${errorMessage(e)}\n`);
  });
  processOn("unhandledRejection", (e: unknown) => {
    writeSync(2, `unhandled promise rejection: ${errorMessage(e)}\n`);
  });
  if (init.jsGuards) installGuards();
  hideModuleSystem();

  let exported: Record<string, unknown>;
  try {
    exported = loadModule(source, { "@tensorflow/tfjs": tf, "@course/lib": lib });
  } catch (e) {
    send({ type: "load-error", message: errorMessage(e) });
    return;
  }
  send({ type: "loaded" });

  for (let i = 0; i < init.calls.length; i++) {
    const call = init.calls[i];
    let fn: unknown;
    try {
      fn = exported[call.exportName];
    } catch (e) {
      fn = e;
    }
    if (typeof fn !== "function") {
      const message = `the submission does not define a function named "${call.exportName}"`;
      send({ type: "result", i, status: "load-error", message, restart: false });
      continue;
    }
    let reply: ResultMessage;
    startScope();
    try {
      const args = call.args.map((a) => decodeValue(a, tf));
      const value: unknown = await (fn as (...a: unknown[]) => unknown)(...args);
      let wire: Wire;
      try {
        wire = encodeValue(value);
      } catch (e) {
        throw new Error(`the returned value could not be read: ${errorMessage(e)}`);
      }
      reply = { type: "result", i, status: "ok", value: wire, restart: false };
    } catch (e) {
      reply = { type: "result", i, status: "threw", message: errorMessage(e), restart: false };
    } finally {
      try {
        endScope();
        disposeVariables();
      } catch {
        // the student broke tfjs's bookkeeping; the health probe decides
      }
    }
    if (reply.status !== "ok" && /Aborted\(/.test(reply.message)) {
      reply = { ...reply, status: "memory", message: "ran out of tensor memory (the wasm backend aborted)" };
    }
    reply.restart = !healthy(); // e.g. wasm aborted: the calls after this one need a fresh child
    let line = stringify(reply);
    if (line.length > MAX_REPLY_CHARS) {
      line = stringify({ type: "result", i, status: "ok", value: { __unsupported: "value too large" }, restart: reply.restart });
    }
    writeSync(CHANNEL_FD, `\n${token} ${line}\n`);
    if (reply.restart) return;
  }
  send({ type: "done" });
  if (reallyExit) reallyExit.call(process, 0);
}

/** Exit status of a harness failure (the parent reports it as a broken harness). */
const HARNESS_FAILED = 70;

main().catch((e: unknown) => {
  writeSync(2, `grader harness failed: ${errorMessage(e)}\n`);
  if (reallyExit) reallyExit.call(process, HARNESS_FAILED);
  process.exit(HARNESS_FAILED);
});
