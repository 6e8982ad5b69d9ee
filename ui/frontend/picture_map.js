// The latent map drawn in the page (ui/picture_map.py): a dot per point while the map is crowded
// and, as the zoom makes room, each point's own image, cut from one atlas PNG sent once per model.
// Wheel zooms at the pointer and a drag pans, with no rerun; hovering enlarges the image under the
// pointer; a box or lasso selects points and shows their images as a grid under the map; a click
// on a point (or a grid cell) reports its example to Python. Only points in view are drawn.
import { readEnvelope } from "./decoder.js";
import { BACKGROUND, fit, HEIGHT_PX, pictureRect, requestFrame } from "./picture_draw.js";
import { clearSelection, drawGrid, GRID_MAX, gridPlace } from "./picture_grid.js";
import { listen, zoomAt } from "./picture_input.js";
import { packColour, readPixels } from "./pixel_layer.js";
import { legend, tag } from "./scatter_points.js";

const KEEP_ATLASES = 2;
const atlases = new Map(); // atlas id -> { image, error, ready }: survives reruns and remounts
const maps = new WeakMap(); // parentElement -> map

// The atlas for control.atlas.id: cached, else decoded from the blob (undefined if not sent).
function loadAtlas(control, blobs) {
  const { id } = control.atlas;
  if (atlases.has(id) || !blobs.atlas) return atlases.get(id);
  const entry = { image: null, error: null };
  const png = new Blob([blobs.atlas.slice()], { type: "image/png" });
  entry.ready = createImageBitmap(png, { colorSpaceConversion: "none" })
    .then((image) => { [entry.image, entry.pixels] = [image, readPixels(image)]; })
    .catch((error) => { entry.error = String(error?.message ?? error); });
  atlases.set(id, entry);
  if (atlases.size > KEEP_ATLASES) atlases.delete(atlases.keys().next().value); // oldest
  return entry;
}

// What to tell Python (state "atlas"), or null: it sends the atlas until it hears ok or an
// error, and again if it believes we hold one we lost.
function atlasReport(control, entry) {
  const { id, in_page: inPage } = control.atlas;
  if (entry === undefined) return inPage ? { id, ok: false, error: null } : null;
  if (!entry.image && !entry.error) return null; // still decoding
  return { id, ok: Boolean(entry.image), error: entry.error };
}

function floats(blob) {
  return new Float32Array(blob.slice().buffer);
}

function readPoints(control, blobs) {
  const coords = floats(blobs.coords);
  const byColour = control.palette.map(() => []);
  blobs.colours.forEach((k, i) => byColour[k]?.push(i));
  return { coords, count: coords.length / 2, examples: new Int32Array(blobs.examples.slice().buffer),
    colours: blobs.colours.slice(), values: floats(blobs.values), byColour };
}

function legendOf(control) {
  const { legend: key, palette } = control;
  if (key.kind === "categories") return legend(key.names, palette);
  const box = tag("div", "caption");
  box.textContent = `colour: ${key.name}, from ${key.low.toFixed(2)} (purple) to ` +
    `${key.high.toFixed(2)} (yellow)`;
  return box;
}

function toolbar(m) {
  const tools = tag("div", "tools");
  const modes = [["pan", "Pan"], ["box", "Box select"], ["lasso", "Lasso select"]];
  m.modeButtons = modes.map(([mode, text]) => {
    const button = tag("button");
    Object.assign(button, { type: "button", textContent: text });
    button.dataset.mode = mode;
    button.addEventListener("click", () => setMode(m, mode));
    return button;
  });
  const reset = tag("button");
  Object.assign(reset, { type: "button", textContent: "Reset view" });
  reset.addEventListener("click", () => { fit(m); requestFrame(m); });
  const clear = tag("button");
  Object.assign(clear, { type: "button", textContent: "Clear selection" });
  clear.addEventListener("click", () => { clearSelection(m); requestFrame(m); });
  const hint = tag("span", "caption");
  hint.textContent = "wheel: zoom · drag: pan (shift-drag: box) · click: show beside the map";
  tools.append(...m.modeButtons, reset, clear, hint);
  return tools;
}

function setMode(m, mode) {
  m.mode = mode;
  m.modeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
  m.canvas.classList.toggle("selecting", mode !== "pan");
}

function createMap(parent) {
  const root = tag("div", "picture-map");
  const m = { root, mode: "pan", hovered: -1, selected: [], frames: 0, frameTimes: [],
    pending: false, drag: null, drawn: null, dataSeq: 0, selectionSeq: 0 };
  m.background = packColour(BACKGROUND);
  m.canvas = tag("canvas", "map");
  m.canvas.tabIndex = 0;
  m.canvas.setAttribute("aria-label", "latent map: wheel or + and - zoom, drag or the arrow keys "
    + "pan, a click shows the point's example beside the map, Escape clears the selection");
  m.status = tag("div", "caption");
  m.axes = tag("div", "caption");
  m.legend = tag("div");
  m.gridCaption = tag("div", "caption");
  m.grid = tag("canvas", "grid");
  root.append(toolbar(m), m.canvas, m.status, m.axes, m.legend, m.gridCaption, m.grid);
  parent.appendChild(root);
  setMode(m, "pan");
  listen(m);
  new ResizeObserver(() => { resize(m); requestFrame(m); }).observe(root);
  root.latentLab = testHooks(m);
  return m;
}

function resize(m) {
  const width = Math.max(200, m.root.clientWidth);
  if (width === m.width) return;
  m.width = width;
  m.ratio = window.devicePixelRatio || 1;
  Object.assign(m.canvas, { width: Math.round(width * m.ratio), height: HEIGHT_PX * m.ratio });
  m.canvas.style.height = `${HEIGHT_PX}px`;
  if (m.view?.fitted) fit(m);
  drawGrid(m);
}

// For browser tests and the benchmark: where things are, what the last frame drew, frame times.
function testHooks(m) {
  const toCanvas = (r) => ({ example: r.example, x: r.left * m.ratio, y: r.top * m.ratio,
    width: r.width * m.ratio, height: r.height * m.ratio });
  return {
    frames: () => m.frames,
    frameTimes: () => m.frameTimes.slice(),
    status: () => ({ points: m.points?.count ?? 0, atlas: m.atlas?.image ? "ready"
      : m.atlas?.error ?? "missing", pictures: Boolean(m.drawn?.pictures),
    inView: m.drawn?.visible.length ?? 0, zoom: m.view ? m.view.scale / m.view.fitScale : 0,
    hovered: m.hovered >= 0 ? m.points.examples[m.hovered] : null,
    selected: m.selected.map((i) => m.points.examples[i]) }),
    pointAt: (example) => {
      const i = m.points.examples.indexOf(example);
      const rect = m.canvas.getBoundingClientRect();
      return i < 0 ? null : { x: rect.left + m.px[2 * i], y: rect.top + m.px[2 * i + 1] };
    },
    // Canvas-pixel rectangles of the pictures the last frame drew, the topmost last.
    drawnPictures: () => Array.from(m.drawn?.pictures ? m.drawn.visible : [], (i) => {
      const [x, y, width, height] = pictureRect(m, i, m.drawn.width);
      return { example: m.points.examples[i], x, y, width, height };
    }),
    hoverPicture: () => (m.hoverRect ? toCanvas(m.hoverRect) : null),
    // The grid's pictures, in its own canvas's pixels (it is not scaled by the pixel ratio).
    gridPictures: () => m.selected.slice(0, Math.min(m.selected.length, GRID_MAX)).map((i, cell) => {
      const { left, top, width, height } = gridPlace(m, cell);
      return { example: m.points.examples[i], x: left, y: top, width, height };
    }),
    zoomAt: (x, y, factor) => zoomAt(m, x, y, factor),
  };
}

function receive(m, data, send) {
  const { control, blobs } = readEnvelope(data);
  const signature = JSON.stringify([control.axes, blobs.coords.length, control.atlas.id]);
  m.control = control;
  m.send = send;
  m.points = readPoints(control, blobs);
  m.packed = control.palette.map(packColour);
  m.dataSeq += 1;
  m.atlas = loadAtlas(control, blobs);
  m.atlas?.ready?.then(() => {
    if (m.control.atlas.id !== control.atlas.id) return;
    report(m);
    drawGrid(m);
    requestFrame(m);
  });
  report(m);
  m.axes.textContent = `→ ${control.axes[0]}   ↑ ${control.axes[1]}`;
  m.legend.replaceChildren(legendOf(control));
  resize(m);
  if (signature !== m.signature) {
    m.signature = signature;
    m.hovered = -1;
    fit(m);
    clearSelection(m);
  }
  requestFrame(m);
}

function report(m) {
  const status = atlasReport(m.control, m.atlas);
  const key = JSON.stringify(status);
  if (status === null || key === m.reported) return;
  m.reported = key;
  m.send("atlas", status);
}

export default function pictureMap({ data, parentElement, setStateValue }) {
  let m = maps.get(parentElement);
  if (!m) {
    m = createMap(parentElement);
    maps.set(parentElement, m);
  }
  receive(m, data, setStateValue);
}
