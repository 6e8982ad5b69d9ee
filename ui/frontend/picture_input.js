// The picture map's input (picture_map.js): the wheel zooms at the pointer, a drag pans (or draws
// a box or lasso), hovering picks the nearest point, a click reports its example; keys too.
import { fit, HEIGHT_PX, requestFrame } from "./picture_draw.js";
import { clearSelection, finishSelection, gridCellAt } from "./picture_grid.js";
import { nearest } from "./scatter_points.js";

const MAX_ZOOM = 400;
const CLICK_PX = 4; // a press that moves less than this is a click, not a drag

function pointer(m, event) {
  const rect = m.canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

function hoverRadius(m) {
  return m.drawn?.pictures ? m.drawn.width / 2 + 2 : 10;
}

export function zoomAt(m, x, y, factor) {
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

// Each click is news to Python, the same example again too: it carries its time.
function sendClick(m, example) {
  m.send?.("clicked", { example, at: Date.now() });
}

function click(m, x, y) {
  const i = nearest(m.px, x, y, hoverRadius(m));
  if (i >= 0) sendClick(m, m.points.examples[i]);
}

export function listen(m) {
  const { canvas } = m;
  canvas.addEventListener("wheel", (event) => {
    if (!m.view) return;
    event.preventDefault();
    zoomAt(m, ...pointer(m, event), Math.exp(-event.deltaY * 0.0015));
  }, { passive: false });
  canvas.addEventListener("pointerdown", (event) => {
    if (!m.view || event.button !== 0) return;
    // The drag goes on past the map's edge; a synthetic event (the benchmark's) has no pointer.
    if (event.isTrusted) canvas.setPointerCapture(event.pointerId);
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
  canvas.addEventListener("pointercancel", () => { // the browser took the pointer (a touch scroll)
    m.drag = null;
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
    if (cell >= 0) sendClick(m, m.points.examples[m.selected[cell]]);
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
  else if (event.key === "Escape") { clearSelection(m); requestFrame(m); }
  else if (event.key === "0") { fit(m); requestFrame(m); }
  else if (steps[event.key]) pan(m, ...steps[event.key]);
  else return;
  event.preventDefault();
}
