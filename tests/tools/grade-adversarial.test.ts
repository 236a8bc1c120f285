/**
 * The autograder against adversarial submissions: one fixture per category of bad input
 * (tests/tools/fixtures/submissions/, see materialize.ts), plus a 50 MB notebook generated here.
 * They are graded the way an instructor would, as ONE batch through the CLI (tools/dist/grade.js,
 * built by `npm run build`) with small sandbox limits; then each results file is checked for the
 * exact outcome: which exercises score 0, which keep full marks, and the key phrase of the message.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { fixtureNames, materialize, referenceNotebook, ROOT } from "./fixtures/submissions/materialize";
import { gradescopeProblems, GradescopeResults } from "../../tools/grade/results";
import { serializeNotebook } from "../../tools/notebook";
import { GRADE_JS, gradeCli } from "./gradeCli";

const FULL = { addNoise: 2, epsMseLoss: 2, tweedieScore: 3, ddimUpdate: 3 };
type Id = keyof typeof FULL;

/** What a fixture must score: exercises that get 0 (with the message they must show); the rest keep full marks. */
interface Expected {
  zero: Partial<Record<Id, RegExp>>;
  /** Every exercise 0 and this in the top-level output (the notebook could not be read). */
  unreadable?: RegExp;
}

const EXPECTED: Record<string, Expected> = {
  not_json: { zero: {}, unreadable: /could not read your notebook: not_json\.ipynb is not valid JSON \(.* at line 4, column \d+\)/ },
  not_notebook: { zero: {}, unreadable: /not_notebook\.ipynb is JSON but not a Jupyter notebook/ },
  nbformat3: { zero: {}, unreadable: /nbformat 3 notebook; only nbformat 4 is supported/ },
  missing_cell: { zero: { tweedieScore: /exercise cell 'tweedieScore' not found \(did you delete or re-create the cell\? keep its metadata/ } },
  duplicate_ids: { zero: { addNoise: /exercise id 'addNoise' appears on 2 cells/ } },
  renamed_function: { zero: { epsMseLoss: /cell for 'epsMseLoss' does not define function epsMseLoss \(it defines epsMSELoss/ } },
  wrong_signature: { zero: { ddimUpdate: /wrong signature for ddimUpdate: expected ddimUpdate\(xt: tf\.Tensor2D, epsHat: tf\.Tensor2D, alphaBarT: number, alphaBarPrev: number\): tf\.Tensor2D, got ddimUpdate\(xt: tf\.Tensor2D, alphaBarT: number/ } },
  syntax_error: { zero: { addNoise: /syntax error in the 'addNoise' cell:\n {2}line 2, col \d+: '\)' expected/ } },
  type_error: { zero: { tweedieScore: /the 'tweedieScore' cell does not compile:\n {2}line 2, col 9: Type 'Tensor<Rank>' is not assignable to type 'number'\. \(TS2322\)/ } },
  import_time_exception: { zero: { epsMseLoss: /the 'epsMseLoss' cell failed while loading.*cell setup failed on purpose/ } },
  infinite_loop: { zero: { ddimUpdate: /ddimUpdate did not return within 6 s \(an infinite loop\?\)/ } },
  infinite_recursion: { zero: { addNoise: /addNoise threw an error: RangeError: Maximum call stack size exceeded/ } },
  process_exit: { zero: { tweedieScore: /tweedieScore's process ended before returning \(process\.exit\?\)/ } },
  enormous_allocation: { zero: { epsMseLoss: /epsMseLoss ran out of memory \(limit 400 MB\)/ } },
  unbounded_output: { zero: { ddimUpdate: /ddimUpdate printed more than 64 KB of output and was stopped/ } },
  nan_result: { zero: { addNoise: /: entry \[\d, \d\] is NaN, expected -?\d/ } },
  inf_result: { zero: { tweedieScore: /: entry \[\d, \d\] is -?Infinity, expected -?\d/ } },
  wrong_shape: { zero: { ddimUpdate: /ddimUpdate\(xt = \[\[.*\]\], .*\): expected shape \[2, 2\], got \[2\]/ } },
  array_not_tensor: { zero: { addNoise: /expected a tf\.Tensor of shape \[2, 2\], got number\[\]\[\] of shape \[2, 2\] — return a tf\.Tensor, not an array/ } },
  number_not_tensor: { zero: { epsMseLoss: /expected a tf\.Tensor of shape \[\], got -?[\d.]+ — return a tf\.Tensor \(e\.g\. from tf\.mean\), not a number/ } },
  read_secrets: {
    zero: {
      tweedieScore: /tweedieScore was stopped: permission denied/,
      ddimUpdate: /ddimUpdate was stopped: permission denied/,
      epsMseLoss: /epsMseLoss was stopped: permission denied/,
    },
  },
  spawn_process: { zero: { addNoise: /addNoise was stopped: permission denied/ } },
  network: { zero: { addNoise: /the 'addNoise' cell failed while loading.*network access is disabled/ } },
  tamper_globals: { zero: { epsMseLoss: /epsMseLoss\(epsHat = .*\): expected [\d.]+, got 0 /, tweedieScore: /tweedieScore\(x0Hat = .*\): expected \[\[/ } },
  huge_outputs: { zero: {} },
};

/** Text that only the solutions or the hidden suite contain: must never reach a results file. */
const SECRETS = ["HIDDEN FROM STUDENTS", "NEVER SHIPPED", "Reference solutions for", "ddimAnchor", "x0Hat.mul(Math.sqrt(alphaBarPrev))"];

let dir = "";
let out = "";
let batch: { code: number | null; stdout: string; stderr: string; seconds: number };
let connections = 0;
let server: net.Server;
const results = new Map<string, GradescopeResults>();

const runCli = gradeCli;

/** The reference notebook plus ~50 MB of stream output in an extra cell. */
function writeHugeNotebook(file: string): void {
  const nb = referenceNotebook();
  const text = `${"x".repeat(99)}\n`.repeat(510_000);
  nb.cells.push({ cell_type: "code", id: "huge-output", metadata: {}, execution_count: 1, source: "console.log(lots);", outputs: [{ output_type: "stream", name: "stdout", text }] });
  fs.writeFileSync(file, serializeNotebook(nb));
}

beforeAll(async () => {
  if (!fs.existsSync(GRADE_JS)) throw new Error(`${GRADE_JS} missing: run \`npm run build\` first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "grade-adv-"));
  const subs = path.join(dir, "submissions");
  out = path.join(dir, "grades");
  server = net.createServer((s) => {
    connections += 1;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = String((server.address() as net.AddressInfo).port);
  for (const name of fixtureNames()) materialize(name, path.join(subs, `${name}.ipynb`), { PORT: port, ROOT, SUBMISSIONS: subs });
  writeHugeNotebook(path.join(subs, "huge_outputs.ipynb"));
  batch = await runCli([subs, "--out", out, "--jobs", "2", "--quiet", "--limit", "perCallMs=6000", "--limit", "totalMs=30000", "--limit", "memoryMb=400"]);
  for (const f of fs.readdirSync(out).filter((x) => x.endsWith(".json"))) {
    results.set(f.replace(/\.json$/, ""), JSON.parse(fs.readFileSync(path.join(out, f), "utf8")) as GradescopeResults);
  }
}, 420_000);

afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("a batch of every adversarial submission", () => {
  test("completes, with a valid results file for every submission and a full gradebook", () => {
    expect(batch.stderr).not.toMatch(/internal error|^\s+at /m);
    expect(batch.code).toBe(0);
    expect([...results.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(fixtureNames().concat("huge_outputs").sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const r of results.values()) expect(gradescopeProblems(r)).toEqual([]);
    const csv = fs.readFileSync(path.join(out, "gradebook.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("student,addNoise,epsMseLoss,tweedieScore,ddimUpdate,total");
    expect(csv).toHaveLength(Object.keys(EXPECTED).length + 1);
    expect(fs.readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test.each(Object.keys(EXPECTED))("%s: exactly the expected exercises score 0, with the expected message", (name) => {
    const r = results.get(name) as GradescopeResults;
    const want = EXPECTED[name];
    expect(r.extra_data.autograder_error).toBeUndefined();
    for (const id of Object.keys(FULL) as Id[]) {
      const tests = r.tests.filter((t) => t.name.startsWith(`${id}: `));
      expect(tests.length).toBeGreaterThan(0);
      const score = tests.reduce((s, t) => s + t.score, 0);
      if (want.unreadable || want.zero[id]) {
        expect([id, score]).toEqual([id, 0]);
        expect(tests.every((t) => t.status === "failed")).toBe(true);
        if (want.zero[id]) expect(tests[0].output).toMatch(want.zero[id] as RegExp);
      } else {
        expect([id, score]).toEqual([id, FULL[id]]);
        expect(tests.every((t) => t.status === "passed")).toBe(true);
      }
      expect(r.extra_data.exercises[id].score).toBe(score);
    }
    if (want.unreadable) expect(r.output).toMatch(want.unreadable);
    const total = (Object.keys(FULL) as Id[]).reduce((s, id) => s + (want.unreadable || want.zero[id] ? 0 : FULL[id]), 0);
    expect(r.score).toBe(total);
  });
});

describe("isolation", () => {
  test("no submission read a solution, the hidden suite or another submission", () => {
    const all = [...results.values()].map((r) => JSON.stringify(r)).join("\n");
    for (const s of SECRETS) expect(all).not.toContain(s);
    expect(all).not.toContain("stolen: ");
    const reads = (results.get("read_secrets") as GradescopeResults).tests;
    expect(reads.filter((t) => /permission denied/.test(t.output)).length).toBeGreaterThanOrEqual(3);
  });

  test("no connection reached the grader's host", () => {
    expect(connections).toBe(0);
  });

  test("printed fake score lines and tampered globals changed nothing", () => {
    const r = results.get("tamper_globals") as GradescopeResults;
    expect(r.score).toBe(5);
    expect(JSON.stringify(r)).not.toMatch(/score: 10|2\/2 passed/);
    expect(r.tests.filter((t) => t.name.startsWith("addNoise: ")).every((t) => t.status === "passed")).toBe(true);
  });
});

describe("huge notebook", () => {
  test("50 MB of outputs grades normally and quickly", () => {
    expect(fs.statSync(path.join(dir, "submissions", "huge_outputs.ipynb")).size).toBeGreaterThan(50e6);
    const r = results.get("huge_outputs") as GradescopeResults;
    expect(r.score).toBe(10);
    expect(r.execution_time).toBeLessThan(20);
  });
});
