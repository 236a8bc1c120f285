/**
 * A minimal PNG encoder (8-bit grayscale or RGB), so image grids embed in a figure as
 * `data:image/png;base64,…` without any native image library.
 *
 * Format: PNG specification (ISO/IEC 15948, W3C 2003): signature, IHDR, IDAT (zlib stream of
 * filtered scanlines), IEND; every chunk ends with a CRC-32 of its type and data.
 * Each scanline gets the filter (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) with the smallest sum of |residual|,
 * the heuristic recommended by the spec (§12.8).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { deflateSync } from "zlib";

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 (ISO 3309 / zlib polynomial 0xEDB88320) of a byte array. crc32("123456789") = 0xCBF43926.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  Buffer.from(data.buffer, data.byteOffset, data.length).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filter one scanline with PNG filter type `f` (0–4; bytes per pixel `bpp`) into `out`. */
function filterRow(f: number, cur: Uint8Array, prev: Uint8Array | null, bpp: number, out: Uint8Array): void {
  for (let i = 0; i < cur.length; i++) {
    const a = i >= bpp ? cur[i - bpp] : 0;
    const b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
    out[i] = (cur[i] - pred) & 0xff;
  }
}

/**
 * Encode 8-bit pixels as a PNG file.
 *
 * @param pixels row-major bytes, `height · width · channels` long (channel-interleaved).
 * @param channels 1 = grayscale, 3 = RGB.
 * @see notebooks/01_score_matching.ipynb
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`encodePng: width and height must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`encodePng: channels must be 1 or 3, got ${channels}`);
  const stride = width * channels;
  if (pixels.length !== stride * height) {
    throw new Error(`encodePng: expected ${stride * height} bytes for ${width}×${height}×${channels}, got ${pixels.length}`);
  }
  const raw = new Uint8Array((stride + 1) * height);
  const trial = new Uint8Array(stride);
  for (let r = 0; r < height; r++) {
    const cur = pixels.subarray(r * stride, (r + 1) * stride);
    const prev = r > 0 ? pixels.subarray((r - 1) * stride, r * stride) : null;
    let best = 0;
    let bestCost = Infinity;
    for (let f = 0; f <= 4; f++) {
      filterRow(f, cur, prev, channels, trial);
      let cost = 0;
      for (let i = 0; i < stride; i++) cost += trial[i] < 128 ? trial[i] : 256 - trial[i];
      if (cost < bestCost) { bestCost = cost; best = f; }
    }
    raw[r * (stride + 1)] = best;
    filterRow(best, cur, prev, channels, raw.subarray(r * (stride + 1) + 1, (r + 1) * (stride + 1)));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: grayscale / truecolour
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", new Uint8Array(0))]);
}

/** A PNG as a `data:` URI. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
}

/** Width and height of a PNG given as bytes or as a `data:image/png;base64,` URI (null if not a PNG). */
export function pngSize(png: Uint8Array | string): { width: number; height: number } | null {
  let bytes: Buffer;
  if (typeof png === "string") {
    const m = /^data:image\/png;base64,(.*)$/s.exec(png);
    if (!m) return null;
    bytes = Buffer.from(m[1].slice(0, 44), "base64");
  } else {
    bytes = Buffer.from(png);
  }
  if (bytes.length < 24 || bytes.readUInt32BE(0) !== 0x89504e47 || bytes.toString("ascii", 12, 16) !== "IHDR") return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
