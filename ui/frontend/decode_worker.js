// The decoder in a Web Worker, so the page's main thread never waits for a decode. Started by
// decode_service.js from this file's inlined source (ui/inline_js.py). Messages in:
//   { type: "load", bytes, kernel }  the packed decoder (decoder.js readDecoder) and its kernel
//   { type: "show", z, id }          the image to draw: only the newest z is decoded
//   { type: "shown-elsewhere" }      the newest image was decoded on the main thread
//   { type: "preview", tiles }       [{ z, tag }]: decoded once the drag pauses
//   { type: "decode", z, id }        one z at once, mean and std (for tests)
// and out: { type: "ready", kernel } or { type: "failed", error },
// { type: "image", kind, z, id | tag, mean, std, ms }
// (the pixels transferred, not copied).
import { decode, readDecoder } from "./decoder.js";
import { DecodeQueue } from "./decode_queue.js";

const queue = new DecodeQueue();
const wake = new MessageChannel(); // a task per job: messages that came meanwhile are read first
let model = null;
let running = false;
let resumeTimer = null;

function decodeCopy(z) {
  const started = performance.now();
  const { mean, std, loc } = decode(model, z);
  return { mean: mean.slice(), std: std ? std.slice() : null, loc: loc ? loc.slice() : null,
    ms: performance.now() - started };
}

function post(message) {
  const buffers = [message.mean.buffer];
  if (message.std) buffers.push(message.std.buffer);
  if (message.loc) buffers.push(message.loc.buffer);
  self.postMessage(message, buffers);
}

function runNext() {
  running = false;
  const now = performance.now();
  const job = queue.next(now);
  if (job === null) {
    const wait = queue.waitMs(now);
    if (wait < Infinity) resumeTimer = setTimeout(schedule, wait);
    return;
  }
  const image = decodeCopy(job.z);
  if (job.kind === "tile") Object.assign(image, { std: null, loc: null }); // tiles: the mean only
  post({ type: "image", ...job, ...image });
  schedule();
}

function schedule() {
  clearTimeout(resumeTimer);
  if (running || model === null) return;
  running = true;
  wake.port2.postMessage(null);
}
wake.port1.onmessage = runNext;

function load(bytes, kernel) {
  try {
    model = readDecoder(bytes, { kernel });
    decode(model, new Array(model.latentDim).fill(0)); // fail now, not in the middle of a drag
    self.postMessage({ type: "ready", kernel: model.kernel });
  } catch (error) {
    model = null;
    self.postMessage({ type: "failed", error: String(error?.message ?? error) });
  }
}

self.onmessage = ({ data }) => {
  if (data.type === "load") load(data.bytes, data.kernel);
  else if (data.type === "show") queue.show(data.z, data.id, performance.now());
  else if (data.type === "shown-elsewhere") queue.shownElsewhere(performance.now());
  else if (data.type === "preview") queue.preview(data.tiles);
  else if (data.type === "decode") post({ type: "decoded", id: data.id, ...decodeCopy(data.z) });
  schedule();
};
