/**
 * `npm run experiment -- <name> [options]`: run a named full-size measurement (one that does not
 * fit a notebook's time budget) and write its results file with provenance: git commit, seeds,
 * sha256 of the checkpoints used, n, backend and time, and the statistics with their intervals
 * and verdicts (issue 14).
 *
 *   npm run experiment -- --help                               # usage and the experiments
 *   npm run experiment -- guidance-accuracy                    # full size → experiments/guidance-accuracy.json
 *   npm run experiment -- guidance-accuracy --size reduced     # CI size → build/experiments/…, checked against the shipped file
 *   npm run experiment -- guidance-accuracy --check FILE       # only check FILE against the shipped file (no run)
 *
 * A reduced run is checked against the shipped full-size file (when there is one) with
 * lib's compareMeasuredItems: every item must agree within the two intervals.
 *
 * Exit codes: 0 ok, 1 the run failed or the reduced run disagrees with the shipped file, 2 bad
 * command line.
 */
import * as fs from "fs";
import * as path from "path";
import { initBackend, compareMeasuredItems, ProgressMode } from "@course/lib";
import { EXPERIMENTS } from "./experiments";
import { ExperimentResult, ExperimentSize } from "./experiments/types";
import { ROOT, checkpointHashes, gitState } from "./experiments/provenance";
import { UsageError, parseFlags } from "./render/cli";

export const USAGE = `Usage: npm run experiment -- <name> [--size full|reduced] [--seed S] [--out FILE] [--no-check] [--progress auto|bar|none]
       npm run experiment -- <name> --check FILE [--against REF]

Runs a named measurement and writes its results file (statistics with intervals, verdicts and
provenance: commit, seeds, checkpoint sha256, n, backend, time).

Options:
  --size full|reduced  full (default) writes experiments/<name>.json, the shipped result;
                       reduced is the cheap CI rerun, written to build/experiments/<name>.reduced.json
                       and checked against the shipped file
  --seed S             master seed the run's seeds are derived from (default: the experiment's)
  --out FILE           results file (default as above)
  --no-check           skip the agreement check of a reduced run
  --check FILE         do not run: check the results file FILE against the shipped one
  --against REF        compare with REF instead of experiments/<name>.json
  --progress M         progress display (default auto: a bar on stderr)
  -h, --help           show this help`;

/** Parsed command line. */
export interface ExperimentArgs {
  help: boolean;
  name?: string;
  size: ExperimentSize;
  seed?: number;
  out?: string;
  check: boolean;
  progress: ProgressMode;
  /** Only check this results file (no run). */
  checkFile?: string;
  /** Reference file (default the shipped one). */
  against?: string;
}

/** Parse argv (without node and the script); throws {@link UsageError}. */
export function parseExperimentArgs(argv: string[]): ExperimentArgs {
  const f = parseFlags(argv, ["--size", "--seed", "--out", "--progress", "--check", "--against"], ["--help", "--no-check"]);
  const args: ExperimentArgs = { help: f.switches.has("--help"), size: "full", check: !f.switches.has("--no-check"), progress: "auto" };
  const size = f.values.get("--size");
  if (size !== undefined) {
    if (size !== "full" && size !== "reduced") throw new UsageError(`--size must be full or reduced, got ${size}`);
    args.size = size;
  }
  const seed = f.values.get("--seed");
  if (seed !== undefined) {
    if (!/^\d+$/.test(seed)) throw new UsageError(`--seed needs an integer ≥ 0, got ${seed}`);
    args.seed = Number(seed);
  }
  const progress = f.values.get("--progress");
  if (progress !== undefined) {
    if (progress !== "auto" && progress !== "bar" && progress !== "none") throw new UsageError(`--progress must be auto, bar or none, got ${progress}`);
    args.progress = progress;
  }
  args.out = f.values.get("--out");
  args.checkFile = f.values.get("--check");
  args.against = f.values.get("--against");
  if (f.positional.length > 1) throw new UsageError(`one experiment at a time, got ${f.positional.join(" ")}`);
  args.name = f.positional[0];
  if (args.name !== undefined && !(args.name in EXPERIMENTS)) throw new UsageError(`unknown experiment "${args.name}"; known: ${Object.keys(EXPERIMENTS).join(", ")}`);
  return args;
}

/** The shipped results file of an experiment. */
export function shippedResultPath(name: string): string {
  return path.join(ROOT, "experiments", `${name}.json`);
}

/**
 * Compare a results file's items with a reference results file (lib's compareMeasuredItems) and
 * print one line per item; returns whether all agree.
 */
export function checkAgainst(result: ExperimentResult, refFile: string, write: (s: string) => void): boolean {
  const ref = JSON.parse(fs.readFileSync(refFile, "utf8")) as ExperimentResult;
  if (ref.experiment !== result.experiment) throw new Error(`${refFile} holds experiment "${ref.experiment}", not "${result.experiment}"`);
  const cmp = compareMeasuredItems(ref.items, result.items);
  for (const c of cmp.items) write(`  ${c.agree ? "agrees" : "DISAGREES"}: ${c.detail}\n`);
  write(cmp.ok ? `agrees with ${path.relative(ROOT, refFile) || refFile} within the intervals\n` : `DISAGREES with ${path.relative(ROOT, refFile) || refFile}\n`);
  return cmp.ok;
}

function experimentList(): string {
  return Object.values(EXPERIMENTS).map((e) => `  ${e.name.padEnd(20)} ${e.description}\n  ${"".padEnd(20)} full size: ${e.fullTime}`).join("\n");
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: ExperimentArgs;
  try {
    args = parseExperimentArgs(argv);
  } catch (e) {
    process.stderr.write(`experiment: ${(e as Error).message}\nRun "npm run experiment -- --help" for usage.\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  if (args.help || args.name === undefined) {
    process.stdout.write(`${USAGE}\n\nExperiments:\n${experimentList()}\n`);
    return 0;
  }
  const exp = EXPERIMENTS[args.name];
  const refFile = path.resolve(args.against ?? shippedResultPath(exp.name));
  if (args.checkFile !== undefined) {
    try {
      const result = JSON.parse(fs.readFileSync(args.checkFile, "utf8")) as ExperimentResult;
      return checkAgainst(result, refFile, (s) => process.stdout.write(s)) ? 0 : 1;
    } catch (e) {
      process.stderr.write(`experiment: cannot check ${args.checkFile}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const out = path.resolve(args.out ?? (args.size === "full" ? shippedResultPath(exp.name) : path.join(ROOT, "build", "experiments", `${exp.name}.reduced.json`)));
  try {
    const backend = await initBackend();
    const masterSeed = args.seed ?? exp.masterSeed;
    process.stderr.write(`experiment: ${exp.name} (${args.size}, master seed ${masterSeed}) on ${backend.name} → ${out}\n`);
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    const output = exp.run({ size: args.size, masterSeed, progress: args.progress });
    const seconds = (performance.now() - t0) / 1000;
    const git = gitState();
    const result: ExperimentResult = {
      experiment: exp.name,
      description: exp.description,
      size: args.size,
      provenance: {
        commit: git.commit,
        dirty: git.dirty,
        command: ["npm run experiment --", ...argv].join(" "),
        masterSeed,
        seeds: output.seeds,
        checkpoints: Object.fromEntries(output.checkpoints.map((c) => [c, checkpointHashes(c)])),
        n: output.n,
        backend: backend.name,
        node: process.version,
        startedAt,
        seconds: Math.round(seconds * 10) / 10,
      },
      items: output.items,
      verdicts: output.verdicts,
      details: output.details,
    };
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(`wrote ${path.relative(process.cwd(), out) || out} in ${seconds.toFixed(1)} s (n = ${output.n}, seeds ${output.seeds.join(", ")})\n`);
    for (const it of output.items) process.stdout.write(`  ${it.name}: ${it.value.toFixed(4)} [${it.ci![0].toFixed(4)}, ${it.ci![1].toFixed(4)}]\n`);
    for (const v of output.verdicts) process.stdout.write(`  ${v.sentence}\n`);
    if (args.size === "reduced" && args.check) {
      if (!fs.existsSync(refFile)) {
        process.stdout.write(`no ${path.relative(ROOT, refFile)} to check against (run the full size to create it)\n`);
        return 0;
      }
      if (!checkAgainst(result, refFile, (s) => process.stdout.write(s))) {
        process.stderr.write(`experiment: the reduced run disagrees with ${path.relative(ROOT, refFile)}\n`);
        return 1;
      }
    }
    return 0;
  } catch (e) {
    process.stderr.write(`experiment: failed: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
