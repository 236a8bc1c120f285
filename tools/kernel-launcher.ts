/**
 * The `tslab` kernel's launcher: `npm ci` (tools/kernelspec.ts) copies this file, compiled, next
 * to kernel.json as `launch.js`, and kernel.json runs
 *
 *   node <kernelspec folder>/launch.js --course NAME --fallback ROOT kernel --config-path {connection_file}
 *
 * Jupyter (Notebook, Lab, nbconvert, VS Code) starts a kernel in the notebook's folder, so the
 * launcher walks up from its working directory to the nearest course checkout (a folder whose
 * package.json is named NAME: this repository, another clone, a student release) and starts THAT
 * checkout's tslab, in this process (so Jupyter's interrupt signal reaches it). Several copies of
 * the course side by side therefore each run their own kernel and library, whichever ran
 * `npm ci` last. Outside any checkout, or in one without node_modules/tslab yet, it starts the
 * tslab of ROOT (the checkout that registered the kernel) and says so on stderr (the Jupyter log).
 *
 * Standalone: Node built-ins only, because it is copied alone into the kernelspec folder.
 */
import * as fs from "fs";
import * as path from "path";

/** tslab's entry module inside a checkout. */
export const TSLAB_MAIN = ["node_modules", "tslab", "dist", "main.js"];

/** The nearest folder at or above `dir` whose package.json is named `course`; null when none. */
export function courseRootAbove(dir: string, course: string): string | null {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const pkg = path.join(d, "package.json");
    try {
      if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: unknown }).name === course) return d;
    } catch {
      // an unreadable or malformed package.json is not the course's: keep walking up
    }
    if (path.dirname(d) === d) return null;
  }
}

/** Which checkout's tslab a kernel started in `cwd` runs, and what to tell the user about it. */
export type Resolution = { root: string; main: string; note?: string } | { error: string };

/** The kernel for a notebook in `cwd`: the enclosing checkout's tslab, else `fallback`'s (with a note). */
export function resolveKernel(cwd: string, course: string, fallback: string): Resolution {
  const tslabIn = (root: string) => path.join(root, ...TSLAB_MAIN);
  const here = courseRootAbove(cwd, course);
  if (here !== null && fs.existsSync(tslabIn(here))) return { root: here, main: tslabIn(here) };
  const why = here === null
    ? `${cwd} is not inside a copy of the course (no package.json named ${course} above it)`
    : `the course at ${here} has no node_modules/tslab yet (run \`npm ci\` there)`;
  if (fs.existsSync(tslabIn(fallback))) {
    return { root: fallback, main: tslabIn(fallback), note: `tslab kernel: ${why}; starting the tslab of ${fallback}, the copy that registered this kernel` };
  }
  return {
    error: `tslab kernel: ${why}, and ${fallback}, the copy of the course that registered this kernel, has no ` +
      `node_modules/tslab any more (moved or deleted?). Run \`npm ci\` in your copy of the course to register the kernel again.`,
  };
}

/** Split launch.js's own options (--course, --fallback) from the tslab arguments that follow. */
export function parseLauncherArgs(argv: string[]): { course: string; fallback: string; rest: string[] } {
  let course = "";
  let fallback = "";
  let i = 0;
  for (; i < argv.length; i += 2) {
    if (argv[i] === "--course") course = argv[i + 1] ?? "";
    else if (argv[i] === "--fallback") fallback = argv[i + 1] ?? "";
    else break;
  }
  if (!course || !fallback) throw new Error("usage: launch.js --course NAME --fallback ROOT kernel --config-path FILE");
  return { course, fallback, rest: argv.slice(i) };
}

function main(argv: string[]): void {
  let args: ReturnType<typeof parseLauncherArgs>;
  try {
    args = parseLauncherArgs(argv);
  } catch (e) {
    console.error(`tslab kernel: ${(e as Error).message}`);
    process.exit(2);
  }
  const r = resolveKernel(process.cwd(), args.course, args.fallback);
  if ("error" in r) {
    console.error(r.error);
    process.exit(1);
  }
  if (r.note) console.error(r.note);
  // tslab reads its command line from process.argv (commander), as if started as its own bin.
  process.argv = [process.argv[0], path.join(r.root, "node_modules", "tslab", "bin", "tslab"), ...args.rest];
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  (require(r.main) as { main(): void }).main();
}

if (require.main === module) main(process.argv.slice(2));
