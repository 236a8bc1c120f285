/**
 * Tables of numbers in notebooks: one `showTable` call displays rows as an HTML table (with a
 * plain-text twin for terminals, nbconvert's text export and the grader's logs).
 *
 * Output format: an nbformat v4 `display_data` bundle with `text/html` and `text/plain`.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import { MimeBundle, displayBundle, escapeHtml } from "./display";
import { formatReportValue } from "./report";

/**
 * One column: the header, and how to read and format a row's cell.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface TableColumn<Row> {
  header: string;
  value: (row: Row) => number | string;
  /** Format numbers (default: 4 significant digits, like report()). */
  format?: (v: number) => string;
}

function cell<Row>(c: TableColumn<Row>, row: Row): string {
  const v = c.value(row);
  return typeof v === "number" ? (c.format ?? formatReportValue)(v) : v;
}

/**
 * The MIME bundle of a table: `text/plain` with aligned columns and `text/html`.
 * @example tableBundle(rows, [{ header: "s", value: (r) => r.s }, { header: "accuracy", value: (r) => r.accuracy }])
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function tableBundle<Row>(rows: Row[], columns: TableColumn<Row>[], opts: { title?: string } = {}): MimeBundle {
  if (columns.length === 0) throw new Error("showTable: no columns");
  const cells = rows.map((r) => columns.map((c) => cell(c, r)));
  const widths = columns.map((c, j) => Math.max(c.header.length, ...cells.map((r) => r[j].length)));
  const line = (vals: string[]) => vals.map((v, j) => v.padStart(widths[j])).join("  ");
  const text = [...(opts.title ? [opts.title] : []), line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
  const th = columns.map((c) => `<th style="text-align:right">${escapeHtml(c.header)}</th>`).join("");
  const trs = cells.map((r) => `<tr>${r.map((v) => `<td style="text-align:right;font-variant-numeric:tabular-nums">${escapeHtml(v)}</td>`).join("")}</tr>`).join("");
  const caption = opts.title ? `<caption style="text-align:left;font-weight:bold">${escapeHtml(opts.title)}</caption>` : "";
  return { "text/plain": text, "text/html": `<table class="course-table">${caption}<thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>` };
}

/**
 * Display a table (see {@link tableBundle}); outside a notebook it prints the text form.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function showTable<Row>(rows: Row[], columns: TableColumn<Row>[], opts: { title?: string } = {}): void {
  displayBundle(tableBundle(rows, columns, opts));
}
