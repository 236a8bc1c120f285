/**
 * Public checks for notebook 06's exercises (GLIDE's CLIP guidance, Nichol et al. 2022, §2.5, and
 * the unCLIP / DALL·E-2 prior, Ramesh et al. 2022). In the instructor repository they run against
 * the reference solutions; with EXERCISE_MODULE=path, against that module (see harness.ts). In a
 * student release, student mode (student-mode.ts) points them at the functions extracted from the
 * student's notebook and skips the checks of exercises that are still stubs. Expected values come
 * from plain-JavaScript arithmetic written independently here (the closed-form gradient of a cosine
 * and central finite differences of the objective, both in float64), never from the reference.
 *
 * Notation: z = flattened noisy images z_t ([B, D]), W = the linear image encoder ([D, E]),
 * u_b = z_b·W, û_b = u_b/‖u_b‖ = C_I(z)_b, c_b = the unit caption embedding ([B, E]),
 * F(z) = Σ_b ⟨û_b, c_b⟩; its gradient row b is Wᵀ-pulled-back (I − û_b û_bᵀ)·c_b/‖u_b‖.
 * z0 = z_0 (scaled image embeddings, [B, E]), eps = ε, alphaBar = ᾱ_t per row ([B]).
 *
 * @see notebooks/06_glide_vs_dalle2_prior.ipynb
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, Rng } from "@course/lib";
import { expectMatrixClose, loadExercises, randomMatrix, take2d } from "./harness";

interface Exercises06 {
  clipGuidanceGrad(z: tf.Tensor2D, w: tf.Tensor2D, textEmb: tf.Tensor2D): tf.Tensor2D;
  priorNoisedInput(z0: tf.Tensor2D, eps: tf.Tensor2D, alphaBar: tf.Tensor1D): tf.Tensor2D;
}

const { impl, source } = loadExercises<Exercises06>("06_glide_vs_dalle2_prior");
const TOL = 1e-5;

type Rows = number[][];

/** ⟨a, b⟩ in float64. */
function inner(a: number[], b: number[]): number {
  let total = 0;
  for (let k = 0; k < a.length; k++) total += a[k] * b[k];
  return total;
}
/** Row vector times matrix: (x·M)_e = Σ_d x_d M[d][e]. */
const rowTimes = (x: number[], M: Rows) => M[0].map((_, e) => x.reduce((s, xd, d) => s + xd * M[d][e], 0));
/** Matrix times column vector: (M·v)_d = Σ_e M[d][e] v_e, i.e. v pulled back through Wᵀ. */
const timesCol = (M: Rows, v: number[]) => M.map((r) => inner(r, v));

/** F(z) = Σ_b ⟨u_b/‖u_b‖, c_b⟩ with u_b = z_b·W, in float64. */
function cosineObjective(z: Rows, W: Rows, c: Rows): number {
  return z.reduce((s, zb, b) => {
    const u = rowTimes(zb, W);
    return s + inner(u, c[b]) / Math.sqrt(inner(u, u));
  }, 0);
}

/** ∇_z F by the closed form: row b is W·(c_b − ⟨û_b, c_b⟩·û_b)/‖u_b‖, in float64. */
function cosineGradient(z: Rows, W: Rows, c: Rows): Rows {
  return z.map((zb, b) => {
    const u = rowTimes(zb, W);
    const len = Math.sqrt(inner(u, u));
    const along = inner(u, c[b]) / len; // ⟨û_b, c_b⟩
    return timesCol(W, c[b].map((ce, e) => (ce - (along * u[e]) / len) / len));
  });
}

/** ∇_z F by central differences of the float64 objective (step h). */
function finiteDifferences(z: Rows, W: Rows, c: Rows, h = 1e-5): Rows {
  return z.map((zb, b) =>
    zb.map((_, d) => {
      const shifted = (delta: number) => cosineObjective(z.map((r, i) => (i === b ? r.map((x, k) => (k === d ? x + delta : x)) : r)), W, c);
      return (shifted(h) - shifted(-h)) / (2 * h);
    }),
  );
}

/** B unit caption embeddings of dimension E, float32-rounded. */
function unitRows(rng: Rng, B: number, E: number): { t: tf.Tensor2D; a: Rows } {
  const a = Array.from({ length: B }, () => {
    const draw = Array.from(rng.normalArray(E));
    const len = Math.sqrt(inner(draw, draw));
    return draw.map((x) => Math.fround(x / len));
  });
  return { t: tf.tensor2d(a, [B, E], "float32"), a };
}

/** A random guidance problem: z ~ N(0, 1) [B, D], W ~ N(0, 1/D) [D, E], unit c [B, E]. */
function problem(rng: Rng, B: number, D: number, E: number) {
  return { z: randomMatrix(rng, B, D), w: randomMatrix(rng, D, E, 1 / Math.sqrt(D)), c: unitRows(rng, B, E) };
}
type Problem = ReturnType<typeof problem>;
const disposeProblem = (p: Problem) => tf.dispose([p.z.t, p.w.t, p.c.t]);
/** The gradient for z given as values (W and c from p), read back as arrays. */
function gradFor(p: Problem, z: Rows): Rows {
  const zt = tf.tensor2d(z, [z.length, z[0].length], "float32");
  const g = impl.clipGuidanceGrad(zt, p.w.t, p.c.t);
  zt.dispose();
  expect(g.shape).toEqual([z.length, z[0].length]);
  return take2d(g);
}

/** Row-wise values (one ᾱ per row) as a float32 tensor1d, and the rounded values. */
const alphas = (v: number[]) => ({ t: tf.tensor1d(v, "float32"), a: v.map(Math.fround) });

/** sqrt(ᾱ_b)·z0_b + sqrt(1 − ᾱ_b)·ε_b, float64. */
const noised = (z0: Rows, eps: Rows, ab: number[]) => z0.map((r, b) => r.map((x, k) => Math.sqrt(ab[b]) * x + Math.sqrt(1 - ab[b]) * eps[b][k]));

beforeAll(async () => {
  await initBackend();
});

describe(`06_glide_vs_dalle2_prior exercises (${source})`, () => {
  describe("clipGuidanceGrad", () => {
    test("hand-computed case (W = I, z = (3, 4), c = (1, 0)) and the shape [B, D] for D ≠ E", () => {
      // u = (3, 4), ‖u‖ = 5, û = (0.6, 0.8), ⟨û, c⟩ = 0.6: (c − 0.6·û)/5 = (0.64, −0.48)/5
      const z = tf.tensor2d([[3, 4]]);
      const eye = tf.tensor2d([[1, 0], [0, 1]]);
      const c = tf.tensor2d([[1, 0]]);
      expectMatrixClose(impl.clipGuidanceGrad(z, eye, c), [[0.128, -0.096]], TOL, "clipGuidanceGrad(z=(3,4), W=I, c=(1,0))");
      tf.dispose([z, eye, c]);
      const p = problem(new Rng(601), 3, 7, 4);
      const g = impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t);
      expect(g.shape).toEqual([3, 7]);
      g.dispose();
      disposeProblem(p);
    });

    test("matches the closed form W·(I − û ûᵀ)·c/‖u‖ row by row on random problems", () => {
      const rng = new Rng(602);
      for (const [B, D, E] of [[1, 5, 3], [4, 16, 8], [8, 12, 20], [16, 64, 16]]) {
        const p = problem(rng, B, D, E);
        expectMatrixClose(impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t), cosineGradient(p.z.a, p.w.a, p.c.a), 1e-4, `clipGuidanceGrad(B=${B}, D=${D}, E=${E})`);
        disposeProblem(p);
      }
    });

    test("matches central finite differences of Σ_b ⟨normalise(z_b·W), c_b⟩", () => {
      const rng = new Rng(603);
      for (const [B, D, E] of [[2, 6, 4], [5, 9, 3]]) {
        const p = problem(rng, B, D, E);
        expectMatrixClose(impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t), finiteDifferences(p.z.a, p.w.a, p.c.a), 1e-4, `clipGuidanceGrad vs finite differences (B=${B})`);
        disposeProblem(p);
      }
    });

    test("row b depends only on z_b and c_b: the batch result equals each row computed alone", () => {
      const rng = new Rng(604);
      const p = problem(rng, 5, 10, 6);
      const batch = take2d(impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t));
      for (let b = 0; b < 5; b++) {
        const [z1, c1] = [tf.tensor2d([p.z.a[b]]), tf.tensor2d([p.c.a[b]])];
        expectMatrixClose(impl.clipGuidanceGrad(z1, p.w.t, c1), [batch[b]], 1e-4, `clipGuidanceGrad(row ${b} alone) vs row ${b} of the batch`);
        tf.dispose([z1, c1]);
      }
      // changing the other rows of z leaves row 0 alone
      const moved = gradFor(p, p.z.a.map((r, i) => (i === 0 ? r : r.map((x) => -2 * x + 0.5))));
      expectMatrixClose(tf.tensor2d([moved[0]]), [batch[0]], 1e-4, "clipGuidanceGrad row 0 after changing rows 1–4 of z");
      disposeProblem(p);
    });

    test("scale invariance: scaling z_b by a > 0 divides row b of the gradient by a", () => {
      const p = problem(new Rng(605), 4, 12, 5);
      const base = take2d(impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t));
      const scales = [0.1, 0.5, 3, 40];
      const scaled = gradFor(p, p.z.a.map((r, b) => r.map((x) => scales[b] * x)));
      expectMatrixClose(tf.tensor2d(scaled), base.map((r, b) => r.map((g) => g / scales[b])), 1e-4, "clipGuidanceGrad(a_b·z_b) vs clipGuidanceGrad(z)/a_b");
      disposeProblem(p);
    });

    test("orthogonality: ⟨∇_{z_b}, z_b⟩ = 0 (the cosine does not change along z_b)", () => {
      const rng = new Rng(606);
      for (const [B, D, E] of [[3, 8, 4], [6, 24, 10]]) {
        const p = problem(rng, B, D, E);
        const g = take2d(impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t));
        g.forEach((gb, b) => {
          const scale = Math.sqrt(inner(gb, gb) * inner(p.z.a[b], p.z.a[b]));
          expect(scale).toBeGreaterThan(1e-6);
          expect(Math.abs(inner(gb, p.z.a[b])) / scale).toBeLessThan(1e-4);
        });
        disposeProblem(p);
      }
    });

    test("points uphill: a small step z + h·∇ raises every row's cosine with its caption", () => {
      const p = problem(new Rng(607), 6, 10, 5);
      const g = take2d(impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t));
      const h = 1e-3;
      p.z.a.forEach((zb, b) => {
        const one = (x: number[]) => cosineObjective([x], p.w.a, [p.c.a[b]]);
        expect(one(zb.map((x, d) => x + h * g[b][d]))).toBeGreaterThan(one(zb));
      });
      disposeProblem(p);
    });

    test("leaks no tensors", () => {
      const p = problem(new Rng(608), 3, 6, 4);
      const before = tf.memory().numTensors;
      impl.clipGuidanceGrad(p.z.t, p.w.t, p.c.t).dispose();
      expect(tf.memory().numTensors).toBe(before);
      disposeProblem(p);
    });
  });

  describe("priorNoisedInput", () => {
    test("ᾱ = 1 gives z0, ᾱ = 0 gives ε, and both at once in one batch", () => {
      const rng = new Rng(611);
      const z0 = randomMatrix(rng, 4, 6, 2);
      const eps = randomMatrix(rng, 4, 6);
      for (const [ab, want, what] of [
        [[1, 1, 1, 1], z0.a, "ᾱ = 1"],
        [[0, 0, 0, 0], eps.a, "ᾱ = 0"],
        [[1, 0, 0, 1], [z0.a[0], eps.a[1], eps.a[2], z0.a[3]], "ᾱ = (1, 0, 0, 1)"],
      ] as Array<[number[], Rows, string]>) {
        const a = alphas(ab);
        expectMatrixClose(impl.priorNoisedInput(z0.t, eps.t, a.t), want, TOL, `priorNoisedInput(${what})`);
        a.t.dispose();
      }
      tf.dispose([z0.t, eps.t]);
    });

    test("each row has its own ᾱ: hand-computed weights (0.5, 0.8, 0.9), also for a square batch B = E", () => {
      const rng = new Rng(612);
      const ab = alphas([0.25, 0.64, 0.81]); // sqrt(ᾱ) = 0.5, 0.8, 0.9; sqrt(1 − ᾱ) = √0.75, 0.6, √0.19
      for (const E of [3, 5]) {
        const z0 = randomMatrix(rng, 3, E);
        const eps = randomMatrix(rng, 3, E);
        const w = [[0.5, Math.sqrt(0.75)], [0.8, 0.6], [0.9, Math.sqrt(0.19)]];
        const want = z0.a.map((r, b) => r.map((x, k) => w[b][0] * x + w[b][1] * eps.a[b][k]));
        expectMatrixClose(impl.priorNoisedInput(z0.t, eps.t, ab.t), want, TOL, `priorNoisedInput(B=3, E=${E}, per-row ᾱ)`);
        tf.dispose([z0.t, eps.t]);
      }
      ab.t.dispose();
    });

    test("matches sqrt(ᾱ_b)·z0_b + sqrt(1 − ᾱ_b)·ε_b on random batches", () => {
      const rng = new Rng(613);
      for (const [B, E] of [[1, 4], [7, 16], [32, 8]]) {
        const z0 = randomMatrix(rng, B, E, 3);
        const eps = randomMatrix(rng, B, E);
        const ab = alphas(Array.from({ length: B }, () => 0.001 + 0.998 * rng.uniform()));
        expectMatrixClose(impl.priorNoisedInput(z0.t, eps.t, ab.t), noised(z0.a, eps.a, ab.a), TOL, `priorNoisedInput(B=${B}, E=${E})`);
        tf.dispose([z0.t, eps.t, ab.t]);
      }
    });

    test("preserves unit variance for unit-variance z0 and ε, at every ᾱ", () => {
      const rng = new Rng(614);
      const levels = [0.1, 0.5, 0.9];
      const [B, E] = [3000, 8];
      const z0 = rng.randn([B, E]) as tf.Tensor2D;
      const eps = rng.randn([B, E]) as tf.Tensor2D;
      const ab = alphas(Array.from({ length: B }, (_, b) => levels[b % 3]));
      const out = take2d(impl.priorNoisedInput(z0, eps, ab.t));
      levels.forEach((level, j) => {
        let [n, sum, squares] = [0, 0, 0];
        for (let b = j; b < B; b += 3) for (const x of out[b]) [n, sum, squares] = [n + 1, sum + x, squares + x * x];
        const variance = squares / n - (sum / n) ** 2;
        if (Math.abs(variance - 1) > 0.06) throw new Error(`priorNoisedInput at ᾱ = ${level}: variance ${variance.toFixed(3)}, expected ≈ 1`);
      });
      tf.dispose([z0, eps, ab.t]);
    });

    test("leaks no tensors", () => {
      const rng = new Rng(615);
      const z0 = randomMatrix(rng, 3, 4);
      const eps = randomMatrix(rng, 3, 4);
      const ab = alphas([0.2, 0.5, 0.7]);
      const before = tf.memory().numTensors;
      impl.priorNoisedInput(z0.t, eps.t, ab.t).dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([z0.t, eps.t, ab.t]);
    });
  });
});
