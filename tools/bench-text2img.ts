/**
 * Text-to-image rows of `npm run bench` (issue 6): one CLIP training step at batch 256, and the
 * sampling time per image of the three systems of notebook 06 — GLIDE with classifier-free
 * guidance, GLIDE with CLIP guidance (noised CLIP gradient each step), and unCLIP (prior, then
 * decoder with classifier-free guidance) — 64 images, 20 DDIM steps (prior: 50), as the notebook
 * samples. Weights are freshly initialised: timings do not depend on training.
 */
import * as tf from "@tensorflow/tfjs";
import {
  ClipModel, DEFAULT_CLIP_CONFIG, DEFAULT_NOISY_CLIP_CONFIG, MlpDenoiser, Rng, TEXT2IMG_RECIPES, UNet, UNetConfig, MlpConfig,
  clipGuidedSampler, contextCfgSampler, decoderContext, makeSchedule, sampleImages, samplePrior,
} from "@course/lib";

type Timer = (f: () => void | Promise<void>, warm: number, reps: number) => Promise<number>;

/** Milliseconds (median over repeats, as measured by `time`). */
export interface Text2ImgBench {
  clipStepB256: number;
  glideCfgPerImage: number;
  glideClipPerImage: number;
  unclipPerImage: number;
}

export async function text2ImgBench(time: Timer, quick: boolean): Promise<Text2ImgBench> {
  const rng = new Rng(0);
  const schedule = makeSchedule("cosine", 1000);
  const clip = new ClipModel(DEFAULT_CLIP_CONFIG, rng.fork("clip"));
  const noisyClip = new ClipModel(DEFAULT_NOISY_CLIP_CONFIG, rng.fork("noisy"));
  const glide = new UNet(TEXT2IMG_RECIPES.glide.net as UNetConfig, rng.fork("glide"));
  const decoder = new UNet(TEXT2IMG_RECIPES["unclip-decoder"].net as UNetConfig, rng.fork("decoder"));
  const prior = new MlpDenoiser(TEXT2IMG_RECIPES["unclip-prior"].net as MlpConfig, rng.fork("prior"));
  const B = 256;
  const x = rng.randn([B, 16, 16, 3]) as tf.Tensor4D;
  const ids = tf.tensor2d(Int32Array.from({ length: B * 16 }, (_, i) => (i % 16 < 5 ? 4 + ((i * 7) % 60) : i % 16 === 5 ? 2 : 0)), [B, 16], "int32"); // 5 words, <eos>, padding
  const opt = tf.train.adam(1e-3);
  const clipStepB256 = await time(() => {
    const loss = opt.minimize(() => clip.loss(x, ids), true, clip.variables)!;
    loss.dataSync();
    loss.dispose();
  }, 1, quick ? 2 : 5);

  const N = 64;
  const text = rng.randn([N, 64]) as tf.Tensor2D;
  const unit = tf.tidy(() => tf.div(text, tf.norm(text, "euclidean", 1, true))) as tf.Tensor2D;
  const run = (sampler: Parameters<typeof sampleImages>[0]["sampler"]) => () => {
    const y = sampleImages({ sampler, labels: new Int32Array(N), schedule, rng: new Rng(1), imageShape: [16, 16, 3], numSteps: 20 });
    y.dataSync();
    y.dispose();
  };
  const glideCfg = await time(run(contextCfgSampler(glide, text, 3)), 0, 1);
  const glideClip = await time(run(clipGuidedSampler(glide, noisyClip, text, unit, 30, schedule)), 0, 1);
  const unclip = await time(() => {
    const z = samplePrior({ prior, textEmb: text, s: 2, schedule, rng: new Rng(2), numSteps: 50 });
    const ctx = decoderContext(z, text);
    run(contextCfgSampler(decoder, ctx, 3))();
    tf.dispose([z, ctx]);
  }, 0, 1);

  tf.dispose([x, ids, text, unit]);
  opt.dispose();
  for (const n of [clip, noisyClip, glide, decoder, prior]) n.dispose();
  return { clipStepB256, glideCfgPerImage: glideCfg / N, glideClipPerImage: glideClip / N, unclipPerImage: unclip / N };
}
