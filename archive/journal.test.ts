// The journal on its own: group commit, done() per record, a torn tail cut at the last whole record, the size limit.
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { Journal, readSegment } from './journal.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const open = (maxBytes = 1 << 30, commitDelayMs = 5) =>
  Journal.open({ dir, commitDelayMs, commitMaxBytes: 1 << 20, maxBytes, logger: silentLogger(), nowUs: () => 42 });
const append = (j: Journal, topic: string, payload: Buffer) =>
  new Promise<Error | null>((resolve) => j.append(topic, payload, (err) => resolve(err ?? null)));

describe('archive journal', () => {
  it('shares one fsync among appends made together, and hands back topic, payload and receive time', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-jnl-'));
    const j = await open();
    const errs = await Promise.all(
      Array.from({ length: 200 }, (_, i) => append(j, `vw/v1/s/g/d${i}/obs`, Buffer.from([i & 0xff, 1, 2]))),
    );
    expect(errs.every((e) => e === null)).toBe(true);
    expect(j.counters.fsyncs).toBeLessThan(10);
    const [seg] = await j.seal();
    const recs = await readSegment(seg!.path);
    expect(recs).toHaveLength(200);
    expect(recs[7]).toEqual({ topic: 'vw/v1/s/g/d7/obs', payload: Buffer.from([7, 1, 2]), receivedUs: 42 });
    await j.close();
  });

  it('keeps every record whole and in order across slabs, records larger than a slab, and commits in flight', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-jnl-'));
    const j = await open(1 << 30, 0);
    // Payloads whose bytes name their record, of sizes that cross the 256 KiB framing slabs at odd places: small ones,
    // ones of tens of KiB, and two larger than a slab (a broker's largest packet is 256 KiB).
    const sizes = [3, 40_000, 70_000, 100_000, 5, 300_000, 90_000, 1, 262_144, 17, 65_536, 131_072];
    const payloadOf = (i: number, n: number) => Buffer.alloc(n, (i * 37 + 11) & 0xff);
    const first = sizes.map((n, i) => append(j, `vw/v1/s/g/d${i}/wave`, payloadOf(i, n)));
    // Appended while the first commit is in flight: framed into the same slab after what that commit writes.
    await new Promise((r) => setImmediate(r));
    const second = sizes.map((n, i) => append(j, `vw/v1/s/g/e${i}/wave`, payloadOf(i + 100, n)));
    expect((await Promise.all([...first, ...second])).every((e) => e === null)).toBe(true);
    const recs = await readSegment((await j.seal())[0]!.path);
    expect(recs.map((r) => r.topic)).toEqual([
      ...sizes.map((_, i) => `vw/v1/s/g/d${i}/wave`),
      ...sizes.map((_, i) => `vw/v1/s/g/e${i}/wave`),
    ]);
    recs.forEach((r, k) => {
      const i = k < sizes.length ? k : k - sizes.length + 100;
      expect(r.payload.equals(payloadOf(i, sizes[k % sizes.length]!))).toBe(true);
    });
    await j.close();
  });

  it('with no commit delay, commits at the end of the turn, and what arrives meanwhile shares the next fsync', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-jnl-'));
    const j = await open(1 << 30, 0);
    // One turn's appends: one commit, started without waiting for a timer.
    const first = Promise.all(
      Array.from({ length: 100 }, (_, i) => append(j, `vw/v1/s/g/d${i}/obs`, Buffer.from([i]))),
    );
    await new Promise((r) => setImmediate(r));
    // Appended while that commit's write and fsync run: all of them go in the one after it.
    const second = Promise.all(
      Array.from({ length: 100 }, (_, i) => append(j, `vw/v1/s/g/e${i}/obs`, Buffer.from([i]))),
    );
    expect((await first).every((e) => e === null)).toBe(true);
    expect((await second).every((e) => e === null)).toBe(true);
    expect(j.counters.fsyncs).toBe(2);
    const recs = await readSegment((await j.seal())[0]!.path);
    expect(recs.map((r) => r.topic)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => `vw/v1/s/g/d${i}/obs`),
      ...Array.from({ length: 100 }, (_, i) => `vw/v1/s/g/e${i}/obs`),
    ]);
    await j.close();
  });

  it('commits an append after a quiet spell at once, and starts commits at most once per commitDelayMs', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-jnl-'));
    const j = await open(1 << 30, 60_000);
    // Nothing committed for a minute: the first append's fsync starts at the end of its turn, not a minute later (a
    // gateway sending tens of Batches a second gets its PUBACK after the sync alone). The test's timeout says so.
    expect(await append(j, 'vw/v1/s/g/d/obs', Buffer.from([1]))).toBeNull();
    expect(j.counters.fsyncs).toBe(1);
    // The next one, within the minute, waits for company: not committed however many turns pass.
    let done = false;
    j.append('vw/v1/s/g/d/obs', Buffer.from([2]), () => (done = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(j.counters.fsyncs).toBe(1);
    await j.commit(); // what seal and close do
    expect(done).toBe(true);
    expect((await readSegment((await j.seal())[0]!.path)).map((r) => r.payload[0])).toEqual([1, 2]);
    await j.close();
  });

  it('cuts a torn tail at the last whole record when it opens', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-jnl-'));
    const j = await open();
    for (let i = 0; i < 3; i++) await append(j, 'vw/v1/s/g/d/obs', Buffer.alloc(100, i));
    await j.close();
    const [name] = await readdir(join(dir));
    // A crash in the middle of the next record's write: its length says 100 bytes, 10 made it.
    await appendFile(join(dir, name!), Buffer.concat([Buffer.from([100, 0, 0, 0, 1, 2, 3, 4]), Buffer.alloc(10, 9)]));
    const k = await open();
    expect(k.counters.tornSegments).toBe(1);
    const segs = await k.seal();
    expect((await readSegment(segs[0]!.path)).map((r) => r.payload[0])).toEqual([0, 1, 2]);
    expect(await append(k, 'vw/v1/s/g/d/obs', Buffer.alloc(5))).toBeNull();
    await k.close();
  });

  it('refuses appends beyond maxBytes with VW_ERR_ARCHIVE_FULL, and takes them again once a segment is dropped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-jnl-'));
    const j = await open(2000);
    for (let i = 0; i < 3; i++) expect(await append(j, 'vw/v1/s/g/d/obs', Buffer.alloc(500))).toBeNull();
    const err = await append(j, 'vw/v1/s/g/d/obs', Buffer.alloc(500));
    expect(err).toMatchObject({ code: 'VW_ERR_ARCHIVE_FULL' });
    expect(j.counters.refusedFull).toBe(1);
    for (const s of await j.seal()) await j.drop(s);
    expect(await append(j, 'vw/v1/s/g/d/obs', Buffer.alloc(500))).toBeNull();
    await j.close();
  });
});
