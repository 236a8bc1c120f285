/**
 * `npm run train` (tools/dist/train.js, built by `npm run build`) and the checkpoint it ships.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { Rng } from "../../lib/src/random";
import { loadDenoiser } from "../../lib/src/recipes";
import { epsModel } from "../../lib/src/nets/mlp";
import { ddimStep, sample } from "../../lib/src/samplers";
import { ringGaussians, ringMixture } from "../../lib/src/data/toy2d";
import { mmdRbf, nearestModeStats } from "../../lib/src/metrics";
import { readManifest } from "../../lib/src/checkpoint";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "tools", "dist", "train.js");
let tmp: string;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing; run \`npm run build\` first`);
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "train-cli-"));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("--help prints usage and the recipes, exit 0", () => {
  const r = run(["--help"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("Usage: npm run train -- <recipe>");
  expect(r.stdout).toMatch(/ring-mlp\s+unconditional/);
});

test("no recipe lists the recipes, exit 0", () => {
  const r = run([]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("Recipes:");
  expect(r.stdout).toContain("ring-mlp-cond");
});

test("unknown recipe: clear error and exit code 2", () => {
  const r = run(["no-such-recipe"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('unknown recipe "no-such-recipe"; known recipes: ring-mlp, ring-mlp-cond');
});

test.each([
  [["ring-mlp", "--steps", "0"], /--steps needs an integer ≥ 1, got 0/],
  [["ring-mlp", "--seed"], /--seed needs an integer/],
  [["ring-mlp", "--bogus"], /unknown option --bogus/],
  [["ring-mlp", "ring-mlp-cond"], /one recipe at a time/],
])("bad command line %j: exit 2", (args, why) => {
  const r = run(args as string[]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(why as RegExp);
});

test("a tiny --steps run writes a loadable checkpoint into --out", () => {
  const out = path.join(tmp, "tiny");
  const r = run(["ring-mlp", "--steps", "12", "--seed", "5", "--out", out, "--progress", "none"]);
  expect(r.stderr + r.stdout).toContain(`saved ${out}`);
  expect(r.code).toBe(0);
  const { net, schedule, meta } = loadDenoiser("ring-mlp", out);
  expect(meta).toMatchObject({ recipe: "ring-mlp", steps: 12, seed: 5, batchSize: 512, command: `npm run train -- ring-mlp --steps 12 --seed 5 --out ${out} --progress none` });
  expect(meta.finalLoss).toBeGreaterThan(0);
  expect(schedule.T).toBe(1000);
  const y = tf.tidy(() => epsModel(net)(tf.zeros([3, 2]), 10));
  expect(y.shape).toEqual([3, 2]);
  tf.dispose(y);
  net.dispose();
});

test("the shipped checkpoints/ring-mlp meets the targets: DDIM-100, 2000 samples → MMD² ≤ 0.01, mean nearest-mode distance ≤ 0.5", () => {
  const { net, schedule, meta } = loadDenoiser("ring-mlp");
  expect(meta.trainSeconds).toBeGreaterThan(0);
  expect(readManifest(path.join(ROOT, "checkpoints", "ring-mlp")).meta.recipe).toBe("ring-mlp");
  const before = tf.memory().numTensors;
  const x = sample({ model: epsModel(net), schedule, step: ddimStep(0), shape: [2000, 2], numSteps: 100, rng: new Rng(0) }) as tf.Tensor2D;
  const data = ringGaussians({ n: 2000, numModes: 8, radius: 4, std: 0.3, rng: new Rng(1000) });
  const y = tf.tensor2d(data.x, [2000, 2]);
  const mmd = mmdRbf(x, y, 1);
  const modes = nearestModeStats(x, ringMixture().means);
  tf.dispose([x, y]);
  expect(tf.memory().numTensors).toBe(before);
  net.dispose();
  expect(mmd).toBeLessThanOrEqual(0.01);
  expect(modes.meanDistance).toBeLessThanOrEqual(0.5);
  expect(modes.coverage).toBe(1);
});
