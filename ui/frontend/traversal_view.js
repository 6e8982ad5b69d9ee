// The traversal drawn in the page: the decoder's mean along one latent dimension from -limit to
// +limit (the other dimensions at the current z), the dimension chosen here, in the page. Its
// tiles are decoded with the preview strips' (decode_service.js preview, below the dragged
// image); tiles(z) lists those still to decode, paint() draws one as it comes back.

const TARGET_WIDTH_PX = 900; // as ui/render.py traversal_png

export class TraversalView {
  // labels and order as the sliders have them (display order); shape (C, H, W); paintTile is
  // image_canvas.js paintImage; onChoose() runs when another dimension is chosen.
  constructor({ labels, order, steps, limit, shape }, paintTile, onChoose) {
    const [, height, width] = shape;
    Object.assign(this, { steps, limit, shape, paintTile, wanted: null, drawn: null });
    this.painted = new Set();
    this.scale = Math.max(1, Math.floor(TARGET_WIDTH_PX / (steps * (width + 1) + 1)));
    this.element = document.createElement("div");
    this.element.className = "traversal";
    const label = document.createElement("label");
    label.textContent = "Traverse one dimension ";
    this.select = document.createElement("select");
    labels.forEach((text, i) => this.select.append(new Option(text, String(order[i]))));
    label.append(this.select);
    this.canvas = document.createElement("canvas");
    this.canvas.className = "traversal-strip";
    this.canvas.width = (steps * (width + 1) + 1) * this.scale;
    this.canvas.height = (height + 2) * this.scale;
    const context = this.canvas.getContext("2d");
    context.fillStyle = "rgb(128, 128, 128)"; // the gaps between tiles, as make_grid's
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.caption = document.createElement("div");
    this.caption.className = "caption";
    this.select.addEventListener("change", () => {
      this.describe();
      onChoose();
    });
    this.element.append(label, this.canvas, this.caption);
    this.describe();
  }

  get dim() {
    return Number(this.select.value);
  }

  describe() {
    this.caption.textContent = `Decoder mean with z${this.dim} from -${this.limit} to ` +
      `+${this.limit} (prior standard deviations), the other dimensions at the current z`;
  }

  // The tiles still to decode for z: [{ z, tag: { traversal: key, step } }].
  tiles(z) {
    const dim = this.dim;
    const key = `${dim}:${z.map((v, j) => (j === dim ? "*" : v)).join(",")}`;
    if (this.drawn === key) return [];
    if (this.wanted !== key) {
      this.wanted = key;
      this.painted = new Set();
    }
    const tiles = [];
    for (let step = 0; step < this.steps; step += 1) {
      if (this.painted.has(step)) continue;
      const point = z.slice();
      point[dim] = -this.limit + (2 * this.limit * step) / (this.steps - 1);
      tiles.push({ z: point, tag: { traversal: key, step } });
    }
    return tiles;
  }

  // A decoded tile: drawn if the traversal still wants it.
  paint({ tag, mean }) {
    if (tag.traversal !== this.wanted) return;
    const { scale } = this;
    const left = (1 + tag.step * (this.shape[2] + 1)) * scale;
    this.paintTile(this.canvas, mean, this.shape, scale, { left, top: scale });
    this.painted.add(tag.step);
    if (this.painted.size === this.steps) this.drawn = tag.traversal;
  }
}
