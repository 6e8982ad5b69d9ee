// Preview strips: under each slider, the decoder's mean along that dimension from -3 to 3 with
// the other dimensions at the current z. tiles(z) lists the tiles to decode (at a lower priority
// than the image being dragged: decode_service.js), paint() draws one as it comes back; a strip
// is redone only when the rest of z has changed.

const STRIP_STEPS = 7;

function stripKey(z, dim) {
  return z.map((v, j) => (j === dim ? "*" : v)).join(",");
}

export class PreviewStrips {
  // paintTile(canvas, mean, step) draws one tile of a strip.
  constructor(paintTile) {
    this.paintTile = paintTile;
    this.strips = new Map(); // dim -> { canvas, wanted: the key asked for, painted: its steps }
  }

  get steps() {
    return STRIP_STEPS;
  }

  // The visible strips, most used first: [{ canvas, dim }].
  reset(entries) {
    this.strips = new Map(entries.map(({ canvas, dim }) =>
      [dim, { canvas, wanted: null, drawn: null, painted: new Set() }]));
  }

  // The tiles still to decode for z: [{ z, tag: { dim, key, step } }].
  tiles(z) {
    const tiles = [];
    for (const [dim, strip] of this.strips) {
      const key = stripKey(z, dim);
      if (strip.drawn === key) continue;
      if (strip.wanted !== key) Object.assign(strip, { wanted: key, painted: new Set() });
      for (let step = 0; step < STRIP_STEPS; step += 1) {
        if (strip.painted.has(step)) continue;
        const point = z.slice();
        point[dim] = -3 + (6 * step) / (STRIP_STEPS - 1);
        tiles.push({ z: point, tag: { dim, key, step } });
      }
    }
    return tiles;
  }

  // A decoded tile: drawn if its strip still wants it.
  paint({ tag, mean }) {
    const strip = this.strips.get(tag.dim);
    if (!strip || strip.wanted !== tag.key) return;
    this.paintTile(strip.canvas, mean, tag.step);
    strip.painted.add(tag.step);
    if (strip.painted.size === STRIP_STEPS) strip.drawn = tag.key;
  }
}
