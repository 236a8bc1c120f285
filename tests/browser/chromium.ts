/// <reference lib="dom" />
/**
 * Browser-test harness: Debian's `chromium` driven by playwright-core (no downloaded browser),
 * started with the flags that keep it off the network and a fresh profile, and a page guard that
 * records console errors, page errors and any request that would leave the machine (anything but
 * file:, data:, blob:, about: or localhost), which is also aborted.
 *
 * When chromium is missing the suites skip and say so on one SKIPPED line (CI installs it).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BrowserContext, chromium, Page } from "playwright-core";

export { rawTex } from "../tools/render-text";

/** The chromium binary: $CHROMIUM_PATH when set, else Debian's; null when absent. */
export const CHROMIUM: string | null = (process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"])
  .find((p) => fs.existsSync(p)) ?? null;

/** The flags that keep chromium off the network (from the issue). */
export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Where screenshots go (CI keeps them as artefacts). */
export const SCREENSHOTS = path.resolve(__dirname, "..", "..", "build", "screenshots");

/** `describe`, or `describe.skip` with a SKIPPED line when chromium is not installed. */
export function describeWithChromium(name: string, fn: () => void): void {
  if (CHROMIUM) describe(name, fn);
  else {
    // straight to the terminal: jest swallows console output of suites that only skip
    process.stderr.write(`SKIPPED: ${name}: Debian's chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)\n`);
    describe.skip(name, fn);
  }
}

/** A running browser with a fresh user-data dir. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Start chromium (fresh profile, offline flags); every request off the machine is aborted. */
export async function startBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  if (!CHROMIUM) throw new Error("chromium not installed");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport });
  await context.route("**/*", (route) => (isLocal(route.request().url()) ? route.continue() : route.abort("blockedbyclient")));
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** True for URLs that stay on this machine. */
export function isLocal(url: string): boolean {
  if (/^(file|data|blob|about|chrome-error):/.test(url)) return true;
  try {
    const u = new URL(url);
    return /^(https?|wss?):$/.test(u.protocol) && ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname);
  } catch {
    return false;
  }
}

/** What a page did wrong while it was open. */
export interface PageLog {
  consoleErrors: string[];
  pageErrors: string[];
  offMachine: string[];
  failedRequests: string[];
}

/** Record a page's console errors, uncaught errors, failed loads and off-machine requests. */
export function watchPage(page: Page): PageLog {
  const log: PageLog = { consoleErrors: [], pageErrors: [], offMachine: [], failedRequests: [] };
  page.on("console", (m) => {
    if (m.type() === "error") log.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => log.pageErrors.push(e.message));
  page.on("request", (r) => {
    if (!isLocal(r.url())) log.offMachine.push(r.url());
  });
  page.on("requestfailed", (r) => {
    if (isLocal(r.url())) log.failedRequests.push(`${r.url()} (${r.failure()?.errorText ?? "failed"})`);
  });
  return log;
}

/** The page's visible-kind text outside code, scripts and styles (for "no raw TeX left" checks). */
export async function proseText(page: Page, root: string): Promise<string> {
  return page.evaluate((sel) => {
    const base = document.querySelector(sel);
    if (!base) return "";
    const walker = document.createTreeWalker(base, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement?.closest("script, style, pre, code, .katex, .math-error, aside.notes") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const parts: string[] = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) parts.push(n.textContent ?? "");
    return parts.join("");
  }, root);
}
