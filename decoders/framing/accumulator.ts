// The bytes of a frame that spans chunks, for framers. Grows by doubling up to a hard limit and
// never past it, so a sender that never ends its frame cannot make the gateway grow without
// bound; a frame that fits in one chunk never comes here (framers hand out a view instead).
export interface Accumulator {
  /** Appends chunk[from, to); false (and nothing appended) when that would pass the limit. */
  append(chunk: Buffer, from: number, to: number): boolean;
  /** The bytes gathered so far, as a view (valid until the next append or clear). */
  view(): Buffer;
  readonly length: number;
  clear(): void;
}

export function createAccumulator(max: number, initial = 4096): Accumulator {
  let acc = Buffer.allocUnsafe(Math.min(initial, max));
  let len = 0;
  return {
    append(chunk, from, to) {
      const n = to - from;
      if (len + n > max) return false;
      if (len + n > acc.length) {
        const grown = Buffer.allocUnsafe(Math.min(max, Math.max(acc.length * 2, len + n)));
        acc.copy(grown, 0, 0, len);
        acc = grown;
      }
      chunk.copy(acc, len, from, to);
      len += n;
      return true;
    },
    view: () => acc.subarray(0, len),
    get length() {
      return len;
    },
    clear() {
      len = 0;
    },
  };
}
