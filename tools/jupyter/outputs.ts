/**
 * Turning a cell's IOPub messages into nbformat v4 outputs, the way nbclient does:
 * consecutive `stream` messages of one name merge into one output, `display_data` and
 * `execute_result` become outputs, `update_display_data` replaces earlier outputs that carry the
 * same `display_id` (so an in-place progress display ends as one final output), and
 * `clear_output` (optionally deferred with `wait`) empties the cell's outputs.
 *
 * @see https://nbformat.readthedocs.io/en/latest/format_description.html#code-cell-outputs
 * @see notebooks/01_score_matching.ipynb
 */
import type { JupyterMessage } from "./wire";

/** nbformat's "array of lines or one string". */
export type MultilineString = string | string[];
/** A MIME bundle as stored in a notebook (JSON MIME types hold any JSON value). */
export type MimeData = Record<string, unknown>;

/** `stream` output (stdout / stderr). */
export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: MultilineString;
}
/** `display_data` output. */
export interface DisplayDataOutput {
  output_type: "display_data";
  data: MimeData;
  metadata: Record<string, unknown>;
}
/** `execute_result` output (the cell's value). */
export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: MimeData;
  metadata: Record<string, unknown>;
}
/** `error` output (kernels that send IOPub `error`; tslab writes errors to stderr instead). */
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}
/** Any nbformat v4 output. */
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** Join nbformat's multiline string into one string. */
export function joinText(s: MultilineString | undefined): string {
  if (s === undefined) return "";
  return Array.isArray(s) ? s.join("") : s;
}

/**
 * Display outputs by `display_id`, shared by all cells run in one kernel, so an
 * `update_display_data` from a later cell still finds its output.
 */
export type DisplayRegistry = Map<string, Array<DisplayDataOutput | ExecuteResultOutput>>;

/** Collects one cell's outputs from its IOPub messages. */
export class OutputCollector {
  readonly outputs: Output[] = [];
  private clearPending = false;

  constructor(private readonly displays: DisplayRegistry) {}

  /** Text written to stderr by this cell (all stderr outputs joined). */
  stderrText(): string {
    return this.outputs
      .filter((o): o is StreamOutput => o.output_type === "stream" && o.name === "stderr")
      .map((o) => joinText(o.text))
      .join("");
  }

  /** The first `error` output, if the kernel sent one. */
  firstError(): ErrorOutput | undefined {
    return this.outputs.find((o): o is ErrorOutput => o.output_type === "error");
  }

  /** Apply one IOPub message addressed to this cell. Unknown message types are ignored. */
  handle(msg: JupyterMessage): void {
    const c = msg.content;
    switch (msg.header.msg_type) {
      case "stream": {
        const name = c.name === "stderr" ? "stderr" : "stdout";
        const text = typeof c.text === "string" ? c.text : "";
        this.flushClear();
        const last = this.outputs[this.outputs.length - 1];
        if (last && last.output_type === "stream" && last.name === name) last.text = joinText(last.text) + text;
        else this.outputs.push({ output_type: "stream", name, text });
        return;
      }
      case "display_data":
      case "execute_result": {
        this.flushClear();
        const data = (c.data ?? {}) as MimeData;
        const metadata = (c.metadata ?? {}) as Record<string, unknown>;
        const out: DisplayDataOutput | ExecuteResultOutput =
          msg.header.msg_type === "display_data"
            ? { output_type: "display_data", data, metadata }
            : { output_type: "execute_result", execution_count: numberOrNull(c.execution_count), data, metadata };
        this.outputs.push(out);
        const id = displayId(c);
        if (id !== undefined) this.displays.set(id, [...(this.displays.get(id) ?? []), out]);
        return;
      }
      case "update_display_data": {
        const id = displayId(c);
        for (const out of id === undefined ? [] : this.displays.get(id) ?? []) {
          out.data = (c.data ?? {}) as MimeData;
          out.metadata = (c.metadata ?? {}) as Record<string, unknown>;
        }
        return;
      }
      case "error": {
        this.flushClear();
        this.outputs.push({
          output_type: "error",
          ename: String(c.ename ?? "Error"),
          evalue: String(c.evalue ?? ""),
          traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
        });
        return;
      }
      case "clear_output":
        if (c.wait === true) this.clearPending = true;
        else this.clear();
        return;
      default:
        return;
    }
  }

  private flushClear(): void {
    if (this.clearPending) this.clear();
  }

  private clear(): void {
    this.clearPending = false;
    this.outputs.length = 0;
  }
}

function displayId(content: Record<string, unknown>): string | undefined {
  const transient = content.transient as Record<string, unknown> | undefined;
  const id = transient?.display_id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

function numberOrNull(x: unknown): number | null {
  return typeof x === "number" ? x : null;
}

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

/** Remove ANSI colour/cursor escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/**
 * The readable part of what a failing cell wrote to stderr: ANSI codes, V8's
 * `evalmachine.<anonymous>:N` source excerpt and every `    at …` stack frame removed
 * (the frames point into the kernel, not the notebook).
 */
export function cleanErrorText(text: string): string {
  const lines = stripAnsi(text)
    .replace(/\r\n/g, "\n")
    .replace(/^evalmachine\.<anonymous>:\d+\n.*\n\s*\^+\s*\n/gm, "")
    .split("\n")
    .filter((l) => !/^\s+at\s/.test(l) && !/^\s+\.\.\. \d+ (more )?lines? matching/.test(l));
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trim();
}

/** MIME type of a notebook's headline figures (collected into report.json by the runner). */
export const REPORT_MIME = "application/vnd.course.report+json";

/** One headline figure: `{ name, value, unit, meaning }`. */
export interface ReportItem {
  name: string;
  value: unknown;
  unit?: string;
  meaning?: string;
}

/** The report items displayed by these outputs (`{ items: [...] }` under {@link REPORT_MIME}), in order. */
export function reportItems(outputs: Output[]): ReportItem[] {
  const items: ReportItem[] = [];
  for (const out of outputs) {
    if (out.output_type !== "display_data" && out.output_type !== "execute_result") continue;
    let bundle = out.data[REPORT_MIME];
    if (typeof bundle === "string" || Array.isArray(bundle)) {
      try {
        bundle = JSON.parse(joinText(bundle as MultilineString));
      } catch {
        continue;
      }
    }
    const list = (bundle as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(list)) continue;
    for (const it of list) {
      if (typeof it === "object" && it !== null && typeof (it as ReportItem).name === "string") items.push(it as ReportItem);
    }
  }
  return items;
}

/** MIME type of an exercise status line that lib's `tryExercise` displays (lib/src/exercise.ts). */
export const EXERCISE_MIME = "application/vnd.course.exercise+json";

/** An exercise status line: the stub still in place ("todo") or an error from the student's code. */
export interface ExerciseStatusItem {
  id: string;
  status: "todo" | "error";
  message: string;
  at?: string;
  library: boolean;
}

/** The exercise status lines displayed by these outputs (under {@link EXERCISE_MIME}), in order. */
export function exerciseStatuses(outputs: Output[]): ExerciseStatusItem[] {
  const found: ExerciseStatusItem[] = [];
  for (const out of outputs) {
    if (out.output_type !== "display_data" && out.output_type !== "execute_result") continue;
    let s = out.data[EXERCISE_MIME];
    if (typeof s === "string" || Array.isArray(s)) {
      try {
        s = JSON.parse(joinText(s as MultilineString));
      } catch {
        continue;
      }
    }
    const item = s as Partial<ExerciseStatusItem> | undefined;
    if (typeof item?.id !== "string" || (item.status !== "todo" && item.status !== "error")) continue;
    found.push({
      id: item.id, status: item.status, message: typeof item.message === "string" ? item.message : "",
      ...(typeof item.at === "string" ? { at: item.at } : {}), library: item.library === true,
    });
  }
  return found;
}

/** One line saying what an exercise status line says (for progress lines and failure messages). */
export function describeExerciseStatus(s: ExerciseStatusItem): string {
  if (s.status === "todo") return `✏️ ${s.id} not implemented yet${s.library ? " (the library's version ran instead)" : ""}`;
  return `your ${s.id} failed: ${s.message}${s.at ? ` (at: ${s.at})` : ""}`;
}
