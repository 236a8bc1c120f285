import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { decimateLine, roundArray, roundSig, sampleIndices } from "../../lib/src/plot/data";
import { ARROW_HEAD_FRAC, emaSmooth, lineChart, lossCurve, scatterByClass, scoreField } from "../../lib/src/plot/figure";
import { imageGrid, tileImages } from "../../lib/src/plot/image";
import { overlay, row } from "../../lib/src/plot/compose";
import { linearTicks, logTicks } from "../../lib/src/plot/ticks";
import { renderSvg } from "../../lib/src/plot/svg";
import { resolveAxes } from "../../lib/src/plot/axes";
import { PLOTLY_MIME, describeFigure, figureBundle, show } from "../../lib/src/plot/show";
import { pngSize } from "../../lib/src/plot/png";
import { PLOT_PALETTE, PlotFigure, ScatterTrace, ImageTrace } from "../../lib/src/plot/types";

beforeAll(async () => {
  await initBackend();
});

/** Tiny XML well-formedness check: balanced tags, quoted attributes, no stray `<`/`&`. */
function expectWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const textPart = xml.slice(i, lt < 0 ? xml.length : lt);
    expect(textPart).not.toMatch(/&(?!(amp|lt|gt|quot|#\d+);)/);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 80)}`);
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]);
    i = tag.lastIndex;
  }
  expect(stack).toEqual([]);
}

const scatter = (f: PlotFigure, i: number) => f.data[i] as ScatterTrace;

describe("data helpers", () => {
  it("rounds to significant digits, keeping integers and spreading digits for offset data", () => {
    expect(roundSig(3.14159265)).toBe(3.142);
    expect(roundSig(0.30000001192092896)).toBe(0.3);
    expect(roundSig(19999)).toBe(19999);
    expect(roundSig(NaN)).toBeNull();
    // spread 0.33 around 1000: 4 + ⌈log10(1000.5 / 0.33)⌉ = 8 significant digits
    expect(roundArray([1000.12345, 1000.45678])).toEqual([1000.1235, 1000.4568]);
    expect(roundSig(1000.12345)).toBe(1000);
    expect(roundArray([0.123456, -2.5, null])).toEqual([0.1235, -2.5, null]);
  });
  it("samples a seeded, sorted subset", () => {
    const a = sampleIndices(100, 10, 3);
    expect(a.length).toBe(10);
    expect(Array.from(a)).toEqual(Array.from(a).sort((x, y) => x - y));
    expect(new Set(a).size).toBe(10);
    expect(Array.from(sampleIndices(100, 10, 3))).toEqual(Array.from(a));
    expect(Array.from(sampleIndices(3, 10))).toEqual([0, 1, 2]);
  });
  it("decimates long lines but keeps spikes", () => {
    const x = Array.from({ length: 10000 }, (_, i) => i);
    const y = x.map((i) => (i === 4321 ? 100 : Math.sin(i / 100)));
    const d = decimateLine(x, y, 1000);
    expect(d.x.length).toBeLessThanOrEqual(1000);
    expect(d.y).toContain(100);
    expect(d.x[0]).toBe(0);
  });
});

describe("scatterByClass", () => {
  const pts = [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]];
  const labels = [2, 0, 2, 0, 2];
  it("groups points by label, one trace per class with the shared palette", () => {
    const f = scatterByClass(pts, labels, { title: "T", classNames: ["a", "b", "c"] });
    expect(f.data.map((t) => t.name)).toEqual(["a", "c"]);
    expect(scatter(f, 0).x).toEqual([1, 3]);
    expect(scatter(f, 1).y).toEqual([0, 2, 4]);
    expect(scatter(f, 0).marker?.color).toBe(PLOT_PALETTE[0]);
    expect(scatter(f, 1).marker?.color).toBe(PLOT_PALETTE[2]);
    expect(scatter(f, 1).mode).toBe("markers");
    expect(f.layout.title?.text).toBe("T");
    expect(f.layout.showlegend).toBe(true);
  });
  it("reads tensors and flat Float32Arrays the same way, without leaking", () => {
    const before = tf.memory().numTensors;
    const t = tf.tensor2d(pts);
    const lt = tf.tensor1d(labels, "int32");
    const a = scatterByClass(t, lt);
    t.dispose();
    lt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const b = scatterByClass(Float32Array.from(pts.flat()), Int32Array.from(labels));
    expect(a).toEqual(scatterByClass(pts, labels));
    expect(b).toEqual(a);
  });
  it("without labels draws one trace and no legend; options set axes", () => {
    const f = scatterByClass(pts, undefined, { name: "x0", equalAspect: true, xRange: [-1, 5], yRange: [-2, 6] });
    expect(f.data.length).toBe(1);
    expect(f.data[0].name).toBe("x0");
    expect(f.layout.showlegend).toBe(false);
    expect(f.layout.yaxis?.scaleanchor).toBe("x");
    expect(f.layout.xaxis?.range).toEqual([-1, 5]);
    expect(f.layout.yaxis?.range).toEqual([-2, 6]);
  });
  it("caps the number of points with a seeded subset", () => {
    const many = Array.from({ length: 5000 }, (_, i) => [i, -i]);
    const f = scatterByClass(many, undefined, { maxPoints: 3000 });
    expect(scatter(f, 0).x.length).toBe(3000);
    expect(scatterByClass(many, undefined, { maxPoints: 3000 })).toEqual(f);
  });
  it("rejects bad shapes and labels", () => {
    expect(() => scatterByClass([[1, 2, 3]])).toThrow(/row 0 has 3 entries/);
    expect(() => scatterByClass(pts, [0, 1])).toThrow(/expected 5 labels/);
    expect(() => scatterByClass(pts, [0, 1, -1, 0, 0])).toThrow(/entry 2/);
    const t = tf.zeros([3, 3]);
    expect(() => scatterByClass(t)).toThrow(/\[n, 2\] tensor/);
    t.dispose();
  });
});

describe("scoreField", () => {
  it("draws shaft and two head strokes for a known vector", () => {
    const f = scoreField([[0, 0]], [[1, 0]], { scale: 1 });
    const t = scatter(f, 0);
    const back = 1 - ARROW_HEAD_FRAC * Math.cos((25 * Math.PI) / 180); // 0.7281
    const side = ARROW_HEAD_FRAC * Math.sin((25 * Math.PI) / 180); // 0.1268
    expect(t.mode).toBe("lines");
    expect(t.x.length).toBe(6);
    expect(t.x[5]).toBeNull();
    expect(t.y[5]).toBeNull();
    const ex = [0, 1, back, 1, back];
    const ey = [0, 0, side, 0, -side];
    ex.forEach((v, i) => expect(t.x[i]).toBeCloseTo(v, 3));
    ey.forEach((v, i) => expect(t.y[i]).toBeCloseTo(v, 3));
    expect(f.layout.yaxis?.scaleanchor).toBe("x");
  });
  it("auto-scales the longest arrow to 0.9 grid spacings, normalises on request, skips zeros", () => {
    const grid = [[0, 0], [1, 0], [0, 1], [1, 1]]; // spacing 1/√(4)·… = √(1/4) = 0.5
    const vec = [[2, 0], [0, 1], [0, 0], [0, -0.5]];
    const t = scatter(scoreField(grid, vec), 0);
    expect(t.x.length).toBe(3 * 6); // the zero vector draws nothing
    expect(t.x[1]).toBeCloseTo(0.45, 4); // 2 · (0.9 · 0.5 / 2)
    const n = scatter(scoreField(grid, vec, { normalize: true }), 0);
    const len = (k: number) => Math.hypot((n.x[6 * k + 1] as number) - (n.x[6 * k] as number), (n.y[6 * k + 1] as number) - (n.y[6 * k] as number));
    expect(len(0)).toBeCloseTo(0.45, 3);
    expect(len(1)).toBeCloseTo(0.45, 3);
    expect(len(2)).toBeCloseTo(0.45, 3);
  });
  it("rejects mismatched inputs", () => {
    expect(() => scoreField([[0, 0]], [[1, 0], [0, 1]])).toThrow(/1 points but 2 vectors/);
  });
});

describe("lineChart / lossCurve / emaSmooth", () => {
  it("builds one lines trace per series with log axes and dashes", () => {
    const f = lineChart([{ name: "a", x: [1, 10, 100], y: [3, 2, 1] }, { name: "b", x: [1, 10], y: [1, 2], dash: "dash" }], { xLabel: "steps", logX: true, logY: true, title: "T" });
    expect(f.data.map((t) => t.name)).toEqual(["a", "b"]);
    expect(scatter(f, 1).line).toEqual({ color: PLOT_PALETTE[1], width: 2, dash: "dash" });
    expect(f.layout.xaxis?.type).toBe("log");
    expect(f.layout.yaxis?.type).toBe("log");
    expect(f.layout.xaxis?.title?.text).toBe("steps");
    expect(() => lineChart([{ name: "bad", x: [1, 2], y: [1] }])).toThrow(/"bad" has 2 x but 1 y/);
  });
  it("smooths with a bias-corrected EMA", () => {
    const s = emaSmooth([1, 2, 3], 0.5);
    expect(s[0]).toBeCloseTo(1, 10);
    expect(s[1]).toBeCloseTo(1.25 / 0.75, 10);
    expect(s[2]).toBeCloseTo(2.125 / 0.875, 10);
    expect(emaSmooth([5, 5, 5], 0.9)).toEqual([5, 5, 5].map((v) => expect.closeTo(v, 10)));
    expect(() => emaSmooth([1], 1)).toThrow(/\[0, 1\)/);
  });
  it("lossCurve draws raw + smoothed lines when smoothing > 0", () => {
    const h = [{ step: 0, loss: 1 }, { step: 1, loss: 2 }, { step: 2, loss: 3 }];
    const plain = lossCurve(h);
    expect(plain.data.length).toBe(1);
    expect(plain.layout.yaxis?.title?.text).toBe("loss");
    const sm = lossCurve(h, { smoothing: 0.5 });
    expect(sm.data.map((t) => t.name)).toEqual(["loss (raw)", "loss (EMA 0.5)"]);
    expect(scatter(sm, 1).y[2]).toBeCloseTo(2.429, 3);
  });
});

describe("ticks", () => {
  it("gives nice linear ticks", () => {
    expect(linearTicks(0, 1, 5).map((t) => t.label)).toEqual(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    expect(linearTicks(-2.3, 2.3, 4).map((t) => t.label)).toEqual(["\u22122", "\u22121", "0", "1", "2"]);
    expect(linearTicks(0, 20000, 4).map((t) => t.label)).toEqual(["0", "5k", "10k", "15k", "20k"]);
  });
  it("gives decade (or 1-2-5) ticks on log axes, positions in log10 units", () => {
    expect(logTicks(0, 3).map((t) => t.label)).toEqual(["1", "10", "100", "1000"]);
    expect(logTicks(-4, 2).map((t) => t.label)).toEqual(["1e\u22124", "0.001", "0.01", "0.1", "1", "10", "100"]);
    const t = logTicks(0, 1.7);
    expect(t.map((x) => x.label)).toEqual(["1", "2", "5", "10", "20", "50"]);
    expect(t[1].pos).toBeCloseTo(Math.log10(2), 10);
  });
});

describe("imageGrid", () => {
  it("tiles a [N, H, W, C] tensor into one PNG image trace", () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor4d([0, 1, 0.5, 0.25, 1, 1, 1, 1], [2, 2, 2, 1]);
    const f = imageGrid(x, { scale: 1, title: "S", labels: ["a", "b"] });
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const img = f.data[0] as ImageTrace;
    expect(img.type).toBe("image");
    // width = pad + 2·(2 + pad), height = pad + (2 + pad + label band of one 13 px line + 4)
    expect(pngSize(img.source)).toEqual({ width: 10, height: 23 });
    expect(f.layout.yaxis?.range).toEqual([22.5, -0.5]);
    expect(f.layout.annotations?.map((a) => [a.text, a.x])).toEqual([["a", 2.5], ["b", 6.5]]);
    expect(img.meta).toEqual({ tile: [2, 2] });
  });
  it("wraps captions to the tile width and makes room for the longest", () => {
    const f = imageGrid({ data: new Float32Array(3 * 16 * 16), shape: [3, 16, 16, 1] }, { cols: 3, scale: 4, labels: ["magenta pullover", "blue trousers", "a"] });
    const notes = f.layout.annotations ?? [];
    expect(notes.map((a) => a.text)).toEqual(["magenta<br>pullover", "blue<br>trousers", "a"]);
    // no caption is wider than its 64 px tile, so neighbours cannot overlap
    for (const a of notes) for (const line of a.text.split("<br>")) expect(line.length * 11 * 0.58).toBeLessThanOrEqual(64);
    expect(pngSize((f.data[0] as ImageTrace).source)?.height).toBe(2 + 64 + 2 + 2 * 13 + 4);
  });
  it("keeps tiles at least 48 px by default", () => {
    const f = imageGrid({ data: new Float32Array(20 * 16 * 16), shape: [20, 16, 16, 1] }, { cols: 20 });
    expect((f.data[0] as ImageTrace).meta?.tile[0]).toBeGreaterThanOrEqual(48);
  });
  it("maps the value range to bytes, tile by tile", () => {
    const { pixels, width, height } = tileImages({ data: Float32Array.from([-1, 0, 1, 0.5]), shape: [1, 2, 2, 1] }, 1, [-1, 1], 2, 0);
    expect([width, height]).toEqual([8, 8]);
    const at = (x: number, y: number) => pixels[y * width + x];
    expect([at(2, 2), at(3, 3), at(4, 2), at(2, 4), at(5, 5), at(0, 0)]).toEqual([0, 0, 128, 255, 191, 255]);
  });
  it("validates its input", () => {
    expect(() => imageGrid({ data: new Float32Array(8), shape: [1, 2, 2, 2] })).toThrow(/channels must be 1 or 3/);
    expect(() => imageGrid({ data: new Float32Array(3), shape: [1, 2, 2, 1] })).toThrow(/data has 3 values/);
    expect(() => imageGrid({ data: new Float32Array(4), shape: [1, 2, 2, 1] }, { labels: ["a", "b"] })).toThrow(/2 labels for 1 images/);
  });
});

describe("overlay and row", () => {
  const a = scatterByClass([[0, 0], [1, 1]], [0, 1], { title: "data", equalAspect: true });
  const b = scoreField([[0, 0], [1, 0]], [[1, 0], [0, 1]], { title: "score" });
  it("overlay merges traces onto one pair of axes", () => {
    const f = overlay(a, b);
    expect(f.data.length).toBe(3);
    expect(f.data.every((t) => t.xaxis === undefined && t.yaxis === undefined)).toBe(true);
    expect(f.layout.title?.text).toBe("data");
    expect(f.layout.showlegend).toBe(true);
  });
  it("row places panels side by side with split domains and panel-title annotations", () => {
    const f = row([a, b, a], { title: "three" });
    expect(f.layout.width).toBe(60 + 20 + 3 * 300 + 2 * 64);
    const plotW = f.layout.width! - 60 - 20;
    const gap = 64 / plotW;
    const pf = (1 - 2 * gap) / 3;
    expect(f.layout.xaxis?.domain?.[1]).toBeCloseTo(pf, 10);
    expect(f.layout.xaxis2?.domain?.[0]).toBeCloseTo(pf + gap, 10);
    expect(f.layout.xaxis3?.domain?.[1]).toBeCloseTo(1, 10);
    expect(f.layout.yaxis2?.domain).toEqual([0, 1]);
    expect(f.layout.xaxis2?.anchor).toBe("y2");
    expect(f.layout.yaxis3?.scaleanchor).toBe("x3");
    expect(f.data.map((t) => `${t.xaxis}/${t.yaxis}`)).toEqual(["x/y", "x/y", "x2/y2", "x3/y3", "x3/y3"]);
    expect(f.layout.annotations?.map((n) => n.text)).toEqual(["data", "score", "data"]);
    expect(f.layout.annotations?.[1].x).toBeCloseTo(0.5, 10);
    // repeated classes in the third panel are not listed again
    expect(f.data.map((t) => (t as ScatterTrace).showlegend)).toEqual([undefined, undefined, undefined, false, false]);
    expect(f.layout.legend).toMatchObject({ orientation: "h", yref: "container", yanchor: "bottom" });
    expect(f.layout.meta?.panels?.map((p) => [p.x, p.y, p.title])).toEqual([[["x"], ["y"], 0], [["x2"], ["y2"], 1], [["x3"], ["y3"], 2]]);
    expect(describeFigure(f)).toBe("[plot] three (3 panels, 5 traces)");
  });
  it("row shows a series repeated across panels (same name and colour) once, and wraps long panel titles", () => {
    const long = "Fidelity against diversity (one point per guidance scale)";
    const f = row([
      lineChart([{ name: "GLIDE", x: [0, 1], y: [0, 1] }, { name: "unCLIP", x: [0, 1], y: [1, 0] }], { title: long }),
      lineChart([{ name: "GLIDE", x: [0, 1], y: [0, 1] }, { name: "unCLIP", x: [0, 1], y: [1, 0] }], { title: "FID" }),
      scoreField([[0, 0]], [[1, 0]], { title: "s" }),
      scoreField([[0, 0]], [[1, 0]], { title: "s" }),
    ]);
    const shown = f.data.filter((t) => (t as ScatterTrace).showlegend !== false).map((t) => t.name);
    expect(shown).toEqual(["GLIDE", "unCLIP", "score"]);
    expect(f.data.filter((t) => t.name === "GLIDE").map((t) => (t as ScatterTrace).legendgroup)).toEqual(["GLIDE", "GLIDE"]);
    const title = f.layout.annotations![0].text;
    expect(title.split("<br>").length).toBeGreaterThan(1);
    expect(title.replace(/<br>/g, " ")).toBe(long);
    for (const line of title.split("<br>")) expect(line.length * 14 * 0.58).toBeLessThanOrEqual(300);
    expect(f.layout.margin!.t).toBeGreaterThanOrEqual(title.split("<br>").length * 18);
  });
  it("row of image grids: each panel as wide as its grid, so tiles keep their size", () => {
    const g = (cols: number) => imageGrid({ data: new Float32Array(10 * 16 * 16), shape: [10, 16, 16, 1] }, { cols, scale: 4, title: "grid" });
    const f = row([g(5), g(2)]);
    const w = [g(5), g(2)].map((x) => x.layout.width! - 16);
    expect(f.layout.width).toBe(8 + 8 + w[0] + w[1] + 24);
    const px = (d: [number, number] | undefined) => (d![1] - d![0]) * (f.layout.width! - 16);
    expect(px(f.layout.xaxis?.domain)).toBeCloseTo(w[0], 6);
    expect(px(f.layout.xaxis2?.domain)).toBeCloseTo(w[1], 6);
  });
  it("equal aspect with both ranges given keeps the ranges (the plotting area shrinks instead)", () => {
    const f = scatterByClass([[0, 0]], undefined, { equalAspect: true, xRange: [-6, 6], yRange: [-6, 6] });
    expect([f.layout.xaxis?.constrain, f.layout.yaxis?.constrain]).toEqual(["domain", "domain"]);
    const panels = row([f, f, f, f, f]);
    const frames = resolveAxes(panels, { left: 60, right: panels.layout.width! - 20, top: panels.layout.margin!.t, bottom: panels.layout.height! - panels.layout.margin!.b });
    for (const id of ["y", "y5", "x3"]) expect(frames.get(id)?.range).toEqual([-6, 6]);
  });
});

describe("renderSvg", () => {
  const fig = row([
    scatterByClass([[0, 0], [1, 2], [2, 1]], [0, 1, 1], { title: "pts <script>alert(1)</script>", classNames: ["a&b", "c"] }),
    lineChart([{ name: "l", x: [1, 10, 100, 1000], y: [1, 0.1, 0.01, 0.001], dash: "dot" }], { logX: true, logY: true, yLabel: "err" }),
    imageGrid({ data: new Float32Array(2 * 3 * 3), shape: [2, 3, 3, 1] }),
  ]);
  it("is well-formed and deterministic", () => {
    const svg = renderSvg(fig);
    expectWellFormed(svg);
    expect(renderSvg(JSON.parse(JSON.stringify(fig)))).toBe(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });
  it("draws markers, lines with dashes, log tick labels, images and a legend", () => {
    const svg = renderSvg(fig);
    expect((svg.match(/<circle /g) ?? []).length).toBe(3 + 2); // 3 markers + 2 legend swatches
    expect(svg).toMatch(/<path d="M[^"]*" fill="none" stroke="#4e79a7" stroke-width="2"[^>]*stroke-dasharray="3,3"/);
    for (const label of [">1000<", ">0.001<", ">err<"]) expect(svg).toContain(label);
    expect(svg).toContain('<image x="');
    expect(svg).toContain("a&amp;b");
  });
  it("escapes text", () => {
    const svg = renderSvg(fig);
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("pts &lt;script&gt;alert(1)&lt;/script&gt;");
  });
  it("keeps equal aspect: one px per unit on both axes", () => {
    const f = scatterByClass([[0, 0], [10, 1]], undefined, { equalAspect: true, xRange: [0, 10], yRange: [0, 1] });
    const svg = renderSvg(f);
    const [c0, c1] = Array.from(svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)).map((m) => [Number(m[1]), Number(m[2])]);
    const pxPerUnitX = (c1[0] - c0[0]) / 10;
    const pxPerUnitY = (c0[1] - c1[1]) / 1;
    expect(pxPerUnitY).toBeCloseTo(pxPerUnitX, 0);
  });
  it("gives different figures different clip-path ids", () => {
    const id = (s: string) => /clipPath id="([^"]+)"/.exec(s)?.[1];
    expect(id(renderSvg(scatterByClass([[0, 0]])))).not.toBe(id(renderSvg(scatterByClass([[1, 0]]))));
  });
});

describe("figureBundle / show", () => {
  const fig = scatterByClass([[0, 0], [1, 1]], [0, 1], { title: "</script><b>x</b>" });
  it("bundles plotly JSON, static HTML with embedded JSON, and a text line", () => {
    const b = figureBundle(fig);
    expect(Object.keys(b).sort()).toEqual([PLOTLY_MIME, "text/html", "text/plain"].sort());
    expect(b[PLOTLY_MIME]).toEqual(fig);
    const html = b["text/html"] as string;
    const m = /<script type="application\/vnd\.plotly\.v1\+json" class="course-plot">([\s\S]*?)<\/script>/.exec(html);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1])).toEqual(fig);
    expect((html.match(/<\/script>/g) ?? []).length).toBe(1); // the title's </script> is escaped
    expect(html.match(/https?:\/\/[^\s"']*/g)).toEqual(["http://www.w3.org/2000/svg"]); // no CDN, no network
    expect(b["text/plain"]).toBe("[plot] </script><b>x</b> (1 panel, 2 traces)");
  });
  it("prints the text line outside a notebook", () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      show(fig);
      expect(log).toHaveBeenCalledWith("[plot] </script><b>x</b> (1 panel, 2 traces)");
    } finally {
      log.mockRestore();
    }
  });
});
