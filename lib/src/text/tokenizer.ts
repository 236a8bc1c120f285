/**
 * A word-level tokenizer with a fixed vocabulary: the text side of the course's tiny CLIP,
 * GLIDE-style text conditioning and the DALL·E-2 prior.
 *
 * Papers: Radford et al. 2021 (CLIP: a text transformer reads lower-cased tokens bracketed by
 * start/end tokens and pools the features at the end token); Nichol et al. 2022 (GLIDE: the
 * caption's token sequence conditions the diffusion model); Ramesh et al. 2022 (DALL·E 2: the
 * prior maps the caption's CLIP text embedding to an image embedding). They use byte-pair
 * encoding over 49,152 tokens; our captions come from a closed, tiny vocabulary, so one token
 * per word is enough and every id can be read by eye.
 *
 * Normalisation: lower-case, then a word is a run of letters, with hyphens allowed inside it:
 * "A T-Shirt, in RED!" → ["a", "t-shirt", "in", "red"]. Digits and punctuation separate words.
 *
 * | code           | meaning                                                          |
 * |----------------|------------------------------------------------------------------|
 * | `PAD_ID` = 0   | <pad>: fills a sequence after <eos> up to `maxLen`               |
 * | `UNK_ID` = 1   | <unk>: any word not in the vocabulary                            |
 * | `EOS_ID` = 2   | <eos>: ends every encoded caption (CLIP pools the text here)     |
 * | `BOS_ID` = 3   | <bos>: optional start token (`encode(text, L, { bos: true })`)   |
 * | word ids       | 4 + index of the word in the sorted vocabulary                   |
 * | `ids`          | [L] or [B·L] int32, row-major [B, L]                             |
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/**
 * The special tokens, in id order: <pad> = 0, <unk> = 1, <eos> = 2, <bos> = 3.
 * @see notebooks/05_clip.ipynb
 */
export const SPECIAL_TOKENS: readonly string[] = Object.freeze(["<pad>", "<unk>", "<eos>", "<bos>"]);
/** Id of <pad>. */
export const PAD_ID = 0;
/** Id of <unk>. */
export const UNK_ID = 1;
/** Id of <eos>. */
export const EOS_ID = 2;
/** Id of <bos>. */
export const BOS_ID = 3;

/** A word: letters, with single hyphens allowed between letters ("t-shirt", "flip-flop"). */
const WORD = /\p{L}+(?:-\p{L}+)*/gu;

/**
 * Split text into normalised words: lower-cased runs of letters, keeping inner hyphens.
 *
 * @example normalise("A T-Shirt, in RED!")  // ["a", "t-shirt", "in", "red"]
 * @see notebooks/05_clip.ipynb
 */
export function normalise(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/**
 * The vocabulary of a set of texts: their distinct normalised words, sorted by code unit
 * (not by locale, so every machine gives the same order and hence the same ids).
 *
 * @example buildVocabulary(["a red top", "A blue top"])  // ["a", "blue", "red", "top"]
 * @see notebooks/05_clip.ipynb
 */
export function buildVocabulary(texts: readonly string[]): string[] {
  const words = new Set<string>();
  for (const t of texts) for (const w of normalise(t)) words.add(w);
  return [...words].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Options of {@link Tokenizer.encode}.
 * @see notebooks/05_clip.ipynb
 */
export interface EncodeOptions {
  /** Start with <bos> (default false). */
  bos?: boolean;
}

/**
 * Word-level tokenizer: words → ids, always ending in <eos>, padded with <pad> to `maxLen`.
 *
 * @example
 * const tok = new Tokenizer(["a", "red", "sneaker"]);
 * tok.encode("a red sneaker", 6);   // Int32Array [4, 5, 6, 2, 0, 0]
 * tok.decode([4, 5, 6, 2, 0, 0]);   // "a red sneaker"
 * @see notebooks/05_clip.ipynb
 */
export class Tokenizer {
  /** All tokens by id: the specials, then the words. */
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;

  /** @param words the vocabulary (distinct normalised words, e.g. from {@link buildVocabulary}) */
  constructor(words: readonly string[]) {
    this.tokens = Object.freeze([...SPECIAL_TOKENS, ...words]);
    this.ids = new Map();
    this.tokens.forEach((t, id) => {
      if (id >= SPECIAL_TOKENS.length) {
        const norm = normalise(t);
        if (norm.length !== 1 || norm[0] !== t) throw new Error(`Tokenizer: vocabulary entry ${JSON.stringify(t)} is not one normalised word`);
      }
      if (this.ids.has(t)) throw new Error(`Tokenizer: vocabulary lists ${JSON.stringify(t)} twice`);
      this.ids.set(t, id);
    });
  }

  /**
   * A tokenizer from a manifest's `vocabulary` (e.g. datasets/captioned-fashion/manifest.json).
   * @see notebooks/05_clip.ipynb
   */
  static fromManifest(manifest: { vocabulary?: unknown }): Tokenizer {
    const v = manifest.vocabulary;
    if (!Array.isArray(v) || !v.every((w) => typeof w === "string")) throw new Error("Tokenizer.fromManifest: the manifest has no `vocabulary` list of strings");
    return new Tokenizer(v as string[]);
  }

  /** Number of tokens, specials included (the embedding table's row count). */
  get size(): number {
    return this.tokens.length;
  }

  /** Id of a word (normalised or not); <unk>'s id if it is not in the vocabulary. */
  idOf(word: string): number {
    return this.ids.get(word) ?? this.ids.get(word.toLowerCase()) ?? UNK_ID;
  }

  /**
   * Encode one text into `maxLen` ids: words, then <eos>, then <pad>s. A text too long keeps
   * its first words and still ends in <eos> (as CLIP truncates to 77 tokens).
   *
   * @example tok.encode("a crimson sneaker", 3)  // [id(a), id(crimson), EOS_ID]
   * @see notebooks/05_clip.ipynb
   */
  encode(text: string, maxLen: number, opts: EncodeOptions = {}): Int32Array {
    const out = new Int32Array(maxLen); // [L], zero = <pad>
    this.encodeInto(text, maxLen, opts, out, 0);
    return out;
  }

  /**
   * Encode texts into one row-major [B·L] buffer (row b = `encode(texts[b], maxLen)`).
   * @see notebooks/05_clip.ipynb
   */
  encodeBatch(texts: readonly string[], maxLen: number, opts: EncodeOptions = {}): Int32Array {
    const out = new Int32Array(texts.length * maxLen); // [B, L]
    texts.forEach((t, b) => this.encodeInto(t, maxLen, opts, out, b * maxLen));
    return out;
  }

  /**
   * Encode texts as an int32 tensor [B, L], ready for an embedding lookup.
   * @example const ids = tok.encodeTensor(ds.captions.slice(0, 8), 12);  // [8, 12] int32
   * @see notebooks/05_clip.ipynb
   */
  encodeTensor(texts: readonly string[], maxLen: number, opts: EncodeOptions = {}): tf.Tensor2D {
    return tf.tensor2d(this.encodeBatch(texts, maxLen, opts), [texts.length, maxLen], "int32"); // [B, L]
  }

  /**
   * Words of `ids` joined by spaces, stopping at the first <eos> and dropping <pad> and <bos>
   * (unknown words come back as "<unk>"); `keepSpecial` shows every token instead.
   * @example tok.decode(tok.encode("A red sneaker!", 8))  // "a red sneaker"
   * @see notebooks/05_clip.ipynb
   */
  decode(ids: ArrayLike<number>, keepSpecial = false): string {
    const words: string[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) throw new Error(`Tokenizer.decode: id ${id} at position ${k} is outside 0…${this.tokens.length - 1}`);
      if (keepSpecial) words.push(this.tokens[id]);
      else if (id === EOS_ID) break;
      else if (id !== PAD_ID && id !== BOS_ID) words.push(this.tokens[id]);
    }
    return words.join(" ");
  }

  private encodeInto(text: string, maxLen: number, opts: EncodeOptions, out: Int32Array, offset: number): void {
    const start = opts.bos ? 1 : 0;
    if (!Number.isInteger(maxLen) || maxLen < start + 1) throw new Error(`Tokenizer.encode: maxLen must be an integer ≥ ${start + 1} (room for${opts.bos ? " <bos> and" : ""} <eos>), got ${maxLen}`);
    if (typeof text !== "string") throw new Error(`Tokenizer.encode: expected a string, got ${typeof text}`);
    const words = normalise(text);
    const n = Math.min(words.length, maxLen - start - 1); // truncate, keeping room for <eos>
    if (opts.bos) out[offset] = BOS_ID;
    for (let k = 0; k < n; k++) out[offset + start + k] = this.ids.get(words[k]) ?? UNK_ID;
    out[offset + start + n] = EOS_ID; // the rest stays <pad> = 0
  }
}

/**
 * Position of the first <eos> in each row of a [B, L] id buffer (where CLIP pools the text
 * transformer's features); −1 for a row without one.
 * @example eosPositions(tok.encodeBatch(["a red top"], 8), 8)  // Int32Array [3]
 * @see notebooks/05_clip.ipynb
 */
export function eosPositions(ids: Int32Array, maxLen: number): Int32Array {
  if (!Number.isInteger(maxLen) || maxLen < 1 || ids.length % maxLen !== 0) throw new Error(`eosPositions: ${ids.length} ids do not form rows of ${maxLen}`);
  const out = new Int32Array(ids.length / maxLen).fill(-1); // [B]
  for (let b = 0; b < out.length; b++) {
    for (let k = 0; k < maxLen; k++) {
      if (ids[b * maxLen + k] === EOS_ID) {
        out[b] = k;
        break;
      }
    }
  }
  return out;
}
