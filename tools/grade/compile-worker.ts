/**
 * The type-checking process: compiles exercise cells for the grader (tools/grade/compile.ts) in a
 * process of its own, so that a cell whose types explode (recursive types, deep nesting, long
 * flat expressions) costs that process, never the grader. Started and limited by
 * tools/grade/compile-service.ts (V8 heap cap, a wall-clock limit per exercise, SIGKILL); it
 * keeps one {@link ExerciseCompiler} so parsed library declarations are reused across cells.
 *
 * Protocol (Node IPC): parent → `{ type: "compile", root, prelude, exercise }`; child →
 * `{ type: "compiled", result }`; or, the fast path, `{ type: "compile-all", …, exercises }` →
 * `{ type: "compiled-all", results }` (one program for all cells; null when TypeScript failed). A failure inside TypeScript (e.g. "Maximum call stack size
 * exceeded") is a compile error of that exercise, never a crash of this process.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { Compiled, ExerciseCompiler, ExerciseSource } from "./compile";

/** A request to compile one exercise. */
export interface CompileRequest {
  type: "compile";
  root: string;
  prelude: string[];
  exercise: ExerciseSource;
}

/** Load TypeScript and parse the library declarations once, before any cell is timed. */
export interface WarmRequest {
  type: "warm";
  root: string;
  prelude: string[];
}

/** Fast path: every exercise of a submission in one program (null back when TypeScript failed). */
export interface CompileAllRequest {
  type: "compile-all";
  root: string;
  prelude: string[];
  exercises: ExerciseSource[];
}

/** The replies. */
export type CompileReply = { type: "compiled"; result: Compiled } | { type: "compiled-all"; results: Compiled[] | null } | { type: "warm" };

let compiler: ExerciseCompiler | null = null;

function compileOne(m: CompileRequest): Compiled {
  if (!compiler || compiler.root !== m.root) compiler = new ExerciseCompiler(m.root);
  try {
    return compiler.compileAll(m.prelude, [m.exercise])[0];
  } catch (e) {
    compiler = null; // its cached program may be half-built
    const msg = e instanceof RangeError ? "the cell is nested too deeply for the type checker (Maximum call stack size exceeded)" : `the type checker failed on this cell (${String((e as Error).message ?? e).slice(0, 200)})`;
    return { id: m.exercise.id, ok: false, problem: "type", message: `the '${m.exercise.id}' cell does not compile: ${msg}; simplify it` };
  }
}

function compileMany(m: CompileAllRequest): Compiled[] | null {
  if (!compiler || compiler.root !== m.root) compiler = new ExerciseCompiler(m.root);
  try {
    return compiler.compileAll(m.prelude, m.exercises);
  } catch {
    compiler = null;
    return null; // the grader compiles each cell alone to find the one that broke TypeScript
  }
}

/** An idle type checker exits after this long (the grader starts a fresh one when needed). */
const IDLE_MS = 120_000;

if (require.main === module) {
  let idle = setTimeout(() => process.exit(0), IDLE_MS);
  process.on("message", (m: CompileRequest | CompileAllRequest | WarmRequest) => {
    clearTimeout(idle);
    idle = setTimeout(() => process.exit(0), IDLE_MS);
    if (m?.type === "warm") {
      const stub = "function __warm(): number {\n  return 0;\n}";
      compileOne({ type: "compile", root: m.root, prelude: m.prelude, exercise: { id: "__warm", source: stub, stub } });
      process.send?.({ type: "warm" } satisfies CompileReply);
    } else if (m?.type === "compile-all") {
      process.send?.({ type: "compiled-all", results: compileMany(m) } satisfies CompileReply);
    } else if (m?.type === "compile") {
      process.send?.({ type: "compiled", result: compileOne(m) } satisfies CompileReply);
    }
  });
  process.on("disconnect", () => process.exit(0));
}
