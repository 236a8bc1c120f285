/**
 * TypeScript syntax highlighting at build time, with TypeScript's own scanner (no extra
 * dependency, and exactly the language tslab runs): keywords, strings and template literals,
 * numbers, comments, regular expressions, type-like names and called functions each get a
 * `<span class="hl-…">`; everything else is escaped text. The colours live in the shared CSS.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as ts from "typescript";
import { esc } from "./html";

const K = ts.SyntaxKind;

/** Tokens after which `/` divides; anywhere else it starts a regular expression. */
const ENDS_EXPRESSION = new Set<ts.SyntaxKind>([
  K.Identifier, K.PrivateIdentifier, K.NumericLiteral, K.BigIntLiteral, K.StringLiteral, K.NoSubstitutionTemplateLiteral,
  K.TemplateTail, K.RegularExpressionLiteral, K.CloseParenToken, K.CloseBracketToken, K.CloseBraceToken,
  K.ThisKeyword, K.SuperKeyword, K.TrueKeyword, K.FalseKeyword, K.NullKeyword, K.PlusPlusToken, K.MinusMinusToken,
]);

function classOf(kind: ts.SyntaxKind, text: string, next: string): string | null {
  if (kind === K.SingleLineCommentTrivia || kind === K.MultiLineCommentTrivia) return "hl-comment";
  if (kind === K.StringLiteral || kind === K.NoSubstitutionTemplateLiteral || kind === K.TemplateHead
    || kind === K.TemplateMiddle || kind === K.TemplateTail) return "hl-string";
  if (kind === K.NumericLiteral || kind === K.BigIntLiteral) return "hl-number";
  if (kind === K.RegularExpressionLiteral) return "hl-regexp";
  if (kind >= K.FirstKeyword && kind <= K.LastKeyword) return "hl-keyword";
  if (kind === K.Identifier) {
    if (/^\s*\(/.test(next) || /^\s*<[\w\s,[\]]*>\s*\(/.test(next)) return "hl-function";
    if (/^[A-Z]/.test(text)) return "hl-type";
  }
  return null;
}

/** Highlighted HTML for TypeScript source (to go inside `<pre><code>`). */
export function highlightTs(source: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  const out: string[] = [];
  // What each open `{` belongs to: a block/object, or a `${` inside a template literal.
  const braces: ("block" | "template")[] = [];
  let lastSignificant: ts.SyntaxKind = K.Unknown;
  for (let kind = scanner.scan(); kind !== K.EndOfFileToken; kind = scanner.scan()) {
    if (kind === K.OpenBraceToken) braces.push("block");
    else if (kind === K.CloseBraceToken && braces.pop() === "template") kind = scanner.reScanTemplateToken(false);
    else if ((kind === K.SlashToken || kind === K.SlashEqualsToken) && !ENDS_EXPRESSION.has(lastSignificant)) kind = scanner.reScanSlashToken();
    if (kind === K.TemplateHead || kind === K.TemplateMiddle) braces.push("template");
    const start = scanner.getTokenPos();
    const end = scanner.getTextPos();
    const text = source.slice(start, end);
    const cls = classOf(kind, text, source.slice(end, end + 40));
    out.push(cls ? `<span class="${cls}">${esc(text)}</span>` : esc(text));
    if (kind !== K.WhitespaceTrivia && kind !== K.NewLineTrivia && kind !== K.SingleLineCommentTrivia && kind !== K.MultiLineCommentTrivia) lastSignificant = kind;
  }
  return out.join("");
}
