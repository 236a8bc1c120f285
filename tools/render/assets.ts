/**
 * Everything a page needs, copied next to it under `<out>/assets/` so that slides and book work
 * offline from the file system (no CDN, no server): KaTeX's CSS and fonts, reveal.js (core,
 * one theme and the speaker-notes plugin), plotly.js, and the course's own CSS and scripts
 * (tools/render/assets/). Only reveal themes whose CSS fetches nothing from the network can be
 * chosen; others fall back to `white` with a warning.
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../run";
import { Diagnostics } from "./html";

/** The folder (under the output folder) that holds the assets; pages link to `assets/…`. */
export const ASSETS = "assets";

/** The default reveal.js theme (its fonts ship with reveal.js). */
export const DEFAULT_THEME = "white";

/** Root folder of an installed npm package (found from its main file). */
export function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, "package.json")) || (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string }).name !== name) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package ${name} not found (run npm ci)`);
    dir = up;
  }
  return dir;
}

/** The course's own CSS and scripts. */
export function courseAssetsDir(): string {
  return path.join(repoRoot(), "tools", "render", "assets");
}

function copy(from: string, to: string): void {
  const st = fs.statSync(from);
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(from)) copy(path.join(from, name), path.join(to, name));
    return;
  }
  if (fs.existsSync(to)) {
    const old = fs.statSync(to);
    if (old.size === st.size && old.mtimeMs >= st.mtimeMs) return;
  }
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

/** True when a stylesheet loads anything over the network (`@import url(http…)`, `url(https:…)`). */
export function fetchesNetwork(css: string): boolean {
  return /(@import\s+(url\()?\s*["']?|url\(\s*["']?)(https?:)?\/\//i.test(css);
}

/** A usable reveal theme name: `wanted` when it exists and is offline, else the default (with a warning). */
export function pickTheme(wanted: unknown, where: string, diag: Diagnostics): string {
  if (wanted === undefined) return DEFAULT_THEME;
  const dir = path.join(packageDir("reveal.js"), "dist", "theme");
  const file = typeof wanted === "string" && /^[\w-]+$/.test(wanted) ? path.join(dir, `${wanted}.css`) : "";
  if (!file || !fs.existsSync(file)) {
    diag.warn(`${where}: metadata.reveal.theme ${JSON.stringify(wanted)} is not a reveal.js theme; using ${DEFAULT_THEME}`);
    return DEFAULT_THEME;
  }
  if (fetchesNetwork(fs.readFileSync(file, "utf8"))) {
    diag.warn(`${where}: reveal.js theme ${wanted} loads web fonts from the network; using ${DEFAULT_THEME} (the slides must work offline)`);
    return DEFAULT_THEME;
  }
  return wanted as string;
}

/** What to copy: always KaTeX and the course files; reveal (with these themes) and plotly on demand. */
export interface AssetNeeds {
  revealThemes: string[];
  plotly: boolean;
}

/** Copy the assets into `<out>/assets` (files already there and up to date are kept). */
export function copyAssets(out: string, needs: AssetNeeds): void {
  const dest = path.join(out, ASSETS);
  const katex = packageDir("katex");
  copy(path.join(katex, "dist", "katex.min.css"), path.join(dest, "katex", "katex.min.css"));
  copy(path.join(katex, "dist", "fonts"), path.join(dest, "katex", "fonts"));
  copy(courseAssetsDir(), path.join(dest, "course"));
  if (needs.revealThemes.length > 0) {
    const reveal = packageDir("reveal.js");
    copy(path.join(reveal, "dist", "reveal.css"), path.join(dest, "reveal", "reveal.css"));
    copy(path.join(reveal, "dist", "reveal.js"), path.join(dest, "reveal", "reveal.js"));
    copy(path.join(reveal, "plugin", "notes", "notes.js"), path.join(dest, "reveal", "plugin", "notes", "notes.js"));
    copy(path.join(reveal, "dist", "theme", "fonts"), path.join(dest, "reveal", "theme", "fonts"));
    for (const t of new Set(needs.revealThemes)) copy(path.join(reveal, "dist", "theme", `${t}.css`), path.join(dest, "reveal", "theme", `${t}.css`));
  }
  if (needs.plotly) copy(path.join(packageDir("plotly.js-dist-min"), "plotly.min.js"), path.join(dest, "plotly", "plotly.min.js"));
}
