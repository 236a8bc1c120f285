/**
 * Public checks for notebook 05's exercises (CLIP, Radford et al. 2021, trained with the InfoNCE
 * loss of van den Oord et al. 2018). In the instructor repository they run against the reference
 * solutions; with EXERCISE_MODULE=path, against that module (see harness.ts). In a student release,
 * student mode (student-mode.ts) points them at the functions extracted from the student's notebook
 * and skips the checks of exercises that are still stubs. Expected values come from plain-JavaScript
 * arithmetic written independently here (log-sum-exp of each row and column in float64, dot
 * products and an argmax by hand), never from the reference.
 *
 * Notation: L = logits, L[i][j] = s·⟨u_i, v_j⟩ for image i and caption j (the right pairs are on
 * the diagonal), s = the logit scale, B = the batch size, lse = log-sum-exp; imageEmb rows u_i
 * ([N, E]), promptEmb rows w_k ([K, E]), one prompt per label.
 *
 * @see notebooks/05_clip.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, Rng } from "@course/lib";
import { loadExercises } from "./harness";

interface Exercises05 {
  clipLoss(logits: tf.Tensor2D): tf.Scalar;
  zeroShotClassify(imageEmb: tf.Tensor2D, promptEmb: tf.Tensor2D): tf.Tensor1D;
}

const { impl, source } = loadExercises<Exercises05>("05_clip");
const TOL = 1e-5;

/** log(e^{x_0} + … + e^{x_{n−1}}) in float64, shifted by the max so that it cannot overflow. */
function lse(xs: number[]): number {
  const top = Math.max(...xs);
  const shifted = xs.map((x) => Math.exp(x - top)); // each ≤ 1
  return top + Math.log(shifted.reduce((a, b) => a + b, 0));
}

/** A B × B matrix whose entries are all c. */
function filled(B: number, c: number): number[][] {
  const L: number[][] = [];
  for (let i = 0; i < B; i++) L.push(new Array<number>(B).fill(c));
  return L;
}

/** The row cross-entropy ("which caption?") and the column one ("which image?") of L, float64. */
function crossEntropies(L: number[][]): { rows: number; cols: number } {
  const B = L.length;
  let rows = 0;
  let cols = 0;
  for (let i = 0; i < B; i++) {
    rows += lse(L[i]) - L[i][i];
    cols += lse(L.map((r) => r[i])) - L[i][i];
  }
  return { rows: rows / B, cols: cols / B };
}

/** CLIP's loss by the definition: the mean of the two cross-entropies. */
function expectedLoss(L: number[][]): number {
  const { rows, cols } = crossEntropies(L);
  return (rows + cols) / 2;
}

/** Values rounded to float32, as the tensor will hold them. */
const f32 = (L: number[][]) => L.map((r) => r.map(Math.fround));

/** The function under test, passed in by each check (student mode skips checks that name a stub). */
type ClipLoss = Exercises05["clipLoss"];

/** Run clipLoss on L; check that it returned a scalar (rank 0) float32 tensor; return its value. */
function lossOf(clipLoss: ClipLoss, L: number[][]): number {
  const logits = tf.tensor2d(L, [L.length, L[0].length], "float32");
  const out = clipLoss(logits);
  logits.dispose();
  if (!(out instanceof tf.Tensor)) throw new Error(`clipLoss must return a tensor, got ${typeof out}`);
  const shape = out.shape.slice();
  const dtype = out.dtype;
  const value = out.dataSync()[0];
  out.dispose();
  if (shape.length !== 0) throw new Error(`clipLoss must return a scalar tensor (shape []), got shape [${shape.join(", ")}]`);
  if (dtype !== "float32") throw new Error(`clipLoss must return a float32 tensor, got ${dtype}`);
  return value;
}

/** Assert that clipLoss(L) is finite and within tol·(1 + |want|) of want. */
function expectLoss(clipLoss: ClipLoss, L: number[][], want: number, tol: number, what: string): void {
  const got = lossOf(clipLoss, L);
  if (!Number.isFinite(got) || Math.abs(got - want) > tol * (1 + Math.abs(want))) {
    throw new Error(`${what}: clipLoss is ${got}, expected ${want.toFixed(6)} (tolerance ${tol})`);
  }
}

/** B orthonormal vectors of dimension E ≥ B (Gram–Schmidt on Gaussian draws), float64. */
function orthonormal(rng: Rng, B: number, E: number): number[][] {
  const q: number[][] = [];
  while (q.length < B) {
    const v = Array.from({ length: E }, () => rng.normal());
    for (const p of q) {
      const d = p.reduce((s, x, k) => s + x * v[k], 0);
      for (let k = 0; k < E; k++) v[k] -= d * p[k];
    }
    const n = Math.hypot(...v);
    if (n > 1e-3) q.push(v.map((x) => x / n));
  }
  return q;
}

/** Gaussian logits, scale·N(0, 1), float32-exact. */
const gaussianLogits = (rng: Rng, B: number, scale: number) => f32(Array.from({ length: B }, () => Array.from({ length: B }, () => scale * rng.normal())));

/** Run zeroShotClassify on plain arrays; return its values, dtype and shape. */
function classify(zeroShotClassify: Exercises05["zeroShotClassify"], images: number[][], prompts: number[][]): { values: number[]; dtype: string; shape: number[] } {
  const u = tf.tensor2d(images, undefined, "float32");
  const w = tf.tensor2d(prompts, undefined, "float32");
  const out = zeroShotClassify(u, w);
  tf.dispose([u, w]);
  const got = { values: Array.from(out.dataSync()), dtype: out.dtype, shape: out.shape.slice() };
  out.dispose();
  return got;
}

/** The label of each image by hand: the first k with the largest ⟨u_i, w_k⟩ (float64). */
function argmaxDot(images: number[][], prompts: number[][]): number[] {
  return images.map((u) => {
    let best = 0;
    let bestDot = -Infinity;
    prompts.forEach((w, k) => {
      const d = w.reduce((s, x, e) => s + x * u[e], 0);
      if (d > bestDot) [best, bestDot] = [k, d];
    });
    return best;
  });
}

beforeAll(async () => {
  await initBackend();
});

describe(`05_clip exercises (${source})`, () => {
  describe("clipLoss", () => {
    test("hand-computed 2×2 and 3×3 cases: ½·(row cross-entropy + column cross-entropy)", () => {
      // rows: log(e²+e⁰) − 2 = log(1+e⁻²), log(e¹+e³) − 3 = log(1+e⁻²); columns: log(e²+e¹) − 2 = log(1+e⁻¹), log(e⁰+e³) − 3 = log(1+e⁻³)
      const rows2 = Math.log1p(Math.exp(-2));
      const cols2 = (Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(-3))) / 2;
      expectLoss(impl.clipLoss, [[2, 0], [1, 3]], (rows2 + cols2) / 2, TOL, "clipLoss([[2, 0], [1, 3]])"); // ≈ 0.153926
      const L3 = [[1, 0, -1], [2, 1, 0], [0, 0, 3]];
      const rows3 = (lse([1, 0, -1]) - 1 + lse([2, 1, 0]) - 1 + lse([0, 0, 3]) - 3) / 3;
      const cols3 = (lse([1, 2, 0]) - 1 + lse([0, 1, 0]) - 1 + lse([-1, 0, 3]) - 3) / 3;
      expectLoss(impl.clipLoss, L3, (rows3 + cols3) / 2, TOL, "clipLoss(3×3)");
    });

    test("equal logits (no idea which pair is right) give log B, whatever their value", () => {
      for (const B of [1, 2, 5, 16]) {
        for (const c of [0, 4.5, -7]) {
          expectLoss(impl.clipLoss, filled(B, c), Math.log(B), TOL, `clipLoss(${B}×${B} logits all ${c})`);
        }
      }
    });

    test("perfectly aligned orthonormal embeddings at scale s give log(1 + (B − 1)·e^{−s})", () => {
      const rng = new Rng(501);
      for (const B of [3, 8]) {
        const q = orthonormal(rng, B, B + 2); // u_i = v_i = q_i: ⟨u_i, v_j⟩ = δ_ij
        for (const s of [1, 5, 20]) {
          const L = f32(q.map((u) => q.map((v) => s * u.reduce((t, x, k) => t + x * v[k], 0))));
          expectLoss(impl.clipLoss, L, Math.log1p((B - 1) * Math.exp(-s)), 1e-5, `clipLoss(aligned, B=${B}, s=${s})`);
        }
      }
    });

    test("is symmetric in images and captions: not the row cross-entropy alone, nor the sum of both", () => {
      // caption 0 is the best caption for every image: the rows are easy, column 0 is not
      const L = [[3, 0, 0], [3, 1, 0], [3, 0, 2]];
      const { rows, cols } = crossEntropies(L);
      const want = (rows + cols) / 2; // rows ≈ 1.205, cols ≈ 0.630, want ≈ 0.917
      for (const wrong of [rows, cols, rows + cols]) expect(Math.abs(wrong - want)).toBeGreaterThan(0.1);
      expectLoss(impl.clipLoss, L, want, TOL, "clipLoss(one-sided 3×3)");
      const LT = L[0].map((_, j) => L.map((r) => r[j]));
      expectLoss(impl.clipLoss, LT, want, TOL, "clipLoss(Lᵀ) (must equal clipLoss(L))");
      const rng = new Rng(502);
      const R = f32(gaussianLogits(rng, 6, 2).map((r) => r.map((x, j) => x + 1.5 * j))); // later captions score higher
      const RT = R[0].map((_, j) => R.map((r) => r[j]));
      const a = lossOf(impl.clipLoss, R);
      expect(a).toBeCloseTo(expectedLoss(R), 4);
      expect(lossOf(impl.clipLoss, RT)).toBeCloseTo(a, 4);
    });

    test("matches float64 arithmetic on random logits (B = 1 … 32)", () => {
      const rng = new Rng(503);
      for (const [B, scale] of [[1, 3], [2, 1], [4, 3], [9, 0.5], [32, 5]]) {
        const L = gaussianLogits(rng, B, scale);
        expectLoss(impl.clipLoss, L, expectedLoss(L), 1e-4, `clipLoss(random ${B}×${B}, scale ${scale})`);
      }
    });

    test("stays finite and correct for large logits (|L| ~ 10³): take the max out before exponentiating", () => {
      const rng = new Rng(504);
      for (const L of [gaussianLogits(rng, 5, 1000), [[1000, 998, -1000], [1001, 1000, 0], [500, 999, 1002]]]) {
        expectLoss(impl.clipLoss, L, expectedLoss(f32(L)), 1e-4, "clipLoss(logits ~ 10³)");
      }
      for (const c of [1000, -1000]) expectLoss(impl.clipLoss, filled(3, c), Math.log(3), 1e-4, `clipLoss(3×3 logits all ${c})`);
      const q = orthonormal(rng, 4, 4); // CLIP's largest scale, s = 100, on aligned embeddings: e⁻¹⁰⁰ underflows
      expectLoss(impl.clipLoss, f32(q.map((u) => q.map((v) => 100 * u.reduce((t, x, k) => t + x * v[k], 0)))), 3 * Math.exp(-100), 1e-4, "clipLoss(aligned, s=100)");
    });

    test("returns a scalar float32 tensor (shape [])", () => {
      const logits = tf.tensor2d([[1, 2], [0, 1]]);
      const out = impl.clipLoss(logits);
      expect(out).toBeInstanceOf(tf.Tensor);
      expect(out.shape).toEqual([]);
      expect(out.dtype).toBe("float32");
      tf.dispose([logits, out]);
    });

    test("leaks no tensors", () => {
      const logits = tf.tensor2d(gaussianLogits(new Rng(505), 4, 2));
      const before = tf.memory().numTensors;
      impl.clipLoss(logits).dispose();
      expect(tf.memory().numTensors).toBe(before);
      logits.dispose();
    });
  });

  describe("zeroShotClassify", () => {
    test("hand-made embeddings: each image gets its most similar prompt, as int32 labels of shape [N]", () => {
      const axes = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
      const images = [[0.6, 0.8, 0], [0, 0.28, 0.96], [0.8, 0, 0.6], [-0.48, -0.6, -0.64]];
      const got = classify(impl.zeroShotClassify, images, axes);
      expect(got.dtype).toBe("int32");
      expect(got.shape).toEqual([4]);
      expect(got.values).toEqual([1, 2, 0, 0]); // the last image is least unlike label 0
      // four labels in the plane at 0°, 90°, 180°, 270°; images at 10°, 100°, 200°, 300°
      const dir = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
      const plane = classify(impl.zeroShotClassify, [10, 100, 200, 300].map(dir), [0, 90, 180, 270].map(dir));
      expect(plane.shape).toEqual([4]);
      expect(plane.values).toEqual([0, 1, 2, 3]);
    });

    test("uses the dot product ⟨u, w⟩, not the Euclidean distance (prompts of different lengths)", () => {
      // w_0 is long: it has the largest dot product (and cosine) with the first three images,
      // but w_1 is nearer to all four of them in Euclidean distance
      const prompts = [[3, 0], [0.8, 0.6]];
      const images = [[1, 0], [0.96, 0.28], [0.8, -0.6], [0, 1]];
      const nearest = images.map((u) => {
        const dist = prompts.map((w) => Math.hypot(u[0] - w[0], u[1] - w[1]));
        return dist[0] <= dist[1] ? 0 : 1;
      });
      expect(nearest).toEqual([1, 1, 1, 1]);
      expect(argmaxDot(images, prompts)).toEqual([0, 0, 0, 1]);
      expect(classify(impl.zeroShotClassify, images, prompts).values).toEqual([0, 0, 0, 1]);
    });

    test("ties go to the lowest label, as tf.argMax does; a single label gives all zeros", () => {
      const s = Math.SQRT1_2;
      // labels 1 and 2 share one prompt; the third image is as similar to label 0 as to labels 1 and 2
      const got = classify(impl.zeroShotClassify, [[1, 0], [0.6, 0.8], [s, s], [0.8, -0.6]], [[0, 1], [1, 0], [1, 0]]);
      expect(got.values).toEqual([1, 0, 0, 1]);
      const one = classify(impl.zeroShotClassify, [[0.3, -0.2], [-1, 0.5], [0, 0]], [[0.6, 0.8]]);
      expect(one).toEqual({ values: [0, 0, 0], dtype: "int32", shape: [3] });
    });

    test("matches an argmax of dot products by hand on random unit embeddings", () => {
      const rng = new Rng(511);
      const unit = (E: number) => {
        const g = Array.from(rng.normalArray(E));
        const len = Math.sqrt(g.reduce((t, x) => t + x * x, 0));
        return g.map((x) => Math.fround(x / len));
      };
      for (const [N, K, E] of [[1, 3, 4], [20, 5, 8], [64, 12, 32]]) {
        const prompts = Array.from({ length: K }, () => unit(E));
        const images: number[][] = [];
        while (images.length < N) {
          const u = unit(E);
          const dots = prompts.map((w) => w.reduce((t, x, e) => t + x * u[e], 0)).sort((a, b) => b - a);
          if (K === 1 || dots[0] - dots[1] > 1e-4) images.push(u); // no near-ties: float32 rounding cannot flip the answer
        }
        const got = classify(impl.zeroShotClassify, images, prompts);
        expect(got.dtype).toBe("int32");
        expect(got.shape).toEqual([N]);
        expect(got.values).toEqual(argmaxDot(images, prompts));
      }
    });

    test("leaks no tensors", () => {
      const u = tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8]]);
      const w = tf.tensor2d([[0.8, 0.6], [0, 1]]);
      const before = tf.memory().numTensors;
      impl.zeroShotClassify(u, w).dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([u, w]);
    });
  });
});
