/**
 * What the student release must never contain (the leak check's "secrets"), as token streams:
 *  - the body of every reference solution that is not released yet (exercises due in the
 *    release's week or later, in any notebook, shipped or not). The signature line and the
 *    TSDoc are shared with the stub and ship deliberately, so only the body counts (plus any
 *    helper declared in the region). Locals (parameters, variables, helpers) are marked so
 *    that the matcher sees through renaming;
 *  - every hidden grading suite, verbatim, minus its import lines (imports are not secret and
 *    look the same in every test file).
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as ts from "typescript";
import { Course, relPath } from "../course";
import { codeTokens, Token } from "./tokens";
import { exerciseWeek } from "./weeks";

/** How a secret is matched: `anon` treats its locals as renameable, `verbatim` compares identifiers as written. */
export type MatchMode = "anon" | "verbatim";

/** One secret text. */
export interface Secret {
  kind: "solution" | "hidden";
  /** Shown in findings, e.g. `solutions/01_score_matching.ts#addNoise (week 1)`. */
  label: string;
  /** Repository-relative file the secret comes from. */
  file: string;
  tokens: Token[];
  mode: MatchMode;
  /** Identifiers declared inside the secret (renameable). */
  locals: Set<string>;
}

/** 1-based line in `text` of character offset `pos`. */
function lineAt(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function bindingNames(name: ts.BindingName, out: Set<string>): void {
  if (ts.isIdentifier(name)) out.add(name.text);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, out);
}

/** Names declared anywhere in `sf` except `keep` (the exercise's own name, which the stub shows). */
export function declaredNames(sf: ts.SourceFile, keep: string): Set<string> {
  const out = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isParameter(node) || ts.isVariableDeclaration(node) || ts.isBindingElement(node)) bindingNames(node.name, out);
    else if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isFunctionExpression(node)) && node.name) out.add(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  out.delete(keep);
  return out;
}

/**
 * The secret part of one solution region: the body of `function <id>` (between its braces) and
 * every other statement of the region. `firstLine` is the file line of the region text's first line.
 */
export function regionSecretTokens(regionText: string, id: string, firstLine: number): { tokens: Token[]; locals: Set<string> } {
  const sf = ts.createSourceFile("region.ts", regionText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const tokens: Token[] = [];
  const take = (start: number, end: number) => tokens.push(...codeTokens(regionText.slice(start, end), firstLine + lineAt(regionText, start) - 1));
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name?.text === id && st.body) take(st.body.getStart(sf) + 1, st.body.getEnd() - 1);
    else take(st.getStart(sf), st.getEnd());
  }
  return { tokens, locals: declaredNames(sf, id) };
}

/** Secrets of the reference solutions not released in the week-`week` release. */
export function solutionSecrets(course: Course, week: number): Secret[] {
  const out: Secret[] = [];
  for (const s of course.solutions) {
    for (const r of s.regions.values()) {
      const w = exerciseWeek(course, s.file, r.id);
      if (w < week) continue;
      const at = s.text.indexOf(r.text, Math.max(0, nthLineOffset(s.text, r.line)));
      const firstLine = at < 0 ? r.line + 1 : lineAt(s.text, at);
      const { tokens, locals } = regionSecretTokens(r.text, r.id, firstLine);
      const due = Number.isFinite(w) ? `week ${w}` : "no readable week";
      out.push({ kind: "solution", label: `${s.rel}#${r.id} (${due})`, file: s.rel, tokens, mode: "anon", locals });
    }
  }
  return out;
}

function nthLineOffset(text: string, line: number): number {
  let pos = 0;
  for (let n = 1; n < line && pos >= 0; n++) pos = text.indexOf("\n", pos) + 1;
  return pos;
}

/** The tokens of a test file without its import declarations. */
export function withoutImports(text: string, file: string): Token[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const tokens: Token[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) || ts.isImportEqualsDeclaration(st)) continue;
    const start = st.getStart(sf);
    tokens.push(...codeTokens(text.slice(start, st.getEnd()), lineAt(text, start)));
  }
  return tokens;
}

/** Secrets of the hidden grading suites (every file, `root`-relative labels). */
export function hiddenSecrets(files: string[], root: string): Secret[] {
  return files.map((file) => {
    const text = fs.readFileSync(file, "utf8");
    const rel = relPath(root, file);
    const tokens = /\.[cm]?[tj]sx?$/.test(file) ? withoutImports(text, file) : codeTokens(text);
    return { kind: "hidden" as const, label: rel, file: rel, tokens, mode: "verbatim" as const, locals: new Set<string>() };
  });
}
