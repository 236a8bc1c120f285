/// <reference lib="dom" />
/**
 * Layout checks shared by the book and slide browser tests, measured in the page in one
 * `page.evaluate` (one round trip per page or slide):
 *  - plots: no two labels overlap (titles, panel titles, captions, legend entries, axis titles and
 *    tick labels of the plotly SVG), no label is cut off by the figure's edge, no legend entry is
 *    shown twice, no legend needs a scrollbar, no figure is wider than its box or the window,
 *    and the tiles of every image grid are measured (CSS px);
 *  - math: no inline formula in a table broken over several lines (a squashed column);
 *  - text: the smallest effective font size (CSS px after zoom and reveal's scaling).
 * Each finding is one short line that names the figure by its title.
 */
import type { Page } from "playwright-core";

/** What to measure and where. */
export interface LayoutOptions {
  /** CSS selector of the part of the page to check (a slide, or the page's main column). */
  root: string;
}

/** One image grid's smallest tile, in CSS px. */
export interface TileSize {
  figure: string;
  px: number;
}

/** What the measurement found. */
export interface LayoutReport {
  problems: string[];
  tiles: TileSize[];
  /** Smallest effective font size of visible text under the root, CSS px (Infinity if none). */
  minFontPx: number;
  /** Where the smallest font is (tag.class and a few words). */
  minFontAt: string;
}

/** Measure the layout under `opts.root` (see the module comment). */
export function measureLayout(page: Page, opts: LayoutOptions): Promise<LayoutReport> {
  return page.evaluate((o) => {
    const problems: string[] = [];
    const tiles: { figure: string; px: number }[] = [];
    const root = document.querySelector(o.root);
    if (!root) return { problems: [`no ${o.root} on the page`], tiles, minFontPx: Infinity, minFontAt: "" };
    const vw = document.documentElement.clientWidth;
    const shown = (el: Element) => el.getClientRects().length > 0;
    const r0 = (r: DOMRect) => `${Math.round(r.width)}×${Math.round(r.height)} at ${Math.round(r.left)},${Math.round(r.top)}`;
    const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 37)}…` : s);

    // --- plots ---
    type Gd = HTMLElement & { _fullLayout?: Record<string, unknown> & { title?: { text?: string }; annotations?: { text?: string; yref?: string }[] }; _fullData?: { type: string; xaxis?: string; meta?: { tile?: number[] } }[] };
    const figures = Array.from(root.querySelectorAll(".js-plotly-plot")).filter(shown) as Gd[];
    figures.forEach((gd, k) => {
      const fl = gd._fullLayout ?? {};
      const box = gd.closest(".course-plot") as HTMLElement | null;
      const spec = JSON.parse(box?.querySelector("script")?.textContent ?? "{}") as { layout?: Record<string, { range?: number[]; text?: string } | undefined> };
      const title = ((spec.layout?.title as { text?: string } | undefined)?.text || (fl.annotations ?? []).filter((a) => a.yref === "paper").map((a) => a.text ?? "").find((t) => t.length > 3) || `plot ${k + 1}`).replace(/<br>/g, " ");
      const name = `figure "${clip(title)}"`;
      const svg = gd.querySelector("svg.main-svg");
      if (!svg) return;
      const fr = svg.getBoundingClientRect();
      if (fr.right > vw + 1 || fr.left < -1) problems.push(`${name}: ${Math.round(fr.width)} px wide, sticks out of the ${vw} px window`);
      if (box && box.scrollWidth > box.clientWidth + 1) problems.push(`${name}: ${box.scrollWidth} px wide in a ${box.clientWidth} px box (scrolls sideways)`);
      const labels: { text: string; kind: string; r: DOMRect }[] = [];
      const add = (sel: string, kind: string) => {
        for (const t of Array.from(gd.querySelectorAll(sel))) {
          const text = (t.textContent ?? "").trim();
          const r = t.getBoundingClientRect();
          if (text && r.width > 0 && r.height > 0 && getComputedStyle(t).visibility !== "hidden" && getComputedStyle(t).opacity !== "0") labels.push({ text, kind, r });
        }
      };
      add("text.gtitle", "title");
      add("g.annotation text", "label");
      add("text.legendtext", "legend");
      add("g.xtick text, g.ytick text", "tick");
      add("g.g-xtitle text, g.g-ytitle text", "axis title");
      for (const l of labels) {
        const r = l.r;
        if (r.left < fr.left - 1 || r.right > fr.right + 1 || r.top < fr.top - 1 || r.bottom > fr.bottom + 1) problems.push(`${name}: ${l.kind} "${clip(l.text)}" cut off by the figure's edge (${r0(r)} in ${r0(fr)})`);
      }
      for (let i = 0; i < labels.length; i++) {
        for (let j = i + 1; j < labels.length; j++) {
          const a = labels[i].r;
          const b = labels[j].r;
          const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (w > 1.5 && h > 1.5) problems.push(`${name}: ${labels[i].kind} "${clip(labels[i].text)}" overlaps ${labels[j].kind} "${clip(labels[j].text)}"`);
        }
      }
      // axis ranges as requested (an equal-aspect constraint must not widen them)
      for (const [key, want] of Object.entries(spec.layout ?? {})) {
        const got = (fl[key] as { range?: number[] } | undefined)?.range;
        if (!/^[xy]axis\d*$/.test(key) || !want?.range || !got) continue;
        const span = Math.abs(want.range[1] - want.range[0]);
        if (Math.abs(got[0] - want.range[0]) > 0.01 * span || Math.abs(got[1] - want.range[1]) > 0.01 * span) problems.push(`${name}: ${key} shows [${got.map((v) => +v.toFixed(2)).join(", ")}] instead of the requested [${want.range.join(", ")}]`);
      }
      const legend = labels.filter((l) => l.kind === "legend").map((l) => l.text);
      for (const t of new Set(legend.filter((t, i) => legend.indexOf(t) !== i))) problems.push(`${name}: legend entry "${clip(t)}" shown twice`);
      const bar = gd.querySelector("g.legend rect.scrollbar");
      if (bar && bar.getBoundingClientRect().height > 0) problems.push(`${name}: the legend does not fit (it scrolls)`);
      // image grids: tile size from the trace's meta (lib/src/plot/image.ts), else from the caption pitch
      for (const t of gd._fullData ?? []) {
        if (t.type !== "image") continue;
        const axis = fl[`xaxis${(t.xaxis ?? "x").slice(1)}`] as { _m?: number } | undefined;
        const tile = t.meta?.tile?.[0];
        if (axis?._m && tile) tiles.push({ figure: name, px: Math.abs(axis._m) * tile });
      }
      if (!(gd._fullData ?? []).some((t) => t.type === "image" && t.meta?.tile) && gd.querySelector("g.imagelayer image")) {
        const caps = labels.filter((l) => l.kind === "label" && l.text.length > 0 && l.r.top > fr.top + 40).map((l) => l.r);
        const pitches: number[] = [];
        for (const a of caps) for (const b of caps) {
          const d = b.left + b.width / 2 - (a.left + a.width / 2);
          if (d > 2 && Math.abs(a.top - b.top) < 2) pitches.push(d);
        }
        if (pitches.length) tiles.push({ figure: name, px: Math.min(...pitches) - 2 });
      }
    });

    // --- inline math broken over lines in a table cell (in prose a formula may wrap like text) ---
    for (const m of Array.from(root.querySelectorAll("td .katex, th .katex"))) {
      if (m.closest(".katex-display") || !shown(m)) continue;
      const lines = new Set(Array.from(m.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top / 4)));
      if (lines.size > 1) problems.push(`formula "${clip((m.querySelector("annotation")?.textContent ?? "").trim())}" broken over ${lines.size} lines`);
    }

    // --- smallest effective font ---
    const scale = (el: Element) => {
      let z = 1;
      for (let a: Element | null = el; a; a = a.parentElement) z *= parseFloat((a as HTMLElement).style?.getPropertyValue("zoom") || "1") || 1;
      const reveal = (window as unknown as { Reveal?: { getScale?: () => number } }).Reveal;
      return z * (reveal?.getScale ? reveal.getScale() : 1);
    };
    let minFontPx = Infinity;
    let minFontAt = "";
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.textContent?.trim() && n.parentElement && !n.parentElement.closest("script, style, aside.notes, .js-plotly-plot, .katex, details:not([open]) > :not(summary)") ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
    });
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement as HTMLElement;
      if (!shown(el)) continue;
      const px = parseFloat(getComputedStyle(el).fontSize) * scale(el);
      if (px < minFontPx) {
        minFontPx = px;
        minFontAt = `${el.tagName.toLowerCase()}.${(el.getAttribute("class") ?? "").split(" ")[0]} "${clip((n.textContent ?? "").trim())}"`;
      }
    }
    return { problems, tiles, minFontPx, minFontAt };
  }, opts);
}
