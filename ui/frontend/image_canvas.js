// (C, H, W) floats in [0, 1] -> a canvas, upscaled by an integer factor with nearest-neighbour
// (crisp pixels, as vae_core.images.to_pil). One channel is grey, three are RGB.

const smallCanvases = new WeakMap(); // target canvas -> its native-size scratch canvas

function toRgba(values, channels, height, width, image, low, range) {
  const plane = height * width;
  const rgb = channels === 3;
  for (let p = 0; p < plane; p += 1) {
    for (let c = 0; c < 3; c += 1) {
      const v = (values[(rgb ? c : 0) * plane + p] - low) / range;
      image.data[p * 4 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    image.data[p * 4 + 3] = 255;
  }
}

// Draws into `canvas` at (left, top), `scale` canvas pixels per image pixel; values from `low`
// (black) to `low + range` (white).
export function paintImage(canvas, values, shape, scale, options = {}) {
  const { left = 0, top = 0, low = 0, range = 1 } = options;
  const [channels, height, width] = shape;
  let small = smallCanvases.get(canvas);
  if (!small || small.width !== width || small.height !== height) {
    small = document.createElement("canvas");
    Object.assign(small, { width, height });
    small.image = new ImageData(width, height);
    smallCanvases.set(canvas, small);
  }
  toRgba(values, channels, height, width, small.image, low, range);
  small.getContext("2d").putImageData(small.image, 0, 0);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(small, left, top, width * scale, height * scale);
}

export function sizeCanvas(canvas, width, height) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
}
