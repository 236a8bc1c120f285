/**
 * A small U-Net ε-prediction denoiser for 16×16 images, time- and class-conditional.
 *
 * Papers: Ronneberger, Fischer & Brox 2015 (the U-Net: an encoder, a decoder, and skip
 * connections concatenated across each resolution); Ho, Jain & Abbeel 2020 (DDPM: predict ε
 * from z_t and t; a sinusoidal time embedding fed to every residual block); Dhariwal & Nichol
 * 2021 (the residual block with GroupNorm, the embedding MLP, a class embedding added to the
 * time embedding, zero-initialised last convs); Ho & Salimans 2022 (the null class ∅ for
 * classifier-free guidance); Saharia et al. 2021 (SR3: the upsampled low-resolution image is
 * concatenated to z_t as extra input channels); Ho, Saharia et al. 2021 (Cascaded Diffusion
 * Models: the conditioning-augmentation level is embedded like t and added to the embedding);
 * Nichol et al. 2022 and Ramesh et al. 2022 (GLIDE and the unCLIP decoder: a text or CLIP
 * embedding projected and added to the timestep embedding).
 *
 * Layout for channels [c0, c1, c2] (one residual block per level and direction):
 *   in conv 3×3 → c0 │ down0: RB(c0→c0) @16 ─────────────────────────────┐ skip0
 *                    │ conv s2 → 8×8, down1: RB(c0→c1) ─────────────────┐ │ skip1
 *                    │ conv s2 → 4×4, down2: RB(c1→c2) ───────────────┐ │ │ skip2
 *   mid: RB(c2→c2) @4 → [·, skip2] up2: RB(2c2→c2) → ×2 → [·, skip1] up1: RB(c2+c1→c1)
 *   → ×2 → [·, skip0] up0: RB(c1+c0→c0) → GN, SiLU, out conv 3×3 (zero-initialised) → ε̂.
 *
 * Notation:
 * | code        | math                                            | shape              |
 * |-------------|-------------------------------------------------|--------------------|
 * | xt          | noisy image z_t                                 | [B, S, S, inCh]    |
 * | t           | timestep index t                                | [B] (or one number)|
 * | cond        | class id c; id numClasses is ∅                  | [B] int32          |
 * | image       | SR3's conditioning image: the upsampled low-res x | [B, S, S, condChannels] |
 * | aug         | conditioning-augmentation level a ∈ [0, 1] (CDM) | [B] (or one number)|
 * | context     | a conditioning vector, e.g. CLIP embeddings (0 = ∅) | [B, contextDim]  |
 * | emb         | e(t) + E[c] (+ e_aug(a)), the conditioning embedding | [B, embDim]   |
 * | classTable  | E, the class embedding; row numClasses = E_∅     | [K+1, embDim]      |
 * | epsHat      | ε̂_θ(z_t, t, c)                                  | [B, S, S, inCh]    |
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { dense, fastMatMul, upsampleNearest2x } from "../ops";
import { ParamModule } from "./layers";

/**
 * Configuration of {@link UNet}.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export interface UNetConfig {
  /** Image side S (divisible by 2^(levels − 1)). */
  imageSize: number;
  /** Image channels (1 for grayscale). */
  inChannels: number;
  /** Channels per resolution level, e.g. [32, 64, 64] for 16×16 → 8×8 → 4×4. */
  channels: number[];
  /** GroupNorm groups (must divide every channel count; default 8). */
  groups?: number;
  /** Width of the sinusoidal time embedding (default channels[0]). */
  timeDim?: number;
  /** Width of the conditioning embedding (default 4·channels[0], as in guided-diffusion). */
  embDim?: number;
  /** Number of classes K; when set the net takes a class id (id K = ∅, the null class). */
  numClasses?: number;
  /** Channels of a conditioning image concatenated to z_t (SR3; default 0 = none). */
  condChannels?: number;
  /** Whether the net takes a conditioning-augmentation level a ∈ [0, 1] (CDM; default false). */
  augConditioned?: boolean;
  /**
   * Width of a conditioning vector (e.g. a CLIP text or image embedding) projected into the
   * embedding, as GLIDE and the unCLIP decoder do; the zero vector is the null context ∅
   * (default 0 = none).
   */
  contextDim?: number;
}

/**
 * Extra conditioning of a super-resolution U-Net: the conditioning image (SR3) and the
 * conditioning-augmentation level (CDM).
 * @see notebooks/04_super_resolution.ipynb
 */
export interface ImageConditioning {
  /** The upsampled low-resolution image [B, S, S, condChannels]. */
  image?: tf.Tensor4D;
  /** Augmentation level a ∈ [0, 1], [B] or one number (default 0: no augmentation). */
  aug?: tf.Tensor1D | number;
  /** Conditioning vectors [B, contextDim] (default zeros: the null context ∅). */
  context?: tf.Tensor2D;
}

/** The aug level enters the sinusoidal embedding as a·AUG_EMBED_SCALE, like a timestep in 0…T. */
const AUG_EMBED_SCALE = 1000;

/**
 * The course's U-Net for 16×16 Fashion-MNIST: channels 32-64-64, 10 classes plus ∅.
 * @see notebooks/02_classifier_guidance.ipynb
 */
export const DEFAULT_UNET_CONFIG: UNetConfig = { imageSize: 16, inChannels: 1, channels: [32, 64, 64], numClasses: 10 };

/** Resolved configuration (every optional field filled in). */
type Resolved = Required<Omit<UNetConfig, "numClasses">> & Pick<UNetConfig, "numClasses">;

/**
 * ε-prediction U-Net ε̂_θ(z_t, t[, c]). Weights come from an {@link Rng} (PyTorch-style
 * U(±1/√fanIn) for convs and dense layers, N(0, 1) for the class table, zeros for the last conv
 * of each block and the output conv), so a seed fixes the net.
 *
 * @example
 * const net = new UNet(DEFAULT_UNET_CONFIG, new Rng(0));
 * const epsHat = net.apply(xt, t, cond); // [B, 16, 16, 1]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export class UNet extends ParamModule {
  readonly config: Readonly<Resolved>;

  constructor(config: UNetConfig, rng: Rng) {
    super("UNet");
    const c = config.channels;
    const levels = c.length;
    const groups = config.groups ?? 8;
    if (levels < 1 || c.some((v) => !Number.isInteger(v) || v < 1 || v % groups !== 0)) {
      throw new Error(`UNet: channels must be positive multiples of groups (${groups}), got [${c}]`);
    }
    if (!Number.isInteger(config.imageSize) || config.imageSize % 2 ** (levels - 1) !== 0) {
      throw new Error(`UNet: imageSize ${config.imageSize} must be divisible by 2^${levels - 1}`);
    }
    if (!Number.isInteger(config.inChannels) || config.inChannels < 1) throw new Error("UNet: inChannels must be a positive integer");
    const K = config.numClasses;
    if (K !== undefined && (!Number.isInteger(K) || K < 1)) throw new Error("UNet: numClasses must be a positive integer");
    const condChannels = config.condChannels ?? 0;
    if (!Number.isInteger(condChannels) || condChannels < 0) throw new Error("UNet: condChannels must be a non-negative integer");
    const timeDim = config.timeDim ?? c[0];
    const embDim = config.embDim ?? 4 * c[0];
    const contextDim = config.contextDim ?? 0;
    if (!Number.isInteger(contextDim) || contextDim < 0) throw new Error("UNet: contextDim must be a non-negative integer");
    this.config = { ...config, groups, timeDim, embDim, condChannels, augConditioned: config.augConditioned ?? false, contextDim };

    this.addTimeMlp(timeDim, embDim, rng);
    if (K !== undefined) this.addParam("classTable", tf.tensor2d(rng.normalArray((K + 1) * embDim), [K + 1, embDim]));
    if (this.config.augConditioned) this.addTimeMlp(timeDim, embDim, rng, "aug");
    if (contextDim > 0) this.addDense("context.proj", contextDim, embDim, rng);
    this.addConv("in", 3, config.inChannels + condChannels, c[0], rng);
    const block = (name: string, ci: number, co: number) => this.addResBlock(name, ci, co, rng, true);
    for (let l = 0; l < levels; l++) {
      block(`down${l}`, l === 0 ? c[0] : c[l - 1], c[l]);
      if (l + 1 < levels) this.addConv(`down${l}.resample`, 3, c[l], c[l], rng);
    }
    block("mid", c[levels - 1], c[levels - 1]);
    for (let l = levels - 1; l >= 0; l--) block(`up${l}`, (l === levels - 1 ? c[l] : c[l + 1]) + c[l], c[l]);
    this.addEmbProjection(embDim, rng);
    this.addNorm("out.norm", c[0]);
    this.addConv("out", 3, c[0], config.inChannels, rng, true);
  }

  /** The null-class id ∅ (= numClasses), or undefined for an unconditional net. */
  get nullCond(): number | undefined {
    return this.config.numClasses;
  }

  /**
   * ε̂_θ(z_t, t, c).
   * @param xt noisy images [B, S, S, inChannels]
   * @param t timesteps [B], or one timestep for the whole batch
   * @param cond class ids [B] int32 (id numClasses = ∅); omitted → ∅ for every row
   * @param extra the conditioning image (required when condChannels > 0) and the augmentation level
   * @returns epsHat [B, S, S, inChannels]
   */
  apply(xt: tf.Tensor4D, t: tf.Tensor1D | number, cond?: tf.Tensor1D, extra: ImageConditioning = {}): tf.Tensor4D {
    const { imageSize: S, inChannels, channels: c, groups, timeDim, numClasses, condChannels, augConditioned, contextDim } = this.config;
    const B = xt.shape[0];
    if (xt.rank !== 4 || xt.shape[1] !== S || xt.shape[2] !== S || xt.shape[3] !== inChannels) {
      throw new Error(`UNet.apply: xt must be [B, ${S}, ${S}, ${inChannels}], got [${xt.shape}]`);
    }
    if (typeof t !== "number" && (t.rank !== 1 || t.shape[0] !== B)) throw new Error(`UNet.apply: t must be [${B}], got [${t.shape}]`);
    if (cond !== undefined && numClasses === undefined) throw new Error("UNet.apply: cond given but the net has no numClasses");
    if (cond !== undefined && (cond.rank !== 1 || cond.shape[0] !== B)) throw new Error(`UNet.apply: cond must be [${B}], got [${cond.shape}]`);
    const { image, aug, context } = extra;
    if (context !== undefined && (contextDim === 0 || context.rank !== 2 || context.shape[0] !== B || context.shape[1] !== contextDim)) {
      throw new Error(contextDim === 0 ? "UNet.apply: a context was given but the net has contextDim 0" : `UNet.apply: context must be [${B}, ${contextDim}], got [${context.shape}]`);
    }
    if (condChannels > 0 && image === undefined) throw new Error(`UNet.apply: this net needs a conditioning image [B, ${S}, ${S}, ${condChannels}]`);
    if (condChannels === 0 && image !== undefined) throw new Error("UNet.apply: a conditioning image was given but the net has condChannels 0");
    if (image !== undefined && (image.rank !== 4 || image.shape[0] !== B || image.shape[1] !== S || image.shape[2] !== S || image.shape[3] !== condChannels)) {
      throw new Error(`UNet.apply: the conditioning image must be [${B}, ${S}, ${S}, ${condChannels}], got [${image.shape}]`);
    }
    if (aug !== undefined && !augConditioned) throw new Error("UNet.apply: an augmentation level was given but the net is not augConditioned");
    if (aug !== undefined && typeof aug !== "number" && (aug.rank !== 1 || aug.shape[0] !== B)) throw new Error(`UNet.apply: aug must be [${B}], got [${aug.shape}]`);
    return tf.tidy(() => {
      const tt = typeof t === "number" ? (tf.fill([B], t) as tf.Tensor1D) : t; // [B]
      let emb = this.timeMlp(tt, timeDim); // [B, E]
      if (numClasses !== undefined) {
        const ids = cond !== undefined ? tf.cast(cond, "int32") : tf.fill([B], numClasses, "int32"); // [B]
        const oneHot = tf.oneHot(ids as tf.Tensor1D, numClasses + 1).toFloat() as tf.Tensor2D; // [B, K+1]
        emb = tf.add(emb, fastMatMul(oneHot, this.p("classTable"))); // [B, E]
      }
      if (augConditioned) {
        const a = typeof aug === "number" || aug === undefined ? (tf.fill([B], aug ?? 0) as tf.Tensor1D) : aug; // [B]
        emb = tf.add(emb, this.timeMlp(tf.mul(a, AUG_EMBED_SCALE) as tf.Tensor1D, timeDim, "aug")); // [B, E]
      }
      if (contextDim > 0) {
        const ctx = context ?? (tf.zeros([B, contextDim]) as tf.Tensor2D); // [B, D]; zeros = ∅
        emb = tf.add(emb, dense(ctx, this.p("context.proj.w"), this.p("context.proj.b"))); // [B, E]
      }
      const e = this.blockEmbeddings(emb); // [B, co] per block

      const levels = c.length;
      let h = this.conv("in", image !== undefined ? tf.concat([xt, image], 3) : xt); // [B, S, S, c0]
      const skips: tf.Tensor4D[] = [];
      for (let l = 0; l < levels; l++) {
        h = this.resBlock(`down${l}`, h, e[`down${l}`], groups); // [B, S/2^l, S/2^l, c_l]
        skips.push(h);
        if (l + 1 < levels) h = this.conv(`down${l}.resample`, h, 2); // [B, S/2^(l+1), ·, c_l]
      }
      h = this.resBlock("mid", h, e.mid, groups); // [B, S/2^(L−1), ·, c_{L−1}]
      for (let l = levels - 1; l >= 0; l--) {
        h = tf.concat([h, skips[l]], 3); // [B, ·, ·, c_{l+1} + c_l]
        h = this.resBlock(`up${l}`, h, e[`up${l}`], groups); // [B, ·, ·, c_l]
        if (l > 0) h = upsampleNearest2x(h); // [B, 2·, 2·, c_l]
      }
      return this.conv("out", this.normAct("out.norm", h, groups)); // [B, S, S, inChannels]
    });
  }
}
