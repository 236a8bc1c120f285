/**
 * Register the project's tslab kernel where Jupyter (JupyterLab, classic Notebook, nbconvert)
 * and VS Code look for kernelspecs — without Python. `tslab install` needs IPython; this
 * writes the kernelspec directly.
 *
 *   node tools/dist/kernelspec.js install   # <jupyter data dir>/kernels/tslab/{kernel.json,launch.js}
 *   node tools/dist/kernelspec.js show [DIR] # where it is, what it runs, and which copy a notebook in DIR gets
 *
 * The kernel is named `tslab` (the name the notebooks' metadata uses). Jupyter's kernelspecs are
 * per user, while a student may hold several copies of the course (a clone, this week's release,
 * last week's): so kernel.json does not name one checkout's tslab. It runs a small launcher
 * (tools/kernel-launcher.ts, copied as launch.js next to kernel.json) that starts the tslab of the
 * checkout holding the notebook, and only outside any checkout falls back to the copy that ran
 * the install, saying so. Re-installing from another copy changes just that fallback, and the
 * install says so; a foreign `tslab` kernelspec (e.g. from `tslab install`) is kept as
 * kernel.json.bak when it is replaced.
 *
 * {@link kernelJson} is this checkout's own kernel command: the headless runner and the tests
 * start it directly.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resolveKernel } from "./kernel-launcher";

export const KERNEL_NAME = "tslab";
const DISPLAY_NAME = "TypeScript (tslab)";

/** The repository root: the nearest folder above this file with the course's package.json (works from tools/ and tools/dist/). */
function findRoot(start: string): { root: string; name: string } {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    const name = fs.existsSync(pkg) ? (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: unknown }).name : undefined;
    if (name === "diffusion-guidance-course") return { root: dir, name };
    if (path.dirname(dir) === dir) throw new Error(`cannot find the course's package.json above ${start}`);
  }
}
const { root: ROOT, name: COURSE } = findRoot(__dirname);

/** Jupyter's per-user data directory, following jupyter_core's rules (JUPYTER_DATA_DIR wins). */
export function jupyterDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const home = os.homedir();
  if (process.platform === "darwin") return path.join(home, "Library", "Jupyter");
  if (process.platform === "win32") return path.join(env.APPDATA ?? path.join(home, "AppData", "Roaming"), "jupyter");
  const xdg = env.XDG_DATA_HOME || path.join(home, ".local", "share");
  return path.join(xdg, "jupyter");
}

/** The kernelspec folder: <jupyter data dir>/kernels/tslab. */
export function kernelspecDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(jupyterDataDir(env), "kernels", KERNEL_NAME);
}

/** This checkout's own kernel command: its pinned tslab, with the Node that runs this (the runner starts it directly). */
export function kernelJson(root: string = ROOT): Record<string, unknown> & { argv: string[] } {
  const tslabBin = path.join(root, "node_modules", "tslab", "bin", "tslab");
  return {
    argv: [process.execPath, tslabBin, "kernel", "--config-path", "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { course: COURSE, root },
  };
}

/** The installed kernel.json: the launcher in `dir`, falling back to `root`'s tslab. */
export function launcherKernelJson(dir: string, root: string = ROOT): Record<string, unknown> & { argv: string[] } {
  return {
    argv: [process.execPath, path.join(dir, "launch.js"), "--course", COURSE, "--fallback", root, "kernel", "--config-path", "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { course: COURSE, root, launcher: "runs the tslab of the course checkout that holds the notebook; outside one, root's" },
  };
}

/** The compiled launcher (tools/dist/kernel-launcher.js), from tools/ or tools/dist/. */
function launcherJs(): string {
  for (const f of [path.join(__dirname, "kernel-launcher.js"), path.join(__dirname, "dist", "kernel-launcher.js")]) if (fs.existsSync(f)) return f;
  throw new Error(`the kernel launcher is not built (no tools/dist/kernel-launcher.js next to ${__dirname}): run \`npm run build\``);
}

/** Which checkout an existing kernel.json ran: its course root, or (foreign) its command. */
function describeExisting(file: string): { root?: string; foreign?: string } | null {
  if (!fs.existsSync(file)) return null;
  try {
    const spec = JSON.parse(fs.readFileSync(file, "utf8")) as { argv?: unknown; metadata?: { course?: unknown; root?: unknown } };
    if (spec.metadata?.course === COURSE && typeof spec.metadata.root === "string") return { root: spec.metadata.root };
    return { foreign: Array.isArray(spec.argv) ? spec.argv.join(" ") : "(no argv)" };
  } catch {
    return { foreign: "(unreadable kernel.json)" };
  }
}

/** Write the kernelspec (kernel.json and launch.js); returns the kernel.json path and what to tell the user. */
export function installKernelspec(env: NodeJS.ProcessEnv = process.env, root: string = ROOT): { file: string; message: string } {
  const dir = kernelspecDir(env);
  const file = path.join(dir, "kernel.json");
  const before = describeExisting(file);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(launcherJs(), path.join(dir, "launch.js"));
  if (before?.foreign !== undefined) fs.copyFileSync(file, path.join(dir, "kernel.json.bak"));
  fs.writeFileSync(file, JSON.stringify(launcherKernelJson(dir, root), null, 2) + "\n");
  const how = `notebooks inside a copy of the course run that copy's own tslab; elsewhere, the one in ${root}`;
  let message = `tslab kernelspec registered: ${file} (${how})`;
  if (before?.foreign !== undefined) {
    message = `tslab kernelspec: replaced ${file}, which was not this course's (it ran: ${before.foreign}); ` +
      `the old one is kept as kernel.json.bak. Now ${how}.`;
  } else if (before?.root !== undefined && path.resolve(before.root) !== path.resolve(root)) {
    message = `tslab kernelspec: ${file} pointed to the course in ${before.root}; it now falls back to ${root}. ` +
      `Each copy of the course still runs its own tslab (the kernel picks the copy that holds the notebook); ` +
      `only notebooks outside any copy use ${root}.`;
  }
  return { file, message };
}

function main(argv: string[]): number {
  const cmd = argv[0] ?? "install";
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log("usage: node tools/dist/kernelspec.js [install|show [DIR]]\n\n" +
      "install     write the tslab kernelspec (kernel.json and its launcher) to Jupyter's user data dir\n" +
      "            (JUPYTER_DATA_DIR overrides); says so when it replaces one that pointed elsewhere\n" +
      "show [DIR]  print the kernelspec path and contents, and which copy of the course a notebook in\n" +
      "            DIR (default: the current folder) runs");
    return 0;
  }
  if (cmd === "install") {
    console.log(installKernelspec().message);
    return 0;
  }
  if (cmd === "show") {
    const file = path.join(kernelspecDir(), "kernel.json");
    if (!fs.existsSync(file)) {
      console.log(`${file}: not installed (run \`npm ci\`, or node tools/dist/kernelspec.js install)`);
      return 1;
    }
    console.log(file);
    const spec = fs.readFileSync(file, "utf8");
    console.log(spec.trimEnd());
    const meta = (JSON.parse(spec) as { metadata?: { course?: unknown; root?: unknown } }).metadata;
    const dir = path.resolve(argv[1] ?? ".");
    if (meta?.course !== COURSE || typeof meta.root !== "string") console.log("(not this course's kernelspec)");
    else {
      const r = resolveKernel(dir, COURSE, meta.root);
      console.log("error" in r ? r.error : `a notebook in ${dir} runs the tslab of ${r.root}${r.note ? ` (${r.note})` : ""}`);
    }
    return 0;
  }
  console.error(`kernelspec: unknown command '${cmd}' (try --help)`);
  return 2;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
