/**
 * Feedback for students: short messages that say what went wrong on a SMALL case, with the
 * expected vs actual shape or value — never a hidden test's source, the reference code, or the
 * full hidden inputs (large cases are described by their shapes and scalar parameters only).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import type * as tfTypes from "@tensorflow/tfjs";
import type { CallOutcome, SandboxLimits } from "./sandbox";
import type { CallFailure, Expectation } from "./suite";
import { cleanText, scrubPaths, shapeText } from "./text";

/** Longest student-provided text (an error message) quoted in feedback. */
export const MAX_QUOTED = 300;

/** A number to 4 significant digits ("0.1235", "-12.35", "1.235e-7", "NaN"). */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  if (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-4) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

/** Row-major values as nested lists for a shape (rank ≤ 2). */
export function formatValues(values: ArrayLike<number>, shape: number[]): string {
  if (shape.length === 0) return formatNumber(values[0]);
  if (shape.length === 1) return `[${Array.from(values, formatNumber).join(", ")}]`;
  const cols = shape[shape.length - 1];
  const rows: string[] = [];
  for (let r = 0; r * cols < values.length; r++) rows.push(`[${Array.from({ length: cols }, (_, c) => formatNumber(values[r * cols + c])).join(", ")}]`);
  return `[${rows.join(", ")}]`;
}

/** `[i, j]` for flat index `i` of `shape`. */
export function multiIndex(i: number, shape: number[]): string {
  if (shape.length === 0) return "";
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(i % shape[k]);
    i = Math.floor(i / shape[k]);
  }
  return `[${idx.join(", ")}]`;
}

/** "[2, 3]" */
export function formatShape(shape: number[]): string {
  return shapeText(shape);
}

/** One argument as shown: in full for small cases, else its shape (tensors) or value (numbers). */
export function formatArg(arg: unknown, full: boolean, tf: typeof tfTypes): string {
  if (arg instanceof tf.Tensor) {
    return full && arg.size <= 16 ? formatValues(arg.dataSync(), arg.shape) : `a ${arg.shape.join("×") || "scalar"} tensor`;
  }
  if (typeof arg === "number") return formatNumber(arg);
  if (Array.isArray(arg)) return full && arg.length <= 16 ? JSON.stringify(arg) : `an array of length ${arg.length}`;
  return typeof arg;
}

/** `addNoise(x0 = [[…]], eps = a 48×3 tensor, alphaBar = 0.41)` */
export function callLabel(id: string, params: string[], shownArgs: string[], note?: string): string {
  const args = shownArgs.map((a, i) => (params[i] ? `${params[i]} = ${a}` : a)).join(", ");
  return `${id}(${args})${note ? ` [${note}]` : ""}`;
}

/** Quote student-controlled text: one line-ish, bounded. */
export function quote(text: string): string {
  const t = cleanText(scrubPaths(String(text))).replace(/\s+\n/g, "\n").trim();
  return t.length > MAX_QUOTED ? `${t.slice(0, MAX_QUOTED)}…` : t;
}

/** A sandbox outcome other than "ok", as a message. */
export function outcomeMessage(id: string, o: Exclude<CallOutcome, { status: "ok" }>, limits: SandboxLimits): string {
  const why = quote(o.message ?? "");
  switch (o.status) {
    case "threw":
      if (/ERR_ACCESS_DENIED|permission|EACCES|EPERM|not allowed|denied|restricted/i.test(why)) return `${id} was stopped: permission denied (${why}). Exercise code may not read files, start processes or use the network.`;
      return `${id} threw an error: ${why}`;
    case "timeout":
      if (/total time limit/.test(o.message ?? "")) {
        return `${id} was stopped: the ${formatNumber(limits.totalMs / 1000)} s limit for all of this exercise's tests together ran out (each call may take up to ${formatNumber(limits.perCallMs / 1000)} s; is it very slow?)`;
      }
      return `${id} did not return within ${formatNumber(limits.perCallMs / 1000)} s (an infinite loop?) and was stopped`;
    case "cpu-limit":
      return `${id} used more than the CPU time limit (${limits.cpuSeconds} s) and was stopped`;
    case "memory":
      return `${id} ran out of memory (limit ${limits.memoryMb} MB) and was stopped: does it allocate something huge?`;
    case "output-limit":
      return `${id} printed more than ${Math.round(limits.outputBytes / 1024)} KB of output and was stopped; remove the printing from the exercise cell`;
    case "exited":
      return `${id}'s process ended before returning (process.exit?)${why ? `: ${why}` : ""}`;
    case "load-error":
      return `the '${id}' cell failed while loading, before ${id} could be called (top-level code runs when the cell loads): ${why}`;
    case "crashed":
    default:
      return `${id} crashed the process running it${why ? `: ${why}` : ""}`;
  }
}

/** A failed check of a returned value, as a message. */
export function failureMessage(f: CallFailure, want: Expectation, label: string, small: boolean, gotDescription: string, gotValues?: ArrayLike<number>): string {
  const shape = formatShape(want.shape);
  switch (f.kind) {
    case "kind": {
      if (want.kind === "number") {
        const hint = f.got === "tensor" ? " — read the value out of the tensor (e.g. dataSync()[0]) and dispose the tensor" : "";
        return `${label}: expected a JS number, got ${gotDescription}${hint}`;
      }
      const hint = f.got === "number" ? " — return a tf.Tensor (e.g. from tf.mean), not a number: don't call dataSync()/arraySync() on the result"
        : f.got === "array" ? " — return a tf.Tensor, not an array: keep using tf ops (or wrap with tf.tensor())" : "";
      return `${label}: expected a tf.Tensor of shape ${shape}, got ${gotDescription}${hint}`;
    }
    case "shape":
      return `${label}: expected shape ${shape}, got ${formatShape(f.got)}`;
    case "dtype":
      return `${label}: expected a ${want.dtype} tensor, got ${f.got}${want.dtype === "int32" ? " — class ids must stay integers: build them with int32 ops (tf.where, tf.fill(…, \"int32\"), tf.cast)" : ""}`;
    case "nonfinite": {
      const at = multiIndex(f.index, want.shape);
      const w = want.values ? `, expected ${formatNumber(want.values[f.index])}` : "";
      if (want.kind === "number") return `${label}: got ${f.value}${w} (${want.values && !Number.isFinite(want.values[0]) ? "only the expected infinity is allowed" : "no NaN or Infinity allowed here"}: check divisions, sqrt and log)`;
      return `${label}: entry ${at || "(the scalar)"} is ${f.value}${w} (no NaN or Infinity allowed: check divisions, sqrt and log)`;
    }
    case "value": {
      const at = multiIndex(f.index, want.shape);
      const where = `${at ? `entry ${at} is ` : "got "}${formatNumber(f.got)}, expected ${formatNumber(f.want)} (tolerance ${formatNumber(f.tol)})`;
      if (want.shape.length === 0) return `${label}: expected ${formatNumber(f.want)}, got ${formatNumber(f.got)} (tolerance ${formatNumber(f.tol)})`;
      if (small && want.values && gotValues && want.values.length <= 16) {
        return `${label}: expected ${formatValues(want.values, want.shape)}, got ${formatValues(gotValues, want.shape)}; ${where}`;
      }
      return `${label}: ${where}`;
    }
    case "property":
      return `${label}: ${f.reason}`;
  }
}
