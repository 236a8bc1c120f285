/**
 * lib/src/data/fashionMnist.ts against the shipped datasets/fashion-mnist/ files.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import {
  DATASETS_ENV, FASHION_MNIST_CLASSES, ImageDataset, datasetsDir, fashionMnistBatch, fashionMnistDir, subsetImageDataset,
  loadFashionMnist, readFashionMnistManifest, sha256Hex,
} from "../../lib/src/data/fashionMnist";

const ROOT = path.resolve(__dirname, "..", "..");
const SHIPPED = path.join(ROOT, "datasets", "fashion-mnist");
const NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
let train: ImageDataset;
let tmp: string;

/** Per-class mean pixel value and number of columns where the class's mean image is inked. */
function classStats(ds: ImageDataset): { mean: number[]; wideCols: number[] } {
  const mean = new Array(10).fill(0);
  const colInk = Array.from({ length: 10 }, () => new Float64Array(16));
  const count = new Array(10).fill(0);
  for (let i = 0; i < ds.n; i++) {
    const c = ds.labels[i];
    count[c]++;
    for (let k = 0; k < 256; k++) {
      const v = ds.images[i * 256 + k];
      mean[c] += v;
      if (v > -0.5) colInk[c][k % 16]++;
    }
  }
  const wideCols = colInk.map((cols, c) => cols.filter((v) => v / (count[c] * 16) > 0.5).length);
  return { mean: mean.map((s, c) => s / (count[c] * 256)), wideCols };
}

/** A scratch copy of the test split (manifest + test files) to break. */
function scratchCopy(): string {
  const dir = fs.mkdtempSync(path.join(tmp, "fm-"));
  for (const f of ["manifest.json", "test-images-16.u8", "test-labels.u8"]) fs.copyFileSync(path.join(SHIPPED, f), path.join(dir, f));
  return dir;
}

beforeAll(async () => {
  await initBackend();
  train = loadFashionMnist("train");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-mnist-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("loadFashionMnist: the shipped data", () => {
  test("train: 30,000 images [N, 16, 16, 1] in [-1, 1], 3,000 per class", () => {
    expect(train.n).toBe(30000);
    expect([train.height, train.width, train.channels]).toEqual([16, 16, 1]);
    expect(train.images.length).toBe(30000 * 256);
    expect(train.labels.length).toBe(30000);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of train.images) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect([lo, hi]).toEqual([-1, 1]);
    const counts = new Array(10).fill(0);
    for (const y of train.labels) counts[y]++;
    expect(counts).toEqual(new Array(10).fill(3000));
    expect(train.classNames).toEqual(NAMES);
    expect([...FASHION_MNIST_CLASSES]).toEqual(NAMES);
  });

  test("every block of 10 images holds one image of each class", () => {
    for (let b = 0; b < train.n / 10; b++) {
      const seen = new Set(train.labels.subarray(10 * b, 10 * b + 10));
      if (seen.size !== 10) throw new Error(`block ${b} has classes ${[...seen].join(",")}`);
    }
  });

  test("pixel bytes map to u / 127.5 - 1; pinned first labels and first image", () => {
    // 256 levels only: (x + 1) * 127.5 is an integer for every pixel
    let worst = 0;
    for (let k = 0; k < 256 * 1000; k++) {
      const u = (train.images[k] + 1) * 127.5;
      const d = Math.abs(u - Math.round(u));
      if (d > worst) worst = d;
    }
    expect(worst).toBeLessThan(1e-3);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 3, 7, 1, 6, 5, 8, 4, 2]);
    let sum = 0;
    for (let k = 0; k < 256; k++) sum += Math.round((train.images[k] + 1) * 127.5);
    expect(sum).toBe(22541);
  });

  test("class means are plausible: trousers narrower than bags, footwear darkest", () => {
    const { mean, wideCols } = classStats(train);
    // measured: trouser -0.55, bag -0.29, pullover -0.25, sandal -0.73, sneaker -0.67
    expect(mean[1]).toBeGreaterThan(-0.65);
    expect(mean[1]).toBeLessThan(-0.45);
    expect(mean[8]).toBeGreaterThan(-0.4);
    expect(mean[8]).toBeLessThan(-0.2);
    for (const c of [0, 2, 3, 4, 6, 8, 9]) expect(mean[5]).toBeLessThan(mean[c]);
    for (const c of [0, 2, 3, 4, 6, 8, 9]) expect(mean[7]).toBeLessThan(mean[c]);
    // inked columns of the mean image: trouser 6, bag 11, pullover 11
    expect(wideCols[1]).toBeLessThanOrEqual(7);
    expect(wideCols[8]).toBeGreaterThanOrEqual(10);
    expect(wideCols[2]).toBeGreaterThanOrEqual(10);
  });

  test("test split: 5,000 images, 500 per class, pinned first labels", () => {
    const ds = loadFashionMnist("test");
    expect(ds.n).toBe(5000);
    const counts = new Array(10).fill(0);
    for (const y of ds.labels) counts[y]++;
    expect(counts).toEqual(new Array(10).fill(500));
    expect(Array.from(ds.labels.subarray(0, 10))).toEqual([6, 8, 2, 9, 4, 0, 5, 7, 3, 1]);
  });

  test("limit keeps a balanced prefix; bad limits and splits are refused", () => {
    const ds = loadFashionMnist("train", { limit: 100 });
    expect(ds.n).toBe(100);
    expect(ds.images).toEqual(train.images.subarray(0, 100 * 256));
    const counts = new Array(10).fill(0);
    for (const y of ds.labels) counts[y]++;
    expect(counts).toEqual(new Array(10).fill(10));
    expect(() => loadFashionMnist("test", { limit: 5001 })).toThrow(/limit must be an integer in 1…5000/);
    expect(() => loadFashionMnist("test", { limit: 0 })).toThrow(/limit/);
    expect(() => loadFashionMnist("test", { limit: 2.5 })).toThrow(/limit/);
    expect(() => loadFashionMnist("valid" as "test")).toThrow(/split must be "train" or "test"/);
  });
});

describe("manifest", () => {
  test("describes the shipped files: sizes and sha256 match, source and seed recorded", () => {
    const m = readFashionMnistManifest();
    expect(m.format).toBe("course-fashion-mnist");
    expect(m.version).toBe(1);
    expect(m.size).toBe(16);
    expect(m.counts).toEqual({ train: 30000, test: 5000 });
    expect(m.perClass).toEqual({ train: 3000, test: 500 });
    expect(m.classNames).toEqual(NAMES);
    expect(m.seed).toBe(0);
    expect(m.source.package).toBe("dataset-fashion-mnist");
    expect(m.source.version).toMatch(/^0\.0~git\d{8}\./);
    expect(Object.keys(m.source.files).sort()).toEqual(
      ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]);
    expect(m.files.train).toEqual({ images: "train-images-16.u8", labels: "train-labels.u8", sourceIndex: "train-source-index.u16" });
    let total = 0;
    for (const [name, bytes] of Object.entries(m.bytes)) {
      const buf = fs.readFileSync(path.join(SHIPPED, name));
      expect(buf.length).toBe(bytes);
      expect(sha256Hex(buf)).toBe(m.sha256[name]);
      total += bytes;
    }
    expect(Object.keys(m.bytes)).toHaveLength(6);
    expect(total).toBeLessThan(10e6);
    expect(fs.readFileSync(path.join(SHIPPED, "LICENSE"), "utf8")).toMatch(/MIT License[\s\S]*Zalando SE/);
  });

  test("sha256Hex: a known digest", () => {
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("locating the data", () => {
  const saved = process.env[DATASETS_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[DATASETS_ENV];
    else process.env[DATASETS_ENV] = saved;
  });

  test("default: <repo>/datasets/fashion-mnist; COURSE_DATASETS overrides the datasets folder", () => {
    delete process.env[DATASETS_ENV];
    expect(datasetsDir()).toBe(path.join(ROOT, "datasets"));
    expect(fashionMnistDir()).toBe(SHIPPED);
    const root = fs.mkdtempSync(path.join(tmp, "root-"));
    fs.mkdirSync(path.join(root, "fashion-mnist"));
    const copy = scratchCopy();
    for (const f of fs.readdirSync(copy)) fs.copyFileSync(path.join(copy, f), path.join(root, "fashion-mnist", f));
    process.env[DATASETS_ENV] = root;
    expect(fashionMnistDir()).toBe(path.join(root, "fashion-mnist"));
    expect(loadFashionMnist("test", { limit: 20 }).labels).toEqual(loadFashionMnist("test", { limit: 20, dir: SHIPPED }).labels);
    // the train files were not copied: the error names the file and the rebuild command
    expect(() => loadFashionMnist("train")).toThrow(/train-images-16\.u8 is missing[\s\S]*npm run data:fashion-mnist[\s\S]*apt-get install dataset-fashion-mnist/);
  });
});

describe("errors name the file and the fix", () => {
  test("missing manifest or file", () => {
    const empty = fs.mkdtempSync(path.join(tmp, "empty-"));
    expect(() => loadFashionMnist("test", { dir: empty })).toThrow(/manifest\.json is missing.*npm run data:fashion-mnist/);
    const dir = scratchCopy();
    fs.rmSync(path.join(dir, "test-labels.u8"));
    expect(() => loadFashionMnist("test", { dir })).toThrow(/test-labels\.u8 is missing/);
  });

  test("truncated file: size mismatch", () => {
    const dir = scratchCopy();
    fs.truncateSync(path.join(dir, "test-images-16.u8"), 1000);
    expect(() => loadFashionMnist("test", { dir })).toThrow(/test-images-16\.u8 has 1000 bytes, expected 1280000/);
  });

  test("corrupt file: sha256 mismatch, unless verify is off", () => {
    const dir = scratchCopy();
    const file = path.join(dir, "test-images-16.u8");
    const buf = fs.readFileSync(file);
    buf[1234] ^= 0xff;
    fs.writeFileSync(file, buf);
    expect(() => loadFashionMnist("test", { dir })).toThrow(/test-images-16\.u8 is corrupt: sha256 .* differs[\s\S]*npm run data:fashion-mnist/);
    const ds = loadFashionMnist("test", { dir, verify: false });
    expect(ds.images[1234]).toBeCloseTo((buf[1234] / 127.5) - 1, 6);
  });

  test("out-of-range label", () => {
    const dir = scratchCopy();
    const file = path.join(dir, "test-labels.u8");
    const buf = fs.readFileSync(file);
    buf[7] = 12;
    fs.writeFileSync(file, buf);
    expect(() => loadFashionMnist("test", { dir, verify: false })).toThrow(/test-labels\.u8 holds label 12 at index 7/);
  });

  test("manifest of another format or with wrong class names", () => {
    const dir = scratchCopy();
    const file = path.join(dir, "manifest.json");
    const m = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(file, JSON.stringify({ ...m, version: 2 }));
    expect(() => loadFashionMnist("test", { dir })).toThrow(/expected course-fashion-mnist v1/);
    fs.writeFileSync(file, JSON.stringify({ ...m, classNames: [...NAMES].reverse() }));
    expect(() => loadFashionMnist("test", { dir })).toThrow(/unexpected class names/);
    fs.writeFileSync(file, "{ not json");
    expect(() => loadFashionMnist("test", { dir })).toThrow(/manifest\.json is not valid JSON/);
  });
});

describe("fashionMnistBatch", () => {
  test("gathers the rows at idx into [B, 16, 16, 1], without leaking tensors", () => {
    const before = tf.memory().numTensors;
    const idx = Int32Array.from([5, 0, 29999]);
    const batch = fashionMnistBatch(train, idx);
    expect(batch.shape).toEqual([3, 16, 16, 1]);
    const v = batch.dataSync();
    for (let b = 0; b < 3; b++) {
      expect(Array.from(v.subarray(b * 256, (b + 1) * 256))).toEqual(Array.from(train.images.subarray(idx[b] * 256, (idx[b] + 1) * 256)));
    }
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test("refuses out-of-range indices", () => {
    expect(() => fashionMnistBatch(train, Int32Array.from([0, 30000]))).toThrow(/index 30000 at position 1 is outside 0…29999/);
    expect(() => fashionMnistBatch(train, Int32Array.from([-1]))).toThrow(/outside/);
  });
});

describe("subsetImageDataset", () => {
  test("copies the chosen images and labels, in order, and rejects bad indices", () => {
    const ds = { images: Float32Array.from({ length: 3 * 4 }, (_, i) => i), labels: Int32Array.from([7, 8, 9]), n: 3, height: 2, width: 2, channels: 1, classNames: [] } as unknown as ImageDataset;
    const sub = subsetImageDataset(ds, Int32Array.from([2, 0]));
    expect(sub.n).toBe(2);
    expect(Array.from(sub.labels)).toEqual([9, 7]);
    expect(Array.from(sub.images)).toEqual([8, 9, 10, 11, 0, 1, 2, 3]);
    expect(() => subsetImageDataset(ds, Int32Array.from([3]))).toThrow(/outside 0…2/);
  });
});
