/**
 * Building blocks of the image networks (U-Net, classifiers): a variable store with
 * checkpoint-friendly weights, seeded initialisers, the residual block, and the
 * time-embedding MLP. All tensor work goes through the fast-gradient ops of ../ops.
 *
 * Papers: He et al. 2016 (residual blocks); Wu & He 2018 (GroupNorm); Ho, Jain & Abbeel 2020
 * (a sinusoidal time embedding through an MLP, added inside every block); Dhariwal & Nichol
 * 2021 (the block layout GN → SiLU → conv → +emb → GN → SiLU → conv, with the last conv of each
 * block zero-initialised so that every block starts as the identity).
 *
 * Notation:
 * | code        | math                                          | shape          |
 * |-------------|-----------------------------------------------|----------------|
 * | x, h        | feature map                                   | [B, H, W, C]   |
 * | emb         | conditioning embedding e(t[, c])              | [B, E]         |
 * | e           | a block's projection of SiLU(emb), a bias per (example, channel) | [B, C] |
 * | `<n>.w/.b`  | conv filter W [k, k, ci, co] / bias [co]; dense W [I, O] / bias [O] |  |
 * | `<n>.g/.beta` | GroupNorm scale γ / shift β                 | [C]            |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { conv2d, dense, denseSilu, groupNormSilu } from "../ops";
import { timestepEmbedding } from "./timeEmbedding";

/**
 * Named trainable variables with the course's checkpoint API (`variables`, `getWeights`,
 * `setWeights`, `numParams`, `dispose`), plus seeded initialisers. Networks extend it.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
export class ParamModule {
  /** Trainable variables in creation order (pass them to the optimizer). */
  readonly variables: tf.Variable[] = [];
  protected readonly named: Record<string, tf.Variable> = {};
  /** Blocks that receive an embedding bias, in the column order of `emb.proj`. */
  private readonly embBlocks: Array<{ name: string; co: number }> = [];

  constructor(private readonly label: string) {}

  /** Register `init` as the variable `name` (init is disposed). */
  protected addParam(name: string, init: tf.Tensor): tf.Variable {
    if (name in this.named) throw new Error(`${this.label}: duplicate parameter ${name}`);
    const v = tf.variable(init);
    init.dispose();
    this.named[name] = v;
    this.variables.push(v);
    return v;
  }

  /** A k×k conv `name.w` [k, k, ci, co], `name.b` [co]: U(±1/√(k²·ci)) like PyTorch, or zeros. */
  protected addConv(name: string, k: number, ci: number, co: number, rng: Rng, zero = false): void {
    const bound = zero ? 0 : 1 / Math.sqrt(k * k * ci);
    this.addParam(`${name}.w`, tf.tensor4d(rng.uniformArray(k * k * ci * co, -bound, bound), [k, k, ci, co]));
    this.addParam(`${name}.b`, tf.tensor1d(rng.uniformArray(co, -bound, bound)));
  }

  /** A dense layer `name.w` [I, O], `name.b` [O]: U(±1/√I), or zeros. */
  protected addDense(name: string, fanIn: number, fanOut: number, rng: Rng, zero = false): void {
    const bound = zero ? 0 : 1 / Math.sqrt(fanIn);
    this.addParam(`${name}.w`, tf.tensor2d(rng.uniformArray(fanIn * fanOut, -bound, bound), [fanIn, fanOut]));
    this.addParam(`${name}.b`, tf.tensor1d(rng.uniformArray(fanOut, -bound, bound)));
  }

  /** GroupNorm parameters `name.g` = 1, `name.beta` = 0, both [C]. */
  protected addNorm(name: string, channels: number): void {
    this.addParam(`${name}.g`, tf.ones([channels]));
    this.addParam(`${name}.beta`, tf.zeros([channels]));
  }

  /**
   * Residual block `name` from ci to co channels: norm1, conv1 (3×3), [+ its slice of the
   * embedding projection if `conditioned`], norm2, conv2 (3×3, zero-initialised), and a 1×1
   * skip conv if ci ≠ co.
   */
  protected addResBlock(name: string, ci: number, co: number, rng: Rng, conditioned: boolean): void {
    if (conditioned) this.embBlocks.push({ name, co });
    this.addNorm(`${name}.norm1`, ci);
    this.addConv(`${name}.conv1`, 3, ci, co, rng);
    this.addNorm(`${name}.norm2`, co);
    this.addConv(`${name}.conv2`, 3, co, co, rng, true);
    if (ci !== co) this.addConv(`${name}.skip`, 1, ci, co, rng);
  }

  /** The time-embedding MLP `<prefix>.0` [timeDim → E] → SiLU → `<prefix>.1` [E → E] (prefix "time"). */
  protected addTimeMlp(timeDim: number, embDim: number, rng: Rng, prefix = "time"): void {
    this.addDense(`${prefix}.0`, timeDim, embDim, rng);
    this.addDense(`${prefix}.1`, embDim, embDim, rng);
  }

  /** One dense `emb.proj` [E → Σ co] serving every conditioned block (call after adding them). */
  protected addEmbProjection(embDim: number, rng: Rng): void {
    this.addDense("emb.proj", embDim, this.embBlocks.reduce((n, b) => n + b.co, 0), rng);
  }

  /** A variable by name (throws for an unknown name). */
  protected p<T extends tf.Tensor>(name: string): T {
    const v = this.named[name];
    if (v === undefined) throw new Error(`${this.label}: no parameter ${name}`);
    return v as unknown as T;
  }

  /** The live variables by name (do not dispose them; use for checkpoints). */
  getWeights(): Record<string, tf.Tensor> {
    return { ...this.named };
  }

  /** Copy weights in by name; names and shapes must match exactly. */
  setWeights(weights: Record<string, tf.Tensor>): void {
    const missing = Object.keys(this.named).filter((k) => !(k in weights));
    const extra = Object.keys(weights).filter((k) => !(k in this.named));
    if (missing.length || extra.length) {
      throw new Error(`${this.label}.setWeights: missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
    }
    for (const [k, v] of Object.entries(this.named)) {
      const src = weights[k];
      if (!tf.util.arraysEqual(v.shape, src.shape)) throw new Error(`${this.label}.setWeights: ${k} has shape [${src.shape}], expected [${v.shape}]`);
      v.assign(src.dtype === "float32" ? src : tf.tidy(() => tf.cast(src, "float32")));
    }
  }

  /** Total number of trainable parameters. */
  numParams(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  /** Free the variables. */
  dispose(): void {
    for (const v of this.variables) v.dispose();
  }

  /** emb = time.1(SiLU(time.0(sinusoid(t)))): [B] → [B, E] (or the MLP `prefix`). Call inside tf.tidy. */
  protected timeMlp(t: tf.Tensor1D, timeDim: number, prefix = "time"): tf.Tensor2D {
    const h = denseSilu(timestepEmbedding(t, timeDim), this.p(`${prefix}.0.w`), this.p(`${prefix}.0.b`)); // [B, E]
    return dense(h, this.p(`${prefix}.1.w`), this.p(`${prefix}.1.b`)); // [B, E]
  }

  /**
   * Each conditioned block's bias e = its columns of `emb.proj`(SiLU(emb)): one matMul for all
   * blocks. Call inside tf.tidy.
   */
  protected blockEmbeddings(emb: tf.Tensor2D): Record<string, tf.Tensor2D> {
    const proj = dense(silu(emb) as tf.Tensor2D, this.p("emb.proj.w"), this.p("emb.proj.b")); // [B, Σ co]
    const parts = splitColumns(proj, this.embBlocks.map((b) => b.co)); // [B, co] per block
    const out: Record<string, tf.Tensor2D> = {};
    this.embBlocks.forEach((b, i) => (out[b.name] = parts[i]));
    return out;
  }

  /** The conv `name` (k×k as stored; stride 1 or 2). Call inside tf.tidy. */
  protected conv(name: string, x: tf.Tensor4D, stride: 1 | 2 = 1): tf.Tensor4D {
    return conv2d(x, this.p<tf.Tensor4D>(`${name}.w`), this.p<tf.Tensor1D>(`${name}.b`), { stride }); // [B, H/s, W/s, co]
  }

  /** GroupNorm + SiLU with the parameters `name.g`, `name.beta`. Call inside tf.tidy. */
  protected normAct(name: string, x: tf.Tensor4D, groups: number): tf.Tensor4D {
    return groupNormSilu(x, this.p(`${name}.g`), this.p(`${name}.beta`), groups); // [B, H, W, C]
  }

  /**
   * Residual block: x + conv2(SiLU(GN(conv1(SiLU(GN(x))) + e))), with a 1×1 conv on the skip
   * path when the channel count changes. Call inside tf.tidy.
   *
   * @param x [B, H, W, ci]
   * @param e per-(example, channel) bias from the embedding [B, co], or undefined
   * @returns [B, H, W, co]
   */
  protected resBlock(name: string, x: tf.Tensor4D, e: tf.Tensor2D | undefined, groups: number): tf.Tensor4D {
    let h = this.conv(`${name}.conv1`, this.normAct(`${name}.norm1`, x, groups)); // [B, H, W, co]
    const co = h.shape[3];
    if (e !== undefined) h = tf.add(h, tf.reshape(e, [-1, 1, 1, co])); // [B, H, W, co]
    h = this.conv(`${name}.conv2`, this.normAct(`${name}.norm2`, h, groups)); // [B, H, W, co]
    const skip = `${name}.skip.w` in this.named ? this.conv(`${name}.skip`, x) : x; // [B, H, W, co]
    return tf.add(skip, h); // [B, H, W, co]
  }
}

/** Split the columns of a [B, ΣC] tensor into blocks of the given widths. */
function splitColumns(x: tf.Tensor2D, widths: number[]): tf.Tensor2D[] {
  const total = widths.reduce((a, b) => a + b, 0);
  if (x.shape[1] !== total) throw new Error(`splitColumns: ${x.shape[1]} columns, widths sum to ${total}`);
  return tf.split(x, widths, 1) as tf.Tensor2D[];
}

/** SiLU(x) = x·σ(x) with stock ops (for small tensors such as embeddings). */
function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}
