// Shared by the components that decode in the page: the decoders their data names (a weights
// file by URL and SHA-256, fetched once per browser: weights_cache.js), cached by model version
// while the page lives. An entry keeps the packed bytes too, for a worker to read its own copy
// (decode_service.js), and, where the file has the data's first test images, their codes and
// thumbnails for the 2-D pad and the neighbours (neighbour_strip.js).
import { decode, readDecoder, readEnvelope } from "./decoder.js";
import { weightsFile } from "./weights_cache.js";

// version -> { model, packed, scatter, neighbours, loadMs, bytes } or { error }
const decoders = new Map();
const waiting = new Map(); // version -> callbacks for when it has loaded
const KEEP_VERSIONS = 4; // a training run makes a new version each epoch: keep only the latest

// The decoder for control.version (or why it failed) once loaded; until then undefined, and
// `onLoaded` is called when it has loaded or failed, and again when its neighbours' thumbnails
// have (entry.neighbours, or entry.neighboursError): decoding them does not hold up the decoder.
export function loadDecoder(control, onLoaded) {
  if (decoders.has(control.version) || !control.weights) return decoders.get(control.version);
  if (waiting.has(control.version)) {
    waiting.get(control.version).push(onLoaded);
    return undefined;
  }
  waiting.set(control.version, [onLoaded]);
  const started = performance.now();
  let atlas = null;
  weightsFile(control.weights).then(({ bytes, fetched }) => {
    const { control: header, blobs } = readEnvelope(bytes); // ui/page_decoder.py
    const model = readDecoder(blobs.decoder);
    decode(model, new Array(model.latentDim).fill(0)); // fail now, not in the middle of a drag
    const scatter = blobs.scatter.length ? new Float32Array(blobs.scatter.slice().buffer) : null;
    if (scatter && blobs.atlas) atlas = { layout: header.neighbours, png: blobs.atlas, scatter };
    return { model, packed: blobs.decoder, scatter, neighbours: null,
      loadMs: performance.now() - started, bytes: fetched };
  }).catch((error) => ({ error: String(error?.message ?? error) })).then((entry) => {
    decoders.set(control.version, entry);
    if (decoders.size > KEEP_VERSIONS) decoders.delete(decoders.keys().next().value); // oldest
    const callbacks = waiting.get(control.version);
    waiting.delete(control.version);
    callbacks.forEach((callback) => callback());
    if (atlas) {
      readNeighbours(atlas, entry.model.latentDim)
        .then((neighbours) => { entry.neighbours = neighbours; })
        .catch((error) => { entry.neighboursError = String(error?.message ?? error); })
        .then(() => callbacks.forEach((callback) => callback()));
    }
  });
  return undefined;
}

// The first test images' codes (the scatter), names and decoded thumbnail atlas.
async function readNeighbours({ layout, png, scatter }, dim) {
  const blob = new Blob([png.slice()], { type: "image/png" });
  const image = await createImageBitmap(blob, { colorSpaceConversion: "none" });
  return { ...layout, atlas: image, codes: scatter, dim };
}

// What to tell Python (state "decoder") about this version, or null when it needs no news:
// Python keeps the server's images until it hears ok, and goes back to them if we lost it.
export function decoderReport(control, entry) {
  if (entry === undefined) {
    return control.in_page ? { version: control.version, ok: false, error: null } : null;
  }
  if (!entry.error && control.in_page) return null;
  return { version: control.version, ok: !entry.error, error: entry.error ?? null,
    load_ms: entry.loadMs ?? null, bytes: entry.bytes ?? null };
}
