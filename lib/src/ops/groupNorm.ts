/**
 * GroupNorm followed by SiLU as one fused op with a hand-written gradient (`groupNormSilu`),
 * the normalisation of the U-Net and classifier blocks.
 *
 * Papers: Wu & He 2018 (Group Normalization); Hendrycks & Gimpel 2016 and Elfwing et al. 2018
 * (SiLU); Dhariwal & Nichol 2021 (GN → SiLU inside every block).
 *
 * Why one fused op: stock autograd puts ~15 nodes on the tape for GN + SiLU; here there is one,
 * and its gradient uses only fast forward kernels (group statistics as small matMuls with a
 * 0/1 expander E, sums over h, w as a global average pool). See shared/TFJS_NOTES.md.
 *
 * Notation (batch B, C channels in G groups of C/G, n = H·W·C/G values per group):
 * | code   | math                                  | shape          |
 * |--------|---------------------------------------|----------------|
 * | x      | input                                 | [B, H, W, C]   |
 * | gamma  | scale γ                               | [C]            |
 * | beta   | shift β                               | [C]            |
 * | groups | G                                     |                |
 * | eps    | ε                                     |                |
 * | xc     | x − μ_bg                              | [B, H, W, C]   |
 * | rstd   | r = 1/sqrt(σ²_bg + ε)                 | [B, 1, 1, C]   |
 * | xhat   | x̂ = (x − μ_bg)·r                      | [B, H, W, C]   |
 * | z      | γ·x̂ + β                               | [B, H, W, C]   |
 * | s      | σ(z)                                  | [B, H, W, C]   |
 * | y      | SiLU(z) = z·σ(z)                      | [B, H, W, C]   |
 * | E      | group expander, E[g, c] = [c ∈ g]     | [G, C]         |
 *
 * Checked against finite differences and stock autograd in tests/lib/convops.test.ts.
 *
 * @see notebooks/02_classifier_guidance.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { customOp, sumRows } from "./customOp";

/** Σ over h, w of x [B, H, W, C] → [B, C], as a global average pool (XNNPACK; a sum over axis 1 transposes first). */
function sumHW(x: tf.Tensor4D): tf.Tensor2D {
  const [B, H, W, C] = x.shape;
  return tf.reshape(tf.mul(tf.avgPool(x, [H, W], 1, "valid"), H * W), [B, C]);
}

/** The 0/1 matrix E [G, C] with E[g, c] = 1 iff channel c is in group g (groups of C/G). */
function groupExpander(G: number, C: number): tf.Tensor2D {
  const e = new Float32Array(G * C);
  for (let c = 0; c < C; c++) e[Math.floor(c / (C / G)) * C + c] = 1;
  return tf.tensor2d(e, [G, C]);
}

/**
 * GroupNorm then SiLU, fused with a hand-written gradient (one tape node instead of ~15):
 * z = γ·(x − μ_bg)/sqrt(σ²_bg + ε) + β, y = z·σ(z). Group statistics use small matMuls with E.
 * ∂x = r·(γ∂z − mean_g(γ∂z) − x̂·mean_g(γ∂z·x̂)), r = 1/sqrt(σ² + ε) (Wu & He 2018).
 */
function groupNormSiluOp(groups: number, eps: number) {
  return customOp(3, ([x, gamma, beta], save) => {
    const [B, H, W, C] = x.shape;
    const n = H * W * (C / groups);
    const E = groupExpander(groups, C); // [G, C]
    const perGroup = (v: tf.Tensor2D) => tf.reshape(tf.matMul(tf.div(tf.matMul(v, tf.transpose(E)), n), E), [B, 1, 1, C]); // [B, C] → group mean, [B, 1, 1, C]
    const xc = tf.sub(x, perGroup(sumHW(x as tf.Tensor4D))); // [B, H, W, C] x − μ
    const rstd = tf.rsqrt(tf.add(perGroup(sumHW(tf.square(xc) as tf.Tensor4D)), eps)); // [B, 1, 1, C]
    const xhat = tf.mul(xc, rstd); // [B, H, W, C]
    const z = tf.add(tf.mul(xhat, gamma), beta); // [B, H, W, C]
    const s = tf.sigmoid(z); // [B, H, W, C]
    const y = tf.mul(z, s); // [B, H, W, C]
    save([xhat, s, y, rstd, gamma]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sXhat, sS, sY, sRstd, sGamma] = saved;
      const E2 = groupExpander(groups, C); // [G, C]
      const groupMean = (v: tf.Tensor) => tf.reshape(tf.matMul(tf.div(tf.matMul(v as tf.Tensor2D, tf.transpose(E2)), n), E2), [B, 1, 1, C]); // [B, 1, 1, C]
      const dAct = tf.add(sS, tf.sub(sY, tf.mul(sY, sS))); // SiLU'(z) = σ + y·(1 − σ), [B, H, W, C]
      const dz = tf.mul(dy, dAct) as tf.Tensor4D; // [B, H, W, C]
      const s1 = sumHW(dz); // [B, C] Σ_hw ∂z
      const s2 = sumHW(tf.mul(dz, sXhat) as tf.Tensor4D); // [B, C] Σ_hw ∂z·x̂
      const m1 = groupMean(tf.mul(s1, sGamma)); // [B, 1, 1, C] mean_g(γ∂z)
      const m2 = groupMean(tf.mul(s2, sGamma)); // [B, 1, 1, C] mean_g(γ∂z·x̂)
      const dx = tf.sub(tf.mul(dz, tf.mul(sRstd, sGamma)), tf.add(tf.mul(sXhat, tf.mul(sRstd, m2)), tf.mul(sRstd, m1))); // [B, H, W, C]
      return [dx, sumRows(s2), sumRows(s1)];
    };
    return { value: y, gradFunc };
  });
}

/**
 * GroupNorm (Wu & He 2018) followed by SiLU, y = SiLU(γ·x̂ + β) with x̂ normalised over each
 * (example, group of C/G channels), as in the U-Net blocks of Dhariwal & Nichol 2021. One fused
 * op with a hand-written gradient.
 *
 * @param x [B, H, W, C]
 * @param gamma scale γ [C]
 * @param beta shift β [C]
 * @param groups G, a divisor of C
 * @returns [B, H, W, C]
 * @see notebooks/02_classifier_guidance.ipynb
 */
export function groupNormSilu(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  const C = x.shape[3];
  if (x.rank !== 4) throw new Error(`groupNormSilu: expected x [B, H, W, C], got [${x.shape}]`);
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) throw new Error(`groupNormSilu: groups (${groups}) must divide the ${C} channels`);
  if (gamma.shape[0] !== C || beta.shape[0] !== C) throw new Error(`groupNormSilu: gamma and beta must be [${C}]`);
  return groupNormSiluOp(groups, eps)(x, gamma, beta) as tf.Tensor4D;
}
