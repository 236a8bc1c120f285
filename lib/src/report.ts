/**
 * Headline figures of a notebook: one `report([...])` call states what was measured (a loss, an
 * FID-like score, a runtime) with its unit and meaning. It shows as a table and carries the
 * numbers as `application/vnd.course.report+json`, which the notebook runner collects from every
 * executed notebook into `build/…/report.json` (via {@link reportItemsFromOutputs}).
 *
 * An item may also carry its uncertainty (issue 14): `n` (the independent units behind the value),
 * `ci: [lo, hi]` (a confidence interval that contains the value, e.g. from lib/src/stats) and
 * `seeds` (the seeds of the runs). The table then shows an interval, n and seeds column; items
 * without them show "-". Older items (name, value, unit, meaning) stay valid.
 *
 * Output format: nbformat v4 `display_data` / `execute_result` outputs (Jupyter MIME bundles).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { displayBundle, escapeHtml, MimeBundle } from "./display";

/** MIME type of a report's machine-readable part: `{ "items": ReportItem[], "title"?: string }`. */
export const REPORT_MIME = "application/vnd.course.report+json";

/** One headline figure. */
export interface ReportItem {
  /** Short unique name, e.g. "final loss". */
  name: string;
  /** The measured value (finite). */
  value: number;
  /** Unit, e.g. "nats", "s", "%"; "" for a dimensionless number. */
  unit: string;
  /** What the number means, in one sentence. */
  meaning: string;
  /** Independent units (samples, pairs) behind the value: a positive integer. */
  n?: number;
  /** Confidence interval [lo, hi] of the value, lo ≤ value ≤ hi (say its level in `meaning`). */
  ci?: [number, number];
  /** Seeds of the runs behind the value (integers). */
  seeds?: number[];
}

/** Options of {@link report}. */
export interface ReportOptions {
  title?: string;
}

/**
 * Check report items: each an object with a non-empty unique `name`, a finite `value`, a string
 * `unit` and a non-empty `meaning`; optionally `n` (a positive integer), `ci` ([lo, hi] with
 * lo ≤ value ≤ hi) and `seeds` (a non-empty array of integers). Throws an error naming the
 * offending item.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function validateReportItems(items: unknown): ReportItem[] {
  if (!Array.isArray(items) || items.length === 0) throw new Error("report: expected a non-empty array of { name, value, unit, meaning }");
  const seen = new Set<string>();
  return items.map((raw: unknown, i) => {
    if (typeof raw !== "object" || raw === null) throw new Error(`report: item ${i} is not an object`);
    const it = raw as Record<string, unknown>;
    const label = typeof it.name === "string" && it.name.trim() ? `"${it.name}"` : `${i}`;
    if (typeof it.name !== "string" || it.name.trim() === "") throw new Error(`report: item ${i} needs a non-empty string name`);
    if (seen.has(it.name)) throw new Error(`report: duplicate name ${label}`);
    seen.add(it.name);
    if (typeof it.value !== "number" || !Number.isFinite(it.value)) {
      throw new Error(`report: item ${label} has value ${String(it.value)}; a headline figure must be a finite number (NaN/Infinity means a bug upstream)`);
    }
    if (typeof it.unit !== "string") throw new Error(`report: item ${label} needs a string unit ("" if dimensionless)`);
    if (typeof it.meaning !== "string" || it.meaning.trim() === "") throw new Error(`report: item ${label} needs a non-empty meaning`);
    const out: ReportItem = { name: it.name, value: it.value, unit: it.unit, meaning: it.meaning };
    if (it.n !== undefined) {
      if (typeof it.n !== "number" || !Number.isInteger(it.n) || it.n < 1) throw new Error(`report: item ${label} has n = ${String(it.n)}; n must be a positive integer`);
      out.n = it.n;
    }
    if (it.ci !== undefined) out.ci = checkCi(it.ci, it.value, label);
    if (it.seeds !== undefined) {
      if (!Array.isArray(it.seeds) || it.seeds.length === 0 || it.seeds.some((s) => typeof s !== "number" || !Number.isInteger(s))) {
        throw new Error(`report: item ${label} has seeds ${JSON.stringify(it.seeds)}; seeds must be a non-empty array of integers`);
      }
      out.seeds = [...(it.seeds as number[])];
    }
    return out;
  });
}

/** Check an item's interval: two finite numbers with lo ≤ value ≤ hi (to a relative 1e-9, for round-off). */
function checkCi(ci: unknown, value: number, label: string): [number, number] {
  if (!Array.isArray(ci) || ci.length !== 2 || !ci.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new Error(`report: item ${label} has ci ${JSON.stringify(ci)}; ci must be [lo, hi] with two finite numbers`);
  }
  const [lo, hi] = ci as [number, number];
  const tol = 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi), Math.abs(value));
  if (!(lo <= hi) || value < lo - tol || value > hi + tol) {
    throw new Error(`report: item ${label} has value ${value} outside its ci [${lo}, ${hi}]; a point estimate must satisfy lo ≤ value ≤ hi`);
  }
  return [lo, hi];
}

/** The interval column's text, e.g. "[0.55, 0.69]"; "-" without one. */
function formatCi(it: ReportItem): string {
  return it.ci ? `[${formatReportValue(it.ci[0])}, ${formatReportValue(it.ci[1])}]` : "-";
}

/** Extra columns (interval, n, seeds), present only when some item carries them. */
function extraColumns(items: ReportItem[]): { head: string; cell: (it: ReportItem) => string }[] {
  const cols: { head: string; cell: (it: ReportItem) => string }[] = [];
  if (items.some((it) => it.ci)) cols.push({ head: "interval", cell: formatCi });
  if (items.some((it) => it.n !== undefined)) cols.push({ head: "n", cell: (it) => (it.n === undefined ? "-" : String(it.n)) });
  if (items.some((it) => it.seeds)) cols.push({ head: "seeds", cell: (it) => (it.seeds ? it.seeds.join(",") : "-") });
  return cols;
}

/** A value as shown in the table: integers as is, else 4 significant digits (exponent if tiny/huge). */
export function formatReportValue(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function plainTable(items: ReportItem[], title?: string): string {
  const extra = extraColumns(items);
  const head = ["name", "value", ...extra.map((c) => c.head), "unit", "meaning"];
  const rows = items.map((it) => [it.name, formatReportValue(it.value), ...extra.map((c) => c.cell(it)), it.unit || "-", it.meaning]);
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const last = head.length - 1;
  const line = (r: string[]) => r.map((v, c) => (c === last ? v : c === 1 ? v.padStart(w[c]) : v.padEnd(w[c]))).join("  ").trimEnd();
  const out = [line(head), line(w.map((n) => "-".repeat(n))), ...rows.map(line)];
  return [`[report]${title ? ` ${title}` : ""}`, ...out].join("\n");
}

function htmlTable(items: ReportItem[], title?: string): string {
  const cell = "padding:3px 10px;border-bottom:1px solid #ddd;text-align:left";
  const num = "padding:3px 10px;border-bottom:1px solid #ddd;text-align:right;font-variant-numeric:tabular-nums";
  const extra = extraColumns(items);
  const rows = items.map((it) =>
    `<tr><td style="${cell}">${escapeHtml(it.name)}</td><td style="${num}" title="${escapeHtml(String(it.value))}">${escapeHtml(formatReportValue(it.value))}</td>` +
    extra.map((c) => `<td style="${num}">${escapeHtml(c.cell(it))}</td>`).join("") +
    `<td style="${cell}">${escapeHtml(it.unit)}</td><td style="${cell}">${escapeHtml(it.meaning)}</td></tr>`);
  const th = (s: string, right = false) => `<th style="${right ? num : cell};border-bottom:2px solid #444">${s}</th>`;
  return [
    `<div class="course-report">`,
    `<table style="border-collapse:collapse;font-family:Helvetica,Arial,sans-serif;font-size:13px;margin:4px 0">`,
    title ? `<caption style="text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(title)}</caption>` : "",
    `<thead><tr>${th("name")}${th("value", true)}${extra.map((c) => th(c.head, true)).join("")}${th("unit")}${th("meaning")}</tr></thead>`,
    `<tbody>${rows.join("")}</tbody>`,
    `</table>`,
    `</div>`,
  ].filter((s) => s !== "").join("\n");
}

/**
 * The display bundle of a report: HTML table, aligned text table and the items as JSON.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function reportBundle(items: ReportItem[], opts: ReportOptions = {}): MimeBundle {
  const valid = validateReportItems(items);
  const payload: { items: ReportItem[]; title?: string } = { items: valid };
  if (opts.title) payload.title = opts.title;
  return { [REPORT_MIME]: payload, "text/html": htmlTable(valid, opts.title), "text/plain": plainTable(valid, opts.title) };
}

/**
 * State a notebook's headline measured figures (one output; prints the text table outside
 * notebooks). Throws on invalid items, e.g. a NaN value.
 *
 * @example report([{ name: "final loss", value: 0.412, unit: "", meaning: "denoising MSE on held-out data" }])
 * @see notebooks/01_score_matching.ipynb
 */
export function report(items: ReportItem[], opts: ReportOptions = {}): void {
  displayBundle(reportBundle(items, opts));
}

/**
 * Collect report items from nbformat outputs (`display_data` / `execute_result` carrying
 * {@link REPORT_MIME}, as an object or a JSON string), in output order. Other outputs are
 * skipped; a malformed report payload throws.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function reportItemsFromOutputs(outputs: unknown[]): ReportItem[] {
  const out: ReportItem[] = [];
  outputs.forEach((o, k) => {
    if (typeof o !== "object" || o === null) return;
    const rec = o as { output_type?: unknown; data?: unknown };
    if (rec.output_type !== "display_data" && rec.output_type !== "execute_result") return;
    if (typeof rec.data !== "object" || rec.data === null) return;
    let payload = (rec.data as Record<string, unknown>)[REPORT_MIME];
    if (payload === undefined) return;
    if (typeof payload === "string") {
      try {
        payload = JSON.parse(payload);
      } catch {
        throw new Error(`reportItemsFromOutputs: output ${k} has ${REPORT_MIME} that is not valid JSON`);
      }
    }
    const items = typeof payload === "object" && payload !== null ? (payload as { items?: unknown }).items : undefined;
    try {
      out.push(...validateReportItems(items));
    } catch (e) {
      throw new Error(`reportItemsFromOutputs: output ${k}: ${(e as Error).message}`);
    }
  });
  return out;
}
