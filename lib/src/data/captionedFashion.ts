/**
 * Captioned Fashion-MNIST: the shipped 16×16 Fashion-MNIST, each image coloured with one of six
 * colours and captioned ("a photo of a crimson trainer"), for the course's tiny CLIP, GLIDE-style
 * text conditioning and DALL·E-2 prior. Colour × class is compositional: a model must read both
 * the colour word and the item word, and "a cyan handbag" can be asked for whether or not the
 * model saw many.
 *
 * Papers: Xiao, Rasul & Vollgraf 2017 (Fashion-MNIST, MIT, Zalando SE); Radford et al. 2021 (CLIP,
 * zero-shot prompts "a photo of a {label}"); Nichol et al. 2022 (GLIDE); Ramesh et al. 2022 (DALL·E 2).
 *
 * Nothing but a small manifest is shipped (datasets/captioned-fashion/manifest.json, written by
 * `npm run data:captions`): images are rendered at load time from datasets/fashion-mnist, and the
 * colour and caption of image i come from seeded streams, so they are the same on every machine.
 * The manifest stores the vocabulary, colours, nouns, templates and, per split, a SHA-256 of all
 * (label, colour, caption) triples; the loader regenerates them and refuses to load on any drift.
 *
 * | code        | meaning                                                                 |
 * |-------------|-------------------------------------------------------------------------|
 * | `gray`, g   | a Fashion-MNIST image ∈ [−1, 1], [16, 16, 1]; ink p = (g + 1)/2 ∈ [0, 1] |
 * | `rgb`, c    | a colour ∈ [0, 1]³                                                       |
 * | `images`, x | x = 2·p·c − 1 ∈ [−1, 1], [N, 16, 16, 3]; background (p = 0) stays −1     |
 * | `labels`, y | class index 0…9, [N]                                                     |
 * | `colours`   | colour index 0…5 ({@link COLOURS}), [N]                                  |
 * | `captions`  | the caption of each image, [N] strings                                  |
 *
 * @see notebooks/05_clip.ipynb
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { Tokenizer, buildVocabulary, normalise, SPECIAL_TOKENS } from "../text/tokenizer";
import {
  DATASETS_ENV, FASHION_MNIST_CLASSES, FashionMnistSplit, ImageDataset, datasetsDir, fashionMnistDir, loadFashionMnist,
  readFashionMnistManifest, sha256Hex,
} from "./fashionMnist";

/** A named colour with its synonyms and value in [0, 1]³. */
export interface CaptionColour { name: string; synonyms: string[]; rgb: [number, number, number] }
/** A Fashion-MNIST class's canonical noun (the zero-shot prompt word) and its synonyms. */
export interface ClassNoun { className: string; name: string; synonyms: string[] }

/**
 * The six colours: the corners of the RGB cube other than black and white, so a colour is told
 * apart by which channels carry ink, however faint.
 * @see notebooks/05_clip.ipynb
 */
export const COLOURS: readonly CaptionColour[] = Object.freeze([
  { name: "red", synonyms: ["crimson", "scarlet"], rgb: [1, 0, 0] },
  { name: "green", synonyms: ["emerald", "lime"], rgb: [0, 1, 0] },
  { name: "blue", synonyms: ["azure", "cobalt"], rgb: [0, 0, 1] },
  { name: "yellow", synonyms: ["golden", "lemon"], rgb: [1, 1, 0] },
  { name: "magenta", synonyms: ["fuchsia", "purple"], rgb: [1, 0, 1] },
  { name: "cyan", synonyms: ["turquoise", "aqua"], rgb: [0, 1, 1] },
] as CaptionColour[]);

/**
 * Nouns by class index ({@link FASHION_MNIST_CLASSES}); `name` is the canonical prompt word.
 * @see notebooks/05_clip.ipynb
 */
export const CLASS_NOUNS: readonly ClassNoun[] = Object.freeze([
  { className: "T-shirt/top", name: "t-shirt", synonyms: ["top", "tee"] },
  { className: "Trouser", name: "trouser", synonyms: ["pair of trousers", "pair of pants"] },
  { className: "Pullover", name: "pullover", synonyms: ["sweater", "jumper"] },
  { className: "Dress", name: "dress", synonyms: ["gown", "frock"] },
  { className: "Coat", name: "coat", synonyms: ["jacket", "overcoat"] },
  { className: "Sandal", name: "sandal", synonyms: ["flip-flop"] },
  { className: "Shirt", name: "shirt", synonyms: ["blouse", "button-up shirt"] },
  { className: "Sneaker", name: "sneaker", synonyms: ["trainer", "running shoe"] },
  { className: "Bag", name: "bag", synonyms: ["handbag", "purse"] },
  { className: "Ankle boot", name: "ankle boot", synonyms: ["boot", "bootie"] },
]);

/**
 * Caption templates; "a" before a vowel becomes "an" ({@link renderCaption}).
 * @see notebooks/05_clip.ipynb
 */
export const TEMPLATES: readonly string[] = Object.freeze([
  "a {colour} {item}",
  "a photo of a {colour} {item}",
  "{colour} {item}",
  "an image of a {item} in {colour}",
  "a picture of a {colour} {item}",
  "a {colour} {item} on a black background",
]);

/** Identifier written into, and required of, manifest.json. */
export const CAPTIONED_FASHION_FORMAT = "course-captioned-fashion";
/** Version of the manifest and of the derivation; bump it when either changes meaning. */
export const CAPTIONED_FASHION_VERSION = 1;
/** The fixed seed of the colour and caption streams. */
export const CAPTIONED_FASHION_SEED = 2022;
const REBUILD = "rebuild it with `npm run build && npm run data:captions`";

/** Words usable for colour k: its name, then its synonyms. */
export function colourWords(k: number): string[] {
  return [COLOURS[k].name, ...COLOURS[k].synonyms];
}

/** Noun phrases usable for class c: its canonical noun, then its synonyms. */
export function classWords(c: number): string[] {
  return [CLASS_NOUNS[c].name, ...CLASS_NOUNS[c].synonyms];
}

/**
 * Fill a template's {colour} and {item}, then write "an" for "a" before a vowel.
 * @example renderCaption("a {colour} {item}", "aqua", "ankle boot")  // "an aqua ankle boot"
 * @see notebooks/05_clip.ipynb
 */
export function renderCaption(template: string, colour: string, item: string): string {
  return template.replace("{colour}", colour).replace("{item}", item).replace(/\ba (?=[aeiou])/g, "an ");
}

/**
 * Colour a grayscale image: x = 2·p·c − 1 with ink p = (g + 1)/2, so the black background
 * (g = −1) stays −1 in every channel and full ink becomes the colour itself.
 * @param gray [H, W, 1] (or any [P]) in [−1, 1]
 * @returns [H, W, 3] in [−1, 1]
 * @example colourise(ds.images.subarray(0, 256), COLOURS[0].rgb)  // a red item, [16·16·3]
 * @see notebooks/05_clip.ipynb
 */
export function colourise(gray: Float32Array, rgb: readonly number[]): Float32Array {
  if (rgb.length !== 3 || !rgb.every((v) => v >= 0 && v <= 1)) throw new Error(`colourise: rgb must be 3 numbers in [0, 1], got [${rgb}]`);
  const out = new Float32Array(gray.length * 3); // [P, 3]
  for (let k = 0; k < gray.length; k++) {
    const twoP = gray[k] + 1; // 2p
    for (let ch = 0; ch < 3; ch++) out[3 * k + ch] = twoP * rgb[ch] - 1;
  }
  return out;
}

/**
 * The colour and caption of each image of a split, given its labels. Colours come in blocks of
 * six, one of each colour, in the order of `new Rng(seed).fork("<split>/colour").permutation(6)`;
 * template, colour word and noun phrase are uniform draws from `fork("<split>/caption")`.
 * Both streams are read in index order, so the first k results depend only on the first k labels.
 * @see notebooks/05_clip.ipynb
 */
export function assignCaptions(split: FashionMnistSplit, labels: Int32Array): { colours: Int32Array; captions: string[] } {
  const root = new Rng(CAPTIONED_FASHION_SEED);
  const colourRng = root.fork(`${split}/colour`);
  const captionRng = root.fork(`${split}/caption`);
  const colours = new Int32Array(labels.length);
  const captions: string[] = [];
  let block = new Int32Array(0);
  for (let i = 0; i < labels.length; i++) {
    if (i % COLOURS.length === 0) block = colourRng.permutation(COLOURS.length);
    const k = block[i % COLOURS.length];
    const template = TEMPLATES[captionRng.int(TEMPLATES.length)];
    const cw = colourWords(k);
    const nw = classWords(labels[i]);
    colours[i] = k;
    captions.push(renderCaption(template, cw[captionRng.int(cw.length)], nw[captionRng.int(nw.length)]));
  }
  return { colours, captions };
}

/** SHA-256 of the lines "label<TAB>colour<TAB>caption\n", in index order. */
export function captionsSha256(labels: Int32Array, colours: Int32Array, captions: readonly string[]): string {
  const lines = captions.map((c, i) => `${labels[i]}\t${colours[i]}\t${c}\n`).join("");
  return sha256Hex(Buffer.from(lines, "utf8"));
}

/**
 * Zero-shot prompts: "class" → "a photo of a sneaker" (index = class), "colour" → "a photo of a
 * red item" (index = colour), "pair" → "a red sneaker" (index = class·6 + colour).
 * @see notebooks/05_clip.ipynb
 */
export function promptsFor(kind: "class" | "colour" | "pair"): string[] {
  if (kind === "class") return CLASS_NOUNS.map((n) => renderCaption("a photo of a {item}", "", n.name));
  if (kind === "colour") return COLOURS.map((c) => renderCaption("a photo of a {colour} item", c.name, ""));
  if (kind === "pair") return CLASS_NOUNS.flatMap((n) => COLOURS.map((c) => renderCaption("a {colour} {item}", c.name, n.name)));
  throw new Error(`promptsFor: kind must be "class", "colour" or "pair", got ${String(kind)}`);
}

/** Every caption any template, colour word and noun phrase can make. */
function allCaptions(): string[] {
  return TEMPLATES.flatMap((t) => COLOURS.flatMap((_, k) => colourWords(k).flatMap((cw) =>
    CLASS_NOUNS.flatMap((_n, c) => classWords(c).map((nw) => renderCaption(t, cw, nw))))));
}

/**
 * The caption vocabulary: every word of every possible caption and of {@link promptsFor}, sorted.
 * @see notebooks/05_clip.ipynb
 */
export function captionVocabulary(): string[] {
  return buildVocabulary([...allCaptions(), ...promptsFor("class"), ...promptsFor("colour"), ...promptsFor("pair")]);
}

/** Tokens in the longest possible caption, <eos> included: a `maxLen` that never truncates. */
export function captionMaxTokens(): number {
  return Math.max(...allCaptions().map((c) => normalise(c).length)) + 1;
}

/** Per-split facts in the manifest. */
export interface CaptionedSplitInfo { count: number; sha256: string; classCounts: number[]; colourCounts: number[] }

/**
 * The parsed datasets/captioned-fashion/manifest.json.
 * @see notebooks/05_clip.ipynb
 */
export interface CaptionedFashionManifest {
  format: string;
  version: number;
  seed: number;
  size: number;
  channels: number;
  colours: CaptionColour[];
  nouns: ClassNoun[];
  templates: string[];
  specialTokens: string[];
  vocabulary: string[];
  maxTokens: number;
  source: { dataset: string; format: string; sha256: Record<string, string> };
  licence: string;
  derivation: Record<string, string>;
  splits: Record<FashionMnistSplit, CaptionedSplitInfo>;
}

/** Everything in the manifest except `splits`, as the code and the Fashion-MNIST manifest in `fashionDir` give it. */
function manifestHead(fashionDir: string): Omit<CaptionedFashionManifest, "splits"> {
  const fm = readFashionMnistManifest(fashionDir);
  const files = [fm.files.train.images, fm.files.train.labels, fm.files.test.images, fm.files.test.labels];
  return {
    format: CAPTIONED_FASHION_FORMAT,
    version: CAPTIONED_FASHION_VERSION,
    seed: CAPTIONED_FASHION_SEED,
    size: 16,
    channels: 3,
    colours: COLOURS.map((c) => ({ name: c.name, synonyms: [...c.synonyms], rgb: [...c.rgb] as [number, number, number] })),
    nouns: CLASS_NOUNS.map((n) => ({ className: n.className, name: n.name, synonyms: [...n.synonyms] })),
    templates: [...TEMPLATES],
    specialTokens: [...SPECIAL_TOKENS],
    vocabulary: captionVocabulary(),
    maxTokens: captionMaxTokens(),
    source: { dataset: "fashion-mnist", format: `${fm.format} v${fm.version}`, sha256: Object.fromEntries(files.map((f) => [f, fm.sha256[f]])) },
    licence: "MIT: images derived from Fashion-MNIST, Copyright (c) 2017 Zalando SE (see ../fashion-mnist/LICENSE); colours and captions generated by this course",
    derivation: {
      tool: "tools/data/build-captioned-fashion.ts (npm run data:captions); generation: lib/src/data/captionedFashion.ts",
      images: "rendered at load time: x = 2*p*rgb - 1 with p = (g + 1)/2 from the Fashion-MNIST image g in [-1, 1]; same order as datasets/fashion-mnist",
      colours: "blocks of 6, one per colour, block order new Rng(seed).fork('<split>/colour').permutation(6) (lib/src/random.ts)",
      captions: "per image, from fork('<split>/caption'): template index int(6), colour word int(1 + synonyms), noun phrase int(1 + synonyms); 'a' before a vowel becomes 'an'",
      sha256: "of the UTF-8 lines '<label>\\t<colour>\\t<caption>\\n' of the whole split, in order",
      vocabulary: "sorted distinct words (lower-case letter runs, inner hyphens kept) of every possible caption and zero-shot prompt; token ids: specialTokens first, then the vocabulary",
    },
  };
}

/** The split's manifest entry for these labels, colours and captions. */
function splitInfo(labels: Int32Array, colours: Int32Array, captions: string[]): CaptionedSplitInfo {
  const classCounts = new Array(CLASS_NOUNS.length).fill(0);
  const colourCounts = new Array(COLOURS.length).fill(0);
  labels.forEach((y, i) => { classCounts[y]++; colourCounts[colours[i]]++; });
  return { count: labels.length, sha256: captionsSha256(labels, colours, captions), classCounts, colourCounts };
}

/**
 * Generate the whole manifest from the code and the Fashion-MNIST in `fashionDir` (what
 * `npm run data:captions` writes).
 * @see notebooks/05_clip.ipynb
 */
export function buildCaptionedFashionManifest(fashionDir: string = fashionMnistDir()): CaptionedFashionManifest {
  const splits = {} as Record<FashionMnistSplit, CaptionedSplitInfo>;
  for (const split of ["train", "test"] as const) {
    const { labels } = loadFashionMnist(split, { dir: fashionDir });
    const { colours, captions } = assignCaptions(split, labels);
    splits[split] = splitInfo(labels, colours, captions);
  }
  return { ...manifestHead(fashionDir), splits };
}

/**
 * The captioned set's folder: `<datasetsDir()>/captioned-fashion` ($COURSE_DATASETS honoured).
 * @see notebooks/05_clip.ipynb
 */
export function captionedFashionDir(): string {
  return path.join(datasetsDir(), "captioned-fashion");
}

function fail(dir: string, what: string): never {
  throw new Error(`captioned Fashion-MNIST: ${what} (in ${dir}); ${REBUILD}, or set ${DATASETS_ENV} to a folder holding captioned-fashion/ and fashion-mnist/.`);
}

/**
 * Read manifest.json and check its format and version.
 * @see notebooks/05_clip.ipynb
 */
export function readCaptionedFashionManifest(dir: string = captionedFashionDir()): CaptionedFashionManifest {
  const file = path.join(dir, "manifest.json");
  if (!fs.existsSync(file)) fail(dir, "manifest.json is missing");
  let m: CaptionedFashionManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8")) as CaptionedFashionManifest;
  } catch (e) {
    return fail(dir, `manifest.json is not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== CAPTIONED_FASHION_FORMAT || m.version !== CAPTIONED_FASHION_VERSION) {
    fail(dir, `manifest.json has format ${String(m.format)} v${String(m.version)}, expected ${CAPTIONED_FASHION_FORMAT} v${CAPTIONED_FASHION_VERSION}`);
  }
  return m;
}

/** Fail unless the manifest equals what the code generates (static fields, then the split). */
function checkManifest(dir: string, m: CaptionedFashionManifest, fashionDir: string, split: FashionMnistSplit, want: CaptionedSplitInfo): void {
  const head = manifestHead(fashionDir) as unknown as Record<string, unknown>;
  for (const key of Object.keys(head)) {
    if (JSON.stringify((m as unknown as Record<string, unknown>)[key]) !== JSON.stringify(head[key])) {
      fail(dir, `manifest.json's "${key}" differs from what lib/src/data/captionedFashion.ts generates`);
    }
  }
  const got = m.splits?.[split];
  if (!got) fail(dir, `manifest.json has no ${split} split`);
  if (got.count !== want.count) fail(dir, `manifest.json counts ${got.count} ${split} images, Fashion-MNIST has ${want.count}`);
  if (got.sha256 !== want.sha256) {
    fail(dir, `the ${split} captions drifted: sha256 ${want.sha256.slice(0, 12)}… of the generated captions differs from the manifest's ${String(got.sha256).slice(0, 12)}…`);
  }
  if (JSON.stringify([got.classCounts, got.colourCounts]) !== JSON.stringify([want.classCounts, want.colourCounts])) fail(dir, `manifest.json's ${split} class or colour counts differ`);
}

/**
 * Options of {@link loadCaptionedFashion}.
 * @see notebooks/05_clip.ipynb
 */
export interface LoadCaptionedFashionOptions {
  /** Keep only the first `limit` images; they equal the first `limit` of the full split. */
  limit?: number;
  /** Folder of manifest.json (default {@link captionedFashionDir}). */
  dir?: string;
  /** Folder of the Fashion-MNIST files (default `fashionMnistDir()`). */
  fashionDir?: string;
  /** Regenerate the whole split's captions and check them against the manifest (default true, ~40 ms for train). */
  verify?: boolean;
}

/**
 * A captioned, coloured image set in memory, pixels in [−1, 1].
 * @see notebooks/05_clip.ipynb
 */
export interface CaptionedDataset {
  /** [N, 16, 16, 3] row-major, in [−1, 1]. */
  images: Float32Array;
  /** [N] class indices 0…9. */
  labels: Int32Array;
  /** [N] colour indices 0…5. */
  colours: Int32Array;
  /** [N] captions. */
  captions: string[];
  n: number;
  height: 16;
  width: 16;
  channels: 3;
  classNames: string[];
  colourNames: string[];
}

/**
 * Load a split of captioned Fashion-MNIST: Fashion-MNIST images, coloured and captioned.
 *
 * @example const ds = loadCaptionedFashion("train", { limit: 6000 });  // ds.captions[0]: "a crimson trainer"…
 * @see notebooks/05_clip.ipynb
 */
export function loadCaptionedFashion(split: FashionMnistSplit, opts: LoadCaptionedFashionOptions = {}): CaptionedDataset {
  if (split !== "train" && split !== "test") throw new Error(`loadCaptionedFashion: split must be "train" or "test", got ${String(split)}`);
  const dir = opts.dir !== undefined ? path.resolve(opts.dir) : captionedFashionDir();
  const fashionDir = opts.fashionDir !== undefined ? path.resolve(opts.fashionDir) : fashionMnistDir();
  const verify = opts.verify ?? true;
  const m = readCaptionedFashionManifest(dir);
  const gray = loadFashionMnist(split, { dir: fashionDir, verify });
  const limit = opts.limit ?? gray.n;
  if (!Number.isInteger(limit) || limit < 1 || limit > gray.n) {
    throw new Error(`loadCaptionedFashion: limit must be an integer in 1…${gray.n} for the ${split} split, got ${limit}`);
  }
  const { colours, captions } = assignCaptions(split, verify ? gray.labels : gray.labels.subarray(0, limit));
  if (verify) checkManifest(dir, m, fashionDir, split, splitInfo(gray.labels, colours, captions));

  const px = 16 * 16;
  const images = new Float32Array(limit * px * 3); // [N, 16, 16, 3]
  for (let i = 0; i < limit; i++) images.set(colourise(gray.images.subarray(i * px, (i + 1) * px), COLOURS[colours[i]].rgb), i * px * 3);
  return {
    images, labels: gray.labels.slice(0, limit), colours: colours.slice(0, limit), captions: captions.slice(0, limit),
    n: limit, height: 16, width: 16, channels: 3, classNames: [...FASHION_MNIST_CLASSES], colourNames: COLOURS.map((c) => c.name),
  };
}

/**
 * Gather the images at `idx` into a batch tensor (as `fashionMnistBatch`).
 * @example captionedBatch(ds, Int32Array.from([0, 1, 2]))  // [3, 16, 16, 3]
 * @see notebooks/05_clip.ipynb
 */
export function captionedBatch(ds: CaptionedDataset, idx: Int32Array): tf.Tensor4D {
  const px = ds.height * ds.width * ds.channels;
  const out = new Float32Array(idx.length * px);
  for (let b = 0; b < idx.length; b++) {
    const i = idx[b];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new Error(`captionedBatch: index ${i} at position ${b} is outside 0…${ds.n - 1}`);
    out.set(ds.images.subarray(i * px, (i + 1) * px), b * px);
  }
  return tf.tensor4d(out, [idx.length, ds.height, ds.width, ds.channels]); // [B, 16, 16, 3]
}

/**
 * The captioned images as a labelled image set whose label is the (item, colour) pair,
 * label = class·6 + colour (60 labels, named "red t-shirt", …): the training data of notebook 06's
 * evaluation classifier, which judges whether a generated image shows what its caption asked for.
 * @example const pairs = captionedPairDataset(loadCaptionedFashion("test")); // labels 0…59
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
export function captionedPairDataset(ds: CaptionedDataset): ImageDataset {
  const K = COLOURS.length;
  return {
    images: ds.images,
    labels: Int32Array.from(ds.labels, (y, i) => y * K + ds.colours[i]),
    n: ds.n,
    height: 16,
    width: 16,
    channels: 3,
    classNames: CLASS_NOUNS.flatMap((c) => COLOURS.map((col) => `${col.name} ${c.name}`)),
  };
}

/**
 * The caption tokenizer, from the manifest's vocabulary (checked against the code's).
 * @example const tok = captionTokenizer(); tok.encodeTensor(ds.captions.slice(0, 8), captionMaxTokens());
 * @see notebooks/05_clip.ipynb
 */
export function captionTokenizer(dir: string = captionedFashionDir()): Tokenizer {
  const m = readCaptionedFashionManifest(dir);
  if (JSON.stringify(m.specialTokens) !== JSON.stringify(SPECIAL_TOKENS) || JSON.stringify(m.vocabulary) !== JSON.stringify(captionVocabulary())) {
    fail(dir, "manifest.json's vocabulary differs from what lib/src/data/captionedFashion.ts generates");
  }
  return Tokenizer.fromManifest(m);
}
