// Preview strips: under each slider, the decoder's mean along that dimension from -3 to 3 with
// the other dimensions at the current z. Decoded one tile at a time in the browser's idle time
// (requestIdleCallback), only while the frame has room for another decode, so a strip never
// delays the main image; a strip is redone only when the rest of z has changed.

const STRIP_STEPS = 7;

function stripKey(z, dim) {
  return z.map((v, j) => (j === dim ? "*" : v)).join(",");
}

export function createStrips(decodeMean, paint) {
  const strips = []; // { canvas, dim, key }
  let z = null;
  let idle = null;
  let tileMs = 1; // the last tile's decode + draw: another fits only if this much time is left

  const work = (deadline) => {
    idle = null;
    for (const strip of strips) {
      const key = stripKey(z, strip.dim);
      if (strip.key === key) continue;
      for (let step = strip.next ?? 0; step < STRIP_STEPS; step += 1) {
        if (deadline.timeRemaining() <= tileMs) {
          strip.next = step;
          idle = requestIdleCallback(work);
          return;
        }
        const started = performance.now();
        const point = z.slice();
        point[strip.dim] = -3 + (6 * step) / (STRIP_STEPS - 1);
        paint(strip.canvas, decodeMean(point), step);
        tileMs = performance.now() - started;
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
      if (idle === null && strips.length) idle = requestIdleCallback(work);
    },
    stop() {
      cancelIdleCallback(idle);
      idle = null;
    },
  };
}
