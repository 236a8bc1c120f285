/**
 * The command-line plumbing the slides and book CLIs share: flag parsing (`--x v`, `--x=v`,
 * switches), usage errors (exit 2) and the file:// address printed at the end.
 *
 * @see tools/slides.ts
 * @see tools/book.ts
 */
import * as path from "path";
import { pathToFileURL } from "url";

/** Bad command line (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed command line: option values, switches seen, positional arguments. */
export interface Flags {
  values: Map<string, string>;
  switches: Set<string>;
  positional: string[];
}

/** Parse `argv` given the options that take a value and the switches; throws {@link UsageError}. */
export function parseFlags(argv: string[], withValue: string[], switches: string[]): Flags {
  const flags: Flags = { values: new Map(), switches: new Set(), positional: [] };
  const args = argv.flatMap((a) => (/^--[\w-]+=/.test(a) ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h") flags.switches.add("--help");
    else if (withValue.includes(a)) {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
      flags.values.set(a, v);
    } else if (switches.includes(a)) flags.switches.add(a);
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else flags.positional.push(a);
  }
  return flags;
}

/** How to open a built page: its path and its file:// URL. */
export function whereToOpen(file: string): string {
  return `${path.relative(process.cwd(), file) || file}  (open ${pathToFileURL(path.resolve(file)).href} in a browser)`;
}

/**
 * Run a renderer CLI's `main` and exit: usage mistakes and unreadable input print one line (plus
 * the usage for mistakes) and exit 2, anything unexpected prints "internal error" and exits 1.
 */
export function runCli(name: string, usage: string, main: () => number, isInputError: (e: unknown) => boolean): never {
  let code: number;
  try {
    code = main();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${name}: ${e.message}\n\n${usage}`);
      code = 2;
    } else if (isInputError(e)) {
      console.error(`${name}: ${(e as Error).message}`);
      code = 2;
    } else {
      console.error(`${name}: internal error: ${(e as Error).message}`);
      code = 1;
    }
  }
  process.exit(code);
}
