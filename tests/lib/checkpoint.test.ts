import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { CHECKPOINTS_ENV, checkpointPath, checkpointsDir, loadCheckpoint, readManifest, saveCheckpoint } from "../../lib/src/checkpoint";

let tmp: string;

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-test-"));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function sample(): Record<string, tf.Tensor> {
  return {
    "layer0.w": tf.tensor2d([[1.5, -2], [3.25, 1e-30]]),
    "layer0.b": tf.tensor1d([0.1, -0.2, Math.PI]),
    scalar: tf.scalar(-7),
    counts: tf.tensor1d([1, -2, 2147483647], "int32"),
  };
}

test("round trip: names, shapes, dtypes, values and metadata", () => {
  const dir = path.join(tmp, "roundtrip");
  const tensors = sample();
  const meta = { seed: 3, steps: 10, config: { hidden: 8 }, finalLoss: 0.25 };
  const manifest = saveCheckpoint(dir, tensors, meta);
  expect(manifest.tensors.map((e) => [e.name, e.offset, e.byteLength])).toEqual([
    ["layer0.w", 0, 16],
    ["layer0.b", 16, 12],
    ["scalar", 28, 4],
    ["counts", 32, 12],
  ]);
  expect(fs.statSync(path.join(dir, "weights.bin")).size).toBe(44);
  expect(fs.readdirSync(dir).sort()).toEqual(["manifest.json", "weights.bin"]); // no temp files left
  const { tensors: back, meta: m } = loadCheckpoint(dir);
  expect(m).toEqual(meta);
  for (const [k, t] of Object.entries(tensors)) {
    expect(back[k].shape).toEqual(t.shape);
    expect(back[k].dtype).toBe(t.dtype);
    expect(Array.from(back[k].dataSync())).toEqual(Array.from(t.dataSync()));
  }
  tf.dispose([tensors, back]);
});

test("weights.bin is little-endian float32", () => {
  const dir = path.join(tmp, "endian");
  const t = { a: tf.tensor1d([1]) };
  saveCheckpoint(dir, t);
  expect(Array.from(fs.readFileSync(path.join(dir, "weights.bin")))).toEqual([0x00, 0x00, 0x80, 0x3f]);
  tf.dispose(t);
});

test("saving again replaces the checkpoint", () => {
  const dir = path.join(tmp, "replace");
  const a = { x: tf.tensor1d([1, 2]) };
  const b = { y: tf.tensor1d([3]) };
  saveCheckpoint(dir, a, { v: 1 });
  saveCheckpoint(dir, b, { v: 2 });
  const { tensors, meta } = loadCheckpoint(dir);
  expect(Object.keys(tensors)).toEqual(["y"]);
  expect(meta.v).toBe(2);
  tf.dispose([a, b, tensors]);
});

test("missing checkpoint: names the path and the rebuild command", () => {
  const dir = path.join(tmp, "ring-mlp");
  expect(() => loadCheckpoint(dir)).toThrow(new RegExp(`No checkpoint at .*ring-mlp.*npm run train -- ring-mlp`));
});

describe("corrupt checkpoints are rejected with the path and the rebuild command", () => {
  const fresh = (name: string) => {
    const dir = path.join(tmp, name);
    const t = sample();
    saveCheckpoint(dir, t, {});
    tf.dispose(t);
    return dir;
  };
  test.each([
    ["bad-json", (d: string) => fs.writeFileSync(path.join(d, "manifest.json"), "{oops"), /not valid JSON/],
    ["wrong-format", (d: string) => fs.writeFileSync(path.join(d, "manifest.json"), '{"format":"x"}'), /not a course-checkpoint manifest/],
    ["no-weights", (d: string) => fs.rmSync(path.join(d, "weights.bin")), /weights.bin is missing/],
    ["truncated", (d: string) => fs.truncateSync(path.join(d, "weights.bin"), 20), /has 20 bytes, the manifest says 44/],
    [
      "flipped-byte",
      (d: string) => {
        const f = path.join(d, "weights.bin");
        const bytes = fs.readFileSync(f);
        bytes[5] ^= 0xff;
        fs.writeFileSync(f, bytes);
      },
      /checksum/,
    ],
    [
      "bad-entry",
      (d: string) => {
        const f = path.join(d, "manifest.json");
        const m = JSON.parse(fs.readFileSync(f, "utf8"));
        m.tensors[0].shape = [3, 3];
        fs.writeFileSync(f, JSON.stringify(m));
      },
      /tensor entry "layer0.w" is inconsistent/,
    ],
  ])("%s", (name, damage, why) => {
    const dir = fresh(name as string);
    (damage as (d: string) => void)(dir);
    const before = tf.memory().numTensors;
    expect(() => loadCheckpoint(dir)).toThrow(why as RegExp);
    expect(() => loadCheckpoint(dir)).toThrow(new RegExp(`Corrupt checkpoint at .*${name}.*npm run train -- ${name}`));
    expect(tf.memory().numTensors).toBe(before);
  });
});

test("readManifest reads without creating tensors", () => {
  const dir = path.join(tmp, "manifest-only");
  const t = sample();
  saveCheckpoint(dir, t, { steps: 5 });
  tf.dispose(t);
  const before = tf.memory().numTensors;
  expect(readManifest(dir).meta.steps).toBe(5);
  expect(tf.memory().numTensors).toBe(before);
});

test("checkpointsDir: <repo>/checkpoints, overridden by COURSE_CHECKPOINTS", () => {
  const saved = process.env[CHECKPOINTS_ENV];
  try {
    delete process.env[CHECKPOINTS_ENV];
    expect(checkpointsDir()).toBe(path.resolve(__dirname, "..", "..", "checkpoints"));
    process.env[CHECKPOINTS_ENV] = tmp;
    expect(checkpointPath("ring-mlp")).toBe(path.join(tmp, "ring-mlp"));
  } finally {
    if (saved === undefined) delete process.env[CHECKPOINTS_ENV];
    else process.env[CHECKPOINTS_ENV] = saved;
  }
});

test("unsupported dtypes are refused", () => {
  const t = { b: tf.tensor1d([true, false], "bool") };
  expect(() => saveCheckpoint(path.join(tmp, "bool"), t)).toThrow(/only float32 and int32/);
  tf.dispose(t);
});
