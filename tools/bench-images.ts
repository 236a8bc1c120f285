/**
 * Image-model rows of `npm run bench` (issue 4): the 16×16 U-Net's training step at batch 128,
 * its forward pass at batch 256, and guided DDIM sampling of 64 images × 50 steps with
 * classifier-free guidance (one batched 2B pass per step) and with classifier guidance (U-Net
 * forward + the noise-conditional classifier's input gradient per step). Issue 5 adds SR3
 * super-resolution 8×8 → 16×16 (64 images × 25 DDIM steps, reported per image). Weights are
 * freshly initialised: timings do not depend on training.
 */
import * as tf from "@tensorflow/tfjs";
import {
  ConvClassifier, DEFAULT_NOISY_CLASSIFIER_CONFIG, DEFAULT_UNET_CONFIG, Rng, UNet, classifierFreeGuidance,
  classifierGuidance, ddimStep, dsmLoss, epsModel, labelLogProb, makeSchedule, sample, superResolve,
} from "@course/lib";

type Timer = (f: () => void | Promise<void>, warm: number, reps: number) => Promise<number>;

/** Milliseconds for each image workload (median over repeats, as measured by `time`). */
export interface ImageBench {
  unetStepB128: number;
  unetForwardB256: number;
  cfgSample64x50: number;
  classifierGuidedSample64x50: number;
  /** SR3 8×8 → 16×16, 25 DDIM steps, per image (64 images in one batch). */
  srPerImage25: number;
}

export async function imageBench(time: Timer, quick: boolean): Promise<ImageBench> {
  const rng = new Rng(0);
  const net = new UNet(DEFAULT_UNET_CONFIG, rng.fork("unet"));
  const clf = new ConvClassifier(DEFAULT_NOISY_CLASSIFIER_CONFIG, rng.fork("clf"));
  const schedule = makeSchedule("cosine", 1000);
  const B = 128;
  const xt = rng.randn([B, 16, 16, 1]) as tf.Tensor4D; // [B, 16, 16, 1]
  const eps = rng.randn([B, 16, 16, 1]) as tf.Tensor4D; // [B, 16, 16, 1]
  const tt = tf.tensor1d(Int32Array.from({ length: B }, () => rng.int(1000)), "int32"); // [B]
  const cond = tf.tensor1d(Int32Array.from({ length: B }, (_, i) => i % 10), "int32"); // [B]
  const opt = tf.train.adam(1e-3);
  const unetStepB128 = await time(() => {
    const loss = opt.minimize(() => dsmLoss(net.apply(xt, tt, cond), eps), true, net.variables)!;
    loss.dataSync();
    loss.dispose();
  }, 1, quick ? 2 : 5);

  const x256 = rng.randn([256, 16, 16, 1]) as tf.Tensor4D; // [256, 16, 16, 1]
  const unetForwardB256 = await time(() => {
    const y = net.apply(x256, 500);
    y.dataSync();
    y.dispose();
  }, 1, quick ? 2 : 5);

  const labels = Int32Array.from({ length: 64 }, (_, i) => i % 10);
  const draw = (model: Parameters<typeof sample>[0]["model"], modifier?: Parameters<typeof sample>[0]["modifier"]) => () => {
    const x = sample({ model, modifier, schedule, step: ddimStep(0), shape: [64, 16, 16, 1], numSteps: 50, rng: new Rng(1) });
    x.dataSync();
    x.dispose();
  };
  const cfg = classifierFreeGuidance({ model: (x, t, c) => net.apply(x as tf.Tensor4D, t, c as tf.Tensor1D), cond: labels, nullCond: DEFAULT_UNET_CONFIG.numClasses as number, guidanceScale: 3 });
  const cfgSample64x50 = await time(draw(cfg), 0, 1);
  const guided = classifierGuidance({ logProb: labelLogProb((x, t) => clf.apply(x as tf.Tensor4D, t), labels), guidanceScale: 3, schedule });
  const classifierGuidedSample64x50 = await time(draw(epsModel(net, labels), guided), 0, 1);

  const srNet = new UNet({ ...DEFAULT_UNET_CONFIG, condChannels: 1, augConditioned: true }, rng.fork("sr"));
  const low = rng.randn([64, 8, 8, 1]) as tf.Tensor4D; // [64, 8, 8, 1]
  const srAll = await time(() => {
    const y = superResolve({ net: srNet, low, labels, level: 0.2, schedule, rng: new Rng(2), numSteps: 25 });
    y.dataSync();
    y.dispose();
  }, 0, 1);

  tf.dispose([xt, eps, tt, cond, x256, low]);
  opt.dispose();
  net.dispose();
  clf.dispose();
  srNet.dispose();
  return { unetStepB128, unetForwardB256, cfgSample64x50, classifierGuidedSample64x50, srPerImage25: srAll / 64 };
}
