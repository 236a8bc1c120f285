/**
 * Executed notebooks for the browser tests, so that every deck and page shows its real outputs
 * (plots, tables): each notebook is executed through the runner when its copy in
 * build/executed/instructor/ (what `npm start` writes; CI runs `npm start` before `npm test`) is
 * missing or older than the notebook. One process at a time executes a notebook (a lock folder),
 * so the slide and book suites running in parallel share one run.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Diagnostics } from "../../tools/render/html";
import { copyStatus, loadNotebook } from "../../tools/render/load";
import { defaultRunOptions, NOTEBOOK_PATTERN, runNotebook } from "../../tools/run";
import { MAX_FACTOR } from "../../tools/speed";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where `npm start` writes executed copies. */
export const EXECUTED = path.join(ROOT, "build", "executed", "instructor");
/** The course notebooks, notebooks/NN_*.ipynb. */
export function courseNotebooks(): string[] {
  const dir = path.join(ROOT, "notebooks");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => NOTEBOOK_PATTERN.test(n)).sort().map((n) => path.join(dir, n)) : [];
}

function isFresh(file: string): boolean {
  return copyStatus(loadNotebook(file, new Diagnostics(() => undefined)), path.join(EXECUTED, path.basename(file))) === "fresh";
}

async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`lock ${lock} held for 15 minutes: remove it if no test is running`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Execute `file` into build/executed/instructor unless a fresh copy is there. */
export async function ensureExecuted(file: string): Promise<void> {
  if (isFresh(file)) return;
  await withLock(path.join(ROOT, "build", `.executing-${path.basename(file, ".ipynb")}`), async () => {
    if (isFresh(file)) return;
    // The pages need the outputs, not a timing check (tests/notebooks/execute.test.ts does that): the loosest budget.
    const run = await runNotebook(file, defaultRunOptions({ mode: "instructor", out: path.dirname(EXECUTED), speedFactor: MAX_FACTOR, quiet: true, logError: () => undefined }));
    if (run.status !== "ok") throw new Error(`${path.basename(file)} did not execute (${run.status}): ${run.failures.map((f) => f.message.split("\n")[0]).join("; ")}`);
  });
}

/**
 * A scratch folder holding a fresh executed copy of every notebook (executed here if needed), for
 * the renderers' executed-copies option.
 */
export async function freshExecutedDir(): Promise<string> {
  const notebooks = courseNotebooks();
  for (const f of notebooks) await ensureExecuted(f);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "executed-fresh-"));
  for (const f of notebooks) if (isFresh(f)) fs.copyFileSync(path.join(EXECUTED, path.basename(f)), path.join(dir, path.basename(f)));
  return dir;
}
