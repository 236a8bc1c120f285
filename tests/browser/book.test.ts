/// <reference lib="dom" />
/**
 * The book in a real browser (Debian's chromium via playwright-core, offline): the index and
 * every notebook's page load with no console error and no request off the machine, math is
 * rendered (no raw TeX, no KaTeX error), every live plot draws its SVG (toggles opened), the
 * table of contents and previous/next links lead somewhere, exercises show as exercises, and at
 * phone width (390 px) nothing makes the page scroll sideways. On both widths no plot label
 * overlaps another or is cut off, no legend entry shows twice, no figure is wider than its box or
 * the window, no inline formula breaks over lines, and image-grid tiles are at least 40 px on a
 * desktop (tests/browser/layout.ts). Notebook 01's page has its
 * outputs (an executed run, tests/browser/executed.ts). Screenshots go to build/screenshots/.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Page } from "playwright-core";
import { Diagnostics } from "../../tools/render/html";
import { buildBook } from "../../tools/render/site";
import { Browser, describeWithChromium, proseText, rawTex, SCREENSHOTS, startBrowser, watchPage } from "./chromium";
import { courseNotebooks, freshExecutedDir } from "./executed";
import { measureLayout } from "./layout";

/** Smallest image-grid tile on a desktop page, CSS px (the issue: notebook 06's comparison at ≥ 40 px). */
const MIN_TILE_PX = 40;

const ROOT = path.resolve(__dirname, "..", "..");
const pages = ["index", ...courseNotebooks().map((f) => path.basename(f, ".ipynb"))];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "book-browser-"));
const out = path.join(tmp, "book");

/** Open a page, open every toggle, wait for its plots. */
async function openPage(page: Page, name: string): Promise<void> {
  await page.goto(`file://${path.join(out, `${name}.html`)}`);
  await page.waitForFunction(() => document.documentElement.dataset.bookReady === "1");
  await page.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
  await page.waitForFunction(() => Array.from(document.querySelectorAll(".course-plot")).every((b) => ["drawn", "failed"].includes((b as HTMLElement).dataset.plot ?? "")), undefined, { timeout: 60_000 });
}

describeWithChromium("the book in chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const executed = await freshExecutedDir();
    buildBook({
      notebooksDir: path.join(ROOT, "notebooks"), executedDir: executed, solutionsDir: path.join(ROOT, "solutions"),
      out, withSolutions: false, diag: new Diagnostics(() => undefined),
    });
    fs.rmSync(executed, { recursive: true, force: true });
    browser = await startBrowser({ width: 1280, height: 900 });
  }, 900_000);
  afterAll(async () => {
    await browser?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test.each(pages)("%s: offline, math and plots rendered, links lead somewhere", async (name) => {
    const page = await browser.context.newPage();
    const log = watchPage(page);
    await openPage(page, name);
    expect(log.offMachine).toEqual([]);
    expect(log.failedRequests).toEqual([]);
    expect(log.consoleErrors).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(await page.evaluate(() => document.querySelectorAll(".math-error").length)).toBe(0);
    expect(rawTex(await proseText(page, "body"))).toEqual([]);
    const plots = await page.evaluate(() => Array.from(document.querySelectorAll(".course-plot")).map((b) => (b as HTMLElement).dataset.plot === "drawn" && b.querySelector(".js-plotly-plot svg.main-svg") !== null));
    expect(plots.filter((ok) => !ok)).toEqual([]);
    // in-page anchors (table of contents) exist; links to pages point at built files
    const links = await page.evaluate(() => Array.from(document.querySelectorAll("a[href]")).map((a) => a.getAttribute("href") ?? ""));
    for (const href of links) {
      if (href.startsWith("#")) expect(await page.evaluate((id) => document.getElementById(id) !== null, href.slice(1))).toBe(true);
      else expect(fs.existsSync(path.join(out, href.split("#")[0]))).toBe(true);
    }
    if (name === "index") {
      expect(await page.locator("table.timeline tbody tr").count()).toBe(7);
      expect(await page.locator(".course-map li").count()).toBeGreaterThanOrEqual(6);
    } else {
      expect(await page.evaluate(() => document.querySelectorAll(".katex").length)).toBeGreaterThan(0);
      expect(await page.locator(".book-toc a").count()).toBeGreaterThan(2);
      expect(await page.locator(".book-pager a").count()).toBeGreaterThanOrEqual(1);
      const exercises = await page.locator(".exercise .exercise-head").allInnerTexts();
      for (const head of exercises) expect(head).toMatch(/^✏️ Exercise \w+ +\d+ points?/);
      if (name === "01_score_matching") expect(plots.length).toBeGreaterThan(3);
    }
    const layout = await measureLayout(page, { root: "body" });
    expect(layout.problems).toEqual([]);
    expect(layout.tiles.filter((t) => t.px < MIN_TILE_PX).map((t) => `${t.figure}: ${t.px.toFixed(1)} px tiles`)).toEqual([]);
    if (name.startsWith("06_")) {
      // the comparison of the three systems: one grid per system, side by side or stacked
      expect(layout.tiles.filter((t) => /GLIDE \+ classifier-free guidance|GLIDE \+ CLIP guidance|unCLIP \(prior/.test(t.figure)).length).toBeGreaterThanOrEqual(3);
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, `book-${name}.png`) });
    await page.close();
  }, 120_000);

  test.each(pages)("%s: readable at phone width (390 px): nothing scrolls sideways", async (name) => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await openPage(page, name);
    const wide = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const sticking = Array.from(document.querySelectorAll("body *")).filter((el) => {
        if (el.getClientRects().length === 0) return false;
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
          const cs = getComputedStyle(a);
          if (cs.overflowX !== "visible") return false; // inside a box that scrolls (code, outputs, wide math)
        }
        const r = el.getBoundingClientRect();
        if (r.right <= 0) return false; // parked off-screen on purpose (e.g. plotly's text-measuring SVG)
        return r.right > vw + 1 || r.left < -1;
      }).slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${(el.getAttribute("class") ?? "").split(" ")[0]}`);
      return { vw, scrollWidth: document.documentElement.scrollWidth, sticking };
    });
    expect(wide.sticking).toEqual([]);
    expect((await measureLayout(page, { root: "body" })).problems).toEqual([]);
    expect(wide.scrollWidth).toBeLessThanOrEqual(wide.vw);
    expect(await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector("main p, main li") as Element).fontSize))).toBeGreaterThanOrEqual(14);
    await page.screenshot({ path: path.join(SCREENSHOTS, `book-${name}-phone.png`) });
    await page.close();
  }, 120_000);
});
