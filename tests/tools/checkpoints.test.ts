/**
 * The shipped checkpoints: each one loads into its recipe's network, records how it was trained
 * (seed, steps, final loss, training time, backend, the rebuild command) and is listed, with the
 * same numbers, in checkpoints/README.md (generated from the manifests by tools/checkpoints-index.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { IMAGE_RECIPES, RECIPES, checkpointsDir, initBackend, loadClassifier, loadDenoiser, loadUNet } from "../../lib/src";
import { checkpointsIndex } from "../../tools/checkpoints-index";

const dir = checkpointsDir();
const shipped = fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, "manifest.json"))).sort();

beforeAll(async () => {
  await initBackend();
});

test("every notebook-loaded recipe has a shipped checkpoint", () => {
  for (const name of ["ring-mlp", "fmnist-unet", "fmnist-unet-drop20", "fmnist-clf-noisy", "fmnist-clf-clean"]) expect(shipped).toContain(name);
});

test.each(shipped)("%s loads into its recipe's network and records its training", (name) => {
  const before = tf.memory().numTensors;
  const image = IMAGE_RECIPES[name];
  const loaded = image === undefined ? loadDenoiser(name) : image.kind === "unet" ? loadUNet(name) : loadClassifier(name);
  const { meta } = loaded;
  loaded.net.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(RECIPES[name] ?? image).toBeDefined();
  expect(meta.recipe).toBe(name);
  expect(Number.isFinite(Number(meta.finalLoss))).toBe(true);
  expect(Number(meta.trainSeconds)).toBeGreaterThan(0);
  expect(Number.isInteger(meta.seed)).toBe(true);
  expect(String(meta.command)).toContain(`npm run train -- ${name}`);
  if (image?.kind === "classifier") expect(meta.testAccuracy).toBeDefined();
});

test("checkpoints/README.md matches the manifests (regenerate with npm run train, or tools/checkpoints-index.ts)", () => {
  expect(fs.readFileSync(path.join(dir, "README.md"), "utf8")).toBe(checkpointsIndex(dir));
});
