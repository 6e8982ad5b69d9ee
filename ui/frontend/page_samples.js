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

// The samples' panel: a grid of n tiles, two a row, on grey (as vae_core.images.make_grid),
// their captions and a "New samples" button that asks for the next seed (onNewSeed(seed)).
export class SamplesPanel {
  constructor({ shape, n, scale, caption }, onNewSeed) {
    const [, height, width] = shape;
    Object.assign(this, { shape, n, scale, seed: 0, onNewSeed, drawn: [] });
    this.columns = Math.min(2, n);
    this.element = document.createElement("div");
    this.element.className = "samples";
    this.canvas = document.createElement("canvas");
    this.canvas.className = "samples-grid";
    this.canvas.width = (this.columns * (width + 1) + 1) * scale;
    this.canvas.height = (Math.ceil(n / this.columns) * (height + 1) + 1) * scale;
    this.canvas.style.width = `${this.canvas.width}px`;
    const title = document.createElement("div");
    title.className = "caption";
    title.textContent = `${n} draws x ~ p(x|z)`;
    this.note = document.createElement("div");
    this.note.className = "caption";
    this.caption = caption;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "new-samples";
    button.textContent = "New samples";
    button.addEventListener("click", () => this.onNewSeed(this.seed + 1));
    this.element.append(this.canvas, title, this.note, button);
  }

  // Draws the n samples of this distribution (see drawSamples) for `seed`; paint is
  // image_canvas.js paintImage.
  draw(distribution, seed, paint) {
    this.seed = seed;
    this.note.textContent =
      `Samples from the decoder distribution p(x|z), ${this.caption}; seed ${seed}.`;
    const context = this.canvas.getContext("2d");
    context.fillStyle = "rgb(128, 128, 128)";
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const [, height, width] = this.shape;
    this.drawn = drawSamples(distribution, seed, this.n);
    this.drawn.forEach((sample, i) => {
      const left = (1 + (i % this.columns) * (width + 1)) * this.scale;
      const top = (1 + Math.floor(i / this.columns) * (height + 1)) * this.scale;
      paint(this.canvas, sample, this.shape, this.scale, { left, top });
    });
  }
}
