// Shared by the components that decode in the page: the decoders they were sent in their bytes
// data (an envelope, decoder.js readEnvelope), cached by model version while the page lives. An
// entry keeps the packed bytes too, for a worker to read its own copy (decode_service.js).
import { decode, readDecoder } from "./decoder.js";

const decoders = new Map(); // version -> { model, packed, scatter, loadMs, bytes } or { error }
const KEEP_VERSIONS = 4; // a training run makes a new version each epoch: keep only the latest

// The decoder for control.version: cached, else read from the blobs (undefined if not sent).
export function loadDecoder(control, blobs) {
  if (decoders.has(control.version) || !blobs.decoder) return decoders.get(control.version);
  const started = performance.now();
  let entry;
  try {
    const model = readDecoder(blobs.decoder);
    decode(model, new Array(model.latentDim).fill(0)); // fail now, not in the middle of a drag
    const scatter = blobs.scatter?.length ? new Float32Array(blobs.scatter.slice().buffer) : null;
    entry = { model, packed: blobs.decoder, scatter, loadMs: performance.now() - started,
      bytes: control.sent_bytes };
  } catch (error) {
    entry = { error: String(error?.message ?? error) };
  }
  decoders.set(control.version, entry);
  if (decoders.size > KEEP_VERSIONS) decoders.delete(decoders.keys().next().value); // oldest
  return entry;
}

// What to tell Python (state "decoder") about this version, or null when it needs no news:
// Python sends the weights until it hears ok (or an error), and resends them if we lost them.
export function decoderReport(control, entry) {
  if (entry === undefined) {
    return control.in_page ? { version: control.version, ok: false, error: null } : null;
  }
  if (!entry.error && control.in_page) return null;
  return { version: control.version, ok: !entry.error, error: entry.error ?? null,
    load_ms: entry.loadMs ?? null, bytes: entry.bytes ?? null };
}
