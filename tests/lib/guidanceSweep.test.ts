import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { makeSchedule } from "../../lib/src/schedules";
import { ConvClassifier } from "../../lib/src/nets/classifier";
import { ImageEvaluator } from "../../lib/src/imageEval";
import { GuidedSampler, balancedLabels, sampleImages } from "../../lib/src/imageSampling";
import { SWEEP_COLUMNS, SweepRow, guidanceSweep, sweepReportItems } from "../../lib/src/guidanceSweep";
import { tableBundle } from "../../lib/src/table";
import { validateReportItems } from "../../lib/src/report";
import { randomizeZeroInit, readAndDispose, tinyImageDataset } from "./imageFixtures";

beforeAll(async () => {
  await initBackend();
});

const schedule = makeSchedule("linear", 100);
const labels = balancedLabels(3, 4); // 12 samples
const data = tinyImageDataset(45, 31);
let clf: ConvClassifier;
let evaluator: ImageEvaluator;

beforeAll(() => {
  clf = new ConvClassifier({ imageSize: 16, inChannels: 1, channels: [8, 8], groups: 2, numClasses: 3, featureDim: 8 }, new Rng(32));
  randomizeZeroInit(clf, 33, 0.3);
  evaluator = new ImageEvaluator(clf, data, { numReference: 30 });
});
afterAll(() => {
  evaluator.dispose();
  clf.dispose();
});

/** A cheap closed-form "guided" model: ε̂ = (0.3 + 0.05·s)·x + 0.1·s·y (per-row class offset). */
function samplerFor(s: number): GuidedSampler {
  return (y) => ({
    model: (x) => tf.tidy(() => tf.add(tf.mul(x, 0.3 + 0.05 * s), tf.mul(tf.tensor1d(Array.from(y)).reshape([-1, 1, 1, 1]), 0.1 * s))),
  });
}

/** The sweep options shared by the tests (a function: the evaluator is built in beforeAll). */
const base = () => ({ samplerFor, labels, evaluator, schedule, seed: 7, numSteps: 3, batchSize: 5, progress: "none" as const });

/** A row without its wall-clock time, for comparisons. */
function timeless(r: SweepRow): Omit<SweepRow, "seconds"> {
  const { seconds: _s, ...rest } = r;
  return rest;
}

describe("guidanceSweep", () => {
  test("one row per scale, in order; each is the evaluator's score of sampleImages from the same seed", () => {
    const scales = [0, 2, 1];
    const before = tf.memory().numTensors;
    const { rows, kept } = guidanceSweep({ ...base(), scales });
    expect(tf.memory().numTensors).toBe(before);
    expect(rows.map((r) => r.s)).toEqual(scales);
    expect(kept.map((k) => k.s)).toEqual(scales);
    for (let i = 0; i < scales.length; i++) {
      expect(rows[i].n).toBe(12);
      expect(rows[i].seconds).toBeGreaterThanOrEqual(0);
      const images = sampleImages({ sampler: samplerFor(scales[i]), labels, schedule, rng: new Rng(7), numSteps: 3, batchSize: 5 });
      expect(timeless(rows[i])).toEqual({ s: scales[i], ...evaluator.evaluate(images, labels) });
      // default keep = min(20, N): all 12 images, as plain numbers
      expect(kept[i].shape).toEqual([12, 16, 16, 1]);
      expect(kept[i].images).toBeInstanceOf(Float32Array);
      expect(Array.from(kept[i].images)).toEqual(readAndDispose(images));
    }
    expect(timeless(rows[0])).not.toEqual({ ...timeless(rows[1]), s: 0 });
  });

  test("every scale starts from the same noise: an s-independent sampler gives identical rows and images", () => {
    const { rows, kept } = guidanceSweep({ ...base(), scales: [1, 4, 9], samplerFor: () => samplerFor(2), keep: 5 });
    expect(kept.every((k) => k.shape.join() === "5,16,16,1" && k.images.length === 5 * 256)).toBe(true);
    expect(Array.from(kept[1].images)).toEqual(Array.from(kept[0].images));
    expect(Array.from(kept[2].images)).toEqual(Array.from(kept[0].images));
    expect({ ...timeless(rows[1]), s: 1 }).toEqual(timeless(rows[0]));
    expect({ ...timeless(rows[2]), s: 1 }).toEqual(timeless(rows[0]));
    // and another seed gives other images
    const other = guidanceSweep({ ...base(), scales: [1], samplerFor: () => samplerFor(2), keep: 5, seed: 8 });
    expect(Array.from(other.kept[0].images)).not.toEqual(Array.from(kept[0].images));
  });

  test("no scales is an error", () => {
    expect(() => guidanceSweep({ ...base(), scales: [] })).toThrow("guidanceSweep: no scales");
  });
});

describe("SWEEP_COLUMNS / sweepReportItems", () => {
  const row: SweepRow = { s: 3, seconds: 1.26, n: 12, accuracy: 0.8125, fid: 12.345, precision: 0.6667, recall: 0.25, diversity: 0.123456, inceptionScore: 2.71828 };

  test("the table columns: headers, values and formats", () => {
    expect(SWEEP_COLUMNS.map((c) => c.header)).toEqual(["s", "accuracy %", "precision", "recall", "diversity", "FID-style", "IS proxy", "sample s"]);
    const cells = SWEEP_COLUMNS.map((c) => {
      const v = c.value(row);
      return typeof v === "number" && c.format ? c.format(v) : String(v);
    });
    expect(cells).toEqual(["3", "81.3", "0.667", "0.250", "0.123", "12.35", "2.72", "1.3"]);
    const text = tableBundle([row], SWEEP_COLUMNS)["text/plain"] as string;
    expect(text.split("\n")[1].trim().split(/\s+/)).toEqual(cells);
  });

  test("five report items per row, named `<prefix> <metric> s=<s>`, valid for report()", () => {
    const rows = [row, { ...row, s: 0.5, accuracy: 0.4 }];
    const items = sweepReportItems("cfg", rows);
    expect(items.map((i) => i.name)).toEqual([
      "cfg accuracy s=3", "cfg precision s=3", "cfg recall s=3", "cfg diversity s=3", "cfg fid s=3",
      "cfg accuracy s=0.5", "cfg precision s=0.5", "cfg recall s=0.5", "cfg diversity s=0.5", "cfg fid s=0.5",
    ]);
    expect(items.map((i) => i.value)).toEqual([0.8125, 0.6667, 0.25, 0.123456, 12.345, 0.4, 0.6667, 0.25, 0.123456, 12.345]);
    expect(items[0]).toMatchObject({ unit: "fraction" });
    expect(validateReportItems(items)).toEqual(items);
    expect(sweepReportItems("cg", [])).toEqual([]);
  });
});
