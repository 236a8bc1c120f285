/**
 * Sliding-window matching of secret token streams against shipped texts (after Schleimer,
 * Wilkerson & Aiken 2003, "Winnowing": shared k-token windows, without the fingerprint
 * sampling — the secrets are small, so every window is indexed).
 *
 * Every window of `window` consecutive tokens of a secret is indexed (a secret shorter than
 * that, but at least `minTokens` long, is one window). Windows that also occur in texts that
 * are public by design (the library, the tools, the exercise stubs: the baseline) are removed
 * first, so shared boilerplate is never reported. A shipped text leaks a secret when one of its
 * windows equals a remaining secret window.
 *
 * Renaming: in `anon` mode an identifier compares as itself only if it names something global
 * in the secrets (`tf`, `Math`, `sqrt`, `mul`, …: the kept vocabulary); any other identifier
 * compares as `$`, so renamed locals still match, while the API calls keep the windows specific.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import { MatchMode, Secret } from "./secrets";
import { StreamName, streams, Streams, Token } from "./tokens";

/** Matcher settings. */
export interface MatchOptions {
  /** Window length for solution secrets (anon mode). */
  solutionWindow: number;
  /** Window length for hidden-suite secrets (verbatim mode). */
  hiddenWindow: number;
  /** Secrets shorter than this are too short to check (reported as a note). */
  minTokens: number;
}

/** The defaults: 16-token windows for solution bodies, 20 for hidden suites, 10 tokens at least. */
export const DEFAULT_MATCH: MatchOptions = { solutionWindow: 16, hiddenWindow: 20, minTokens: 10 };

/** One window hit: shipped tokens [at, at + length) of a stream equal a window of secret `secret`. */
export interface Hit {
  stream: StreamName;
  secret: number;
  at: number;
  length: number;
  /** Position of the window in the secret. */
  secretAt: number;
}

interface Group {
  mode: MatchMode;
  length: number;
  index: Map<string, { secret: number; at: number }[]>;
}

const SEP = "\u0001";
const STREAMS: StreamName[] = ["code", "inner", "prose"];

/** Indexed secrets, ready to scan texts. */
export class Matcher {
  readonly kept: Set<string>;
  private readonly groups: Group[] = [];
  /** Per secret: windows indexed, windows removed as public, and where they were public. */
  readonly stats: { windows: number; publicWindows: number; publicIn: Set<string> }[];

  constructor(readonly secrets: Secret[], readonly opts: MatchOptions = DEFAULT_MATCH) {
    const locals = new Set<string>();
    for (const s of secrets) for (const l of s.locals) locals.add(l);
    this.kept = new Set<string>();
    for (const s of secrets) if (s.mode === "anon") for (const t of s.tokens) if (t.id && !locals.has(t.v)) this.kept.add(t.v);
    this.stats = secrets.map(() => ({ windows: 0, publicWindows: 0, publicIn: new Set<string>() }));
    secrets.forEach((s, k) => {
      const want = s.mode === "anon" ? opts.solutionWindow : opts.hiddenWindow;
      if (s.tokens.length < opts.minTokens) return;
      const length = Math.min(want, s.tokens.length);
      const group = this.group(s.mode, length);
      const vals = this.values(s.tokens, s.mode);
      for (let i = 0; i + length <= vals.length; i++) {
        const key = vals.slice(i, i + length).join(SEP);
        const refs = group.index.get(key) ?? [];
        refs.push({ secret: k, at: i });
        group.index.set(key, refs);
        this.stats[k].windows += 1;
      }
    });
  }

  private group(mode: MatchMode, length: number): Group {
    let g = this.groups.find((x) => x.mode === mode && x.length === length);
    if (!g) {
      g = { mode, length, index: new Map() };
      this.groups.push(g);
    }
    return g;
  }

  /** Token values as compared in `mode`. */
  values(tokens: Token[], mode: MatchMode): string[] {
    return mode === "verbatim" ? tokens.map((t) => t.v) : tokens.map((t) => (t.id && !this.kept.has(t.v) ? "$" : t.v));
  }

  /** Secrets too short to check. */
  tooShort(): Secret[] {
    return this.secrets.filter((s) => s.tokens.length < this.opts.minTokens);
  }

  /** Remove every secret window that also occurs in `text` (public by design; `label` is noted). */
  addBaseline(text: string, label: string): void {
    this.forEachWindow(streams(text), (_stream, _at, key, group, refs) => {
      for (const r of refs) {
        this.stats[r.secret].publicWindows += 1;
        this.stats[r.secret].publicIn.add(label);
      }
      group.index.delete(key);
    });
  }

  /** Every window of `text` (all three streams) that equals a secret window. */
  scan(s: Streams): Hit[] {
    const hits: Hit[] = [];
    this.forEachWindow(s, (stream, at, _key, group, refs) => {
      for (const r of refs) hits.push({ stream, secret: r.secret, at, length: group.length, secretAt: r.at });
    });
    return hits;
  }

  private forEachWindow(s: Streams, onWindow: (stream: StreamName, at: number, key: string, group: Group, refs: { secret: number; at: number }[]) => void): void {
    for (const name of STREAMS) {
      const tokens = s[name];
      const byMode = new Map<MatchMode, string[]>();
      for (const g of this.groups) {
        if (g.index.size === 0 || tokens.length < g.length) continue;
        let vals = byMode.get(g.mode);
        if (!vals) {
          vals = this.values(tokens, g.mode);
          byMode.set(g.mode, vals);
        }
        for (let i = 0; i + g.length <= vals.length; i++) {
          const key = vals.slice(i, i + g.length).join(SEP);
          const refs = g.index.get(key);
          if (refs) onWindow(name, i, key, g, refs);
        }
      }
    }
  }
}
