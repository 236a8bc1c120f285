/**
 * `npm run slides` (tools/dist/slides.js, built by `npm run build`) and the shared renderer it
 * uses (tools/render/): how Jupyter slide types group cells into reveal.js slides, the Jupyter
 * Book tags, metadata.reveal, math (and a bad formula), outputs per MIME type (and an unknown
 * one), broken metadata, the offline assets, TypeScript highlighting, and that every course
 * notebook has slide metadata good enough to lecture from. The browser checks of the same decks
 * are in tests/browser/slides.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fetchesNetwork, packageDir, pickTheme } from "../../tools/render/assets";
import { CellView } from "../../tools/render/cells";
import { groupSlides, REVEAL_DEFAULTS, SLIDE_CODE_LINES } from "../../tools/render/deck";
import { PageContext, renderCell } from "../../tools/render/cell";
import { highlightTs } from "../../tools/render/highlight";
import { Diagnostics, IdAllocator } from "../../tools/render/html";
import { loadNotebook } from "../../tools/render/load";
import { NOTEBOOK_PATTERN } from "../../tools/run";
import { proseOfHtml, rawTex } from "./render-text";

const ROOT = path.resolve(__dirname, "..", "..");
const SLIDES_JS = path.join(ROOT, "tools", "dist", "slides.js");
const FIX = path.join(__dirname, "fixtures", "render");
const NOTEBOOKS = path.join(ROOT, "notebooks");
const notebooks = fs.existsSync(NOTEBOOKS) ? fs.readdirSync(NOTEBOOKS).filter((n) => NOTEBOOK_PATTERN.test(n)).sort() : [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slides-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): CliResult {
  if (!fs.existsSync(SLIDES_JS)) throw new Error(`${SLIDES_JS} missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [SLIDES_JS, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Per horizontal slide, how many vertical slides it has (1 for a plain slide). */
function slideTree(html: string): number[] {
  const tree: number[] = [];
  let depth = 0;
  for (const m of html.matchAll(/<(\/?)section>/g)) {
    if (m[1] === "") {
      if (depth === 0) tree.push(0);
      else if (depth === 1) tree[tree.length - 1] += 1;
      depth += 1;
    } else depth -= 1;
  }
  return tree.map((n) => Math.max(1, n));
}

describe("the CLI", () => {
  test("--help prints the usage and exits 0", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: npm run slides/);
    expect(r.stdout).toMatch(/slide_type/);
  });

  test("no notebook, an unknown option, or --all with names: exit 2 with a one-line reason", () => {
    for (const args of [[], ["--bogus"], ["--all", "notebooks/01_score_matching.ipynb"], ["--out"]]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")[0]).toMatch(/^slides: /);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  test("a missing or non-notebook file: exit 2, nothing written", () => {
    const out = path.join(tmp, "never");
    const missing = cli([path.join(tmp, "nope.ipynb"), "--out", out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read notebook \(no such file\)/);
    const junk = path.join(tmp, "junk.ipynb");
    fs.writeFileSync(junk, "{ not json");
    const bad = cli([junk, "--out", out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not valid JSON/);
    expect(fs.existsSync(out)).toBe(false);
  });

  test("refuses an output folder that holds something else", () => {
    const out = path.join(tmp, "occupied");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "thesis.tex"), "mine");
    const r = cli([path.join(FIX, "slides.ipynb"), "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not empty and holds no decks/);
    expect(fs.readdirSync(out)).toEqual(["thesis.tex"]);
  });
});

describe("the fixture deck", () => {
  const out = path.join(tmp, "fixture");
  let r: CliResult;
  let html: string;
  beforeAll(() => {
    r = cli([path.join(FIX, "slides.ipynb"), "--out", out, "--no-outputs"]);
    html = fs.readFileSync(path.join(out, "slides.html"), "utf8");
  });

  test("builds, and says where to open it", () => {
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/slides: 8 slides, live plots → .*slides\.html .*file:\/\//);
  });

  test("slide types: slide, subslide, fragment, notes, skip and '-' group as Jupyter means them", () => {
    // title + subslide, tags, outputs + subslide, math, wide, last; the removed slide is gone
    expect(slideTree(html)).toEqual([2, 1, 2, 1, 1, 1]);
    expect(html).not.toContain("skippedCellMarker");
    expect(html).not.toContain("alsoSkipped");
    expect(html).not.toContain("Removed slide");
    // the fragment holds its markdown and the '-' code cell after it
    expect(html).toMatch(/<div class="fragment">[\s\S]*Fragment text[\s\S]*line 299 of a long output[\s\S]*?<\/div>/);
    expect(html).toMatch(/<aside class="notes">[\s\S]*fixture notes marker[\s\S]*<\/aside>/);
  });

  test("every slide is what the client-side splitter reads: one .slide-body of cells and fragments, then at most one aside.notes", () => {
    // assets/deck.js splits a slide over its height at the children of its .slide-body (cells,
    // fragments) and copies its notes to the continuation slides; a change of this shape must
    // change the splitter too (its browser test: tests/browser/slides.test.ts)
    const leaves = [...html.matchAll(/<section>\n(?!<section>)([\s\S]*?)\n<\/section>/g)].map((m) => m[1]);
    expect(leaves).toHaveLength(8);
    for (const leaf of leaves) {
      expect(leaf).toMatch(/^<div class="slide-body">\n[\s\S]*\n<\/div>(\n<aside class="notes">[\s\S]*<\/aside>)?$/);
      expect(leaf.match(/<aside class="notes">/g)?.length ?? 0).toBeLessThanOrEqual(1);
      // its first block is a cell or a fragment (the blocks the splitter moves)
      expect(leaf).toMatch(/^<div class="slide-body">\n<div class="(cell [^"]*|fragment)">/);
    }
    // the client script ships with the deck and runs after reveal.js and the plots
    expect(html.indexOf("course/deck.js")).toBeGreaterThan(html.indexOf("course/plots.js"));
    expect(fs.readFileSync(path.join(out, "assets", "course", "deck.js"), "utf8")).toContain("(cont.)");
  });

  test("Jupyter Book tags: remove-cell, remove-input, remove-output, hide-input", () => {
    expect(html).toContain("visible output marker");
    expect(html).not.toContain("secretInputMarker");
    expect(html).toContain("visibleInputMarker");
    expect(html).not.toContain("hidden output marker");
    expect(html).not.toContain("removedCellMarker");
    expect(html).not.toContain("removed cell output marker");
    expect(html).toMatch(/<details class="hide-input"><summary>Show code<\/summary>[\s\S]*toggledInputMarker[\s\S]*?<\/details>/);
    expect(html).toContain("shown under hidden input");
  });

  test("metadata.reveal overrides the defaults; its theme is used", () => {
    const config = JSON.parse(/<script type="application\/json" id="reveal-config">(.*?)<\/script>/.exec(html)?.[1] ?? "{}") as Record<string, unknown>;
    expect(config).toEqual({ ...REVEAL_DEFAULTS, transition: "none", controls: false, progress: false });
    expect(html).toContain('href="assets/reveal/theme/black.css"');
    expect(fs.existsSync(path.join(out, "assets", "reveal", "theme", "black.css"))).toBe(true);
  });

  test("math renders with KaTeX; a bad formula shows its error in place and warns", () => {
    expect((html.match(/class="katex"/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).toMatch(/<span class="math-error"[^>]*><code>\\frac\{1\}\{<\/code> <small>⚠ /);
    expect(r.stderr).toMatch(/warning: .*slides\.ipynb cell 14: formula does not render .*\\frac\{1\}\{/);
    const prose = proseOfHtml(html);
    expect(rawTex(prose)).toEqual([]);
    expect(prose).toContain("a price of 5 dollars");
  });

  test("outputs: image, HTML, live plot, report table, error; an unknown MIME type is a placeholder + warning", () => {
    expect(html).toMatch(/<img class="output-image" alt="output image" src="data:image\/png;base64,iVBOR/);
    expect(html).toContain('<b class="fixture-html">bold html</b>');
    expect(html).toMatch(/<div class="course-plot"><script type="application\/vnd\.plotly\.v1\+json">\{"data":\[/);
    expect(html).toMatch(/<table class="course-report">.*fixture value.*1\.5/);
    expect(html).toMatch(/<pre class="output-text output-error">Error: fixture error<\/pre>/);
    expect(html).toMatch(/<div class="render-placeholder" role="note">⚠ output not shown: unknown MIME type application\/x-mystery<\/div>/);
    expect(r.stderr).toMatch(/warning: .*cell 13: output not shown \(unknown MIME type application\/x-mystery\)/);
  });

  test("everything it loads is local: reveal.js, the notes plugin, KaTeX CSS and fonts, plotly.js", () => {
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((ref) => !ref.startsWith("data:"));
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) {
      expect(ref).not.toMatch(/^(https?:)?\/\//);
      expect(fs.existsSync(path.join(out, ref))).toBe(true);
    }
    const katexCss = fs.readFileSync(path.join(out, "assets", "katex", "katex.min.css"), "utf8");
    const fonts = [...katexCss.matchAll(/url\((fonts\/[^)]+\.woff2)\)/g)].map((m) => m[1]);
    expect(fonts.length).toBeGreaterThan(10);
    for (const f of fonts) expect(fs.existsSync(path.join(out, "assets", "katex", f))).toBe(true);
    for (const css of ["reveal/reveal.css", "reveal/theme/black.css", "katex/katex.min.css", "course/course.css", "course/deck.css"]) {
      expect(fetchesNetwork(fs.readFileSync(path.join(out, "assets", css), "utf8"))).toBe(false);
    }
  });
});

describe("broken metadata", () => {
  test("renders with a visible placeholder per problem and a warning each, not a crash", () => {
    const out = path.join(tmp, "broken");
    const r = cli([path.join(FIX, "broken_metadata.ipynb"), "--out", out]);
    expect(r.code).toBe(0);
    const html = fs.readFileSync(path.join(out, "broken_metadata.html"), "utf8");
    for (const why of ["metadata.tags is not a list of strings", "metadata.slideshow is not an object", 'slide_type "sideways"', "metadata.exercise is not { id, points, week }", "unknown MIME type application/x-unknown-thing"]) {
      expect(html).toContain(why.replace(/"/g, "&quot;"));
      expect(r.stderr).toContain(why);
    }
    expect(r.stderr).toMatch(/metadata\.reveal is not an object/);
    // the cells themselves still show
    for (const text of ["Tags as a string", "Slideshow as a string", "An unknown slide type", "function", "five"]) expect(html).toContain(text);
  });
});

describe("slide grouping", () => {
  const cell = (index: number, slideType: CellView["slideType"], kind: CellView["kind"] = "markdown", source = `cell ${index}`): CellView =>
    ({ index, kind, source, outputs: [], slideType, tags: new Set(), exercise: null, problems: [] });

  test("'-' continues the fragment or notes before it; notes of an empty slide move to the previous one", () => {
    const cells = [cell(0, "slide"), cell(1, "fragment"), cell(2, "-"), cell(3, "notes"), cell(4, "-"), cell(5, "subslide"), cell(6, "slide"), cell(7, "notes")];
    const deck = groupSlides(cells, cells.map((c) => `<p>${c.source}</p>`));
    expect(deck.length).toBe(2);
    expect(deck[0][0].parts).toEqual([{ fragment: false, html: ["<p>cell 0</p>"] }, { fragment: true, html: ["<p>cell 1</p>", "<p>cell 2</p>"] }]);
    expect(deck[0][0].notes).toEqual(["<p>cell 3</p>", "<p>cell 4</p>"]);
    expect(deck[0][1].parts).toEqual([{ fragment: false, html: ["<p>cell 5</p>"] }]);
    expect(deck[1][0].notes).toEqual(["<p>cell 7</p>"]);
  });

  test("a notebook without slide metadata is split at its headings, not one slide per cell or one slide in all", () => {
    const cells = [cell(0, null, "markdown", "# Title"), cell(1, null, "code"), cell(2, null, "markdown", "## Part"), cell(3, null, "markdown", "### Detail"), cell(4, null, "code")];
    const deck = groupSlides(cells, cells.map((c) => `<p>${c.source}</p>`));
    expect(deck.map((s) => s.length)).toEqual([1, 2]);
    expect(deck[0][0].parts[0].html).toEqual(["<p># Title</p>", "<p>cell 1</p>"]);
  });
});

describe("long code on slides", () => {
  const cell = (lines: number, tags: string[] = []): CellView => ({
    index: 0, kind: "code", source: Array.from({ length: lines }, (_, i) => `const v${i} = ${i};`).join("\n"), outputs: [], slideType: null, tags: new Set(tags), exercise: null, problems: [],
  });
  const page = (fold?: number): PageContext => ({ file: "x.ipynb", diag: new Diagnostics(() => undefined), env: { math: { where: "x", diag: new Diagnostics(() => undefined), macros: {} }, ids: new IdAllocator(), headings: [] }, foldCodeOver: fold });
  test(`an input over ${SLIDE_CODE_LINES} lines is folded behind a toggle on slides; shorter ones and the book's are shown`, () => {
    expect(renderCell(cell(SLIDE_CODE_LINES + 1), page(SLIDE_CODE_LINES))).toMatch(new RegExp(`^<div class="cell cell-code"><details class="hide-input"><summary>Show code \\(${SLIDE_CODE_LINES + 1} lines\\)</summary>`));
    expect(renderCell(cell(SLIDE_CODE_LINES), page(SLIDE_CODE_LINES))).not.toContain("<details");
    expect(renderCell(cell(40), page())).not.toContain("<details");
    expect(renderCell(cell(3, ["hide-input"]), page(SLIDE_CODE_LINES))).toContain("<summary>Show code</summary>");
  });
});

describe("reveal themes", () => {
  test("a theme that loads web fonts from the network falls back to white, with a warning", () => {
    const theme = fs.readdirSync(path.join(packageDir("reveal.js"), "dist", "theme")).map((f) => f.replace(/\.css$/, ""))
      .find((t) => t !== "fonts" && fetchesNetwork(fs.readFileSync(path.join(packageDir("reveal.js"), "dist", "theme", `${t}.css`), "utf8")));
    expect(theme).toBeDefined();
    const diag = new Diagnostics(() => undefined);
    expect(pickTheme(theme, "x.ipynb", diag)).toBe("white");
    expect(diag.warnings[0]).toMatch(/loads web fonts from the network/);
    expect(pickTheme("no-such-theme", "x.ipynb", diag)).toBe("white");
    expect(pickTheme("black", "x.ipynb", diag)).toBe("black");
    expect(diag.warnings.length).toBe(2);
  });
});

describe("TypeScript highlighting", () => {
  test("keywords, strings, templates, numbers, comments, regexps, types and calls", () => {
    const html = highlightTs("// note\nconst x: Tensor = f(`a ${b + 1} c`, /re+/g, 2 / 3, \"s<\");");
    expect(html).toContain('<span class="hl-comment">// note</span>');
    expect(html).toContain('<span class="hl-keyword">const</span>');
    expect(html).toContain('<span class="hl-type">Tensor</span>');
    expect(html).toContain('<span class="hl-function">f</span>');
    expect(html).toContain('<span class="hl-string">`a ${</span>');
    expect(html).toContain('<span class="hl-string">} c`</span>');
    expect(html).toContain('<span class="hl-regexp">/re+/g</span>');
    expect(html).toContain('<span class="hl-number">3</span>');
    expect(html).toContain('<span class="hl-string">&quot;s&lt;&quot;</span>');
    expect(html.replace(/<[^>]+>/g, "").replace(/&quot;/g, '"').replace(/&lt;/g, "<")).toBe("// note\nconst x: Tensor = f(`a ${b + 1} c`, /re+/g, 2 / 3, \"s<\");");
  });
});

describe.each(notebooks)("course notebook %s", (name) => {
  const file = path.join(NOTEBOOKS, name);

  test("has slide metadata good enough to lecture from", () => {
    const nb = loadNotebook(file, new Diagnostics(() => undefined));
    const visible = nb.cells.filter((c) => !c.tags.has("remove-cell") && c.slideType !== "skip" && c.source.trim() !== "");
    const problems: string[] = [];
    const missing = nb.cells.filter((c) => c.slideType === null).map((c) => c.index + 1);
    if (missing.length > 0) problems.push(`cells without metadata.slideshow.slide_type: ${missing.join(", ")}`);
    if (nb.cells[0]?.slideType !== "slide") problems.push("the first cell should start a slide");
    const sections = nb.cells.filter((c) => c.kind === "markdown" && /^##\s/.test(c.source.trimStart()));
    const loose = sections.filter((c) => c.slideType !== "slide" && c.slideType !== "subslide").map((c) => c.index + 1);
    if (loose.length > 0) problems.push(`## section headings that do not start a slide or subslide: cells ${loose.join(", ")}`);
    const starts = nb.cells.filter((c) => c.slideType === "slide" || c.slideType === "subslide").length;
    if (starts < 3) problems.push(`only ${starts} slide(s)`);
    if (starts > 0.8 * visible.length) problems.push(`${starts} slides for ${visible.length} visible cells: nearly one slide per cell`);
    expect(problems).toEqual([]);
  });

  test("its deck builds with every formula rendered and no warning but a missing executed copy", () => {
    const out = path.join(tmp, `deck-${name}`);
    const r = cli([file, "--out", out, "--no-outputs"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const html = fs.readFileSync(path.join(out, name.replace(/\.ipynb$/, ".html")), "utf8");
    expect(html).not.toContain("math-error");
    expect(html).not.toContain("render-placeholder");
    expect(rawTex(proseOfHtml(html))).toEqual([]);
  });
});
