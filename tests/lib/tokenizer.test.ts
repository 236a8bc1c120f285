/**
 * lib/src/text/tokenizer.ts: normalisation, the sorted vocabulary, encode/decode with padding,
 * truncation, unknown and hyphenated words, batches and tensors (no leaks).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/src/backend";
import {
  BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, Tokenizer, UNK_ID, buildVocabulary, eosPositions, normalise,
} from "../../lib/src/text/tokenizer";

// ids: <pad> 0, <unk> 1, <eos> 2, <bos> 3, then a 4, red 5, shirt 6, sneaker 7, t-shirt 8
const WORDS = ["a", "red", "shirt", "sneaker", "t-shirt"];
const tok = new Tokenizer(WORDS);

beforeAll(async () => {
  await initBackend();
});

describe("normalise", () => {
  test("lower-cases and splits on non-letters, keeping hyphens inside words", () => {
    expect(normalise("A T-Shirt, in RED!")).toEqual(["a", "t-shirt", "in", "red"]);
    expect(normalise("flip-flop  button-up\tshirt\n")).toEqual(["flip-flop", "button-up", "shirt"]);
    expect(normalise("-edge- t--shirt a-b-c")).toEqual(["edge", "t", "shirt", "a-b-c"]);
    expect(normalise("abc123def 42 x_y")).toEqual(["abc", "def", "x", "y"]);
    expect(normalise("Crème Brûlée")).toEqual(["crème", "brûlée"]);
    expect(normalise("")).toEqual([]);
    expect(normalise("?!-- 12")).toEqual([]);
  });
});

describe("buildVocabulary", () => {
  test("distinct words, sorted by code unit, independent of text order", () => {
    const texts = ["a Red T-shirt", "a red sneaker", "Shirt, red"];
    expect(buildVocabulary(texts)).toEqual(WORDS);
    expect(buildVocabulary([...texts].reverse())).toEqual(WORDS);
    expect(buildVocabulary(["b", "B", "a-b", "ab", "a"])).toEqual(["a", "a-b", "ab", "b"]);
    expect(buildVocabulary([])).toEqual([]);
  });
});

describe("Tokenizer", () => {
  test("specials come first; words follow in vocabulary order", () => {
    expect(SPECIAL_TOKENS).toEqual(["<pad>", "<unk>", "<eos>", "<bos>"]);
    expect([PAD_ID, UNK_ID, EOS_ID, BOS_ID]).toEqual([0, 1, 2, 3]);
    expect(tok.size).toBe(9);
    expect(tok.tokens.slice(4)).toEqual(WORDS);
    expect([tok.idOf("a"), tok.idOf("RED"), tok.idOf("t-shirt"), tok.idOf("blue")]).toEqual([4, 5, 8, UNK_ID]);
  });

  test("encode: words, <eos>, then <pad> up to maxLen", () => {
    expect(Array.from(tok.encode("a red sneaker", 6))).toEqual([4, 5, 7, 2, 0, 0]);
    expect(Array.from(tok.encode("A RED, sneaker!", 4))).toEqual([4, 5, 7, 2]);
    expect(Array.from(tok.encode("", 3))).toEqual([2, 0, 0]);
    expect(Array.from(tok.encode("a red sneaker", 6, { bos: true }))).toEqual([3, 4, 5, 7, 2, 0]);
    expect(tok.encode("a", 5)).toBeInstanceOf(Int32Array);
  });

  test("truncation keeps the first words and still ends in <eos>", () => {
    expect(Array.from(tok.encode("a red sneaker a red shirt", 4))).toEqual([4, 5, 7, 2]);
    expect(Array.from(tok.encode("a red sneaker", 1))).toEqual([2]);
    expect(Array.from(tok.encode("a red sneaker", 3, { bos: true }))).toEqual([3, 4, 2]);
    expect(() => tok.encode("a", 0)).toThrow(/maxLen must be an integer ≥ 1/);
    expect(() => tok.encode("a", 1, { bos: true })).toThrow(/maxLen must be an integer ≥ 2 \(room for <bos> and <eos>\)/);
    expect(() => tok.encode("a", 2.5)).toThrow(/maxLen/);
  });

  test("unknown words become <unk>; hyphenated words are one token, distinct from their parts", () => {
    expect(Array.from(tok.encode("a blue jumper", 5))).toEqual([4, 1, 1, 2, 0]);
    expect(Array.from(tok.encode("t-shirt shirt t shirt", 6))).toEqual([8, 6, 1, 6, 2, 0]);
    expect(Array.from(tok.encode("red-shirt", 3))).toEqual([1, 2, 0]); // not in the vocabulary as one word
    expect(tok.decode(tok.encode("a blue t-shirt", 6))).toBe("a <unk> t-shirt");
  });

  test("decode inverts encode on normalised text; keepSpecial shows every token", () => {
    for (const text of ["a red sneaker", "T-Shirt, red!", "a", ""]) {
      expect(tok.decode(tok.encode(text, 8))).toBe(normalise(text).join(" "));
      expect(tok.decode(tok.encode(text, 8, { bos: true }))).toBe(normalise(text).join(" "));
    }
    expect(tok.decode([4, 5, 2, 0], true)).toBe("a red <eos> <pad>");
    expect(tok.decode([4, 2, 6, 7])).toBe("a"); // stops at <eos>
    expect(tok.decode(new Int32Array([4, 0, 5]))).toBe("a red"); // <pad> dropped
    expect(() => tok.decode([4, 9])).toThrow(/id 9 at position 1 is outside 0…8/);
    expect(() => tok.decode([-1])).toThrow(/outside/);
  });

  test("encodeBatch is the rows of encode, row-major [B, L]", () => {
    const texts = ["a red sneaker", "shirt", "a red red red red shirt"];
    const ids = tok.encodeBatch(texts, 4);
    expect(ids.length).toBe(12);
    expect(Array.from(ids)).toEqual([4, 5, 7, 2, 6, 2, 0, 0, 4, 5, 5, 2]);
    texts.forEach((t, b) => expect(ids.subarray(4 * b, 4 * b + 4)).toEqual(tok.encode(t, 4)));
    expect(Array.from(eosPositions(ids, 4))).toEqual([3, 1, 3]);
    expect(Array.from(eosPositions(Int32Array.from([4, 5, 0]), 3))).toEqual([-1]);
    expect(() => eosPositions(ids, 5)).toThrow(/12 ids do not form rows of 5/);
    expect(tok.encodeBatch([], 4).length).toBe(0);
  });

  test("encodeTensor: int32 [B, L] holding the batch ids, no tensors leaked", () => {
    const before = tf.memory().numTensors;
    const t = tok.encodeTensor(["a red sneaker", "t-shirt"], 5);
    expect(t.shape).toEqual([2, 5]);
    expect(t.dtype).toBe("int32");
    expect(Array.from(t.dataSync())).toEqual([4, 5, 7, 2, 0, 8, 2, 0, 0, 0]);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test("refuses a bad vocabulary; fromManifest reads `vocabulary`", () => {
    expect(() => new Tokenizer(["a", "a"])).toThrow(/lists "a" twice/);
    expect(() => new Tokenizer(["red shirt"])).toThrow(/"red shirt" is not one normalised word/);
    expect(() => new Tokenizer(["Red"])).toThrow(/not one normalised word/);
    expect(() => new Tokenizer(["<pad>"])).toThrow(/not one normalised word/);
    expect(Tokenizer.fromManifest({ vocabulary: WORDS }).tokens).toEqual(tok.tokens);
    expect(() => Tokenizer.fromManifest({})).toThrow(/no `vocabulary` list of strings/);
    expect(() => Tokenizer.fromManifest({ vocabulary: ["a", 3] })).toThrow(/no `vocabulary`/);
  });
});
