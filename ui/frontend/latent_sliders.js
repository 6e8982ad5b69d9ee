// Explore's latent explorer: one native range input per latent dimension and, once the page runs
// the decoder (ui/frontend/decoder.js, weights sent once per model version), the decoder's mean
// (and learned std) redrawn on a canvas every animation frame while z moves, a preview strip under
// each slider and a 2-D pad. Python hears z throttled (at most every SEND_EVERY_MS) and on release.
// Python's `values` are applied on the first render and when `revision` changes (a button set z);
// each move carries the revision it started from, so Python can drop moves a button overrode.
import { decode, readEnvelope } from "./decoder.js";
import { paintImage, sizeCanvas } from "./image_canvas.js";
import { createPad } from "./latent_pad.js";
import { decoderReport, loadDecoder } from "./page_decoder.js";
import { createStrips } from "./preview_strips.js";

const controllers = new WeakMap(); // parentElement -> controller: survives reruns, not remounts
const latestZ = new Map(); // component key -> { revision, values }: survives remounts
const SEND_EVERY_MS = 150;
const FRAME_LOG = 600; // frame times kept for the benchmark

function snap(value, step) {
  return Math.round(Math.round(value / step) * step * 100) / 100;
}

function sameZ(a, b) {
  return a !== null && b !== null && a.length === b.length && a.every((v, i) => v === b[i]);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function buildRow(label, muted, control, onMove) {
  const row = element("div", muted ? "row muted" : "row");
  const head = element("div", "head");
  const shown = element("output");
  const input = element("input");
  Object.assign(input, { type: "range", min: -control.limit, max: control.limit, step: control.step });
  input.setAttribute("aria-label", label);
  input.addEventListener("input", onMove);
  input.addEventListener("change", onMove); // the final value is always sent
  head.append(element("span", "name", label), shown);
  const strip = element("canvas", "strip");
  row.append(head, input);
  return { row, input, shown, strip, muted };
}

function buildFigure(entry, control) {
  const { model } = entry;
  const figure = element("div", "figure");
  const scale = control.scale;
  const mean = element("canvas", "mean");
  sizeCanvas(mean, model.width * scale, model.height * scale);
  mean.style.width = `${model.width * scale}px`;
  const meanCaption = element("div", "caption", control.mean_caption);
  figure.append(mean, meanCaption);
  const parts = { figure, mean, std: null, stdCaption: null };
  if (model.header.head.kind === "gaussian") {
    parts.std = element("canvas", "std");
    sizeCanvas(parts.std, model.width * scale, model.height * scale);
    parts.std.style.width = `${model.width * scale}px`;
    parts.stdCaption = element("div", "caption");
    figure.append(parts.std, parts.stdCaption);
  }
  return parts;
}

function maxOf(values) {
  let high = 0;
  for (let i = 0; i < values.length; i += 1) if (values[i] > high) high = values[i];
  return high;
}

function minOf(values) {
  let low = Infinity;
  for (let i = 0; i < values.length; i += 1) if (values[i] < low) low = values[i];
  return low;
}

function createController(parent) {
  const root = element("div", "latent-explorer");
  parent.appendChild(root);
  const c = {
    root, rows: [], layout: null, revision: undefined, send: null, control: null, entry: null,
    seq: Date.now(), lastSent: null, lastSentAt: -Infinity, trailing: null, frameRequested: false,
    frames: 0, frameTimes: [], lastDrawn: null, parts: null, pad: null, reported: null,
    panel: null, showCollapsed: false,
  };

  const show = (row, value) => {
    row.input.value = String(value);
    row.shown.textContent = value.toFixed(2);
  };
  const sliderValues = () => c.rows.map((row) => snap(parseFloat(row.input.value), c.control.step));
  const zByDimension = () => {
    const z = new Array(c.control.order.length).fill(0);
    sliderValues().forEach((v, i) => { z[c.control.order[i]] = v; });
    return z;
  };

  c.flush = () => {
    clearTimeout(c.trailing);
    c.trailing = null;
    const values = sliderValues();
    if (sameZ(values, c.lastSent)) return;
    c.seq += 1;
    c.lastSent = values;
    c.lastSentAt = performance.now();
    c.send("moved", { values, seq: c.seq, revision: c.revision });
  };
  const sendThrottled = () => {
    const wait = SEND_EVERY_MS - (performance.now() - c.lastSentAt);
    if (wait <= 0) c.flush();
    else if (c.trailing === null) c.trailing = setTimeout(c.flush, wait);
  };
  const moved = () => {
    latestZ.set(c.control.key, { revision: c.revision, values: sliderValues() });
    c.requestFrame();
    sendThrottled();
  };
  const onMove = (event) => {
    const row = c.rows.find((r) => r.input === event.target);
    show(row, snap(parseFloat(row.input.value), c.control.step));
    moved();
  };
  const onPad = (dimX, valueX, dimY, valueY) => {
    const { order, step } = c.control;
    show(c.rows[order.indexOf(dimX)], snap(valueX, step));
    show(c.rows[order.indexOf(dimY)], snap(valueY, step));
    moved();
  };

  c.decodeShown = (z) => {
    const { mean, std } = decode(c.entry.model, z);
    const { parts, control } = c;
    const { model } = c.entry;
    const shape = [model.channels, model.height, model.width];
    paintImage(parts.mean, mean, shape, control.scale);
    if (parts.std) {
      const low = minOf(std);
      const high = maxOf(std);
      paintImage(parts.std, std, shape, control.scale, { low, range: Math.max(high - low, 1e-8) });
      parts.stdCaption.textContent =
        `Decoder std per pixel: ${low.toFixed(3)} (black) to ${high.toFixed(3)} (white)`;
    }
    return mean;
  };
  c.drawFrame = () => {
    c.frameRequested = false;
    if (!c.parts) return;
    const z = zByDimension();
    if (sameZ(z, c.lastDrawn)) return;
    const started = performance.now();
    const mean = c.decodeShown(z);
    c.frameTimes.push(performance.now() - started);
    if (c.frameTimes.length > FRAME_LOG) c.frameTimes.shift();
    c.frames += 1;
    c.lastDrawn = z;
    c.lastMean = Float32Array.from(mean);
    c.strips?.update(z);
    c.pad?.update(z);
  };
  c.requestFrame = () => {
    if (c.frameRequested) return;
    c.frameRequested = true;
    requestAnimationFrame(c.drawFrame);
  };

  c.buildStrips = () => {
    const { model } = c.entry;
    const shape = [model.channels, model.height, model.width];
    const tile = model.width + 1;
    const decodeMean = (z) => decode(model, z).mean;
    const paintTile = (canvas, mean, step) => paintImage(canvas, mean, shape, 1, { left: step * tile });
    c.strips = createStrips(decodeMean, paintTile);
    c.rows.forEach((row) => {
      sizeCanvas(row.strip, c.strips.steps * tile - 1, model.height);
      row.row.append(row.strip);
    });
  };

  // Collapsed (muted) dimensions barely change the image; a model with many of them would push
  // everything below the sliders off the screen, so they wait behind a toggle. Hidden rows stay
  // in c.rows: they keep their values and z keeps its length.
  c.arrange = () => {
    const { sliders, toggle } = c.panel;
    const muted = c.rows.filter((row) => row.muted).length;
    const hide = !c.showCollapsed && muted > 0 && muted < c.rows.length;
    const visible = c.rows.filter((row) => !(hide && row.muted));
    const two = visible.length > 6; // column-major like st.columns: most used top left
    sliders.className = two ? "latent-sliders two" : "latent-sliders";
    sliders.style.gridTemplateRows = two ? `repeat(${Math.ceil(visible.length / 2)}, auto)` : "";
    sliders.replaceChildren(...visible.map((row) => row.row));
    toggle.hidden = muted === 0 || muted === c.rows.length;
    toggle.textContent = hide ? `Show ${muted} collapsed dimensions` : `Hide ${muted} collapsed dimensions`;
    toggle.setAttribute("aria-expanded", String(!hide));
    const dimOf = (row) => c.control.order[c.rows.indexOf(row)];
    c.strips?.reset(visible.map((row) => ({ canvas: row.strip, dim: dimOf(row) })));
    if (c.strips && c.lastDrawn) c.strips.update(c.lastDrawn);
  };

  c.build = () => {
    const { control, entry } = c;
    const inPage = Boolean(control.in_page && entry?.model);
    const layout = JSON.stringify([control.labels, control.muted, control.limit, control.step,
      control.order, inPage, control.version]);
    if (layout === c.layout) return;
    c.layout = layout;
    c.strips?.stop();
    c.strips = null;
    c.pad = null;
    c.parts = null;
    c.lastDrawn = null;
    const sliders = element("div", "latent-sliders");
    const toggle = element("button", "toggle-collapsed");
    toggle.type = "button";
    toggle.addEventListener("click", () => {
      c.showCollapsed = !c.showCollapsed;
      c.arrange();
    });
    c.panel = { sliders, toggle };
    c.rows = control.labels.map((label, i) => buildRow(label, control.muted[i], control, onMove));
    const panel = element("div", "slider-panel");
    panel.append(sliders, toggle);
    root.className = inPage ? "latent-explorer in-page" : "latent-explorer";
    root.replaceChildren(panel);
    if (inPage) {
      c.parts = buildFigure(entry, control);
      if (control.labels.length >= 2) {
        c.pad = createPad({ labels: control.labels, order: control.order, limit: control.limit,
          scatter: entry.scatter, latentDim: control.order.length, onMove: onPad });
        c.parts.figure.append(c.pad.element);
      }
      root.append(c.parts.figure);
      c.buildStrips();
    }
    c.arrange();
    c.revision = undefined; // fresh inputs take Python's values (or the user's, after a remount)
  };

  c.report = (send) => {
    const status = decoderReport(c.control, c.entry);
    const key = JSON.stringify(status);
    if (status === null || key === c.reported) return;
    c.reported = key;
    send("decoder", status);
  };

  c.receive = (data, send) => {
    const { control, blobs } = readEnvelope(data);
    c.control = control;
    c.send = send;
    c.entry = control.version ? loadDecoder(control, blobs) : undefined;
    c.build();
    if (control.revision !== c.revision) {
      c.revision = control.revision;
      const mine = latestZ.get(control.key);
      const values = mine?.revision === control.revision ? mine.values : control.values;
      c.rows.forEach((row, i) => show(row, values[i]));
      c.lastSent = sliderValues();
    }
    if (control.version) c.report(send);
    c.requestFrame();
  };
  c.stop = () => {
    clearTimeout(c.trailing);
    c.strips?.stop();
  };
  // For browser tests and the benchmark: decode any z here, count and time the frames drawn.
  root.latentLab = {
    decode: (z) => {
      const { mean, std } = decode(c.entry.model, z);
      return { mean: Array.from(mean), std: std ? Array.from(std) : null };
    },
    frames: () => c.frames,
    frameTimes: () => c.frameTimes.slice(),
    lastFrame: () => ({ z: c.lastDrawn, mean: c.lastMean ? Array.from(c.lastMean) : null }),
    status: () => ({ inPage: Boolean(c.parts), version: c.control?.version ?? null,
      pending: c.trailing !== null, entry: c.entry && { error: c.entry.error ?? null,
        loadMs: c.entry.loadMs ?? null, bytes: c.entry.bytes ?? null } }),
  };
  return c;
}

export default function latentSliders({ data, parentElement, setStateValue }) {
  let controller = controllers.get(parentElement);
  if (!controller) {
    controller = createController(parentElement);
    controllers.set(parentElement, controller);
  }
  controller.receive(data, setStateValue);
  return () => controller.stop();
}
