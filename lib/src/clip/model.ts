/**
 * A tiny CLIP (`ClipModel`): an image tower and a text tower mapped into one embedding space of
 * unit vectors, trained with the symmetric InfoNCE loss of ./loss.ts. With a time input the
 * image tower reads noised images z_t, the "noised CLIP" that guides a diffusion model.
 *
 * Papers: Radford et al. 2021 (CLIP: two towers, linear projections to a shared space, L2
 * normalisation, a learnable temperature initialised to 0.07 and clipped so that logits are
 * scaled by at most 100); Nichol et al. 2022 (GLIDE: CLIP retrained on noised images, C_I(z_t, t),
 * so that its gradient is meaningful along the whole sampling path); Vaswani et al. 2017 (the
 * text transformer, ../text/encoder.ts); van den Oord et al. 2018 (InfoNCE).
 *
 * Towers: image = ConvClassifier (../nets/classifier.ts) whose last dense layer, with E outputs,
 * is the image projection W_i (stored as `image.proj.*`); text = TransformerTextEncoder pooled at
 * <eos>, then `text.proj` W_t. Weight names carry an `image.` / `text.` prefix; the temperature
 * is the scalar `logitScale`.
 *
 * | code         | math                                              | shape            |
 * |--------------|---------------------------------------------------|------------------|
 * | x            | image x, or noised image z_t                      | [B, S, S, C]     |
 * | t            | timestep (noised CLIP only)                       | [B] or a number  |
 * | ids          | caption token ids                                 | [B, L] int32     |
 * | imageEmb     | u = f_I(x[, t]) / ‖f_I‖ = W_i·features / ‖·‖      | [B, E]           |
 * | textEmb      | v = f_T(ids) / ‖f_T‖ = W_t·pooled / ‖·‖           | [B, E]           |
 * | `logitScale` | log s (= ln(1/τ)), init ln(1/0.07), clamped ≤ ln 100 | []            |
 * | logits       | S = s·u·vᵀ                                        | [B, B]           |
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../random";
import { dense } from "../ops";
import { ParamModule } from "../nets/layers";
import { ClassifierConfig, ConvClassifier } from "../nets/classifier";
import { TextEncoderConfig, TransformerTextEncoder } from "../text/encoder";
import { infoNceLoss, similarityMatrix } from "./loss";

/**
 * Configuration of {@link ClipModel}.
 * @see notebooks/05_clip.ipynb
 */
export interface ClipConfig {
  /** Width E of the shared embedding space. */
  embedDim: number;
  /** The image tower (a ConvClassifier without its class count); set `timeDim` for a noised CLIP. */
  image: Omit<ClassifierConfig, "numClasses">;
  /** The text tower. */
  text: TextEncoderConfig;
  /** Initial log s (default ln(1/0.07) ≈ 2.659, CLIP's τ = 0.07). */
  initLogitScale?: number;
  /** Upper clamp of log s (default ln 100: logits are scaled by at most 100). */
  maxLogitScale?: number;
}

/**
 * The course's tiny CLIP for captioned 16×16×3 Fashion-MNIST (vocabulary 60 words + 4 specials):
 * image channels 16-32-32, text width 64 with 4 heads and 2 layers, E = 64 (about 0.2 M
 * parameters; one training step at batch 256 takes a few hundred ms on wasm).
 * @see notebooks/05_clip.ipynb
 */
export const DEFAULT_CLIP_CONFIG: ClipConfig = {
  embedDim: 64,
  image: { imageSize: 16, inChannels: 3, channels: [16, 32, 32], featureDim: 128 },
  text: { vocabSize: 64, maxLen: 16, width: 64, heads: 4, layers: 2 },
};

/**
 * {@link DEFAULT_CLIP_CONFIG} with a time-conditioned image tower: the noised CLIP C_I(z_t, t)
 * of GLIDE, for CLIP guidance.
 * @see notebooks/05_clip.ipynb
 */
export const DEFAULT_NOISY_CLIP_CONFIG: ClipConfig = { ...DEFAULT_CLIP_CONFIG, image: { ...DEFAULT_CLIP_CONFIG.image, timeDim: 32 } };

/** Rows scaled to unit length: x/√(‖x‖² + 1e-12). Call inside tf.tidy. */
function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12))) as tf.Tensor2D; // [B, E]
}

/**
 * CLIP with a conv image tower and a transformer text tower, both projected to E and
 * L2-normalised, and a learnable, clamped logit scale. Pass `model.variables` to the optimizer
 * and call {@link ClipModel.clampLogitScale} after each step, as CLIP does.
 *
 * @example
 * const clip = new ClipModel(DEFAULT_CLIP_CONFIG, new Rng(0));
 * const opt = tf.train.adam(1e-3);
 * opt.minimize(() => clip.loss(x, ids), false, clip.variables); clip.clampLogitScale();
 * @see notebooks/05_clip.ipynb
 */
export class ClipModel extends ParamModule {
  readonly config: Readonly<ClipConfig & { initLogitScale: number; maxLogitScale: number }>;
  /** The image tower; its weights are this model's `image.*` (shared, not copied). */
  readonly imageTower: ConvClassifier;
  /** The text tower; its weights are this model's `text.*` (shared, not copied). */
  readonly textTower: TransformerTextEncoder;

  constructor(config: ClipConfig, rng: Rng) {
    super("ClipModel");
    const E = config.embedDim;
    if (!Number.isInteger(E) || E < 2) throw new Error(`ClipModel: embedDim must be an integer ≥ 2, got ${E}`);
    const initLogitScale = config.initLogitScale ?? Math.log(1 / 0.07);
    const maxLogitScale = config.maxLogitScale ?? Math.log(100);
    if (!(initLogitScale <= maxLogitScale)) throw new Error(`ClipModel: initLogitScale ${initLogitScale} exceeds maxLogitScale ${maxLogitScale}`);
    this.config = { ...config, initLogitScale, maxLogitScale };
    this.imageTower = new ConvClassifier({ ...config.image, numClasses: E }, rng.fork("image"));
    this.textTower = new TransformerTextEncoder(config.text, rng.fork("text"));
    this.adopt("image.", this.imageTower, { "logits.w": "proj.w", "logits.b": "proj.b" });
    this.adopt("text.", this.textTower);
    this.addDense("text.proj", config.text.width, E, rng.fork("text.proj"));
    this.addParam("logitScale", tf.scalar(initLogitScale));
  }

  /** Whether the image tower takes a timestep (noised CLIP C_I(z_t, t)). */
  get timeConditional(): boolean {
    return this.imageTower.timeConditional;
  }

  /** The logit scale s = exp(min(logitScale, maxLogitScale)) as a number. */
  get scale(): number {
    const s = tf.tidy(() => this.scaleTensor());
    const v = s.dataSync()[0];
    s.dispose();
    return v;
  }

  /**
   * Image embeddings u = normalise(W_i·features(x[, t])).
   * @param x images [B, S, S, C] (noised z_t for a noised CLIP)
   * @param t timesteps [B] or one number; required iff the model is time-conditional
   * @returns [B, E] unit rows
   */
  encodeImages(x: tf.Tensor4D, t?: tf.Tensor1D | number): tf.Tensor2D {
    return tf.tidy(() => l2Normalize(this.imageTower.apply(x, t))); // [B, E]
  }

  /**
   * Text embeddings v = normalise(W_t·pooled(ids)).
   * @param ids [B, L] int32 token ids (Tokenizer.encodeTensor)
   * @returns [B, E] unit rows
   */
  encodeTexts(ids: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { pooled } = this.textTower.apply(ids); // [B, D]
      return l2Normalize(dense(pooled, this.p("text.proj.w"), this.p("text.proj.b"))); // [B, E]
    });
  }

  /**
   * Scaled similarities S = s·u·vᵀ (image i vs text j), s clamped at exp(maxLogitScale).
   * @param imageEmb [N, E]
   * @param textEmb [M, E]
   * @returns [N, M]
   */
  logits(imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.mul(this.scaleTensor(), similarityMatrix(imageEmb, textEmb)) as tf.Tensor2D); // [N, M]
  }

  /**
   * The training objective for a batch of matching (image, caption) pairs: symmetric InfoNCE
   * of {@link ClipModel.logits}.
   * @param x images [B, S, S, C]; ids [B, L]; t as in {@link ClipModel.encodeImages}
   * @returns []
   */
  loss(x: tf.Tensor4D, ids: tf.Tensor2D, t?: tf.Tensor1D | number): tf.Scalar {
    if (x.shape[0] !== ids.shape[0]) throw new Error(`ClipModel.loss: ${x.shape[0]} images but ${ids.shape[0]} captions`);
    return tf.tidy(() => infoNceLoss(this.logits(this.encodeImages(x, t), this.encodeTexts(ids))));
  }

  /** Clip the `logitScale` variable to ≤ maxLogitScale in place (call after each optimiser step). */
  clampLogitScale(): void {
    const v = this.p<tf.Variable>("logitScale");
    tf.tidy(() => v.assign(tf.minimum(v, this.config.maxLogitScale)));
  }

  /** s = exp(min(log s, max)) as a scalar tensor; zero gradient above the clamp. */
  private scaleTensor(): tf.Scalar {
    return tf.exp(tf.minimum(this.p<tf.Scalar>("logitScale"), this.config.maxLogitScale)) as tf.Scalar;
  }

  /** Register a tower's variables under `prefix` (renamed where `rename` says); they are shared. */
  private adopt(prefix: string, module: ParamModule, rename: Record<string, string> = {}): void {
    for (const [name, v] of Object.entries(module.getWeights())) {
      const full = prefix + (rename[name] ?? name);
      if (full in this.named) throw new Error(`ClipModel: duplicate parameter ${full}`);
      this.named[full] = v as tf.Variable;
      this.variables.push(v as tf.Variable);
    }
  }
}
