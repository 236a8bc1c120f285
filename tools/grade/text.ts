/**
 * Bounded, clean text for everything the grader prints or writes: control characters stripped
 * (a student's ESC/BEL never reaches a terminal or a results file), long texts clipped, long
 * bracketed value lists elided ("expected [[…]]" instead of a cut mid-array), the grading
 * machine's absolute paths replaced by placeholders, and spreadsheet formula injection
 * neutralised in CSV cells (OWASP "CSV injection": a leading =, +, -, @, tab or CR).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Longest text of one test's feedback in results.json. */
export const MAX_TEST_OUTPUT = 4000;
/** Longest top-level `output` of results.json. */
export const MAX_SUMMARY_OUTPUT = 16_000;
/** Longest line of an exercise in the summary. */
export const MAX_SUMMARY_LINE = 160;

/** Remove control characters (C0 except newline and tab, DEL, C1) and lone surrogates. */
export function cleanText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return String(s).replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "").replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "");
}

/** At most `n` characters, with "…" when cut. */
export function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`;
}

/** Replace every bracketed group longer than `keep` characters by "[…]" (balanced brackets only). */
export function elideBrackets(s: string, keep = 40): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    if (s[i] !== "[") {
      out += s[i++];
      continue;
    }
    let depth = 0;
    let j = i;
    for (; j < s.length; j++) {
      if (s[j] === "[") depth++;
      else if (s[j] === "]" && --depth === 0) break;
    }
    const group = j < s.length ? s.slice(i, j + 1) : s.slice(i);
    out += group.length > keep ? "[…]" : group;
    i += group.length;
  }
  return out;
}

/**
 * One line for a summary: the first line of `s`, value lists elided, clipped at a word boundary
 * so that no array is cut in the middle.
 */
export function summaryLine(s: string, n = MAX_SUMMARY_LINE): string {
  const first = cleanText(s.split("\n")[0]);
  if (first.length <= n) return first;
  const short = elideBrackets(first);
  if (short.length <= n) return short;
  const cut = short.slice(0, n - 2);
  const at = cut.lastIndexOf(" ");
  return `${(at > n / 2 ? cut.slice(0, at) : cut).replace(/[\s,;:([]+$/, "")} …`;
}

/** A shape as "[2, 3]", elided after `keep` dimensions: "[1, 1, 1, 1, 1, 1, … (300 dims)]". */
export function shapeText(shape: ArrayLike<unknown>, keep = 6): string {
  const dims = Array.from({ length: Math.min(shape.length, keep) }, (_, i) => String(shape[i]));
  return shape.length > keep ? `[${dims.join(", ")}, … (${shape.length} dims)]` : `[${dims.join(", ")}]`;
}

let machinePaths: Array<[string, string]> | null = null;

/** Absolute paths of the grading machine that must not reach feedback, longest first. */
function pathsToScrub(): Array<[string, string]> {
  if (machinePaths) return machinePaths;
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  const root = path.resolve(__dirname, "..", "..", "..");
  const list: Array<[string, string]> = [];
  for (const [p, name] of [[root, "<course>"], [real(root), "<course>"], [os.tmpdir(), "<tmp>"], [real(os.tmpdir()), "<tmp>"], [os.homedir(), "<home>"]] as Array<[string, string]>) {
    if (p && p !== "/" && p.length > 1 && !list.some(([q]) => q === p)) list.push([p, name]);
  }
  machinePaths = list.sort((a, b) => b[0].length - a[0].length);
  return machinePaths;
}

/** Replace the grading machine's absolute paths (course root, temp folder, home) by placeholders. */
export function scrubPaths(s: string, extra: string[] = []): string {
  let out = s;
  for (const p of extra) if (p && p.length > 1) out = out.split(p).join("<sandbox>");
  for (const [p, name] of pathsToScrub()) out = out.split(p).join(name);
  // scratch folders of the sandbox, whatever their parent
  return out.replace(/<tmp>\/course-sandbox-[\w.-]+(\/work-[\w.-]+)?/g, "<sandbox>");
}

/** Student-facing text: paths scrubbed, control characters removed, clipped to `n`. */
export function studentText(s: string, n = MAX_TEST_OUTPUT): string {
  return clip(cleanText(scrubPaths(String(s))), n);
}

/** A CSV cell: formula-looking text prefixed with ' (then quoted when needed). */
export function csvCell(s: string): string {
  let t = cleanText(s);
  if (/^[=+\-@\t\r]/.test(t)) t = `'${t}`;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}
