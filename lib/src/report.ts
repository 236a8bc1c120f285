/**
 * Headline figures of a notebook: one `report([...])` call states what was measured (a loss, an
 * FID-like score, a runtime) with its unit and meaning. It shows as a table and carries the
 * numbers as `application/vnd.course.report+json`, which the notebook runner collects from every
 * executed notebook into `build/…/report.json` (via {@link reportItemsFromOutputs}).
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
}

/** Options of {@link report}. */
export interface ReportOptions {
  title?: string;
}

/**
 * Check report items: each an object with a non-empty unique `name`, a finite `value`, a string
 * `unit` and a non-empty `meaning`. Throws an error naming the offending item.
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
    return { name: it.name, value: it.value, unit: it.unit, meaning: it.meaning };
  });
}

/** A value as shown in the table: integers as is, else 4 significant digits (exponent if tiny/huge). */
export function formatReportValue(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function plainTable(items: ReportItem[], title?: string): string {
  const head = ["name", "value", "unit", "meaning"];
  const rows = items.map((it) => [it.name, formatReportValue(it.value), it.unit || "-", it.meaning]);
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => [r[0].padEnd(w[0]), r[1].padStart(w[1]), r[2].padEnd(w[2]), r[3]].join("  ").trimEnd();
  const out = [line(head), line(w.map((n) => "-".repeat(n))), ...rows.map(line)];
  return [`[report]${title ? ` ${title}` : ""}`, ...out].join("\n");
}

function htmlTable(items: ReportItem[], title?: string): string {
  const cell = "padding:3px 10px;border-bottom:1px solid #ddd;text-align:left";
  const num = "padding:3px 10px;border-bottom:1px solid #ddd;text-align:right;font-variant-numeric:tabular-nums";
  const rows = items.map((it) =>
    `<tr><td style="${cell}">${escapeHtml(it.name)}</td><td style="${num}" title="${escapeHtml(String(it.value))}">${escapeHtml(formatReportValue(it.value))}</td>` +
    `<td style="${cell}">${escapeHtml(it.unit)}</td><td style="${cell}">${escapeHtml(it.meaning)}</td></tr>`);
  const th = (s: string, right = false) => `<th style="${right ? num : cell};border-bottom:2px solid #444">${s}</th>`;
  return [
    `<div class="course-report">`,
    `<table style="border-collapse:collapse;font-family:Helvetica,Arial,sans-serif;font-size:13px;margin:4px 0">`,
    title ? `<caption style="text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(title)}</caption>` : "",
    `<thead><tr>${th("name")}${th("value", true)}${th("unit")}${th("meaning")}</tr></thead>`,
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
