/**
 * The release leak check: does a student release contain any unreleased solution text or any
 * hidden grading suite — verbatim, reformatted, renamed, commented out, or inside a notebook?
 *
 *   node tools/dist/release.js --check <dir> [--week N]
 *
 * Method (matcher.ts, secrets.ts, tokens.ts): every shipped text file — and, in notebooks,
 * every cell source, output and metadata string separately — is cut into normalised token
 * streams (TypeScript scanner: no comments, whitespace, semicolons, trailing commas or quote
 * style) and compared in sliding windows with the secrets: the bodies of the solutions due in
 * week N or later (locals renameable) and the hidden suites (verbatim, minus imports). Windows
 * that also occur in the public-by-design sources (lib/, the shipped tools, the stubs) are
 * removed first (the library, tools and tests the release ships verbatim, and the stubs), so
 * the stubs, signatures and TSDoc never count. Any remaining shared window
 * is a finding, reported as file:line. A file under tests/exercises/hidden/ is a finding too.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import { Course, relPath, walkFiles } from "../course";
import { Hit, Matcher, MatchOptions, DEFAULT_MATCH } from "./matcher";
import { hiddenSecrets, solutionSecrets } from "./secrets";
import { studentPlan } from "./student";
import { streams } from "./tokens";

/** One leak: shipped text that matches a secret. */
export interface Finding {
  /** Release-relative path. */
  file: string;
  /** 1-based line in the file (for notebooks: the JSON line of the matched text, when found). */
  line: number;
  /** Inside a notebook: the JSON path of the string (e.g. `cells[7].source`) and its line range. */
  where?: string;
  /** The secret it matches (its file and exercise, or the hidden suite) and the secret's line. */
  secret: string;
  secretLine: number;
  /** Secret tokens covered, of its total. */
  matched: number;
  of: number;
  /** The shipped line, trimmed. */
  excerpt: string;
}

/** The result of checking one release. */
export interface LeakReport {
  week: number;
  files: number;
  secrets: number;
  findings: Finding[];
  /** Things worth knowing that are not leaks (secrets too short to check, secrets already public). */
  notes: string[];
}

/** A text to scan: a whole file, or one string inside a notebook. */
interface Unit {
  where?: string;
  text: string;
}

const BINARY_EXT = /\.(bin|png|jpe?g|gif|ico|woff2?|zip|gz|tgz|wasm|npz|npy|pdf)$/i;
const MAX_BYTES = 64 * 1024 * 1024;

/** Text units of one file; null for binary (or absurdly large) files. */
export function unitsOf(file: string): Unit[] | null {
  if (BINARY_EXT.test(file)) return null;
  const stat = fs.statSync(file);
  if (stat.size > MAX_BYTES) return null;
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, 8000).includes(0)) return null;
  const text = buf.toString("utf8");
  if (!file.endsWith(".ipynb")) return [{ text }];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [{ text }];
  }
  const units: Unit[] = [];
  const walk = (v: unknown, where: string): void => {
    if (typeof v === "string") units.push({ where, text: v });
    else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) {
      units.push({ where, text: v.some((x: string) => x.includes("\n")) ? v.join("") : v.join("\n") });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, where === "" ? k : `${where}.${k}`);
  };
  walk(json, "");
  return units;
}

/** Shipped files that are public by design: library, tools, unit and tool tests, the harness. */
const PUBLIC_PATHS = /^(lib|tools|tests\/lib|tests\/tools)\/.*\.ts$|^tests\/exercises\/(harness|student-mode)\.ts$/;

/**
 * Texts that ship by design and may share tokens with secrets (the baseline, see matcher.ts):
 * the week's student-release files under {@link PUBLIC_PATHS} and the exercise stubs.
 */
export function publicTexts(course: Course, week: number, extra: { label: string; text: string }[] = []): { label: string; text: string }[] {
  const out = [...extra];
  for (const f of studentPlan(course, { week, withholdSolutions: true }).plan.files) {
    if (!PUBLIC_PATHS.test(f.to)) continue;
    out.push({ label: f.to, text: f.content ?? fs.readFileSync(f.from as string, "utf8") });
  }
  for (const nb of course.notebooks) {
    for (const ex of nb.exercises) {
      const src = nb.nb.cells[ex.cell].source;
      out.push({ label: `${nb.rel} (stub ${ex.id})`, text: Array.isArray(src) ? src.join("") : src });
    }
  }
  return out;
}

/** Index the secrets of the week-`week` release, minus the public baseline. */
export function buildMatcher(course: Course, week: number, opts: MatchOptions = DEFAULT_MATCH, extraPublic: { label: string; text: string }[] = []): Matcher {
  const secrets = [...solutionSecrets(course, week), ...hiddenSecrets(course.hidden, course.layout.root)];
  const m = new Matcher(secrets, opts);
  for (const p of publicTexts(course, week, extraPublic)) m.addBaseline(p.text, p.label);
  return m;
}

/** Merge the hits of one unit into findings (one per secret and contiguous shipped range). */
function findingsOf(m: Matcher, unit: Unit, hits: Hit[], file: string, rawLines: string[] | null, s: ReturnType<typeof streams>): Finding[] {
  const bySecret = new Map<number, Hit[]>();
  for (const h of hits) bySecret.set(h.secret, [...(bySecret.get(h.secret) ?? []), h]);
  const out: Finding[] = [];
  const unitLines = unit.text.split("\n");
  for (const [k, hs] of bySecret) {
    const secret = m.secrets[k];
    const ranges = hs
      .map((h) => ({ from: s[h.stream][h.at].line, to: s[h.stream][h.at + h.length - 1].line, hit: h }))
      .sort((a, b) => a.from - b.from);
    const merged: { from: number; to: number; covered: Set<number>; first: Hit }[] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
      else merged.push({ from: r.from, to: r.to, covered: new Set(), first: r.hit });
      const target = merged[merged.length - 1];
      for (let i = 0; i < r.hit.length; i++) target.covered.add(r.hit.secretAt + i);
    }
    for (const g of merged) {
      const text = (unitLines[g.from - 1] ?? "").trim();
      let line = g.from;
      if (unit.where !== undefined) {
        const needle = JSON.stringify(unitLines[g.from - 1] ?? "").slice(1, -1).trim();
        const found = needle.length > 8 && rawLines ? rawLines.findIndex((l) => l.includes(needle)) : -1;
        line = found >= 0 ? found + 1 : 0;
      }
      out.push({
        file,
        line,
        where: unit.where === undefined ? undefined : `${unit.where} line ${g.from}${g.to > g.from ? `-${g.to}` : ""}`,
        secret: secret.label,
        secretLine: secret.tokens[g.first.secretAt]?.line ?? 0,
        matched: g.covered.size,
        of: secret.tokens.length,
        excerpt: text.length > 100 ? `${text.slice(0, 97)}…` : text,
      });
    }
  }
  return out;
}

/** Check one file of a release (`rel` is its release-relative path). */
export function checkFile(m: Matcher, file: string, rel: string): Finding[] {
  const units = unitsOf(file);
  if (!units) return [];
  const raw = file.endsWith(".ipynb") ? fs.readFileSync(file, "utf8").split("\n") : null;
  const out: Finding[] = [];
  for (const u of units) {
    const s = streams(u.text);
    const hits = m.scan(s);
    if (hits.length > 0) out.push(...findingsOf(m, u, hits, rel, raw, s));
  }
  return out;
}

/** Folders never scanned: installed packages and version control. */
const SKIP_DIRS = new Set(["node_modules", ".git"]);

/** Check a whole release folder against a prepared matcher. */
export function checkTree(dir: string, m: Matcher, week: number): LeakReport {
  const files = walkFiles(dir, (rel, isDir) => isDir && SKIP_DIRS.has(rel.split("/").pop() ?? ""));
  const findings: Finding[] = [];
  for (const f of files) {
    const rel = relPath(dir, f);
    if (/^tests\/exercises\/hidden\//.test(rel)) {
      findings.push({ file: rel, line: 1, secret: "tests/exercises/hidden/ (hidden grading suites never ship)", secretLine: 0, matched: 0, of: 0, excerpt: "" });
    }
    findings.push(...checkFile(m, f, rel));
  }
  const notes: string[] = [];
  for (const s of m.tooShort()) notes.push(`${s.label}: only ${s.tokens.length} tokens, too short to check reliably`);
  m.stats.forEach((st, k) => {
    const where = [...st.publicIn].slice(0, 3).join(", ");
    if (st.windows > 0 && st.publicWindows >= st.windows) notes.push(`${m.secrets[k].label}: all of it also appears in public files (${where}): it is public anyway`);
    else if (st.publicWindows > 0) notes.push(`${m.secrets[k].label}: ${st.publicWindows} of its ${st.windows} token windows also appear in public files (${where}); those are not counted`);
  });
  return { week, files: files.length, secrets: m.secrets.length, findings, notes };
}

/** Check a release folder for the week-`week` leaks of `course`. */
export function checkRelease(dir: string, course: Course, week: number, opts: MatchOptions = DEFAULT_MATCH): LeakReport {
  return checkTree(dir, buildMatcher(course, week, opts), week);
}

/** The report as printed: one `file:line` per finding, then the notes. */
export function formatReport(r: LeakReport): string {
  const lines: string[] = [];
  for (const f of r.findings) {
    const at = `${f.file}:${f.line}${f.where ? ` (${f.where})` : ""}`;
    const what = f.of > 0 ? `matches ${f.secret} line ${f.secretLine} (${f.matched} of its ${f.of} tokens)` : f.secret;
    lines.push(`LEAK ${at}: ${what}${f.excerpt ? `\n     > ${f.excerpt}` : ""}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  const verdict = r.findings.length === 0
    ? `leak check: clean (week ${r.week}: ${r.files} files against ${r.secrets} secrets)`
    : `leak check: ${r.findings.length} finding(s) in week-${r.week} release (${r.files} files against ${r.secrets} secrets)`;
  lines.push(verdict);
  return lines.join("\n");
}
