/**
 * The release leak check (tools/release/leakcheck.ts) runs in CI: a clean week-1 student release
 * passes, and planted leaks are caught with file:line — a solution body copied verbatim, the same
 * body reformatted with renamed locals inside a notebook cell and inside a notebook output, a
 * commented-out copy, a hidden suite copied, a hidden-suite snippet pasted into a public check,
 * and the hidden folder itself. The deliberately shipped stubs, signatures and TSDoc never count.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Course, courseLayout, loadCourse } from "../../tools/course";
import { parseSolutions } from "../../tools/exercises";
import { writePlan } from "../../tools/release/files";
import { buildMatcher, checkTree, formatReport, LeakReport } from "../../tools/release/leakcheck";
import { regionSecretTokens } from "../../tools/release/secrets";
import { codeTokens, streams } from "../../tools/release/tokens";
import { studentPlan } from "../../tools/release/student";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURE_HIDDEN = path.join(__dirname, "fixtures", "release", "hidden_suite.ts");
const SOLUTIONS = path.join(ROOT, "solutions", "01_score_matching.ts");
const NOTEBOOK = "notebooks/01_score_matching.ipynb";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "leakcheck-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The course, with the fixture hidden suite added to the real ones (so the test never depends on them). */
function course(): Course {
  const c = loadCourse(courseLayout(ROOT));
  return { ...c, hidden: [...c.hidden, FIXTURE_HIDDEN] };
}

const COURSE = course();
const matcher = buildMatcher(COURSE, 1);
const release = path.join(tmp, "week1");
writePlan(studentPlan(COURSE, { week: 1, withholdSolutions: false }).plan, (fs.mkdirSync(release), release));

function check(): LeakReport {
  return checkTree(release, matcher, 1);
}

/** Plant `text` at `rel` in the release, run the check, then restore the file. */
function withPlant(rel: string, text: string, run: (r: LeakReport) => void): void {
  const file = path.join(release, rel);
  const before = fs.existsSync(file) ? fs.readFileSync(file) : null;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  try {
    run(check());
  } finally {
    if (before === null) fs.rmSync(file);
    else fs.writeFileSync(file, before);
  }
}

const regions = parseSolutions(fs.readFileSync(SOLUTIONS, "utf8"), SOLUTIONS);
/** The body of a reference solution (between the function's braces). */
function body(id: string): string {
  const text = regions.get(id)?.text ?? "";
  return text.slice(text.indexOf("{", text.indexOf(`function ${id}`)) + 1, text.lastIndexOf("}"));
}

describe("token normalisation", () => {
  const vals = (s: string) => codeTokens(s).map((t) => t.v);
  test("whitespace, comments, semicolons, quote style and trailing commas do not matter", () => {
    const a = `const x = f("a", [1, 2]); // note\nreturn g(x);`;
    const b = `let   x=f('a',[1,2,],)\n/* other */ return g(\n  x,\n)`;
    expect(vals(b)).toEqual(vals(a));
    expect(vals(a)).not.toEqual(vals(a.replace("g(x)", "h(x)")));
  });
  test("numbers compare by value; template strings without substitutions are strings", () => {
    expect(vals("f(1e-5, `s`)")).toEqual(vals("f(0.00001, 's')"));
  });
  test("code in comments and strings shows up in the inner stream, prose with apostrophes in the prose stream", () => {
    const s = streams(`// return tf.tidy(() => x.mul(2));\nconst doc = "y.add(Math.sqrt(3))";`);
    expect(s.inner.map((t) => t.v).join(" ")).toContain("tf . tidy ( ( ) => x . mul ( N:2 ) )");
    expect(s.inner.map((t) => t.v).join(" ")).toContain("y . add ( Math . sqrt ( N:3 ) )");
    const prose = streams("Don't write x.mul(Math.sqrt(a)) here");
    expect(prose.prose.map((t) => t.v).join(" ")).toContain("x . mul ( Math . sqrt ( a ) )");
  });
  test("a solution's secret is its body: the signature and TSDoc, shared with the stub, are excluded", () => {
    const r = regions.get("ddimUpdate");
    if (!r) throw new Error("no ddimUpdate region");
    const { tokens, locals } = regionSecretTokens(r.text, "ddimUpdate", 1);
    const joined = tokens.map((t) => t.v).join(" ");
    expect(joined.startsWith("return tf . tidy")).toBe(true);
    expect(joined).not.toContain("ddimUpdate");
    expect(joined).not.toContain("alphaBarPrev :");
    expect([...locals].sort()).toEqual(["alphaBarPrev", "alphaBarT", "epsHat", "x0Hat", "xt"]);
  });
});

describe("leak check of a week-1 student release", () => {
  test("the clean release passes (stubs, signatures and TSDoc ship without findings)", () => {
    const r = check();
    expect(formatReport(r)).toMatch(/leak check: clean/);
    expect(r.findings).toEqual([]);
    expect(r.secrets).toBeGreaterThanOrEqual(5);
    expect(r.files).toBeGreaterThan(50);
  });

  test("a solution body copied verbatim into a shipped file is caught at its line", () => {
    const text = `// helpers\nimport * as tf from "@tensorflow/tfjs";\n\nexport function q(x0: tf.Tensor2D, eps: tf.Tensor2D, alphaBar: number) {${body("addNoise")}}\n`;
    withPlant("lib/src/extra.ts", text, (r) => {
      // ddimUpdate's last line is the same formula as addNoise, so it is reported too.
      expect(r.findings.map((f) => f.secret.replace(/^.*#/, "")).sort()).toEqual(["addNoise (week 1)", "ddimUpdate (week 1)"]);
      expect(r.findings[0]).toMatchObject({ file: "lib/src/extra.ts", line: 5, secret: expect.stringContaining("#addNoise (week 1)"), matched: 41, of: 41 });
      expect(formatReport(r)).toMatch(/^LEAK lib\/src\/extra\.ts:5: matches solutions\/01_score_matching\.ts#addNoise/m);
    });
  });

  // ddimUpdate reformatted: locals renamed, other line breaks, no semicolons, trailing commas, comments.
  const disguised = [
    "function myStep(z: tf.Tensor2D, e: tf.Tensor2D, a: number, b: number): tf.Tensor2D {",
    "  return tf.tidy(() => {",
    "    // first the clean estimate",
    "    const guess = tf",
    "      .sub(z, e.mul(Math.sqrt(1 - a)),)",
    "      .div(Math.sqrt(a))",
    "    return guess.mul(Math.sqrt(b))",
    "      .add(e.mul(Math.sqrt(1 - b))) as tf.Tensor2D",
    "  })",
    "}",
  ].join("\n");

  function notebookWith(mutate: (nb: { cells: Record<string, unknown>[] }) => void): string {
    const nb = JSON.parse(fs.readFileSync(path.join(release, NOTEBOOK), "utf8")) as { cells: Record<string, unknown>[] };
    mutate(nb);
    return JSON.stringify(nb, null, 1);
  }

  test("the same body reformatted, with renamed locals, inside a notebook cell is caught", () => {
    const text = notebookWith((nb) => nb.cells.push({ cell_type: "code", id: "planted", metadata: {}, execution_count: null, outputs: [], source: disguised.split(/(?<=\n)/) }));
    withPlant(NOTEBOOK, text, (r) => {
      const f = r.findings.find((x) => x.secret.includes("#ddimUpdate (week 1)"));
      if (!f) throw new Error(`ddimUpdate not found:\n${formatReport(r)}`);
      expect(f.file).toBe(NOTEBOOK);
      expect(f.where).toMatch(/^cells\[\d+\]\.source line 2-9$/);
      expect(f.matched).toBe(f.of);
      expect(f.line).toBeGreaterThan(0);
      expect(f.matched).toBeGreaterThan(0.8 * f.of);
    });
  });

  test("a solution inside a notebook cell's output is caught", () => {
    const text = notebookWith((nb) => {
      const cell = nb.cells.find((c) => c.cell_type === "code") as { outputs: unknown[] };
      cell.outputs = [{ output_type: "stream", name: "stdout", text: ["my answer:\n", ...disguised.split(/(?<=\n)/)] }];
    });
    withPlant(NOTEBOOK, text, (r) => {
      const f = r.findings.find((x) => x.secret.includes("#ddimUpdate (week 1)"));
      expect(f?.where).toMatch(/^cells\[\d+\]\.outputs\[0\]\.text line 3-10$/);
    });
  });

  test("a commented-out solution is caught", () => {
    const commented = body("tweedieScore").split("\n").map((l) => `// ${l}`).join("\n");
    withPlant("tests/lib/notes.ts", `export const x = 1;\n${commented}\n`, (r) => {
      expect(r.findings.map((f) => [f.file, f.secret])).toEqual([["tests/lib/notes.ts", expect.stringContaining("#tweedieScore")]]);
    });
  });

  test("a hidden suite copied anywhere is caught, and the hidden folder itself is a finding", () => {
    const hidden = fs.readFileSync(FIXTURE_HIDDEN, "utf8");
    withPlant("tests/lib/copied.test.ts", hidden, (r) => {
      expect(r.findings.map((f) => f.file)).toEqual(["tests/lib/copied.test.ts"]);
      expect(r.findings[0].secret).toBe("tests/tools/fixtures/release/hidden_suite.ts");
    });
    withPlant("tests/exercises/hidden/01_score_matching.ts", "export {};\n", (r) => {
      expect(r.findings.map((f) => f.file)).toEqual(["tests/exercises/hidden/01_score_matching.ts"]);
      expect(formatReport(r)).toMatch(/hidden grading suites never ship/);
    });
    for (const real of COURSE.hidden.filter((f) => f !== FIXTURE_HIDDEN)) {
      withPlant("tools/extra.ts", fs.readFileSync(real, "utf8"), (r) => {
        expect(r.findings.some((f) => f.file === "tools/extra.ts" && f.secret === path.relative(ROOT, real))).toBe(true);
      });
    }
  });

  test("a hidden-suite snippet pasted into a public check is caught at its line", () => {
    const hidden = fs.readFileSync(FIXTURE_HIDDEN, "utf8").split("\n");
    const start = hidden.findIndex((l) => l.includes("secret quadrature"));
    const snippet = hidden.slice(start - 2, start + 7).join("\n");
    const publicCheck = "tests/exercises/01_score_matching.test.ts";
    const original = fs.readFileSync(path.join(release, publicCheck), "utf8").split("\n");
    const at = original.length - 3;
    const planted = [...original.slice(0, at), snippet, ...original.slice(at)].join("\n");
    withPlant(publicCheck, planted, (r) => {
      expect(r.findings).toHaveLength(1);
      expect(r.findings[0].file).toBe(publicCheck);
      expect(r.findings[0].line).toBeGreaterThanOrEqual(at + 1);
      expect(r.findings[0].line).toBeLessThanOrEqual(at + 4);
    });
  });

  test("the whole solutions file shipped early is caught for every unreleased exercise", () => {
    withPlant("solutions/01_score_matching.ts", fs.readFileSync(SOLUTIONS, "utf8"), (r) => {
      const found = new Set(r.findings.map((f) => f.secret.replace(/^.*#/, "")));
      expect([...found].sort()).toEqual(["addNoise (week 1)", "ddimUpdate (week 1)", "epsMseLoss (week 1)", "tweedieScore (week 1)"]);
      expect(r.findings.every((f) => f.file === "solutions/01_score_matching.ts")).toBe(true);
    });
  });

  test("the CLI: --check exits 1 and lists file:line on a leak, 0 on a clean release", () => {
    const cli = path.join(ROOT, "tools", "dist", "release.js");
    if (!fs.existsSync(cli)) throw new Error("tools/dist/release.js missing: run `npx tsc -b lib tools` first");
    const clean = spawnSync(process.execPath, [cli, "--check", release], { encoding: "utf8" });
    expect(clean.stdout).toMatch(/leak check: clean \(week 1:/);
    expect(clean.status).toBe(0);
    withPlant("datasets/notes.md", `The answer is ${body("epsMseLoss").trim()} of course.\n`, () => {
      const r = spawnSync(process.execPath, [cli, "--check", release, "--week", "1"], { encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/^LEAK datasets\/notes\.md:1: matches solutions\/01_score_matching\.ts#epsMseLoss/m);
    });
  });
});

test("a later week's release ships the earlier solutions and is clean for that week", () => {
  const dir = path.join(tmp, "week2");
  fs.mkdirSync(dir);
  writePlan(studentPlan(COURSE, { week: 2, withholdSolutions: false }).plan, dir);
  const nb = fs.readFileSync(path.join(dir, NOTEBOOK), "utf8");
  expect(nb).not.toContain("not implemented: addNoise");
  expect(fs.existsSync(path.join(dir, "solutions", "01_score_matching.ts"))).toBe(true);
  const r = checkTree(dir, buildMatcher(COURSE, 2), 2);
  expect(r.findings.filter((f) => f.secret.startsWith("solutions/"))).toEqual([]);
  expect(r.findings).toEqual([]);
});
