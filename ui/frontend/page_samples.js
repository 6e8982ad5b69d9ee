// Samples x ~ p(x|z) drawn in the page: the counter-based generator of vae_core/hashed_samples.py
// (its docstring has the formulas), so a z and a seed give the images the server would draw.
// Each pixel's uniforms depend on (seed, sample index, pixel index) only.

const TWO_32 = 4294967296;

// lowbias32: uint32 -> uint32 (Math.imul multiplies modulo 2^32, >>> 0 reads the bits unsigned).
export function mix(x) {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const uniform = (key, counter) => (mix((key + counter) >>> 0) + 0.5) / TWO_32;

// The distribution's parameters for one z: { kind: "bernoulli", probs } or
// { kind: "gaussian", loc, std } (typed arrays of C * H * W values, loc unclamped).
// Returns `n` Float32Arrays in [0, 1]: sample i is the server's sample i for this seed.
export function drawSamples(distribution, seed, n) {
  if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_32) throw new Error(`bad seed ${seed}`);
  const { kind, probs, loc, std } = distribution;
  const size = (probs ?? loc).length;
  const samples = [];
  for (let i = 0; i < n; i += 1) {
    const key = mix((mix(seed) + i) >>> 0);
    const out = new Float32Array(size);
    for (let p = 0; p < size; p += 1) {
      const u1 = uniform(key, 2 * p);
      if (kind === "bernoulli") {
        out[p] = u1 < probs[p] ? 1 : 0;
      } else {
        const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * uniform(key, 2 * p + 1));
        out[p] = Math.min(Math.max(loc[p] + std[p] * normal, 0), 1);
      }
    }
    samples.push(out);
  }
  return samples;
}
