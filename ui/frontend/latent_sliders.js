// Explore's latent explorer: one native range input per latent dimension and, once the page runs
// the decoder (ui/frontend/decoder.js, weights sent once per model version), the decoder's mean
// (and learned std) redrawn on a canvas while z moves, a preview strip under each slider and a
// 2-D pad. The decoder runs off the main thread (decode_service.js): a move asks for its z, and
// each animation frame draws the newest image that has come back, with samples x ~ p(x|z) drawn
// from it (page_samples.js), a traversal (traversal_view.js) and the test images nearest to z
// (neighbour_strip.js); a key step of a fast decoder is
// the exception, decoded and drawn at once (DECODE_HERE_MS). Python hears z when a move ends
// (release, key press) or pauses (control.pause_ms), never per frame. Python's `values` are
// applied on the first render and when `revision` changes (a button set z); each move carries the
// revision it started from, so Python can drop moves a button overrode.
import { readEnvelope } from "./decoder.js";
import { openDecodes } from "./decode_service.js";
import { paintImage, sizeCanvas } from "./image_canvas.js";
import { createPad } from "./latent_pad.js";
import { NeighbourStrip } from "./neighbour_strip.js";
import { decoderReport, loadDecoder } from "./page_decoder.js";
import { SamplesPanel } from "./page_samples.js";
import { PreviewStrips } from "./preview_strips.js";
import { TraversalView } from "./traversal_view.js";

const explorers = new WeakMap(); // parentElement -> Explorer: survives reruns, not remounts
const latestZ = new Map(); // component key -> { revision, values }: survives remounts
const TIMES_KEPT = 600; // decode and draw times kept for the benchmark
const TILE_BUDGET_MS = 3; // a frame draws strip tiles for at most this long
const CLOSE_AFTER_MS = 10000; // a cleanup not followed by a render was an unmount
// A key step (not a held key's repeats) with a decoder whose last image took at most this long
// is decoded and drawn in the key's own task, so it shows in the next frame: the
// worker's round trip (~4 ms on two busy cores) lands after that frame's animation callbacks
// about half the time, and the picture waits a frame more. Drags always go to the worker.
// `globalThis.latentLabDecodeHereMs` replaces it (tests set it to take or avoid this path).
const DECODE_HERE_MS = 4;

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
  input.addEventListener("change", onMove); // released, or a key pressed: sent at once
  input.addEventListener("keydown", onMove); // a held key's repeats wait for its keyup
  input.addEventListener("keyup", onMove);
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

function pushKept(list, value) {
  list.push(value);
  if (list.length > TIMES_KEPT) list.shift();
}

class Explorer {
  constructor(parent) {
    this.root = element("div", "latent-explorer");
    parent.appendChild(this.root);
    Object.assign(this, {
      rows: [], layout: null, revision: undefined, send: null, control: null, entry: null,
      decodes: null, parts: null, pad: null, strips: null, panel: null, showCollapsed: false,
      reported: null, seq: Date.now(), lastSent: null, trailing: null, key: null,
      samples: null, traversal: null, neighbours: null, neighboursNote: null, heard: null,
      heardAt: null,
      closing: null, frameRequested: false, requested: null, newest: null, tiles: [],
      frames: 0, decodeTimes: [], drawTimes: [], lastDrawn: null, lastMean: null, drawnAt: null,
      lastHere: false, renders: 0,
    });
    this.root.latentLab = this.testHook();
  }

  // Each render: Python's control (the weights load once per model version).
  receive(data, send) {
    clearTimeout(this.closing);
    const { control } = readEnvelope(data);
    Object.assign(this, { control, data, send });
    this.useEntry(control.version ? loadDecoder(control, () => this.onWeights()) : undefined);
    this.build();
    this.panel.source.textContent = control.caption ?? "";
    this.addNeighbours();
    if (control.revision !== this.revision) this.takeValues(control);
    if (control.version) this.report();
    if (control.heard !== this.heard) {
      Object.assign(this, { heard: control.heard, heardAt: performance.now() });
    }
    if (this.samples && this.newest && control.samples?.seed !== this.samples.seed) {
      this.drawSamples(this.newest);
    }
    this.requestImage();
  }

  // The weights arrived after the last render: render it again, unless it was unmounted.
  onWeights() {
    if (this.root.isConnected) this.receive(this.data, this.send);
  }

  useEntry(entry) {
    if (entry === this.entry) return;
    this.decodes?.close();
    this.entry = entry;
    this.decodes = entry?.model
      ? openDecodes(entry.model, entry.packed, (image) => this.onImage(image)) : null;
  }

  build() {
    const { control, entry } = this;
    const inPage = Boolean(control.in_page && entry?.model);
    const layout = JSON.stringify([control.labels, control.muted, control.limit, control.step,
      control.order, inPage, control.version, control.samples?.caption, control.traversal_steps,
      control.neighbours]);
    if (layout === this.layout) return;
    this.layout = layout;
    Object.assign(this, { strips: null, pad: null, parts: null, requested: null, newest: null,
      tiles: [], lastDrawn: null, samples: null, traversal: null, neighbours: null,
      neighboursNote: null });
    const sliders = element("div", "latent-sliders");
    const toggle = element("button", "toggle-collapsed");
    toggle.type = "button";
    toggle.addEventListener("click", () => {
      this.showCollapsed = !this.showCollapsed;
      this.arrange();
      this.requestImage();
    });
    const source = element("div", "caption source"); // where z came from: control.caption
    this.panel = { sliders, toggle, source };
    const onMove = (event) => this.onSlider(event);
    this.rows = control.labels.map((label, i) => buildRow(label, control.muted[i], control, onMove));
    const panel = element("div", "slider-panel");
    panel.append(sliders, toggle, source);
    this.root.className = inPage ? "latent-explorer in-page" : "latent-explorer";
    this.root.replaceChildren(panel);
    if (inPage) this.buildFigure();
    this.arrange();
    this.revision = undefined; // fresh inputs take Python's values (or the user's, after a remount)
  }

  buildFigure() {
    const { control, entry } = this;
    this.parts = buildFigure(entry, control);
    if (control.labels.length >= 2) {
      this.pad = createPad({ labels: control.labels, order: control.order, limit: control.limit,
        scatter: entry.scatter, latentDim: control.order.length,
        onMove: (...move) => this.onPad(...move) });
      this.parts.figure.append(this.pad.element);
    }
    this.root.append(this.parts.figure);
    const { model } = entry;
    const shape = [model.channels, model.height, model.width];
    const tile = model.width + 1;
    this.strips = new PreviewStrips(
      (canvas, mean, step) => paintImage(canvas, mean, shape, 1, { left: step * tile }));
    this.rows.forEach((row) => {
      sizeCanvas(row.strip, this.strips.steps * tile - 1, model.height);
      row.row.append(row.strip);
    });
    this.buildSamples(shape);
  }

  // Samples x ~ p(x|z) of the image drawn, the traversal and the neighbours: where Python asks
  // for them.
  buildSamples(shape) {
    const { control } = this;
    if (control.samples) {
      this.samples = new SamplesPanel({ shape, ...control.samples }, (seed) => this.askSeed(seed));
      this.root.append(this.samples.element);
    }
    if (control.traversal_steps) {
      const again = () => {
        this.requested = null;
        this.requestImage();
      };
      this.traversal = new TraversalView({ labels: control.labels, order: control.order,
        steps: control.traversal_steps, limit: control.limit, shape }, paintImage, again);
      this.root.append(this.traversal.element);
    }
  }

  // The neighbours' strip, once their thumbnails have loaded (after the decoder), or why not.
  addNeighbours() {
    const { control, entry } = this;
    if (this.neighbours || !this.parts || !control.neighbours) return;
    if (entry.neighbours) {
      this.neighbours = new NeighbourStrip(entry.neighbours, control.neighbours);
      this.root.append(this.neighbours.element);
      this.requestFrame();
    } else if (entry.neighboursError && !this.neighboursNote) {
      this.neighboursNote = element("div", "caption",
        `The nearest test images could not be drawn: ${entry.neighboursError}`);
      this.root.append(this.neighboursNote);
    }
  }

  // The "New samples" button: drawn at once, and Python keeps the seed (state "seed").
  askSeed(seed) {
    if (this.newest) this.drawSamples(this.newest, seed);
    this.send("seed", seed);
  }

  drawSamples({ z, mean, std, loc }, seed = this.control.samples.seed) {
    // The family comes from Python: an imported decoder giving probabilities has a "mean" head.
    const kind = this.control.samples.family;
    this.samples.draw({ kind, probs: mean, loc: loc ?? mean, std }, seed, paintImage);
    this.samplesZ = z;
  }

  // Collapsed (muted) dimensions barely change the image; a model with many of them would push
  // everything below the sliders off the screen, so they wait behind a toggle. Hidden rows stay
  // in this.rows: they keep their values and z keeps its length.
  arrange() {
    const { sliders, toggle } = this.panel;
    const muted = this.rows.filter((row) => row.muted).length;
    const hide = !this.showCollapsed && muted > 0 && muted < this.rows.length;
    const visible = this.rows.filter((row) => !(hide && row.muted));
    const two = visible.length > 6; // column-major like st.columns: most used top left
    sliders.className = two ? "latent-sliders two" : "latent-sliders";
    sliders.style.gridTemplateRows = two ? `repeat(${Math.ceil(visible.length / 2)}, auto)` : "";
    sliders.replaceChildren(...visible.map((row) => row.row));
    toggle.hidden = muted === 0 || muted === this.rows.length;
    toggle.textContent = hide ? `Show ${muted} collapsed dimensions` : `Hide ${muted} collapsed dimensions`;
    toggle.setAttribute("aria-expanded", String(!hide));
    const dimOf = (row) => this.control.order[this.rows.indexOf(row)];
    this.strips?.reset(visible.map((row) => ({ canvas: row.strip, dim: dimOf(row) })));
    this.requested = null; // the strips shown have changed: ask for their tiles again
  }

  // Python's values (first render, or a button set z), unless this page moved since.
  takeValues(control) {
    this.revision = control.revision;
    const mine = latestZ.get(control.key);
    const values = mine?.revision === control.revision ? mine.values : control.values;
    this.rows.forEach((row, i) => this.show(row, values[i]));
    this.lastSent = control.values;
    // A move Python has not heard (the page was left before it was sent): send it now.
    if (!sameZ(values, control.values)) this.waitForPause();
  }

  // Tell Python (state "decoder") whether the page decodes this version, when that is news.
  report() {
    const status = decoderReport(this.control, this.entry);
    const key = JSON.stringify(status);
    if (status === null || key === this.reported) return;
    this.reported = key;
    this.send("decoder", status);
  }

  show(row, value) {
    row.input.value = String(value);
    row.shown.textContent = value.toFixed(2);
  }

  sliderValues() {
    return this.rows.map((row) => snap(parseFloat(row.input.value), this.control.step));
  }

  zByDimension() {
    const z = new Array(this.control.order.length).fill(0);
    this.sliderValues().forEach((v, i) => { z[this.control.order[i]] = v; });
    return z;
  }

  // input: a drag goes on, or a key stepped (this.key "pressed", or "held" for its repeats);
  // change: released, or a key pressed, unless the key is held (its repeats are sent when it is
  // let go).
  onSlider(event) {
    if (event.type === "keydown") {
      this.key = event.repeat ? "held" : "pressed";
      return;
    }
    if (event.type === "keyup") {
      if (this.key === "held") this.flush();
      this.key = null;
      return;
    }
    const row = this.rows.find((r) => r.input === event.target);
    this.show(row, snap(parseFloat(row.input.value), this.control.step));
    const held = this.key === "held";
    this.moved(event.type === "change" && !held, event.type === "input" && this.key === "pressed");
  }

  onPad(dimX, valueX, dimY, valueY, final) {
    const { order, step } = this.control;
    this.show(this.rows[order.indexOf(dimX)], snap(valueX, step));
    this.show(this.rows[order.indexOf(dimY)], snap(valueY, step));
    this.moved(final, false);
  }

  // The page draws every move; Python hears it when it ends, or after pause_ms of stillness.
  moved(ended, keyStep) {
    latestZ.set(this.control.key, { revision: this.revision, values: this.sliderValues() });
    this.requestImage(keyStep);
    if (ended) this.flush();
    else this.waitForPause();
  }

  // Ask for the image of the sliders' z (and the strips' tiles around it): at once, so a worker
  // starts before this frame is drawn; a key step of a fast decoder is drawn right here.
  requestImage(keyStep = false) {
    if (!this.parts || !this.decodes) return;
    const z = this.zByDimension();
    if (sameZ(z, this.requested)) return;
    this.requested = z;
    const fastEnough = globalThis.latentLabDecodeHereMs ?? DECODE_HERE_MS;
    const lastDecodeMs = this.decodeTimes.at(-1);
    if (keyStep && lastDecodeMs !== undefined && lastDecodeMs <= fastEnough) {
      this.drawHere(this.decodes.decodeHere(z));
    } else {
      this.decodes.show(z);
    }
    this.decodes.preview([...(this.traversal?.tiles(z) ?? []), ...this.strips.tiles(z)]);
    this.requestFrame();
  }

  onImage(image) {
    if (image.kind === "shown") {
      if (!this.newest || image.id > this.newest.id) this.newest = image;
      pushKept(this.decodeTimes, image.ms);
    } else {
      this.tiles.push(image);
    }
    this.requestFrame();
  }

  requestFrame() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => this.drawFrame());
  }

  // The newest image that came back, the pad's point, and strip tiles while the budget lasts.
  drawFrame() {
    this.frameRequested = false;
    if (!this.parts) return;
    const z = this.requested ?? this.zByDimension();
    this.pad?.update(z);
    this.neighbours?.show(z);
    if (this.newest && !sameZ(this.newest.z, this.lastDrawn)) {
      this.countFrame(this.drawImage(this.newest));
    }
    const started = performance.now();
    while (this.tiles.length && performance.now() - started < TILE_BUDGET_MS) {
      const tile = this.tiles.shift();
      if (tile.tag.traversal === undefined) this.strips.paint(tile);
      else this.traversal?.paint(tile);
    }
    if (this.tiles.length) this.requestFrame();
  }

  drawImage(image) {
    const { z, mean, std } = image;
    const started = performance.now();
    const { parts, control } = this;
    const { model } = this.entry;
    const shape = [model.channels, model.height, model.width];
    paintImage(parts.mean, mean, shape, control.scale);
    if (parts.std) {
      const low = minOf(std);
      const high = maxOf(std);
      paintImage(parts.std, std, shape, control.scale, { low, range: Math.max(high - low, 1e-8) });
      parts.stdCaption.textContent =
        `Decoder std per pixel: ${low.toFixed(3)} (black) to ${high.toFixed(3)} (white)`;
    }
    if (this.samples) this.drawSamples(image);
    pushKept(this.drawTimes, performance.now() - started);
    this.lastDrawn = z;
    this.lastMean = mean;
    this.lastHere = image.here === true;
    return started;
  }

  // An image decoded in this task: drawn now, counted in the animation frame that shows it.
  drawHere(image) {
    this.newest = image;
    pushKept(this.decodeTimes, image.ms);
    this.drawImage(image);
    requestAnimationFrame(() => this.countFrame(performance.now()));
  }

  // The benchmark's stamp: an image reached the screen in the frame drawn at `at`.
  countFrame(at) {
    this.frames += 1;
    this.drawnAt = at;
  }

  waitForPause() {
    clearTimeout(this.trailing);
    this.trailing = setTimeout(() => this.flush(), this.control.pause_ms);
  }

  // Send the sliders' values, unless Python has them or the page has been left: a move not sent
  // stays in latestZ, and the explorer sends it when Explore is shown again (takeValues).
  flush() {
    clearTimeout(this.trailing);
    this.trailing = null;
    const values = this.sliderValues();
    if (sameZ(values, this.lastSent) || !this.root.isConnected) return;
    this.seq += 1;
    this.lastSent = values;
    this.send("moved", { values, seq: this.seq, revision: this.revision });
  }

  // The component's cleanup runs before each render as well as on unmount: the worker goes only
  // when no render follows.
  // A move waiting for its pause is kept: flush() sends it if the explorer is still shown.
  stop() {
    this.closing = setTimeout(() => this.useEntry(undefined), CLOSE_AFTER_MS);
  }

  // For browser tests and the benchmark: decode any z where the page decodes, count and time the
  // images drawn.
  testHook() {
    return {
      decode: async (z) => {
        const { mean, std } = await this.decodes.decode(z);
        return { mean: Array.from(mean), std: std ? Array.from(std) : null };
      },
      frames: () => this.frames,
      renders: () => this.renders, // the script runs that drew the explorer
      drawnAt: () => this.drawnAt, // performance.now() in the animation frame that showed it
      times: () => ({ decode: this.decodeTimes.slice(), draw: this.drawTimes.slice() }),
      // keyStep: the image was decoded in the key's own task (DECODE_HERE_MS), not queued.
      lastFrame: () => ({ z: this.lastDrawn, mean: this.lastMean ? Array.from(this.lastMean) : null,
        keyStep: this.lastHere }),
      sliderZ: () => this.zByDimension(),
      serverValues: () => this.control?.values ?? null, // Python's, in display order
      // The last move sent, the last Python has read (its answer arrived at `at`).
      heard: () => ({ sent: this.seq, seq: this.heard, at: this.heardAt }),
      neighbours: () => this.neighbours && { z: this.neighbours.z, nearest: this.neighbours.shown,
        caption: this.neighbours.caption.textContent },
      samples: () => this.samples && { z: this.samplesZ ?? null, seed: this.samples.seed,
        images: this.samples.drawn.map((image) => Array.from(image)) },
      status: () => ({ inPage: Boolean(this.parts), version: this.control?.version ?? null,
        pending: this.trailing !== null, decodesOn: this.decodes?.where ?? null,
        entry: this.entry && { error: this.entry.error ?? null, loadMs: this.entry.loadMs ?? null,
          bytes: this.entry.bytes ?? null } }),
    };
  }
}

export default function latentSliders({ data, parentElement, setStateValue }) {
  let explorer = explorers.get(parentElement);
  if (!explorer) {
    explorer = new Explorer(parentElement);
    explorers.set(parentElement, explorer);
  }
  explorer.renders += 1;
  explorer.receive(data, setStateValue);
  return () => explorer.stop();
}
