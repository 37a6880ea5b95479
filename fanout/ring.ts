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

/** A growable circular buffer of one stream's items, oldest first. */
export class ItemRing {
  private buf: (StreamItem | undefined)[] = new Array<StreamItem | undefined>(8);
  private head = 0;
  private n = 0;
  bytes = 0;
  lastSeq = 0;

  get size(): number {
    return this.n;
  }

  at(i: number): StreamItem | undefined {
    return i >= 0 && i < this.n ? this.buf[(this.head + i) % this.buf.length] : undefined;
  }

  push(item: StreamItem): void {
    if (this.n === this.buf.length) {
      const next = new Array<StreamItem | undefined>(this.buf.length * 2);
      for (let i = 0; i < this.n; i++) next[i] = this.at(i);
      this.buf = next;
      this.head = 0;
    }
    this.buf[(this.head + this.n) % this.buf.length] = item;
    this.n++;
    this.bytes += item.bytes.length;
    if (item.seq > 0) this.lastSeq = item.seq;
  }

  shift(): StreamItem | undefined {
    if (this.n === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.n--;
    if (item) this.bytes -= item.bytes.length;
    return item;
  }

  clear(): void {
    while (this.n > 0) this.shift();
    this.lastSeq = 0;
  }

  /** Items received at or after fromMs, oldest first. */
  since(fromMs: number): StreamItem[] {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.at(mid)?.atMs ?? 0) < fromMs) lo = mid + 1;
      else hi = mid;
    }
    const out: StreamItem[] = [];
    for (let i = lo; i < this.n; i++) out.push(this.at(i) as StreamItem);
    return out;
  }
}

export type AppendVerdict = 'stored' | 'duplicate' | 'restarted' | 'untracked';

/** How far back a repeated seq still counts as a QoS 1 duplicate rather than a stream that restarted from 1. */
const DUPLICATE_WINDOW = 4096;

export class RingStore {
  private readonly rings = new Map<string, ItemRing>();
  private total = 0;
  readonly counters = { duplicates: 0, restarts: 0, untracked: 0, evicted: 0 };

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
   * Classifies and stores an item. 'duplicate': a seq this stream already had (QoS 1 redelivery): not stored, and
   * the caller must not deliver it either. 'restarted': seq went back beyond the duplicate window (or to 1): the
   * old history is dropped and the item stored.
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
      if (item.seq === ring.lastSeq || (item.seq !== 1 && ring.lastSeq - item.seq < DUPLICATE_WINDOW)) {
        this.counters.duplicates++;
        return 'duplicate';
      }
      this.counters.restarts++;
      this.total -= ring.bytes;
      ring.clear();
      verdict = 'restarted';
    }
    ring.push(item);
    this.total += item.bytes.length;
    this.trim(ring, item.kind, nowMs);
    return verdict;
  }

  private trim(ring: ItemRing, kind: StreamName, nowMs: number): void {
    const k = this.limits.kinds[kind];
    const windowMs = this.total > this.limits.maxTotalBytes ? Math.min(k.retainMs, this.limits.pressureRetainMs) : k.retainMs;
    const cutoff = nowMs - windowMs;
    for (;;) {
      const oldest = ring.at(0);
      if (oldest === undefined || ring.size <= 1) break;
      if (oldest.atMs >= cutoff && ring.size <= k.maxItems && ring.bytes <= k.maxBytes) break;
      ring.shift();
      this.total -= oldest.bytes.length;
      this.counters.evicted++;
    }
  }

  /** Drops streams with nothing newer than their window (devices gone for good). */
  sweep(nowMs: number): void {
    for (const [stream, ring] of this.rings) {
      const newest = ring.at(ring.size - 1);
      const kind = stream.slice(stream.lastIndexOf('/') + 1) as StreamName;
      const k = this.limits.kinds[kind];
      if (newest === undefined || (k && newest.atMs < nowMs - k.retainMs)) {
        this.total -= ring.bytes;
        this.rings.delete(stream);
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
export function selectBackfill(items: readonly StreamItem[], maxBytes: number): { items: StreamItem[]; stride: number } {
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
