// Preview strips: under each slider, the decoder's mean along that dimension from -3 to 3 with the
// other dimensions at the current z. Decoded in short time slices between animation frames, so a
// strip never delays the main image; a strip is redone only when the rest of z has changed.

const STRIP_STEPS = 7;
const SLICE_MS = 4; // per slice: a 60 Hz frame keeps ~12 ms for the main image and drawing

function stripKey(z, dim) {
  return z.map((v, j) => (j === dim ? "*" : v)).join(",");
}

export function createStrips(decodeMean, paint) {
  const strips = []; // { canvas, dim, key }
  let z = null;
  let timer = null;

  const work = () => {
    timer = null;
    const started = performance.now();
    for (const strip of strips) {
      const key = stripKey(z, strip.dim);
      if (strip.key === key) continue;
      for (let step = strip.next ?? 0; step < STRIP_STEPS; step += 1) {
        if (performance.now() - started > SLICE_MS) {
          strip.next = step;
          timer = setTimeout(work, 0);
          return;
        }
        const point = z.slice();
        point[strip.dim] = -3 + (6 * step) / (STRIP_STEPS - 1);
        paint(strip.canvas, decodeMean(point), step);
      }
      strip.key = key;
      strip.next = 0;
    }
  };

  return {
    steps: STRIP_STEPS,
    reset(entries) {
      strips.length = 0;
      strips.push(...entries.map(({ canvas, dim }) => ({ canvas, dim, key: null, next: 0 })));
    },
    update(nextZ) {
      z = nextZ;
      for (const strip of strips) if (strip.key !== stripKey(z, strip.dim)) strip.next = 0;
      if (timer === null && strips.length) timer = setTimeout(work, 0);
    },
    stop() {
      clearTimeout(timer);
      timer = null;
    },
  };
}
