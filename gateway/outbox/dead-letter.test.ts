// The outbox never queues what the uplink could never publish (issue 14): such a record goes to the dead-letter log
// with a Gap on its device's status stream, at append, at start (an outbox written without the limit), and when the
// uplink hands one back. Seqs set aside are never reused; the dead-letter log keeps to its cap.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { Batch, GapReason, Kind } from '../../proto/index.js';
import { Outbox, type OutboxOptions, type OutRecord } from './outbox.js';
import { decodeDataHeader, REC_DATA, scanFrames } from './records.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vw-dead-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const LIMIT = 16 * 1024;
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
  maxPacketBytes: LIMIT,
  ...over,
});

/** An obs Batch of `n` observations, about 20 bytes each encoded. */
function add(box: Outbox, n: number, v: number, opts: { setAside?: boolean } = {}): Promise<OutRecord> {
  const observations = Array.from({ length: n }, (_, i) => ({
    mdc: 147842,
    number: v + i,
    refid: 'MDC_ECG_CARD_BEAT_RATE',
  }));
  return box.append({
    source: { site: 's1', gateway: 'g1', device: 'bed01' },
    kind: 'obs',
    fromUs: v,
    toUs: v + 1,
    body: { observations },
    ...opts,
  });
}

async function drain(box: Outbox): Promise<OutRecord[]> {
  const out: OutRecord[] = [];
  for (;;) {
    const got = await box.takeBacklog(50);
    if (got.length === 0) return out;
    out.push(...got);
  }
}

/** The DATA records of the dead-letter log: header and decoded Batch. */
function deadRecords(): { seq: number; batch: ReturnType<typeof Batch.decode> }[] {
  const d = join(dir, 'dead');
  const out: { seq: number; batch: ReturnType<typeof Batch.decode> }[] = [];
  for (const f of readdirSync(d).sort()) {
    scanFrames(readFileSync(join(d, f)), (type, body) => {
      if (type !== REC_DATA) return;
      const r = decodeDataHeader(body);
      if (r) out.push({ seq: r.header.seq, batch: Batch.decode(body.subarray(r.payloadOffset)) });
    });
  }
  return out;
}

const gapsOf = (recs: OutRecord[]) =>
  recs.filter((r) => r.kind === 'status').flatMap((r) => Batch.decode(r.payload).gaps);

describe('outbox: records the uplink can never publish', () => {
  it('sets one aside at append: not queued, kept whole, its seq covered by a Gap, the stream going on', async () => {
    const box = await Outbox.open(opts());
    await add(box, 1, 10);
    const big = await add(box, 2000, 100); // ~40 KB against a 16 KiB packet limit
    await add(box, 1, 20);
    expect(big.seq).toBe(2);
    expect(big.seg).toBeNull();
    expect(box.counters.unsendable.obs).toBe(1);
    box.setOnline(true);
    const queued = await drain(box);
    expect(queued.filter((r) => r.kind === 'obs').map((r) => r.seq)).toEqual([1, 3]);
    const gaps = gapsOf(queued);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({
      kind: Kind.KIND_OBS,
      fromSeq: 2,
      toSeq: 2,
      fromTimeUs: 100,
      toTimeUs: 101,
      reason: GapReason.GAP_REASON_UNSENDABLE,
    });
    const dead = deadRecords();
    expect(dead.map((d) => d.seq)).toEqual([2]);
    expect(dead[0]?.batch.observations.map((o) => o.number)).toEqual(Array.from({ length: 2000 }, (_, i) => 100 + i));
    expect(box.deadLetterBytes()).toBeGreaterThan(LIMIT);
    await box.close();
  });

  it("never reuses a seq it set aside, across a restart, even when it was the stream's last", async () => {
    let box = await Outbox.open(opts());
    await add(box, 1, 10);
    expect((await add(box, 2000, 100)).seq).toBe(2);
    await box.close();
    box = await Outbox.open(opts());
    expect((await add(box, 1, 30)).seq).toBe(3);
    await box.close();
  });

  it('keeps the whole of a cut item aside without a seq or a Gap', async () => {
    const box = await Outbox.open(opts());
    await add(box, 2000, 100, { setAside: true });
    expect((await add(box, 1, 10)).seq).toBe(1);
    box.setOnline(true);
    const queued = await drain(box);
    expect(queued.map((r) => r.kind)).toEqual(['obs']);
    expect(deadRecords().map((d) => [d.seq, d.batch.observations.length])).toEqual([[0, 2000]]);
    expect(box.counters.setAside).toBe(1);
    await box.close();
  });

  it('moves such records out of the queue at start when an outbox without the limit stored them, once', async () => {
    const { maxPacketBytes: _none, ...noLimit } = opts(); // as a gateway without the limit wrote it
    let box = await Outbox.open(noLimit);
    await add(box, 1, 10);
    await add(box, 2000, 100);
    await add(box, 1, 20);
    await box.close();

    box = await Outbox.open(opts());
    expect(box.counters.unsendable.obs).toBe(1);
    box.setOnline(true);
    let queued = await drain(box);
    expect(queued.filter((r) => r.kind === 'obs').map((r) => r.seq)).toEqual([1, 3]);
    expect(gapsOf(queued)).toMatchObject([
      { kind: Kind.KIND_OBS, fromSeq: 2, toSeq: 2, reason: GapReason.GAP_REASON_UNSENDABLE },
    ]);
    for (const r of queued) box.nack(r);
    await box.close();

    // Gone from the queue for good: the next start finds nothing to move, and the Gap is still due.
    box = await Outbox.open(opts());
    expect(box.counters.unsendable.obs).toBe(0);
    box.setOnline(true);
    queued = await drain(box);
    expect(queued.filter((r) => r.kind === 'obs').map((r) => r.seq)).toEqual([1, 3]);
    expect(gapsOf(queued)).toHaveLength(1);
    expect(deadRecords().map((d) => d.seq)).toEqual([2]);
    await box.close();
  });

  it('moves many such records at start, a group at a time, each with its Gap', async () => {
    const { maxPacketBytes: _none, ...noLimit } = opts();
    let box = await Outbox.open(noLimit);
    for (let i = 0; i < 40; i++) await add(box, 2000, 1000 * i);
    await add(box, 1, 5);
    await box.close();
    box = await Outbox.open(opts());
    expect(box.counters.unsendable.obs).toBe(40);
    box.setOnline(true);
    const queued = await drain(box);
    expect(queued.filter((r) => r.kind === 'obs').map((r) => r.seq)).toEqual([41]);
    expect(
      gapsOf(queued)
        .map((g) => Number(g.fromSeq))
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(deadRecords()).toHaveLength(40);
    await box.close();
  });

  it('takes a record back from the uplink that its own limit refuses, with a Gap', async () => {
    const box = await Outbox.open(opts({ maxPacketBytes: 1024 * 1024 }));
    await add(box, 2000, 100);
    box.setOnline(true);
    const [r] = await drain(box);
    expect(r?.seq).toBe(1);
    box.setAside(r as OutRecord);
    const deadline = Date.now() + 5000;
    while (box.inFlight(r as OutRecord) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    expect(box.inFlight(r as OutRecord)).toBe(false);
    expect(box.depth()).toBe(1); // only its Gap is queued
    expect(box.counters.unsendable.obs).toBe(1);
    expect(deadRecords().map((d) => d.seq)).toEqual([1]);
    await box.close();
  });

  it('keeps the dead-letter log to its cap, deleting its oldest segments', async () => {
    const box = await Outbox.open(opts({ segmentBytes: 64 * 1024, deadLetterBytes: 128 * 1024 }));
    for (let i = 0; i < 20; i++) await add(box, 2000, 100 * i);
    expect(box.counters.unsendable.obs).toBe(20);
    await new Promise((r) => setTimeout(r, 50));
    expect(box.counters.deadLetterDropped).toBeGreaterThan(0);
    const bytes = readdirSync(join(dir, 'dead')).reduce((a, f) => a + statSync(join(dir, 'dead', f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(128 * 1024 + 64 * 1024 + 64 * 1024);
    await box.close();
    const again = await Outbox.open(opts());
    expect((await add(again, 1, 5)).seq).toBe(21);
    await again.close();
  });
});
