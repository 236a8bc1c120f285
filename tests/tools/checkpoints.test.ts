/**
 * The shipped checkpoints: each one loads into its recipe's network, records how it was trained
 * (seed, steps, final loss, training time, backend, the rebuild command) and is listed, with the
 * same numbers, in checkpoints/README.md (generated from the manifests by tools/checkpoints-index.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import {
  CLIP_RECIPES, IMAGE_RECIPES, RECIPES, TEXT2IMG_RECIPES, checkpointsDir, initBackend, loadClassifier, loadClip, loadDenoiser, loadSrModel, loadText2Img, loadUNet,
} from "../../lib/src";
import { checkpointsIndex } from "../../tools/checkpoints-index";

const dir = checkpointsDir();
const shipped = fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, "manifest.json"))).sort();

beforeAll(async () => {
  await initBackend();
});

test("every notebook-loaded recipe has a shipped checkpoint", () => {
  const used = ["ring-mlp", "fmnist-unet", "fmnist-unet-drop20", "fmnist-clf-noisy", "fmnist-clf-clean", "fmnist8-unet", "fmnist-sr", "fmnist-sr4", "fmnist-sr4-regression", "clip", "clip-noisy", "glide", "unclip-prior", "unclip-decoder", "captions-eval"];
  for (const name of used) expect(shipped).toContain(name);
});

/** Load a shipped checkpoint with its family's loader. */
function loadShipped(name: string): { net: { dispose(): void }; meta: Record<string, unknown> } {
  const image = IMAGE_RECIPES[name];
  if (image?.kind === "unet") return loadUNet(name);
  if (image?.kind === "classifier") return loadClassifier(name);
  if (image?.kind === "sr") return loadSrModel(name);
  if (CLIP_RECIPES[name]) return loadClip(name);
  if (TEXT2IMG_RECIPES[name]) return loadText2Img(name);
  return loadDenoiser(name);
}

test.each(shipped)("%s loads into its recipe's network and records its training", (name) => {
  const before = tf.memory().numTensors;
  const image = IMAGE_RECIPES[name];
  const loaded = loadShipped(name);
  const { meta } = loaded;
  loaded.net.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(RECIPES[name] ?? image ?? CLIP_RECIPES[name] ?? TEXT2IMG_RECIPES[name]).toBeDefined();
  expect(meta.recipe).toBe(name);
  expect(Number.isFinite(Number(meta.finalLoss))).toBe(true);
  expect(Number(meta.trainSeconds)).toBeGreaterThan(0);
  expect(Number.isInteger(meta.seed)).toBe(true);
  expect(String(meta.command)).toContain(`npm run train -- ${name}`);
  if (image?.kind === "classifier" || CLIP_RECIPES[name]) expect(meta.testAccuracy).toBeDefined();
});

test("checkpoints/README.md matches the manifests (regenerate with npm run train, or tools/checkpoints-index.ts)", () => {
  expect(fs.readFileSync(path.join(dir, "README.md"), "utf8")).toBe(checkpointsIndex(dir));
});
