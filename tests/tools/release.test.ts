/**
 * `npm run release` (tools/dist/release.js, built by `npm run build`): the student release for a
 * week — what it holds and leaves out, stubs vs released solutions, the README — and the
 * Gradescope autograder bundle, run in a simulated /autograder layout under a temp folder
 * (AUTOGRADER_ROOT). That the releases of weeks 1, 2 and 6 install and pass their own
 * `npm ci && npm test`: release-install.test.ts.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { courseLayout, CourseNotebook, loadCourse, walkFiles } from "../../tools/course";
import { instructorNotebook, parseSolutions } from "../../tools/exercises";
import { exerciseCells, readNotebook, writeNotebook } from "../../tools/notebook";
import { releasedSolutionsText, studentNotebook } from "../../tools/release/notebooks";
import { readmeProblems } from "../../tools/release/readme";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "tools", "dist", "release.js");
const GRADE_JS = path.join(ROOT, "tools", "dist", "grade.js");
const NB01 = "notebooks/01_score_matching.ipynb";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
// postinstall registers a kernelspec: keep it out of the user's Jupyter folder.
const ENV = { ...process.env, JUPYTER_DATA_DIR: path.join(tmp, "jupyter"), npm_config_update_notifier: "false" };

function cli(args: string[]): SpawnSyncReturns<string> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run \`npm run build\` first`);
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", env: ENV });
}

function run(cmd: string, args: string[], cwd: string, timeoutS: number, env: NodeJS.ProcessEnv = ENV): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", env, timeout: timeoutS * 1000, maxBuffer: 64 * 1024 * 1024 });
}

function files(dir: string): string[] {
  return walkFiles(dir, (rel, isDir) => isDir && /(^|\/)(node_modules|dist|build)$/.test(rel)).map((f) => path.relative(dir, f).split(path.sep).join("/"));
}

const week1 = path.join(tmp, "week1");

describe("release CLI", () => {
  test("usage errors exit 2 with a reason", () => {
    const full = path.join(tmp, "full");
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, "x"), "");
    const cases: [string[], RegExp][] = [
      [[], /--week N is required/],
      [["--week", "one", "--out", path.join(tmp, "a")], /--week must be a whole number/],
      [["--week", "1"], /--out DIR is required/],
      [["--week", "0", "--out", path.join(tmp, "b")], /no notebook belongs to week 0/],
      [["--week", "1", "--out", full], /is not empty/],
      [["--week", "1", "--out", full, "--force"], /holds no course-release\.json: refusing to delete/],
      [["--week", "1", "--out", ROOT], /would overwrite the course repository/],
      [["--autograder", "--withhold-solutions", "--week", "1", "--out", path.join(tmp, "c")], /student releases only/],
      [["--check"], /--check needs a value/],
      [["--bogus"], /unknown argument --bogus/],
    ];
    for (const [args, why] of cases) {
      const r = cli(args);
      expect([args.join(" "), r.status]).toEqual([args.join(" "), 2]);
      expect(r.stderr).toMatch(why);
    }
    expect(fs.readdirSync(full)).toEqual(["x"]);
    expect(cli(["--help"]).stdout).toMatch(/--autograder --week N --out DIR/);
  });
});

describe("student release, week 1", () => {
  let out: SpawnSyncReturns<string>;
  beforeAll(() => {
    out = cli(["--week", "1", "--out", week1]);
  });

  test("the command succeeds and ends with a clean leak check", () => {
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/leak check: clean \(week 1: \d+ files/);
    expect(out.stdout).toMatch(/notebooks\/01_score_matching\.ipynb: addNoise \(stub\), epsMseLoss \(stub\), tweedieScore \(stub\), ddimUpdate \(stub\)/);
  });

  test("ships what students need, and nothing of the grader, the release tools, hidden suites or unreleased solutions", () => {
    const have = new Set(files(week1));
    for (const f of ["package.json", "package-lock.json", "tsconfig.base.json", "tsconfig.json", "jest.config.js", ".gitignore", "README.md", "course-release.json",
      "lib/package.json", "lib/tsconfig.json", "lib/src/index.ts", "tools/tsconfig.json", "tools/run.ts", "tools/notebook.ts", "tools/exercises.ts", "tools/kernelspec.ts",
      "tools/train.ts", "tools/jupyter/kernel.ts", "tools/schema/nbformat.v4.5.schema.json", "tools/jest-summary.js", "tools/start.ts", "tools/stubs.ts",
      "checkpoints/ring-mlp/manifest.json", "checkpoints/ring-mlp/weights.bin", "datasets/README.md", NB01,
      "tests/lib/random.test.ts", "tests/exercises/harness.ts", "tests/exercises/01_score_matching.test.ts", "tests/exercises/student-mode.ts",
      "tests/notebooks/execute.test.ts", "tests/notebooks/schema.test.ts", "tests/notebooks/claims.ts", "tests/tools/run.test.ts", "tests/tools/fixtures/notebooks/01_good.ipynb"]) {
      expect([f, have.has(f)]).toEqual([f, true]);
    }
    const instructorOnly = [...have].filter((f) => f !== "course-release.json" && /grade|release|hidden|leakcheck|sandbox|submission|nbconvert|^solutions\/|^\.ci\//i.test(f));
    expect(instructorOnly).toEqual([]);
    expect(fs.existsSync(path.join(week1, "tools", "dist"))).toBe(false);
    expect(fs.existsSync(path.join(week1, "lib", "dist"))).toBe(false);
  });

  test("package.json keeps the student scripts only, with `npm start` in student mode", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(week1, "package.json"), "utf8"));
    const repo = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    // bench ships when tools/bench.ts compiles without the grader (otherwise the release log says why it is left out).
    const bench = fs.existsSync(path.join(week1, "tools", "bench.ts"));
    expect(Object.keys(pkg.scripts).sort()).toEqual(["bench", "book", "build", "postinstall", "run-notebooks", "slides", "start", "test", "train"].filter((k) => bench || k !== "bench"));
    if (!bench) expect(out.stdout).toMatch(/left out tools\/bench\.ts: imports \.\/grade\/[\w/]+, which does not ship/);
    expect(pkg.scripts.start).toBe("node tools/dist/start.js");
    expect(pkg.scripts.test).toBe(repo.scripts.test);
    expect([pkg.name, pkg.dependencies, pkg.devDependencies, pkg.workspaces]).toEqual([repo.name, repo.dependencies, repo.devDependencies, repo.workspaces]);
    const jest = require(path.join(week1, "jest.config.js")) as { setupFilesAfterEnv: string[]; roots: string[] };
    expect(jest.setupFilesAfterEnv).toEqual(["<rootDir>/tests/exercises/student-mode.ts"]);
    expect(jest.roots).toEqual(["<rootDir>/tests"]);
  });

  test("the notebook ships stubs for every week-1 exercise, outputs stripped, metadata kept", () => {
    const nb = readNotebook(path.join(week1, NB01));
    const cells = exerciseCells(nb);
    expect(cells.map((c) => c.id)).toEqual(["addNoise", "epsMseLoss", "tweedieScore", "ddimUpdate"]);
    for (const c of cells) expect(c.source).toContain(`throw new Error("not implemented: ${c.id}")`);
    expect(nb.cells.every((c) => (c.outputs ?? []).length === 0)).toBe(true);
    expect(exerciseCells(readNotebook(path.join(ROOT, NB01))).map((c) => [c.id, c.points, c.week])).toEqual(cells.map((c) => [c.id, c.points, c.week]));
  });

  test("the README keeps the two commands and is true for the release", () => {
    const readme = fs.readFileSync(path.join(week1, "README.md"), "utf8");
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toMatch(/^npm test\s/m);
    expect(readme).toMatch(/Student edition, week 1/);
    expect(readme).toMatch(/\| `addNoise` \| `notebooks\/01_score_matching\.ipynb` \| 1 \| 2 \|/);
    expect(readme).not.toMatch(/npm run (grade|release)|Continuous integration|hidden from students/);
    const scripts = JSON.parse(fs.readFileSync(path.join(week1, "package.json"), "utf8")).scripts;
    expect(readmeProblems(readme, week1, scripts)).toEqual([]);
    expect(readmeProblems(`${readme}\nRun \`npm run grade\` on \`tools/grade.ts\`.`, week1, scripts)).toEqual([
      'README mentions `npm run grade` but package.json has no "grade" script',
      "README names `tools/grade.ts`, which the release does not contain",
      "README mentions npm run (grade|release)\\b (instructor only)",
    ]);
  });
});

describe("weeks and withheld solutions", () => {
  test("week 2: notebook 01's exercises hold the reference solutions, which also ship in solutions/; --withhold-solutions keeps the stubs", () => {
    const w2 = path.join(tmp, "week2");
    expect(cli(["--week", "2", "--out", w2]).status).toBe(0);
    const cells = exerciseCells(readNotebook(path.join(w2, NB01)));
    const reference = exerciseCells(instructorNotebook(readNotebook(path.join(ROOT, NB01)), NB01, path.join(ROOT, "solutions")));
    expect(cells.map((c) => c.source)).toEqual(reference.map((c) => c.source));
    const shipped = parseSolutions(fs.readFileSync(path.join(w2, "solutions", "01_score_matching.ts"), "utf8"), "s.ts");
    expect([...shipped.keys()]).toEqual(["addNoise", "epsMseLoss", "tweedieScore", "ddimUpdate"]);

    const held = path.join(tmp, "week2-withheld");
    expect(cli(["--week", "2", "--out", held, "--withhold-solutions"]).status).toBe(0);
    for (const c of exerciseCells(readNotebook(path.join(held, NB01)))) expect(c.source).toContain(`not implemented: ${c.id}`);
    expect(fs.existsSync(path.join(held, "solutions"))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(held, "course-release.json"), "utf8")).solutionsWithheld).toBe(true);
  });

  test("a notebook with exercises of several weeks: only the earlier weeks are filled in and shipped", () => {
    const course = loadCourse(courseLayout(ROOT));
    const base = course.notebooks[0];
    const mixed: CourseNotebook = { ...base, exercises: base.exercises.map((e) => (e.id === "ddimUpdate" ? { ...e, week: 2 } : e)) };
    const nb = studentNotebook(mixed, 2, false);
    const src = new Map(exerciseCells(nb).map((c) => [c.id, c.source]));
    expect(src.get("ddimUpdate")).toContain("not implemented: ddimUpdate");
    for (const id of ["addNoise", "epsMseLoss", "tweedieScore"]) expect(src.get(id)).not.toContain("not implemented");
    const text = releasedSolutionsText(fs.readFileSync(path.join(ROOT, "solutions", "01_score_matching.ts"), "utf8"), base.regions, new Set(["addNoise", "epsMseLoss", "tweedieScore"]), 2);
    expect([...parseSolutions(text ?? "", "s.ts").keys()]).toEqual(["addNoise", "epsMseLoss", "tweedieScore"]);
    expect(text).toContain('import * as tf from "@tensorflow/tfjs";');
    expect(text).not.toContain("ddimUpdate");
  });

  test("--force replaces an earlier release", () => {
    const again = path.join(tmp, "again");
    expect(cli(["--week", "1", "--out", again]).status).toBe(0);
    fs.writeFileSync(path.join(again, "stale.txt"), "old");
    expect(cli(["--week", "1", "--out", again]).status).toBe(2);
    expect(cli(["--week", "1", "--out", again, "--force"]).status).toBe(0);
    expect(fs.existsSync(path.join(again, "stale.txt"))).toBe(false);
  });
});

describe("Gradescope autograder bundle, week 1", () => {
  const bundle = path.join(tmp, "autograder");
  beforeAll(() => {
    const r = cli(["--autograder", "--week", "1", "--out", bundle]);
    if (r.status !== 0) throw new Error(`release --autograder failed:\n${r.stdout}\n${r.stderr}`);
  });

  test("has Gradescope's layout: setup.sh and run_autograder at the root (and the zip's root), executable; the grader, hidden suites and solutions", () => {
    for (const f of ["setup.sh", "run_autograder"]) expect(fs.statSync(path.join(bundle, f)).mode & 0o111).not.toBe(0);
    const have = new Set(files(bundle));
    for (const f of ["package.json", "package-lock.json", "tsconfig.base.json", "tools/tsconfig.json", "tools/grade.ts", "tools/run.ts", "lib/src/index.ts",
      "solutions/01_score_matching.ts", "tests/exercises/harness.ts", "tests/exercises/hidden/01_score_matching.ts", NB01]) {
      expect([f, have.has(f)]).toEqual([f, true]);
    }
    expect([...have].filter((f) => /^tools\/release|^tests\/(lib|tools|notebooks)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(bundle, "package.json"), "utf8"));
    expect(pkg.scripts).toEqual({ postinstall: "npm run build", build: "tsc -b lib tools", grade: "node tools/dist/grade.js" });
    const zip = path.join(bundle, "autograder.zip");
    if (fs.existsSync(zip)) {
      const list = run("unzip", ["-Z1", zip], tmp, 30).stdout.split("\n");
      expect(list).toEqual(expect.arrayContaining(["setup.sh", "run_autograder", "tools/grade.ts", "tests/exercises/hidden/01_score_matching.ts"]));
      expect(list.some((l) => l.startsWith("autograder/") || l === "autograder.zip")).toBe(false);
    } else {
      console.log("note: `zip` is not installed, so no autograder.zip was written (the folder is complete)");
    }
  });

  test("setup.sh and run_autograder are valid bash; setup.sh reaches the network only through apt-get and npm", () => {
    for (const f of ["setup.sh", "run_autograder"]) expect([f, run("bash", ["-n", path.join(bundle, f)], tmp, 30).status]).toEqual([f, 0]);
    const code = fs.readFileSync(path.join(bundle, "setup.sh"), "utf8").split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
    expect(code).not.toMatch(/\b(curl|wget|pip3?|git|conda|snap)\b|https?:\/\//);
    expect(code).toMatch(/apt-get install -y -qq --no-install-recommends nodejs npm/);
    expect(code).toMatch(/npm ci --omit=optional/);
    expect(code).not.toMatch(/kernelspec|jupyter/i);
  });

  const gradeTest = fs.existsSync(GRADE_JS) ? test : test.skip;
  if (!fs.existsSync(GRADE_JS)) console.log("SKIPPED: tools/dist/grade.js is missing, so the bundle cannot grade (build the grader first)");
  gradeTest("run_autograder in a simulated /autograder layout grades the reference notebook: full marks, Gradescope's results.json fields and types", () => {
    const ag = path.join(tmp, "ag-root");
    const source = path.join(ag, "source");
    fs.cpSync(bundle, source, { recursive: true });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(source, "node_modules"), "dir"); // instead of setup.sh's npm ci
    const build = run(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-b", "lib", "tools"], source, 180);
    expect(build.stdout + build.stderr).toBe("");
    fs.mkdirSync(path.join(ag, "submission"));
    const reference = instructorNotebook(readNotebook(path.join(ROOT, NB01)), NB01, path.join(ROOT, "solutions"));
    writeNotebook(path.join(ag, "submission", "01_score_matching.ipynb"), reference);

    const r = run(path.join(source, "run_autograder"), [], os.tmpdir(), 300, { ...ENV, AUTOGRADER_ROOT: ag });
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(ag, "results", "results.json"), "utf8"));
    expect(typeof results.score).toBe("number");
    if ("execution_time" in results) expect(typeof results.execution_time).toBe("number");
    if ("output" in results) expect(typeof results.output).toBe("string");
    expect(Array.isArray(results.tests) && results.tests.length > 0).toBe(true);
    for (const t of results.tests) {
      expect([typeof t.name, typeof t.score, typeof t.max_score, typeof t.output]).toEqual(["string", "number", "number", "string"]);
      expect(["passed", "failed"]).toContain(t.status);
      expect(["hidden", "after_due_date", "after_published", "visible"]).toContain(t.visibility);
    }
    const points = exerciseCells(reference).reduce((s, c) => s + c.points, 0);
    const max = results.tests.reduce((s: number, t: { max_score: number }) => s + t.max_score, 0);
    expect([results.score, max]).toEqual([points, points]);
  }, 300_000);

  test("run_autograder is never silent: without a built grader it writes score 0 saying the autograder failed", () => {
    const ag = path.join(tmp, "ag-broken");
    fs.mkdirSync(path.join(ag, "submission"), { recursive: true });
    fs.mkdirSync(path.join(ag, "source"));
    fs.copyFileSync(path.join(bundle, "run_autograder"), path.join(ag, "source", "run_autograder"));
    fs.chmodSync(path.join(ag, "source", "run_autograder"), 0o755);
    const r = run(path.join(ag, "source", "run_autograder"), [], os.tmpdir(), 60, { ...ENV, AUTOGRADER_ROOT: ag });
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(ag, "results", "results.json"), "utf8"));
    expect(results).toEqual({ score: 0, output: expect.stringMatching(/^The autograder failed .*\nReason: the grader is not built/), tests: [] });
  });
});
