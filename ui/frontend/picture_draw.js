// The picture map's drawing (picture_map.js): the view (centre and scale), the points layer as
// dots or pictures (drawn again only when the view, the data or the selection change), and each
// frame's overlays: the box or lasso being drawn and the hovered point's image, enlarged.
import { createLayer } from "./pixel_layer.js";
import { dataBounds, tag } from "./scatter_points.js";

export const HEIGHT_PX = 560;
const MARGIN_PX = 24;
const DOT_PX = 4;
const PICTURE_FROM_PX = 14; // pictures replace dots once each would be this wide
const MAX_PICTURE_PX = 160;
// The pictures' areas add up to at most this many maps' worth (overlaps counted): a frame's
// work is in its pixels (pixel_layer.js), ~8 ms for 1,700 pictures of 21 px.
const PAINT_BUDGET = 4;
const MAX_OUTLINES = 5000; // a larger selection is not outlined on the map (the grid lists it)
const HOVER_TARGET_PX = 128; // the enlarged image: the tile's integer multiple nearest this
const FRAME_LOG = 600; // frame times kept for benchmarks/picture_map.py
export const BACKGROUND = "#f6f6f8";

export function labelOf(m, i) {
  const { legend: key } = m.control;
  const value = m.points.values[i];
  const text = key.kind === "categories" ? key.names[value] : `${key.name} ${value.toFixed(2)}`;
  return `#${m.points.examples[i]} · ${text}`;
}

// Zoom and centre so every point is in view, with equal units on both axes.
export function fit(m) {
  const [low, high] = dataBounds(m.points.coords);
  const scale = Math.min((m.width - 2 * MARGIN_PX) / (high[0] - low[0]),
    (HEIGHT_PX - 2 * MARGIN_PX) / (high[1] - low[1]));
  m.view = { cx: (low[0] + high[0]) / 2, cy: (low[1] + high[1]) / 2, scale, fitScale: scale,
    fitted: true };
  // A picture at the fitted zoom: half the side of each point's share of the map's area, so a
  // crowded map starts as dots (under PICTURE_FROM_PX) and a sparse one as pictures.
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

// The points within `margin` of the map: a view of m.visible (kept between frames).
function inView(m, margin) {
  if (m.visible?.length !== m.points.count) m.visible = new Int32Array(m.points.count);
  let count = 0;
  for (let i = 0; i < m.points.count; i += 1) {
    const [x, y] = [m.px[2 * i], m.px[2 * i + 1]];
    if (x > -margin && x < m.width + margin && y > -margin && y < HEIGHT_PX + margin) {
      m.visible[count] = i;
      count += 1;
    }
  }
  return m.visible.subarray(0, count);
}

function drawDots(layer, m, visible) {
  const [size, ratio] = [DOT_PX * m.ratio, m.ratio];
  for (const i of visible) {
    layer.fillRect(m.px[2 * i] * ratio - size / 2, m.px[2 * i + 1] * ratio - size / 2, size, size,
      m.packed[m.points.colours[i]]);
  }
}

export function tileSource(m, example) {
  const { columns, tile_width: w, tile_height: h } = m.control.atlas;
  return [(example % columns) * w, Math.floor(example / columns) * h, w, h];
}

// Each picture on a frame of its colour, in order (the last on top).
// Where point i's picture goes, `width` CSS pixels wide: [x, y, w, h] in whole canvas pixels.
export function pictureRect(m, i, width) {
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  const [w, h] = [Math.round(width * m.ratio), Math.round(((width * th) / tw) * m.ratio)];
  return [Math.round(m.px[2 * i] * m.ratio - w / 2), Math.round(m.px[2 * i + 1] * m.ratio - h / 2), w, h];
}

function drawPictures(layer, m, visible, width) {
  const frame = Math.round(2 * m.ratio);
  for (const i of visible) {
    const [x, y, w, h] = pictureRect(m, i, width);
    layer.fillRect(x - frame, y - frame, w + 2 * frame, h + 2 * frame,
      m.packed[m.points.colours[i]]);
    layer.drawTile(m.atlas.pixels, ...tileSource(m, m.points.examples[i]), x, y, w, h);
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
  const shown = m.selected.length <= MAX_OUTLINES ? m.selected : [];
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
}

// The box or lasso being drawn.
function drawDragPath(context, m) {
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

// The points (dots or pictures) and the selection, drawn into m.base only when the view, the
// data or the selection changed: a frame that only moves the hover copies it.
function drawBase(m) {
  const key = [m.view.cx, m.view.cy, m.view.scale, m.width, m.ratio, m.dataSeq, m.selectionSeq,
    Boolean(m.atlas?.image)].join();
  if (key === m.baseKey) return;
  m.baseKey = key;
  toScreen(m);
  m.base ??= tag("canvas");
  const { width: canvasWidth, height: canvasHeight } = m.canvas;
  if (m.layer?.width !== canvasWidth || m.layer?.height !== canvasHeight) {
    m.layer = createLayer(canvasWidth, canvasHeight);
    Object.assign(m.base, { width: canvasWidth, height: canvasHeight });
  }
  m.layer.clear(m.background);
  const visible = inView(m, pictureWidth(m));
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  // Within the budget, pictures shrink as more of them are in view, down to PICTURE_FROM_PX.
  const withinBudget = Math.sqrt((PAINT_BUDGET * m.width * HEIGHT_PX * tw) / (visible.length * th)) - 4;
  const width = Math.min(pictureWidth(m), withinBudget);
  const pictures = Boolean(m.atlas?.image) && width >= PICTURE_FROM_PX;
  if (pictures) drawPictures(m.layer, m, visible, width);
  else drawDots(m.layer, m, visible);
  m.layer.putOn(m.base);
  const context = m.base.getContext("2d");
  context.setTransform(m.ratio, 0, 0, m.ratio, 0, 0);
  drawSelection(context, m, pictures ? width : 0);
  m.drawn = { visible, pictures, width };
}

export function draw(m) {
  m.pending = false;
  if (!m.points || !m.width) return;
  const started = performance.now();
  drawBase(m);
  const context = m.canvas.getContext("2d");
  context.setTransform(1, 0, 0, 1, 0, 0);
  context.drawImage(m.base, 0, 0);
  context.setTransform(m.ratio, 0, 0, m.ratio, 0, 0);
  context.imageSmoothingEnabled = false;
  drawDragPath(context, m);
  m.hoverRect = null;
  if (m.hovered >= 0) drawHover(context, m);
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

export function requestFrame(m) {
  if (m.pending) return;
  m.pending = true;
  requestAnimationFrame(() => draw(m));
}
