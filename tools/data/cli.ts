/**
 * What the dataset commands (`npm run data:fashion-mnist`, `npm run data:captions`) share: a
 * usage-error type and the parse → build → report → exit-code frame around each command.
 *
 * Exit codes: 0 built (or --help), 1 the build failed (e.g. its source is missing), 2 bad command line.
 * @see notebooks/02_classifier_guidance.ipynb
 */

/** A command-line mistake (exit code 2). */
export class UsageError extends Error {}

/**
 * Run one dataset command: `parse` the arguments (null: --help, throws {@link UsageError} on a
 * mistake), then `build` and print what it returns. Returns the exit code; writes nothing to
 * stdout when it fails.
 * @example return dataCommand("data:captions", USAGE, argv, parseCaptionArgs, (o) => `wrote ${o.out}`);
 */
export function dataCommand<Opts>(name: string, usage: string, argv: string[], parse: (argv: string[]) => Opts | null, build: (opts: Opts) => string): number {
  let opts: Opts | null;
  try {
    opts = parse(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  try {
    process.stdout.write(build(opts));
    return 0;
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    return 1;
  }
}
