// What history a subscription gets, per stream (docs/dashboard.md, Backfill): the client's request capped by the
// server, read from the memory ring, merged under what the shared store (Redis) had when the fan-out is younger
// than the window. Pure: the ring and the shared items come in, the items to send go out.
import type { BackfillRequest, StreamName } from './protocol.js';
import { latestPerShape, selectBackfill, type ItemRing, type StreamItem } from './ring.js';

export interface BackfillCaps {
  waveMs: number;
  obsMs: number;
  alarmMs: number;
  /** Numerics history beyond this many bytes is thinned to every n-th Batch. */
  trendBytes: number;
}

export type Windows = Record<StreamName, number> & { obsLatest: boolean };

export function backfillWindows(req: BackfillRequest | undefined, cap: BackfillCaps): Windows {
  const pick = (v: number | undefined, max: number): number =>
    typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.min(v, max)) : max;
  const obsLatest = req?.obsLatest === true;
  return {
    wave: pick(req?.waveMs, cap.waveMs),
    obs: obsLatest ? cap.obsMs : pick(req?.obsMs, cap.obsMs),
    alarm: pick(req?.alarmMs, cap.alarmMs),
    status: Infinity,
    obsLatest,
  };
}

/** The history of one stream: the ring's items and what the shared store holds beside them (by seq), then capped. */
export function selectHistory(
  ring: ItemRing | undefined,
  kind: StreamName,
  now: number,
  w: Windows,
  shared: readonly StreamItem[],
  trendBytes: number,
): { items: StreamItem[]; stride: number } {
  if (kind === 'status') {
    // The latest status says how the device link is; older ones only repeat it.
    const last = ring?.at(ring.size - 1);
    return { items: last ? [last] : [], stride: 1 };
  }
  let items = ring ? ring.since(now - w[kind]) : [];
  // A zero window still gives the newest numerics, so a tile has a value at once.
  if (items.length === 0 && kind === 'obs' && ring && ring.size > 0) items = [ring.at(ring.size - 1) as StreamItem];
  if (shared.length > 0) {
    // Union by seq, in seq order: the shared store may hold history this ring never had (it started later).
    const have = new Set(items.map((it) => it.seq));
    const extra = shared.filter((s) => s.seq > 0 && !have.has(s.seq) && (have.add(s.seq), true));
    if (extra.length > 0) items = [...items, ...extra].sort((a, b) => (a.seq || Infinity) - (b.seq || Infinity));
  }
  if (kind !== 'obs') return { items, stride: 1 };
  if (w.obsLatest) return { items: latestPerShape(items), stride: 0 };
  return selectBackfill(items, trendBytes);
}

/** The highest seq of a history (0 when none): live data continues above it. */
export function lastSeq(items: readonly StreamItem[]): number {
  let top = 0;
  for (const it of items) if (it.seq > top) top = it.seq;
  return top;
}
