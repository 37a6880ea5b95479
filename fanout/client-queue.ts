// One dashboard client's outgoing queue and its slow-client policy. Sans-I/O: the caller says how many bytes the
// socket already holds (ws bufferedAmount) and sends the frames drain() returns.
//
// Budget: queued bytes + the socket's bufferedAmount <= maxQueuedBytes. When a push goes over it:
//   1. numerics (obs) and status coalesce to the newest Batch per stream; dropped numerics become a Gap;
//   2. then the oldest waveform chunks are dropped until the queue is back under 3/4 of the budget; each dropped
//      run of one stream becomes one Gap (reason GAP_REASON_SLOW_CLIENT) in its place;
//   3. alarms, gaps and control messages are never dropped. If they alone pass maxAlarmBacklogBytes the verdict is
//      'overflow' and the caller closes the client (VW_ERR_WS_SLOW_CLIENT): it reconnects and gets backfill.
import type { StreamName } from './protocol.js';
import type { StreamItem } from './ring.js';
import { encodeSlowClientGap, type GapRange } from './wire.js';

export interface QueueLimits {
  maxQueuedBytes: number;
  maxAlarmBacklogBytes: number;
  /** Largest binary ws message drain() builds (several are sent when more is queued). */
  maxMessageBytes: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = {
  maxQueuedBytes: 2 << 20,
  maxAlarmBacklogBytes: 1 << 20,
  maxMessageBytes: 256 << 10,
};

interface DataEntry {
  readonly t: 'data';
  readonly item: StreamItem;
}
interface GapEntry {
  readonly t: 'gap';
  readonly gap: GapRange;
}
interface TextEntry {
  readonly t: 'text';
  readonly text: string;
}
type Entry = DataEntry | GapEntry | TextEntry;

export type Frame = { binary: Buffer; text?: undefined } | { text: string; binary?: undefined };

const GAP_BYTES = 64; // an encoded slow-client Gap Batch, roughly

function sizeOf(e: Entry): number {
  return e.t === 'data' ? e.item.bytes.length : e.t === 'gap' ? GAP_BYTES : e.text.length;
}

const droppable = (e: Entry): e is DataEntry => e.t === 'data' && e.item.kind !== 'alarm';

export class ClientQueue {
  private entries: Entry[] = [];
  private bytes = 0;
  /** Unsent gap entries per stream that later drops of the same stream may extend. */
  private openGaps = new Map<string, GapEntry>();
  readonly counters = { coalesced: 0, droppedWaves: 0, gaps: 0, sentBatches: 0 };
  /** Batches handed to the socket, by stream kind ('gap': the Gap markers of this queue's drop policy). */
  readonly sentByKind: Record<StreamName | 'gap', number> = { obs: 0, wave: 0, alarm: 0, status: 0, gap: 0 };

  constructor(private readonly limits: QueueLimits = DEFAULT_QUEUE_LIMITS) {}

  get queuedBytes(): number {
    return this.bytes;
  }

  get length(): number {
    return this.entries.length;
  }

  pushData(item: StreamItem, bufferedAmount: number): 'ok' | 'overflow' {
    return this.push({ t: 'data', item }, bufferedAmount);
  }

  pushText(text: string, bufferedAmount: number): 'ok' | 'overflow' {
    return this.push({ t: 'text', text }, bufferedAmount);
  }

  private push(e: Entry, buffered: number): 'ok' | 'overflow' {
    this.entries.push(e);
    this.bytes += sizeOf(e);
    if (this.bytes + buffered <= this.limits.maxQueuedBytes) return 'ok';
    this.shed(buffered);
    let undroppable = 0;
    for (const x of this.entries) if (!droppable(x)) undroppable += sizeOf(x);
    return undroppable > this.limits.maxAlarmBacklogBytes ? 'overflow' : 'ok';
  }

  private shed(buffered: number): void {
    const drop = new Set<Entry>();
    // 1. Coalesce numerics and status: the newest Batch of each stream (the highest seq: history replayed by the
    //    gateway may be queued after live data) stands for the ones before it.
    const newest = new Map<string, DataEntry>();
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as Entry;
      if (e.t !== 'data' || (e.item.kind !== 'obs' && e.item.kind !== 'status')) continue;
      const best = newest.get(e.item.stream);
      if (best === undefined || (e.item.seq > 0 && e.item.seq > best.item.seq)) newest.set(e.item.stream, e);
    }
    let bytes = this.bytes;
    for (const e of this.entries) {
      if (e.t !== 'data' || (e.item.kind !== 'obs' && e.item.kind !== 'status') || newest.get(e.item.stream) === e)
        continue;
      drop.add(e);
      bytes -= sizeOf(e);
      this.counters.coalesced++;
    }
    // 2. Oldest waveform chunks go next, down to 3/4 of the budget so the policy does not run on every push.
    const target = (this.limits.maxQueuedBytes * 3) / 4;
    for (let i = 0; i < this.entries.length && bytes + buffered > target; i++) {
      const e = this.entries[i] as Entry;
      if (e.t !== 'data' || e.item.kind !== 'wave' || drop.has(e)) continue;
      drop.add(e);
      bytes -= sizeOf(e);
      this.counters.droppedWaves++;
    }
    if (drop.size === 0) return;
    // Rebuild in order; each run of dropped Batches of one stream becomes (or extends) one Gap in its place.
    const out: Entry[] = [];
    let total = 0;
    for (const e of this.entries) {
      if (e.t === 'data' && drop.has(e)) {
        const it = e.item;
        if (it.kind === 'status') continue; // status is a latest-state stream: nothing to declare
        const open = this.openGaps.get(it.stream);
        // A run extends its Gap while the seqs go up; one going back (history under live data) starts a new Gap.
        if (open && it.seq > open.gap.toSeq) {
          open.gap.toSeq = it.seq;
          open.gap.toTimeUs = it.publishTimeUs;
          continue;
        }
        const g: GapEntry = { t: 'gap', gap: gapOf(it) };
        this.openGaps.set(it.stream, g);
        this.counters.gaps++;
        out.push(g);
        total += GAP_BYTES;
        continue;
      }
      // An earlier Gap with nothing of its stream after it yet takes the next drops; a kept Batch after it closes it.
      if (e.t === 'gap') this.openGaps.set(`${e.gap.site}/${e.gap.gateway}/${e.gap.device}/${e.gap.stream}`, e);
      else if (e.t === 'data') this.openGaps.delete(e.item.stream);
      out.push(e);
      total += sizeOf(e);
    }
    this.entries = out;
    this.bytes = total;
  }

  /** Removes queued data and gaps of one bed (after an unsubscribe). */
  purgeBed(bed: string): void {
    const prefix = `${bed}/`;
    this.entries = this.entries.filter((e) => {
      const stream =
        e.t === 'data'
          ? e.item.stream
          : e.t === 'gap'
            ? `${e.gap.site}/${e.gap.gateway}/${e.gap.device}/${e.gap.stream}`
            : '';
      return !stream.startsWith(prefix);
    });
    for (const k of this.openGaps.keys()) if (k.startsWith(prefix)) this.openGaps.delete(k);
    this.bytes = 0;
    for (const e of this.entries) this.bytes += sizeOf(e);
  }

  /** Everything queued, as ws frames in order: consecutive Batches and Gaps concatenated up to maxMessageBytes. */
  drain(): Frame[] {
    const frames: Frame[] = [];
    let parts: Buffer[] = [];
    let partBytes = 0;
    const flush = (): void => {
      if (parts.length === 0) return;
      frames.push({ binary: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, partBytes) });
      parts = [];
      partBytes = 0;
    };
    for (const e of this.entries) {
      if (e.t === 'text') {
        flush();
        frames.push({ text: e.text });
        continue;
      }
      const b = e.t === 'data' ? e.item.bytes : encodeSlowClientGap(e.gap);
      this.counters.sentBatches++;
      this.sentByKind[e.t === 'data' ? e.item.kind : 'gap']++;
      if (partBytes > 0 && partBytes + b.length > this.limits.maxMessageBytes) flush();
      parts.push(b);
      partBytes += b.length;
    }
    flush();
    this.entries = [];
    this.bytes = 0;
    this.openGaps.clear();
    return frames;
  }
}

function gapOf(it: StreamItem): GapRange {
  const [site = '', gateway = '', device = ''] = it.bed.split('/');
  return {
    site,
    gateway,
    device,
    stream: it.kind as StreamName,
    fromSeq: it.seq,
    toSeq: it.seq,
    fromTimeUs: it.publishTimeUs,
    toTimeUs: it.publishTimeUs,
  };
}
