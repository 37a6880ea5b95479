// Bounded in-memory history per stream, for backfill on subscribe. Each stream keeps its recent Batches (the
// delimited bytes shared with live delivery) within a time window, an item count and a byte budget per kind; a
// global byte budget over all streams shortens every window to `pressureRetainMs` while it is exceeded.
// Sans-I/O: time comes in with each call.
import type { StreamName } from './protocol.js';

export interface StreamItem {
  /** site/gateway/device/kind */
  readonly stream: string;
  /** site/gateway/device */
  readonly bed: string;
  readonly kind: StreamName;
  /** Batch.seq as the gateway numbered it; 0 = unnumbered. */
  readonly seq: number;
  /** When the fan-out received it (its own clock: gateway clocks may be off). */
  readonly atMs: number;
  readonly publishTimeUs: number;
  /** varint length ++ the gateway's Batch bytes. */
  readonly bytes: Buffer;
  /** numerics only: the metric codes it carries (wire.ts obsShape) */
  readonly shape?: string;
  /** Batch.backfill: replayed from the gateway's outbox, not live. */
  readonly backfill?: boolean;
}

export interface KindRetention {
  retainMs: number;
  maxItems: number;
  maxBytes: number;
}

export interface RingLimits {
  kinds: Record<StreamName, KindRetention>;
  /** Streams beyond this many are delivered live but not kept (counted in `untracked`). */
  maxStreams: number;
  /** Over this many bytes in all rings, windows shrink to pressureRetainMs. */
  maxTotalBytes: number;
  pressureRetainMs: number;
}

export const DEFAULT_RING_LIMITS: RingLimits = {
  kinds: {
    wave: { retainMs: 10_000, maxItems: 400, maxBytes: 1 << 20 },
    obs: { retainMs: 3600_000, maxItems: 7200, maxBytes: 4 << 20 },
    alarm: { retainMs: 3600_000, maxItems: 2000, maxBytes: 1 << 20 },
    status: { retainMs: 3600_000, maxItems: 8, maxBytes: 64 << 10 },
  },
  maxStreams: 65_536,
  maxTotalBytes: 512 << 20,
  pressureRetainMs: 60_000,
};

/**
 * A growable circular buffer of one stream's items in seq order (the gateway's numbering, so history replayed after
 * live data still sits where it belongs). An unnumbered item (seq 0) sits after the numbered item it followed.
 */
export class ItemRing {
  private buf: (StreamItem | undefined)[] = new Array<StreamItem | undefined>(8);
  /** Sort key of each slot: its seq, or for seq 0 the seq it followed. */
  private keys: number[] = new Array<number>(8).fill(0);
  private head = 0;
  private n = 0;
  bytes = 0;
  /** The highest seq this stream has had since it (re)started, kept or not. */
  lastSeq = 0;
  /** An item went in below the newest one (backfill): time trimming from the head may leave older receipts behind it. */
  unordered = false;

  get size(): number {
    return this.n;
  }

  at(i: number): StreamItem | undefined {
    return i >= 0 && i < this.n ? this.buf[(this.head + i) % this.buf.length] : undefined;
  }

  private keyAt(i: number): number {
    return this.keys[(this.head + i) % this.buf.length] as number;
  }

  private grow(): void {
    const next = new Array<StreamItem | undefined>(this.buf.length * 2);
    const keys = new Array<number>(this.buf.length * 2).fill(0);
    for (let i = 0; i < this.n; i++) {
      next[i] = this.at(i);
      keys[i] = this.keyAt(i);
    }
    this.buf = next;
    this.keys = keys;
    this.head = 0;
  }

  /** Index of the first item whose key is >= key (binary search). */
  private lowerBound(key: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keyAt(mid) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The stream holds an item with this seq (> 0). */
  has(seq: number): boolean {
    for (let i = this.lowerBound(seq); i < this.n && this.keyAt(i) === seq; i++)
      if (this.at(i)?.seq === seq) return true;
    return false;
  }

  /** Adds an item in seq order: at the end for live data (the usual case), in its place for history. */
  insert(item: StreamItem): void {
    if (this.n === this.buf.length) this.grow();
    const last = this.n > 0 ? this.keyAt(this.n - 1) : 0;
    const key = item.seq > 0 ? item.seq : last;
    let pos = this.n;
    if (key < last) {
      // After every item of a lower or equal key: seq-0 items stay behind the item they followed.
      pos = this.lowerBound(key + 1);
      for (let i = this.n; i > pos; i--) {
        const to = (this.head + i) % this.buf.length;
        const from = (this.head + i - 1) % this.buf.length;
        this.buf[to] = this.buf[from];
        this.keys[to] = this.keys[from] as number;
      }
      this.unordered = true;
    }
    const slot = (this.head + pos) % this.buf.length;
    this.buf[slot] = item;
    this.keys[slot] = key;
    this.n++;
    this.bytes += item.bytes.length;
    if (item.seq > this.lastSeq) this.lastSeq = item.seq;
  }

  /** Appends an item as the newest (kept for callers that build a ring in order). */
  push(item: StreamItem): void {
    this.insert(item);
  }

  shift(): StreamItem | undefined {
    if (this.n === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.n--;
    if (item) this.bytes -= item.bytes.length;
    if (this.n === 0) this.unordered = false;
    return item;
  }

  clear(): void {
    while (this.n > 0) this.shift();
    this.lastSeq = 0;
  }

  /** Items received at or after fromMs, in seq order. */
  since(fromMs: number): StreamItem[] {
    const out: StreamItem[] = [];
    for (let i = 0; i < this.n; i++) {
      const it = this.at(i) as StreamItem;
      if (it.atMs >= fromMs) out.push(it);
    }
    return out;
  }

  /** Keeps only the items a predicate accepts (in order); returns the bytes removed. */
  retain(keep: (it: StreamItem) => boolean): number {
    const kept: StreamItem[] = [];
    const keys: number[] = [];
    let removed = 0;
    for (let i = 0; i < this.n; i++) {
      const it = this.at(i) as StreamItem;
      if (keep(it)) {
        kept.push(it);
        keys.push(this.keyAt(i));
      } else removed += it.bytes.length;
    }
    const lastSeq = this.lastSeq;
    this.buf = new Array<StreamItem | undefined>(Math.max(8, this.buf.length));
    this.keys = new Array<number>(this.buf.length).fill(0);
    this.head = 0;
    this.n = 0;
    this.bytes = 0;
    kept.forEach((it, i) => {
      this.buf[i] = it;
      this.keys[i] = keys[i] as number;
      this.bytes += it.bytes.length;
    });
    this.n = kept.length;
    this.lastSeq = lastSeq;
    return removed;
  }
}

export type AppendVerdict = 'stored' | 'duplicate' | 'restarted' | 'untracked';

/** How far below the newest seq a live (not backfill) Batch still counts as out of order rather than a restart. */
const RESTART_DISTANCE = 4096;

export class RingStore {
  private readonly rings = new Map<string, ItemRing>();
  private total = 0;
  readonly counters = { duplicates: 0, restarts: 0, untracked: 0, evicted: 0, history: 0 };

  constructor(private readonly limits: RingLimits = DEFAULT_RING_LIMITS) {}

  get totalBytes(): number {
    return this.total;
  }

  get streams(): number {
    return this.rings.size;
  }

  ring(stream: string): ItemRing | undefined {
    return this.rings.get(stream);
  }

  /**
   * Classifies and stores an item. Duplicates are told by seq only: 'duplicate' is a seq the stream holds (a QoS 1
   * redelivery): not stored, and the caller must not deliver it either. A seq below the newest one that the stream
   * does not hold is history (the gateway replays a long backlog after live data, docs/gateway.md): stored in its
   * place. 'restarted': a live Batch numbered 1, or far below the newest, after more (the gateway's numbering began
   * again): the old history is dropped. A backfilled Batch never restarts a stream.
   */
  append(item: StreamItem, nowMs: number): AppendVerdict {
    let ring = this.rings.get(item.stream);
    if (!ring) {
      if (this.rings.size >= this.limits.maxStreams) {
        this.counters.untracked++;
        return 'untracked';
      }
      ring = new ItemRing();
      this.rings.set(item.stream, ring);
    }
    let verdict: AppendVerdict = 'stored';
    if (item.seq > 0 && item.seq <= ring.lastSeq) {
      if (
        item.backfill !== true &&
        item.seq < ring.lastSeq &&
        (item.seq === 1 || ring.lastSeq - item.seq >= RESTART_DISTANCE)
      ) {
        this.counters.restarts++;
        this.total -= ring.bytes;
        ring.clear();
        verdict = 'restarted';
      } else if (ring.has(item.seq)) {
        this.counters.duplicates++;
        return 'duplicate';
      } else this.counters.history++;
    }
    ring.insert(item);
    this.total += item.bytes.length;
    this.trim(ring, item.kind, nowMs);
    return verdict;
  }

  private trim(ring: ItemRing, kind: StreamName, nowMs: number): void {
    const k = this.limits.kinds[kind];
    const windowMs =
      this.total > this.limits.maxTotalBytes ? Math.min(k.retainMs, this.limits.pressureRetainMs) : k.retainMs;
    const cutoff = nowMs - windowMs;
    // From the lowest seq: the oldest data goes first, whatever order it arrived in.
    for (;;) {
      const oldest = ring.at(0);
      if (oldest === undefined || ring.size <= 1) break;
      if (oldest.atMs >= cutoff && ring.size <= k.maxItems && ring.bytes <= k.maxBytes) break;
      ring.shift();
      this.total -= oldest.bytes.length;
      this.counters.evicted++;
    }
  }

  /**
   * Drops streams with nothing received within their window (devices gone for good), and items outside the window
   * that history inserted below newer ones kept from time trimming.
   */
  sweep(nowMs: number): void {
    for (const [stream, ring] of this.rings) {
      const kind = stream.slice(stream.lastIndexOf('/') + 1) as StreamName;
      const k = this.limits.kinds[kind];
      const cutoff = k ? nowMs - k.retainMs : Number.NEGATIVE_INFINITY;
      // In seq order the last item is the newest received, unless history went in below it.
      let newest = ring.at(ring.size - 1)?.atMs ?? Number.NEGATIVE_INFINITY;
      if (ring.unordered)
        for (let i = 0; i < ring.size; i++) newest = Math.max(newest, (ring.at(i) as StreamItem).atMs);
      if (ring.size === 0 || newest < cutoff) {
        this.total -= ring.bytes;
        this.rings.delete(stream);
        continue;
      }
      if (ring.unordered) {
        this.total -= ring.retain((it) => it.atMs >= cutoff);
        ring.unordered = false;
      }
    }
  }
}

/**
 * The newest Batch of each numerics shape (at most maxShapes), oldest first: what a ward tile needs to show every
 * metric a device reports, however rarely (NIBP every few minutes), without the history in between.
 */
export function latestPerShape(items: readonly StreamItem[], maxShapes = 16): StreamItem[] {
  const seen = new Set<string>();
  const out: StreamItem[] = [];
  for (let i = items.length - 1; i >= 0 && seen.size < maxShapes; i--) {
    const it = items[i] as StreamItem;
    const shape = it.shape ?? '';
    if (seen.has(shape)) continue;
    seen.add(shape);
    out.push(it);
  }
  return out.reverse();
}

/**
 * The history a subscription gets for one stream: items since fromMs, thinned to every stride-th item (always
 * keeping the newest) when they exceed maxBytes. Thinning only ever applies to numerics trends.
 */
export function selectBackfill(
  items: readonly StreamItem[],
  maxBytes: number,
): { items: StreamItem[]; stride: number } {
  let bytes = 0;
  for (const it of items) bytes += it.bytes.length;
  if (bytes <= maxBytes || items.length <= 1) return { items: [...items], stride: 1 };
  const stride = Math.ceil(bytes / maxBytes);
  const out: StreamItem[] = [];
  // Count from the newest backwards so the newest is always included.
  for (let i = items.length - 1; i >= 0; i -= stride) out.push(items[i] as StreamItem);
  out.reverse();
  return { items: out, stride };
}
