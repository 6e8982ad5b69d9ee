// Which z to decode next, in the worker (decode_worker.js) or on the main thread when there is no
// worker (decode_service.js): the image being dragged first, and only its newest z (a z the
// decoder had no time for is skipped, never queued); preview tiles (strips) after it, the whole
// list replaced when z moves on. A tile started just before the next dragged z delays that image
// by one decode, so for a slow decoder the tiles wait until the drag pauses.

const DRAG_GAP_MS = 100; // a dragged z this recent means the drag goes on
const TILE_WHILE_DRAGGING_MS = 6; // decodes at most this long may fit tiles between dragged ones

export class DecodeQueue {
  constructor() {
    this.shown = null; // { z, id }: the newest z to draw
    this.tiles = []; // { z, tag }, in order
    this.shownAt = -Infinity;
    this.decodeMs = 0; // the last decode's time
  }

  show(z, id, now) {
    this.shown = { z, id };
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
    if (this.tiles.length && !(dragging && this.decodeMs > TILE_WHILE_DRAGGING_MS)) {
      return { kind: "tile", ...this.tiles.shift() };
    }
    return null;
  }

  // When next() returned null for a drag in progress: how long until the tiles may go on.
  waitMs(now) {
    return this.tiles.length ? Math.max(0, this.shownAt + DRAG_GAP_MS - now) : Infinity;
  }
}
