// Which z to decode next, in the worker (decode_worker.js) or on the main thread when there is no
// worker (decode_service.js): the image being dragged first, and only its newest z (a z the
// decoder had no time for is skipped, never queued); preview tiles (strips) once the drag pauses,
// the whole list replaced when z moves on. Tiles during a drag would be a hundred decodes a frame
// (every strip but the dragged one's changes), each sent to the main thread to draw: on a busy
// machine they cost the dragged image frames, and a tile started just before the next dragged z
// delays it by one decode.

const DRAG_GAP_MS = 100; // a dragged z this recent means the drag goes on

export class DecodeQueue {
  constructor() {
    this.shown = null; // { z, id }: the newest z to draw
    this.tiles = []; // { z, tag }, in order
    this.shownAt = -Infinity;
  }

  show(z, id, now) {
    this.shown = { z, id };
    this.shownAt = now;
  }

  // The newest image was decoded elsewhere (decode_service.js decodeHere): a z still waiting is
  // older, and the tiles wait as they would after a shown z.
  shownElsewhere(now) {
    this.shown = null;
    this.shownAt = now;
  }

  preview(tiles) {
    this.tiles = tiles.slice();
  }

  // The next job ({ kind: "shown" | "tile", z, id | tag }), or null: nothing to do for now.
  next(now) {
    if (this.shown) {
      const job = { kind: "shown", ...this.shown };
      this.shown = null;
      return job;
    }
    const dragging = now - this.shownAt < DRAG_GAP_MS;
    return this.tiles.length && !dragging ? { kind: "tile", ...this.tiles.shift() } : null;
  }

  // When next() returned null for a drag in progress: how long until the tiles may go on.
  waitMs(now) {
    return this.tiles.length ? Math.max(0, this.shownAt + DRAG_GAP_MS - now) : Infinity;
  }
}
