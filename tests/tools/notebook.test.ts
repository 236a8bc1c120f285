/**
 * Unit tests (no kernel) for notebook reading/validation/writing, exercise substitution, the
 * Jupyter wire format and output collection.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  exerciseCells, joinText, Notebook, NotebookError, parseNotebook, readNotebook, serializeNotebook, splitLines, stripOutputs, validateNotebook, writeNotebook,
} from "../../tools/notebook";
import { ExerciseError, instructorNotebook, parseSolutions, stripExport, substituteSolutions } from "../../tools/exercises";
import { cleanErrorText, OutputCollector, reportItems, REPORT_MIME, stripAnsi } from "../../tools/jupyter/outputs";
import { deserialize, JupyterMessage, newMessage, serialize } from "../../tools/jupyter/wire";
import { declaredNames } from "../../tools/jupyter/execute";
import { parseArgs, UsageError } from "../../tools/run";
import { checkCommittedNotebook } from "../../tools/nbvalidate";

const FIX = path.join(__dirname, "fixtures");
const GOOD = path.join(FIX, "notebooks", "01_good.ipynb");

function tinyNotebook(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript (tslab)" } },
    cells: [
      { id: "a", cell_type: "markdown", metadata: {}, source: "# Title\n\ntext" },
      { id: "b", cell_type: "code", metadata: { exercise: { id: "twice", points: 1, week: 1 } }, source: 'function twice(x: number): number {\n  throw new Error("not implemented: twice");\n}', outputs: [], execution_count: null },
      { id: "c", cell_type: "code", metadata: {}, source: "twice(2)", outputs: [], execution_count: null },
    ],
  };
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an exception");
}

describe("readNotebook / validateNotebook", () => {
  test("a good notebook reads and validates", () => {
    const nb = readNotebook(GOOD);
    expect(nb.cells.length).toBe(11);
    expect(validateNotebook(nb)).toEqual([]);
  });

  test("missing file: kind 'missing', names the path", () => {
    const e = thrown(() => readNotebook(path.join(FIX, "nope.ipynb")));
    expect(e).toBeInstanceOf(NotebookError);
    expect((e as NotebookError).kind).toBe("missing");
    expect(e.message).toMatch(/nope\.ipynb: cannot read notebook \(no such file\)/);
  });

  test("invalid JSON: kind 'json' with line and column", () => {
    const e = thrown(() => readNotebook(path.join(FIX, "bad", "malformed.ipynb"))) as NotebookError;
    expect(e.kind).toBe("json");
    expect(e.message).toMatch(/malformed\.ipynb: not valid JSON \(.*line 3, column \d+\)/);
  });

  test("not nbformat 4", () => {
    const e = thrown(() => readNotebook(path.join(FIX, "bad", "v3.ipynb"))) as NotebookError;
    expect(e.kind).toBe("format");
    expect(e.message).toMatch(/not an nbformat 4 notebook \(nbformat 3\)/);
  });

  test("schema violations are listed with their JSON path", () => {
    const e = thrown(() => readNotebook(path.join(FIX, "bad", "schema_invalid.ipynb"))) as NotebookError;
    expect(e.kind).toBe("schema");
    expect(e.problems).toEqual([
      "cells[0]: must have required property 'outputs'",
      'cells[1].cell_type: must be "code", "markdown" or "raw" (got "markdwn")',
    ]);
    expect(e.message).toContain("cells[0]: must have required property 'outputs'");
  });

  test("output problems point into the output; oneOf noise is folded", () => {
    const nb = tinyNotebook() as unknown as { cells: Array<Record<string, unknown>> };
    nb.cells[2].outputs = [{ output_type: "stream", name: "stdout" }, { output_type: "display_data", data: { "text/plain": 3 }, metadata: {} }];
    nb.cells[2].extra = true;
    expect(validateNotebook(nb)).toEqual([
      "cells[2]: must NOT have additional properties ('extra')",
      "cells[2].outputs[0]: must have required property 'text'",
      'cells[2].outputs[1].data["text/plain"]: must be string or array',
    ]);
  });

  test("more than five problems: the message lists five and counts the rest", () => {
    const nb = tinyNotebook();
    for (let i = 0; i < 7; i++) nb.cells.push({ id: `x${i}`, cell_type: "code", metadata: {}, source: "" } as never);
    const e = thrown(() => parseNotebook(JSON.stringify(nb), "many.ipynb")) as NotebookError;
    expect(e.problems.length).toBe(14);
    expect(e.message).toMatch(/… and 9 more$/);
  });

  test("duplicate cell ids and malformed exercise metadata", () => {
    const nb = tinyNotebook();
    nb.cells[2].id = "b";
    nb.cells[2].metadata.exercise = { id: "twice", points: "x" };
    expect(validateNotebook(nb)).toEqual([
      "cells[2].id: duplicate cell id 'b' (also cells[1])",
      "cells[2].metadata.exercise.id: duplicate exercise id 'twice' (also cells[1])",
      "cells[2].metadata.exercise.points: must be a number ≥ 0",
      "cells[2].metadata.exercise.week: must be a number or string",
    ]);
  });
});

describe("writing notebooks like Jupyter", () => {
  test("sorted keys, 1-space indent, split lines, trailing newline; round trip", () => {
    const nb = tinyNotebook();
    nb.cells[2].outputs = [{ output_type: "stream", name: "stdout", text: "4\n5\n" }];
    const text = serializeNotebook(nb);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.startsWith('{\n "cells": [\n  {\n   "cell_type": "markdown",\n   "id": "a",')).toBe(true);
    expect(text).toContain('"text": [\n      "4\\n",\n      "5\\n"\n     ]');
    const back = parseNotebook(text);
    expect(back.cells[0].source).toEqual(["# Title\n", "\n", "text"]);
    expect(serializeNotebook(back)).toBe(text);
  });

  test("splitLines keeps the newlines; empty text is no lines", () => {
    expect(splitLines("a\nb\n")).toEqual(["a\n", "b\n"]);
    expect(splitLines("a")).toEqual(["a"]);
    expect(splitLines("")).toEqual([]);
  });

  test("the committed fixture is byte-identical to what writeNotebook writes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbwrite-"));
    const out = path.join(dir, "x.ipynb");
    writeNotebook(out, readNotebook(GOOD));
    expect(fs.readFileSync(out, "utf8")).toBe(fs.readFileSync(GOOD, "utf8"));
    fs.rmSync(dir, { recursive: true });
  });

  test("stripOutputs clears outputs and counts on a copy", () => {
    const nb = tinyNotebook();
    nb.cells[2].outputs = [{ output_type: "stream", name: "stdout", text: "4\n" }];
    nb.cells[2].execution_count = 3;
    const s = stripOutputs(nb);
    expect(s.cells[2].outputs).toEqual([]);
    expect(s.cells[2].execution_count).toBeNull();
    expect(nb.cells[2].execution_count).toBe(3);
  });
});

describe("exercises", () => {
  const solutions = [
    'import * as tf from "@tensorflow/tfjs";',
    "",
    "// #region exercise: twice",
    "/** Twice x. */",
    "export function twice(x: number): number {",
    "  return 2 * x;",
    "}",
    "// #endregion",
    "",
  ].join("\n");

  test("exerciseCells lists id, points, week, index and source", () => {
    expect(exerciseCells(tinyNotebook())).toEqual([
      { index: 1, id: "twice", points: 1, week: 1, source: 'function twice(x: number): number {\n  throw new Error("not implemented: twice");\n}' },
    ]);
  });

  test("parseSolutions reads regions; substitution replaces the cell and strips export", () => {
    const regions = parseSolutions(solutions, "s.ts");
    expect([...regions.keys()]).toEqual(["twice"]);
    expect(regions.get("twice")?.line).toBe(3);
    const nb = tinyNotebook();
    const out = substituteSolutions(nb, regions, { notebook: "n.ipynb", solutions: "s.ts" });
    expect(out.cells[1].source).toEqual(["/** Twice x. */\n", "function twice(x: number): number {\n", "  return 2 * x;\n", "}"]);
    expect(nb.cells[1].source).toContain("not implemented"); // the input is not modified
  });

  test("an exercise without a region, and a region without an exercise, name both files", () => {
    const other = solutions.replace(/twice/g, "thrice");
    const e = thrown(() => substituteSolutions(tinyNotebook(), parseSolutions(other, "sol/01.ts"), { notebook: "nb/01.ipynb", solutions: "sol/01.ts" }));
    expect(e).toBeInstanceOf(ExerciseError);
    expect(e.message).toBe(
      "exercise 'twice' (cell 2 of nb/01.ipynb) has no \"// #region exercise: twice\" in sol/01.ts\n" +
      "sol/01.ts:3: region 'exercise: thrice' has no exercise cell in nb/01.ipynb",
    );
  });

  test("bad markers are reported with file and line", () => {
    expect(thrown(() => parseSolutions("// #region exercise: f\nfunction f() {}\n", "s.ts")).message).toBe('s.ts:1: region \'exercise: f\' has no "// #endregion"');
    expect(thrown(() => parseSolutions("// #region exercise: f\nfunction g() {}\n// #endregion\n", "s.ts")).message).toBe("s.ts:1: region 'exercise: f' does not define function f");
    expect(thrown(() => parseSolutions("// #region exercise f-g\n", "s.ts")).message).toMatch(/s\.ts:1: malformed marker/);
  });

  test("instructorNotebook reads solutions/<name>.ts; missing file is a clear error", () => {
    const nb = readNotebook(GOOD);
    const inst = instructorNotebook(nb, GOOD, path.join(FIX, "solutions"));
    expect(joinText(inst.cells[5].source)).toContain("return 2 * x;");
    const e = thrown(() => instructorNotebook(nb, GOOD, path.join(FIX, "bad")));
    expect(e.message).toMatch(/01_good\.ipynb has exercise cells but its solutions file .*bad\/01_good\.ts cannot be read/);
  });

  test("stripExport removes top-level export keywords only", () => {
    expect(stripExport("export function f() {}\nexport const x = 1;\nconst s = 'export function';\n  export type T = 1;")).toBe(
      "function f() {}\nconst x = 1;\nconst s = 'export function';\n  export type T = 1;",
    );
  });
});

describe("outputs and error text", () => {
  const msg = (type: string, content: Record<string, unknown>) => newMessage(type, content, "s") as JupyterMessage;

  test("streams merge per name; update_display_data replaces by display_id; clear_output(wait)", () => {
    const c = new OutputCollector(new Map());
    c.handle(msg("stream", { name: "stdout", text: "a\n" }));
    c.handle(msg("stream", { name: "stdout", text: "b\n" }));
    c.handle(msg("stream", { name: "stderr", text: "warn\n" }));
    c.handle(msg("display_data", { data: { "text/plain": "step 1" }, metadata: {}, transient: { display_id: "p" } }));
    c.handle(msg("update_display_data", { data: { "text/plain": "step 9" }, metadata: {}, transient: { display_id: "p" } }));
    c.handle(msg("execute_result", { data: { "text/plain": "42" }, metadata: {}, execution_count: 7 }));
    expect(c.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "a\nb\n" },
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "display_data", data: { "text/plain": "step 9" }, metadata: {} },
      { output_type: "execute_result", execution_count: 7, data: { "text/plain": "42" }, metadata: {} },
    ]);
    c.handle(msg("clear_output", { wait: true }));
    expect(c.outputs.length).toBe(4);
    c.handle(msg("stream", { name: "stdout", text: "fresh" }));
    expect(c.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "fresh" }]);
  });

  test("cleanErrorText drops ANSI, V8's source excerpt and stack frames", () => {
    const raw = "evalmachine.<anonymous>:2\nthrow new Error('not implemented: f');\n^\n\n\u001b[31mError: not implemented: f\u001b[39m\n    at evalmachine.<anonymous>:2:7\n    at Object.execute (/x/tslab/dist/executor.js:160:38)\n";
    expect(cleanErrorText(raw)).toBe("Error: not implemented: f");
    expect(stripAnsi("\u001b[1;31mred\u001b[0m")).toBe("red");
  });

  test("reportItems reads the course report MIME type, object or JSON text", () => {
    const items = [{ name: "mmd", value: 0.004, unit: "", meaning: "squared MMD" }];
    expect(reportItems([
      { output_type: "display_data", data: { [REPORT_MIME]: { items } }, metadata: {} },
      { output_type: "display_data", data: { [REPORT_MIME]: [JSON.stringify({ items })] }, metadata: {} },
      { output_type: "display_data", data: { "text/plain": "x" }, metadata: {} },
    ])).toEqual([...items, ...items]);
  });

  test("declaredNames finds top-level declarations and imports", () => {
    expect(declaredNames('import * as tf from "x";\nimport { a, b as c } from "y";\nconst { d, e } = f();\nlet g = 1;\nfunction h() {}\n  const inner = 2;')).toEqual(
      ["g", "h", "d", "e", "tf", "a", "c"],
    );
  });
});

describe("wire protocol", () => {
  test("signed round trip; a wrong key or tampered frame is rejected", () => {
    const m = newMessage("execute_request", { code: "1+1" }, "sess");
    const frames = serialize(m, "k3y");
    const back = deserialize([Buffer.from("identity"), ...frames], "k3y");
    expect(back.header.msg_id).toBe(m.header.msg_id);
    expect(back.content).toEqual({ code: "1+1" });
    expect(() => deserialize(frames, "other")).toThrow(/invalid HMAC/);
    const tampered = [...frames];
    tampered[5] = Buffer.from(JSON.stringify({ code: "rm -rf" }));
    expect(() => deserialize(tampered, "k3y")).toThrow(/invalid HMAC/);
  });
});

describe("run CLI arguments", () => {
  test("defaults and flags", () => {
    const { opts, files } = parseArgs(["a.ipynb", "--mode=student", "--cell-timeout", "3", "--budget", "9", "--keep-going", "--quiet", "--out", "o"]);
    expect(files).toEqual(["a.ipynb"]);
    expect(opts).toMatchObject({ mode: "student", cellTimeoutS: 3, budgetS: 9, keepGoing: true, quiet: true, out: path.resolve("o") });
    expect(parseArgs(["a.ipynb"]).opts.budgetS).toBeUndefined();
  });

  test("--all lists NN_*.ipynb in order", () => {
    const { files } = parseArgs(["--all", "--notebooks-dir", path.join(FIX, "notebooks")]);
    expect(files.map((f) => path.basename(f))).toEqual(["01_good.ipynb", "02_fails.ipynb", "03_loop.ipynb", "04_slow.ipynb", "05_exercises.ipynb", "06_student_error.ipynb"]);
  });

  test.each([
    [["--mode", "teacher", "a.ipynb"], /--mode must be instructor or student/],
    [["--cell-timeout", "-1", "a.ipynb"], /positive number of seconds/],
    [["--bogus"], /unknown option --bogus/],
    [[], /no notebooks given/],
    [["--all", "x.ipynb"], /not both/],
    [["--kernel-cmd", "node kernel.js"], /must contain \{connection_file\}/],
  ])("usage error %j", (argv, re) => {
    const e = thrown(() => parseArgs(argv as string[]));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(re);
  });
});

describe("nbvalidate rules", () => {
  test("fixtures as committed pass; executed copies, export and solved exercises fail", () => {
    expect(checkCommittedNotebook(GOOD)).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbval-"));
    const nb = tinyNotebook();
    nb.metadata.kernelspec = { name: "python3", display_name: "Python" };
    nb.cells[1].source = "export function twice(x: number): number { return 2 * x; }";
    nb.cells[2].outputs = [{ output_type: "stream", name: "stdout", text: "4\n" }];
    nb.cells[2].execution_count = 1;
    writeNotebook(path.join(dir, "x.ipynb"), nb);
    expect(checkCommittedNotebook(path.join(dir, "x.ipynb"))).toEqual([
      'metadata.kernelspec.name: must be "tslab" (got "python3")',
      "cells[1].source: tslab rejects top-level `export` in a cell; drop the keyword",
      "cells[2].outputs: must be empty in a committed notebook (strip outputs)",
      "cells[2].execution_count: must be null in a committed notebook",
      "cells[1]: exercise 'twice' must be a stub that throws new Error(\"not implemented: twice\")",
    ]);
    expect(checkCommittedNotebook(path.join(FIX, "bad", "schema_invalid.ipynb"))).toEqual([
      "cells[0]: must have required property 'outputs'",
      'cells[1].cell_type: must be "code", "markdown" or "raw" (got "markdwn")',
    ]);
    fs.rmSync(dir, { recursive: true });
  });
});
