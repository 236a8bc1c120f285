/**
 * Cell outputs to HTML, one renderer per MIME type, richest first (as Jupyter frontends pick):
 * plotly figures (live, re-drawn by plotly.js in the page), HTML, SVG/PNG/JPEG/GIF images,
 * markdown, LaTeX, the course's report tables, JSON, plain text; plus streams and errors.
 * An output whose MIME types are all unknown, or whose data is malformed, renders as a visible
 * placeholder and a warning; it never stops the build.
 *
 * @see lib/src/plot/show.ts (the plot bundle), lib/src/report.ts (the report bundle)
 * @see notebooks/01_score_matching.ipynb
 */
import { cleanErrorText, joinText, REPORT_MIME, stripAnsi } from "../jupyter/outputs";
import { Diagnostics, esc, placeholder, scriptJson } from "./html";
import { MarkdownEnv, renderMarkdown } from "./markdown";
import { renderTex } from "./math";

/** MIME type of a plotly figure in Jupyter (the lib's `show` emits it). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** What rendering outputs needs: where they come from, the warnings sink, the page's markdown env. */
export interface OutputContext {
  where: string;
  diag: Diagnostics;
  env: MarkdownEnv;
}

type Renderer = (value: unknown, ctx: OutputContext, mime: string) => string;

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((x) => typeof x === "string")) return value.join("");
  throw new Error("expected text");
}

function jsonValue(value: unknown): unknown {
  return typeof value === "string" || Array.isArray(value) ? JSON.parse(text(value)) : value;
}

/** A figure as the lib's `figureHtml` embeds it: the page's plots.js draws it with plotly.js. */
function plotly(value: unknown): string {
  const fig = jsonValue(value) as { data?: unknown };
  if (typeof fig !== "object" || fig === null || !Array.isArray(fig.data)) throw new Error("a plotly figure needs a data array");
  return `<div class="course-plot"><script type="${PLOTLY_MIME}">${scriptJson(fig)}</script></div>`;
}

function image(value: unknown, _ctx: OutputContext, mime: string): string {
  const data = mime === "image/svg+xml" ? Buffer.from(text(value), "utf8").toString("base64") : text(value).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/=]+$/.test(data)) throw new Error("not base64 data");
  return `<img class="output-image" alt="output image" src="data:${mime};base64,${data}">`;
}

function report(value: unknown): string {
  const payload = jsonValue(value) as { items?: unknown; title?: unknown };
  if (!Array.isArray(payload?.items)) throw new Error("a report needs an items array");
  const rows = payload.items.map((raw) => {
    const it = (raw ?? {}) as Record<string, unknown>;
    return `<tr><td>${esc(String(it.name ?? ""))}</td><td class="num">${esc(String(it.value ?? ""))}</td><td>${esc(String(it.unit ?? ""))}</td><td>${esc(String(it.meaning ?? ""))}</td></tr>`;
  });
  const caption = typeof payload.title === "string" ? `<caption>${esc(payload.title)}</caption>` : "";
  return `<table class="course-report">${caption}<thead><tr><th>name</th><th>value</th><th>unit</th><th>meaning</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Known MIME types, richest first. */
const RENDERERS: [string, Renderer][] = [
  [PLOTLY_MIME, plotly],
  ["text/html", (v) => text(v)],
  ["image/svg+xml", image],
  ["image/png", image],
  ["image/jpeg", image],
  ["image/gif", image],
  ["image/webp", image],
  ["text/markdown", (v, ctx) => renderMarkdown(text(v), ctx.env)],
  ["text/latex", (v, ctx) => renderTex(text(v).trim().replace(/^\$\$?|\$\$?$/g, ""), true, ctx.env.math)],
  [REPORT_MIME, report],
  ["application/json", (v) => `<pre class="output-text">${esc(JSON.stringify(jsonValue(v), null, 2))}</pre>`],
  ["text/plain", (v) => `<pre class="output-text">${esc(stripAnsi(text(v)))}</pre>`],
];

/** The MIME types this renderer knows, richest first. */
export const KNOWN_MIME_TYPES: readonly string[] = RENDERERS.map(([m]) => m);

function bundle(data: unknown, ctx: OutputContext): string {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    ctx.diag.warn(`${ctx.where}: output without a MIME bundle`);
    return placeholder("output without data (not shown)");
  }
  const bag = data as Record<string, unknown>;
  const tried: string[] = [];
  for (const [mime, render] of RENDERERS) {
    if (!(mime in bag)) continue;
    try {
      return render(bag[mime], ctx, mime);
    } catch (e) {
      tried.push(`${mime}: ${(e as Error).message}`);
    }
  }
  const types = Object.keys(bag);
  const why = tried.length > 0 ? `malformed ${tried.join("; ")}` : `unknown MIME type${types.length === 1 ? "" : "s"} ${types.join(", ") || "(none)"}`;
  ctx.diag.warn(`${ctx.where}: output not shown (${why})`);
  return placeholder(`output not shown: ${why}`);
}

/** One nbformat output (stream, display_data, execute_result or error) as HTML. */
export function renderOutput(out: unknown, ctx: OutputContext): string {
  const o = (typeof out === "object" && out !== null ? out : {}) as Record<string, unknown>;
  switch (o.output_type) {
    case "stream": {
      const name = o.name === "stderr" ? "stderr" : "stdout";
      return `<pre class="output-text output-stream ${name}">${esc(stripAnsi(joinText(o.text as string | string[] | undefined)))}</pre>`;
    }
    case "display_data":
    case "execute_result":
      return `<div class="output-display">${bundle(o.data, ctx)}</div>`;
    case "error": {
      const trace = Array.isArray(o.traceback) ? o.traceback.map(String).join("\n") : "";
      const body = cleanErrorText(trace) || `${String(o.ename ?? "Error")}: ${String(o.evalue ?? "")}`;
      return `<pre class="output-text output-error">${esc(body)}</pre>`;
    }
    default:
      ctx.diag.warn(`${ctx.where}: unknown output_type ${JSON.stringify(o.output_type ?? null)}`);
      return placeholder(`output of unknown type ${String(o.output_type ?? "(none)")} not shown`);
  }
}

/** All outputs of a cell, each in its own box; "" when there are none. */
export function renderOutputs(outputs: unknown[], ctx: OutputContext): string {
  return outputs.map((o) => `<div class="output">${renderOutput(o, ctx)}</div>`).join("\n");
}
