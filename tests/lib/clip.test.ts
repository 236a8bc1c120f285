/**
 * lib/src/clip/: the symmetric InfoNCE loss (closed forms, stock definition, gradient against
 * its closed form and finite differences on cpu), ClipModel (shapes, unit embeddings, the
 * clamped temperature, determinism, checkpoints, time conditioning, gradients, leaks after a
 * training step), zero-shot classification and recall@k on hand-made embeddings, and a short
 * end-to-end training run on captioned Fashion-MNIST.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { EOS_ID, PAD_ID } from "../../lib/src/text/tokenizer";
import { captionMaxTokens, captionTokenizer, captionedBatch, loadCaptionedFashion, promptsFor } from "../../lib/src/data/captionedFashion";
import { infoNceLoss, similarityMatrix } from "../../lib/src/clip/loss";
import { ClipConfig, ClipModel, DEFAULT_CLIP_CONFIG, DEFAULT_NOISY_CLIP_CONFIG } from "../../lib/src/clip/model";
import { embedInBatches, retrievalRecall, zeroShotAccuracy, zeroShotPredict } from "../../lib/src/clip/zeroShot";
import { expectClose, onBackend } from "./gradcheck";

const TINY: ClipConfig = {
  embedDim: 6,
  image: { imageSize: 8, inChannels: 3, channels: [4, 8], groups: 2, featureDim: 8 },
  text: { vocabSize: 9, maxLen: 6, width: 8, heads: 2, layers: 1 },
};
const IDS = [4, 5, EOS_ID, PAD_ID, 7, 6, 8, EOS_ID, 8, EOS_ID, PAD_ID, PAD_ID, 5, 4, EOS_ID, PAD_ID]; // [4, 4]

beforeAll(async () => {
  await initBackend();
});

const read = (t: tf.Tensor) => {
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
};
const scalar = (t: tf.Tensor) => read(t)[0];

function setLogitScale(m: ClipModel, v: number): void {
  tf.tidy(() => (m.getWeights().logitScale as tf.Variable).assign(tf.scalar(v)));
}

/** Random images [4, 8, 8, 3] and the ids [4, 4] for TINY. */
function tinyBatch(seed: number): { x: tf.Tensor4D; ids: tf.Tensor2D } {
  return { x: new Rng(seed).randn([4, 8, 8, 3]) as tf.Tensor4D, ids: tf.tensor2d(IDS, [4, 4], "int32") };
}

describe("infoNceLoss", () => {
  test.each([1, 3, 8])("uniform logits give log B (B = %i)", (B) => {
    expect(scalar(infoNceLoss(tf.fill([B, B], 2.5) as tf.Tensor2D))).toBeCloseTo(Math.log(B), 5);
  });

  test.each([1, 5, 1 / 0.07])("aligned orthonormal pairs at scale s = %f give log(1 + (B − 1)e^(−s))", (s) => {
    const B = 4;
    const want = Math.log(1 + (B - 1) * Math.exp(-s));
    expect(scalar(tf.tidy(() => infoNceLoss(tf.mul(tf.eye(B), s) as tf.Tensor2D)))).toBeCloseTo(want, 5);
    // the same through ClipModel.logits with u = v = the first B basis vectors of R^E
    const m = new ClipModel(TINY, new Rng(0));
    setLogitScale(m, Math.log(s));
    const got = tf.tidy(() => {
      const u = tf.slice(tf.eye(6), [0, 0], [B, 6]) as tf.Tensor2D;
      return infoNceLoss(m.logits(u, u));
    });
    expect(scalar(got)).toBeCloseTo(want, 4);
    m.dispose();
  });

  test("equals the mean of the two stock softmax cross-entropies (asymmetric logits)", () => {
    const B = 5;
    const logits = tf.tensor2d(new Rng(1).normalArray(B * B).map((v) => 3 * v), [B, B]);
    const want = tf.tidy(() => tf.div(tf.add(tf.losses.softmaxCrossEntropy(tf.eye(B), logits), tf.losses.softmaxCrossEntropy(tf.eye(B), tf.transpose(logits))), 2));
    expect(scalar(infoNceLoss(logits))).toBeCloseTo(scalar(want), 5);
    logits.dispose();
  });

  test("gradient equals (softmax_rows(S) + softmax_cols(S))/(2B) − I/B, and no tensors leak", () => {
    const B = 6;
    const S = new Rng(2).normalArray(B * B).map((v) => 2 * v);
    const before = tf.memory().numTensors;
    const St = tf.tensor2d(S, [B, B]);
    const got = read(tf.grad((l: tf.Tensor) => infoNceLoss(l as tf.Tensor2D))(St));
    St.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = new Float64Array(B * B);
    for (let i = 0; i < B; i++) {
      const zr = Array.from({ length: B }, (_, j) => Math.exp(S[i * B + j])).reduce((a, b) => a + b, 0);
      const zc = Array.from({ length: B }, (_, j) => Math.exp(S[j * B + i])).reduce((a, b) => a + b, 0);
      for (let j = 0; j < B; j++) {
        want[i * B + j] += Math.exp(S[i * B + j]) / zr / (2 * B) - (i === j ? 1 / B : 0);
        want[j * B + i] += Math.exp(S[j * B + i]) / zc / (2 * B);
      }
    }
    expectClose(got, want, 1e-6, 1e-4);
  });

  test("gradient matches central finite differences on the cpu backend", async () => {
    await onBackend("cpu", () => {
      const B = 4;
      const S = new Rng(3).normalArray(B * B);
      const f = (v: Float32Array) => scalar(tf.tidy(() => infoNceLoss(tf.tensor2d(v, [B, B]))));
      const g = read(tf.tidy(() => tf.grad((l: tf.Tensor) => infoNceLoss(l as tf.Tensor2D))(tf.tensor2d(S, [B, B]))));
      const h = 1e-2;
      const fd = Array.from(S, (keep, i) => {
        S[i] = keep + h;
        const up = f(S);
        S[i] = keep - h;
        const down = f(S);
        S[i] = keep;
        return (up - down) / (2 * h);
      });
      expectClose(g, fd, 2e-4, 1e-2);
    });
  });

  test("similarityMatrix is a·bᵀ; bad shapes throw", () => {
    const a = tf.tensor2d([1, 0, 0, 0.6, 0.8, 0], [2, 3]);
    const b = tf.tensor2d([0, 1, 0, 0.6, 0.8, 0, 1, 0, 0], [3, 3]);
    expectClose(read(similarityMatrix(a, b)), [0, 0.6, 1, 0.8, 1, 0.6], 1e-6, 0);
    expect(() => similarityMatrix(a, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/a \[N, E\] and b \[M, E\]/);
    expect(() => infoNceLoss(tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/square logits/);
    tf.dispose([a, b]);
  });
});

describe("ClipModel", () => {
  test("the default config fits the captioned Fashion-MNIST tokenizer; unit embeddings of width E", () => {
    expect(DEFAULT_CLIP_CONFIG.text.vocabSize).toBe(captionTokenizer().size);
    expect(captionMaxTokens()).toBeLessThanOrEqual(DEFAULT_CLIP_CONFIG.text.maxLen);
    const m = new ClipModel(DEFAULT_CLIP_CONFIG, new Rng(0));
    const names = Object.keys(m.getWeights());
    expect(names).toContain("image.proj.w");
    expect(names).toContain("text.tok.emb");
    expect(names).toContain("text.proj.w");
    expect(names.some((n) => n.includes("logits"))).toBe(false);
    expect(names.every((n) => /^(image|text)\./.test(n) || n === "logitScale")).toBe(true);
    expect(m.numParams()).toBe(m.imageTower.numParams() + m.textTower.numParams() + 64 * 64 + 64 + 1);
    expect(m.timeConditional).toBe(false);
    const x = new Rng(1).randn([3, 16, 16, 3]) as tf.Tensor4D;
    const ids = captionTokenizer().encodeTensor(["a red sneaker", "a photo of a blue bag", "green coat"], captionMaxTokens());
    const u = m.encodeImages(x);
    const v = m.encodeTexts(ids);
    expect(u.shape).toEqual([3, 64]);
    expect(v.shape).toEqual([3, 64]);
    expectClose(read(tf.tidy(() => tf.sum(tf.square(u), 1))), [1, 1, 1], 1e-5, 0);
    expectClose(read(tf.tidy(() => tf.sum(tf.square(v), 1))), [1, 1, 1], 1e-5, 0);
    expect(m.scale).toBeCloseTo(1 / 0.07, 4);
    // logits = s·u·vᵀ
    expectClose(read(m.logits(u, v)), read(tf.tidy(() => tf.mul(tf.matMul(u, v, false, true), 1 / 0.07))), 1e-4, 1e-5);
    tf.dispose([x, ids, u, v]);
    m.dispose();
  });

  test("noised CLIP: the image tower needs t and depends on it", () => {
    const m = new ClipModel({ ...TINY, image: { ...TINY.image, timeDim: 8 } }, new Rng(2));
    expect(m.timeConditional).toBe(true);
    expect(DEFAULT_NOISY_CLIP_CONFIG.image.timeDim).toBe(32);
    // make the zero-initialised second convs random so the time bias reaches the output
    tf.tidy(() => Object.entries(m.getWeights()).forEach(([n, v], i) => /conv2\.w$/.test(n) && (v as tf.Variable).assign(new Rng(i).randn(v.shape))));
    const x = new Rng(3).randn([2, 8, 8, 3]) as tf.Tensor4D;
    expect(() => m.encodeImages(x)).toThrow(/noise-conditional; pass t/);
    const a = read(m.encodeImages(x, 10));
    const b = read(m.encodeImages(x, tf.tensor1d([10, 10], "int32")));
    const c = read(m.encodeImages(x, 800));
    expectClose(a, b, 1e-6, 0);
    expect(Math.max(...a.map((v, i) => Math.abs(v - c[i])))).toBeGreaterThan(1e-3);
    x.dispose();
    m.dispose();
  });

  test("the logit scale is clamped at 100: in the forward pass (zero gradient above) and by clampLogitScale", () => {
    const m = new ClipModel(TINY, new Rng(4));
    const { x, ids } = tinyBatch(5);
    const gradScale = () => {
      const { value, grads } = tf.variableGrads(() => m.loss(x, ids), [m.getWeights().logitScale as tf.Variable]);
      const g = scalar(Object.values(grads)[0]);
      value.dispose();
      return g;
    };
    expect(Math.abs(gradScale())).toBeGreaterThan(1e-4);
    setLogitScale(m, 6);
    expect(m.scale).toBeCloseTo(100, 3);
    const u = m.encodeImages(x);
    const v = m.encodeTexts(ids);
    expectClose(read(m.logits(u, v)), read(tf.tidy(() => tf.mul(similarityMatrix(u, v), 100))), 1e-3, 1e-5);
    expect(gradScale()).toBe(0);
    m.clampLogitScale();
    expect(scalar(m.getWeights().logitScale.clone())).toBeCloseTo(Math.log(100), 5);
    setLogitScale(m, 1);
    m.clampLogitScale();
    expect(scalar(m.getWeights().logitScale.clone())).toBeCloseTo(1, 6);
    expect(() => new ClipModel({ ...TINY, initLogitScale: 5 }, new Rng(0))).toThrow(/exceeds maxLogitScale/);
    expect(() => m.loss(x, tf.slice(ids, [0, 0], [3, 4]))).toThrow(/4 images but 3 captions/);
    tf.dispose([x, ids, u, v]);
    m.dispose();
  });

  test("determinism from a seed, and setWeights carries a model over", () => {
    const { x, ids } = tinyBatch(6);
    const [a, b, c] = [7, 7, 8].map((s) => new ClipModel(TINY, new Rng(s)));
    const [la, lb, lc] = [a, b, c].map((m) => scalar(m.loss(x, ids)));
    expect(la).toBe(lb);
    expect(Math.abs(la - lc)).toBeGreaterThan(1e-4);
    c.setWeights(a.getWeights());
    expect(scalar(c.loss(x, ids))).toBe(la);
    tf.dispose([x, ids]);
    [a, b, c].forEach((m) => m.dispose());
  });

  test("loss gradients match central finite differences on the cpu backend", async () => {
    await onBackend("cpu", () => {
      const m = new ClipModel(TINY, new Rng(9));
      const { x, ids } = tinyBatch(10);
      const names = ["image.in.w", "image.block1.skip.w", "image.features.b", "image.proj.w", "text.tok.emb", "text.layer0.attn.qkv.w", "text.layer0.mlp.1.w", "text.proj.w", "logitScale"];
      const weights = m.getWeights();
      const vars = names.map((n) => weights[n] as tf.Variable);
      const { value, grads } = tf.variableGrads(() => m.loss(x, ids), vars);
      value.dispose();
      const rng = new Rng(11);
      const h = 2e-3; // the text embeddings start at std 0.02, so a larger step leaves the linear regime
      names.forEach((n, k) => {
        const g = read(grads[vars[k].name]);
        const data = vars[k].dataSync().slice() as Float32Array;
        const picks = n === "text.tok.emb" ? [4 * 8, 5 * 8 + 3, EOS_ID * 8 + 1] : [0, 1, 2].map(() => rng.int(data.length));
        const set = () => tf.tidy(() => vars[k].assign(tf.tensor(data, vars[k].shape)));
        const fd = picks.map((i) => {
          const keep = data[i];
          data[i] = keep + h;
          set();
          const up = scalar(m.loss(x, ids));
          data[i] = keep - h;
          set();
          const down = scalar(m.loss(x, ids));
          data[i] = keep;
          set();
          return (up - down) / (2 * h);
        });
        try {
          expectClose(picks.map((i) => g[i]), fd, 3e-3, 1e-2); // float32 loss ≈ 1.4: rounding ~1e-7·1.4/h
        } catch (e) {
          throw new Error(`${n}: ${(e as Error).message}`);
        }
      });
      tf.dispose([x, ids]);
      m.dispose();
    });
  });

  test("no tensors leak from encoding or from an Adam training step", () => {
    const m = new ClipModel(TINY, new Rng(12));
    const { x, ids } = tinyBatch(13);
    const opt = tf.train.adam(1e-3);
    const step = () => {
      opt.minimize(() => m.loss(x, ids), false, m.variables); // returns null: the cost is not kept
      m.clampLogitScale();
    };
    step(); // Adam creates its moment variables on the first step
    const before = tf.memory().numTensors;
    step();
    const u = m.encodeImages(x);
    const v = m.encodeTexts(ids);
    tf.dispose([u, v, m.logits(u, v), m.loss(x, ids)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ids]);
    opt.dispose();
    m.dispose();
  });
});

describe("zero-shot classification and retrieval", () => {
  test("zero-shot predictions and accuracy on hand-made embeddings, in any batch size", () => {
    const prompts = tf.eye(3) as tf.Tensor2D;
    // argmax: 0, 2, 1, and a tie between 0 and 1 (→ 0)
    const images = tf.tensor2d([0.9, 0.1, 0, 0, 0.2, 0.8, 0.1, 0.7, 0.2, 0.5, 0.5, 0], [4, 3]);
    for (const bs of [1, 3, 1024]) {
      expect(Array.from(zeroShotPredict(images, prompts, bs))).toEqual([0, 2, 1, 0]);
      const r = zeroShotAccuracy(images, prompts, [0, 2, 2, 0], bs);
      expect(r.accuracy).toBe(0.75);
    }
    expect(() => zeroShotAccuracy(images, prompts, [0, 1])).toThrow(/2 labels for 4 images/);
    expect(() => zeroShotPredict(images, tf.zeros([3, 2]) as tf.Tensor2D)).toThrow(/\[·, E\]/);
    expect(() => zeroShotPredict(images, prompts, 0)).toThrow(/batchSize/);
    tf.dispose([prompts, images]);
  });

  test("recall@k in both directions on a hand-made similarity matrix", () => {
    // images = basis vectors, so ⟨u_i, v_j⟩ = S[i][j] with the texts v_j = column j of S
    const S = [
      [0.9, 0.1, 0.0, 0.3],
      [0.8, 0.5, 0.2, 0.1],
      [0.1, 0.6, 0.4, 0.7],
      [0.0, 0.2, 0.3, 0.6],
    ];
    const images = tf.eye(4) as tf.Tensor2D;
    const texts = tf.tensor2d(S[0].map((_, j) => S.map((row) => row[j]))); // row j = column j of S
    // image → text ranks (row i, entries above S_ii): 0, 1, 2, 0; text → image (column j): 0, 1, 0, 1
    for (const bs of [1, 3, 1024]) {
      const r = retrievalRecall(images, texts, [1, 2, 3], bs);
      expect(r.imageToText).toEqual({ 1: 0.5, 2: 0.75, 3: 1 });
      expect(r.textToImage).toEqual({ 1: 0.5, 2: 1, 3: 1 });
    }
    // duplicate captions tie with the partner and do not push it down
    const dupT = tf.tensor2d([1, 1, 1, 1], [2, 2]);
    const dupI = tf.eye(2) as tf.Tensor2D;
    expect(retrievalRecall(dupI, dupT, [1]).imageToText[1]).toBe(1);
    expect(() => retrievalRecall(images, tf.zeros([3, 4]) as tf.Tensor2D)).toThrow(/pairs must match by row/);
    expect(() => retrievalRecall(images, texts, [0])).toThrow(/ks must be positive/);
    tf.dispose([images, texts, dupT, dupI]);
  });

  test("recall@k equals a brute-force count on random embeddings; no tensors leak", () => {
    const N = 37;
    const E = 5;
    const rng = new Rng(14);
    const u = rng.normalArray(N * E);
    const v = rng.normalArray(N * E);
    const dot = (a: Float32Array, i: number, b: Float32Array, j: number) => Array.from({ length: E }, (_, d) => a[i * E + d] * b[j * E + d]).reduce((p, q) => p + q, 0);
    const brute = (q: Float32Array, k: Float32Array, kk: number) => {
      let hits = 0;
      for (let i = 0; i < N; i++) {
        const own = dot(q, i, k, i);
        let rank = 0;
        for (let j = 0; j < N; j++) if (dot(q, i, k, j) > own + 1e-5) rank++;
        if (rank < kk) hits++;
      }
      return hits / N;
    };
    const ui = tf.tensor2d(u, [N, E]);
    const vt = tf.tensor2d(v, [N, E]);
    const before = tf.memory().numTensors;
    const r = retrievalRecall(ui, vt, [1, 5, 10], 8);
    zeroShotAccuracy(ui, vt, new Int32Array(N), 8);
    expect(tf.memory().numTensors).toBe(before);
    for (const k of [1, 5, 10]) {
      expect(r.imageToText[k]).toBeCloseTo(brute(u, v, k), 10);
      expect(r.textToImage[k]).toBeCloseTo(brute(v, u, k), 10);
    }
    expect(r.imageToText[1]).toBeLessThan(r.imageToText[10]);
    tf.dispose([ui, vt]);
  });

  test("embedInBatches concatenates batch results and frees the parts, even on error", () => {
    const all = tf.tensor2d(Array.from({ length: 20 }, (_, i) => i), [10, 2]);
    const before = tf.memory().numTensors;
    const calls: Array<[number, number]> = [];
    const got = embedInBatches(10, 4, (s, e) => {
      calls.push([s, e]);
      return tf.slice(all, [s, 0], [e - s, 2]);
    });
    expect(calls).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(Array.from(read(got))).toEqual(Array.from(all.dataSync()));
    expect(() => embedInBatches(10, 4, () => tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(/f\(8, 10\) returned \[4,2\]/);
    expect(tf.memory().numTensors).toBe(before);
    all.dispose();
  });
});

describe("end to end", () => {
  test("100 Adam steps on 320 captioned images make the InfoNCE loss drop and colour zero-shot work", () => {
    const N = 320;
    const B = 64;
    const ds = loadCaptionedFashion("train", { limit: N });
    const tok = captionTokenizer();
    const L = captionMaxTokens();
    const cfg: ClipConfig = { embedDim: 32, image: { imageSize: 16, inChannels: 3, channels: [8, 16], featureDim: 32, groups: 4 }, text: { vocabSize: tok.size, maxLen: L, width: 32, heads: 2, layers: 1 } };
    const m = new ClipModel(cfg, new Rng(0));
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(3e-3);
    const rng = new Rng(1);
    const losses: number[] = [];
    for (let s = 0; s < 100; s++) {
      const idx = Int32Array.from({ length: B }, () => rng.int(N));
      const x = captionedBatch(ds, idx);
      const ids = tok.encodeTensor(Array.from(idx, (i) => ds.captions[i]), L);
      losses.push(scalar(opt.minimize(() => m.loss(x, ids), true, m.variables) as tf.Scalar));
      m.clampLogitScale();
      tf.dispose([x, ids]);
    }
    const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    expect(Math.abs(losses[0] - Math.log(B))).toBeLessThan(0.5); // near chance at the start
    expect(mean(losses.slice(-10))).toBeLessThan(0.75 * mean(losses.slice(0, 10)));
    const img = embedInBatches(N, 128, (s, e) => tf.tidy(() => m.encodeImages(tf.tensor4d(ds.images.subarray(s * 768, e * 768), [e - s, 16, 16, 3]))));
    const promptIds = tok.encodeTensor(promptsFor("colour"), L);
    const prompts = m.encodeTexts(promptIds);
    expect(zeroShotAccuracy(img, prompts, ds.colours).accuracy).toBeGreaterThan(0.5); // chance: 1/6
    tf.dispose([img, prompts, promptIds]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
