/**
 * Register the project's tslab kernel where Jupyter (JupyterLab, classic Notebook, nbconvert)
 * and VS Code look for kernelspecs — without Python. `tslab install` needs IPython; this
 * writes the same `kernel.json` directly.
 *
 *   node tools/dist/kernelspec.js install   # write <jupyter data dir>/kernels/tslab/kernel.json
 *   node tools/dist/kernelspec.js show      # print where it is and what it runs
 *
 * The kernel is named `tslab` (the name the notebooks' metadata uses) and runs this checkout's
 * pinned tslab with the same Node that ran the install.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const KERNEL_NAME = "tslab";
/** The repository root: the nearest folder above this file with the course's package.json (works from tools/ and tools/dist/). */
function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "diffusion-guidance-course") return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find the course's package.json above ${start}`);
  }
}
const ROOT = findRoot(__dirname);

/** Jupyter's per-user data directory, following jupyter_core's rules (JUPYTER_DATA_DIR wins). */
export function jupyterDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const home = os.homedir();
  if (process.platform === "darwin") return path.join(home, "Library", "Jupyter");
  if (process.platform === "win32") return path.join(env.APPDATA ?? path.join(home, "AppData", "Roaming"), "jupyter");
  const xdg = env.XDG_DATA_HOME || path.join(home, ".local", "share");
  return path.join(xdg, "jupyter");
}

/** The kernel.json contents for this checkout. */
export function kernelJson(): Record<string, unknown> {
  const tslabBin = path.join(ROOT, "node_modules", "tslab", "bin", "tslab");
  return {
    argv: [process.execPath, tslabBin, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (tslab)",
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { course: "diffusion-guidance-course", root: ROOT },
  };
}

/** Write the kernelspec; returns the kernel.json path. */
export function installKernelspec(env: NodeJS.ProcessEnv = process.env): string {
  const dir = path.join(jupyterDataDir(env), "kernels", KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "kernel.json");
  fs.writeFileSync(file, JSON.stringify(kernelJson(), null, 2) + "\n");
  return file;
}

function main(argv: string[]): number {
  const cmd = argv[0] ?? "install";
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log("usage: node tools/dist/kernelspec.js [install|show]\n\n" +
      "install  write the tslab kernelspec to Jupyter's user data dir (JUPYTER_DATA_DIR overrides)\n" +
      "show     print the kernelspec path and contents");
    return 0;
  }
  if (cmd === "install") {
    const file = installKernelspec();
    console.log(`tslab kernelspec registered: ${file}`);
    return 0;
  }
  if (cmd === "show") {
    console.log(path.join(jupyterDataDir(), "kernels", KERNEL_NAME, "kernel.json"));
    console.log(JSON.stringify(kernelJson(), null, 2));
    return 0;
  }
  console.error(`kernelspec: unknown command '${cmd}' (try --help)`);
  return 2;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
