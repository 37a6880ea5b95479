import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import type { StreamKind } from '../../lib/topics.js';
import { Batch, GapReason, Kind } from '../../proto/index.js';
import { Outbox, type OutboxOptions, type OutRecord } from './outbox.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vw-outbox-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = (over: Partial<OutboxOptions> = {}): OutboxOptions => ({
  dir,
  site: 's1',
  gateway: 'g1',
  quotaBytes: 64 * 1024 * 1024,
  segmentBytes: 64 * 1024,
  commitDelayMs: 1,
  commitMaxBytes: 1024 * 1024,
  logger: silentLogger(),
  ackFlushMs: 1,
  ...over,
});

function add(box: Outbox, device: string, kind: StreamKind, value: number, t = value): Promise<OutRecord> {
  const body =
    kind === 'wave'
      ? {
          waves: [{ mdc: 131330, samples: Array.from({ length: 200 }, (_, i) => value + i), firstSample: value * 100 }],
        }
      : kind === 'status'
        ? { statuses: [{ framesOk: value }] }
        : { observations: [{ mdc: 147842, number: value }] };
  return box.append({ source: { site: 's1', gateway: 'g1', device }, kind, fromUs: t, toUs: t, body });
}

function valueOf(r: OutRecord): number {
  const b = Batch.decode(r.payload);
  return b.observations[0]?.number ?? b.waves[0]?.samples?.[0] ?? Number(b.statuses[0]?.framesOk ?? -1);
}

async function drainBacklog(box: Outbox): Promise<OutRecord[]> {
  const out: OutRecord[] = [];
  for (;;) {
    const got = await box.takeBacklog(50);
    if (got.length === 0) return out;
    out.push(...got);
  }
}

describe('outbox', () => {
  it('numbers each stream, keeps records across a reopen, and forgets what was acknowledged', async () => {
    let box = await Outbox.open(opts());
    const recs = await Promise.all([1, 2, 3, 4, 5].map((v) => add(box, 'bed01', 'obs', v)));
    expect(recs.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await add(box, 'bed01', 'wave', 9)).seq).toBe(1);
    expect((await add(box, 'bed02', 'obs', 7)).seq).toBe(1);
    box.setOnline(true);
    const backlog = await drainBacklog(box);
    expect(backlog.map(valueOf)).toEqual([1, 2, 3, 4, 5, 9, 7]);
    expect(backlog.every((r) => r.backfill)).toBe(true);
    for (const r of backlog.slice(0, 3)) box.ack(r);
    for (const r of backlog.slice(3)) box.nack(r);
    await box.close();

    box = await Outbox.open(opts());
    box.setOnline(true);
    const again = await drainBacklog(box);
    expect(again.map(valueOf)).toEqual([4, 5, 9, 7]);
    expect(again.map((r) => r.seq)).toEqual([4, 5, 1, 1]);
    expect((await add(box, 'bed01', 'obs', 6)).seq).toBe(6);
    await box.close();
  });

  it('keeps sequence numbers continuous after every record was acknowledged and its segment deleted', async () => {
    let box = await Outbox.open(opts({ segmentBytes: 4096 }));
    box.setOnline(true);
    for (let v = 1; v <= 200; v++) {
      await add(box, 'bed01', 'obs', v);
      const r = box.takeLive();
      expect(r?.seq).toBe(v);
      box.ack(r!);
    }
    await box.close();
    const files = readdirSync(join(dir, 'obs'));
    expect(files.length).toBeLessThan(4); // acknowledged segments were deleted
    box = await Outbox.open(opts({ segmentBytes: 4096 }));
    expect(box.depth()).toBe(0);
    expect((await add(box, 'bed01', 'obs', 201)).seq).toBe(201);
    await box.close();
  });

  it('shares one fsync among concurrent appends (group commit)', async () => {
    const box = await Outbox.open(opts({ commitDelayMs: 20 }));
    await Promise.all(Array.from({ length: 500 }, (_, i) => add(box, `bed${i % 10}`, i % 2 ? 'obs' : 'wave', i)));
    expect(box.counters.appendedRecords).toBe(500);
    expect(box.counters.fsyncs).toBeLessThanOrEqual(10);
    await box.close();
  });

  it('hands over live records at once and the backlog stored before the reconnect as backfill: status first, then oldest first', async () => {
    const box = await Outbox.open(opts());
    await Promise.all([1, 2, 3].map((v) => add(box, 'bed01', 'obs', v)));
    await add(box, 'bed01', 'status', 4);
    await add(box, 'bed01', 'obs', 5);
    box.setOnline(true);
    await add(box, 'bed01', 'obs', 10);
    const live = box.takeLive();
    expect(live && [valueOf(live), live.backfill]).toEqual([10, false]);
    expect(box.takeLive()).toBeUndefined();
    const back = await drainBacklog(box);
    // The critical log (alarms, status, Gaps) is replayed before numerics and waves, though stored after some of them.
    expect(back.map(valueOf)).toEqual([4, 1, 2, 3, 5]);
    expect(back.map((r) => r.seq)).toEqual([1, 1, 2, 3, 4]);
    await box.close();
  });

  it('truncates a torn tail and keeps every record before it', async () => {
    let box = await Outbox.open(opts());
    for (let v = 1; v <= 10; v++) await add(box, 'bed01', 'obs', v);
    await box.close();
    const seg = join(dir, 'obs', readdirSync(join(dir, 'obs'))[0]!);
    const size = statSync(seg).size;
    truncateSync(seg, size - 3); // power lost in the middle of the last record
    appendFileSync(seg, Buffer.alloc(0));
    box = await Outbox.open(opts());
    expect(box.counters.tornSegments).toBe(1);
    box.setOnline(true);
    expect((await drainBacklog(box)).map(valueOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The torn record's seq was never published, so it is reused.
    expect((await add(box, 'bed01', 'obs', 11)).seq).toBe(10);
    await box.close();
    appendFileSync(seg, Buffer.from([5, 0, 0, 0, 1, 2, 3, 4, 0, 0])); // garbage after the end
    box = await Outbox.open(opts());
    expect(box.counters.tornSegments).toBe(1);
    box.setOnline(true);
    expect((await drainBacklog(box)).map(valueOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11]);
    await box.close();
  });

  it('recovers every whole record whatever byte the file is cut at', async () => {
    let box = await Outbox.open(opts());
    for (let v = 1; v <= 6; v++) await add(box, 'bed01', 'obs', v);
    await box.close();
    const seg = join(dir, 'obs', readdirSync(join(dir, 'obs'))[0]!);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const original = readFileSync(seg);
    // Record ends: the boundaries at which 0..6 whole records remain.
    box = await Outbox.open(opts());
    await box.close();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: original.length }), async (cut) => {
        writeFileSync(seg, original.subarray(0, cut));
        const b = await Outbox.open(opts());
        b.setOnline(true);
        const vals = (await drainBacklog(b)).map(valueOf);
        await b.close();
        // A prefix of what was written, and everything whose last byte is before the cut.
        expect(vals).toEqual([1, 2, 3, 4, 5, 6].slice(0, vals.length));
        return true;
      }),
      { numRuns: 40 },
    );
    writeFileSync(seg, original);
    box = await Outbox.open(opts());
    box.setOnline(true);
    expect((await drainBacklog(box)).map(valueOf)).toEqual([1, 2, 3, 4, 5, 6]);
    await box.close();
  });

  it('sheds oldest waveforms first, then numerics, status last, and publishes each shed range as a Gap', async () => {
    const quota = 40 * 1024;
    const box = await Outbox.open(opts({ quotaBytes: quota, segmentBytes: 4096 }));
    const settle = async () => {
      await box.commit();
      for (let k = 0; k < 100 && box.diskBytes() > quota; k++) await new Promise((r) => setTimeout(r, 10));
    };
    let t = 0;
    // An outage: nothing is acknowledged; waveforms dominate as they do on a ward.
    for (let i = 1; i <= 200; i++) {
      await add(box, 'bed01', 'wave', i, ++t);
      if (i % 4 === 0) await add(box, 'bed01', 'obs', i, ++t);
      if (i % 40 === 0) await add(box, 'bed01', 'status', i, ++t);
    }
    await settle();
    expect(box.diskBytes()).toBeLessThanOrEqual(quota);
    expect(box.counters.shedRecords.wave).toBeGreaterThan(0);
    expect(box.counters.shedRecords.obs).toBe(0);
    // Waveforms stop (the ECG lead came off); numerics keep coming: now numerics are shed, status still kept.
    for (let i = 201; i <= 1200; i++) await add(box, 'bed01', 'obs', i, ++t);
    await settle();
    expect(box.diskBytes()).toBeLessThanOrEqual(quota);
    expect(box.counters.shedRecords.obs).toBeGreaterThan(0);
    expect(box.counters.shedRecords.status).toBe(0);

    box.setOnline(true);
    const all = await drainBacklog(box);
    const gaps = all.filter((r) => r.kind === 'status').flatMap((r) => Batch.decode(r.payload).gaps);
    expect(gaps.every((g) => g.reason === GapReason.GAP_REASON_SHED_QUOTA)).toBe(true);
    expect(box.counters.gaps).toBe(gaps.length);
    for (const [kind, k, n] of [
      ['wave', Kind.KIND_WAVE, 200],
      ['obs', Kind.KIND_OBS, 50 + 1000],
    ] as const) {
      // Every seq is either still stored or inside a Gap, never both, and the shed ones are the oldest.
      const kept = all.filter((r) => r.kind === kind).map((r) => r.seq);
      const shed = gaps
        .filter((g) => g.kind === k)
        .flatMap((g) =>
          Array.from({ length: Number(g.toSeq) - Number(g.fromSeq) + 1 }, (_, i) => Number(g.fromSeq) + i),
        );
      expect(
        [...kept, ...shed].sort((a, b) => a - b),
        kind,
      ).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(Math.max(...shed)).toBeLessThan(Math.min(...kept));
      expect(shed.length).toBe(box.counters.shedRecords[kind]);
    }
    await box.close();
  });

  it('answers a resent input with the first copy instead of storing it twice', async () => {
    let box = await Outbox.open(opts());
    const first = box.append({
      source: { site: 's1', gateway: 'g1', device: 'm1' },
      kind: 'obs',
      fromUs: 1,
      toUs: 1,
      body: { observations: [{ number: 1 }] },
      ref: 'MSG0001:abcd',
    });
    expect(box.seen('m1', 'MSG0001:abcd')).toBeDefined();
    await first;
    await box.close();
    box = await Outbox.open(opts());
    expect(box.seen('m1', 'MSG0001:abcd')).toBeDefined();
    expect(box.seen('m1', 'MSG0002:abcd')).toBeUndefined();
    await box.close();
  });
});
