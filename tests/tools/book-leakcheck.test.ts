/**
 * The release leak check on the built book (tools/render/book-leakcheck.ts): the default
 * edition of the course's book holds no solution or hidden-test text, while the
 * --with-solutions edition is caught for every solution the check can see — through the
 * highlighting markup that splits the code into spans. Instructor only (not in the student
 * release, which has neither the solutions nor the release tools).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { courseLayout, loadCourse } from "../../tools/course";
import { checkBook, htmlText } from "../../tools/render/book-leakcheck";
import { Diagnostics } from "../../tools/render/html";
import { buildBook } from "../../tools/render/site";
import { buildMatcher } from "../../tools/release/leakcheck";

const ROOT = path.resolve(__dirname, "..", "..");
const layout = courseLayout(ROOT);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "book-leakcheck-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function build(withSolutions: boolean, executedDir: string): string {
  const out = path.join(tmp, withSolutions ? "with-solutions" : "default");
  buildBook({ notebooksDir: layout.notebooksDir, executedDir, solutionsDir: layout.solutionsDir, out, withSolutions, diag: new Diagnostics(() => undefined) });
  return out;
}

/** Solution secrets the matcher can see at all (not too short, not wholly public). */
function checkableSolutions(): string[] {
  const m = buildMatcher(loadCourse(layout), 0);
  return m.secrets.filter((s, k) => s.kind === "solution" && m.stats[k].windows > m.stats[k].publicWindows).map((s) => s.label);
}

test("htmlText keeps what a reader sees: tags gone, entities decoded, lines kept", () => {
  const html = '<pre><code><span class="hl-keyword">const</span> a = b &lt; c &amp;&amp; d &gt;= &quot;x&#39;&#x41;&quot;;</code></pre><p>one</p><p>two</p>';
  expect(htmlText(html)).toBe("const a = b < c && d >= \"x'A\";\none\ntwo\n");
});

test("the default edition is clean; the edition with solutions is caught for every visible solution", () => {
  // With the executed copies when they exist: their outputs are part of what the check scans.
  const executed = path.join(ROOT, "build", "executed", "instructor");
  const clean = checkBook(build(false, executed), layout);
  expect(clean.findings.map((f) => `${f.file}:${f.line} ${f.secret}`)).toEqual([]);
  expect(clean.files).toBeGreaterThan(1);

  const leaky = checkBook(build(true, executed), layout);
  const caught = new Set(leaky.findings.map((f) => f.secret));
  const expected = checkableSolutions();
  expect(expected.length).toBeGreaterThan(0);
  expect(expected.filter((s) => !caught.has(s))).toEqual([]);
  for (const f of leaky.findings) expect(f.file).toMatch(/^\d\d_\w+\.html$/);
}, 120_000);
