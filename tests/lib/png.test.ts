import { inflateSync } from "zlib";
import { crc32, encodePng, pngDataUri, pngSize } from "../../lib/src/plot/png";
import { Rng } from "../../lib/src/random";

interface Decoded {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  filters: number[];
  pixels: Uint8Array;
  chunkTypes: string[];
}

/** An independent PNG reader: chunks, CRCs, IHDR, inflate, unfilter (types 0–4). */
function decode(png: Buffer): Decoded {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | null = null;
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString("ascii", off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    const crc = png.readUInt32BE(off + 8 + len);
    expect(crc).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
    chunkTypes.push(type);
    if (type === "IHDR") ihdr = data;
    if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  expect(off).toBe(png.length);
  if (!ihdr) throw new Error("no IHDR");
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const bitDepth = ihdr[8];
  const colorType = ihdr[9];
  const bpp = colorType === 2 ? 3 : 1;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  expect(raw.length).toBe((stride + 1) * height);
  const pixels = new Uint8Array(stride * height);
  const filters: number[] = [];
  for (let r = 0; r < height; r++) {
    const f = raw[r * (stride + 1)];
    filters.push(f);
    for (let i = 0; i < stride; i++) {
      const x = raw[r * (stride + 1) + 1 + i];
      const a = i >= bpp ? pixels[r * stride + i - bpp] : 0;
      const b = r > 0 ? pixels[(r - 1) * stride + i] : 0;
      const c = r > 0 && i >= bpp ? pixels[(r - 1) * stride + i - bpp] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = Math.floor((a + b) / 2);
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else expect(f).toBe(0);
      pixels[r * stride + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, bitDepth, colorType, filters, pixels, chunkTypes };
}

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(Buffer.from("123456789", "ascii"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(Buffer.from("IEND", "ascii"))).toBe(0xae426082); // the fixed CRC of every IEND chunk
  });
});

describe("encodePng", () => {
  it("encodes a known 2×2 grayscale image", () => {
    const px = Uint8Array.from([0, 255, 128, 64]);
    const png = encodePng(px, 2, 2, 1);
    const d = decode(png);
    expect(d.chunkTypes).toEqual(["IHDR", "IDAT", "IEND"]);
    expect([d.width, d.height, d.bitDepth, d.colorType]).toEqual([2, 2, 8, 0]);
    expect(Array.from(d.pixels)).toEqual([0, 255, 128, 64]);
    // the IEND chunk is always the same 12 bytes
    expect(png.subarray(png.length - 12).toString("hex")).toBe("0000000049454e44ae426082");
  });

  it("encodes a known 2×2 RGB image", () => {
    const px = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const d = decode(encodePng(px, 2, 2, 3));
    expect([d.width, d.height, d.colorType]).toEqual([2, 2, 2]);
    expect(Array.from(d.pixels)).toEqual(Array.from(px));
  });

  it("round-trips larger images whichever filters it picks", () => {
    const rng = new Rng(7);
    const w = 37, h = 23;
    // smooth gradient + noise rows: different rows prefer different filters
    const px = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w * 3; x++) px[y * w * 3 + x] = y % 5 === 0 ? rng.int(256) : (x * 3 + y * 7) & 0xff;
    const d = decode(encodePng(px, w, h, 3));
    expect(Buffer.from(d.pixels).equals(Buffer.from(px))).toBe(true);
    expect(new Set(d.filters).size).toBeGreaterThan(1);
    for (const f of d.filters) expect(f).toBeLessThanOrEqual(4);
  });

  it("rejects bad sizes and channel counts", () => {
    expect(() => encodePng(new Uint8Array(3), 2, 2, 1)).toThrow(/expected 4 bytes/);
    expect(() => encodePng(new Uint8Array(4), 0, 4, 1)).toThrow(/positive integers/);
    expect(() => encodePng(new Uint8Array(8), 2, 2, 2 as unknown as 1)).toThrow(/channels/);
  });
});

describe("pngDataUri / pngSize", () => {
  it("reads the size back from bytes and from a data URI", () => {
    const png = encodePng(new Uint8Array(5 * 3), 5, 3, 1);
    const uri = pngDataUri(png);
    expect(uri.startsWith("data:image/png;base64,iVBORw0KGgo")).toBe(true);
    expect(pngSize(png)).toEqual({ width: 5, height: 3 });
    expect(pngSize(uri)).toEqual({ width: 5, height: 3 });
    expect(pngSize("data:image/jpeg;base64,AAAA")).toBeNull();
  });
});
