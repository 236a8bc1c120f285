/**
 * lib/src/exercise.ts: exercise checks that report a stub in one line and an error from student
 * code with its message and line, and never throw. The kernel side (tslab, the runner collecting
 * the status lines) is tested end to end in tests/tools/run.test.ts.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { EXERCISE_MIME, exerciseStatus, showFullErrors, tryExercise } from "../../lib/src/exercise";
import { EXERCISE_MIME as RUNNER_MIME } from "../../tools/jupyter/outputs";

const stub = (id: string) => () => {
  throw new Error(`not implemented: ${id}`);
};

function printed(f: () => void): string {
  const lines: string[] = [];
  const spy = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  try {
    f();
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}

const ROOT = path.resolve(__dirname, "..", "..");

afterEach(() => showFullErrors(false));

test("the runner reads the MIME type the library writes", () => {
  expect(EXERCISE_MIME).toBe(RUNNER_MIME);
});

test("a stub: one line, no throw; the library's version stands in when given", () => {
  let got: number | undefined;
  const out = printed(() => {
    got = tryExercise("addNoise", stub("addNoise"), () => 7);
  });
  expect(got).toBe(7);
  expect(out).toBe("✏️ `addNoise` is not implemented yet — edit the cell above; below: the library's version until yours works");
  const bare = printed(() => expect(tryExercise("addNoise", stub("addNoise"))).toBeUndefined());
  expect(bare).toBe("✏️ `addNoise` is not implemented yet — edit the cell above");
});

test("a working function: its result, and nothing printed", () => {
  const out = printed(() => expect(tryExercise("addNoise", () => 3, () => 7)).toBe(3));
  expect(out).toBe("");
});

test("the stub named in the error is the one reported (a check can depend on another exercise)", () => {
  expect(exerciseStatus("ddimUpdate", new Error("not implemented: addNoise"), false)).toEqual({ id: "addNoise", status: "todo", message: "", library: false });
});

test("another error: its message, the hint to the full stack, and no stack frames", () => {
  const out = printed(() => tryExercise("epsMseLoss", () => {
    throw new TypeError("x.sub is not a function");
  }));
  expect(out).toBe("✗ your `epsMseLoss` failed: x.sub is not a function\n  (COURSE_FULL_ERRORS=1 or showFullErrors() shows the whole stack)");
  showFullErrors();
  const full = printed(() => tryExercise("epsMseLoss", () => {
    throw new TypeError("x.sub is not a function");
  }));
  expect(full).toMatch(/^✗ your `epsMseLoss` failed: x\.sub is not a function\nTypeError: x\.sub is not a function\n\s+at /);
});

test("the line of the student's function that threw, as tslab runs a cell (vm.runInThisContext, exports in __tslab__)", () => {
  // In a plain node process (tslab's kernel is one; jest's sandbox is another V8 context, which
  // the inspector does not evaluate in), with the built library.
  const script = `
    const vm = require("vm");
    const { exerciseStatus, statusText } = require(${JSON.stringify(path.join(ROOT, "lib", "dist", "exercise.js"))});
    globalThis.__tslab__ = { exports: {} };
    // what tslab makes of an exercise cell: its JSDoc, the function, the export
    vm.runInThisContext([
      '(function(exports, require) { Object.defineProperty(exports, "__esModule", { value: true });',
      "/**", " * Twice x.", " */",
      "function twice(x) {",
      "    const y = x.value;",
      "    return [1, 2].map((k) => y.times(k));",
      "}",
      "exports.twice = twice;",
      "})(__tslab__.exports, require)",
    ].join("\\n"));
    const caught = (f) => { try { f(); } catch (e) { return e; } };
    const twice = __tslab__.exports.twice;
    const s1 = exerciseStatus("twice", caught(() => twice(null)), false);
    const s2 = exerciseStatus("twice", caught(() => twice({ value: 1 })), true);
    const s3 = exerciseStatus("twice", new Error("shapes do not match"), false);
    console.log(JSON.stringify({ s1, s2, s3, text: statusText(s2) }));`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const { s1, s2, s3, text } = JSON.parse(r.stdout);
  expect(s1).toMatchObject({ status: "error", at: "const y = x.value;" });
  expect(s1.message).toMatch(/Cannot read properties of null/);
  // a closure inside the function: still its line
  expect(s2).toMatchObject({ status: "error", at: "return [1, 2].map((k) => y.times(k));", library: true });
  expect(text).toBe("✗ your `twice` failed: y.times is not a function\n    at: return [1, 2].map((k) => y.times(k));\n  (below: the library's version until yours works)");
  // an error raised outside the student's function (e.g. by the check, on a wrong result): no line
  expect(s3).toEqual({ id: "twice", status: "error", message: "shapes do not match", library: false });
});

test("tensors: a failed check leaves the fallback's result usable and disposes nothing of it", () => {
  const before = tf.memory().numTensors;
  const t = printed(() => {
    const r = tryExercise("addNoise", stub("addNoise"), () => tf.ones([2]));
    expect(Array.from(r.dataSync())).toEqual([1, 1]);
    r.dispose();
  });
  expect(t).toContain("addNoise");
  expect(tf.memory().numTensors).toBe(before);
});

test("a bad id is a usage error", () => {
  expect(() => tryExercise("not an id", () => 1)).toThrow(/'not an id' is not an exercise id/);
});
