/**
 * The sandbox's public types and default limits: what a caller of {@link runInSandbox} passes in
 * (the student's compiled module, its calls, the limits) and what comes back (one outcome per
 * call, the text the student's code printed). No logic lives here; tools/grade/sandbox.ts
 * re-exports everything below and documents the mechanisms that enforce these limits.
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import type { Wire } from "./serialize";

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
  /** solutions/ and tests/ hidden in a private mount namespace (a second layer under the permission model). */
  mountNamespace: boolean;
  separateUid: boolean;
  parentDeathSignal: boolean;
  cpuLimit: boolean;
  memoryWatchdog: boolean;
  /** The read allow-list handed to the child (scratch folders come on top). */
  allowRead: string[];
  /** One line per mechanism, for the grader's log. */
  summary: string[];
}
