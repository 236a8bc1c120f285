/**
 * lib/src/clip/train.ts and evaluate.ts: CLIP recipes train deterministically from their seed, a
 * noised CLIP needs both a schedule and a time-conditioned image tower, checkpoints round-trip,
 * and zero-shot scoring (clean, or on z_t) agrees with a direct computation and leaks nothing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { makeSchedule } from "../../lib/src/schedules";
import { captionMaxTokens, captionTokenizer, captionedBatch, loadCaptionedFashion, promptsFor } from "../../lib/src/data/captionedFashion";
import { CLIP_RECIPES, getClipRecipe, loadClip, saveClip, trainClipRecipe } from "../../lib/src/clip/train";
import { embedCaptionedImages, embedTexts, zeroShotScore } from "../../lib/src/clip/evaluate";
import { tinyClipRecipe } from "./imageFixtures";

beforeAll(async () => {
  await initBackend();
});

const TINY = tinyClipRecipe(false);
const TINY_NOISY = tinyClipRecipe(true);
const data = loadCaptionedFashion("train", { limit: 96 });
const RUN = { data, progress: "none" as const, logEvery: 2 };
function flat(vars: tf.Variable[]): number[] {
  const t = tf.tidy(() => tf.concat(vars.map((v) => tf.reshape(v, [-1]))));
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

describe("CLIP recipes", () => {
  test("the course recipes: a clean CLIP and a noised one on the image models' schedule", () => {
    expect(Object.keys(CLIP_RECIPES)).toEqual(["clip", "clip-noisy"]);
    expect(getClipRecipe("clip").schedule).toBeUndefined();
    expect(getClipRecipe("clip-noisy").schedule).toEqual({ kind: "cosine", T: 1000 });
    expect(getClipRecipe("clip-noisy").net.image.timeDim).toBeDefined();
    expect(() => getClipRecipe("toString")).toThrow(/unknown CLIP recipe "toString"; known: clip, clip-noisy/);
  });

  test("training is deterministic from the seed, leaves only the nets, and round-trips through a checkpoint", () => {
    const before = tf.memory().numTensors;
    const a = trainClipRecipe(TINY, RUN);
    const b = trainClipRecipe(TINY, RUN);
    const c = trainClipRecipe(TINY, { ...RUN, seed: 3 });
    expect(a.result.history).toEqual(b.result.history);
    expect(c.result.history).not.toEqual(a.result.history);
    expect(a.result.history[0].loss).toBeCloseTo(Math.log(16), 0); // InfoNCE at init ≈ log B
    expect(a.meta).toMatchObject({ recipe: "tiny-clip", steps: 4, batchSize: 16 });
    expect(tf.memory().numTensors).toBe(before + 3 * a.net.variables.length);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clip-ck-"));
    saveClip(a, dir);
    const loaded = loadClip("tiny-clip", dir);
    expect(loaded.recipe).toEqual(TINY);
    expect(flat(loaded.net.variables)).toEqual(flat(a.net.variables));
    [a, b, c].forEach((r) => r.net.dispose());
    loaded.net.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  test("a noised CLIP trains on z_t; a schedule without a time-conditioned tower (or the reverse) is refused", () => {
    const before = tf.memory().numTensors;
    const n = trainClipRecipe(TINY_NOISY, RUN);
    expect(n.net.timeConditional).toBe(true);
    expect(n.schedule?.T).toBe(100);
    n.net.dispose();
    expect(() => trainClipRecipe({ ...TINY, schedule: { kind: "cosine", T: 100 } }, RUN)).toThrow(/needs both a schedule and an image tower with timeDim/);
    expect(() => trainClipRecipe({ ...TINY_NOISY, schedule: undefined }, RUN)).toThrow(/needs both/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("zero-shot scoring", () => {
  test("zeroShotScore equals a direct argmax over prompt similarities, for class, colour and pair; no leaks", () => {
    const { net } = trainClipRecipe(TINY, { ...RUN, steps: 2 });
    const test = loadCaptionedFashion("test", { limit: 40 });
    const before = tf.memory().numTensors;
    for (const kind of ["class", "colour", "pair"] as const) {
      const got = zeroShotScore(net, test, kind, { batchSize: 16 });
      const direct = tf.tidy(() => {
        const u = net.encodeImages(captionedBatch(test, Int32Array.from({ length: 40 }, (_, i) => i)));
        const w = net.encodeTexts(captionTokenizer().encodeTensor(promptsFor(kind), captionMaxTokens()));
        return tf.argMax(tf.matMul(u, w, false, true), 1);
      });
      const pred = Array.from(direct.dataSync());
      direct.dispose();
      const label = (i: number) => (kind === "class" ? test.labels[i] : kind === "colour" ? test.colours[i] : test.labels[i] * 6 + test.colours[i]);
      expect(got).toBeCloseTo(pred.filter((p, i) => p === label(i)).length / 40, 6);
    }
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  test("noised scoring: t = 0 equals clean images; t > 0 changes the embeddings; t needs a schedule", () => {
    const { net } = trainClipRecipe(TINY, { ...RUN, steps: 1 });
    const test = loadCaptionedFashion("test", { limit: 12 });
    const schedule = makeSchedule("cosine", 100);
    const clean = embedCaptionedImages(net, test);
    const t0 = embedCaptionedImages(net, test, { t: 0, schedule });
    const t80 = embedCaptionedImages(net, test, { t: 80, schedule, seed: 2 });
    expect(Array.from(t0.dataSync())).toEqual(Array.from(clean.dataSync()));
    expect(Array.from(t80.dataSync())).not.toEqual(Array.from(clean.dataSync()));
    expect(() => embedCaptionedImages(net, test, { t: 5 })).toThrow(/need the schedule/);
    const w = embedTexts(net, ["a red sneaker", "a photo of a blue bag"]);
    expect(w.shape).toEqual([2, 8]);
    tf.dispose([clean, t0, t80, w]);
    net.dispose();
    const noisy = trainClipRecipe(TINY_NOISY, { ...RUN, steps: 1 });
    expect(() => embedCaptionedImages(noisy.net, test)).toThrow(/needs t/);
    noisy.net.dispose();
  });
});
