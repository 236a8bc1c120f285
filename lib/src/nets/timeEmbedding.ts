/**
 * Sinusoidal timestep embedding.
 *
 * Papers: Vaswani et al. 2017, "Attention Is All You Need" (sinusoidal position encoding);
 * Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (the same encoding of the
 * diffusion timestep t). Layout follows openai/guided-diffusion `timestep_embedding`:
 * all cosines first, then all sines (Vaswani interleaves them; the order does not matter to a
 * network that follows).
 *
 * Notation:
 * | code      | math                                   |
 * |-----------|----------------------------------------|
 * | t         | timestep index t ∈ {0, …, T−1}         |
 * | dim       | embedding width d                      |
 * | half      | d/2 (floor)                            |
 * | freqs[i]  | ω_i = maxPeriod^(−i/half), i < half    |
 * | out       | [cos(t·ω_0…), sin(t·ω_0…)] (+ a 0 column if d is odd) |
 *
 * @see notebooks/01_score_matching.ipynb
 */
import * as tf from "@tensorflow/tfjs";

/**
 * The frequencies ω_i = maxPeriod^(−i/half), i = 0 … half−1, in float64.
 *
 * @see notebooks/01_score_matching.ipynb
 */
export function timestepFrequencies(dim: number, maxPeriod = 10000): Float64Array {
  const half = Math.floor(dim / 2);
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) out[i] = Math.exp((-Math.log(maxPeriod) * i) / half);
  return out;
}

/**
 * Sinusoidal embedding of timesteps: row b is
 * [cos(t_b·ω_0), …, cos(t_b·ω_{half−1}), sin(t_b·ω_0), …, sin(t_b·ω_{half−1})].
 *
 * @param t timesteps [B] (int32 or float32; fractional t is allowed)
 * @param dim embedding width d ≥ 2
 * @param maxPeriod the longest period, 10000 as in Vaswani et al.
 * @returns [B, dim]
 * @example timestepEmbedding(tf.tensor1d([0, 10]), 8) // row 0 = [1,1,1,1,0,0,0,0]
 * @see notebooks/01_score_matching.ipynb
 */
export function timestepEmbedding(t: tf.Tensor1D, dim: number, maxPeriod = 10000): tf.Tensor2D {
  if (!Number.isInteger(dim) || dim < 2) throw new Error(`timestepEmbedding: dim must be an integer ≥ 2, got ${dim}`);
  if (t.rank !== 1) throw new Error(`timestepEmbedding: t must be 1-D [B], got shape [${t.shape}]`);
  const freqs = timestepFrequencies(dim, maxPeriod);
  return tf.tidy(() => {
    const w = tf.tensor2d(Float32Array.from(freqs), [1, freqs.length]); // [1, half]
    const args = tf.mul(tf.reshape(tf.cast(t, "float32"), [-1, 1]), w); // [B, half]
    const parts = [tf.cos(args), tf.sin(args)]; // 2 × [B, half]
    if (dim % 2 === 1) parts.push(tf.zeros([t.shape[0], 1])); // [B, 1]
    return tf.concat(parts, 1) as tf.Tensor2D; // [B, dim]
  });
}
