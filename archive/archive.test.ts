// The archive's pacing of its loader: loads wait while the broker is busy, but never longer than loadMaxDeferMs, never
// once the journal's backlog passes half its limit, and never while a flush waits; and the loader's own hold,
// between slices.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { DEFAULT_TUNING, runArchive, type Archive, type ArchiveTuning, type LoadBackend } from './archive.js';
import { Journal } from './journal.js';
import { Loader, newCounters } from './loader.js';
import type { ArchiveStore, WriteReport } from './store/types.js';

let dir = '';
let archive: Archive | null = null;
afterEach(async () => {
  await archive?.close();
  archive = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `cond`, failing after 5 s: timer-driven pacing on a busy test machine. */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met within 5 s');
    await sleep(5);
  }
}

/** An archive over a real journal whose backend only counts loads; `busy` stands for the broker's utilization. */
async function start(tuning: Partial<ArchiveTuning>, busy: () => number) {
  dir = await mkdtemp(join(tmpdir(), 'vw-arch-'));
  const t: ArchiveTuning = { ...DEFAULT_TUNING, loadIntervalMs: 10, ...tuning };
  const journal = await Journal.open({
    dir,
    commitDelayMs: 0,
    commitMaxBytes: 1 << 20,
    maxBytes: t.journalMaxBytes,
    logger: silentLogger(),
  });
  let loads = 0;
  const holds: boolean[] = [];
  const backend: LoadBackend = {
    pace: (hold) => holds.push(hold),
    store: {} as ArchiveStore,
    counters: newCounters(),
    load: (segs) => {
      loads++;
      return Promise.resolve(segs.map((s) => s.no));
    },
    close: () => Promise.resolve(),
  };
  archive = await runArchive({
    journal,
    backend,
    tuning: t,
    log: silentLogger(),
    readOnly: false,
    release: () => Promise.resolve(),
    busy,
    paceMs: 10,
  });
  const append = (bytes: number) =>
    new Promise<void>((res, rej) =>
      archive!.append('vw/v1/s/g/d/obs', Buffer.alloc(bytes), (err) => (err ? rej(err) : res())),
    );
  return { loads: () => loads, holds, counters: backend.counters, append };
}

describe('archive loader pacing', () => {
  it('puts loads off while the broker is busy, and loads again once it is not', async () => {
    let u = 0.9;
    const a = await start({ loadDeferAbove: 0.5, loadMaxDeferMs: 60_000 }, () => u);
    await until(() => a.holds.length > 0); // the pacer's first look (every 10 ms here) holds the loader
    expect(a.holds).toEqual([true]);
    const atStart = a.loads();
    await sleep(150);
    expect(a.loads()).toBe(atStart);
    expect(a.counters.loadsDeferred).toBeGreaterThan(3);
    expect(a.holds).toEqual([true]);
    u = 0.2;
    await until(() => a.loads() > atStart + 3);
    expect(a.holds).toEqual([true, false]);
  });

  it('lets a flush through a hold', async () => {
    const a = await start({ loadDeferAbove: 0.5, loadMaxDeferMs: 60_000 }, () => 0.9);
    await until(() => a.holds.length > 0);
    expect(a.holds).toEqual([true]);
    const before = a.loads();
    await archive!.flush();
    expect(a.loads()).toBe(before + 1);
    expect(a.holds[1]).toBe(false);
  });

  it('waits no longer than loadMaxDeferMs, however busy the broker stays', async () => {
    const a = await start({ loadDeferAbove: 0.5, loadMaxDeferMs: 40 }, () => 1);
    await until(() => a.holds.length > 0);
    const atStart = a.loads();
    await until(() => a.loads() > atStart);
    expect(a.counters.loadsDeferred).toBeGreaterThan(0);
    expect(a.holds.slice(0, 2)).toEqual([true, false]);
  });

  it('does not wait once the journal holds half its limit', async () => {
    const a = await start({ loadDeferAbove: 0.5, loadMaxDeferMs: 60_000, journalMaxBytes: 1 << 20 }, () => 1);
    await until(() => a.holds.length > 0);
    expect(a.holds).toEqual([true]);
    const atStart = a.loads();
    await a.append(600_000); // past 512 KiB, half the limit
    await until(() => a.loads() > atStart);
    // Released, loaded (the segment dropped, the journal small again), and then held again.
    expect(a.holds.slice(0, 2)).toEqual([true, false]);
    expect(a.loads()).toBeGreaterThan(atStart);
  });

  it('never waits with loadDeferAbove 1', async () => {
    const a = await start({ loadDeferAbove: 1, loadMaxDeferMs: 60_000 }, () => 1);
    const atStart = a.loads();
    await until(() => a.loads() > atStart + 2);
    expect(a.counters.loadsDeferred).toBe(0);
    expect(a.holds).toEqual([]);
  });
});

describe('loader hold', () => {
  it('holds a load between slices until released; a forced load is not held', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-arch-'));
    const journal = await Journal.open({
      dir,
      commitDelayMs: 0,
      commitMaxBytes: 1 << 20,
      maxBytes: 1 << 30,
      logger: silentLogger(),
    });
    for (let i = 0; i < 4; i++)
      await new Promise<void>((res) => journal.append('vw/v1/s/g/d/obs', Buffer.from([i]), () => res()));
    const segs = await journal.seal();
    let writes = 0;
    const report: WriteReport = { stored: 0, duplicates: 0, conflicts: 0, rows: 0 };
    const store = {
      durableOnWrite: true,
      write: () => {
        writes++;
        return Promise.resolve(report);
      },
    } as unknown as ArchiveStore;
    const tuning = { loadBatchSize: 1, checkpointIntervalMs: 60_000, checkpointRows: 1e9 };
    const loader = new Loader(store, tuning, silentLogger(), false);
    loader.hold(true);
    let done = false;
    const load = loader.load(segs, false).then(() => (done = true));
    await sleep(50);
    expect(writes).toBe(0);
    expect(done).toBe(false);
    loader.hold(false);
    await load;
    expect(writes).toBe(4); // one slice per record

    const forced = new Loader(store, tuning, silentLogger(), false);
    forced.hold(true);
    await forced.load(segs, true);
    expect(writes).toBe(8);
    await journal.close();
  });
});
