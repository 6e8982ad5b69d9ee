// The latent map drawn in the page (ui/picture_map.py): a dot per point while the map is crowded
// and, as the zoom makes room, each point's own image, cut from one atlas PNG sent once per model.
// Wheel zooms at the pointer and a drag pans, with no rerun; hovering enlarges the image under the
// pointer; a box or lasso selects points and shows their images as a grid under the map; a click
// on a point (or a grid cell) reports its example to Python. Only points in view are drawn.
import { readEnvelope } from "./decoder.js";
import { dataBounds, legend, nearest, tag } from "./scatter_points.js";

const HEIGHT_PX = 560;
const MARGIN_PX = 24;
const DOT_PX = 4;
const PICTURE_FROM_PX = 14; // pictures replace dots once each would be this wide
const MAX_PICTURE_PX = 160;
const MAX_PICTURES = 4000; // more points in view than this stay dots, so a frame stays short
const MAX_ZOOM = 400;
const HOVER_TARGET_PX = 128; // the enlarged image: the tile's integer multiple nearest this
const GRID_CELL_PX = 56;
const GRID_MAX = 300; // selected images shown in the grid
const CLICK_PX = 4; // a press that moves less than this is a click, not a drag
const FRAME_LOG = 600; // frame times kept for benchmarks/picture_map.py
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
    .then((image) => { entry.image = image; })
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

function labelOf(m, i) {
  const { legend: key } = m.control;
  const value = m.points.values[i];
  const text = key.kind === "categories" ? key.names[value] : `${key.name} ${value.toFixed(2)}`;
  return `#${m.points.examples[i]} · ${text}`;
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
  const hint = tag("span", "caption");
  hint.textContent = "wheel: zoom · drag: pan (shift-drag: box) · click: show beside the map";
  tools.append(...m.modeButtons, reset, hint);
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
    pending: false, drag: null, drawn: null };
  m.canvas = tag("canvas", "map");
  m.canvas.tabIndex = 0;
  m.canvas.setAttribute("aria-label", "latent map: wheel or + and - zoom, drag or the arrow keys "
    + "pan, a click shows the point's example beside the map");
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

// Zoom and centre so every point is in view, with equal units on both axes.
function fit(m) {
  const [low, high] = dataBounds(m.points.coords);
  const scale = Math.min((m.width - 2 * MARGIN_PX) / (high[0] - low[0]),
    (HEIGHT_PX - 2 * MARGIN_PX) / (high[1] - low[1]));
  m.view = { cx: (low[0] + high[0]) / 2, cy: (low[1] + high[1]) / 2, scale, fitScale: scale,
    fitted: true };
  // Pictures at the fitted zoom would be as wide as each point's share of the map's area.
  m.overviewPx = 0.5 * Math.sqrt((m.width * HEIGHT_PX) / m.points.count);
}

function toScreen(m) {
  const { cx, cy, scale } = m.view;
  const { coords } = m.points;
  const px = m.px?.length === coords.length ? m.px : new Float32Array(coords.length);
  for (let i = 0; i < coords.length; i += 2) {
    px[i] = m.width / 2 + (coords[i] - cx) * scale;
    px[i + 1] = HEIGHT_PX / 2 - (coords[i + 1] - cy) * scale;
  }
  m.px = px;
}

function pictureWidth(m) {
  const { tile_width: tile } = m.control.atlas;
  const zoomed = m.overviewPx * (m.view.scale / m.view.fitScale);
  return Math.min(zoomed, MAX_PICTURE_PX, Math.max(4 * tile, PICTURE_FROM_PX));
}

function inView(m, margin) {
  const visible = [];
  for (let i = 0; i < m.points.count; i += 1) {
    const [x, y] = [m.px[2 * i], m.px[2 * i + 1]];
    if (x > -margin && x < m.width + margin && y > -margin && y < HEIGHT_PX + margin) {
      visible.push(i);
    }
  }
  return visible;
}

function drawDots(context, m, visible) {
  const shown = new Uint8Array(m.points.count);
  visible.forEach((i) => { shown[i] = 1; });
  m.points.byColour.forEach((members, k) => {
    context.fillStyle = m.control.palette[k];
    context.beginPath();
    for (const i of members) {
      if (shown[i]) context.rect(m.px[2 * i] - DOT_PX / 2, m.px[2 * i + 1] - DOT_PX / 2, DOT_PX, DOT_PX);
    }
    context.fill();
  });
}

function tileSource(m, example) {
  const { columns, tile_width: w, tile_height: h } = m.control.atlas;
  return [(example % columns) * w, Math.floor(example / columns) * h, w, h];
}

function drawPictures(context, m, visible, width) {
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  const height = (width * th) / tw;
  for (const i of visible) {
    const [x, y] = [m.px[2 * i] - width / 2, m.px[2 * i + 1] - height / 2];
    context.fillStyle = m.control.palette[m.points.colours[i]];
    context.fillRect(x - 2, y - 2, width + 4, height + 4);
    context.drawImage(m.atlas.image, ...tileSource(m, m.points.examples[i]), x, y, width, height);
  }
}

function ring(context, x, y, radius, colour, width) {
  context.strokeStyle = colour;
  context.lineWidth = width;
  context.beginPath();
  context.arc(x, y, radius, 0, 2 * Math.PI);
  context.stroke();
}

// Selected points: a dark outline (a ring around a dot, a frame around a picture).
function drawSelection(context, m, picture) {
  const shown = m.selected.length <= MAX_PICTURES ? m.selected : [];
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  context.strokeStyle = "#31333f";
  context.lineWidth = 2;
  context.beginPath();
  for (const i of shown) {
    const [x, y] = [m.px[2 * i], m.px[2 * i + 1]];
    if (!picture) context.rect(x - DOT_PX, y - DOT_PX, 2 * DOT_PX, 2 * DOT_PX);
    else context.rect(x - picture / 2 - 4, y - (picture * th) / tw / 2 - 4, picture + 8,
      (picture * th) / tw + 8);
  }
  context.stroke();
  const { drag } = m;
  if (!drag || drag.mode === "pan" || drag.path.length < 2) return;
  context.strokeStyle = "#31333f";
  context.setLineDash([4, 3]);
  context.lineWidth = 1;
  context.beginPath();
  if (drag.mode === "box") {
    const [[x0, y0], [x1, y1]] = [drag.path[0], drag.path[drag.path.length - 1]];
    context.rect(x0, y0, x1 - x0, y1 - y0);
  } else {
    drag.path.forEach(([x, y], k) => (k ? context.lineTo(x, y) : context.moveTo(x, y)));
    context.closePath();
  }
  context.stroke();
  context.setLineDash([]);
}

// The hovered point's image, large, beside the pointer (kept inside the map), and its label.
function drawHover(context, m) {
  const i = m.hovered;
  const [x, y] = [m.px[2 * i], m.px[2 * i + 1]];
  ring(context, x, y, 7, "#31333f", 2);
  if (!m.atlas?.image) return;
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  const times = Math.max(2, Math.round(HOVER_TARGET_PX / tw));
  const [width, height] = [tw * times, th * times];
  let left = Math.round(x + 16 + width > m.width ? x - 16 - width : x + 16);
  let top = Math.round(Math.min(Math.max(y - height / 2, 4), HEIGHT_PX - height - 24));
  left = Math.max(4, left);
  top = Math.max(4, top);
  context.fillStyle = m.control.palette[m.points.colours[i]];
  context.fillRect(left - 3, top - 3, width + 6, height + 6);
  context.drawImage(m.atlas.image, ...tileSource(m, m.points.examples[i]), left, top, width, height);
  context.fillStyle = "rgba(255, 255, 255, 0.9)";
  context.fillRect(left - 3, top + height + 3, width + 6, 18);
  context.fillStyle = "#31333f";
  context.font = "12px sans-serif";
  context.fillText(labelOf(m, i), left, top + height + 16, width);
  m.hoverRect = { example: m.points.examples[i], left, top, width, height };
}

function draw(m) {
  m.pending = false;
  if (!m.points || !m.width) return;
  const started = performance.now();
  toScreen(m);
  const context = m.canvas.getContext("2d");
  context.setTransform(m.ratio, 0, 0, m.ratio, 0, 0);
  context.imageSmoothingEnabled = false;
  context.fillStyle = "#f6f6f8";
  context.fillRect(0, 0, m.width, HEIGHT_PX);
  const width = pictureWidth(m);
  const visible = inView(m, width);
  const pictures = Boolean(m.atlas?.image) && width >= PICTURE_FROM_PX && visible.length <= MAX_PICTURES;
  if (pictures) drawPictures(context, m, visible, width);
  else drawDots(context, m, visible);
  drawSelection(context, m, pictures ? width : 0);
  m.hoverRect = null;
  if (m.hovered >= 0) drawHover(context, m);
  m.drawn = { visible, pictures, width };
  m.frames += 1;
  m.frameTimes.push(performance.now() - started);
  if (m.frameTimes.length > FRAME_LOG) m.frameTimes.shift();
  showStatus(m);
}

function showStatus(m) {
  const { visible, pictures } = m.drawn;
  const zoom = m.view.scale / m.view.fitScale;
  const atlas = m.atlas?.error ? ` · the pictures failed to load: ${m.atlas.error}`
    : !m.atlas?.image ? " · loading the pictures..." : pictures ? "" : " · zoom in for pictures";
  const hovered = m.hovered >= 0 ? ` · ${labelOf(m, m.hovered)}` : "";
  m.status.textContent = `${visible.length.toLocaleString("en")} of ` +
    `${m.points.count.toLocaleString("en")} points in view · zoom ${zoom.toFixed(1)}x${atlas}${hovered}`;
}

function requestFrame(m) {
  if (m.pending) return;
  m.pending = true;
  requestAnimationFrame(() => draw(m));
}

function pointer(m, event) {
  const rect = m.canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

function hoverRadius(m) {
  return m.drawn?.pictures ? m.drawn.width / 2 + 2 : 10;
}

function zoomAt(m, x, y, factor) {
  const view = m.view;
  const scale = Math.min(Math.max(view.scale * factor, view.fitScale / 2), view.fitScale * MAX_ZOOM);
  const dataX = view.cx + (x - m.width / 2) / view.scale;
  const dataY = view.cy - (y - HEIGHT_PX / 2) / view.scale;
  view.cx = dataX - (x - m.width / 2) / scale;
  view.cy = dataY + (y - HEIGHT_PX / 2) / scale;
  view.scale = scale;
  view.fitted = false;
  requestFrame(m);
}

function pan(m, dx, dy) {
  m.view.cx -= dx / m.view.scale;
  m.view.cy += dy / m.view.scale;
  m.view.fitted = false;
  requestFrame(m);
}

function inPolygon(x, y, path) {
  let inside = false;
  for (let a = 0, b = path.length - 1; a < path.length; b = a, a += 1) {
    const [[xa, ya], [xb, yb]] = [path[a], path[b]];
    if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
  }
  return inside;
}

function finishSelection(m, drag) {
  const [x0, y0] = drag.path[0];
  const [x1, y1] = drag.path[drag.path.length - 1];
  const inBox = (x, y) => x >= Math.min(x0, x1) && x <= Math.max(x0, x1)
    && y >= Math.min(y0, y1) && y <= Math.max(y0, y1);
  const test = drag.mode === "box" ? inBox : (x, y) => inPolygon(x, y, drag.path);
  m.selected = [];
  for (let i = 0; i < m.points.count; i += 1) {
    if (test(m.px[2 * i], m.px[2 * i + 1])) m.selected.push(i);
  }
  drawGrid(m);
}

function click(m, x, y) {
  const i = nearest(m.px, x, y, hoverRadius(m));
  if (i >= 0) m.send?.("clicked", { example: m.points.examples[i] });
}

function listen(m) {
  const { canvas } = m;
  canvas.addEventListener("wheel", (event) => {
    if (!m.view) return;
    event.preventDefault();
    zoomAt(m, ...pointer(m, event), Math.exp(-event.deltaY * 0.0015));
  }, { passive: false });
  canvas.addEventListener("pointerdown", (event) => {
    if (!m.view || event.button !== 0) return;
    canvas.setPointerCapture(event.pointerId);
    const mode = event.shiftKey ? "box" : m.mode;
    m.drag = { mode, path: [pointer(m, event)], last: pointer(m, event), moved: 0 };
  });
  canvas.addEventListener("pointermove", (event) => onMove(m, event));
  canvas.addEventListener("pointerup", (event) => {
    const { drag } = m;
    m.drag = null;
    if (!drag) return;
    if (drag.moved < CLICK_PX) click(m, ...pointer(m, event));
    else if (drag.mode !== "pan") finishSelection(m, drag);
    requestFrame(m);
  });
  canvas.addEventListener("pointerleave", () => {
    if (m.drag) return;
    m.hovered = -1;
    requestFrame(m);
  });
  canvas.addEventListener("keydown", (event) => onKey(m, event));
  m.grid.addEventListener("click", (event) => {
    const cell = gridCellAt(m, event);
    if (cell >= 0) m.send?.("clicked", { example: m.points.examples[m.selected[cell]] });
  });
}

function onMove(m, event) {
  if (!m.view) return;
  const [x, y] = pointer(m, event);
  const { drag } = m;
  if (!drag) {
    const next = nearest(m.px ?? [], x, y, hoverRadius(m));
    if (next !== m.hovered) requestFrame(m);
    m.hovered = next;
    return;
  }
  drag.moved = Math.max(drag.moved, Math.hypot(x - drag.path[0][0], y - drag.path[0][1]));
  if (drag.mode === "pan") pan(m, x - drag.last[0], y - drag.last[1]);
  else if (drag.mode === "box") drag.path[1] = [x, y];
  else drag.path.push([x, y]);
  drag.last = [x, y];
  m.hovered = -1;
  requestFrame(m);
}

function onKey(m, event) {
  const steps = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] };
  const centre = [m.width / 2, HEIGHT_PX / 2];
  if (event.key === "+" || event.key === "=") zoomAt(m, ...centre, 1.25);
  else if (event.key === "-") zoomAt(m, ...centre, 0.8);
  else if (event.key === "0") { fit(m); requestFrame(m); }
  else if (steps[event.key]) pan(m, ...steps[event.key]);
  else return;
  event.preventDefault();
}

function gridLayout(m) {
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  const times = Math.max(1, Math.round(GRID_CELL_PX / tw));
  const [width, height] = [tw * times + 4, th * times + 4];
  const columns = Math.max(1, Math.floor(m.width / width));
  return { times, width, height, columns };
}

function gridCellAt(m, event) {
  const { width, height, columns } = gridLayout(m);
  const rect = m.grid.getBoundingClientRect();
  const column = Math.floor((event.clientX - rect.left) / width);
  const cell = Math.floor((event.clientY - rect.top) / height) * columns + column;
  return column < columns && cell < Math.min(m.selected.length, GRID_MAX) ? cell : -1;
}

// Where grid cell `cell`'s image goes in the grid canvas.
function gridPlace(m, cell) {
  const { times, width, height, columns } = gridLayout(m);
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  return { left: (cell % columns) * width + 1, top: Math.floor(cell / columns) * height + 1,
    width: tw * times, height: th * times };
}

// The selected points' images, GRID_MAX at most, in rows under the map.
function drawGrid(m) {
  const count = Math.min(m.selected.length, GRID_MAX);
  const more = m.selected.length > count ? ` (the first ${count} shown)` : "";
  m.gridCaption.textContent = m.selected.length
    ? `${m.selected.length.toLocaleString("en")} selected${more}; click one to show it beside ` +
      "the map" : "Box or lasso select points to see their images here.";
  if (!count || !m.atlas?.image || !m.width) {
    Object.assign(m.grid, { width: 0, height: 0 });
    return;
  }
  const { width, height, columns } = gridLayout(m);
  Object.assign(m.grid, { width: columns * width, height: Math.ceil(count / columns) * height });
  const context = m.grid.getContext("2d");
  context.imageSmoothingEnabled = false;
  m.selected.slice(0, count).forEach((i, cell) => {
    const place = gridPlace(m, cell);
    context.fillStyle = m.control.palette[m.points.colours[i]];
    context.fillRect(place.left - 1, place.top - 1, width - 2, height - 2);
    context.drawImage(m.atlas.image, ...tileSource(m, m.points.examples[i]), place.left,
      place.top, place.width, place.height);
  });
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
    drawnPictures: () => {
      if (!m.drawn?.pictures) return [];
      const { width } = m.drawn;
      const { tile_width: tw, tile_height: th } = m.control.atlas;
      const height = (width * th) / tw;
      return m.drawn.visible.map((i) => toCanvas({ example: m.points.examples[i],
        left: m.px[2 * i] - width / 2, top: m.px[2 * i + 1] - height / 2, width, height }));
    },
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
    m.selected = [];
    fit(m);
    drawGrid(m);
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
