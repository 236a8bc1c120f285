/**
 * `npm run book` (tools/dist/book.js, built by `npm run build`): on a two-notebook fixture course
 * (tests/tools/fixtures/render/course: notebooks, one executed copy, solutions) — the index with
 * the course map and the seed timeline, previous/next links, per-page tables of contents, links
 * between notebooks, outputs taken from the executed copy, exercises shown as exercises with
 * their stubs (never the solution the instructor run substituted), the --with-solutions edition,
 * hide-input toggles, unknown MIME types, stale and missing executed copies, unreadable notebooks
 * — and on the course itself: a page per notebook with every exercise and formula.
 * The leak check of the built book is tested in book-leakcheck.test.ts, the pages in a real
 * browser in tests/browser/book.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TIMELINE } from "../../tools/render/coursemap";
import { exerciseCells, readNotebook } from "../../tools/notebook";
import { NOTEBOOK_PATTERN } from "../../tools/run";
import { proseOfHtml, rawTex } from "./render-text";

const ROOT = path.resolve(__dirname, "..", "..");
const BOOK_JS = path.join(ROOT, "tools", "dist", "book.js");
const COURSE = path.join(__dirname, "fixtures", "render", "course");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "book-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): CliResult {
  if (!fs.existsSync(BOOK_JS)) throw new Error(`${BOOK_JS} missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [BOOK_JS, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The fixture course's flags, with `over` replacing any of them. */
function fixtureArgs(out: string, over: Record<string, string> = {}): string[] {
  const flags: Record<string, string> = {
    "--notebooks-dir": path.join(COURSE, "notebooks"),
    "--executed": path.join(COURSE, "executed"),
    "--solutions": path.join(COURSE, "solutions"),
    "--out": out,
    ...over,
  };
  return Object.entries(flags).flat();
}

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8");

/** Local links (href/src) of a page that point at files, with their #fragment. */
function localLinks(html: string): { file: string; hash: string }[] {
  return [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1])
    .filter((u) => !/^(data:|#|[a-z]+:\/\/)/.test(u))
    .map((u) => ({ file: u.split("#")[0], hash: u.includes("#") ? u.slice(u.indexOf("#") + 1) : "" }));
}

describe("the CLI", () => {
  test("--help prints the usage and exits 0", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: npm run book/);
    expect(r.stdout).toMatch(/--with-solutions/);
  });

  test("unknown option or stray argument: exit 2 with the reason", () => {
    for (const args of [["--bogus"], ["notebooks/01_score_matching.ipynb"], ["--out"]]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")[0]).toMatch(/^book: /);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  test("refuses an output folder that holds something else", () => {
    const out = path.join(tmp, "occupied");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "notes.txt"), "mine");
    const r = cli(fixtureArgs(out));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not empty and holds no earlier book/);
    expect(fs.readdirSync(out)).toEqual(["notes.txt"]);
  });
});

describe("the fixture course's book", () => {
  const out = path.join(tmp, "book");
  let r: CliResult;
  beforeAll(() => {
    r = cli(fixtureArgs(out));
  });

  test("builds the index and one page per notebook, and says where to open it", () => {
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).filter((f) => f.endsWith(".html")).sort()).toEqual(["01_alpha.html", "02_beta.html", "index.html"]);
    expect(r.stdout).toMatch(/book: 2 notebook page\(s\), 1 live plot\(s\)/);
    expect(r.stdout).toMatch(/book: .*index\.html +\(open file:\/\/.*index\.html in a browser\)/);
  });

  test("the index: course map (existing notebooks linked, others coming) and the seed timeline", () => {
    const index = read(out, "index.html");
    expect(index).toContain('<a href="01_alpha.html">01 · Alpha</a>');
    expect(index).toContain('<a href="02_beta.html">02 · Beta</a>');
    expect((index.match(/\(coming\)<\/span><\/li>/g) ?? []).length).toBe(4);
    const rows = [...index.matchAll(/<tr data-paper="([^"]+)">(.*?)<\/tr>/g)];
    expect(rows.map((m) => m[1].replace(/&amp;/g, "&"))).toEqual(["CLIP", "SR3", "Dhariwal & Nichol", "Cascaded Diffusion", "GLIDE", "Ho & Salimans", "DALL·E-2"]);
    expect(rows.length).toBe(TIMELINE.length);
    for (const [, name, row] of rows) {
      const nn = TIMELINE.find((e) => e.name === name.replace(/&amp;/g, "&"))?.notebook;
      if (nn === "01" || nn === "02") expect(row).toMatch(new RegExp(`<a href="${nn}_\\w+\\.html">`));
      else expect(row).toMatch(/\(coming\)/);
    }
    expect(index).toMatch(/May 2021.*Dhariwal &amp; Nichol/);
    expect(index).toMatch(/March 2022.*DALL·E-2/);
  });

  test("every local link of every page resolves, anchors included", () => {
    for (const page of ["index.html", "01_alpha.html", "02_beta.html"]) {
      for (const link of localLinks(read(out, page))) {
        const target = link.file === "" ? page : link.file;
        expect(fs.existsSync(path.join(out, target))).toBe(true);
        if (link.hash) expect(read(out, target)).toContain(`id="${link.hash}"`);
      }
    }
  });

  test("previous/next navigation and a table of contents per page", () => {
    const alpha = read(out, "01_alpha.html");
    const beta = read(out, "02_beta.html");
    expect(alpha).toMatch(/<nav class="book-pager"[^>]*><a class="prev" rel="prev" href="index.html">← Course map<\/a><a class="next" rel="next" href="02_beta.html">02 · Beta →<\/a><\/nav>/);
    expect(beta).toMatch(/<nav class="book-pager"[^>]*><a class="prev" rel="prev" href="01_alpha.html">← 01 · Alpha<\/a><\/nav>/);
    expect(alpha).toMatch(/<nav class="book-toc"[\s\S]*href="#section-one"[\s\S]*href="#exercise-double-1-point"[\s\S]*href="#section-two"[\s\S]*<\/nav>/);
    expect(alpha).toContain('<h2 id="section-one">');
  });

  test("links between notebooks point at their pages", () => {
    expect(read(out, "01_alpha.html")).toContain('<a href="02_beta.html">the next one</a>');
    expect(read(out, "02_beta.html")).toContain('<a href="01_alpha.html#section-one">alpha</a>');
  });

  test("outputs come from the executed copy; a live plot, hide-input as a toggle, an unknown MIME type as a placeholder", () => {
    const alpha = read(out, "01_alpha.html");
    expect(alpha).toMatch(/<div class="course-plot"><script type="application\/vnd\.plotly\.v1\+json">/);
    expect(alpha).toContain('<script src="assets/plotly/plotly.min.js"></script>');
    expect(fs.existsSync(path.join(out, "assets", "plotly", "plotly.min.js"))).toBe(true);
    expect(alpha).toMatch(/<details class="hide-input"><summary>Show code<\/summary>[\s\S]*hiddenInputMarker[\s\S]*?<\/details><div class="cell-outputs[^"]*">[\s\S]*output of the hidden-input cell/);
    expect(alpha).toContain("⚠ output not shown: unknown MIME type application/x-mystery");
    expect(r.stderr).toMatch(/warning: .*01_alpha\.ipynb cell 8: output not shown \(unknown MIME type application\/x-mystery\)/);
  });

  test("exercises show as exercises, with the stub, never the solution the instructor run substituted", () => {
    const alpha = read(out, "01_alpha.html");
    expect(alpha).toMatch(/<div class="cell cell-code exercise" id="exercise-double" data-exercise="double"><div class="exercise-head">✏️ Exercise <code>double<\/code> <span class="exercise-facts">1 point · week 1<\/span><\/div>/);
    expect(alpha).toContain("not implemented: double");
    expect(alpha).not.toContain("twiceTheInput");
    expect(alpha).not.toContain('class="solution"');
  });

  test("outputs from the reference run, on a page that shows the stubs, say so", () => {
    const alpha = read(out, "01_alpha.html");
    expect(alpha).toMatch(/<p class="notice reference-run-notice">The exercises on this page show their stubs, but its outputs come from a run with the reference solutions/);
    const [before, after] = alpha.split('id="exercise-double"');
    expect((before.match(/class="reference-run"/g) ?? []).length).toBe(0);
    expect((before.match(/class="cell-outputs"/g) ?? []).length).toBeGreaterThan(0);
    expect((after.match(/<div class="cell-outputs from-reference"><div class="reference-run"[^>]*>output from the reference solution run<\/div>/g) ?? []).length).toBe((after.match(/class="cell-outputs/g) ?? []).length);
    expect(read(out, "02_beta.html")).not.toContain("reference-run");
  });

  test("a notebook without an executed copy renders without outputs, says so, and warns", () => {
    expect(read(out, "02_beta.html")).toMatch(/<p class="notice">This page shows the notebook without outputs: run <code>npm start<\/code>/);
    expect(r.stderr).toMatch(/warning: .*02_beta\.ipynb: no executed copy at .*02_beta\.ipynb \(run `npm start`\): rendered without outputs/);
    expect(read(out, "01_alpha.html")).not.toContain('class="notice"');
  });

  test("math is rendered, never left as raw TeX", () => {
    for (const page of ["01_alpha.html", "02_beta.html"]) {
      const html = read(out, page);
      expect(html).toContain('class="katex"');
      expect(rawTex(proseOfHtml(html))).toEqual([]);
    }
  });
});

describe("the --with-solutions edition", () => {
  const out = path.join(tmp, "with-solutions");
  let r: CliResult;
  beforeAll(() => {
    r = cli([...fixtureArgs(out), "--with-solutions"]);
  });

  test("shows each exercise's reference solution under a toggle, after the stub", () => {
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/this edition contains the reference solutions/);
    const alpha = read(out, "01_alpha.html");
    expect(alpha).toMatch(/data-exercise="double">[\s\S]*not implemented: double[\s\S]*<details class="solution"><summary>Show solution<\/summary>[\s\S]*twiceTheInput[\s\S]*checkedAgainstAddition[\s\S]*?<\/details>/);
    expect(read(out, "index.html")).toContain("Show solution");
    expect(read(out, "index.html")).toContain('<span class="edition">Edition with solutions</span>');
  });

  test("rebuilding the default edition over it leaves no solution behind", () => {
    const again = cli(fixtureArgs(out));
    expect(again.code).toBe(0);
    for (const f of fs.readdirSync(out).filter((x) => x.endsWith(".html"))) expect(read(out, f)).not.toContain("twiceTheInput");
  });
});

describe("problem inputs", () => {
  test("an executed copy older than its notebook is used, with a warning", () => {
    const nbDir = path.join(tmp, "stale-notebooks");
    fs.mkdirSync(nbDir);
    const nb = JSON.parse(read(path.join(COURSE, "notebooks"), "01_alpha.ipynb")) as { cells: { id: string; source: string[] }[] };
    nb.cells.find((c) => c.id === "a-plot")!.source = ["showPlot({ changed: true });"];
    fs.writeFileSync(path.join(nbDir, "01_alpha.ipynb"), JSON.stringify(nb));
    const out = path.join(tmp, "stale");
    const r = cli(fixtureArgs(out, { "--notebooks-dir": nbDir }));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/executed copy .*01_alpha\.ipynb is older than the notebook \(1 code cell\(s\) changed since it ran; run `npm start`\)/);
    expect(read(out, "01_alpha.html")).toContain('class="course-plot"');
  });

  test("an unreadable notebook gets a placeholder page; the others still build; exit 1", () => {
    const nbDir = path.join(tmp, "unreadable-notebooks");
    fs.mkdirSync(nbDir);
    fs.copyFileSync(path.join(COURSE, "notebooks", "01_alpha.ipynb"), path.join(nbDir, "01_alpha.ipynb"));
    fs.writeFileSync(path.join(nbDir, "02_beta.ipynb"), "{ this is not json");
    const out = path.join(tmp, "unreadable");
    const r = cli(fixtureArgs(out, { "--notebooks-dir": nbDir }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/02_beta\.ipynb: not valid JSON .*: the book shows a placeholder page/);
    expect(read(out, "02_beta.html")).toMatch(/class="render-placeholder"[^>]*>⚠ this notebook could not be read: .*not valid JSON/);
    expect(read(out, "01_alpha.html")).toContain("01 · Alpha");
  });
});

describe("the course's own book", () => {
  const out = path.join(tmp, "course");
  const notebooks = fs.readdirSync(path.join(ROOT, "notebooks")).filter((n) => NOTEBOOK_PATTERN.test(n)).sort();
  let r: CliResult;
  beforeAll(() => {
    r = cli(["--out", out, "--executed", path.join(tmp, "no-executed-copies")]);
  });

  test("builds a page per notebook, every formula rendered", () => {
    expect(r.code).toBe(0);
    // counts, not the pages: a failure message must never print a whole page
    const problems = notebooks.flatMap((name) => {
      const html = read(out, name.replace(/\.ipynb$/, ".html"));
      return (["math-error", "render-placeholder"] as const).map((cls) => ({ cls, n: html.split(cls).length - 1 })).filter((x) => x.n > 0).map((x) => `${name}: ${x.n} × ${x.cls}`);
    });
    expect(problems).toEqual([]);
    expect(r.stderr.split("\n").filter((l) => l !== "" && !/no executed copy/.test(l))).toEqual([]);
  });

  test("every exercise shows as an exercise: its stub, or its solution where this release has released it", () => {
    const manifest = releaseManifest();
    const problems: string[] = [];
    for (const name of notebooks) {
      const html = read(out, name.replace(/\.ipynb$/, ".html"));
      const cells = exerciseCells(readNotebook(path.join(ROOT, "notebooks", name)));
      const shown = [...html.matchAll(/data-exercise="([^"]+)"/g)].map((m) => m[1]);
      if (shown.join(",") !== cells.map((e) => e.id).join(",")) problems.push(`${name}: exercises shown [${shown.join(", ")}], notebook has [${cells.map((e) => e.id).join(", ")}]`);
      const code = codeTextOf(html);
      for (const ex of cells) {
        const stub = ex.source.includes(`not implemented: ${ex.id}`);
        const released = manifest?.get(ex.id);
        if (released !== undefined && released !== !stub) problems.push(`${name}: ${ex.id}: course-release.json says ${released ? "released" : "stub"}, the notebook cell holds ${stub ? "the stub" : "a solution"}`);
        const missing = ex.source.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !code.includes(l));
        if (missing.length > 0) problems.push(`${name}: ${ex.id} (${stub ? "stub" : "released solution"}): ${missing.length} line(s) of the cell not on the page, e.g. ${JSON.stringify(missing[0].slice(0, 100))}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/** The text of a page's code blocks (highlighting markup removed, entities decoded). */
function codeTextOf(html: string): string {
  return [...html.matchAll(/<pre class="code">([\s\S]*?)<\/pre>/g)]
    .map((m) => m[1].replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&"))
    .join("\n");
}

/** In a student release: which exercises it released (id → true) or kept as stubs (false); null in the course repository. */
function releaseManifest(): Map<string, boolean> | null {
  const file = path.join(ROOT, "course-release.json");
  if (!fs.existsSync(file)) return null;
  const m = JSON.parse(fs.readFileSync(file, "utf8")) as { notebooks: { exercises: { id: string; solution: string }[] }[] };
  return new Map(m.notebooks.flatMap((n) => n.exercises.map((e) => [e.id, e.solution === "released"] as [string, boolean])));
}

test("a notebooks folder without notebooks is a usage error, and the existing book is left alone", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "book-empty-"));
  fs.writeFileSync(path.join(out, "index.html"), "keep me");
  try {
    const r = cli(fixtureArgs(out, { "--notebooks-dir": path.join(out, "nothing-here") }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/book: no notebooks \(NN_\*\.ipynb\) in /);
    expect(fs.readFileSync(path.join(out, "index.html"), "utf8")).toBe("keep me");
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
