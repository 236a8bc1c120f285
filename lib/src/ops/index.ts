/**
 * Fast-gradient tensor ops: the single home of every `tf.customGrad` in the course.
 *
 * Stock tfjs gradients of dense layers and convolutions use kernels that tfjs-backend-wasm 4.22
 * runs slowly or lacks (transposed matMul, Conv2DBackpropFilter, Conv2DBackpropInput). Every
 * op here writes its gradient with fast *forward* kernels only. See shared/TFJS_NOTES.md.
 *
 * | file         | exports                            | idea (papers)                                  |
 * |--------------|------------------------------------|------------------------------------------------|
 * | customOp.ts  | (internal) customOp, sumRows       | typed `tf.customGrad`; 1ᵀ·dy bias gradient     |
 * | dense.ts     | dense, denseSilu, fastMatMul       | dx = dy·Wᵀ, dW = xᵀ·dy via explicit transposes (Rumelhart et al. 1986) |
 * | conv.ts      | conv2d, Conv2dOptions              | ∂x, ∂W as forward convs (Dumoulin & Visin 2016; Shi et al. 2016) |
 * | resample.ts  | upsampleNearest2x                  | ∂x = 2×2 block sums of dy                      |
 * | groupNorm.ts | groupNormSilu                      | fused GroupNorm + SiLU (Wu & He 2018)          |
 *
 * Every op here has a finite-difference and a stock-autograd check in tests/lib/ops.test.ts
 * (dense) or tests/lib/convops.test.ts (images); add one for any new op.
 *
 * @see notebooks/01_score_matching.ipynb
 * @see notebooks/02_classifier_guidance.ipynb
 */
export { dense, denseSilu, fastMatMul } from "./dense";
export { conv2d } from "./conv";
export type { Conv2dOptions } from "./conv";
export { upsampleNearest2x } from "./resample";
export { groupNormSilu } from "./groupNorm";
