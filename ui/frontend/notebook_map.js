// The latent map as an anywidget (vae_core/notebook.py's LatentMap): the data's posterior means
// as a canvas scatter, styled by the app's latent_plane.css in a shadow root. Hovering decodes
// the nearest point's own posterior mean here, every animation frame, with no kernel round trip;
// a click sends that point's row and z to the kernel, which passes z on to a linked Explorer.
import { decode, readDecoder } from "./decoder.js";
import { paintImage, sizeCanvas } from "./image_canvas.js";
import { dataBounds, legend, nearest, tag } from "./scatter_points.js";

const MAP_PX = 240; // latent_plane.css's .plane
const MARGIN = 6; // canvas pixels between the outermost points and the edge
const POINT_PX = 3;
const UNLABELLED = "rgba(49, 51, 63, 0.45)";

// Binary traits arrive as a DataView (ipywidgets 8) or an ArrayBuffer, as in notebook_widget.js.
function bytesOf(value) {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

// The view's coordinates (N, 2) -> canvas pixels (N, 2), each axis fitted to the canvas; up is
// larger, as in the app's plots.
function toPixels(coords) {
  const px = new Float32Array(coords.length);
  const [low, high] = dataBounds(coords);
  for (const axis of [0, 1]) {
    const unit = (MAP_PX - 2 * MARGIN) / (high[axis] - low[axis]);
    for (let i = axis; i < coords.length; i += 2) {
      const offset = MARGIN + (coords[i] - low[axis]) * unit;
      px[i] = axis === 0 ? offset : MAP_PX - offset;
    }
  }
  return px;
}

// The points, drawn once; a frame copies this and rings the hovered point.
function drawPoints(px, categories, colours) {
  const canvas = tag("canvas");
  Object.assign(canvas, { width: MAP_PX, height: MAP_PX });
  const context = canvas.getContext("2d");
  context.fillStyle = "rgba(49, 51, 63, 0.05)";
  context.fillRect(0, 0, MAP_PX, MAP_PX);
  for (let i = 0; i < px.length / 2; i += 1) {
    context.fillStyle = categories ? colours[categories[i] % colours.length] : UNLABELLED;
    context.fillRect(px[2 * i] - 1, px[2 * i + 1] - 1, POINT_PX, POINT_PX);
  }
  return canvas;
}

// The map, its axes and legend on the left; the decoded image and its caption on the right.
function layout(decoder, scale, axes, names, colours) {
  const plane = tag("canvas", "plane");
  Object.assign(plane, { width: MAP_PX, height: MAP_PX });
  plane.setAttribute("aria-label", "latent map: hover a point to decode it, click to send its z");
  const axesCaption = tag("div", "caption");
  axesCaption.textContent = `→ ${axes[0]}   ↑ ${axes[1]}`;
  const left = tag("div");
  left.append(plane, axesCaption, ...(names.length ? [legend(names, colours)] : []));
  const image = tag("canvas", "decoded");
  sizeCanvas(image, decoder.width * scale, decoder.height * scale);
  image.style.width = `${decoder.width * scale}px`;
  const caption = tag("div", "caption");
  caption.textContent = "Hover a point to decode it; click to send its z.";
  const figure = tag("div");
  figure.append(image, caption);
  const root = tag("div", "latent-plane");
  root.append(left, figure);
  return { root, plane, image, caption };
}

function render({ model, el }) {
  const decoder = readDecoder(bytesOf(model.get("decoder")));
  const shape = [decoder.channels, decoder.height, decoder.width];
  const coords = new Float32Array(bytesOf(model.get("coords")).slice().buffer);
  const latents = new Float32Array(bytesOf(model.get("latents")).slice().buffer);
  const categoryBytes = bytesOf(model.get("categories"));
  const categories = categoryBytes.length ? categoryBytes : null; // one byte a point
  const [names, colours, axes, scale] =
    ["names", "colours", "axes", "scale"].map((name) => model.get(name));
  const px = toPixels(coords);
  const points = drawPoints(px, categories, colours);

  const { root, plane, image, caption } = layout(decoder, scale, axes, names, colours);
  const shadow = el.shadowRoot ?? el.attachShadow({ mode: "open" });
  const style = tag("style");
  style.textContent = model.get("stylesheet");
  shadow.replaceChildren(style, root);
  el.classList.add("latent-lab-map");

  const latentDim = latents.length / (px.length / 2);
  const zOf = (i) => latents.subarray(i * latentDim, (i + 1) * latentDim);
  let hovered = -1;
  let drawn = null;
  let frames = 0;
  let frameRequested = false;

  const draw = () => {
    frameRequested = false;
    const context = plane.getContext("2d");
    context.drawImage(points, 0, 0);
    context.strokeStyle = "#31333f"; // dark: visible on every category colour
    context.lineWidth = 2;
    context.beginPath();
    context.arc(px[2 * hovered], px[2 * hovered + 1], 5, 0, 2 * Math.PI);
    context.stroke();
    const z = Array.from(zOf(hovered));
    const { mean } = decode(decoder, z);
    paintImage(image, mean, shape, scale);
    const label = categories ? ` · ${names[categories[hovered]]}` : "";
    const [x, y] = [coords[2 * hovered], coords[2 * hovered + 1]];
    caption.textContent = `#${hovered}${label} · (${x.toFixed(2)}, ${y.toFixed(2)})`;
    drawn = { index: hovered, z, mean: Array.from(mean) };
    frames += 1;
  };
  const pointUnder = (event) => {
    const rect = plane.getBoundingClientRect();
    return nearest(px, ((event.clientX - rect.left) / rect.width) * MAP_PX,
      ((event.clientY - rect.top) / rect.height) * MAP_PX);
  };
  plane.addEventListener("pointermove", (event) => {
    const next = pointUnder(event);
    if (next === hovered) return;
    hovered = next;
    if (!frameRequested) requestAnimationFrame(draw);
    frameRequested = true;
  });
  plane.addEventListener("click", (event) => {
    const i = pointUnder(event);
    model.set("index", i);
    model.set("z", Array.from(zOf(i)));
    model.save_changes();
  });
  plane.getContext("2d").drawImage(points, 0, 0);

  // For browser tests: where point i is on the page, and what the last frame decoded.
  el.latentLab = {
    frames: () => frames,
    lastFrame: () => drawn,
    pointAt: (i) => {
      const rect = plane.getBoundingClientRect();
      return { x: rect.left + (px[2 * i] / MAP_PX) * rect.width,
        y: rect.top + (px[2 * i + 1] / MAP_PX) * rect.height };
    },
  };
}

export default { render };
