// The live path's queue: records committed while online, in commit order, held in memory up to a byte bound so the
// publisher need not read them back from disk. A plain array with a moving head; taken slots are cleared at once so
// a payload never outlives its use, and the array is compacted once most of it is behind the head.
import type { OutRecord } from './types.js';

export class LiveQueue {
  #items: (OutRecord | null)[] = [];
  #head = 0;
  #bytes = 0;

  /**
   * Adds a record. When the queue then holds more than maxBytes, the oldest records leave it (they stay on disk and
   * become backlog); returns the highest id that left, or 0.
   */
  push(r: OutRecord, maxBytes: number): number {
    this.#items.push(r);
    this.#bytes += r.payload.length;
    let overflow = 0;
    while (this.#bytes > maxBytes && this.#head < this.#items.length) {
      const old = this.shift();
      if (old) overflow = Math.max(overflow, old.id);
    }
    if (this.#head > 256 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return overflow;
  }

  /** The oldest record, removed from the queue; undefined when empty. */
  shift(): OutRecord | undefined {
    while (this.#head < this.#items.length) {
      const r = this.#items[this.#head];
      this.#items[this.#head++] = null;
      if (r) {
        this.#bytes -= r.payload.length;
        return r;
      }
    }
    return undefined;
  }

  has(): boolean {
    return this.#head < this.#items.length;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
