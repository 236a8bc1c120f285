/**
 * A small transformer text encoder (`TransformerTextEncoder`): the text tower of the course's
 * tiny CLIP, token ids [B, L] → per-token features [B, L, D] and one pooled feature [B, D].
 *
 * Papers: Vaswani et al. 2017 (the transformer: scaled dot-product multi-head self-attention,
 * positional embeddings, residual MLP blocks); Ba, Kiros & Hinton 2016 (LayerNorm); Radford et
 * al. 2021 (CLIP's text tower, after GPT-2: pre-LayerNorm blocks, a learned positional
 * embedding, a causal mask, and the final LayerNorm's output at the <eos> token as the text
 * feature). The MLP uses SiLU (Elfwing et al. 2018), close to CLIP's QuickGELU x·σ(1.702x), so
 * that it runs as one fused op with a fast gradient (../ops denseSilu).
 *
 * Layout (width D, H heads of d_h = D/H, `layers` blocks):
 *   h⁰ = E[ids] + P[0:L]
 *   h ← h + Attn(LN₁(h));  h ← h + W₂·SiLU(W₁·LN₂(h))      (each block)
 *   tokens = LN_f(h),  pooled_b = tokens[b, eos_b]
 *   Attn(x) = concat_heads(softmax(Q·Kᵀ/√d_h + M)·V)·W_o,  [Q, K, V] = x·W_qkv
 *
 * Masks (M = 0 where attention is allowed, −1e9 where it is not): a key is masked when it is
 * <pad> (id 0) or lies after the row's first <eos> (so ids after <eos> never reach the pooled
 * feature); with `causal` (default, as CLIP), a query also does not see later keys. Features of
 * positions after <eos> are computed but carry no meaning.
 *
 * Fast, correct gradients on wasm and cpu: the embedding lookup is oneHot(ids)·E with the one-hot
 * rows built on the CPU (tf.gather has no gradient on wasm, and wasm's OneHot ignores dtype), every projection is ../ops dense / denseSilu / fastMatMul; the two small
 * batched products Q·Kᵀ and A·V ([B·H, L, L] with L ≈ 10) use stock batched matMul, whose
 * gradients are checked against finite differences on cpu in tests/lib/textEncoder.test.ts.
 *
 * Notation:
 * | code            | math                                         | shape            |
 * |-----------------|----------------------------------------------|------------------|
 * | ids             | token ids (<pad> = 0, <eos> = 2)             | [B, L] int32     |
 * | `tok.emb`       | token embedding E                            | [V, D]           |
 * | `pos.emb`       | positional embedding P                       | [maxLen, D]      |
 * | `layer<l>.ln1/.ln2`, `final.ln` | LayerNorm γ (`.g`), β (`.beta`) | [D]         |
 * | `layer<l>.attn.qkv` | W_qkv, b_qkv                             | [D, 3D], [3D]    |
 * | `layer<l>.attn.out` | W_o, b_o                                 | [D, D], [D]      |
 * | `layer<l>.mlp.0/.1` | W₁ [D, 4D], W₂ [4D, D] and biases        |                  |
 * | bias            | mask M                                       | [B, 1, L, L]     |
 * | tokens          | LN_f(h)                                      | [B, L, D]        |
 * | pooled          | tokens at each row's <eos>                   | [B, D]           |
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { dense, denseSilu, fastMatMul } from "../ops";
import { ParamModule } from "../nets/layers";
import { PAD_ID, eosPositions } from "./tokenizer";

/**
 * Configuration of {@link TransformerTextEncoder}.
 * @see notebooks/05_clip.ipynb
 */
export interface TextEncoderConfig {
  /** Rows V of the token embedding (the tokenizer's `size`, specials included). */
  vocabSize: number;
  /** Longest sequence L the positional embedding covers. */
  maxLen: number;
  /** Width D of the residual stream. */
  width: number;
  /** Attention heads H (must divide D). */
  heads: number;
  /** Number of transformer blocks. */
  layers: number;
  /** Causal self-attention as in CLIP's text tower (default true). */
  causal?: boolean;
  /** Hidden width of the MLP as a multiple of D (default 4). */
  mlpRatio?: number;
}

/**
 * What {@link TransformerTextEncoder.apply} returns (the caller disposes both).
 * @see notebooks/05_clip.ipynb
 */
export interface TextEncoderOutput {
  /** Final-LayerNorm features of every position [B, L, D]. */
  tokens: tf.Tensor3D;
  /** The features at each row's first <eos> [B, D] (CLIP's text feature). */
  pooled: tf.Tensor2D;
}

/** The additive mask M [B, 1, L, L] and the <eos> one-hot [B, L, 1], built on the CPU from the ids. */
function masks(ids: Int32Array, B: number, L: number, causal: boolean): { bias: Float32Array; pick: Float32Array } {
  const eos = eosPositions(ids, L); // [B]
  const bias = new Float32Array(B * L * L); // [B, 1, L, L]
  const pick = new Float32Array(B * L); // [B, L, 1]
  for (let b = 0; b < B; b++) {
    if (eos[b] < 0) throw new Error(`TransformerTextEncoder: row ${b} has no <eos> token (id 2); encode texts with the Tokenizer`);
    pick[b * L + eos[b]] = 1;
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < L; j++) {
        const hidden = j > eos[b] || ids[b * L + j] === PAD_ID || (causal && j > i);
        if (hidden) bias[(b * L + i) * L + j] = -1e9;
      }
    }
  }
  return { bias, pick };
}

/**
 * One-hot rows [B·L, V] built on the CPU. (wasm's OneHot kernel ignores dtype "float32": it
 * writes the int32 bit pattern of 1, i.e. 1.4e-45, into a float tensor; tfjs 4.22.)
 */
function oneHotRows(ids: Int32Array, V: number): Float32Array {
  const out = new Float32Array(ids.length * V); // [B·L, V]
  ids.forEach((id, r) => (out[r * V + id] = 1));
  return out;
}

/**
 * A pre-LayerNorm transformer over token ids (CLIP's text tower, small): token + learned
 * positional embedding, `layers` blocks of masked multi-head self-attention and a SiLU MLP,
 * a final LayerNorm; the pooled feature is the one at each row's <eos>.
 *
 * @example
 * const tok = captionTokenizer();
 * const enc = new TransformerTextEncoder({ vocabSize: tok.size, maxLen: 16, width: 64, heads: 4, layers: 2 }, new Rng(0));
 * const ids = tok.encodeTensor(["a red sneaker"], captionMaxTokens()); // [1, L] int32
 * const { tokens, pooled } = enc.apply(ids);                          // [1, L, 64], [1, 64]
 * @see notebooks/05_clip.ipynb
 */
export class TransformerTextEncoder extends ParamModule {
  readonly config: Readonly<Required<TextEncoderConfig>>;

  constructor(config: TextEncoderConfig, rng: Rng) {
    super("TransformerTextEncoder");
    const { vocabSize: V, maxLen, width: D, heads, layers } = config;
    const mlpRatio = config.mlpRatio ?? 4;
    const positive = (v: number) => Number.isInteger(v) && v >= 1;
    if (![V, maxLen, D, heads, mlpRatio].every(positive) || !Number.isInteger(layers) || layers < 0) {
      throw new Error(`TransformerTextEncoder: vocabSize, maxLen, width, heads, mlpRatio must be positive integers and layers ≥ 0, got ${JSON.stringify(config)}`);
    }
    if (V <= PAD_ID + 2) throw new Error(`TransformerTextEncoder: vocabSize ${V} leaves no room for <pad>, <unk>, <eos>`);
    if (D % heads !== 0) throw new Error(`TransformerTextEncoder: heads (${heads}) must divide width (${D})`);
    this.config = { ...config, causal: config.causal ?? true, mlpRatio };

    // CLIP's initialisation of the embeddings: N(0, 0.02²) for tokens, N(0, 0.01²) for positions.
    this.addParam("tok.emb", tf.tensor2d(rng.normalArray(V * D).map((v) => 0.02 * v), [V, D]));
    this.addParam("pos.emb", tf.tensor2d(rng.normalArray(maxLen * D).map((v) => 0.01 * v), [maxLen, D]));
    for (let l = 0; l < layers; l++) {
      this.addNorm(`layer${l}.ln1`, D);
      this.addDense(`layer${l}.attn.qkv`, D, 3 * D, rng);
      this.addDense(`layer${l}.attn.out`, D, D, rng);
      this.addNorm(`layer${l}.ln2`, D);
      this.addDense(`layer${l}.mlp.0`, D, mlpRatio * D, rng);
      this.addDense(`layer${l}.mlp.1`, mlpRatio * D, D, rng);
    }
    this.addNorm("final.ln", D);
  }

  /**
   * Encode token ids.
   * @param ids [B, L] int32 with L ≤ maxLen, each row holding an <eos> (as Tokenizer.encode makes)
   * @returns tokens [B, L, D] and pooled [B, D] (the caller disposes both)
   */
  apply(ids: tf.Tensor2D): TextEncoderOutput {
    const { vocabSize: V, maxLen, width: D, layers, causal } = this.config;
    if (ids.rank !== 2 || ids.dtype !== "int32") throw new Error(`TransformerTextEncoder: ids must be int32 [B, L], got ${ids.dtype} [${ids.shape}]`);
    const [B, L] = ids.shape;
    if (L < 1 || L > maxLen) throw new Error(`TransformerTextEncoder: sequence length ${L} must be in 1…${maxLen} (maxLen)`);
    const data = ids.dataSync() as Int32Array; // [B·L]
    const bad = data.findIndex((id) => id < 0 || id >= V);
    if (bad >= 0) throw new Error(`TransformerTextEncoder: id ${data[bad]} at row ${Math.floor(bad / L)}, position ${bad % L} is outside 0…${V - 1}`);
    const { bias, pick } = masks(data, B, L, causal);
    return tf.tidy(() => {
      const biasT = tf.tensor4d(bias, [B, 1, L, L]); // [B, 1, L, L]
      const oneHot = tf.tensor2d(oneHotRows(data, V), [B * L, V]); // [B·L, V]
      const emb = tf.reshape(fastMatMul(oneHot, this.p("tok.emb")), [B, L, D]); // [B, L, D] E[ids]
      const pos = tf.slice(this.p<tf.Tensor2D>("pos.emb"), [0, 0], [L, D]); // [L, D]
      let h = tf.reshape(tf.add(emb, pos), [B * L, D]) as tf.Tensor2D; // [B·L, D]
      for (let l = 0; l < layers; l++) {
        h = tf.add(h, this.attention(`layer${l}`, this.layerNorm(`layer${l}.ln1`, h), B, L, biasT)); // [B·L, D]
        const hidden = denseSilu(this.layerNorm(`layer${l}.ln2`, h), this.p(`layer${l}.mlp.0.w`), this.p(`layer${l}.mlp.0.b`)); // [B·L, 4D]
        h = tf.add(h, dense(hidden, this.p(`layer${l}.mlp.1.w`), this.p(`layer${l}.mlp.1.b`))); // [B·L, D]
      }
      const tokens = tf.reshape(this.layerNorm("final.ln", h), [B, L, D]) as tf.Tensor3D; // [B, L, D]
      const pooled = tf.sum(tf.mul(tokens, tf.tensor3d(pick, [B, L, 1])), 1) as tf.Tensor2D; // [B, D]
      return { tokens, pooled };
    });
  }

  /** LayerNorm over the last axis: γ·(x − μ)/√(σ² + ε) + β, ε = 1e-5. Call inside tf.tidy. */
  private layerNorm(name: string, x: tf.Tensor2D): tf.Tensor2D {
    const xc = tf.sub(x, tf.mean(x, 1, true)); // [N, D] x − μ
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), 1, true), 1e-5)); // [N, 1]
    return tf.add(tf.mul(tf.mul(xc, rstd), this.p(`${name}.g`)), this.p(`${name}.beta`)) as tf.Tensor2D; // [N, D]
  }

  /** Masked multi-head self-attention of block `name` on x [B·L, D] → [B·L, D]. Call inside tf.tidy. */
  private attention(name: string, x: tf.Tensor2D, B: number, L: number, bias: tf.Tensor4D): tf.Tensor2D {
    const { width: D, heads: H } = this.config;
    const dh = D / H;
    const qkv = dense(x, this.p(`${name}.attn.qkv.w`), this.p(`${name}.attn.qkv.b`)); // [B·L, 3D]
    const heads = tf.transpose(tf.reshape(qkv, [B, L, 3 * H, dh]), [2, 0, 1, 3]); // [3H, B, L, dh]
    const [q, k, v] = tf.split(heads, 3, 0).map((t) => tf.reshape(t, [H * B, L, dh]) as tf.Tensor3D); // 3 × [H·B, L, dh]
    const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(dh)), k, false, true); // [H·B, L, L] Q·Kᵀ/√d_h
    const att = tf.softmax(tf.add(tf.reshape(scores, [H, B, L, L]), tf.reshape(bias, [1, B, L, L]))); // [H, B, L, L]
    const o = tf.matMul(tf.reshape(att, [H * B, L, L]) as tf.Tensor3D, v); // [H·B, L, dh]
    const merged = tf.reshape(tf.transpose(tf.reshape(o, [H, B * L, dh]), [1, 0, 2]), [B * L, D]) as tf.Tensor2D; // [B·L, D] heads concatenated
    return dense(merged, this.p(`${name}.attn.out.w`), this.p(`${name}.attn.out.b`)); // [B·L, D]
  }
}
