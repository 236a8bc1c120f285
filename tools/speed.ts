/**
 * How fast this machine is, relative to the reference machine the notebooks' time budgets
 * (`metadata.course.budget_s`) were set on: a 2-core machine on which notebook 01 runs in ~25 s.
 *
 * Machines of the same nominal size differ: on one 2-core VM here every notebook ran 2.0–2.3×
 * slower than on another (01: 58 s vs 25 s; 04: 149 s vs 69 s; 06: 149 s vs 71 s). A budget in
 * plain seconds then fails a notebook for the machine's sake, not the notebook's. So the runner
 * times a fixed CPU workload (float multiply-adds and exp over Float32Arrays, single-threaded:
 * the kind of work the wasm kernels do), divides by the reference machine's time and scales the
 * budgets by that factor, never below 1 (a faster machine keeps the stated budget) and at most
 * {@link MAX_FACTOR}.
 *
 * The reference time is this workload's time on the slow VM (200 ms, the least of 6 runs; single
 * runs there spread from 170 to 320 ms) divided by its measured notebook slowdown (2.13×, the
 * median over notebooks 01, 04, 05 and 06). Noise only ever stretches a budget further.
 *
 *   const { factor, ms } = machineSpeed(); // e.g. { factor: 2.13, ms: 200 } on the slow VM
 *
 * `COURSE_SPEED_FACTOR=F` overrides the measurement (F = 1: budgets as stated).
 * @see notebooks/01_score_matching.ipynb
 */

/** The calibration workload's time on the reference machine, ms (see the module header). */
export const REFERENCE_MS = 94;
/** The most a budget is stretched: beyond this the machine is too slow for the course as stated. */
export const MAX_FACTOR = 4;

/** One run of the workload: a 3×3, 16 → 16 channel convolution over 24×24 with an exp-based activation. */
function workload(): number {
  const S = 24, C = 16;
  const x = new Float32Array(S * S * C).map((_, i) => Math.sin(i) * 0.5);
  const w = new Float32Array(9 * C * C).map((_, i) => Math.cos(i) * 0.1);
  const y = new Float32Array(S * S * C);
  let sum = 0;
  for (let rep = 0; rep < 75; rep++) {
    for (let i = 1; i < S - 1; i++) {
      for (let j = 1; j < S - 1; j++) {
        for (let o = 0; o < C; o++) {
          let acc = 0;
          for (let k = 0; k < 9; k++) {
            const p = ((i + Math.floor(k / 3) - 1) * S + (j + (k % 3) - 1)) * C;
            const q = (k * C + o) * C;
            for (let c = 0; c < C; c++) acc += x[p + c] * w[q + c];
          }
          y[(i * S + j) * C + o] = acc / (1 + Math.exp(-acc)); // SiLU
        }
      }
    }
    for (let n = 0; n < x.length; n++) x[n] = 0.5 * x[n] + 0.5 * y[n];
    sum += y[(S + 1) * C];
  }
  return sum;
}

/** The workload's time in ms: the fastest of `runs` after one warm-up (the least disturbed by other processes). */
export function calibrationMs(runs = 6): number {
  let best = Infinity;
  let sink = workload(); // warm-up: the JIT's optimising tier
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    sink += workload();
    best = Math.min(best, performance.now() - t0);
  }
  if (Number.isNaN(sink)) throw new Error("calibration workload produced NaN");
  return best;
}

/** The budget stretch factor for a measured calibration time: ms / reference, clamped to [1, MAX_FACTOR]. */
export function factorFor(ms: number): number {
  return Math.min(MAX_FACTOR, Math.max(1, Math.round((ms / REFERENCE_MS) * 100) / 100));
}

/** This machine's factor ({@link factorFor} of a fresh measurement), or `COURSE_SPEED_FACTOR` when set. */
export function machineSpeed(env: NodeJS.ProcessEnv = process.env): { factor: number; ms: number | null } {
  const forced = env.COURSE_SPEED_FACTOR;
  if (forced !== undefined && forced !== "") {
    const f = Number(forced);
    if (!(f >= 1 && f <= MAX_FACTOR)) throw new Error(`COURSE_SPEED_FACTOR must be a number from 1 to ${MAX_FACTOR}, got "${forced}"`);
    return { factor: f, ms: null };
  }
  const ms = calibrationMs();
  return { factor: factorFor(ms), ms };
}
