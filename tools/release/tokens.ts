/**
 * Normalised token streams for the release leak check (leakcheck.ts).
 *
 * Text is cut into tokens with the TypeScript scanner, so that layout never matters:
 *  - whitespace, newlines and comments are dropped from the code stream;
 *  - `;` is dropped, and so is a trailing `,` before `)`, `]` or `}`;
 *  - string literals compare by value, whatever their quotes ('x', "x", `x` are one token);
 *  - numbers compare by value (1e-5 = 0.00001), and `var`/`let`/`const` are one token;
 *  - identifiers are flagged, so that a matcher can treat renamed locals as equal.
 *
 * Text can also hide code where the scanner sees no code: inside comments and string
 * literals (a commented-out solution, a solution pasted into a JSON string), or in prose whose
 * apostrophes the scanner takes for quotes (markdown). So every text yields three streams:
 *   code   the tokens above;
 *   inner  the comment and string contents of the text, joined in order and scanned again;
 *   prose  the text with every quote character blanked out, scanned again.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as ts from "typescript";

/** One normalised token. */
export interface Token {
  /** Normalised value: the identifier/keyword/punctuation text, `S:<value>` for strings, `N:<value>` for numbers. */
  v: string;
  /** An identifier (a matcher may treat it as renameable). */
  id: boolean;
  /** 1-based line in the text it came from. */
  line: number;
}

/** The three streams of one text (see the header). */
export interface Streams {
  code: Token[];
  inner: Token[];
  prose: Token[];
}

/** The stream names, in the order {@link streams} computes them. */
export type StreamName = keyof Streams;

interface Piece {
  text: string;
  pos: number;
}

/** 1-based line of each offset, by binary search over the line starts. */
function lineIndex(text: string): (pos: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (pos) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function normNumber(text: string): string {
  const n = Number(text.replace(/_/g, "").replace(/n$/, ""));
  return `N:${Number.isFinite(n) ? String(n) : text}`;
}

const DECLARATION = new Set([ts.SyntaxKind.VarKeyword, ts.SyntaxKind.LetKeyword, ts.SyntaxKind.ConstKeyword]);

/** Scan `text`: its code tokens, plus the comment/string pieces for the inner stream. */
function scan(text: string): { code: Token[]; pieces: Piece[] } {
  const lineOf = lineIndex(text);
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  const code: Token[] = [];
  const pieces: Piece[] = [];
  const templates: number[] = []; // open-brace depth inside each open template substitution
  const push = (v: string, pos: number, id = false) => code.push({ v, id, line: lineOf(pos) });
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    const pos = scanner.getTokenPos();
    const raw = scanner.getTokenText();
    switch (kind) {
      case ts.SyntaxKind.WhitespaceTrivia:
      case ts.SyntaxKind.NewLineTrivia:
      case ts.SyntaxKind.ShebangTrivia:
      case ts.SyntaxKind.ConflictMarkerTrivia:
      case ts.SyntaxKind.SemicolonToken:
        break;
      case ts.SyntaxKind.SingleLineCommentTrivia:
        pieces.push({ text: raw.slice(2), pos: pos + 2 });
        break;
      case ts.SyntaxKind.MultiLineCommentTrivia:
        // Keep the line structure (for line numbers); blank the JSDoc " * " gutters.
        pieces.push({ text: raw.slice(2, raw.endsWith("*/") ? -2 : undefined).replace(/^([ \t]*)\*/gm, "$1 "), pos: pos + 2 });
        break;
      case ts.SyntaxKind.StringLiteral:
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
        push(`S:${scanner.getTokenValue()}`, pos);
        pieces.push({ text: raw.slice(1, scanner.isUnterminated() ? undefined : -1), pos: pos + 1 });
        break;
      case ts.SyntaxKind.TemplateHead:
        push(`S:${scanner.getTokenValue()}`, pos);
        pieces.push({ text: raw.slice(1, -2), pos: pos + 1 });
        templates.push(0);
        break;
      case ts.SyntaxKind.OpenBraceToken:
        if (templates.length > 0) templates[templates.length - 1] += 1;
        push("{", pos);
        break;
      case ts.SyntaxKind.CloseBraceToken: {
        if (templates.length > 0 && templates[templates.length - 1] === 0) {
          const again = scanner.reScanTemplateToken(false);
          const text2 = scanner.getTokenText();
          push(`S:${scanner.getTokenValue()}`, pos);
          pieces.push({ text: text2.slice(1, again === ts.SyntaxKind.TemplateTail ? -1 : -2), pos: pos + 1 });
          if (again === ts.SyntaxKind.TemplateTail) templates.pop();
          break;
        }
        if (templates.length > 0) templates[templates.length - 1] -= 1;
        push("}", pos);
        break;
      }
      case ts.SyntaxKind.NumericLiteral:
      case ts.SyntaxKind.BigIntLiteral:
        push(normNumber(raw), pos);
        break;
      case ts.SyntaxKind.Identifier:
        push(raw, pos, true);
        break;
      default:
        push(DECLARATION.has(kind) ? "let" : raw, pos);
    }
  }
  return { code: dropTrailingCommas(code), pieces };
}

const CLOSERS = new Set([")", "]", "}"]);

function dropTrailingCommas(tokens: Token[]): Token[] {
  return tokens.filter((t, i) => !(t.v === "," && i + 1 < tokens.length && CLOSERS.has(tokens[i + 1].v)));
}

/** The code tokens of `text` (comments dropped); `firstLine` numbers its first line. */
export function codeTokens(text: string, firstLine = 1): Token[] {
  return shift(scan(text).code, firstLine);
}

/** All three streams of `text`; `firstLine` numbers its first line. */
export function streams(text: string, firstLine = 1): Streams {
  const { code, pieces } = scan(text);
  const lineOf = lineIndex(text);
  // Join the pieces; map every joined token back to the line of its piece in `text`.
  let joined = "";
  const starts: { at: number; line: number }[] = [];
  for (const p of pieces) {
    starts.push({ at: joined.length, line: lineOf(p.pos) });
    joined += p.text + "\n";
  }
  const joinedLine = lineIndex(joined);
  const pieceLines = starts.map((s) => joinedLine(s.at));
  let k = 0; // tokens come in order, so the piece index only moves forward
  const inner = scan(joined).code.map((t) => {
    // t.line is a line of `joined`; find the piece it falls in.
    while (k + 1 < starts.length && pieceLines[k + 1] <= t.line) k++;
    return { ...t, line: starts.length === 0 ? 1 : starts[k].line + (t.line - pieceLines[k]) };
  });
  const prose = scan(text.replace(/['"`]/g, " ")).code;
  return { code: shift(code, firstLine), inner: shift(inner, firstLine), prose: shift(prose, firstLine) };
}

function shift(tokens: Token[], firstLine: number): Token[] {
  return firstLine === 1 ? tokens : tokens.map((t) => ({ ...t, line: t.line + firstLine - 1 }));
}
