/**
 * The release leak check (release/leakcheck.ts), run on a built book: the default edition must
 * hold no solution text and no hidden grading suite. The book's pages are HTML, where code is
 * cut up by highlighting markup, so each page is first reduced to its text (tags removed,
 * entities decoded) in a scratch copy of the site, and that copy goes through the very same
 * check as a student release (same secrets, same public baseline, same matcher). Every solution
 * counts as unreleased ("week 0"): the book releases none. Vendor assets (assets/: KaTeX,
 * reveal.js, plotly.js, the course's CSS/JS) are copied from packages and are not scanned.
 *
 * Instructor only: the student release ships neither this file nor the release tools; the book
 * CLI loads it when present.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CourseLayout, loadCourse, relPath, walkFiles } from "../course";
import { buildMatcher, checkTree, formatReport, LeakReport } from "../release/leakcheck";

/** The week whose release holds no solutions at all. */
const NOTHING_RELEASED = 0;

/** The text a reader sees in an HTML page (tags removed, entities decoded), lines kept. */
export function htmlText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(br|\/p|\/div|\/li|\/tr|\/h\d|\/pre)\b[^>]*>/gi, (m) => `${m}\n`)
    .replace(/<[^>]+>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos|nbsp|#39);/gi, (_m, e: string) => {
      const k = e.toLowerCase();
      if (k.startsWith("#x")) return String.fromCodePoint(parseInt(k.slice(2), 16));
      if (k.startsWith("#")) return String.fromCodePoint(Number(k.slice(1)));
      return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'", nbsp: " " }[k] ?? "";
    });
}

/**
 * Check a built book folder against the course it was built from (its notebooks, solutions and
 * hidden suites); findings name the book's files.
 */
export function checkBook(dir: string, layout: CourseLayout): LeakReport {
  const course = loadCourse(layout);
  const matcher = buildMatcher(course, NOTHING_RELEASED);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "book-leakcheck-"));
  try {
    for (const f of walkFiles(dir, (rel, isDir) => isDir && rel === "assets")) {
      const rel = relPath(dir, f);
      const dest = path.join(scratch, rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if (/\.html?$/i.test(f)) fs.writeFileSync(dest, htmlText(fs.readFileSync(f, "utf8")));
      else fs.copyFileSync(f, dest);
    }
    return checkTree(scratch, matcher, NOTHING_RELEASED);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The report as printed, worded for a book (line numbers are lines of each page's text). The
 * check's notes (secrets partly public, too short) are shown only alongside findings.
 */
export function formatBookReport(r: LeakReport): string {
  const lines = formatReport(r).split("\n");
  lines.pop();
  if (r.findings.length === 0) lines.length = 0;
  lines.push(r.findings.length === 0
    ? `leak check: clean (${r.files} files against ${r.secrets} secrets: no solution or hidden test text)`
    : `leak check: ${r.findings.length} finding(s): the book contains solution or hidden-test text (${r.files} files against ${r.secrets} secrets)`);
  return lines.join("\n");
}
