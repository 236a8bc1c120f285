/**
 * The sandbox's call loop ({@link runInSandbox}): one per-run scratch folder holding the
 * submission, one separate uid per run (when root), and as many children as it takes. A child
 * runs the calls in order; when a call ends fatally (timeout, crash, memory, output or CPU limit,
 * process.exit, or the harness asking for a restart), the calls after it continue in a fresh
 * child with a fresh CPU budget, until `totalMs` is spent; calls never started get `timeout`. A
 * module that fails to load gives every remaining call `load-error`. Mechanisms and their
 * guarantees: tools/grade/sandbox.ts.
 *
 * @see notebooks/01_score_matching.ipynb (its exercises are what the grader runs in the sandbox)
 */
import { randomInt } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { killChildrenAtExit, RunCtx, runChild } from "./sandbox-child";
import { channelBudget } from "./sandbox-channel";
import { ensureTraversable, removeScratch } from "./sandbox-fs";
import { plan } from "./sandbox-plan";
import { OutputSink, sec } from "./sandbox-text";
import { CallOutcome, DEFAULT_LIMITS, SandboxLimits, SandboxOptions, SandboxResult } from "./sandbox-types";

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
  killChildrenAtExit();
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
    const ctx: RunCtx = { plan: p, limits, scratch, modulePath, uid, sink, jsGuards: opts.jsGuards ?? true, deadline, channel: channelBudget() };
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
