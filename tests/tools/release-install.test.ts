/**
 * INTEGRATION (slow): the student releases of weeks 1, 2 and 6 each pass their own
 * `npm ci && npm test`, as on a student's clean machine — one after another, in one test file.
 * Week 1 also runs its `npm start` and shows that the public checks test the student's code.
 *
 * Cost, kept affordable for CI (README, "Continuous integration"):
 *  - every `npm ci` installs from npm's cache (the course's own `npm ci` filled it): `--offline`,
 *    then `--prefer-offline` if the cache lacks something;
 *  - each release's notebook test executes the notebooks due that week; a past week's notebook
 *    that is still exactly as released (reference solutions in, code digest unchanged) is not
 *    executed again there, and the first test below checks that such a notebook is, code cell for
 *    code cell, the course's instructor notebook that the course's own tests and `npm start`
 *    execute;
 *  - the release's jest runs on one worker beside the course's own suite.
 * The measured seconds of each step are printed. A failure shows the failing tests' names and
 * first lines only, not the release's whole log.
 *
 * RELEASE_SKIP_INSTALL=1 skips this file's installs (e.g. offline without npm's cache);
 * RELEASE_WEEKS=2 (or "1,6", …) installs only those weeks.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { instructorNotebook } from "../../tools/exercises";
import { codeDigest } from "../../tools/notebook-digest";
import { cellSource, exerciseCells, readNotebook, writeNotebook } from "../../tools/notebook";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "tools", "dist", "release.js");
const NB01 = "notebooks/01_score_matching.ipynb";
/** The weeks to release and install: 1, 2 and 6, or RELEASE_WEEKS (e.g. "2"). */
const WEEKS = (process.env.RELEASE_WEEKS ?? "1,2,6").split(",").map(Number);
if (WEEKS.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`RELEASE_WEEKS must list whole weeks, e.g. "1,2,6" (got '${process.env.RELEASE_WEEKS}')`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-install-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A student's machine: no course-CI switches, a private Jupyter folder for the kernelspec npm ci registers. */
const ENV: NodeJS.ProcessEnv = { ...process.env, JUPYTER_DATA_DIR: path.join(tmp, "jupyter"), npm_config_update_notifier: "false" };
for (const k of ["COURSE_REUSE_EXECUTED", "COURSE_EXECUTE_ALL", "EXERCISE_MODULE", "JEST_WORKER_ID"]) delete ENV[k];

const dirOf = (week: number) => path.join(tmp, `week${week}`);

function run(cmd: string, args: string[], cwd: string, timeoutS: number): SpawnSyncReturns<string> & { seconds: number } {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: ENV, timeout: timeoutS * 1000, maxBuffer: 256 * 1024 * 1024 });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

/**
 * A short account of a failed npm/jest run: the failing files and tests with the first lines of
 * each failure, the jest summary line, else the end of the output (e.g. a type error). At most
 * `maxLines` lines of at most 240 characters.
 */
function failureDigest(output: string, maxLines = 40): string {
  const lines = output.split("\n");
  const heading = (l: string) => /^\s+● /.test(l) || /^(PASS|FAIL) /.test(l);
  const keep: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^Summary of all failing tests/.test(lines[i])) break; // jest repeats every failure there
    if (/^FAIL /.test(lines[i])) keep.push(lines[i]);
    else if (/^\s+● /.test(lines[i]) && !/^\s+● Console$/.test(lines[i])) {
      keep.push(lines[i]);
      let n = 0;
      for (let j = i + 1; j < lines.length && j < i + 40 && !heading(lines[j]) && n < 4; j++) {
        if (lines[j].trim() === "") continue;
        keep.push(`    ${lines[j].trim()}`);
        n += 1;
      }
    }
  }
  const summary = lines.filter((l) => /^jest: \d+ passed/.test(l));
  const body = keep.length > 0 ? [...keep, ...summary] : lines.filter((l) => l.trim() !== "").slice(-15);
  const cut = body.map((l) => (l.length > 240 ? `${l.slice(0, 237)}...` : l));
  return (cut.length > maxLines ? [...cut.slice(0, maxLines), `... (${cut.length - maxLines} more lines)`] : cut).join("\n");
}

function mustPass(what: string, r: SpawnSyncReturns<string>): void {
  if (r.status === 0) return;
  const why = r.error ? `${r.error.message}\n` : "";
  throw new Error(`${what} exited ${r.status}${r.signal ? ` (${r.signal})` : ""}:\n${why}${failureDigest(`${r.stdout ?? ""}\n${r.stderr ?? ""}`)}`);
}

const skip = process.env.RELEASE_SKIP_INSTALL === "1";
if (skip) console.log("SKIPPED: the releases' npm ci / npm test (RELEASE_SKIP_INSTALL=1)");

describe(`the releases of weeks ${WEEKS.join(", ")}`, () => {
  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run \`npm run build\` first`);
    for (const week of WEEKS) {
      const r = spawnSync(process.execPath, [CLI, "--week", String(week), "--out", dirOf(week)], { cwd: ROOT, encoding: "utf8", env: ENV });
      mustPass(`npm run release -- --week ${week}`, r);
    }
  });

  test("a past week's notebook, as released, is the course's instructor notebook, code cell for code cell", () => {
    for (const week of WEEKS) {
      const manifest = JSON.parse(fs.readFileSync(path.join(dirOf(week), "course-release.json"), "utf8")) as
        { notebooks: { file: string; week: number; codeSha256: string; exercises: { solution: string }[] }[] };
      expect(manifest.notebooks.map((n) => n.week).every((w) => w <= week)).toBe(true);
      for (const entry of manifest.notebooks) {
        const shipped = readNotebook(path.join(dirOf(week), entry.file));
        expect([entry.file, codeDigest(shipped)]).toEqual([entry.file, entry.codeSha256]);
        const allReleased = entry.exercises.every((e) => e.solution === "released");
        expect([week, entry.file, allReleased]).toEqual([week, entry.file, entry.week < week]);
        if (!allReleased) continue;
        const reference = instructorNotebook(readNotebook(path.join(ROOT, entry.file)), entry.file, path.join(ROOT, "solutions"));
        const code = (nb: typeof shipped) => nb.cells.filter((c) => c.cell_type === "code").map(cellSource);
        expect([week, entry.file, code(shipped)]).toEqual([week, entry.file, code(reference)]);
      }
    }
  });

  test("failure messages stay short", () => {
    const noisy = ["FAIL tests/tools/book.test.ts (9 s)", "  ● the course's own book › shows stubs", "", "    expect(received).toMatch(expected)",
      `    Received string: "${"<div>".repeat(100_000)}"`, "  ● Console", "    console.log", "      hello", "Summary of all failing tests", "FAIL tests/tools/book.test.ts (9 s)",
      "jest: 10 passed, 1 failed, 0 skipped"].join("\n");
    const d = failureDigest(noisy);
    expect(d.split("\n")).toEqual([
      "FAIL tests/tools/book.test.ts (9 s)", "  ● the course's own book › shows stubs", "    expect(received).toMatch(expected)",
      expect.stringMatching(/^ {4}Received string: "<div><div>.*\.\.\.$/), "jest: 10 passed, 1 failed, 0 skipped",
    ]);
    expect(d.length).toBeLessThan(1200);
    expect(failureDigest("x\n".repeat(500) + "error TS2304: Cannot find name 'q'.").split("\n").slice(-1)).toEqual(["error TS2304: Cannot find name 'q'."]);
  });

  const integration = skip ? describe.skip : describe;
  integration.each(WEEKS)("INTEGRATION (slow): week %i", (week) => {
    let installed = false;
    const dir = () => dirOf(week);

    test("`npm ci` installs it from npm's cache and builds lib/ and tools/", () => {
      const args = ["ci", "--offline", "--omit=optional", "--no-audit", "--no-fund"];
      let r = run("npm", args, dir(), 300);
      if (r.status !== 0) r = run("npm", args.map((a) => (a === "--offline" ? "--prefer-offline" : a)), dir(), 300);
      mustPass(`npm ci in the week-${week} release`, r);
      console.log(`release week ${week}: npm ci ${r.seconds.toFixed(0)} s`);
      for (const f of ["tools/dist/start.js", "tools/dist/run.js", "tools/dist/stubs.js", "lib/dist/index.js"]) expect([f, fs.existsSync(path.join(dir(), f))]).toEqual([f, true]);
      expect(fs.existsSync(path.join(tmp, "jupyter", "kernels", "tslab", "kernel.json"))).toBe(true);
      installed = true;
    }, 620_000);

    test("its own `npm test` passes", () => {
      if (!installed) throw new Error("npm ci failed (see above)");
      const r = run("npm", ["test", "--", "--maxWorkers=1"], dir(), 1500);
      console.log(`release week ${week}: npm test ${r.seconds.toFixed(0)} s`);
      mustPass(`npm test in the week-${week} release`, r);
      const all = `${r.stdout}\n${r.stderr}`;
      expect(all).toMatch(/jest: [1-9]\d* passed, 0 failed, \d+ skipped/);
      if (week === 1) {
        // every week-1 exercise is still a stub, so its public checks are skipped, not failed
        // (the skip notice itself is a console line that jest may not echo for a passing file)
        const skipped = Number(/jest: \d+ passed, 0 failed, (\d+) skipped/.exec(all)?.[1] ?? 0);
        expect(skipped).toBeGreaterThan(0);
      }
    }, 1_560_000);

    if (week !== 1) return;

    test("`npm start` runs the notebook in student mode, lists the exercises to do and exits 0", () => {
      if (!installed) throw new Error("npm ci failed (see above)");
      const r = run("npm", ["start", "--silent", "--", "--quiet"], dir(), 400);
      console.log(`release week 1: npm start ${r.seconds.toFixed(0)} s`);
      expect(r.stdout).toMatch(/to do in notebooks\/01_score_matching\.ipynb: addNoise \(cell \d+, 2 pt\), epsMseLoss \(cell \d+, 2 pt\), tweedieScore \(cell \d+, 3 pt\), ddimUpdate \(cell \d+, 3 pt\)/);
      mustPass("npm start in the week-1 release", r);
      const summary = JSON.parse(fs.readFileSync(path.join(dir(), "build", "executed", "student", "summary.json"), "utf8"))["01_score_matching"];
      expect(summary.executed).toBe(summary.cells);
    }, 420_000);

    test("a student's code is what the public checks test: a correct exercise passes, a wrong one fails with the check's message", () => {
      if (!installed) throw new Error("npm ci failed (see above)");
      const file = path.join(dir(), NB01);
      const original = fs.readFileSync(file, "utf8");
      try {
        const nb = readNotebook(file);
        const edit = (id: string, code: string) => {
          const cell = exerciseCells(nb).find((c) => c.id === id);
          if (!cell) throw new Error(`no ${id}`);
          nb.cells[cell.index].source = cell.source.replace(`throw new Error("not implemented: ${id}");`, code);
        };
        edit("addNoise", "return tf.tidy(() => x0.mul(Math.sqrt(alphaBar)).add(eps.mul(Math.sqrt(1 - alphaBar))) as tf.Tensor2D);");
        edit("tweedieScore", "return tf.tidy(() => tf.sub(z, x0Hat).div(t) as tf.Tensor2D); // wrong sign");
        writeNotebook(file, nb);
        const r = run(path.join(dir(), "node_modules", ".bin", "jest"), ["tests/exercises", "--verbose", "--maxWorkers=1"], dir(), 300);
        const all = r.stdout + r.stderr;
        expect(all).toMatch(/✓ matches sqrt\(ᾱ\)·x0 \+ sqrt\(1−ᾱ\)·eps on random inputs/);
        expect(all).toMatch(/○ skipped matches the DDIM η=0 update on random inputs — skipped: ddimUpdate not implemented yet/);
        expect(all).toMatch(/tweedieScore\(t=0\.01\): entry \[0, 0\] is -?\d+\.\d+, expected -?\d+\.\d+/);
        expect(all).toMatch(/✕ equals \(x0Hat − z\) \/ t/);
        expect(all).toMatch(/jest: \d+ passed, [1-9]\d* failed, \d+ skipped/);
        expect(r.status).toBe(1);
      } finally {
        fs.writeFileSync(file, original);
      }
    }, 320_000);
  });
});
