/**
 * `npm run train -- <recipe> [options]`: train a recipe from lib/src/recipes.ts and write its
 * checkpoint (manifest.json + weights.bin) to checkpoints/<recipe> or --out.
 *
 *   npm run train                         # list the recipes
 *   npm run train -- ring-mlp             # rebuild checkpoints/ring-mlp (~2 min on wasm)
 *   npm run train -- ring-mlp --steps 200 --seed 1 --out /tmp/ck
 *
 * Exit codes: 0 ok, 1 training or saving failed, 2 bad command line.
 */
import * as path from "path";
import { writeCheckpointsIndex } from "./checkpoints-index";
import {
  initBackend,
  ProgressMode,
  RECIPES,
  IMAGE_RECIPES,
  ConvClassifier,
  saveDenoiser,
  trainRecipe,
  checkpointPath,
  checkpointsDir,
  trainImageRecipe,
  saveImageModel,
  classifierTestAccuracy,
  CheckpointMeta,
  CLIP_RECIPES,
  trainClipRecipe,
  saveClip,
  zeroShotScore,
  loadCaptionedFashion,
  TEXT2IMG_RECIPES,
  loadRecipeData,
  trainText2ImgRecipe,
  saveText2Img,
} from "@course/lib";

/** Parsed command line. */
export interface TrainArgs {
  help: boolean;
  recipe?: string;
  steps?: number;
  seed?: number;
  out?: string;
  progress?: ProgressMode;
}

/** A command-line mistake (exit code 2). */
export class UsageError extends Error {}

export const USAGE = `Usage: npm run train -- <recipe> [--steps N] [--seed S] [--out DIR] [--progress auto|bar|none]

Trains a recipe and writes its checkpoint (manifest.json + weights.bin) to
checkpoints/<recipe>, or to DIR with --out. With no recipe, lists the recipes.

Options:
  --steps N      optimisation steps (default: the recipe's)
  --seed S       seed for data, init, order and noise (default: the recipe's)
  --out DIR      checkpoint folder (default: checkpoints/<recipe>)
  --progress M   progress display (default auto: a bar on stderr)
  -h, --help     show this help`;

function intArg(flag: string, raw: string | undefined, min: number): number {
  const v = raw === undefined ? NaN : Number(raw);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag} needs an integer ≥ ${min}, got ${raw ?? "nothing"}`);
  return v;
}

/** Parse argv (without node and the script). Throws {@link UsageError} on mistakes. */
export function parseTrainArgs(argv: string[]): TrainArgs {
  const args: TrainArgs = { help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === "-h" || flag === "--help") args.help = true;
    else if (flag === "--steps") args.steps = intArg("--steps", value(), 1);
    else if (flag === "--seed") args.seed = intArg("--seed", value(), 0);
    else if (flag === "--out") {
      const v = value();
      if (!v) throw new UsageError("--out needs a folder");
      args.out = v;
    } else if (flag === "--progress") {
      const v = value();
      if (v !== "auto" && v !== "bar" && v !== "none" && v !== "notebook") throw new UsageError(`--progress must be auto, bar or none, got ${v ?? "nothing"}`);
      args.progress = v;
    } else if (flag.startsWith("-")) throw new UsageError(`unknown option ${flag}`);
    else if (args.recipe === undefined) args.recipe = a;
    else throw new UsageError(`unexpected argument ${a} (one recipe at a time)`);
  }
  return args;
}

function recipeList(): string {
  return [...Object.values(RECIPES), ...Object.values(IMAGE_RECIPES), ...Object.values(CLIP_RECIPES), ...Object.values(TEXT2IMG_RECIPES)].map((r) => `  ${r.name.padEnd(20)} ${r.description}`).join("\n");
}

/** Train, evaluate and save one recipe; returns the summary line's numbers. */
function trainAndSave(args: TrainArgs & { recipe: string }, out: string, command: string): { steps: number; seed: number; finalLoss: number; seconds: number; extra: string } {
  const common = { steps: args.steps, seed: args.seed, progress: args.progress ?? "auto" };
  if (args.recipe in RECIPES) {
    const trained = trainRecipe(args.recipe, common);
    saveDenoiser(trained, out, { command });
    trained.net.dispose();
    return { steps: trained.meta.steps!, seed: trained.meta.seed!, ...trained.result, extra: "" };
  }
  if (args.recipe in TEXT2IMG_RECIPES) {
    const trained = trainText2ImgRecipe(args.recipe, common);
    try {
      saveText2Img(trained, out, { command });
      return { steps: trained.meta.steps!, seed: trained.meta.seed!, ...trained.result, extra: "" };
    } finally {
      trained.net.dispose();
    }
  }
  if (args.recipe in CLIP_RECIPES) {
    const trained = trainClipRecipe(args.recipe, common);
    try {
      // Zero-shot class accuracy on 2,000 held-out images goes into the manifest (noised CLIP: at several t).
      const test = loadCaptionedFashion("test", { limit: 2000 });
      const ts = trained.net.timeConditional ? [0, 250, 500, 750, 900] : [undefined];
      const acc = ts.map((t) => zeroShotScore(trained.net, test, "class", { t, schedule: trained.schedule, seed: 1 }));
      const testAccuracy = trained.net.timeConditional ? Object.fromEntries(ts.map((t, i) => [`t=${t}`, acc[i]])) : acc[0];
      saveClip(trained, out, { command, testAccuracy });
      const line = `, zero-shot class accuracy ${ts.map((t, i) => `${t === undefined ? "" : `t=${t}: `}${(100 * acc[i]).toFixed(1)}%`).join(" ")}`;
      return { steps: trained.meta.steps!, seed: trained.meta.seed!, ...trained.result, extra: line };
    } finally {
      trained.net.dispose();
    }
  }
  const trained = trainImageRecipe(args.recipe, common);
  try {
    const extra: CheckpointMeta = { command };
    let line = "";
    if (trained.net instanceof ConvClassifier) {
      // Held-out accuracy goes into the manifest next to the loss (noisy: at several t).
      const test = loadRecipeData(trained.recipe, "test");
      const ts = trained.net.timeConditional ? [0, 250, 500, 750, 900] : undefined;
      const acc = classifierTestAccuracy(trained.net, test, { ts, schedule: trained.schedule });
      extra.testAccuracy = ts ? Object.fromEntries(ts.map((t, i) => [`t=${t}`, acc[i]])) : acc[0];
      line = `, test accuracy ${ts ? ts.map((t, i) => `t=${t}: ${(100 * acc[i]).toFixed(1)}%`).join(" ") : `${(100 * acc[0]).toFixed(1)}%`}`;
    }
    saveImageModel(trained, out, extra);
    return { steps: trained.meta.steps!, seed: trained.meta.seed!, ...trained.result, extra: line };
  } finally {
    trained.net.dispose();
  }
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: TrainArgs;
  try {
    args = parseTrainArgs(argv);
    if (args.recipe !== undefined && !(args.recipe in RECIPES) && !(args.recipe in IMAGE_RECIPES) && !(args.recipe in CLIP_RECIPES) && !(args.recipe in TEXT2IMG_RECIPES)) {
      throw new UsageError(`unknown recipe "${args.recipe}"; known recipes: ${[...Object.keys(RECIPES), ...Object.keys(IMAGE_RECIPES), ...Object.keys(CLIP_RECIPES), ...Object.keys(TEXT2IMG_RECIPES)].join(", ")}`);
    }
  } catch (e) {
    process.stderr.write(`train: ${(e as Error).message}\nRun "npm run train -- --help" for usage.\n`);
    return 2;
  }
  if (args.help || args.recipe === undefined) {
    process.stdout.write(`${USAGE}\n\nRecipes:\n${recipeList()}\n`);
    return 0;
  }
  try {
    const backend = await initBackend();
    const out = path.resolve(args.out ?? checkpointPath(args.recipe));
    process.stderr.write(`train: ${args.recipe} on ${backend.name} (${backend.reason}) → ${out}\n`);
    const command = ["npm run train --", ...argv].join(" ");
    const { steps, seed, finalLoss, seconds, extra } = trainAndSave({ ...args, recipe: args.recipe }, out, command);
    // Keep checkpoints/README.md in step with the manifests when writing into the shipped folder.
    if (path.dirname(out) === path.resolve(checkpointsDir())) writeCheckpointsIndex();
    process.stdout.write(
      `saved ${out}\n  steps ${steps}, seed ${seed}, final loss ${finalLoss.toFixed(4)}, ` +
        `${seconds.toFixed(1)} s (${((1000 * seconds) / steps).toFixed(1)} ms/step) on ${backend.name}${extra}\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`train: failed: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
