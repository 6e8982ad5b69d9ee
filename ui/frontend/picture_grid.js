// The picture map's selection (picture_map.js): the points a box or lasso encloses, and their
// images as a grid under the map.
import { tileSource } from "./picture_draw.js";

const GRID_CELL_PX = 56;
export const GRID_MAX = 300; // selected images shown in the grid

function inPolygon(x, y, path) {
  let inside = false;
  for (let a = 0, b = path.length - 1; a < path.length; b = a, a += 1) {
    const [[xa, ya], [xb, yb]] = [path[a], path[b]];
    if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
  }
  return inside;
}

export function finishSelection(m, drag) {
  const [x0, y0] = drag.path[0];
  const [x1, y1] = drag.path[drag.path.length - 1];
  const inBox = (x, y) => x >= Math.min(x0, x1) && x <= Math.max(x0, x1)
    && y >= Math.min(y0, y1) && y <= Math.max(y0, y1);
  const test = drag.mode === "box" ? inBox : (x, y) => inPolygon(x, y, drag.path);
  m.selected = [];
  for (let i = 0; i < m.points.count; i += 1) {
    if (test(m.px[2 * i], m.px[2 * i + 1])) m.selected.push(i);
  }
  m.selectionSeq += 1;
  drawGrid(m);
}

function gridLayout(m) {
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  const times = Math.max(1, Math.round(GRID_CELL_PX / tw));
  const [width, height] = [tw * times + 4, th * times + 4];
  const columns = Math.max(1, Math.floor(m.width / width));
  return { times, width, height, columns };
}

export function gridCellAt(m, event) {
  const { width, height, columns } = gridLayout(m);
  const rect = m.grid.getBoundingClientRect();
  const column = Math.floor((event.clientX - rect.left) / width);
  const cell = Math.floor((event.clientY - rect.top) / height) * columns + column;
  return column < columns && cell < Math.min(m.selected.length, GRID_MAX) ? cell : -1;
}

export function clearSelection(m) {
  m.selected = [];
  m.selectionSeq += 1;
  drawGrid(m);
}

// Where grid cell `cell`'s image goes in the grid canvas.
export function gridPlace(m, cell) {
  const { times, width, height, columns } = gridLayout(m);
  const { tile_width: tw, tile_height: th } = m.control.atlas;
  return { left: (cell % columns) * width + 1, top: Math.floor(cell / columns) * height + 1,
    width: tw * times, height: th * times };
}

// The selected points' images, GRID_MAX at most, in rows under the map.
export function drawGrid(m) {
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
