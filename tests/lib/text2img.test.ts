/**
 * lib/src/text2img/: the context-conditional U-Net and MLP (the zero vector is ∅), the
 * text-to-image recipes (GLIDE, unCLIP decoder and prior) trained from a frozen CLIP, and the three
 * samplers (classifier-free guidance on the caption, CLIP guidance with a noised CLIP, the prior),
 * all seeded and leak-free.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { loadCaptionedFashion } from "../../lib/src/data/captionedFashion";
import { UNet, UNetConfig } from "../../lib/src/nets/unet";
import { MlpDenoiser } from "../../lib/src/nets/mlp";
import { loadClip, saveClip, trainClipRecipe } from "../../lib/src/clip/train";
import { decoderContext, scaledTextEmbeddings } from "../../lib/src/text2img/context";
import { TEXT2IMG_RECIPES, Text2ImgRecipe, loadText2Img, saveText2Img, trainText2ImgRecipe } from "../../lib/src/text2img/train";
import { clipGuidedSampler, contextCfgSampler, samplePrior } from "../../lib/src/text2img/sample";
import { sampleImages } from "../../lib/src/imageSampling";
import { randomizeZeroInit, readAndDispose, tinyClipRecipe } from "./imageFixtures";

beforeAll(async () => {
  await initBackend();
});

const clipRecipe = (noisy: boolean) => tinyClipRecipe(noisy, { steps: 2, batchSize: 16, learningRate: 1e-3, warmup: 1, seed: 0 });
const data = loadCaptionedFashion("train", { limit: 64 });
const TINY_UNET: UNetConfig = { imageSize: 16, inChannels: 3, channels: [8, 8], groups: 4, contextDim: 8 };
const recipe = (kind: "glide" | "decoder" | "prior"): Text2ImgRecipe => ({
  kind: kind === "prior" ? "prior" : "text-unet",
  name: `tiny-${kind}`,
  description: "test",
  net: kind === "prior" ? { dataDim: 8, hidden: 16, depth: 2, timeDim: 8, contextDim: 8 } : { ...TINY_UNET, contextDim: kind === "decoder" ? 16 : 8 },
  clip: "tiny-clip",
  context: kind === "decoder" ? "image+text" : "text",
  dropout: kind === "decoder" ? { image: 0.1, text: 0.5 } : { text: 0.2 },
  data: { dataset: "captioned-fashion" },
  schedule: { kind: "cosine", T: 100 },
  train: { steps: 3, batchSize: 8, learningRate: 1e-3, warmup: 1, seed: 0 },
});

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "t2i-"));
  for (const noisy of [false, true]) {
    const c = trainClipRecipe(clipRecipe(noisy), { data, progress: "none" });
    saveClip(c, path.join(dir, c.recipe.name));
    c.net.dispose();
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("context conditioning", () => {
  test("U-Net: the context changes ε̂; omitted context = the zero vector (∅); wrong widths throw", () => {
    const net = new UNet(TINY_UNET, new Rng(0));
    randomizeZeroInit(net, 1);
    const xt = new Rng(2).randn([2, 16, 16, 3]) as tf.Tensor4D;
    const c = new Rng(3).randn([2, 8]) as tf.Tensor2D;
    const zero = tf.zeros([2, 8]) as tf.Tensor2D;
    const a = readAndDispose(net.apply(xt, 5, undefined, { context: c }));
    const none = readAndDispose(net.apply(xt, 5));
    expect(readAndDispose(net.apply(xt, 5, undefined, { context: zero }))).toEqual(none);
    expect(a).not.toEqual(none);
    expect(() => net.apply(xt, 5, undefined, { context: tf.zeros([2, 4]) as tf.Tensor2D })).toThrow(/context must be \[2, 8\]/);
    const plain = new UNet({ ...TINY_UNET, contextDim: 0 }, new Rng(0));
    expect(() => plain.apply(xt, 5, undefined, { context: c })).toThrow(/contextDim 0/);
    tf.dispose([xt, c, zero]);
    net.dispose();
    plain.dispose();
  });

  test("MLP: the context is part of the input; omitted = zeros", () => {
    const net = new MlpDenoiser({ dataDim: 4, hidden: 8, depth: 2, timeDim: 4, contextDim: 3 }, new Rng(0));
    const x = new Rng(1).randn([5, 4]) as tf.Tensor2D;
    const t = tf.fill([5], 7) as tf.Tensor1D;
    const c = new Rng(2).randn([5, 3]) as tf.Tensor2D;
    const z = tf.zeros([5, 3]) as tf.Tensor2D;
    expect(readAndDispose(net.apply(x, t, undefined, z))).toEqual(readAndDispose(net.apply(x, t)));
    expect(readAndDispose(net.apply(x, t, undefined, c))).not.toEqual(readAndDispose(net.apply(x, t)));
    expect(() => net.apply(x, t, undefined, tf.zeros([5, 2]) as tf.Tensor2D)).toThrow(/context must be \[5, 3\]/);
    tf.dispose([x, t, c, z]);
    net.dispose();
  });
});

describe("text-to-image recipes", () => {
  test("the course recipes: GLIDE on C_T, the decoder on [C_I, C_T], the prior over C_I given C_T", () => {
    expect(Object.keys(TEXT2IMG_RECIPES)).toEqual(["glide", "unclip-decoder", "unclip-prior"]);
    expect(TEXT2IMG_RECIPES.glide.context).toBe("text");
    expect(TEXT2IMG_RECIPES["unclip-decoder"].context).toBe("image+text");
    expect(TEXT2IMG_RECIPES["unclip-decoder"].dropout).toEqual({ image: 0.1, text: 0.5 });
    expect(TEXT2IMG_RECIPES["unclip-prior"].kind).toBe("prior");
  });

  test("GLIDE, decoder and prior train deterministically from a frozen CLIP, leave only the nets, and round-trip", () => {
    const before = tf.memory().numTensors;
    for (const kind of ["glide", "decoder", "prior"] as const) {
      const r = recipe(kind);
      const a = trainText2ImgRecipe(r, { data, progress: "none", logEvery: 1, clipDir: path.join(dir, "tiny-clip") });
      const b = trainText2ImgRecipe(r, { data, progress: "none", logEvery: 1, clipDir: path.join(dir, "tiny-clip") });
      expect(a.result.history).toEqual(b.result.history);
      expect(a.result.history.every((h) => Number.isFinite(h.loss) && h.loss > 0.2 && h.loss < 3)).toBe(true); // ε-MSE near 1 at init
      const ck = path.join(dir, r.name);
      saveText2Img(a, ck);
      const loaded = loadText2Img(r.name, ck);
      expect(loaded.recipe).toEqual(r);
      expect(loaded.net.numParams()).toBe(a.net.numParams());
      [a.net, b.net, loaded.net].forEach((n) => n.dispose());
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => trainText2ImgRecipe({ ...recipe("glide"), net: { ...TINY_UNET, contextDim: 16 } }, { data, progress: "none", clipDir: path.join(dir, "tiny-clip") })).toThrow(/contextDim is 16, but its context needs 8/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("samplers", () => {
  test("CFG on the caption: s = 1 equals the conditional model; s changes the result; no leaks", () => {
    const net = new UNet(TINY_UNET, new Rng(0));
    randomizeZeroInit(net, 4);
    const schedule = makeSchedule("cosine", 100);
    const ctx = new Rng(5).randn([3, 8]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const run = (s: number) => readAndDispose(sampleImages({ sampler: contextCfgSampler(net, ctx, s), labels: new Int32Array(3), schedule, rng: new Rng(1), imageShape: [16, 16, 3], numSteps: 3, batchSize: 2 }));
    const cond = readAndDispose(sampleImages({
      sampler: (_y, rows) => ({ model: (x, t) => tf.tidy(() => net.apply(x as tf.Tensor4D, t, undefined, { context: tf.slice(ctx, [rows.start, 0], [rows.end - rows.start, -1]) as tf.Tensor2D })) }),
      labels: new Int32Array(3), schedule, rng: new Rng(1), imageShape: [16, 16, 3], numSteps: 3, batchSize: 2,
    }));
    const s1 = run(1);
    s1.forEach((v, i) => expect(v).toBeCloseTo(cond[i], 5));
    expect(run(3)).not.toEqual(s1);
    expect(tf.memory().numTensors).toBe(before);
    ctx.dispose();
    net.dispose();
  });

  test("CLIP guidance needs a noised CLIP; s = 0 is the base model; s > 0 moves samples; no leaks", () => {
    const net = new UNet(TINY_UNET, new Rng(0));
    randomizeZeroInit(net, 4);
    const schedule = makeSchedule("cosine", 100);
    const { net: clean } = loadClip("tiny-clip", path.join(dir, "tiny-clip"));
    const { net: noisy } = loadClip("tiny-clip-noisy", path.join(dir, "tiny-clip-noisy"));
    const ctx = scaledTextEmbeddings(clean, ["a red sneaker", "a blue bag"]);
    const text = tf.div(ctx, Math.sqrt(8)) as tf.Tensor2D;
    expect(() => clipGuidedSampler(net, clean, ctx, text, 1, schedule)).toThrow(/needs a noised CLIP/);
    const before = tf.memory().numTensors;
    const run = (s: number) => readAndDispose(sampleImages({ sampler: clipGuidedSampler(net, noisy, ctx, text, s, schedule), labels: new Int32Array(2), schedule, rng: new Rng(2), imageShape: [16, 16, 3], numSteps: 3 }));
    const base = readAndDispose(sampleImages({ sampler: contextCfgSampler(net, ctx, 1), labels: new Int32Array(2), schedule, rng: new Rng(2), imageShape: [16, 16, 3], numSteps: 3 }));
    run(0).forEach((v, i) => expect(v).toBeCloseTo(base[i], 5));
    expect(run(50)).not.toEqual(base);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ctx, text]);
    [net, clean, noisy].forEach((n) => n.dispose());
  });

  test("the prior's samples lie on the √E sphere, are seeded, and depend on the caption; decoderContext concatenates", () => {
    const prior = new MlpDenoiser({ dataDim: 8, hidden: 16, depth: 2, timeDim: 8, contextDim: 8 }, new Rng(0));
    const schedule = makeSchedule("cosine", 100);
    const text = new Rng(3).randn([4, 8]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const z = samplePrior({ prior, textEmb: text, schedule, rng: new Rng(1), numSteps: 4, s: 2 });
    const norms = readAndDispose(tf.norm(z, "euclidean", 1));
    norms.forEach((n) => expect(n).toBeCloseTo(Math.sqrt(8), 4));
    const again = samplePrior({ prior, textEmb: text, schedule, rng: new Rng(1), numSteps: 4, s: 2 });
    expect(readAndDispose(again)).toEqual(Array.from(z.dataSync()));
    const ctx = decoderContext(z, text);
    expect(ctx.shape).toEqual([4, 16]);
    tf.dispose([z, ctx]);
    expect(tf.memory().numTensors).toBe(before);
    text.dispose();
    prior.dispose();
  });
});
