/**
 * Small HTML helpers shared by the slide deck and the book: escaping, attribute lists, and
 * warnings that surface both on stderr and, as a visible placeholder, in the page.
 *
 * @see notebooks/01_score_matching.ipynb
 */

/** Escape text for HTML element content and double-quoted attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Collects the warnings of one build; each is printed once, to stderr by default. */
export class Diagnostics {
  readonly warnings: string[] = [];

  constructor(private readonly sink: (line: string) => void = (l) => console.error(l)) {}

  /** Record and print one warning, e.g. `notebooks/x.ipynb cell 4: unknown slide_type "foo"`. */
  warn(message: string): void {
    this.warnings.push(message);
    this.sink(`warning: ${message}`);
  }
}

/**
 * A visible placeholder for something that could not be rendered (unknown MIME type, broken
 * metadata, unreadable cell); it carries class `render-placeholder` so tests and readers find it.
 */
export function placeholder(message: string): string {
  return `<div class="render-placeholder" role="note">⚠ ${esc(message)}</div>`;
}

/** A URL-safe, readable id from heading text ("2 · The forward process" → "2-the-forward-process"). */
export function slugify(text: string): string {
  const slug = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug || "section";
}

/** Unique ids within one page: the second "summary" becomes "summary-2". */
export class IdAllocator {
  private readonly used = new Map<string, number>();

  /** A fresh id based on `base`. */
  take(base: string): string {
    const n = (this.used.get(base) ?? 0) + 1;
    this.used.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  }
}

/** JSON safe inside an HTML `<script>` element (`<`, `>`, `&`, U+2028/9 escaped; still valid JSON). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
