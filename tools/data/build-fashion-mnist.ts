/**
 * `npm run data:fashion-mnist [-- options]`: derive the shipped 16×16 Fashion-MNIST subset in
 * datasets/fashion-mnist/ from Debian's `dataset-fashion-mnist` package (Xiao, Rasul & Vollgraf
 * 2017, MIT licence, Zalando SE). Nothing is downloaded; the build is deterministic: the same
 * source and options give the same bytes (manifest.json included) on every run.
 *
 *   apt-get install dataset-fashion-mnist      # /usr/share/datasets/fashion-mnist/*.gz
 *   npm run data:fashion-mnist                 # rewrite datasets/fashion-mnist/ (~2 s)
 *   npm run data:fashion-mnist -- --out /tmp/fm --with-32
 *
 * Derivation (also written into manifest.json and datasets/fashion-mnist/README.md):
 *   1. Read the gzipped IDX files (LeCun's MNIST format: big-endian header, uint8 pixels).
 *   2. Select, per split and class c, `perClass` source images: the class's indices in source
 *      order, shuffled with `new Rng(seed).fork("<split>/class-<c>")`, first `perClass` kept.
 *   3. Order them in blocks of 10, one image per class, the classes of block b in the order
 *      `fork("<split>/order").permutation(10)` (b-th draw), so every 10k-prefix is balanced.
 *   4. Area-resample each 28×28 image to 16×16 ({@link areaResample}); optionally also keep
 *      the original zero-padded to 32×32 (--with-32, off by default, not shipped).
 *   5. Write uint8 images, uint8 labels, uint16-LE source indices, then manifest.json (sha256s).
 *
 * Exit codes: 0 ok, 1 build failed (e.g. the package is not installed), 2 bad command line.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { gunzipSync } from "zlib";
import { UsageError, dataCommand } from "./cli";
import {
  Rng, writeFileAtomic, FASHION_MNIST_CLASSES, FASHION_MNIST_FORMAT, FASHION_MNIST_SIZE, FASHION_MNIST_VERSION,
  FashionMnistManifest, FashionMnistSplit, FashionMnistSplitFiles, fashionMnistDir, sha256Hex,
} from "@course/lib";

/** Where Debian's package puts the IDX files. */
export const DEBIAN_SOURCE = "/usr/share/datasets/fashion-mnist";
export const DEBIAN_PACKAGE = "dataset-fashion-mnist";
const SRC_SIZE = 28;
const PAD_SIZE = 32;
const SOURCE_FILES: Record<FashionMnistSplit, { images: string; labels: string }> = {
  train: { images: "train-images-idx3-ubyte.gz", labels: "train-labels-idx1-ubyte.gz" },
  test: { images: "t10k-images-idx3-ubyte.gz", labels: "t10k-labels-idx1-ubyte.gz" },
};

/** Options of {@link buildFashionMnist} (and the command line). */
export interface BuildOptions {
  source: string;
  out: string;
  seed: number;
  perClass: Record<FashionMnistSplit, number>;
  with32: boolean;
}

/** The defaults: 3,000 train and 500 test images per class, seed 0, into datasets/fashion-mnist. */
export function defaultBuildOptions(): BuildOptions {
  return { source: DEBIAN_SOURCE, out: fashionMnistDir(), seed: 0, perClass: { train: 3000, test: 500 }, with32: false };
}

export { UsageError };

export const USAGE = `Usage: npm run data:fashion-mnist -- [--source DIR] [--out DIR] [--seed S]
                                    [--train-per-class N] [--test-per-class N] [--with-32]

Derives the 16×16 Fashion-MNIST subset (datasets/fashion-mnist) from Debian's
${DEBIAN_PACKAGE} package (apt-get install ${DEBIAN_PACKAGE}).

Options:
  --source DIR          folder with the gzipped IDX files (default ${DEBIAN_SOURCE})
  --out DIR             output folder (default datasets/fashion-mnist, or $COURSE_DATASETS/fashion-mnist)
  --seed S              selection and order seed (default 0)
  --train-per-class N   train images per class (default 3000, at most 6000)
  --test-per-class N    test images per class (default 500, at most 1000)
  --with-32             also write the 28×28 originals zero-padded to 32×32 (not shipped)
  -h, --help            show this help`;

/** An IDX array (LeCun et al. 1998's MNIST file format), uint8 data only. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parse an (uncompressed) IDX file of unsigned bytes: magic 0x0000 08 <ndim>, big-endian dims. */
export function parseIdx(buf: Uint8Array, name = "IDX"): IdxArray {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new Error(`${name}: not an IDX file (bad magic)`);
  if (buf[2] !== 0x08) throw new Error(`${name}: IDX type 0x${buf[2].toString(16)} is not unsigned byte (0x08)`);
  const ndim = buf[3];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4 + 4 * ndim) throw new Error(`${name}: truncated IDX header`);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * ndim;
  if (buf.length - start !== size) throw new Error(`${name}: IDX body has ${buf.length - start} bytes, dims [${dims.join(", ")}] need ${size}`);
  return { dims, data: buf.subarray(start) };
}

/**
 * Box-filter weights for resampling `src` pixels to `dst`: output j covers the source interval
 * [j·src/dst, (j+1)·src/dst); each entry is [source index, overlap], overlaps in units of
 * 1/dst source pixel, so the weights of every output sum to `src` exactly (integers).
 */
export function areaWeights(src: number, dst: number): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  for (let j = 0; j < dst; j++) {
    const lo = j * src;
    const hi = (j + 1) * src;
    const row: Array<[number, number]> = [];
    for (let i = Math.floor(lo / dst); i * dst < hi; i++) {
      const w = Math.min(hi, (i + 1) * dst) - Math.max(lo, i * dst);
      if (w > 0) row.push([i, w]);
    }
    out.push(row);
  }
  return out;
}

/**
 * Area (box) resample of one square uint8 image `src`×`src` → `dst`×`dst`: each output pixel is
 * the exact area-weighted mean of the source pixels its square covers, rounded half up, in
 * integer arithmetic (so every platform gives the same bytes).
 */
export function areaResample(img: Uint8Array, src: number, dst: number): Uint8Array {
  if (img.length !== src * src) throw new Error(`areaResample: expected ${src * src} pixels, got ${img.length}`);
  const w = areaWeights(src, dst);
  const denom = src * src; // Σ w_y·w_x over one output pixel
  const out = new Uint8Array(dst * dst);
  for (let y = 0; y < dst; y++) {
    for (let x = 0; x < dst; x++) {
      let s = 0;
      for (const [sy, wy] of w[y]) for (const [sx, wx] of w[x]) s += wy * wx * img[sy * src + sx];
      out[y * dst + x] = Math.floor((2 * s + denom) / (2 * denom));
    }
  }
  return out;
}

/** Zero-pad a square uint8 image `src`×`src` to `dst`×`dst`, centred. */
export function padImage(img: Uint8Array, src: number, dst: number): Uint8Array {
  const off = (dst - src) / 2;
  if (!Number.isInteger(off) || off < 0) throw new Error(`padImage: cannot centre ${src} in ${dst}`);
  const out = new Uint8Array(dst * dst);
  for (let y = 0; y < src; y++) out.set(img.subarray(y * src, (y + 1) * src), (y + off) * dst + off);
  return out;
}

/**
 * The class-balanced, seeded selection of a split, in block order (steps 2–3 of the header):
 * `perClass` source indices of each class, as numClasses·perClass indices.
 */
export function balancedSelection(labels: Uint8Array, perClass: number, numClasses: number, rng: Rng, split: string): Int32Array {
  const picks: Int32Array[] = [];
  for (let c = 0; c < numClasses; c++) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) idx.push(i);
    if (idx.length < perClass) throw new Error(`${split}: class ${c} has ${idx.length} images, fewer than ${perClass} requested`);
    picks.push(Int32Array.from(rng.fork(`${split}/class-${c}`).shuffle(idx) as number[]).subarray(0, perClass));
  }
  const order = rng.fork(`${split}/order`);
  const out = new Int32Array(numClasses * perClass);
  for (let b = 0, k = 0; b < perClass; b++) {
    for (const c of order.permutation(numClasses)) out[k++] = picks[c][b];
  }
  return out;
}

function readIdxGz(dir: string, name: string): { idx: IdxArray; sha256: string } {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing; install Debian's ${DEBIAN_PACKAGE} (apt-get install ${DEBIAN_PACKAGE}) or pass --source DIR`);
  }
  const gz = fs.readFileSync(file);
  return { idx: parseIdx(gunzipSync(gz), name), sha256: sha256Hex(gz) };
}

/** The installed version of the Debian package, or null where dpkg does not know it. */
function debianVersion(): string | null {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Version}", DEBIAN_PACKAGE], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : null;
}

/** Derive the dataset into `opts.out` (created if needed) and return the manifest written. */
export function buildFashionMnist(opts: BuildOptions): FashionMnistManifest {
  const rng = new Rng(opts.seed);
  const px = FASHION_MNIST_SIZE * FASHION_MNIST_SIZE;
  const outputs: Array<[string, Uint8Array]> = [];
  const sourceSha: Record<string, string> = {};
  const files = {} as Record<FashionMnistSplit, FashionMnistSplitFiles>;
  const counts = {} as Record<FashionMnistSplit, number>;
  for (const split of ["train", "test"] as const) {
    const imgs = readIdxGz(opts.source, SOURCE_FILES[split].images);
    const labs = readIdxGz(opts.source, SOURCE_FILES[split].labels);
    sourceSha[SOURCE_FILES[split].images] = imgs.sha256;
    sourceSha[SOURCE_FILES[split].labels] = labs.sha256;
    const [n, h, w] = imgs.idx.dims;
    if (imgs.idx.dims.length !== 3 || h !== SRC_SIZE || w !== SRC_SIZE) throw new Error(`${split}: expected [N, 28, 28] images, got [${imgs.idx.dims.join(", ")}]`);
    if (labs.idx.dims.length !== 1 || labs.idx.dims[0] !== n) throw new Error(`${split}: ${labs.idx.dims[0]} labels for ${n} images`);
    const sel = balancedSelection(labs.idx.data, opts.perClass[split], FASHION_MNIST_CLASSES.length, rng, split);
    const images = new Uint8Array(sel.length * px);
    const images32 = opts.with32 ? new Uint8Array(sel.length * PAD_SIZE * PAD_SIZE) : null;
    const labels = new Uint8Array(sel.length);
    const sourceIndex = new Uint8Array(sel.length * 2);
    const sview = new DataView(sourceIndex.buffer);
    for (let k = 0; k < sel.length; k++) {
      const img = imgs.idx.data.subarray(sel[k] * SRC_SIZE * SRC_SIZE, (sel[k] + 1) * SRC_SIZE * SRC_SIZE);
      images.set(areaResample(img, SRC_SIZE, FASHION_MNIST_SIZE), k * px);
      if (images32) images32.set(padImage(img, SRC_SIZE, PAD_SIZE), k * PAD_SIZE * PAD_SIZE);
      labels[k] = labs.idx.data[sel[k]];
      sview.setUint16(2 * k, sel[k], true);
    }
    files[split] = { images: `${split}-images-16.u8`, labels: `${split}-labels.u8`, sourceIndex: `${split}-source-index.u16` };
    outputs.push([files[split].images, images], [files[split].labels, labels], [files[split].sourceIndex, sourceIndex]);
    if (images32) {
      files[split].images32 = `${split}-images-32.u8`;
      outputs.push([files[split].images32 as string, images32]);
    }
    counts[split] = sel.length;
  }

  const manifest: FashionMnistManifest = {
    format: FASHION_MNIST_FORMAT,
    version: FASHION_MNIST_VERSION,
    size: FASHION_MNIST_SIZE,
    channels: 1,
    counts,
    perClass: { ...opts.perClass },
    classNames: [...FASHION_MNIST_CLASSES],
    files,
    bytes: Object.fromEntries(outputs.map(([name, data]) => [name, data.length])),
    sha256: Object.fromEntries(outputs.map(([name, data]) => [name, sha256Hex(data)])),
    seed: opts.seed,
    source: {
      package: DEBIAN_PACKAGE,
      version: path.resolve(opts.source) === DEBIAN_SOURCE ? debianVersion() : null,
      upstream: "https://github.com/zalandoresearch/fashion-mnist (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747)",
      licence: "MIT, Copyright (c) 2017 Zalando SE (see LICENSE)",
      files: sourceSha,
    },
    derivation: {
      tool: "tools/data/build-fashion-mnist.ts (npm run data:fashion-mnist)",
      selection: "per split and class c: the class's source indices in file order, shuffled (Fisher-Yates) with new Rng(seed).fork('<split>/class-<c>'), first perClass kept",
      order: "blocks of 10 images, one per class; block b's class order is the b-th fork('<split>/order').permutation(10); every prefix of 10k images holds k of each class",
      resample: "area (box) resample 28x28 -> 16x16: output pixel (y, x) is the exact area-weighted mean of source square [1.75y, 1.75(y+1)) x [1.75x, 1.75(x+1)), integer arithmetic, rounded half up",
      pixels: "uint8, image-major then row-major (NHWC, C = 1), 0 = background .. 255 = ink, as in the source (not inverted); loaders map u to u/127.5 - 1",
      labels: "uint8 class index 0..9, see classNames",
      sourceIndex: "uint16 little-endian index of each image in its source IDX file",
      images32: "only with --with-32 (not shipped): the 28x28 original zero-padded by 2 px per side to 32x32, same order",
    },
  };

  fs.mkdirSync(opts.out, { recursive: true });
  for (const [name, data] of outputs) writeFileAtomic(path.join(opts.out, name), data);
  if (!opts.with32) for (const split of ["train", "test"]) fs.rmSync(path.join(opts.out, `${split}-images-32.u8`), { force: true });
  writeFileAtomic(path.join(opts.out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

function intArg(flag: string, raw: string | undefined, min: number): number {
  const v = raw === undefined ? NaN : Number(raw);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag} needs an integer ≥ ${min}, got ${raw ?? "nothing"}`);
  return v;
}

/** Parse the command line; null means --help. */
export function parseBuildArgs(argv: string[]): BuildOptions | null {
  const opts = defaultBuildOptions();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string | undefined => argv[++i];
    if (a === "-h" || a === "--help") return null;
    else if (a === "--source" || a === "--out") {
      const v = next();
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a folder`);
      if (a === "--source") opts.source = path.resolve(v);
      else opts.out = path.resolve(v);
    } else if (a === "--seed") opts.seed = intArg(a, next(), 0);
    else if (a === "--train-per-class") opts.perClass.train = intArg(a, next(), 1);
    else if (a === "--test-per-class") opts.perClass.test = intArg(a, next(), 1);
    else if (a === "--with-32") opts.with32 = true;
    else throw new UsageError(`unknown argument ${a}`);
  }
  return opts;
}

/** The command: returns the exit code. */
export function main(argv: string[]): number {
  return dataCommand("data:fashion-mnist", USAGE, argv, parseBuildArgs, (opts) => {
    const t0 = Date.now();
    const m = buildFashionMnist(opts);
    const total = Object.values(m.bytes).reduce((a, b) => a + b, 0);
    const lines = [`Fashion-MNIST 16×16: train ${m.counts.train}, test ${m.counts.test} images → ${opts.out}`];
    for (const [name, bytes] of Object.entries(m.bytes)) lines.push(`  ${name.padEnd(24)} ${String(bytes).padStart(9)} B  sha256 ${m.sha256[name].slice(0, 16)}…`);
    lines.push(`  total ${(total / 1e6).toFixed(2)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return lines.join("\n") + "\n";
  });
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
