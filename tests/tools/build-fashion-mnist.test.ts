/**
 * `npm run data:fashion-mnist` (tools/data/build-fashion-mnist.ts): the IDX parser, the area
 * resample against a supersampling reference, the balanced selection, the command line, and —
 * where Debian's dataset-fashion-mnist is installed — a full rebuild that must reproduce the
 * shipped files byte for byte.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gunzipSync } from "zlib";
import { Rng } from "@course/lib";
import {
  DEBIAN_SOURCE, UsageError, areaResample, areaWeights, balancedSelection, padImage, parseBuildArgs, parseIdx,
} from "../../tools/data/build-fashion-mnist";
import { loadFashionMnist, readFashionMnistManifest, sha256Hex } from "../../lib/src/data/fashionMnist";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "tools", "dist", "data", "build-fashion-mnist.js");
const SHIPPED = path.join(ROOT, "datasets", "fashion-mnist");
const HAVE_DEBIAN = fs.existsSync(path.join(DEBIAN_SOURCE, "train-images-idx3-ubyte.gz"));
let tmp: string;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function idx(magicType: number, dims: number[], body: number[]): Uint8Array {
  const buf = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(buf.buffer);
  buf[2] = magicType;
  buf[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  buf.set(body, 4 + 4 * dims.length);
  return buf;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Reference: replicate each source pixel k×k (k = dst / gcd), then average m×m blocks (m = src / gcd). */
function supersampleReference(img: Uint8Array, src: number, dst: number): Float64Array {
  const g = gcd(src, dst);
  const k = dst / g;
  const m = src / g;
  const out = new Float64Array(dst * dst);
  for (let y = 0; y < dst; y++) {
    for (let x = 0; x < dst; x++) {
      let s = 0;
      for (let yy = y * m; yy < (y + 1) * m; yy++) for (let xx = x * m; xx < (x + 1) * m; xx++) s += img[Math.floor(yy / k) * src + Math.floor(xx / k)];
      out[y * dst + x] = s / (m * m);
    }
  }
  return out;
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing; run \`npm run build\` first`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "build-fm-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("parseIdx", () => {
  test("reads big-endian dims and the uint8 body", () => {
    const a = parseIdx(idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]));
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseIdx(idx(0x08, [70000], new Array(70000).fill(7))).dims).toEqual([70000]);
  });
  test("refuses a bad magic, a non-byte type and a short body", () => {
    const bad = idx(0x08, [1], [0]);
    bad[0] = 0x1f;
    expect(() => parseIdx(bad, "x.idx")).toThrow(/x\.idx: not an IDX file/);
    expect(() => parseIdx(idx(0x0d, [1], [0, 0, 0, 0]))).toThrow(/not unsigned byte/);
    expect(() => parseIdx(idx(0x08, [2, 3], [1, 2, 3]))).toThrow(/body has 3 bytes, dims \[2, 3\] need 6/);
  });
});

describe("areaResample", () => {
  test("weights: 28→16 overlaps in sixteenths, each output's weights sum to 28", () => {
    const w = areaWeights(28, 16);
    expect(w[0]).toEqual([[0, 16], [1, 12]]);
    expect(w[1]).toEqual([[1, 4], [2, 16], [3, 8]]);
    expect(w[15]).toEqual([[26, 12], [27, 16]]);
    for (const row of w) expect(row.reduce((s, [, v]) => s + v, 0)).toBe(28);
    expect(areaWeights(28, 14)[3]).toEqual([[6, 14], [7, 14]]);
  });

  test("single lit pixels: 255·16·16/784 → 83, 255·12·12/784 → 47", () => {
    const img = new Uint8Array(784);
    img[0] = 255;
    expect(areaResample(img, 28, 16)[0]).toBe(83);
    img[0] = 0;
    img[1 * 28 + 1] = 255; // (1, 1): weight 12·12 in output (0, 0), 4·12 in (0, 1), 4·4 in (1, 1)
    const out = areaResample(img, 28, 16);
    expect([out[0], out[1], out[16], out[17]]).toEqual([47, 16, 16, 5]);
  });

  test("equals a supersampling reference (rounded half up) on random images; constants stay constant", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const img = new Uint8Array(784).map(() => rng.int(256));
      const ref = supersampleReference(img, 28, 16);
      const out = areaResample(img, 28, 16);
      for (let k = 0; k < 256; k++) expect(out[k]).toBe(Math.floor(ref[k] + 0.5));
      // the mean is preserved up to rounding
      const meanIn = img.reduce((a, b) => a + b, 0) / 784;
      const meanOut = out.reduce((a, b) => a + b, 0) / 256;
      expect(Math.abs(meanIn - meanOut)).toBeLessThanOrEqual(0.5);
    }
    expect(Array.from(new Set(areaResample(new Uint8Array(784).fill(200), 28, 16)))).toEqual([200]);
    // 28→14 is the plain 2×2 mean
    const img = new Uint8Array(784).map(() => rng.int(256));
    const half = areaResample(img, 28, 14);
    const m = (img[0] + img[1] + img[28] + img[29]) / 4;
    expect(half[0]).toBe(Math.floor(m + 0.5));
    expect(() => areaResample(new Uint8Array(10), 28, 16)).toThrow(/expected 784 pixels/);
  });

  test("padImage centres 28×28 in a zero 32×32 frame", () => {
    const img = new Uint8Array(784).map((_, k) => 1 + (k % 250));
    const out = padImage(img, 28, 32);
    expect(out.length).toBe(1024);
    expect(out[0]).toBe(0);
    expect(out[2 * 32 + 1]).toBe(0);
    expect(out[2 * 32 + 2]).toBe(img[0]);
    expect(out[29 * 32 + 29]).toBe(img[783]);
    expect(out[30 * 32 + 30]).toBe(0);
    expect(out.reduce((a, b) => a + b, 0)).toBe(img.reduce((a, b) => a + b, 0));
  });
});

describe("balancedSelection", () => {
  const rng = new Rng(3);
  const labels = Uint8Array.from(rng.fork("labels").shuffle(Array.from({ length: 200 }, (_, i) => i % 10)) as number[]);

  test("perClass of each class, one per class in every block of 10, distinct indices", () => {
    const sel = balancedSelection(labels, 7, 10, new Rng(0), "train");
    expect(sel.length).toBe(70);
    expect(new Set(sel).size).toBe(70);
    for (let b = 0; b < 7; b++) expect(new Set(Array.from(sel.subarray(10 * b, 10 * b + 10), (i) => labels[i])).size).toBe(10);
  });

  test("deterministic per seed and split; another seed or split gives another selection", () => {
    const a = balancedSelection(labels, 7, 10, new Rng(0), "train");
    expect(balancedSelection(labels, 7, 10, new Rng(0), "train")).toEqual(a);
    expect(balancedSelection(labels, 7, 10, new Rng(1), "train")).not.toEqual(a);
    expect(balancedSelection(labels, 7, 10, new Rng(0), "test")).not.toEqual(a);
  });

  test("refuses more per class than the source holds", () => {
    expect(() => balancedSelection(labels, 21, 10, new Rng(0), "test")).toThrow(/test: class 0 has 20 images, fewer than 21 requested/);
  });
});

describe("command line", () => {
  test("defaults and flags", () => {
    const d = parseBuildArgs([]);
    expect(d).toMatchObject({ source: DEBIAN_SOURCE, out: SHIPPED, seed: 0, perClass: { train: 3000, test: 500 }, with32: false });
    const o = parseBuildArgs(["--out", "/tmp/x", "--seed", "5", "--train-per-class", "10", "--test-per-class", "2", "--with-32"]);
    expect(o).toMatchObject({ out: "/tmp/x", seed: 5, perClass: { train: 10, test: 2 }, with32: true });
    expect(parseBuildArgs(["--help"])).toBeNull();
  });

  test("bad input: UsageError in-process, exit code 2 from the CLI", () => {
    expect(() => parseBuildArgs(["--seed", "-1"])).toThrow(UsageError);
    expect(() => parseBuildArgs(["--train-per-class", "x"])).toThrow(/--train-per-class needs an integer ≥ 1, got x/);
    expect(() => parseBuildArgs(["--out"])).toThrow(/--out needs a folder/);
    const r = run(["--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown argument --frobnicate[\s\S]*Usage: npm run data:fashion-mnist/);
  });

  test("a source folder without the IDX files: exit code 1 and how to install them", () => {
    const r = run(["--source", path.join(tmp, "nowhere"), "--out", path.join(tmp, "never")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/train-images-idx3-ubyte\.gz is missing; install Debian's dataset-fashion-mnist \(apt-get install dataset-fashion-mnist\)/);
    expect(fs.existsSync(path.join(tmp, "never"))).toBe(false);
  });
});

if (!HAVE_DEBIAN) {
  console.log(`build-fashion-mnist: full-build tests skipped: ${DEBIAN_SOURCE} is missing (apt-get install dataset-fashion-mnist)`);
}
(HAVE_DEBIAN ? describe : describe.skip)("full build from Debian's dataset-fashion-mnist", () => {
  test("rebuilding with the defaults reproduces the shipped files byte for byte", () => {
    const out = path.join(tmp, "full");
    const r = run(["--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/train 30000, test 5000 images/);
    const shipped = readFashionMnistManifest(SHIPPED);
    const rebuilt = readFashionMnistManifest(out);
    expect(rebuilt).toEqual(shipped);
    for (const name of [...Object.keys(shipped.bytes), "manifest.json"]) {
      expect(sha256Hex(fs.readFileSync(path.join(out, name)))).toBe(sha256Hex(fs.readFileSync(path.join(SHIPPED, name))));
    }
  });

  test("a small --with-32 build: deterministic, and each image matches its source image", () => {
    const args = ["--train-per-class", "20", "--test-per-class", "5", "--seed", "9", "--with-32"];
    const a = path.join(tmp, "small-a");
    const b = path.join(tmp, "small-b");
    expect(run([...args, "--out", a]).code).toBe(0);
    expect(run([...args, "--out", b]).code).toBe(0);
    const files = fs.readdirSync(a).sort();
    expect(files).toEqual(fs.readdirSync(b).sort());
    expect(files).toContain("train-images-32.u8");
    for (const f of files) expect(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f)))).toBe(true);

    const m = readFashionMnistManifest(a);
    expect(m.counts).toEqual({ train: 200, test: 50 });
    expect(m.seed).toBe(9);
    const ds = loadFashionMnist("test", { dir: a });
    expect(ds.n).toBe(50);
    const src = parseIdx(gunzipSync(fs.readFileSync(path.join(DEBIAN_SOURCE, "t10k-images-idx3-ubyte.gz"))));
    const srcLabels = parseIdx(gunzipSync(fs.readFileSync(path.join(DEBIAN_SOURCE, "t10k-labels-idx1-ubyte.gz"))));
    const srcIdx = fs.readFileSync(path.join(a, "test-source-index.u16"));
    const img16 = fs.readFileSync(path.join(a, "test-images-16.u8"));
    const img32 = fs.readFileSync(path.join(a, "test-images-32.u8"));
    for (let k = 0; k < 50; k++) {
      const i = srcIdx.readUInt16LE(2 * k);
      const orig = src.data.subarray(i * 784, (i + 1) * 784);
      expect(ds.labels[k]).toBe(srcLabels.data[i]);
      expect(img16.subarray(k * 256, (k + 1) * 256).equals(areaResample(orig, 28, 16))).toBe(true);
      expect(img32.subarray(k * 1024, (k + 1) * 1024).equals(padImage(orig, 28, 32))).toBe(true);
    }
    // rebuilding without --with-32 removes the stale 32×32 files
    expect(run(["--train-per-class", "20", "--test-per-class", "5", "--seed", "9", "--out", a]).code).toBe(0);
    expect(fs.existsSync(path.join(a, "train-images-32.u8"))).toBe(false);
    expect(readFashionMnistManifest(a).files.train.images32).toBeUndefined();
  });
});
