/**
 * Image grids: a batch of images [N, H, W, C] tiled into one PNG and shown as a plotly image
 * trace, e.g. samples x0 ~ p_θ from a diffusion model (Ho et al. 2020), with optional labels.
 *
 * | code    | meaning                                                  |
 * |---------|----------------------------------------------------------|
 * | `range` | [lo, hi] of pixel values mapped to black … white         |
 * | `scale` | integer upscaling factor (pixel replication, no blur)    |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import type * as tf from "@tensorflow/tfjs";
import { isTensor } from "./data";
import { encodePng, pngDataUri } from "./png";
import { PlotFigure, Annotation, Layout } from "./types";
import { wrapText } from "./text";

/** A batch of images in NHWC layout, as a plain typed array. */
export interface ImageBatch {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** Tiles per row (default ⌈√N⌉). */
  cols?: number;
  /** Value range mapped to 0…255. Default: [0, 1] if all values lie in it, else [−1, 1] if they do, else [min, max]. */
  range?: [number, number];
  title?: string;
  /** One caption per image, drawn under its tile (wrapped to the tile's width). */
  labels?: string[];
  /** Integer upscaling factor (default: tiles about 48–64 px wide, grid ≤ ~520 px, so a grid fits a page, or a phone at a readable size). */
  scale?: number;
}

const PAD = 2; // px of white between tiles (after scaling)
/** Caption font size and line height, px. */
export const CAPTION_FONT = 11;
const CAPTION_LINE = 13;

function defaultRange(data: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < lo) lo = data[i];
    if (data[i] > hi) hi = data[i];
  }
  if (lo >= 0 && hi <= 1) return [0, 1];
  if (lo >= -1 && hi <= 1) return [-1, 1];
  return lo < hi ? [lo, hi] : [lo - 1, lo + 1];
}

/**
 * Tile images into one RGB/grayscale pixel buffer (white background), values clipped to `range`.
 * Returns the bytes and the size; tile k's top-left corner is at
 * (PAD + col·(W·scale + PAD), PAD + row·(H·scale + PAD + band)).
 */
export function tileImages(batch: ImageBatch, cols: number, range: [number, number], scale: number, band: number): { pixels: Uint8Array; width: number; height: number } {
  const [n, h, w, c] = batch.shape;
  const rows = Math.ceil(n / cols);
  const tw = w * scale;
  const th = h * scale;
  const width = PAD + cols * (tw + PAD);
  const height = PAD + rows * (th + PAD + band);
  const pixels = new Uint8Array(width * height * c).fill(255);
  const [lo, hi] = range;
  for (let k = 0; k < n; k++) {
    const ox = PAD + (k % cols) * (tw + PAD);
    const oy = PAD + Math.floor(k / cols) * (th + PAD + band);
    for (let py = 0; py < th; py++) {
      const sy = Math.floor(py / scale);
      for (let px = 0; px < tw; px++) {
        const sx = Math.floor(px / scale);
        for (let ch = 0; ch < c; ch++) {
          const v = batch.data[((k * h + sy) * w + sx) * c + ch];
          const u = Math.round((255 * (v - lo)) / (hi - lo));
          pixels[((oy + py) * width + ox + px) * c + ch] = Number.isFinite(u) ? Math.min(255, Math.max(0, u)) : 0;
        }
      }
    }
  }
  return { pixels, width, height };
}

/**
 * A grid of images as one figure (a single PNG image trace, equal aspect, hidden axes).
 *
 * @example imageGrid(samples, { cols: 8, range: [-1, 1], title: "DDPM samples" })  // samples: [N, H, W, C]
 * @see notebooks/01_score_matching.ipynb
 */
export function imageGrid(images: tf.Tensor | ImageBatch, opts: ImageGridOptions = {}): PlotFigure {
  let batch: ImageBatch;
  if (isTensor(images)) {
    if (images.rank !== 4) throw new Error(`imageGrid: expected a [N, H, W, C] tensor, got shape [${images.shape.join(", ")}]`);
    batch = { data: Float32Array.from(images.dataSync() as ArrayLike<number>), shape: images.shape as [number, number, number, number] };
  } else {
    batch = images;
  }
  const [n, h, w, c] = batch.shape;
  if (!(n >= 1 && h >= 1 && w >= 1)) throw new Error(`imageGrid: empty batch, shape [${batch.shape.join(", ")}]`);
  if (c !== 1 && c !== 3) throw new Error(`imageGrid: channels must be 1 or 3, got ${c}`);
  if (batch.data.length !== n * h * w * c) throw new Error(`imageGrid: data has ${batch.data.length} values, shape needs ${n * h * w * c}`);
  if (opts.labels && opts.labels.length !== n) throw new Error(`imageGrid: ${opts.labels.length} labels for ${n} images`);
  const cols = Math.max(1, Math.min(n, opts.cols ?? Math.ceil(Math.sqrt(n))));
  const range = opts.range ?? defaultRange(batch.data);
  if (!(range[1] > range[0])) throw new Error(`imageGrid: range must be [lo, hi] with hi > lo, got [${range.join(", ")}]`);
  const autoScale = Math.max(1, Math.min(8, Math.floor(64 / Math.max(h, w)), Math.max(Math.floor(520 / (cols * w)), Math.ceil(48 / Math.max(h, w)))));
  const scale = opts.scale ?? autoScale;
  if (!(Number.isInteger(scale) && scale >= 1)) throw new Error(`imageGrid: scale must be a positive integer, got ${scale}`);
  const tw = w * scale;
  // Captions wrap to the tile's width; the band under each row holds the longest one.
  const captions = (opts.labels ?? []).map((t) => wrapText(t, tw, CAPTION_FONT));
  const lines = Math.max(0, ...captions.map((c) => (c.length === 0 ? 0 : c.length)));
  const band = opts.labels && lines > 0 ? lines * CAPTION_LINE + 4 : 0;
  const tiled = tileImages(batch, cols, range, scale, band);
  const png = encodePng(tiled.pixels, tiled.width, tiled.height, c);

  const annotations: Annotation[] = captions.flatMap((c, k) => (c.length === 0 ? [] : [{
    text: c.join("<br>"), showarrow: false as const, xref: "x" as const, yref: "y" as const, xanchor: "center" as const, yanchor: "top" as const, font: { size: CAPTION_FONT },
    x: PAD + (k % cols) * (tw + PAD) + tw / 2 - 0.5,
    y: PAD + Math.floor(k / cols) * (h * scale + PAD + band) + h * scale + 1,
  }]));
  const titleLines = opts.title ? wrapText(opts.title, Math.max(tiled.width, 160), 16) : [];
  const top = opts.title ? 24 + 20 * titleLines.length : 8;
  const layout: Layout = {
    width: Math.max(tiled.width + 16, 160),
    height: tiled.height + top + 8,
    margin: { l: 8, r: 8, t: top, b: 8 },
    showlegend: false,
    xaxis: { visible: false, range: [-0.5, tiled.width - 0.5], constrain: "domain" },
    yaxis: { visible: false, range: [tiled.height - 0.5, -0.5], scaleanchor: "x", scaleratio: 1, constrain: "domain" },
    plot_bgcolor: "white",
    paper_bgcolor: "white",
  };
  if (opts.title) layout.title = { text: titleLines.join("<br>") };
  if (annotations.length) layout.annotations = annotations;
  return { data: [{ type: "image", source: pngDataUri(png), x0: 0, y0: 0, dx: 1, dy: 1, hoverinfo: "skip", meta: { tile: [tw, h * scale] } }], layout };
}
