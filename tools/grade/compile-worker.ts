/**
 * The type-checking process: compiles exercise cells for the grader (tools/grade/compile.ts) in a
 * process of its own, so that a cell whose types explode (recursive types, deep nesting, long
 * flat expressions) costs that process, never the grader. Started and limited by
 * tools/grade/compile-service.ts (V8 heap cap, a wall-clock limit per exercise, SIGKILL); it
 * keeps one {@link ExerciseCompiler} so parsed library declarations are reused across cells.
 *
 * Protocol (Node IPC): parent → `{ type: "compile", root, prelude, exercise }`; child →
 * `{ type: "compiled", result }`. A failure inside TypeScript (e.g. "Maximum call stack size
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

/** The reply. */
export interface CompileReply {
  type: "compiled";
  result: Compiled;
}

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

if (require.main === module) {
  process.on("message", (m: CompileRequest) => {
    if (!m || m.type !== "compile") return;
    const reply: CompileReply = { type: "compiled", result: compileOne(m) };
    process.send?.(reply);
  });
  process.on("disconnect", () => process.exit(0));
}
