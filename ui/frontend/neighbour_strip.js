// The test images whose posterior means are closest to z, found and drawn in the page on every
// frame z moves, as ui/neighbours.py draws them on the server: Euclidean distance, nearest first,
// tiles from the thumbnail atlas in the decoder's file (page_decoder.js), separated by grey like
// vae_core.images.make_grid, upscaled without blur; the caption names them.

const PAD_GREY = "rgb(128, 128, 128)"; // make_grid's pad_value 0.5

// Indices of the k codes (count x dim, row-major) nearest to z, nearest first; ties keep the
// lower index.
export function nearestCodes(codes, dim, z, k) {
  const count = Math.floor(codes.length / dim);
  const best = []; // [distance, index], sorted, at most k
  for (let i = 0; i < count; i += 1) {
    let sum = 0;
    for (let j = 0; j < dim; j += 1) {
      const d = codes[i * dim + j] - z[j];
      sum += d * d;
    }
    if (best.length === k && sum >= best[k - 1][0]) continue;
    let at = best.length;
    while (at > 0 && best[at - 1][0] > sum) at -= 1;
    best.splice(at, 0, [sum, i]);
    if (best.length > k) best.pop();
  }
  return best.map(([, i]) => i);
}

export class NeighbourStrip {
  // neighbours: the file's { codes, dim, atlas: ImageBitmap, columns, tile_height, tile_width,
  // names }; strip: Python's { caption, k, scale }.
  constructor(neighbours, strip) {
    Object.assign(this, { neighbours, strip, z: null, shown: null });
    const k = Math.min(strip.k, neighbours.names.length);
    const { tile_height: height, tile_width: width } = neighbours;
    this.element = document.createElement("figure");
    this.element.className = "neighbours";
    this.canvas = document.createElement("canvas");
    this.canvas.className = "strip-of-neighbours";
    this.canvas.width = (k * (width + 1) + 1) * strip.scale;
    this.canvas.height = (height + 2) * strip.scale;
    this.canvas.style.width = `${this.canvas.width}px`;
    this.caption = document.createElement("figcaption");
    this.caption.className = "caption";
    this.element.append(this.canvas, this.caption);
    this.k = k;
  }

  // z in dimension order; redrawn only when the nearest set changes.
  show(z) {
    if (this.z !== null && z.every((v, i) => v === this.z[i])) return;
    this.z = z.slice();
    const { codes, dim, names } = this.neighbours;
    const nearest = nearestCodes(codes, dim, z, this.k);
    if (this.shown && nearest.every((index, i) => index === this.shown[i])) return;
    this.shown = nearest;
    this.draw(nearest);
    this.caption.textContent = this.strip.caption + nearest.map((i) => names[i]).join(", ");
  }

  draw(nearest) {
    const { atlas, columns, tile_height: height, tile_width: width } = this.neighbours;
    const { scale } = this.strip;
    const context = this.canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    context.fillStyle = PAD_GREY;
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    nearest.forEach((index, slot) => {
      const sx = (index % columns) * width;
      const sy = Math.floor(index / columns) * height;
      context.drawImage(atlas, sx, sy, width, height, (1 + slot * (width + 1)) * scale, scale,
        width * scale, height * scale);
    });
  }
}
