/**
 * `npm run data:captions [-- --out DIR]`: write datasets/captioned-fashion/{manifest.json,README.md},
 * the manifest of the captioned, coloured Fashion-MNIST (lib/src/data/captionedFashion.ts).
 *
 *   npm run build && npm run data:captions        # rewrite datasets/captioned-fashion/ (< 1 s)
 *   npm run data:captions -- --out /tmp/captions
 *
 * Images are not written: the loader renders them from datasets/fashion-mnist. The manifest holds
 * the colours, nouns, templates, vocabulary and, per split, counts and the SHA-256 of all
 * (label, colour, caption) triples. No dates or paths go in, so two runs give identical bytes.
 * $COURSE_DATASETS selects the Fashion-MNIST read (and the default output folder).
 *
 * Exit codes: 0 ok, 1 build failed (e.g. Fashion-MNIST missing), 2 bad command line.
 */
import * as path from "path";
import { CaptionedFashionManifest, buildCaptionedFashionManifest, captionedFashionDir, writeFileAtomic } from "@course/lib";
import { UsageError, dataCommand } from "./cli";

export { UsageError };

export const USAGE = `Usage: npm run data:captions -- [--out DIR]

Writes manifest.json and README.md of the captioned Fashion-MNIST
(datasets/captioned-fashion), generated from datasets/fashion-mnist.

Options:
  --out DIR    output folder (default datasets/captioned-fashion, or $COURSE_DATASETS/captioned-fashion)
  -h, --help   show this help`;

/** Parse the command line: the output folder, or null for --help. */
export function parseCaptionArgs(argv: string[]): { out: string } | null {
  let out = captionedFashionDir();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") return null;
    if (a === "--out") {
      const v = argv[++i];
      if (v === undefined || v.startsWith("-")) throw new UsageError("--out needs a folder");
      out = path.resolve(v);
    } else throw new UsageError(`unknown argument ${a}`);
  }
  return { out };
}

const list = (words: string[]): string => words.map((w) => `"${w}"`).join(", ");

/** The README, generated from the manifest so it never disagrees with it. */
export function captionedFashionReadme(m: CaptionedFashionManifest): string {
  const rows = (xs: string[]): string => xs.join("\n");
  return `# Captioned Fashion-MNIST (coloured, 16×16)

The shipped 16×16 Fashion-MNIST (\`../fashion-mnist\`), each image coloured with one of
${m.colours.length} colours and given a short caption such as "a photo of a crimson trainer", for the
text-conditioned notebooks (a tiny CLIP, GLIDE-style text conditioning, a DALL·E-2 prior).

Derived from Fashion-MNIST (Xiao, Rasul & Vollgraf 2017,
[arXiv:1708.07747](https://arxiv.org/abs/1708.07747); Zalando SE, MIT licence, see
\`../fashion-mnist/LICENSE\`), via Debian's \`dataset-fashion-mnist\`. The colours, captions and
this derivation are part of the course, MIT licence.

Only this README and \`manifest.json\` are stored here; the images are rendered when loaded:

\`\`\`ts
import { loadCaptionedFashion, captionedBatch, captionTokenizer, captionMaxTokens, promptsFor } from "@course/lib";
const ds = loadCaptionedFashion("train");             // images [${m.splits.train.count}, 16, 16, 3] in [-1, 1], labels, colours, captions
const x0 = captionedBatch(ds, idx);                   // tf.Tensor4D [B, 16, 16, 3]
const ids = captionTokenizer().encodeTensor(ds.captions.slice(0, 8), captionMaxTokens()); // int32 [8, ${m.maxTokens}]
promptsFor("pair");                                   // "a red t-shirt", …: zero-shot prompts, index class·${m.colours.length} + colour
\`\`\`

## Colours

Image x = 2·p·rgb − 1, with ink p = (g + 1)/2 of the Fashion-MNIST image g ∈ [−1, 1]: the
background stays −1 (black) and full ink is the colour itself.

| id | colour | synonyms | rgb |
|---|---|---|---|
${rows(m.colours.map((c, k) => `| ${k} | ${c.name} | ${c.synonyms.join(", ")} | (${c.rgb.join(", ")}) |`))}

## Items

| label | class | noun (prompt word) | synonyms |
|---|---|---|---|
${rows(m.nouns.map((n, c) => `| ${c} | ${n.className} | ${n.name} | ${n.synonyms.join(", ")} |`))}

## Captions

Templates ("a" before a vowel becomes "an"):

${rows(m.templates.map((t) => `- \`${t}\``))}

| split | images | sha256 of the (label, colour, caption) lines | images per colour |
|---|---|---|---|
${rows((["train", "test"] as const).map((s) => `| ${s} | ${m.splits[s].count} | \`${m.splits[s].sha256.slice(0, 16)}…\` | ${m.splits[s].colourCounts.join(", ")} |`))}

Image i keeps label and pixels of Fashion-MNIST image i. Seed ${m.seed}; with the streams of
\`lib/src/random.ts\`:

1. **Colour**: blocks of ${m.colours.length} images take one colour each, block order
   \`new Rng(seed).fork("<split>/colour").permutation(${m.colours.length})\`; so colours are balanced in
   every prefix of ${m.colours.length}k images, and independent of the class.
2. **Caption**: from \`fork("<split>/caption")\`, in index order: a template, a colour word (the
   colour's name or a synonym) and a noun phrase (the class's noun or a synonym), each uniform.

Both streams are read in index order, so \`loadCaptionedFashion(split, { limit: k })\` gives the
first k images of the full split.

## Tokens

Word-level (\`lib/src/text/tokenizer.ts\`): lower-cased letter runs, hyphens kept inside words
("t-shirt", "flip-flop"). Ids: ${list(m.specialTokens)} are 0…${m.specialTokens.length - 1}, then the
${m.vocabulary.length} words of \`vocabulary\` in sorted order (every word of every possible caption and
prompt). The longest caption has ${m.maxTokens} tokens with <eos>.

## Rebuild and checks

\`npm run build && npm run data:captions\` (\`tools/data/build-captioned-fashion.ts\`) rewrites both
files here, byte for byte the same on every run. \`loadCaptionedFashion\` regenerates the split's
captions and compares everything in \`manifest.json\` with them, so a change to the colours, nouns,
templates, seed, random streams or to Fashion-MNIST is reported with this rebuild command.
\`COURSE_DATASETS=/some/dir\` makes it read \`/some/dir/captioned-fashion/\` and
\`/some/dir/fashion-mnist/\` instead.
`;
}

/** JSON with two-space indents, short arrays of numbers or strings on one line ("rgb": [1, 0, 0]). */
export function formatManifest(m: CaptionedFashionManifest): string {
  const json = JSON.stringify(m, null, 2).replace(/\[\n\s*([^[\]{}]*?)\n\s*\]/g, (all, body: string) => {
    const line = `[${body.replace(/,\n\s*/g, ", ")}]`;
    return line.length <= 80 ? line : all;
  });
  return json + "\n";
}

/** Generate the manifest and README into `out`; returns the manifest. */
export function buildCaptionedFashion(out: string): CaptionedFashionManifest {
  const m = buildCaptionedFashionManifest();
  writeFileAtomic(path.join(out, "manifest.json"), formatManifest(m));
  writeFileAtomic(path.join(out, "README.md"), captionedFashionReadme(m));
  return m;
}

/** The command: returns the exit code. */
export function main(argv: string[]): number {
  return dataCommand("data:captions", USAGE, argv, parseCaptionArgs, (opts) => {
    const m = buildCaptionedFashion(opts.out);
    const lines = [`captioned Fashion-MNIST: train ${m.splits.train.count}, test ${m.splits.test.count} captions, ${m.vocabulary.length} words → ${opts.out}`];
    for (const s of ["train", "test"] as const) lines.push(`  ${s.padEnd(5)} sha256 ${m.splits[s].sha256.slice(0, 16)}…`);
    return lines.join("\n") + "\n";
  });
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
