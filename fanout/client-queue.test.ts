import { describe, expect, it } from 'vitest';
import { Batch, GapReason } from '../proto/index.js';
import { ClientQueue } from './client-queue.js';
import type { StreamName } from './protocol.js';
import type { StreamItem } from './ring.js';
import { delimit, undelimit } from './wire.js';

const item = (kind: StreamName, seq: number, bytes = 1000, bed = 's/g/d'): StreamItem => {
  const b = Buffer.alloc(bytes - (bytes > 129 ? 2 : 1)); // so that the delimited item is `bytes` long
  b[0] = 0x18; // field 3 (seq) varint: a valid Batch prefix
  b[1] = seq & 0x7f;
  return { stream: `${bed}/${kind}`, bed, kind, seq, atMs: seq, publishTimeUs: seq * 1000, bytes: delimit(b) };
};

/** What a client receives: per stream the seqs of data, and the gaps ('gap:from-to'), in order. */
function received(q: ClientQueue): string[] {
  const out: string[] = [];
  for (const f of q.drain()) {
    if (f.text !== undefined) {
      out.push(`text:${f.text}`);
      continue;
    }
    for (const p of undelimit(f.binary)) {
      if (p.length > 200) out.push(`data:${p[1]}`);
      else {
        const b = Batch.decode(p);
        const g = b.gaps[0]!;
        expect(g.reason).toBe(GapReason.GAP_REASON_SLOW_CLIENT);
        out.push(`gap:${g.kind}:${Number(g.fromSeq)}-${Number(g.toSeq)}`);
      }
    }
  }
  return out;
}

const limits = { maxQueuedBytes: 10_000, maxAlarmBacklogBytes: 20_000, maxMessageBytes: 4096 };

describe('slow-client queue policy', () => {
  it('passes everything through in order while under budget', () => {
    const q = new ClientQueue(limits);
    q.pushText('{"type":"x"}', 0);
    for (let i = 1; i <= 5; i++) q.pushData(item('wave', i), 0);
    expect(received(q)).toEqual(['text:{"type":"x"}', 'data:1', 'data:2', 'data:3', 'data:4', 'data:5']);
    expect(q.queuedBytes).toBe(0);
  });

  it('splits binary messages at maxMessageBytes', () => {
    const q = new ClientQueue(limits);
    for (let i = 1; i <= 9; i++) q.pushData(item('wave', i), 0);
    const frames = q.drain();
    expect(frames.length).toBe(3); // 4 x 1000 bytes per message at most
    for (const f of frames) expect(f.binary!.length).toBeLessThanOrEqual(4096 + 1000);
  });

  it('coalesces numerics to the newest per stream and declares the dropped ones as a Gap', () => {
    const q = new ClientQueue(limits);
    for (let i = 1; i <= 9; i++) q.pushData(item('obs', i), 0);
    q.pushData(item('obs', 10), 0); // 10 000 bytes: at the budget
    q.pushData(item('obs', 11), 0); // over: coalesce
    expect(received(q)).toEqual(['gap:1:1-10', 'data:11']);
  });

  it('drops the oldest waveform chunks with one Gap per run; alarms are never dropped', () => {
    const q = new ClientQueue(limits);
    q.pushData(item('alarm', 1), 0);
    for (let i = 1; i <= 12; i++) q.pushData(item('wave', i), 0);
    q.pushData(item('alarm', 2), 0);
    const out = received(q);
    expect(out.filter((x) => x.startsWith('data:') && ['data:1', 'data:2'].includes(x))).toHaveLength(2); // both alarms kept
    expect(out[0]).toBe('data:1'); // the alarm queued first
    expect(out[1]).toMatch(/^gap:2:1-\d+$/); // wave Gap where the dropped chunks were
    const firstKept = Number(out[1]!.split('-')[1]) + 1;
    expect(out.slice(2, -1)).toEqual(Array.from({ length: 12 - firstKept + 1 }, (_, k) => `data:${firstKept + k}`));
    expect(out.at(-1)).toBe('data:2'); // the second alarm
    expect(q.counters.droppedWaves).toBe(firstKept - 1);
  });

  it('counts the socket backlog against the budget', () => {
    const q = new ClientQueue(limits);
    q.pushData(item('wave', 1), 0);
    q.pushData(item('wave', 2), 9_500); // the socket already holds 9.5 kB
    expect(received(q)).toEqual(['gap:2:1-2']);
  });

  it('extends an unsent Gap, and starts a new one after a kept Batch of the stream', () => {
    const q = new ClientQueue({ ...limits, maxQueuedBytes: 3000 });
    for (let i = 1; i <= 6; i++) q.pushData(item('wave', i), 0);
    expect(received(q)).toEqual(['gap:2:1-4', 'data:5', 'data:6']);
  });

  it('says overflow when undroppable data alone exceeds maxAlarmBacklogBytes', () => {
    const q = new ClientQueue({ ...limits, maxAlarmBacklogBytes: 3500 });
    const verdicts = [1, 2, 3, 4].map((i) => q.pushData(item('alarm', i), 10_000));
    expect(verdicts).toEqual(['ok', 'ok', 'ok', 'overflow']);
  });

  it('forgets a bed that was closed', () => {
    const q = new ClientQueue(limits);
    q.pushData(item('obs', 1, 100, 'a/b/c'), 0);
    q.pushData(item('obs', 1, 100, 'a/b/d'), 0);
    q.purgeBed('a/b/c');
    expect(q.length).toBe(1);
    expect(q.queuedBytes).toBe(100);
  });

  it('coalesces numerics to the highest seq, not the last queued, when replayed history follows live data', () => {
    const q = new ClientQueue(limits);
    for (const seq of [50, 51, 52]) q.pushData(item('obs', seq, 1500), 0); // live
    for (const seq of [10, 11, 12, 13, 14, 15, 16]) q.pushData(item('obs', seq, 1500), 0); // the backlog, behind it
    // Over budget at 13: the newest (52) stands for the rest; each run of dropped seqs going up is one Gap.
    expect(received(q)).toEqual(['gap:1:50-51', 'data:52', 'gap:1:10-13', 'data:14', 'data:15', 'data:16']);
  });
});
