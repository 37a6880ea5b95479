import { describe, expect, it } from 'vitest';
import type { StreamName } from './protocol.js';
import {
  DEFAULT_RING_LIMITS,
  RingStore,
  latestPerShape,
  selectBackfill,
  type RingLimits,
  type StreamItem,
} from './ring.js';

const item = (kind: StreamName, seq: number, atMs: number, bytes = 100, bed = 's/g/d'): StreamItem => ({
  stream: `${bed}/${kind}`,
  bed,
  kind,
  seq,
  atMs,
  publishTimeUs: atMs * 1000,
  bytes: Buffer.alloc(bytes),
});

const limits = (over: Partial<RingLimits> = {}): RingLimits => ({ ...DEFAULT_RING_LIMITS, ...over });

describe('backfill rings', () => {
  it('keeps a wave stream to its time window, oldest first', () => {
    const r = new RingStore(limits());
    for (let i = 1; i <= 100; i++) r.append(item('wave', i, i * 256), i * 256);
    const ring = r.ring('s/g/d/wave')!;
    // 10 s window at 256 ms per chunk: the newest 40 (and the one exactly on the edge).
    expect(ring.size).toBeGreaterThanOrEqual(40);
    expect(ring.size).toBeLessThanOrEqual(41);
    expect(ring.at(ring.size - 1)!.seq).toBe(100);
    expect(ring.since(100 * 256 - 2000).map((x) => x.seq)).toEqual([93, 94, 95, 96, 97, 98, 99, 100]);
  });

  it('bounds items and bytes per stream, and shrinks every window over the global budget', () => {
    const r = new RingStore(
      limits({ kinds: { ...DEFAULT_RING_LIMITS.kinds, obs: { retainMs: 3600_000, maxItems: 10, maxBytes: 550 } } }),
    );
    for (let i = 1; i <= 50; i++) r.append(item('obs', i, i * 1000), i * 1000);
    expect(r.ring('s/g/d/obs')!.size).toBe(5); // 5 x 100 bytes <= 550
    const g = new RingStore(limits({ maxTotalBytes: 10_000, pressureRetainMs: 5000 }));
    for (let i = 1; i <= 200; i++) g.append(item('obs', i, i * 1000), i * 1000);
    expect(g.totalBytes).toBeLessThanOrEqual(10_000 + 100);
    expect(g.ring('s/g/d/obs')!.at(g.ring('s/g/d/obs')!.size - 1)!.seq).toBe(200);
  });

  it('drops QoS 1 repeats and starts over when a stream restarts from seq 1', () => {
    const r = new RingStore(limits());
    expect(r.append(item('obs', 1, 1), 1)).toBe('stored');
    expect(r.append(item('obs', 2, 2), 2)).toBe('stored');
    expect(r.append(item('obs', 2, 3), 3)).toBe('duplicate');
    expect(r.append(item('obs', 3, 4), 4)).toBe('stored');
    expect(r.append(item('obs', 1, 5), 5)).toBe('restarted');
    expect(r.ring('s/g/d/obs')!.size).toBe(1);
    expect(r.counters.duplicates).toBe(1);
    // Unnumbered Batches (seq 0) are never taken for repeats.
    expect(r.append(item('status', 0, 6), 6)).toBe('stored');
    expect(r.append(item('status', 0, 7), 7)).toBe('stored');
  });

  it('delivers but does not keep streams beyond maxStreams', () => {
    const r = new RingStore(limits({ maxStreams: 2 }));
    expect(r.append(item('obs', 1, 1, 10, 'a/b/c'), 1)).toBe('stored');
    expect(r.append(item('obs', 1, 1, 10, 'a/b/d'), 1)).toBe('stored');
    expect(r.append(item('obs', 1, 1, 10, 'a/b/e'), 1)).toBe('untracked');
    expect(r.streams).toBe(2);
  });

  it('thins a numerics history over its byte budget to every n-th Batch, keeping the newest', () => {
    const items = Array.from({ length: 100 }, (_, i) => item('obs', i + 1, i));
    const all = selectBackfill(items, 1e9);
    expect(all.stride).toBe(1);
    expect(all.items).toHaveLength(100);
    const thin = selectBackfill(items, 2500); // 10 000 bytes into 2 500: every 4th
    expect(thin.stride).toBe(4);
    expect(thin.items.at(-1)!.seq).toBe(100);
    expect(thin.items.map((x) => x.seq).slice(-3)).toEqual([92, 96, 100]);
    expect(thin.items.reduce((n, x) => n + x.bytes.length, 0)).toBeLessThanOrEqual(2500);
  });

  it('picks the newest Batch of each numerics shape for a ward tile', () => {
    const shaped = (seq: number, shape: string): StreamItem => ({ ...item('obs', seq, seq), shape });
    const items = [
      shaped(1, 'nibp'),
      shaped(2, 'vitals'),
      shaped(3, 'temp'),
      shaped(4, 'vitals'),
      shaped(5, 'temp'),
      shaped(6, 'vitals'),
    ];
    expect(latestPerShape(items).map((x) => x.seq)).toEqual([1, 5, 6]);
    expect(latestPerShape(items, 2).map((x) => x.seq)).toEqual([5, 6]);
  });
});

describe('history replayed under live data (the gateway sends a long backlog after live data: docs/gateway.md)', () => {
  const back = (kind: StreamName, seq: number, atMs: number): StreamItem => ({
    ...item(kind, seq, atMs),
    backfill: true,
  });

  it('keeps backfilled Batches below the live ones, in seq order, and never takes seq 1 of a backlog for a restart', () => {
    const r = new RingStore(limits());
    for (let s = 100; s <= 110; s++) expect(r.append(item('obs', s, s), s)).toBe('stored'); // live, after the outage
    expect(r.append(back('obs', 1, 111), 111)).toBe('stored'); // the backlog, oldest first
    for (let s = 2; s <= 99; s++) expect(r.append(back('obs', s, 111 + s), 111 + s)).toBe('stored');
    expect(r.counters.restarts).toBe(0);
    const ring = r.ring('s/g/d/obs')!;
    expect(Array.from({ length: ring.size }, (_, i) => ring.at(i)!.seq)).toEqual(
      Array.from({ length: 110 }, (_, i) => i + 1),
    );
    // Duplicates by seq only: a repeat of a live or of a backfilled seq.
    expect(r.append(item('obs', 105, 300), 300)).toBe('duplicate');
    expect(r.append(back('obs', 50, 301), 301)).toBe('duplicate');
    expect(r.append(item('obs', 111, 302), 302)).toBe('stored');
  });

  it('keeps the newest data when a stream is over its count: backfill older than what is kept goes first', () => {
    const r = new RingStore(
      limits({ kinds: { ...DEFAULT_RING_LIMITS.kinds, wave: { retainMs: 10_000, maxItems: 5, maxBytes: 1 << 20 } } }),
    );
    for (const s of [50, 52, 54, 56, 58]) r.append(item('wave', s, 1000), 1000);
    r.append(back('wave', 10, 1001), 1001);
    r.append(back('wave', 55, 1002), 1002);
    const ring = r.ring('s/g/d/wave')!;
    expect(Array.from({ length: ring.size }, (_, i) => ring.at(i)!.seq)).toEqual([52, 54, 55, 56, 58]);
  });

  it('gives history received within a window, in seq order, and sweeps out what the window left behind it', () => {
    const r = new RingStore(limits());
    for (let s = 10; s <= 12; s++) r.append(item('wave', s, 1000), 1000);
    r.append(back('wave', 5, 9000), 9000);
    const ring = r.ring('s/g/d/wave')!;
    expect(ring.since(0).map((x) => x.seq)).toEqual([5, 10, 11, 12]);
    expect(ring.since(5000).map((x) => x.seq)).toEqual([5]);
    r.sweep(12_000); // the live ones are older than 10 s; the backfilled one is not
    expect(ring.since(0).map((x) => x.seq)).toEqual([5]);
    expect(r.totalBytes).toBe(100);
  });
});
