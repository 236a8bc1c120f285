/**
 * Static SVG rendering of a `PlotFigure`, our own (no plotly.js, no browser): axes with nice
 * linear/log ticks, grid, titles, legend, markers, lines with `null` gaps and dashes, PNG image
 * traces, several panels by axis domain, and equal aspect. Used for the `text/html` part of a
 * plot's display bundle, so every Jupyter frontend and nbconvert shows the plot offline.
 *
 * Output is deterministic (same figure → same string); all text is escaped. Element ids carry
 * a hash of the figure so several plots can live in one HTML page.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { escapeHtml } from "../display";
import { PlotFigure, ScatterTrace, ImageTrace, LineDash, PLOT_PALETTE, DEFAULT_SIZE } from "./types";
import { AxisFrame, PlotArea, resolveAxes, toPx, traceAxis } from "./axes";
import { pngSize } from "./png";
import { textWidth } from "./text";

const FONT = "Helvetica, Arial, 'DejaVu Sans', sans-serif";
const INK = "#222";
const MUTED = "#555";

/** Pixel number for SVG output: one decimal, no "-0". */
function n(v: number): string {
  const r = Math.round(v * 10) / 10;
  return String(r === 0 ? 0 : r);
}

export { textWidth };

/** A label; plotly's `<br>` line breaks become lines 1.2 em apart. */
function text(x: number, y: number, s: string, attrs: string): string {
  const lines = s.split(/<br\s*\/?>/i);
  if (lines.length === 1) return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${escapeHtml(s)}</text>`;
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${lines.map((l, i) => `<tspan x="${n(x)}" dy="${i === 0 ? 0 : "1.2em"}">${escapeHtml(l)}</tspan>`).join("")}</text>`;
}

/** FNV-1a hash of a string, base 36 (deterministic element ids). */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

/** plotly's dash patterns, scaled by line width (as plotly's `dashStyle`). */
function dashArray(dash: LineDash | undefined, width: number): string | null {
  const w = Math.max(width, 3);
  const p: Record<LineDash, number[]> = { solid: [], dot: [w, w], dash: [3 * w, 3 * w], longdash: [5 * w, 5 * w], dashdot: [3 * w, w, w, w], longdashdot: [5 * w, 2 * w, w, 2 * w] };
  const a = p[dash ?? "solid"];
  return a.length ? a.map(n).join(",") : null;
}

interface LegendEntry {
  name: string;
  trace: ScatterTrace;
  color: string;
}

function traceColor(t: ScatterTrace, i: number): string {
  return (t.mode === "markers" ? t.marker?.color : t.line?.color ?? t.marker?.color) ?? PLOT_PALETTE[i % PLOT_PALETTE.length];
}

function legendEntries(fig: PlotFigure): LegendEntry[] {
  const out: LegendEntry[] = [];
  fig.data.forEach((t, i) => {
    if (t.type === "scatter" && t.name !== undefined && t.showlegend !== false) out.push({ name: t.name, trace: t, color: traceColor(t, i) });
  });
  return out;
}

function drawScatter(t: ScatterTrace, i: number, fx: AxisFrame, fy: AxisFrame): string {
  const color = traceColor(t, i);
  const out: string[] = [];
  const pts: ([number, number] | null)[] = t.x.map((x, k) => {
    const px = toPx(fx, x);
    const py = toPx(fy, t.y[k] ?? null);
    return px === null || py === null ? null : [px, py];
  });
  if (t.mode.includes("lines")) {
    const width = t.line?.width ?? 2;
    let d = "";
    let pen = false;
    for (const p of pts) {
      if (!p) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${n(p[0])} ${n(p[1])}`;
      pen = true;
    }
    const dash = dashArray(t.line?.dash, width);
    if (d) out.push(`<path d="${d}" fill="none" stroke="${escapeHtml(t.line?.color ?? color)}" stroke-width="${n(width)}" stroke-linejoin="round" stroke-linecap="round"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
  }
  if (t.mode.includes("markers")) {
    const r = (t.marker?.size ?? 6) / 2;
    const [x0, x1] = [Math.min(...fx.px), Math.max(...fx.px)];
    const [y0, y1] = [Math.min(...fy.px), Math.max(...fy.px)];
    const circles = pts
      .filter((p): p is [number, number] => p !== null && p[0] >= x0 - r && p[0] <= x1 + r && p[1] >= y0 - r && p[1] <= y1 + r)
      .map((p) => `<circle cx="${n(p[0])}" cy="${n(p[1])}" r="${n(r)}"/>`);
    const op = t.marker?.opacity;
    out.push(`<g fill="${escapeHtml(color)}"${op !== undefined ? ` fill-opacity="${op}"` : ""}>${circles.join("")}</g>`);
  }
  const body = out.join("");
  return t.opacity !== undefined && t.opacity < 1 ? `<g opacity="${t.opacity}">${body}</g>` : body;
}

function drawImage(t: ImageTrace, fx: AxisFrame, fy: AxisFrame): string {
  const size = pngSize(t.source);
  if (!size) return "";
  const dx = t.dx ?? 1;
  const dy = t.dy ?? 1;
  const xa = toPx(fx, (t.x0 ?? 0) - dx / 2);
  const xb = toPx(fx, (t.x0 ?? 0) + (size.width - 0.5) * dx);
  const ya = toPx(fy, (t.y0 ?? 0) - dy / 2); // edge of pixel row 0
  const yb = toPx(fy, (t.y0 ?? 0) + (size.height - 0.5) * dy);
  if (xa === null || xb === null || ya === null || yb === null) return "";
  const w = Math.abs(xb - xa);
  const h = Math.abs(yb - ya);
  const flip = ya > yb ? ` transform="matrix(1 0 0 -1 0 ${n(ya + yb)})"` : "";
  return `<image x="${n(Math.min(xa, xb))}" y="${n(Math.min(ya, yb))}" width="${n(w)}" height="${n(h)}" preserveAspectRatio="none" style="image-rendering:pixelated"${flip} href="${escapeHtml(t.source)}"/>`;
}

/** Axis line, ticks, tick labels and title of one axis; grid lines go to `grid`. */
function drawAxis(f: AxisFrame, frames: Map<string, AxisFrame>, area: PlotArea, grid: string[], zero: string[]): string {
  if (f.spec.visible === false) return "";
  const other = frames.get(f.spec.anchor ?? (f.letter === "x" ? "y" : "x") + f.id.slice(1));
  const [lo, hi] = [Math.min(...f.px), Math.max(...f.px)];
  const out: string[] = [];
  const lineColor = escapeHtml(f.spec.linecolor ?? "#444");
  const inside = (p: number) => p >= lo - 0.5 && p <= hi + 0.5;
  const ticks = f.ticks.map((t) => ({ ...t, p: toPx({ ...f, log: false }, t.pos) as number })).filter((t) => inside(t.p));
  if (f.letter === "x") {
    const yBase = other ? Math.max(...other.px) : area.bottom;
    const yTop = other ? Math.min(...other.px) : area.top;
    for (const t of ticks) if (f.spec.showgrid !== false) grid.push(`M${n(t.p)} ${n(yTop)}V${n(yBase)}`);
    if (f.spec.showline !== false) out.push(`<path d="M${n(lo)} ${n(yBase)}H${n(hi)}" stroke="${lineColor}"/>`);
    out.push(`<path d="${ticks.map((t) => `M${n(t.p)} ${n(yBase)}v5`).join("")}" stroke="${lineColor}"/>`);
    out.push(`<g font-size="11" fill="${MUTED}" text-anchor="middle">${ticks.map((t) => text(t.p, yBase + 18, t.label, "")).join("")}</g>`);
    if (f.spec.title?.text) out.push(text((lo + hi) / 2, yBase + 38, f.spec.title.text, `font-size="13" fill="${INK}" text-anchor="middle"`));
  } else {
    const xBase = other ? Math.min(...other.px) : area.left;
    const xRight = other ? Math.max(...other.px) : area.right;
    for (const t of ticks) if (f.spec.showgrid !== false) grid.push(`M${n(xBase)} ${n(t.p)}H${n(xRight)}`);
    if (f.spec.showline !== false) out.push(`<path d="M${n(xBase)} ${n(lo)}V${n(hi)}" stroke="${lineColor}"/>`);
    out.push(`<path d="${ticks.map((t) => `M${n(xBase)} ${n(t.p)}h-5`).join("")}" stroke="${lineColor}"/>`);
    out.push(`<g font-size="11" fill="${MUTED}" text-anchor="end">${ticks.map((t) => text(xBase - 8, t.p + 4, t.label, "")).join("")}</g>`);
    const labelW = Math.max(0, ...ticks.map((t) => textWidth(t.label, 11)));
    if (f.spec.title?.text) {
      const x = xBase - labelW - 20;
      const y = (lo + hi) / 2;
      out.push(text(x, y, f.spec.title.text, `font-size="13" fill="${INK}" text-anchor="middle" transform="rotate(-90 ${n(x)} ${n(y)})"`));
    }
  }
  if (f.spec.zeroline !== false && !f.log && other) {
    const p = toPx(f, 0);
    if (p !== null && p > lo + 1 && p < hi - 1) {
      zero.push(f.letter === "x" ? `M${n(p)} ${n(Math.min(...other.px))}V${n(Math.max(...other.px))}` : `M${n(Math.min(...other.px))} ${n(p)}H${n(Math.max(...other.px))}`);
    }
  }
  return out.join("");
}

function drawLegend(entries: LegendEntry[], x0: number, y0: number): string {
  const out: string[] = [];
  entries.forEach((e, k) => {
    const y = y0 + 10 + k * 20;
    const t = e.trace;
    const op = t.opacity !== undefined ? ` opacity="${t.opacity}"` : "";
    if (t.mode.includes("lines")) {
      const w = Math.min(t.line?.width ?? 2, 4);
      const dash = dashArray(t.line?.dash, w);
      out.push(`<path d="M${n(x0)} ${n(y)}h24" stroke="${escapeHtml(e.color)}" stroke-width="${n(w)}"${dash ? ` stroke-dasharray="${dash}"` : ""}${op}/>`);
    }
    if (t.mode.includes("markers")) {
      out.push(`<circle cx="${n(x0 + 12)}" cy="${n(y)}" r="${n(Math.max(3.5, Math.min(5, (t.marker?.size ?? 6) / 2)))}" fill="${escapeHtml(e.color)}"${op}/>`);
    }
    out.push(text(x0 + 32, y + 4, e.name, `font-size="12" fill="${INK}"`));
  });
  return out.join("");
}

/** A horizontal legend (plotly's `orientation: "h"`) at the bottom of the figure, entries wrapped into rows. */
function drawLegendBelow(entries: LegendEntry[], left: number, right: number, height: number): string {
  const rows: LegendEntry[][] = [[]];
  let x = left;
  for (const e of entries) {
    const w = 40 + textWidth(e.name, 12);
    if (x + w > right && rows[rows.length - 1].length > 0) {
      rows.push([]);
      x = left;
    }
    rows[rows.length - 1].push(e);
    x += w;
  }
  return rows.map((r, k) => {
    let at = left;
    return r.map((e) => {
      const out = drawLegend([e], at, height - 8 - 20 * (rows.length - k));
      at += 40 + textWidth(e.name, 12);
      return out;
    }).join("");
  }).join("");
}

/**
 * Render a figure as a standalone SVG string (width × height from the layout, default 640×420).
 *
 * @example fs.writeFileSync("plot.svg", renderSvg(scatterByClass(x0, labels)))
 * @see notebooks/01_score_matching.ipynb
 */
export function renderSvg(fig: PlotFigure): string {
  const L = fig.layout;
  const W = L.width ?? DEFAULT_SIZE.width;
  const H = L.height ?? DEFAULT_SIZE.height;
  const title = L.title?.text;
  const margin = L.margin ?? { l: 64, r: 24, t: title ? 52 : 24, b: 52 };
  const entries = legendEntries(fig);
  const showLegend = (L.showlegend ?? entries.length > 1) && entries.length > 0;
  const below = L.legend?.orientation === "h";
  const legendW = showLegend && !below ? Math.min(240, 48 + Math.max(...entries.map((e) => textWidth(e.name, 12)))) : 0;
  const area: PlotArea = { left: margin.l, right: W - margin.r - legendW, top: margin.t, bottom: H - margin.b };
  const frames = resolveAxes(fig, area);
  const uid = `cp${hash(JSON.stringify(fig))}`;

  const panels = new Map<string, [AxisFrame, AxisFrame]>();
  for (const t of fig.data) {
    const key = `${traceAxis(t, "x")}|${traceAxis(t, "y")}`;
    if (!panels.has(key)) panels.set(key, [frames.get(traceAxis(t, "x"))!, frames.get(traceAxis(t, "y"))!]);
  }
  const clipIds = new Map<string, string>();
  const defs: string[] = [];
  let k = 0;
  for (const [key, [fx, fy]] of panels) {
    const id = `${uid}-${k++}`;
    clipIds.set(key, id);
    const [x0, x1, y0, y1] = [Math.min(...fx.px), Math.max(...fx.px), Math.min(...fy.px), Math.max(...fy.px)];
    defs.push(`<clipPath id="${id}"><rect x="${n(x0)}" y="${n(y0)}" width="${n(x1 - x0)}" height="${n(y1 - y0)}"/></clipPath>`);
  }
  const grid: string[] = [];
  const zero: string[] = [];
  const axes = Array.from(frames.values()).map((f) => drawAxis(f, frames, area, grid, zero)).join("");
  const traces = fig.data.map((t, i) => {
    const fx = frames.get(traceAxis(t, "x"))!;
    const fy = frames.get(traceAxis(t, "y"))!;
    const body = t.type === "scatter" ? drawScatter(t, i, fx, fy) : drawImage(t, fx, fy);
    return `<g clip-path="url(#${clipIds.get(`${fx.id}|${fy.id}`)})">${body}</g>`;
  });

  const notes = (L.annotations ?? []).map((a) => {
    const fx = a.xref === "paper" ? null : frames.get(a.xref);
    const fy = a.yref === "paper" ? null : frames.get(a.yref);
    const x = fx ? toPx(fx, a.x) : area.left + a.x * (area.right - area.left);
    const y = fy ? toPx(fy, a.y) : area.bottom - a.y * (area.bottom - area.top);
    if (x === null || y === null) return "";
    const size = a.font?.size ?? 12;
    const more = (a.text.split(/<br\s*\/?>/i).length - 1) * size * 1.2; // extra lines of a wrapped label
    const dy = a.yanchor === "top" ? size * 0.85 : a.yanchor === "bottom" ? -size * 0.45 - more : size * 0.35 - more / 2;
    const anchor = a.xanchor === "left" ? "start" : a.xanchor === "right" ? "end" : "middle";
    return text(x, y + dy, a.text, `font-size="${size}" fill="${escapeHtml(a.font?.color ?? INK)}" text-anchor="${anchor}"`);
  });
  const panelTitles = (L.annotations ?? []).some((a) => a.yref === "paper" && a.y >= 1);
  const titleY = panelTitles ? 24 : Math.max(20, margin.t / 2 + 6);

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}" style="max-width:100%;height:auto" role="img"${title ? ` aria-label="${escapeHtml(title)}"` : ""}>`,
    `<defs>${defs.join("")}</defs>`,
    `<rect width="${W}" height="${H}" fill="${escapeHtml(L.paper_bgcolor ?? "white")}"/>`,
    grid.length ? `<path d="${grid.join("")}" stroke="#eee" fill="none"/>` : "",
    zero.length ? `<path d="${zero.join("")}" stroke="#bbb" fill="none"/>` : "",
    traces.join(""),
    axes,
    notes.join(""),
    title ? text(W / 2, titleY, title, `font-size="16" fill="${INK}" text-anchor="middle"`) : "",
    showLegend ? (below ? drawLegendBelow(entries, margin.l, W - margin.r, H) : drawLegend(entries, area.right + 20, area.top)) : "",
    "</svg>",
  ];
  return parts.filter((p) => p !== "").join("\n");
}
