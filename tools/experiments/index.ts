/**
 * The registry of experiments `npm run experiment -- <name>` knows. Add one by writing
 * tools/experiments/<name>.ts (an {@link Experiment}) and listing it here.
 *
 * @see tools/experiment.ts
 */
import { Experiment } from "./types";
import { guidanceAccuracy } from "./guidanceAccuracy";

/** Every experiment, by name. */
export const EXPERIMENTS: Readonly<Record<string, Experiment>> = {
  [guidanceAccuracy.name]: guidanceAccuracy,
};
