/**
 * Execute a notebook's code cells in order in one fresh kernel, as nbclient/nbconvert does:
 * outputs and execution counts are written into the cells, empty cells are skipped, and
 * execution stops at the first failure unless `keepGoing`. A per-cell timeout interrupts and
 * kills the kernel and always stops the notebook; so does running past the notebook's budget.
 *
 * @see https://nbclient.readthedocs.io/
 * @see notebooks/01_score_matching.ipynb
 */
import { Cell, cellSource, Notebook } from "../notebook";
import { KernelClient, KernelError } from "./kernel";

/** Bounds of the kernel's startup timeout, seconds (within them: the notebook's budget). */
const STARTUP_MIN_S = 30;
const STARTUP_MAX_S = 120;

/** How a notebook's execution ended. */
export type NotebookStatus = "ok" | "failed" | "timeout" | "budget" | "error";

/** One failed cell. */
export interface CellFailure {
  /** 1-based index among all cells (0: the kernel, before any cell). */
  cell: number;
  executionCount: number | null;
  message: string;
  /**
   * Set when this failure only follows from an earlier one: tslab forgets every declaration of
   * a failed cell, so later cells that use its names fail with "Cannot find name 'x'".
   */
  causedBy?: number;
}

/** Progress of one executed cell, for progress lines. */
export interface CellProgress {
  /** 1-based position among the cells to run, and their number. */
  position: number;
  total: number;
  /** 1-based index among all cells. */
  cell: number;
  ok: boolean;
  seconds: number;
}

/** Execution settings. */
export interface ExecuteOptions {
  /** Kernel working directory (the notebook's folder). */
  cwd: string;
  cellTimeoutS: number;
  budgetS: number;
  /** Continue after a failing cell (timeouts and the budget still stop). */
  keepGoing: boolean;
  /** Kernel argv override (`{connection_file}` is replaced). */
  kernelArgv?: string[];
  onKernelStarted?: (startupMs: number) => void;
  onCell?: (p: CellProgress) => void;
  /** Called for each failure as it is recorded. */
  onFailure?: (f: CellFailure) => void;
}

/** What happened. The notebook passed in has been updated in place. */
export interface NotebookExecution {
  status: NotebookStatus;
  /** Code cells to run (non-empty) and how many of them ran. */
  cells: number;
  executed: number;
  failures: CellFailure[];
  seconds: number;
  kernelStartupMs: number | null;
}

/** Execute `nb` in place (clearing all code outputs first). Never throws for cell or kernel failures. */
export async function executeNotebook(nb: Notebook, opts: ExecuteOptions): Promise<NotebookExecution> {
  const t0 = Date.now();
  const elapsedS = () => (Date.now() - t0) / 1000;
  const toRun: number[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    cell.outputs = [];
    cell.execution_count = null;
    if (cellSource(cell).trim() !== "") toRun.push(i);
  });
  const result: NotebookExecution = { status: "ok", cells: toRun.length, executed: 0, failures: [], seconds: 0, kernelStartupMs: null };
  const finish = (status: NotebookStatus) => ({ ...result, status, seconds: elapsedS() });
  const fail = (f: CellFailure) => {
    result.failures.push(f);
    opts.onFailure?.(f);
  };
  if (toRun.length === 0) return finish("ok");

  let kernel: KernelClient;
  try {
    // A kernel that does not answer is an error, not the notebook's budget: give it 30 to 120 s
    // whatever the budget (a slow start still counts against the budget, checked before each cell).
    const startupS = Math.min(Math.max(opts.budgetS, STARTUP_MIN_S), STARTUP_MAX_S);
    kernel = await KernelClient.start({ cwd: opts.cwd, argv: opts.kernelArgv, startupTimeoutMs: startupS * 1000 });
  } catch (e) {
    const message = e instanceof KernelError ? e.message : `could not start the kernel: ${(e as Error).message}`;
    fail({ cell: 0, executionCount: null, message });
    return finish("error");
  }
  result.kernelStartupMs = kernel.startupMs;
  opts.onKernelStarted?.(kernel.startupMs);
  setLanguageInfo(nb, kernel.kernelInfo);
  let status: NotebookStatus = "ok";
  const lostNames = new Map<string, number>(); // names declared by failed cells → that cell
  try {
    for (const [k, i] of toRun.entries()) {
      const cell: Cell = nb.cells[i];
      const leftS = opts.budgetS - elapsedS();
      if (leftS <= 0) {
        fail({ cell: i + 1, executionCount: null, message: `notebook budget of ${opts.budgetS} s used up before this cell` });
        status = "budget";
        break;
      }
      const byBudget = leftS < opts.cellTimeoutS;
      const r = await kernel.execute(cellSource(cell), Math.max(1, Math.min(opts.cellTimeoutS, leftS)) * 1000);
      result.executed += 1;
      cell.outputs = r.outputs;
      cell.execution_count = r.executionCount;
      opts.onCell?.({ position: k + 1, total: toRun.length, cell: i + 1, ok: r.status === "ok", seconds: r.seconds });
      if (r.status === "ok") continue;
      if (r.status === "timeout") {
        const message = byBudget ? `notebook budget of ${opts.budgetS} s exceeded (cell stopped after ${r.seconds.toFixed(1)} s)` : r.errorText;
        fail({ cell: i + 1, executionCount: r.executionCount, message });
        status = byBudget ? "budget" : "timeout";
        break;
      }
      const causedBy = knockOnFrom(r.errorText, lostNames);
      fail({ cell: i + 1, executionCount: r.executionCount, message: r.errorText, ...(causedBy ? { causedBy } : {}) });
      for (const name of declaredNames(cellSource(cell))) lostNames.set(name, causedBy ?? i + 1);
      status = "failed";
      if (!opts.keepGoing || !kernel.alive) break;
    }
  } finally {
    await kernel.shutdown();
  }
  return finish(status);
}

/** Top-level names a cell declares (const/let/var/function/class/type/interface/import). */
export function declaredNames(code: string): string[] {
  const names: string[] = [];
  const decl = /^(?:export\s+)?(?:declare\s+)?(?:async\s+)?(?:const|let|var|function\*?|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const m of code.matchAll(decl)) names.push(m[1]);
  const destructured = /^(?:const|let|var)\s+[{[]([^=]*)[}\]]\s*=/gm;
  for (const m of code.matchAll(destructured)) names.push(...(m[1].match(/[A-Za-z_$][\w$]*/g) ?? []));
  const imports = /^import\s+(?:type\s+)?([^;]*?)\s+from\s/gm;
  for (const m of code.matchAll(imports)) names.push(...(m[1].replace(/(?:\*|\b[\w$]+)\s+as\s+/g, "").replace(/\btype\s+/g, "").match(/[A-Za-z_$][\w$]*/g) ?? []));
  return names;
}

/** The failed cell an error follows from, if all its messages are "Cannot find name/namespace" of lost names. */
function knockOnFrom(errorText: string, lost: Map<string, number>): number | undefined {
  const lines = errorText.split("\n").filter((l) => l.trim() !== "");
  const cells = lines.map((l) => {
    const m = /(?:Cannot find name |Cannot find namespace |is using private name |for the shorthand property )'([^']+)'/.exec(l);
    return m ? lost.get(m[1]) : undefined;
  });
  if (cells.length === 0 || cells.some((c) => c === undefined)) return undefined;
  return Math.min(...(cells as number[]));
}

/** Record the kernel's language_info in the notebook metadata, as nbclient does. */
function setLanguageInfo(nb: Notebook, kernelInfo: Record<string, unknown>): void {
  const info = kernelInfo.language_info;
  if (typeof info === "object" && info !== null) nb.metadata.language_info = info;
}
