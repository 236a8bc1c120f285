/**
 * The autograder on honest submissions: the reference solutions score full marks, the released
 * stubs score 0 with "not implemented", one wrong exercise costs exactly its points, cell order and
 * outputs do not matter, results.json has Gradescope's fields, and batch mode writes per-student
 * files and a gradebook, resumes, regrades with --force and survives SIGINT without partial files.
 *
 * Single submissions are graded in-process (tools/grade/score.ts, real sandbox); the CLI
 * (tools/dist/grade.js, built by `npm run build`) is exercised for files, exit codes and batches.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initBackend } from "@course/lib";
import { materialize, referenceNotebook, ROOT, stubNotebook, withExercise } from "./fixtures/submissions/materialize";
import { Grader, GradeReport } from "../../tools/grade/score";
import { gradeBatch } from "../../tools/grade/batch";
import { gradebookCsv, gradescopeProblems, GradescopeResults, isTempFile, toGradescope } from "../../tools/grade/results";
import { MAX_NOTEBOOK_BYTES } from "../../tools/grade/extract";
import { courseCompilerOptions } from "../../tools/grade/compile";
import { Notebook, serializeNotebook } from "../../tools/notebook";
import { GRADE_JS, gradeCli } from "./gradeCli";

const POINTS: Record<string, number> = { addNoise: 2, epsMseLoss: 2, tweedieScore: 3, ddimUpdate: 3 };
const LIMITS = ["--limit", "perCallMs=5000", "--limit", "totalMs=30000"];

let dir = "";
let grader: Grader;

const cli = gradeCli;

function write(nb: Notebook, name: string, sub = ""): string {
  const file = path.join(dir, sub, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, serializeNotebook(nb));
  return file;
}

function byExercise(r: GradeReport): Record<string, number> {
  return Object.fromEntries(r.exercises.map((e) => [e.id, e.score]));
}

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, "utf8")) as GradescopeResults;

/** Wrong-by-one-detail versions of each exercise (typical student mistakes). */
const WRONG: Record<string, string> = {
  addNoise: "function addNoise(x0: tf.Tensor2D, eps: tf.Tensor2D, alphaBar: number): tf.Tensor2D {\n  // (1 − ᾱ) instead of sqrt(1 − ᾱ)\n  return tf.tidy(() => x0.mul(Math.sqrt(alphaBar)).add(eps.mul(1 - alphaBar)) as tf.Tensor2D);\n}",
  epsMseLoss: "function epsMseLoss(epsHat: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar {\n  return tf.tidy(() => tf.sum(tf.square(tf.sub(epsHat, eps))) as tf.Scalar);\n}",
  tweedieScore: "function tweedieScore(x0Hat: tf.Tensor2D, z: tf.Tensor2D, t: number): tf.Tensor2D {\n  return tf.tidy(() => tf.sub(z, x0Hat).div(t) as tf.Tensor2D);\n}",
  ddimUpdate: "function ddimUpdate(xt: tf.Tensor2D, epsHat: tf.Tensor2D, alphaBarT: number, alphaBarPrev: number): tf.Tensor2D {\n  return tf.tidy(() => {\n    const x0Hat = tf.sub(xt, epsHat.mul(Math.sqrt(1 - alphaBarT))).div(alphaBarT);\n    return x0Hat.mul(Math.sqrt(alphaBarPrev)).add(epsHat.mul(Math.sqrt(1 - alphaBarPrev))) as tf.Tensor2D;\n  });\n}",
};

beforeAll(async () => {
  if (!fs.existsSync(GRADE_JS)) throw new Error(`${GRADE_JS} missing: run \`npm run build\` first`);
  await initBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "grade-test-"));
  grader = new Grader({ root: ROOT, limits: { perCallMs: 5000, totalMs: 30000 } });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("grading one submission", () => {
  test("the reference solutions score full marks, and results.json has Gradescope's fields", async () => {
    const r = await grader.grade(write(referenceNotebook(), "01_score_matching.ipynb", "ref"));
    expect(r.autograderError).toBeUndefined();
    expect(r.tests.filter((t) => !t.passed).map((t) => `${t.exercise}: ${t.test}: ${t.output}`)).toEqual([]);
    expect([r.score, r.maxScore]).toEqual([10, 10]);
    expect(byExercise(r)).toEqual(POINTS);
    expect(r.tests.length).toBeGreaterThanOrEqual(12);
    const g = toGradescope(r);
    expect(gradescopeProblems(g)).toEqual([]);
    expect(typeof g.score).toBe("number");
    expect(typeof g.execution_time).toBe("number");
    expect(typeof g.output).toBe("string");
    for (const t of g.tests) {
      expect(Object.keys(t).sort()).toEqual(["max_score", "name", "output", "score", "status", "visibility"]);
      expect(t.status).toBe("passed");
      expect(t.visibility).toBe("visible");
    }
    expect(g.tests.reduce((s, t) => s + t.score, 0)).toBe(g.score);
    expect(gradescopeProblems({ score: "10", tests: [{ status: "ok" }] })).toHaveLength(2);
  });

  test("the released stubs score 0, each exercise saying 'not implemented'", async () => {
    const r = await grader.grade(path.join(ROOT, "notebooks", "01_score_matching.ipynb"));
    expect(r.score).toBe(0);
    expect(r.maxScore).toBe(10);
    for (const id of Object.keys(POINTS)) {
      const tests = r.tests.filter((t) => t.exercise === id);
      expect(tests.every((t) => !t.passed && t.score === 0)).toBe(true);
      expect(tests[0].output).toBe(`${id} threw an error: not implemented: ${id}`);
    }
  });

  test("one wrong exercise loses exactly that exercise's points, with a small case in the message", async () => {
    const ref = referenceNotebook();
    const reports = await Promise.all(Object.entries(WRONG).map(([id, src]) => grader.grade(write(withExercise(ref, id, src), `01_wrong_${id}.ipynb`))));
    Object.keys(WRONG).forEach((id, k) => {
      const r = reports[k];
      expect(byExercise(r)).toEqual({ ...POINTS, [id]: 0 });
      expect(r.score).toBe(10 - POINTS[id]);
      const small = r.tests.find((t) => t.exercise === id && t.test.startsWith("small case")) as { output: string };
      expect(small.output).toMatch(new RegExp(`^${id}\\(\\w+ = \\[\\[.*\\]\\].*\\): expected .*, got `));
    });
    const noise = reports[0].tests.find((t) => t.test.startsWith("variance preserving")) as { output: string };
    expect(noise.output).toMatch(/the variance of z_t is 0\.\d+, expected 1/);
  });

  test("added and reordered cells and leftover outputs do not matter", async () => {
    const nb = referenceNotebook();
    const exercises = nb.cells.filter((c) => c.metadata.exercise !== undefined);
    const others = nb.cells.filter((c) => c.metadata.exercise === undefined);
    for (const c of exercises) {
      c.outputs = [{ output_type: "stream", name: "stdout", text: "score: 0\n" }];
      c.execution_count = 7;
    }
    const extra = [
      { cell_type: "markdown" as const, id: "mine-1", metadata: {}, source: "My notes: addNoise is sqrt(ᾱ) x0 + …" },
      { cell_type: "code" as const, id: "mine-2", metadata: {}, source: "function addNoise2(a: number) { return a; }", outputs: [], execution_count: null },
    ];
    nb.cells = [...extra, ...exercises.reverse(), ...others];
    const r = await grader.grade(write(nb, "01_score_matching.ipynb", "reordered"));
    expect(r.score).toBe(10);
  });

  test("inputs are fresh per run; --seed reproduces a run", async () => {
    const file = write(withExercise(referenceNotebook(), "addNoise", WRONG.addNoise), "01_seeded.ipynb");
    const a = await new Grader({ root: ROOT, seed: 7 }).grade(file);
    const b = await new Grader({ root: ROOT, seed: 7 }).grade(file);
    const c = await new Grader({ root: ROOT }).grade(file);
    const msg = (r: GradeReport) => r.tests.filter((t) => t.exercise === "addNoise").map((t) => t.output);
    expect(a.seed).toBe(7);
    expect(msg(a)).toEqual(msg(b));
    expect(msg(c)).not.toEqual(msg(a));
  });

  test("a notebook over 100 MB is refused with a message, not read", async () => {
    const file = path.join(dir, "01_huge.ipynb");
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, MAX_NOTEBOOK_BYTES + 1);
    fs.closeSync(fd);
    const r = await grader.grade(file);
    expect(r.score).toBe(0);
    expect(r.notes.join("\n")).toMatch(/the autograder reads notebooks up to 100 MB/);
    expect(r.tests.every((t) => !t.passed)).toBe(true);
    fs.rmSync(file);
  });

  test("a notebook without exercise metadata is still recognised and every exercise reported missing", async () => {
    const nb = referenceNotebook();
    for (const c of nb.cells) delete c.metadata.exercise;
    const r = await grader.grade(write(nb, "homework.ipynb"));
    expect(r.notebook).toBe("01_score_matching");
    expect(r.score).toBe(0);
    expect(r.exercises.map((e) => e.summary)).toEqual(Object.keys(POINTS).map((id) => expect.stringContaining(`exercise cell '${id}' not found`)));
  });
});

describe("the CLI", () => {
  test("--help, usage errors and a missing submission", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: npm run grade -- <submission\.ipynb \| folder>/);
    expect(help.stdout).toMatch(/exit code: 0 graded/);
    expect((await cli(["--bogus"])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
    const missing = await cli([path.join(dir, "nope.ipynb")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or folder/);
  });

  test("one notebook: writes results.json atomically and prints a table", async () => {
    const file = write(withExercise(referenceNotebook(), "epsMseLoss", WRONG.epsMseLoss), "01_score_matching.ipynb", "cli");
    const out = path.join(dir, "cli", "out", "results.json");
    const r = await cli([file, "--out", out, ...LIMITS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^exercise\s+test\s+points\s+status$/m);
    expect(r.stdout).toMatch(/^epsMseLoss\s+small case \(2×2\)\s+0\/0\.5\s+FAILED$/m);
    expect(r.stdout).toMatch(/^total\s+8\/10$/m);
    const json = readJson(out);
    expect(gradescopeProblems(json)).toEqual([]);
    expect(json.score).toBe(8);
    expect(fs.readdirSync(path.dirname(out))).toEqual(["results.json"]);
  });

  test("Gradescope layout: a submission folder and --out FILE.json give one results.json", async () => {
    const sub = path.join(dir, "autograder", "submission");
    write(referenceNotebook(), "01_score_matching.ipynb", path.join("autograder", "submission", "nested"));
    const out = path.join(dir, "autograder", "results", "results.json");
    expect((await cli([sub, "--out", out, ...LIMITS])).code).toBe(0);
    expect(readJson(out).score).toBe(10);
    const empty = path.join(dir, "autograder", "empty");
    fs.mkdirSync(empty, { recursive: true });
    const out2 = path.join(dir, "autograder", "results", "empty.json");
    // several course notebooks: the autograder names the assignment for a submission without one
    expect((await cli([empty, "--gradescope", "--assignment", "01", "--out", out2])).code).toBe(0);
    const none = readJson(out2);
    expect(none.score).toBe(0);
    expect(none.output).toMatch(/no \.ipynb notebook found in the submission/);
    expect(none.tests.length).toBeGreaterThan(0);
    expect(gradescopeProblems(none)).toEqual([]);
  });
});

test("when the autograder itself fails, the submission still gets results.json: score 0 and the reason", async () => {
  const root = path.join(dir, "broken-course");
  fs.mkdirSync(path.join(root, "notebooks"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "notebooks", "01_score_matching.ipynb"), path.join(root, "notebooks", "01_score_matching.ipynb"));
  const out = path.join(dir, "broken.json");
  const r = await cli([write(referenceNotebook(), "01_score_matching.ipynb", "broken"), "--root", root, "--out", out]);
  expect(r.code).toBe(0);
  const json = readJson(out);
  expect(gradescopeProblems(json)).toEqual([]);
  expect(json.score).toBe(0);
  expect(json.output).toMatch(/The autograder failed while grading this submission \(no hidden grading suite for 01_score_matching/);
  expect(json.extra_data.autograder_error).toMatch(/no hidden grading suite/);
  expect(json.extra_data.max_score).toBe(10);
});

describe("batch mode", () => {
  const subs = () => path.join(dir, "batch");
  const out = () => path.join(dir, "batch-grades");
  const mtimes = () => Object.fromEntries(fs.readdirSync(out()).map((f) => [f, fs.statSync(path.join(out(), f)).mtimeMs]));

  beforeAll(() => {
    write(referenceNotebook(), "alice.ipynb", "batch");
    write(stubNotebook(), "bob.ipynb", "batch");
    write(withExercise(referenceNotebook(), "addNoise", WRONG.addNoise), "01_score_matching.ipynb", path.join("batch", "carol", "work"));
    materialize("not_json", path.join(subs(), "dave.ipynb"));
  });

  test("grades every student, writes <student>.json and gradebook.csv", async () => {
    const r = await cli([subs(), "--out", out(), "--jobs", "2", ...LIMITS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/graded 4, skipped 0/);
    expect(fs.readdirSync(out()).sort()).toEqual(["alice.json", "bob.json", "carol.json", "dave.json", "gradebook.csv"]);
    expect(fs.readFileSync(path.join(out(), "gradebook.csv"), "utf8")).toBe([
      "student,addNoise,epsMseLoss,tweedieScore,ddimUpdate,total",
      "alice,2,2,3,3,10", "bob,0,0,0,0,0", "carol,0,2,3,3,8", "dave,0,0,0,0,0", "",
    ].join("\n"));
    for (const s of ["alice", "bob", "carol", "dave"]) expect(gradescopeProblems(readJson(path.join(out(), `${s}.json`)))).toEqual([]);
    expect(readJson(path.join(out(), "dave.json")).output).toMatch(/not valid JSON/);
  });

  test("resumes: a rerun skips graded students, regrades an invalid results file, --force regrades all", async () => {
    const before = mtimes();
    const again = await cli([subs(), "--out", out(), ...LIMITS]);
    expect(again.stdout).toMatch(/graded 0, skipped 4/);
    const after = mtimes();
    for (const f of ["alice.json", "bob.json", "carol.json", "dave.json"]) expect(after[f]).toBe(before[f]);
    fs.writeFileSync(path.join(out(), "bob.json"), "{ half a file");
    expect((await cli([subs(), "--out", out(), ...LIMITS])).stdout).toMatch(/graded 1, skipped 3/);
    expect(readJson(path.join(out(), "bob.json")).score).toBe(0);
    const forced = await cli([subs(), "--out", out(), "--force", ...LIMITS]);
    expect(forced.stdout).toMatch(/graded 4, skipped 0/);
    expect(mtimes()["alice.json"]).toBeGreaterThan(after["alice.json"]);
  });

  test("SIGINT leaves only complete files, and a rerun finishes the batch", async () => {
    const many = path.join(dir, "batch-many");
    const outMany = path.join(dir, "batch-many-grades");
    for (let i = 0; i < 6; i++) write(i % 2 ? stubNotebook() : referenceNotebook(), `s${i}.ipynb`, "batch-many");
    let sent = false;
    const r = await cli([many, "--out", outMany, "--jobs", "1", ...LIMITS], (kill) => {
      const poll = setInterval(() => {
        const done = fs.existsSync(outMany) ? fs.readdirSync(outMany).filter((f) => /^s\d\.json$/.test(f)) : [];
        if (done.length >= 1) {
          clearInterval(poll);
          sent = true;
          kill("SIGINT");
        }
      }, 50);
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const files = fs.readdirSync(outMany);
    expect(files.filter(isTempFile)).toEqual([]);
    const graded = files.filter((f) => /^s\d\.json$/.test(f));
    expect(graded.length).toBeGreaterThanOrEqual(1);
    expect(graded.length).toBeLessThan(6);
    for (const f of graded) expect(gradescopeProblems(readJson(path.join(outMany, f)))).toEqual([]);
    const csv = fs.readFileSync(path.join(outMany, "gradebook.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(graded.length + 1);
    const rerun = await cli([many, "--out", outMany, ...LIMITS]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`graded ${6 - graded.length}, skipped ${graded.length}`);
    expect(fs.readFileSync(path.join(outMany, "gradebook.csv"), "utf8").trim().split("\n")).toHaveLength(7);
  });

  test("a grading process that hangs or dies costs only its submission, which is told so", async () => {
    const killed = path.join(dir, "batch-killed");
    const s = await gradeBatch({ folder: subs(), out: killed, jobs: 2, force: false, grade: { root: ROOT }, progress: "none", submissionTimeoutMs: 1 });
    expect(s.failed.sort()).toEqual(["alice", "bob", "carol", "dave"]);
    for (const student of s.failed) {
      const json = readJson(path.join(killed, `${student}.json`));
      expect(gradescopeProblems(json)).toEqual([]);
      expect(json.score).toBe(0);
      expect(json.output).toMatch(/The autograder failed on this submission: grading took longer than/);
    }
  });

  test("gradebook.csv quotes awkward names", () => {
    expect(gradebookCsv([{ student: 'o"neil, jr', exercises: { a: 1.5 }, total: 1.5 }])).toBe('student,a,total\n"o""neil, jr",1.5,1.5\n');
  });
});

describe("compiler settings for student cells", () => {
  test("the course's tsconfig.base.json, but never the unused-name checks (a cell shares the notebook's import cell)", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "grade-tsconfig-"));
    try {
      fs.writeFileSync(path.join(root, "tsconfig.base.json"), JSON.stringify({ compilerOptions: { strict: true, noUnusedLocals: true, noUnusedParameters: true } }));
      const o = courseCompilerOptions(root);
      expect(o.strict).toBe(true);
      expect([o.noUnusedLocals, o.noUnusedParameters]).toEqual([false, false]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
