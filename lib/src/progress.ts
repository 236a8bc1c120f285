/**
 * A progress bar for long loops (training, sampling, running notebooks).
 *
 * - In a terminal: one line on stderr, redrawn in place with `\r` (throttled), e.g.
 *   `ring-mlp [########------------] 1200/3000  40% | loss 0.4123 | 98.1 it/s | ETA 0:18`.
 * - On stderr that is not a TTY (CI logs, pipes): the same line as plain text every 10 % of
 *   the work or every 30 s, whichever comes first.
 * - In a tslab notebook: a compact display updated in place (`update_display_data`), with an
 *   HTML `<progress>` element and the same line as text/plain.
 *
 * No papers here; this is tooling.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { DisplayHandle, escapeHtml, inNotebook, newDisplayHandle } from "./display";

/**
 * Where progress goes: `auto` = notebook display inside tslab, else a terminal bar.
 * @see notebooks/01_score_matching.ipynb
 */
export type ProgressMode = "auto" | "bar" | "notebook" | "none";

/**
 * Extra fields shown after the counts, e.g. `{ loss: 0.41 }`.
 * @see notebooks/01_score_matching.ipynb
 */
export type ProgressInfo = Record<string, number | string>;

/**
 * The part of a writable stream the bar needs (process.stderr fits).
 * @see notebooks/01_score_matching.ipynb
 */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * Options of {@link ProgressBar}.
 * @see notebooks/01_score_matching.ipynb
 */
export interface ProgressOptions {
  /** Total number of steps. */
  total: number;
  /** Shown before the bar, e.g. the recipe name. */
  label?: string;
  /** Default `auto`. */
  mode?: ProgressMode;
  /** Terminal output (default process.stderr). */
  stream?: ProgressStream;
  /** Notebook display slot (default a new one). */
  display?: DisplayHandle;
  /** Clock in milliseconds (default performance.now); injectable for tests. */
  now?: () => number;
  /** Minimum time between redraws on a TTY / in a notebook (default 100 / 250 ms). */
  minIntervalMs?: number;
}

/**
 * Format seconds as m:ss or h:mm:ss; "?" when unknown.
 * @example formatDuration(65) // "1:05"
 * @see notebooks/01_score_matching.ipynb
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Format an info value: numbers to 4 significant digits. */
function formatValue(v: number | string): string {
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toPrecision(4);
}

/**
 * The state a progress line is drawn from.
 * @see notebooks/01_score_matching.ipynb
 */
export interface ProgressState {
  label?: string;
  step: number;
  total: number;
  /** Seconds since the start. */
  elapsed: number;
  info?: ProgressInfo;
}

/**
 * One progress line (no trailing newline), e.g.
 * `train [#####---------------] 25/100  25% | loss 0.5000 | 10.0 it/s | ETA 0:08`.
 * @see notebooks/01_score_matching.ipynb
 */
export function renderProgressLine(s: ProgressState, barWidth = 20): string {
  const frac = s.total > 0 ? Math.min(1, Math.max(0, s.step / s.total)) : 1;
  const filled = Math.round(frac * barWidth);
  const bar = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`;
  const pct = `${Math.floor(frac * 100)}`.padStart(3) + "%";
  const rate = s.elapsed > 0 ? s.step / s.elapsed : NaN;
  const eta = s.step >= s.total ? `took ${formatDuration(s.elapsed)}` : `ETA ${formatDuration((s.total - s.step) / rate)}`;
  const fields = Object.entries(s.info ?? {}).map(([k, v]) => `${k} ${formatValue(v)}`);
  const rateText = Number.isFinite(rate) ? `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} it/s` : "? it/s";
  const head = `${s.label ? s.label + " " : ""}${bar} ${s.step}/${s.total} ${pct}`;
  return [head, ...fields, rateText, eta].join(" | ");
}

/** An HTML rendering of the same state for notebooks. */
function renderProgressHtml(s: ProgressState): string {
  const line = escapeHtml(renderProgressLine(s).replace(/^.*?\] /, ""));
  const label = s.label ? `<b>${escapeHtml(s.label)}</b> ` : "";
  return `<div style="font-family:monospace;font-size:12px">${label}<progress value="${s.step}" max="${s.total}" style="width:160px;vertical-align:middle"></progress> ${line}</div>`;
}

/**
 * A progress bar; call `update(step, info)` as work proceeds and `done()` at the end.
 *
 * @example
 * const bar = new ProgressBar({ total: 1000, label: "ring-mlp" });
 * for (let i = 1; i <= 1000; i++) { work(); bar.update(i, { loss }); }
 * bar.done();
 * @see notebooks/01_score_matching.ipynb
 */
export class ProgressBar {
  /** The resolved mode (never `auto`). */
  readonly mode: Exclude<ProgressMode, "auto">;
  private readonly opts: ProgressOptions;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastPlainStep = 0;
  private step = 0;
  private info: ProgressInfo = {};
  private handle: DisplayHandle | null = null;
  private finished = false;

  constructor(opts: ProgressOptions) {
    this.opts = opts;
    const mode = opts.mode ?? "auto";
    this.mode = mode === "auto" ? (inNotebook() ? "notebook" : "bar") : mode;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  private state(): ProgressState {
    return { label: this.opts.label, step: this.step, total: this.opts.total, elapsed: (this.now() - this.start) / 1000, info: this.info };
  }

  /** Record progress; redraws when the throttle allows. */
  update(step: number, info?: ProgressInfo): void {
    this.step = step;
    if (info) this.info = { ...this.info, ...info };
    this.draw(false);
  }

  /** Draw the final state and end the line. Safe to call twice. */
  done(info?: ProgressInfo): void {
    if (this.finished) return;
    if (info) this.info = { ...this.info, ...info };
    this.draw(true);
    this.finished = true;
  }

  private draw(final: boolean): void {
    if (this.mode === "none" || this.finished) return;
    const t = this.now();
    if (this.mode === "notebook") {
      if (!final && t - this.lastDraw < (this.opts.minIntervalMs ?? 250)) return;
      this.lastDraw = t;
      const s = this.state();
      this.handle = this.handle ?? this.opts.display ?? newDisplayHandle();
      this.handle.update({ "text/plain": renderProgressLine(s), "text/html": renderProgressHtml(s) });
      return;
    }
    const stream = this.opts.stream ?? process.stderr;
    if (stream.isTTY) {
      if (!final && t - this.lastDraw < (this.opts.minIntervalMs ?? 100)) return;
      this.lastDraw = t;
      stream.write(`\r${renderProgressLine(this.state())}\x1b[K${final ? "\n" : ""}`);
      return;
    }
    // Plain lines: every 10 % of the work or every 30 s (the 100 % line is left to done()).
    const tenth = Math.max(1, Math.ceil(this.opts.total / 10));
    const crossed = this.step < this.opts.total && Math.floor(this.step / tenth) > Math.floor(this.lastPlainStep / tenth);
    if (final || crossed || t - this.lastDraw >= 30000) {
      this.lastDraw = t;
      this.lastPlainStep = this.step;
      stream.write(`${renderProgressLine(this.state())}\n`);
    }
  }
}
