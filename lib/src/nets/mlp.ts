/**
 * An MLP ε-prediction denoiser for low-dimensional (2-D toy) data.
 *
 * Papers: Ho, Jain & Abbeel 2020 (DDPM: predict the noise ε from z_t and t, sinusoidal time
 * embedding); Ho & Salimans 2022 (classifier-free guidance: one network learns both p(x|c) and
 * p(x) by replacing c with a null class ∅ some of the time). SiLU: Elfwing et al. 2018.
 *
 * Architecture: input = [xt, emb(t), table(cond)] → `depth` × (dense → SiLU) of width
 * `hidden` → dense to `dataDim`. Every layer uses the fast-gradient ops of ../ops.
 *
 * Notation:
 * | code      | math                                     | shape               |
 * |-----------|------------------------------------------|---------------------|
 * | xt        | noisy sample z_t                         | [B, dataDim]        |
 * | t         | timestep index t                         | [B]                 |
 * | cond      | class id c; the id numClasses is ∅       | [B] int32           |
 * | epsHat    | ε̂_θ(z_t, t, c)                           | [B, dataDim]        |
 * | classTable| class embedding E (row numClasses = E_∅)  | [numClasses+1, classDim] |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { dense, denseSilu, fastMatMul } from "../ops";
import { timestepEmbedding } from "./timeEmbedding";
import { EpsModel } from "../samplers";

/**
 * Configuration of {@link MlpDenoiser}.
 * @see notebooks/01_score_matching.ipynb
 */
export interface MlpConfig {
  /** Data dimension D (2 for the toy sets). */
  dataDim: number;
  /** Width of each hidden layer. */
  hidden: number;
  /** Number of hidden (dense → SiLU) layers. */
  depth: number;
  /** Width of the sinusoidal time embedding. */
  timeDim: number;
  /** Number of classes K; when set the net takes a class id (id K = ∅, the null class). */
  numClasses?: number;
  /** Width of the class embedding (default 16; only with numClasses). */
  classDim?: number;
  /**
   * Output width (default dataDim, the ε̂ of a denoiser). Set it to K to get a noise-conditional
   * classifier's logits p(y | z_t, t) from the same time-embedded MLP (notebook 02's 2D classifier).
   */
  outDim?: number;
  /**
   * Width of a conditioning vector concatenated to the input (default 0 = none); the zero vector
   * is the null context ∅. The unCLIP prior conditions on the caption's CLIP text embedding this way.
   */
  contextDim?: number;
}

/**
 * The course's default MLP: 3 hidden layers of 256, SiLU, 64-wide time embedding.
 * @see notebooks/01_score_matching.ipynb
 */
export const DEFAULT_MLP_CONFIG: MlpConfig = { dataDim: 2, hidden: 256, depth: 3, timeDim: 64 };

/** A trainable variable initialised from `init`, which is disposed (no stray tensor is left). */
function toVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

/**
 * ε-prediction MLP ε̂_θ(z_t, t[, c]). Weights are initialised from an {@link Rng} like
 * PyTorch's `nn.Linear` (U(±1/√fanIn)) and `nn.Embedding` (N(0, 1)).
 *
 * @example
 * const net = new MlpDenoiser(DEFAULT_MLP_CONFIG, new Rng(0));
 * const epsHat = net.apply(xt, tf.fill([B], 500, "int32") as tf.Tensor1D); // [B, 2]
 * @see notebooks/01_score_matching.ipynb
 */
export class MlpDenoiser {
  readonly config: Readonly<MlpConfig>;
  /** Trainable variables, in a fixed order (pass them to the optimizer). */
  readonly variables: tf.Variable[];
  private readonly named: Record<string, tf.Variable>;

  constructor(config: MlpConfig, rng: Rng) {
    for (const k of ["dataDim", "hidden", "depth", "timeDim"] as const) {
      if (!Number.isInteger(config[k]) || config[k] < 1) throw new Error(`MlpDenoiser: ${k} must be a positive integer`);
    }
    const classDim = config.numClasses !== undefined ? config.classDim ?? 16 : undefined;
    this.config = { ...config, ...(classDim !== undefined ? { classDim } : {}) };
    this.named = {};
    const contextDim = config.contextDim ?? 0;
    if (!Number.isInteger(contextDim) || contextDim < 0) throw new Error("MlpDenoiser: contextDim must be a non-negative integer");
    const inDim = config.dataDim + config.timeDim + (classDim ?? 0) + contextDim;
    const outDim = config.outDim ?? config.dataDim;
    if (!Number.isInteger(outDim) || outDim < 1) throw new Error("MlpDenoiser: outDim must be a positive integer");
    const widths = [inDim, ...Array<number>(config.depth).fill(config.hidden), outDim];
    for (let i = 0; i + 1 < widths.length; i++) {
      const name = i + 2 === widths.length ? "out" : `layer${i}`;
      const bound = 1 / Math.sqrt(widths[i]);
      this.named[`${name}.w`] = toVariable(tf.tensor2d(rng.uniformArray(widths[i] * widths[i + 1], -bound, bound), [widths[i], widths[i + 1]]));
      this.named[`${name}.b`] = toVariable(tf.tensor1d(rng.uniformArray(widths[i + 1], -bound, bound)));
    }
    if (config.numClasses !== undefined) {
      if (!Number.isInteger(config.numClasses) || config.numClasses < 1) throw new Error("MlpDenoiser: numClasses must be a positive integer");
      const rows = config.numClasses + 1;
      this.named.classTable = toVariable(tf.tensor2d(rng.normalArray(rows * classDim!), [rows, classDim!]));
    }
    this.variables = Object.values(this.named);
  }

  /** The null-class id ∅ (= numClasses), or undefined for an unconditional net. */
  get nullCond(): number | undefined {
    return this.config.numClasses;
  }

  /**
   * ε̂_θ(z_t, t, c).
   * @param xt noisy samples [B, dataDim]
   * @param t timesteps [B]
   * @param cond class ids [B] int32 (id numClasses = ∅); omitted → ∅ for every row
   * @param context conditioning vectors [B, contextDim] (contextDim > 0 only); omitted → zeros (∅)
   * @returns epsHat [B, dataDim] (or [B, outDim] when outDim is set)
   */
  apply(xt: tf.Tensor2D, t: tf.Tensor1D, cond?: tf.Tensor1D, context?: tf.Tensor2D): tf.Tensor2D {
    const { dataDim, depth, timeDim, numClasses } = this.config;
    const contextDim = this.config.contextDim ?? 0;
    const B = xt.shape[0];
    if (xt.rank !== 2 || xt.shape[1] !== dataDim) throw new Error(`MlpDenoiser.apply: xt must be [B, ${dataDim}], got [${xt.shape}]`);
    if (t.rank !== 1 || t.shape[0] !== B) throw new Error(`MlpDenoiser.apply: t must be [${B}], got [${t.shape}]`);
    if (cond !== undefined && numClasses === undefined) throw new Error("MlpDenoiser.apply: cond given but the net has no numClasses");
    if (cond !== undefined && (cond.rank !== 1 || cond.shape[0] !== B)) throw new Error(`MlpDenoiser.apply: cond must be [${B}], got [${cond.shape}]`);
    if (context !== undefined && (contextDim === 0 || context.rank !== 2 || context.shape[0] !== B || context.shape[1] !== contextDim)) {
      throw new Error(contextDim === 0 ? "MlpDenoiser.apply: context given but the net has contextDim 0" : `MlpDenoiser.apply: context must be [${B}, ${contextDim}], got [${context.shape}]`);
    }
    const w = this.named;
    return tf.tidy(() => {
      const parts: tf.Tensor2D[] = [xt, timestepEmbedding(t, timeDim)]; // [B, D], [B, timeDim]
      if (numClasses !== undefined) {
        const ids = cond !== undefined ? tf.cast(cond, "int32") : tf.fill([B], numClasses, "int32"); // [B]
        const oneHot = tf.oneHot(ids as tf.Tensor1D, numClasses + 1).toFloat() as tf.Tensor2D; // [B, K+1]
        parts.push(fastMatMul(oneHot, w.classTable as tf.Tensor2D)); // [B, classDim]
      }
      if (contextDim > 0) parts.push(context ?? (tf.zeros([B, contextDim]) as tf.Tensor2D)); // [B, contextDim]
      let h = tf.concat(parts, 1) as tf.Tensor2D; // [B, inDim]
      for (let i = 0; i < depth; i++) {
        h = denseSilu(h, w[`layer${i}.w`] as tf.Tensor2D, w[`layer${i}.b`] as tf.Tensor1D); // [B, hidden]
      }
      return dense(h, w["out.w"] as tf.Tensor2D, w["out.b"] as tf.Tensor1D); // [B, outDim]
    });
  }

  /** The live variables by name (do not dispose them; use for checkpoints). */
  getWeights(): Record<string, tf.Tensor> {
    return { ...this.named };
  }

  /** Copy weights in by name; names and shapes must match exactly. */
  setWeights(weights: Record<string, tf.Tensor>): void {
    const want = Object.keys(this.named).sort();
    const got = Object.keys(weights).sort();
    const missing = want.filter((k) => !(k in weights));
    const extra = got.filter((k) => !(k in this.named));
    if (missing.length || extra.length) {
      throw new Error(`MlpDenoiser.setWeights: missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
    }
    for (const k of want) {
      const v = this.named[k];
      const src = weights[k];
      if (!tf.util.arraysEqual(v.shape, src.shape)) {
        throw new Error(`MlpDenoiser.setWeights: ${k} has shape [${src.shape}], expected [${v.shape}]`);
      }
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
}

/**
 * Anything that predicts ε from (x_t, t[, c]): {@link MlpDenoiser}, the U-Net, …
 * @see notebooks/01_score_matching.ipynb
 */
export interface EpsNet {
  apply(xt: tf.Tensor, t: tf.Tensor1D, cond?: tf.Tensor1D): tf.Tensor;
}

/**
 * Adapt a net to the samplers' `EpsModel` signature `(xt, t) => epsHat`, with t one integer
 * for the whole batch and an optional fixed class (a number for every row, or one id per row).
 * Works for any {@link EpsNet} (the MLP, the U-Net).
 *
 * @example const model = epsModel(net); sample({ model, schedule, ... })
 * @see notebooks/01_score_matching.ipynb
 */
export function epsModel(net: EpsNet, cond?: number | Int32Array): EpsModel {
  return (xt: tf.Tensor, t: number) =>
    tf.tidy(() => {
      const B = xt.shape[0];
      const tt = tf.fill([B], t, "float32") as tf.Tensor1D; // [B]
      let c: tf.Tensor1D | undefined;
      if (typeof cond === "number") c = tf.fill([B], cond, "int32") as tf.Tensor1D; // [B]
      else if (cond !== undefined) {
        if (cond.length !== B) throw new Error(`epsModel: cond has ${cond.length} ids for a batch of ${B}`);
        c = tf.tensor1d(cond, "int32"); // [B]
      }
      return net.apply(xt, tt, c);
    });
}
