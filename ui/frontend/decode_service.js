// Decoding for a page that draws: openDecodes(model, bytes, onImage) runs the decoder in a Web
// Worker (decode_worker.js) so the main thread never waits for a decode, or, where a worker cannot
// start (or `globalThis.latentLabDecodeOn = "main-thread"` asks for it, as tests do), on the main
// thread: the image in an animation frame, preview tiles in idle time. Both order the work with a
// DecodeQueue and hand each finished image to onImage({ kind, z, id | tag, mean, std, ms }).
// decodeHere(z) decodes one image on the calling thread, for a caller that judged it fast enough.
// `globalThis.latentLabKernel = "js"` makes either decode in plain JavaScript, not WebAssembly.
import { decode } from "./decoder.js";
import { DecodeQueue } from "./decode_queue.js";
import decodeWorkerSource from "./decode_worker.js?raw";

let workerUrl = null; // one Blob URL for every worker of the page

function startWorker() {
  workerUrl ??= URL.createObjectURL(new Blob([decodeWorkerSource], { type: "text/javascript" }));
  return new Worker(workerUrl, { type: "module", name: "latent-lab-decoder" });
}

function copyOf({ mean, std, loc }) {
  return { mean: mean.slice(), std: std ? std.slice() : null, loc: loc ? loc.slice() : null };
}

class WorkerDecodes {
  constructor(bytes, onImage, onFail) {
    this.backend = "worker";
    this.kernel = null; // the worker's, once it has read the decoder
    this.answers = new Map(); // decode() id -> resolve
    this.worker = startWorker();
    this.worker.onmessage = ({ data }) => {
      if (data.type === "image") onImage(data);
      else if (data.type === "decoded") this.answer(data);
      else if (data.type === "ready") this.kernel = data.kernel;
      else if (data.type === "failed") onFail(data.error);
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      onFail(event.message || "the decoder's worker did not start");
    };
    const copy = bytes.slice(); // transferred: the caller keeps its bytes
    this.worker.postMessage({ type: "load", bytes: copy, kernel: globalThis.latentLabKernel },
      [copy.buffer]);
  }

  show(z, id) {
    this.worker.postMessage({ type: "show", z, id });
  }

  shownElsewhere() {
    this.worker.postMessage({ type: "shown-elsewhere" });
  }

  preview(tiles) {
    this.worker.postMessage({ type: "preview", tiles });
  }

  decode(z, id) {
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.worker.postMessage({ type: "decode", z, id });
    });
  }

  answer({ id, mean, std }) {
    this.answers.get(id)?.({ mean, std });
    this.answers.delete(id);
  }

  close() {
    this.worker.terminate();
  }
}

class MainThreadDecodes {
  constructor(model, onImage) {
    this.backend = "main thread";
    this.kernel = model.kernel;
    this.model = model;
    this.onImage = onImage;
    this.queue = new DecodeQueue();
    this.decodeMs = 0; // the last decode's: a tile fits in idle time with this much left
    this.frame = null;
    this.idle = null;
    this.resume = null; // the tiles' timer while a slow decoder's drag goes on
  }

  show(z, id) {
    this.queue.show(z, id, performance.now());
    this.frame ??= requestAnimationFrame(() => this.decodeShown());
  }

  shownElsewhere() {
    this.queue.shownElsewhere(performance.now());
  }

  preview(tiles) {
    this.queue.preview(tiles);
    this.requestIdle();
  }

  requestIdle() {
    if (this.queue.tiles.length) this.idle ??= requestIdleCallback((d) => this.decodeTiles(d));
  }

  decode(z) {
    return Promise.resolve(copyOf(decode(this.model, z)));
  }

  // In the frame that draws it: the caller asked for that frame after show().
  decodeShown() {
    this.frame = null;
    const job = this.queue.next(performance.now());
    if (job) this.run(job);
    this.requestIdle();
  }

  // One tile at a time while the frame has room for another.
  decodeTiles(deadline) {
    this.idle = null;
    while (this.queue.tiles.length && deadline.timeRemaining() > this.decodeMs) {
      const now = performance.now();
      const job = this.queue.next(now);
      if (job === null) { // a slow decoder mid-drag: the tiles wait for it to pause
        this.resume = setTimeout(() => this.requestIdle(), this.queue.waitMs(now));
        return;
      }
      this.run(job);
    }
    this.requestIdle();
  }

  run(job) {
    const started = performance.now();
    const image = copyOf(decode(this.model, job.z));
    this.decodeMs = performance.now() - started;
    const tile = job.kind === "tile";
    this.onImage({ ...job, ...image, std: tile ? null : image.std, loc: tile ? null : image.loc,
      ms: this.decodeMs });
  }

  close() {
    cancelAnimationFrame(this.frame);
    cancelIdleCallback(this.idle);
    clearTimeout(this.resume);
  }
}

// The decoder behind one interface whichever thread runs it; a worker that fails hands its work
// to the main thread.
class Decodes {
  constructor(model, bytes, onImage) {
    this.model = model;
    this.onImage = onImage;
    this.lastShown = null;
    this.lastTiles = [];
    this.nextId = 0;
    this.failure = null;
    this.backend = this.start(bytes);
  }

  start(bytes) {
    if (globalThis.latentLabDecodeOn === "main-thread" || typeof Worker === "undefined") {
      return new MainThreadDecodes(this.model, this.onImage);
    }
    try {
      return new WorkerDecodes(bytes, this.onImage, (error) => this.fallBack(error));
    } catch (error) { // a page whose policy forbids workers from Blob URLs
      this.failure = String(error?.message ?? error);
      return new MainThreadDecodes(this.model, this.onImage);
    }
  }

  fallBack(error) {
    if (this.backend.backend !== "worker") return;
    this.failure = error;
    this.backend.close();
    this.backend = new MainThreadDecodes(this.model, this.onImage);
    if (this.lastShown) this.backend.show(...this.lastShown);
    this.backend.preview(this.lastTiles);
  }

  // Decode z for the image on show; returns the id its image will carry.
  show(z) {
    this.nextId += 1;
    this.lastShown = [z, this.nextId];
    this.backend.show(z, this.nextId);
    return this.nextId;
  }

  // Replace the preview tiles still to decode: [{ z, tag }].
  preview(tiles) {
    this.lastTiles = tiles;
    this.backend.preview(tiles);
  }

  // The image of z decoded here, on the calling thread, as onImage would get it: for a key
  // step of a decoder fast enough (see latent_sliders.js), whose worker round trip would miss
  // the next frame.
  decodeHere(z) {
    this.nextId += 1;
    this.lastShown = null;
    this.backend.shownElsewhere();
    const started = performance.now();
    const image = copyOf(decode(this.model, z));
    return { kind: "shown", z, id: this.nextId, ...image, ms: performance.now() - started,
      here: true };
  }

  // One z now, apart from the queue: a promise of { mean, std } (tests compare it with torch).
  decode(z) {
    this.nextId += 1;
    return this.backend.decode(z, this.nextId);
  }

  // Where and how it decodes, e.g. "worker, wasm-simd" (the kernel once the worker has said).
  get where() {
    const { backend, kernel } = this.backend;
    return kernel ? `${backend}, ${kernel}` : backend;
  }

  close() {
    this.backend.close();
  }
}

export function openDecodes(model, bytes, onImage) {
  return new Decodes(model, bytes, onImage);
}
