/**
 * Fashion-MNIST at 16×16: the course's image data, shipped in `datasets/fashion-mnist/`.
 *
 * Paper: Xiao, Rasul & Vollgraf 2017, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
 * Machine Learning Algorithms" (arXiv:1708.07747). Zalando's 28×28 article images, 10 classes,
 * MIT licence (see datasets/fashion-mnist/LICENSE).
 *
 * The shipped subset is derived by `npm run data:fashion-mnist` (tools/data/build-fashion-mnist.ts)
 * from Debian's `dataset-fashion-mnist` package: a class-balanced seeded selection (train 30,000
 * of 60,000; test 5,000 of 10,000), each image area-resampled 28×28 → 16×16. On disk, per split:
 *
 *   <split>-images-16.u8   N·16·16 bytes, image-major, row-major (NHWC with C = 1), 0 = background
 *   <split>-labels.u8      N bytes, class index 0…9 ({@link FASHION_MNIST_CLASSES})
 *   manifest.json          format, counts, class names, source, derivation, seed, sha256 of each file
 *
 * In memory a pixel byte u becomes x = u / 127.5 − 1 ∈ [−1, 1], the range of the diffusion
 * model's data x0. Images are stored in blocks of 10 holding one image of each class, so any
 * `limit` that is a multiple of 10 gives an exactly balanced prefix.
 *
 * | code       | meaning                                           |
 * |------------|---------------------------------------------------|
 * | `images`   | x0 ∈ [−1, 1], [N, 16, 16, 1] flattened row-major  |
 * | `labels`   | y ∈ {0, …, 9}, [N]                                |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";

/**
 * Environment variable that overrides {@link datasetsDir}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const DATASETS_ENV = "COURSE_DATASETS";

/**
 * The ten class names of Fashion-MNIST, indexed by label (Xiao et al. 2017, table 1).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]);

/** Identifier and version written into, and required of, manifest.json. */
export const FASHION_MNIST_FORMAT = "course-fashion-mnist";
/** Version of the on-disk layout; bump it when the files change meaning. */
export const FASHION_MNIST_VERSION = 1;
/** Side length of the shipped images. */
export const FASHION_MNIST_SIZE = 16;
const REBUILD = "rebuild it with `npm run data:fashion-mnist` (needs `apt-get install dataset-fashion-mnist`)";

/**
 * A split of Fashion-MNIST.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export type FashionMnistSplit = "train" | "test";

/**
 * File names of one split, relative to the dataset folder.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface FashionMnistSplitFiles {
  /** N·16·16 uint8 pixels. */
  images: string;
  /** N uint8 labels. */
  labels: string;
  /** N uint16 little-endian indices into the source split (provenance). */
  sourceIndex: string;
  /** Optional N·32·32 uint8 zero-padded 28×28 originals (build flag --with-32). */
  images32?: string;
}

/**
 * The parsed manifest.json of `datasets/fashion-mnist/`.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface FashionMnistManifest {
  format: string;
  version: number;
  size: number;
  channels: number;
  counts: Record<FashionMnistSplit, number>;
  perClass: Record<FashionMnistSplit, number>;
  classNames: string[];
  files: Record<FashionMnistSplit, FashionMnistSplitFiles>;
  /** Byte length of each file, by file name. */
  bytes: Record<string, number>;
  /** Hex SHA-256 of each file, by file name. */
  sha256: Record<string, string>;
  seed: number;
  source: { package: string; version: string | null; upstream: string; licence: string; files: Record<string, string> };
  derivation: Record<string, string>;
}

/**
 * A labelled image set in memory, pixels in [−1, 1].
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface ImageDataset {
  /** [N, 16, 16, C] row-major, in [−1, 1] (C = 1; 3 for captioned-fashion's colour images). */
  images: Float32Array;
  /** [N] class indices. */
  labels: Int32Array;
  n: number;
  height: 16;
  width: 16;
  channels: 1 | 3;
  classNames: string[];
}

/**
 * Options of {@link loadFashionMnist}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface LoadFashionMnistOptions {
  /** Keep only the first `limit` images (a multiple of 10 is exactly class-balanced). */
  limit?: number;
  /** The folder holding manifest.json (default {@link fashionMnistDir}). */
  dir?: string;
  /** Check each file's SHA-256 against the manifest (default true; SHA-256 of the 7.7 MB train images takes ~4 ms, the whole load ~30 ms). */
  verify?: boolean;
}

/**
 * The folder holding all shipped datasets: $COURSE_DATASETS, else `<repo root>/datasets`
 * (found from this file, so it works from lib/src and lib/dist alike).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function datasetsDir(): string {
  const env = process.env[DATASETS_ENV];
  return env && env.trim() !== "" ? path.resolve(env) : path.resolve(__dirname, "..", "..", "..", "datasets");
}

/**
 * The Fashion-MNIST folder: `<datasetsDir()>/fashion-mnist`.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function fashionMnistDir(): string {
  return path.join(datasetsDir(), "fashion-mnist");
}

/** SHA-256 of bytes, as 64 hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function fail(dir: string, what: string): never {
  throw new Error(`Fashion-MNIST: ${what} (in ${dir}); ${REBUILD}, or set ${DATASETS_ENV} to a folder holding fashion-mnist/.`);
}

/**
 * Read and check `manifest.json` (format, version, image size, class names).
 * @param dir the dataset folder (default {@link fashionMnistDir})
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function readFashionMnistManifest(dir: string = fashionMnistDir()): FashionMnistManifest {
  const file = path.join(dir, "manifest.json");
  if (!fs.existsSync(file)) fail(dir, "manifest.json is missing");
  let m: FashionMnistManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8")) as FashionMnistManifest;
  } catch (e) {
    return fail(dir, `manifest.json is not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== FASHION_MNIST_FORMAT || m.version !== FASHION_MNIST_VERSION) {
    fail(dir, `manifest.json has format ${String(m.format)} v${String(m.version)}, expected ${FASHION_MNIST_FORMAT} v${FASHION_MNIST_VERSION}`);
  }
  if (m.size !== FASHION_MNIST_SIZE || m.channels !== 1) fail(dir, `manifest.json describes ${m.size}×${m.size}×${m.channels} images, expected 16×16×1`);
  if (!Array.isArray(m.classNames) || m.classNames.join("|") !== FASHION_MNIST_CLASSES.join("|")) {
    fail(dir, "manifest.json lists unexpected class names");
  }
  return m;
}

/** Read one file of the dataset, checking its size and (optionally) its SHA-256. */
function readChecked(dir: string, m: FashionMnistManifest, name: string, bytes: number, verify: boolean): Buffer {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) fail(dir, `${name} is missing`);
  const size = fs.statSync(file).size;
  if (size !== bytes) fail(dir, `${name} has ${size} bytes, expected ${bytes}`);
  const buf = fs.readFileSync(file);
  if (verify) {
    const want = m.sha256[name];
    if (typeof want !== "string") fail(dir, `manifest.json has no sha256 for ${name}`);
    const got = sha256Hex(buf);
    if (got !== want) fail(dir, `${name} is corrupt: sha256 ${got.slice(0, 12)}… differs from the manifest's ${want.slice(0, 12)}…`);
  }
  return buf;
}

/**
 * Load a split of the shipped 16×16 Fashion-MNIST subset, pixels mapped to [−1, 1].
 *
 * Checks the manifest, each file's size and (unless `verify: false`) its SHA-256, and that
 * every label is in 0…9; each failure names the file and how to rebuild the data.
 *
 * @example const ds = loadFashionMnist("train", { limit: 10000 });  // ds.images: [10000·16·16]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function loadFashionMnist(split: FashionMnistSplit, opts: LoadFashionMnistOptions = {}): ImageDataset {
  if (split !== "train" && split !== "test") throw new Error(`loadFashionMnist: split must be "train" or "test", got ${String(split)}`);
  const dir = opts.dir !== undefined ? path.resolve(opts.dir) : fashionMnistDir();
  const m = readFashionMnistManifest(dir);
  const total = m.counts?.[split];
  const files = m.files?.[split];
  if (!Number.isInteger(total) || total <= 0 || !files) fail(dir, `manifest.json has no ${split} split`);
  const limit = opts.limit ?? total;
  if (!Number.isInteger(limit) || limit < 1 || limit > total) {
    throw new Error(`loadFashionMnist: limit must be an integer in 1…${total} for the ${split} split, got ${limit}`);
  }
  const verify = opts.verify ?? true;
  const px = FASHION_MNIST_SIZE * FASHION_MNIST_SIZE;
  const rawImages = readChecked(dir, m, files.images, total * px, verify);
  const rawLabels = readChecked(dir, m, files.labels, total, verify);

  const labels = new Int32Array(limit);
  for (let i = 0; i < limit; i++) {
    const y = rawLabels[i];
    if (y >= FASHION_MNIST_CLASSES.length) fail(dir, `${files.labels} holds label ${y} at index ${i}, expected 0…9`);
    labels[i] = y;
  }
  const images = new Float32Array(limit * px); // [N, 16, 16, 1]
  for (let k = 0; k < images.length; k++) images[k] = rawImages[k] / 127.5 - 1;
  return { images, labels, n: limit, height: 16, width: 16, channels: 1, classNames: [...FASHION_MNIST_CLASSES] };
}

/**
 * Gather the images at `idx` into a batch tensor, e.g. a random minibatch for training.
 *
 * @example fashionMnistBatch(ds, rng.permutation(ds.n).subarray(0, 128))  // [128, 16, 16, 1]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function fashionMnistBatch(ds: ImageDataset, idx: Int32Array): tf.Tensor4D {
  const px = ds.height * ds.width * ds.channels;
  const out = new Float32Array(idx.length * px);
  for (let b = 0; b < idx.length; b++) {
    const i = idx[b];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new Error(`fashionMnistBatch: index ${i} at position ${b} is outside 0…${ds.n - 1}`);
    out.set(ds.images.subarray(i * px, (i + 1) * px), b * px);
  }
  return tf.tensor4d(out, [idx.length, ds.height, ds.width, ds.channels]); // [B, 16, 16, 1]
}

/**
 * The images at `idx` (and their labels) as a new image set, e.g. the real images of the
 * captions a notebook asks for, as the reference set of an evaluator.
 * @example subsetImageDataset(ds, Int32Array.from([0, 5, 9])).n // 3
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function subsetImageDataset(ds: ImageDataset, idx: Int32Array): ImageDataset {
  const px = ds.height * ds.width * ds.channels;
  const images = new Float32Array(idx.length * px);
  idx.forEach((i, r) => {
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new Error(`subsetImageDataset: index ${i} at position ${r} is outside 0…${ds.n - 1}`);
    images.set(ds.images.subarray(i * px, (i + 1) * px), r * px);
  });
  return { ...ds, images, labels: Int32Array.from(idx, (i) => ds.labels[i]), n: idx.length };
}
