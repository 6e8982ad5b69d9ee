// The picture map's points layer, drawn pixel by pixel into one ImageData and put on a canvas
// in one call: a canvas drawImage per picture costs ~20 us of overhead, so 1,000 pictures took
// 20-70 ms a frame; writing their pixels here takes a few ms. Colours are RGBA packed in a
// Uint32 in the machine's byte order (as a Uint32Array over ImageData's bytes reads them).
import { tag } from "./scatter_points.js";

// Any CSS colour -> its packed RGBA.
export function packColour(css) {
  const canvas = tag("canvas");
  Object.assign(canvas, { width: 1, height: 1 });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = css;
  context.fillRect(0, 0, 1, 1);
  return new Uint32Array(context.getImageData(0, 0, 1, 1).data.buffer)[0];
}

// An image's packed pixels: { width, height, pixels (Uint32Array) }.
export function readPixels(image) {
  const canvas = tag("canvas");
  Object.assign(canvas, { width: image.width, height: image.height });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  const { data } = context.getImageData(0, 0, image.width, image.height);
  return { width: image.width, height: image.height, pixels: new Uint32Array(data.buffer) };
}

// A width x height layer: fill it, draw rectangles and scaled tiles, put it on a canvas.
export function createLayer(width, height) {
  const image = new ImageData(width, height);
  const pixels = new Uint32Array(image.data.buffer);
  let sourceColumns = new Int32Array(64); // per destination column: its source column

  // The part of [x, x + w) x [y, y + h) inside the layer, in whole pixels, or null.
  const clip = (x, y, w, h) => {
    const [left, top] = [Math.max(0, Math.round(x)), Math.max(0, Math.round(y))];
    const right = Math.min(width, Math.round(x + w));
    const bottom = Math.min(height, Math.round(y + h));
    return right > left && bottom > top ? [left, top, right, bottom] : null;
  };

  return {
    width,
    height,
    clear: (colour) => pixels.fill(colour),
    fillRect(x, y, w, h, colour) {
      const box = clip(x, y, w, h);
      if (!box) return;
      const [left, top, right, bottom] = box;
      for (let row = top; row < bottom; row += 1) pixels.fill(colour, row * width + left, row * width + right);
    },
    // Tile [sx, sx + sw) x [sy, sy + sh) of `atlas` scaled (nearest) onto (x, y, w, h).
    drawTile(atlas, sx, sy, sw, sh, x, y, w, h) {
      const box = clip(x, y, w, h);
      if (!box) return;
      const [left, top, right, bottom] = box;
      const [x0, y0] = [Math.round(x), Math.round(y)];
      const [dw, dh] = [Math.round(x + w) - x0, Math.round(y + h) - y0];
      if (sourceColumns.length < right - left) sourceColumns = new Int32Array(2 * (right - left));
      for (let col = left; col < right; col += 1) {
        sourceColumns[col - left] = sx + Math.min(sw - 1, Math.floor(((col - x0 + 0.5) * sw) / dw));
      }
      for (let row = top; row < bottom; row += 1) {
        const source = (sy + Math.min(sh - 1, Math.floor(((row - y0 + 0.5) * sh) / dh))) * atlas.width;
        const start = row * width;
        for (let col = left; col < right; col += 1) {
          pixels[start + col] = atlas.pixels[source + sourceColumns[col - left]];
        }
      }
    },
    putOn: (canvas) => canvas.getContext("2d").putImageData(image, 0, 0),
  };
}
