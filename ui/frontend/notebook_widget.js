// The latent explorer as an anywidget (vae_core/notebook.py): the host adapter over the shared
// modules. The widget draws in a shadow root so the app's stylesheet (latent_sliders.css, sent as
// a trait) styles it without leaking into the notebook. The image is decoded in the page, off the
// main thread where a worker can start (decode_service.js), and the newest one drawn each animation
// frame; the kernel's `z` is set on release (a slider's change, the pad's pointerup) only.
import { decode, readDecoder } from "./decoder.js";
import { openDecodes } from "./decode_service.js";
import { paintImage, sizeCanvas } from "./image_canvas.js";
import { createPad } from "./latent_pad.js";
import { PreviewStrips } from "./preview_strips.js";

// Binary traits arrive as a DataView (ipywidgets 8) or an ArrayBuffer, depending on the host.
function bytesOf(value) {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

function tag(name, className) {
  const node = document.createElement(name);
  if (className) node.className = className;
  return node;
}

function snapTo(value, step) {
  return Math.round(Math.round(value / step) * step * 100) / 100;
}

function sliderRow(label, limit, step) {
  const row = tag("div", "row");
  const head = tag("div", "head");
  const name = tag("span", "name");
  name.textContent = label;
  const shown = tag("output");
  const input = tag("input");
  Object.assign(input, { type: "range", min: -limit, max: limit, step });
  input.setAttribute("aria-label", label);
  head.append(name, shown);
  row.append(head, input, tag("canvas", "strip"));
  return { row, input, shown, strip: row.lastChild };
}

function imageCanvas(className, decoder, scale) {
  const canvas = tag("canvas", className);
  sizeCanvas(canvas, decoder.width * scale, decoder.height * scale);
  canvas.style.width = `${decoder.width * scale}px`; // not stretched to the column
  return canvas;
}

function paintStd(canvas, caption, std, shape, scale) {
  const low = std.reduce((a, b) => Math.min(a, b), Infinity);
  const high = std.reduce((a, b) => Math.max(a, b), 0);
  paintImage(canvas, std, shape, scale, { low, range: Math.max(high - low, 1e-8) });
  caption.textContent = `Decoder std per pixel: ${low.toFixed(3)} (black) to ${high.toFixed(3)} (white)`;
}

function render({ model, el }) {
  const packed = bytesOf(model.get("decoder"));
  const decoder = readDecoder(packed);
  const shape = [decoder.channels, decoder.height, decoder.width];
  const [labels, order, limit, step, scale] =
    ["labels", "order", "limit", "step", "scale"].map((name) => model.get(name));
  const shadow = el.shadowRoot ?? el.attachShadow({ mode: "open" });
  const style = tag("style");
  style.textContent = model.get("stylesheet");
  const root = tag("div", "latent-explorer in-page");
  shadow.replaceChildren(style, root);
  el.classList.add("latent-lab-explorer");

  let z = Array.from(model.get("z"));
  let drawn = null;
  let frames = 0;
  let frameRequested = false;
  const rows = labels.map((label) => sliderRow(label, limit, step));
  const sliders = tag("div", rows.length > 6 ? "latent-sliders two" : "latent-sliders");
  if (rows.length > 6) sliders.style.gridTemplateRows = `repeat(${Math.ceil(rows.length / 2)}, auto)`;
  sliders.append(...rows.map((r) => r.row));
  const panel = tag("div", "slider-panel");
  panel.append(sliders);
  const figure = tag("div", "figure");
  const mean = imageCanvas("mean", decoder, scale);
  figure.append(mean);
  const gaussian = decoder.header.head.kind === "gaussian";
  const std = gaussian ? imageCanvas("std", decoder, scale) : null;
  const stdCaption = tag("div", "caption");
  if (gaussian) figure.append(std, stdCaption);
  root.append(panel, figure);

  const tile = decoder.width + 1;
  const strips = new PreviewStrips(
    (canvas, image, k) => paintImage(canvas, image, shape, 1, { left: k * tile }));
  rows.forEach((r) => sizeCanvas(r.strip, strips.steps * tile - 1, decoder.height));
  strips.reset(rows.map((r, i) => ({ canvas: r.strip, dim: order[i] })));

  let newest = null; // the newest image decoded for the sliders' z
  const tiles = []; // strip tiles decoded, to draw
  const drawFrame = () => {
    frameRequested = false;
    if (newest && !(drawn && newest.z.every((v, j) => v === drawn[j]))) {
      paintImage(mean, newest.mean, shape, scale);
      if (gaussian) paintStd(std, stdCaption, newest.std, shape, scale);
      drawn = newest.z;
      frames += 1;
    }
    while (tiles.length) strips.paint(tiles.shift());
  };
  const requestDraw = () => {
    if (!frameRequested) requestAnimationFrame(drawFrame);
    frameRequested = true;
  };
  const decodes = openDecodes(decoder, packed, (image) => {
    if (image.kind === "tile") tiles.push(image);
    else if (!newest || image.id > newest.id) newest = image;
    requestDraw();
  });
  const decodeZ = () => {
    const point = z.slice();
    decodes.show(point);
    decodes.preview(strips.tiles(point));
    pad?.update(point);
  };
  const show = () => {
    rows.forEach((r, i) => {
      r.input.value = String(z[order[i]]);
      r.shown.textContent = z[order[i]].toFixed(2);
    });
    decodeZ();
  };
  const release = () => {
    model.set("z", z.slice());
    model.save_changes();
  };
  rows.forEach((r, i) => {
    r.input.addEventListener("input", () => {
      z[order[i]] = snapTo(parseFloat(r.input.value), step);
      r.shown.textContent = z[order[i]].toFixed(2);
      decodeZ();
    });
    r.input.addEventListener("change", release);
  });
  const scatterBytes = bytesOf(model.get("scatter"));
  const pad = labels.length < 2 ? null : createPad({
    labels, order, limit, latentDim: z.length,
    scatter: scatterBytes.length ? new Float32Array(scatterBytes.slice().buffer) : null,
    onMove: (dimX, valueX, dimY, valueY, released) => {
      z[dimX] = snapTo(valueX, step);
      z[dimY] = snapTo(valueY, step);
      show();
      if (released) release();
    },
  });
  if (pad) figure.append(pad.element);

  const fromKernel = () => {
    const next = Array.from(model.get("z"));
    if (next.length === z.length && next.some((v, j) => v !== z[j])) {
      z = next;
      show();
    }
  };
  model.on("change:z", fromKernel);
  show();

  // For browser tests, as the Streamlit component's: decode any z here (at once, on this thread);
  // what was drawn last.
  el.latentLab = {
    decode: (point) => {
      const out = decode(decoder, point);
      return { mean: Array.from(out.mean), std: out.std ? Array.from(out.std) : null };
    },
    frames: () => frames,
    lastFrame: () => ({ z: drawn, mean: drawn && Array.from(decode(decoder, drawn).mean) }),
  };
  return () => {
    decodes.close();
    model.off("change:z", fromKernel);
  };
}

export default { render };
