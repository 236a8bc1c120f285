/**
 * lib/src/data/captionedFashion.ts and tools/data/build-captioned-fashion.ts against the shipped
 * datasets/captioned-fashion/manifest.json and datasets/fashion-mnist/.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import { DATASETS_ENV, ImageDataset, loadFashionMnist } from "../../lib/src/data/fashionMnist";
import {
  CLASS_NOUNS, COLOURS, CaptionedDataset, TEMPLATES, assignCaptions, captionMaxTokens, captionTokenizer, captionVocabulary,
  captionedBatch, captionedFashionDir, classWords, colourWords, colourise, loadCaptionedFashion, promptsFor, renderCaption,
} from "../../lib/src/data/captionedFashion";
import { EOS_ID, UNK_ID, normalise } from "../../lib/src/text/tokenizer";

const ROOT = path.resolve(__dirname, "..", "..");
const SHIPPED = path.join(ROOT, "datasets", "captioned-fashion");
const FASHION = path.join(ROOT, "datasets", "fashion-mnist");
const CLI = path.join(ROOT, "tools", "dist", "data", "build-captioned-fashion.js");
let test_: CaptionedDataset;
let gray: ImageDataset;
let tmp: string;

/** Does the word sequence `hay` contain `needle` contiguously? */
function contains(hay: string[], needle: string[]): boolean {
  for (let i = 0; i + needle.length <= hay.length; i++) if (needle.every((w, k) => hay[i + k] === w)) return true;
  return false;
}

/** Bit-identical float arrays (jest's toEqual is slow on millions of elements). */
function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A datasets folder in tmp: a copy of the captioned manifest, and fashion-mnist linked to the shipped one. */
function scratchDatasets(): string {
  const root = fs.mkdtempSync(path.join(tmp, "ds-"));
  fs.mkdirSync(path.join(root, "captioned-fashion"));
  fs.copyFileSync(path.join(SHIPPED, "manifest.json"), path.join(root, "captioned-fashion", "manifest.json"));
  fs.symlinkSync(FASHION, path.join(root, "fashion-mnist"), "dir");
  return root;
}

function withDatasets<T>(root: string, fn: () => T): T {
  const old = process.env[DATASETS_ENV];
  process.env[DATASETS_ENV] = root;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env[DATASETS_ENV];
    else process.env[DATASETS_ENV] = old;
  }
}

function editManifest(root: string, edit: (m: any) => void): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const file = path.join(root, "captioned-fashion", "manifest.json");
  const m = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m, null, 2));
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await initBackend();
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing; run \`npx tsc -b lib tools\` first`);
  test_ = loadCaptionedFashion("test");
  gray = loadFashionMnist("test");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "captioned-fashion-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("loadCaptionedFashion", () => {
  test("test split: 5,000 coloured images [N, 16, 16, 3] with Fashion-MNIST's labels; pinned first captions", () => {
    expect(test_.n).toBe(5000);
    expect([test_.height, test_.width, test_.channels]).toEqual([16, 16, 3]);
    expect(test_.images.length).toBe(5000 * 768);
    expect(test_.labels).toEqual(gray.labels);
    expect(test_.colourNames).toEqual(["red", "green", "blue", "yellow", "magenta", "cyan"]);
    expect(test_.classNames[7]).toBe("Sneaker");
    expect(test_.captions.slice(0, 4)).toEqual(["a picture of a purple blouse", "cobalt purse", "aqua jumper", "an emerald ankle boot"]);
    expect(Array.from(test_.colours.slice(0, 6))).toEqual([4, 2, 5, 1, 0, 3]);
  });

  test("deterministic: two loads are equal; a limit-k load is the first k of the full load", () => {
    const again = loadCaptionedFashion("test");
    expect(again.captions).toEqual(test_.captions);
    expect(again.colours).toEqual(test_.colours);
    expect(sameFloats(again.images, test_.images)).toBe(true);
    for (const k of [1, 37, 600]) {
      const part = loadCaptionedFashion("test", { limit: k });
      expect(part.n).toBe(k);
      expect(part.captions).toEqual(test_.captions.slice(0, k));
      expect(part.colours).toEqual(test_.colours.slice(0, k));
      expect(part.labels).toEqual(test_.labels.slice(0, k));
      expect(sameFloats(part.images, test_.images.subarray(0, k * 768))).toBe(true);
    }
    const unverified = loadCaptionedFashion("test", { limit: 37, verify: false });
    expect(unverified.captions).toEqual(test_.captions.slice(0, 37));
    const trainSmall = loadCaptionedFashion("train", { limit: 100 });
    const trainLarge = loadCaptionedFashion("train", { limit: 1000 });
    expect(trainSmall.captions).toEqual(trainLarge.captions.slice(0, 100));
    expect(trainSmall.captions).not.toEqual(test_.captions.slice(0, 100)); // splits have their own streams
    expect(assignCaptions("test", gray.labels.subarray(0, 37)).captions).toEqual(test_.captions.slice(0, 37));
  });

  test("refuses a bad split or limit", () => {
    expect(() => loadCaptionedFashion("val" as "test")).toThrow(/split must be "train" or "test", got val/);
    expect(() => loadCaptionedFashion("test", { limit: 5001 })).toThrow(/limit must be an integer in 1…5000/);
    expect(() => loadCaptionedFashion("test", { limit: 0 })).toThrow(/limit/);
  });
});

describe("colour rendering", () => {
  test("each channel is the gray image where the colour has it, −1 elsewhere; background stays −1", () => {
    for (const i of [0, 1, 2, 3, 4, 5, 1234, 4999]) {
      const rgb = COLOURS[test_.colours[i]].rgb;
      for (const p of [0, 17, 120, 136, 255]) {
        const g = gray.images[i * 256 + p];
        for (let ch = 0; ch < 3; ch++) expect(test_.images[i * 768 + 3 * p + ch]).toBe(rgb[ch] === 1 ? g : -1);
      }
      for (let p = 0; p < 256; p++) {
        if (gray.images[i * 256 + p] === -1) for (let ch = 0; ch < 3; ch++) expect(test_.images[i * 768 + 3 * p + ch]).toBe(-1);
      }
    }
  });

  test("colourise: x = 2·p·c − 1 with p = (g + 1)/2, for any colour", () => {
    const g = Float32Array.from([-1, -0.5, 0, 0.5, 1, 0.2]);
    const rgb = [0.5, 0.25, 1];
    const x = colourise(g, rgb);
    expect(x.length).toBe(18);
    for (let k = 0; k < g.length; k++) {
      const p = (g[k] + 1) / 2;
      for (let ch = 0; ch < 3; ch++) expect(x[3 * k + ch]).toBeCloseTo(2 * p * rgb[ch] - 1, 6);
    }
    expect(Array.from(x.subarray(0, 3))).toEqual([-1, -1, -1]); // background
    expect(Array.from(x.subarray(12, 15))).toEqual([0, -0.5, 1]); // full ink: 2c − 1
    expect(Array.from(x.subarray(6, 9))).toEqual([-0.5, -0.75, 0]); // p = ½
    expect(() => colourise(g, [1, 0])).toThrow(/rgb must be 3 numbers in \[0, 1\]/);
    expect(() => colourise(g, [1, 0, 2])).toThrow(/rgb/);
  });

  test("the six colours differ in at least one full channel; mean ink by channel identifies the colour", () => {
    const means = Array.from({ length: 6 }, () => [0, 0, 0]);
    for (let i = 0; i < 600; i++) {
      for (let p = 0; p < 256; p++) for (let ch = 0; ch < 3; ch++) means[test_.colours[i]][ch] += (test_.images[i * 768 + 3 * p + ch] + 1) / 2;
    }
    means.forEach((m, k) => m.forEach((v, ch) => expect(v > 0).toBe(COLOURS[k].rgb[ch] === 1)));
  });
});

describe("captions", () => {
  test("each caption names its own colour and class (a synonym of each) and no other", () => {
    const colourSeqs = COLOURS.map((_, k) => colourWords(k).map(normalise));
    const classSeqs = CLASS_NOUNS.map((_, c) => classWords(c).map(normalise));
    const wrong: string[] = [];
    for (let i = 0; i < test_.n; i++) {
      const words = normalise(test_.captions[i]);
      const colours = colourSeqs.flatMap((seqs, k) => (seqs.some((s) => contains(words, s)) ? [k] : []));
      const classes = classSeqs.flatMap((seqs, c) => (seqs.some((s) => contains(words, s)) ? [c] : []));
      if (colours.join() !== String(test_.colours[i]) || classes.join() !== String(test_.labels[i])) {
        wrong.push(`${i}: "${test_.captions[i]}" names colours [${colours}] and classes [${classes}], expected ${test_.colours[i]} and ${test_.labels[i]}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  test("classes, colours, (class, colour) pairs and templates are balanced", () => {
    const pairs = new Array(60).fill(0);
    const colourCounts = new Array(6).fill(0);
    const classCounts = new Array(10).fill(0);
    for (let i = 0; i < test_.n; i++) {
      pairs[test_.labels[i] * 6 + test_.colours[i]]++;
      colourCounts[test_.colours[i]]++;
      classCounts[test_.labels[i]]++;
    }
    expect(classCounts).toEqual(new Array(10).fill(500));
    for (const n of colourCounts) expect([833, 834]).toContain(n);
    for (const n of pairs) expect(n).toBeGreaterThanOrEqual(50);
    for (const n of pairs) expect(n).toBeLessThanOrEqual(120);
    for (const phrase of ["photo of", "picture of", "image of", "black background"]) {
      const n = test_.captions.filter((c) => c.includes(phrase)).length;
      expect([phrase, n > 700 && n < 970]).toEqual([phrase, true]);
    }
    // every colour word and noun phrase is used
    const text = ` ${test_.captions.join(" | ")} `;
    for (let k = 0; k < 6; k++) for (const w of colourWords(k)) expect(text).toContain(` ${w} `);
    for (let c = 0; c < 10; c++) for (const w of classWords(c)) expect(text).toContain(` ${w} `);
  });

  test("renderCaption fills a template and writes 'an' before a vowel", () => {
    expect(renderCaption(TEMPLATES[0], "aqua", "ankle boot")).toBe("an aqua ankle boot");
    expect(renderCaption(TEMPLATES[3], "red", "overcoat")).toBe("an image of an overcoat in red");
    expect(renderCaption(TEMPLATES[1], "golden", "tee")).toBe("a photo of a golden tee");
    expect(renderCaption(TEMPLATES[2], "aqua", "ankle boot")).toBe("aqua ankle boot");
  });

  test("zero-shot prompts", () => {
    const cls = promptsFor("class");
    expect(cls.length).toBe(10);
    expect(cls[7]).toBe("a photo of a sneaker");
    expect(cls[9]).toBe("a photo of an ankle boot");
    expect(promptsFor("colour")).toEqual(COLOURS.map((c) => `a photo of a ${c.name} item`));
    const pair = promptsFor("pair");
    expect(pair.length).toBe(60);
    expect(pair[7 * 6 + 0]).toBe("a red sneaker");
    expect(pair[0 * 6 + 5]).toBe("a cyan t-shirt");
    expect(() => promptsFor("shape" as "class")).toThrow(/kind must be/);
  });
});

describe("tokenizer and vocabulary", () => {
  test("the manifest's vocabulary covers every caption and prompt; maxTokens never truncates", () => {
    const tok = captionTokenizer();
    expect(tok.tokens.slice(4)).toEqual(captionVocabulary());
    const L = captionMaxTokens();
    expect(L).toBe(10);
    const texts = [...test_.captions, ...promptsFor("class"), ...promptsFor("colour"), ...promptsFor("pair")];
    const ids = tok.encodeBatch(texts, L);
    expect(ids.includes(UNK_ID)).toBe(false);
    for (let b = 0; b < texts.length; b++) {
      const row = ids.subarray(b * L, (b + 1) * L);
      expect(row.includes(EOS_ID)).toBe(true);
      expect(tok.decode(row)).toBe(normalise(texts[b]).join(" "));
    }
    expect(tok.idOf("t-shirt")).not.toBe(tok.idOf("shirt"));
  });
});

describe("captionedBatch", () => {
  test("gathers rows into [B, 16, 16, 3] without leaking tensors; refuses bad indices", () => {
    const before = tf.memory().numTensors;
    const idx = Int32Array.from([4999, 0, 7]);
    const batch = captionedBatch(test_, idx);
    expect(batch.shape).toEqual([3, 16, 16, 3]);
    const v = batch.dataSync();
    for (let b = 0; b < 3; b++) expect(v.subarray(b * 768, (b + 1) * 768)).toEqual(test_.images.subarray(idx[b] * 768, (idx[b] + 1) * 768));
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => captionedBatch(test_, Int32Array.from([0, 5000]))).toThrow(/index 5000 at position 1 is outside 0…4999/);
  });
});

describe("manifest checks (COURSE_DATASETS → a scratch copy)", () => {
  test("an untouched copy loads; its folder comes from the environment", () => {
    const root = scratchDatasets();
    withDatasets(root, () => {
      expect(captionedFashionDir()).toBe(path.join(root, "captioned-fashion"));
      expect(loadCaptionedFashion("test", { limit: 12 }).captions).toEqual(test_.captions.slice(0, 12));
    });
  });

  test("a tampered sha256, template, vocabulary or seed is detected and names the rebuild command", () => {
    const cases: Array<[(m: any) => void, RegExp]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
      [(m) => { m.splits.test.sha256 = m.splits.test.sha256.replace(/^./, (c: string) => (c === "0" ? "1" : "0")); }, /the test captions drifted: sha256 6d0bc193c3c1… of the generated captions differs/],
      [(m) => { m.templates[2] = "the {colour} {item}"; }, /manifest\.json's "templates" differs from what lib\/src\/data\/captionedFashion\.ts generates/],
      [(m) => { m.vocabulary.push("zebra"); }, /"vocabulary" differs/],
      [(m) => { m.seed = 1; }, /"seed" differs/],
      [(m) => { m.splits.test.count = 4999; }, /counts 4999 test images, Fashion-MNIST has 5000/],
      [(m) => { m.version = 2; }, /expected course-captioned-fashion v1/],
    ];
    for (const [edit, message] of cases) {
      const root = scratchDatasets();
      editManifest(root, edit);
      withDatasets(root, () => {
        expect(() => loadCaptionedFashion("test")).toThrow(message);
        expect(() => loadCaptionedFashion("test")).toThrow(/npm run build && npm run data:captions/);
      });
    }
    // the train split is still checked on its own sha
    const root = scratchDatasets();
    editManifest(root, (m) => { m.splits.train.sha256 = "0".repeat(64); });
    withDatasets(root, () => {
      expect(loadCaptionedFashion("test", { limit: 6 }).n).toBe(6);
      expect(() => loadCaptionedFashion("train", { limit: 6 })).toThrow(/the train captions drifted/);
      expect(loadCaptionedFashion("train", { limit: 6, verify: false }).n).toBe(6);
    });
  });

  test("a missing or broken manifest, and a tampered vocabulary for the tokenizer", () => {
    const root = scratchDatasets();
    const file = path.join(root, "captioned-fashion", "manifest.json");
    fs.writeFileSync(file, "{ nope");
    withDatasets(root, () => expect(() => loadCaptionedFashion("test")).toThrow(/manifest\.json is not valid JSON/));
    fs.rmSync(file);
    withDatasets(root, () => expect(() => loadCaptionedFashion("test")).toThrow(/manifest\.json is missing.*npm run data:captions/));
    fs.copyFileSync(path.join(SHIPPED, "manifest.json"), file);
    editManifest(root, (m) => { m.vocabulary.reverse(); });
    expect(() => captionTokenizer(path.join(root, "captioned-fashion"))).toThrow(/vocabulary differs/);
  });
});

describe("tools/data/build-captioned-fashion", () => {
  test("rebuilds manifest.json and README.md byte for byte, twice", () => {
    for (const name of ["a", "b"]) {
      const out = path.join(tmp, `build-${name}`);
      const r = cli(["--out", out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/train 30000, test 5000 captions, 60 words/);
      expect(fs.readdirSync(out).sort()).toEqual(["README.md", "manifest.json"]);
      for (const f of ["manifest.json", "README.md"]) expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(SHIPPED, f)))).toBe(true);
    }
    expect(fs.statSync(path.join(SHIPPED, "manifest.json")).size).toBeLessThan(200_000);
  });

  test("--help, bad arguments (exit 2), and a missing Fashion-MNIST (exit 1)", () => {
    const help = cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: npm run data:captions -- \[--out DIR\]/);
    const bad = cli(["--frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown argument --frobnicate[\s\S]*Usage:/);
    expect(cli(["--out"]).code).toBe(2);
    const empty = fs.mkdtempSync(path.join(tmp, "empty-"));
    const r = cli(["--out", path.join(empty, "out")], { ...process.env, [DATASETS_ENV]: empty });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/data:captions: Fashion-MNIST: manifest\.json is missing/);
    expect(fs.existsSync(path.join(empty, "out"))).toBe(false);
  });
});
