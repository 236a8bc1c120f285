/**
 * The shape of an experiment (`npm run experiment -- <name>`) and of the results file it writes.
 * An experiment is a named full-size measurement that does not fit a notebook's time budget;
 * its results file ships like a checkpoint and records its provenance (issue 14).
 *
 * @see tools/experiment.ts
 */
import type { ProgressMode, ReportItem } from "@course/lib";

/** "full": the shipped measurement; "reduced": the cheap rerun CI compares with it. */
export type ExperimentSize = "full" | "reduced";

/** What an experiment's run gets. */
export interface ExperimentContext {
  size: ExperimentSize;
  /** The one seed the run's seeds are derived from. */
  masterSeed: number;
  progress: ProgressMode;
}

/** A verdict as written into the results file. */
export interface RecordedVerdict {
  claim: string;
  label: string;
  sentence: string;
}

/** What a run returns (the tool adds the provenance). */
export interface ExperimentOutput {
  /** Report items with n, ci and seeds. */
  items: ReportItem[];
  verdicts: RecordedVerdict[];
  /** Checkpoint names used (hashed into the provenance). */
  checkpoints: string[];
  /** Seeds actually used. */
  seeds: number[];
  /** Independent units per compared cell (e.g. samples per guidance scale, all seeds). */
  n: number;
  /** Anything else worth keeping (per-seed values, settings). */
  details: Record<string, unknown>;
}

/** A named experiment. */
export interface Experiment {
  name: string;
  /** One line for --help. */
  description: string;
  /** Default master seed. */
  masterSeed: number;
  /** Rough full-size time on the reference machine, for --help. */
  fullTime: string;
  run(ctx: ExperimentContext): ExperimentOutput;
}

/** Where a results file came from. */
export interface Provenance {
  commit: string;
  /** Whether lib/, tools/ or checkpoints/ had uncommitted changes. */
  dirty: boolean;
  command: string;
  masterSeed: number;
  seeds: number[];
  /** sha256 of every file of every checkpoint used: { name: { file: hex } }. */
  checkpoints: Record<string, Record<string, string>>;
  n: number;
  backend: string;
  node: string;
  startedAt: string;
  seconds: number;
}

/** The results file experiments/<name>.json. */
export interface ExperimentResult {
  experiment: string;
  description: string;
  size: ExperimentSize;
  provenance: Provenance;
  items: ReportItem[];
  verdicts: RecordedVerdict[];
  details: Record<string, unknown>;
}
