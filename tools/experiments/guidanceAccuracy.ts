/**
 * Experiment "guidance-accuracy": does classifier-free guidance at s = 3 make the shipped
 * fmnist-unet's samples more class-specific than s = 1 (the conditional model), as judged by the
 * shipped clean classifier? The seed's claim 2: "s > 1 sharpens class specificity".
 *
 * Papers: Ho & Salimans 2022 (classifier-free guidance, ε̃ = ε̂(z, ∅) + s·(ε̂(z, y) − ε̂(z, ∅)));
 * Wilson 1927 (accuracy intervals); Efron 1987 (BCa for the paired gain); Newcombe 1998 (the
 * unpaired difference, shown for comparison).
 *
 * Design: for each seed, the same class-balanced targets and the same x_T are sampled at s = 1
 * and s = 3 (DDIM, 20 steps, as notebook 03), so each image index is a pair and the gain is
 * measured per pair. Seeds draw independent noise, so pairs are pooled over seeds.
 *
 * | code        | meaning                                                      |
 * |-------------|--------------------------------------------------------------|
 * | `ok1`, `ok3`| per-image correctness (1 = judged as its target) at s = 1, 3 |
 * | `gain`      | mean(ok3 − ok1), the paired accuracy gain                    |
 *
 * Sizes: full = 3 seeds × 500 images per scale (50 per class); reduced = the first seed's first
 * 60 images per scale (the same noise as the full run's first 60), for CI.
 *
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
import {
  ImageEvaluator, ProgressBar, balancedLabels, cfgSampler, decideVerdict, deriveSeeds, loadClassifier, loadFashionMnist, loadUNet,
  newcombeDifference, pairedBootstrapCI, poolSamples, runSeeds, sampleImages, Rng, wilsonInterval, Interval, ReportItem,
} from "@course/lib";
import { Experiment, ExperimentContext, ExperimentOutput } from "./types";

const SCALES = [1, 3] as const;
const SIZES = { full: { seeds: 3, perClass: 50 }, reduced: { seeds: 1, perClass: 6 } } as const;
const NUM_STEPS = 20;

/** A report item from an interval. */
function item(name: string, iv: Interval, unit: string, meaning: string, seeds: number[]): ReportItem {
  return { name, value: iv.estimate, unit, meaning, n: iv.n, ci: [iv.lo, iv.hi], seeds };
}

function run(ctx: ExperimentContext): ExperimentOutput {
  const size = SIZES[ctx.size];
  const seeds = deriveSeeds(ctx.masterSeed, size.seeds);
  const unet = loadUNet("fmnist-unet");
  const clf = loadClassifier("fmnist-clf-clean");
  const evaluator = new ImageEvaluator(clf.net, loadFashionMnist("test"), { numReference: 500, seed: 0 });
  const labels = balancedLabels(10, size.perClass);
  const bar = new ProgressBar({ total: seeds.length * SCALES.length, label: `guidance-accuracy (${ctx.size})`, mode: ctx.progress });
  let done = 0;
  try {
    const perSeed = runSeeds(seeds, (seed) => {
      const ok = SCALES.map((s) => {
        const images = sampleImages({ sampler: cfgSampler(unet.net, s), labels, schedule: unet.schedule, rng: new Rng(seed), numSteps: NUM_STEPS });
        try {
          return evaluator.judge(images, labels);
        } finally {
          images.dispose();
          bar.update(++done, { s });
        }
      });
      return { ok1: ok[0], ok3: ok[1] };
    });
    bar.done();
    const ok1 = poolSamples(perSeed.map((r) => r.result.ok1));
    const ok3 = poolSamples(perSeed.map((r) => r.result.ok3));
    const n = ok1.length;
    const count = (v: Float64Array) => v.reduce((a, b) => a + b, 0);
    const acc1 = wilsonInterval(count(ok1), n);
    const acc3 = wilsonInterval(count(ok3), n);
    const gain = pairedBootstrapCI(ok3, ok1, { seed: ctx.masterSeed, resamples: 4000 });
    const unpaired = newcombeDifference(count(ok3), n, count(ok1), n);
    const verdict = decideVerdict({
      claim: "s > 1 sharpens class specificity",
      effect: "accuracy at s = 3 minus accuracy at s = 1 (paired, same noise)",
      direction: "greater",
      interval: { ...gain, n },
      seeds,
    });
    const items: ReportItem[] = [
      item("cfg accuracy s=1", acc1, "fraction", `judge accuracy of fmnist-unet samples at CFG s = 1 (conditional model), 95% Wilson interval, ${n} images`, seeds),
      item("cfg accuracy s=3", acc3, "fraction", `judge accuracy at CFG s = 3 on the same noise, 95% Wilson interval, ${n} images`, seeds),
      item("cfg accuracy gain s=3 vs s=1", { ...gain, n }, "fraction", `paired accuracy gain (s = 3 minus s = 1, same x_T), 95% BCa bootstrap interval over ${n} pairs`, seeds),
      item("cfg accuracy gain s=3 vs s=1 (unpaired)", unpaired, "fraction", "the same gain with Newcombe's interval for independent groups (conservative for pairs)", seeds),
    ];
    return {
      items,
      verdicts: [{ claim: "s > 1 sharpens class specificity", label: verdict.label, sentence: verdict.sentence }],
      checkpoints: ["fmnist-unet", "fmnist-clf-clean"],
      seeds,
      n,
      details: {
        scales: [...SCALES],
        numSteps: NUM_STEPS,
        sampler: "DDIM eta = 0, x0 clipped to [-1, 1]",
        perClass: size.perClass,
        judge: "fmnist-clf-clean, argmax",
        perSeed: perSeed.map((r) => ({ seed: r.seed, n: r.result.ok1.length, accuracyS1: count(Float64Array.from(r.result.ok1)) / r.result.ok1.length, accuracyS3: count(Float64Array.from(r.result.ok3)) / r.result.ok3.length })),
      },
    };
  } finally {
    evaluator.dispose();
    unet.net.dispose();
    clf.net.dispose();
  }
}

/** The experiment. */
export const guidanceAccuracy: Experiment = {
  name: "guidance-accuracy",
  description: "CFG accuracy at s = 1 vs s = 3 on fmnist-unet, judged by fmnist-clf-clean (claim: s > 1 sharpens class specificity)",
  masterSeed: 14,
  fullTime: "3,000 images; 21.6 min measured on wasm, 2 shared cores, before the ONNX engine",
  run,
};
