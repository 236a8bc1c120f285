/**
 * A guidance-scale sweep: for each scale s, sample the same class-balanced targets from the same
 * noise, score the images with an {@link ImageEvaluator}, and keep a few per class for grids.
 * Notebooks 02 and 03 run it for classifier guidance and classifier-free guidance, so the two
 * methods are measured by one piece of code.
 *
 * Papers: Dhariwal & Nichol 2021 (Fig. 5/Table 4: precision rises and recall falls with the
 * classifier scale); Ho & Salimans 2022 (Fig. 4: FID against Inception Score as w grows).
 *
 * | code    | math                                        |
 * |---------|---------------------------------------------|
 * | s       | guidance scale                              |
 * | rows[i] | metrics of the samples at scales[i]         |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 * @see notebooks/03_classifier_free_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "./random";
import { Schedule } from "./schedules";
import { GuidedSampler, sampleImages } from "./imageSampling";
import { ImageEvaluator, ImageMetrics } from "./imageEval";
import { ProgressBar, ProgressMode } from "./progress";
import { StepFn } from "./samplers";
import { ReportItem } from "./report";
import { TableColumn } from "./table";

/**
 * One scale's result.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface SweepRow extends ImageMetrics {
  s: number;
  /** Shown instead of s in tables, e.g. "real data" for a reference row. */
  label?: string;
  /** Wall-clock seconds to sample this scale's images. */
  seconds: number;
}

/**
 * Options of {@link guidanceSweep}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface GuidanceSweepOptions {
  scales: number[];
  /** The sampler at scale s. */
  samplerFor: (s: number) => GuidedSampler;
  /** Target class per sample (same for every scale). */
  labels: Int32Array;
  evaluator: ImageEvaluator;
  schedule: Schedule;
  /** Seed of the noise: every scale starts from the same x_T. */
  seed: number;
  numSteps?: number;
  batchSize?: number;
  /** Images kept per scale for grids: the first `keep` (default 20). */
  keep?: number;
  /** Image shape [S, S, C] (default [16, 16, 1]; [16, 16, 3] for the colour images of notebook 06). */
  imageShape?: [number, number, number];
  /** Step function (default DDIM, η = 0). */
  step?: StepFn;
  progress?: ProgressMode;
}

/**
 * What {@link guidanceSweep} returns: the metric rows and the kept images per scale
 * ([keep, S, S, C] as plain arrays, so nothing needs disposing).
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface SweepResult {
  rows: SweepRow[];
  kept: { s: number; images: Float32Array; shape: [number, number, number, number] }[];
}

/**
 * Run the sweep. Each scale samples `labels.length` images with DDIM from the same seed, so the
 * differences between rows come from s alone. Leaves no tensors behind.
 *
 * @example const { rows } = guidanceSweep({ scales: [0, 1, 4], samplerFor: (s) => cfgSampler(unet, s), labels, evaluator, schedule, seed: 0 });
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function guidanceSweep(opts: GuidanceSweepOptions): SweepResult {
  const { scales, labels, evaluator, schedule, seed } = opts;
  if (scales.length === 0) throw new Error("guidanceSweep: no scales");
  const keep = Math.min(opts.keep ?? 20, labels.length);
  const bar = new ProgressBar({ total: scales.length, label: "guidance sweep", mode: opts.progress ?? "auto" });
  const rows: SweepRow[] = [];
  const kept: SweepResult["kept"] = [];
  for (let i = 0; i < scales.length; i++) {
    const s = scales[i];
    const t0 = performance.now();
    const images = sampleImages({ sampler: opts.samplerFor(s), labels, schedule, rng: new Rng(seed), numSteps: opts.numSteps, batchSize: opts.batchSize, imageShape: opts.imageShape, step: opts.step });
    const seconds = (performance.now() - t0) / 1000;
    try {
      rows.push({ s, seconds, ...evaluator.evaluate(images, labels) });
      const head = tf.tidy(() => tf.slice(images, 0, keep));
      kept.push({ s, images: head.dataSync() as Float32Array, shape: head.shape as [number, number, number, number] });
      head.dispose();
    } finally {
      images.dispose();
    }
    bar.update(i + 1, { s, accuracy: rows[i].accuracy });
  }
  bar.done();
  return { rows, kept };
}

/**
 * The sweep table's columns: s, accuracy, precision, recall, diversity, FID-style distance, IS proxy.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const SWEEP_COLUMNS: TableColumn<SweepRow>[] = [
  { header: "s", value: (r) => r.label ?? r.s },
  { header: "accuracy %", value: (r) => 100 * r.accuracy, format: (v) => v.toFixed(1) },
  { header: "precision", value: (r) => r.precision, format: (v) => v.toFixed(3) },
  { header: "recall", value: (r) => r.recall, format: (v) => v.toFixed(3) },
  { header: "diversity", value: (r) => r.diversity, format: (v) => v.toFixed(3) },
  { header: "FID-style", value: (r) => r.fid, format: (v) => v.toFixed(2) },
  { header: "IS proxy", value: (r) => r.inceptionScore, format: (v) => v.toFixed(2) },
  { header: "sample s", value: (r) => r.seconds, format: (v) => v.toFixed(1) },
];

/**
 * Report items for a sweep: accuracy, recall, diversity and FID-style distance at every scale,
 * named `<prefix> <metric> s=<s>` (e.g. "cg accuracy s=8"), so tests can check the trade-off
 * from the executed notebook's own numbers.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function sweepReportItems(prefix: string, rows: SweepRow[]): ReportItem[] {
  const items: ReportItem[] = [];
  for (const r of rows) {
    items.push(
      { name: `${prefix} accuracy s=${r.s}`, value: r.accuracy, unit: "fraction", meaning: `evaluator accuracy of samples guided at s=${r.s}` },
      { name: `${prefix} precision s=${r.s}`, value: r.precision, unit: "fraction", meaning: `improved precision (k-NN) at s=${r.s}` },
      { name: `${prefix} recall s=${r.s}`, value: r.recall, unit: "fraction", meaning: `improved recall (k-NN) at s=${r.s}` },
      { name: `${prefix} diversity s=${r.s}`, value: r.diversity, unit: "feature distance", meaning: `mean within-class pairwise feature distance at s=${r.s}` },
      { name: `${prefix} fid s=${r.s}`, value: r.fid, unit: "", meaning: `FID-style distance to held-out test images at s=${r.s}` },
    );
  }
  return items;
}
