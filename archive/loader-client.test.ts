// The central's archive (config.ts openArchiveFromConfig): journal in this process; loader, store and queries in a
// loader process at a lower priority. What the central sees of it: done() after the fsync, queries and the audit
// through the proxy, the loader's counters, and a directory another process reads afterwards; and the loader goes
// when the central does.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { BindingIndex, listBindings } from './bindings.js';
import { archiveConfigFromSection, openArchiveFromConfig, openArchiveReader } from './config.js';
import { trend } from './query.js';
import { publish, vitalsBatch } from './test-kit.js';

let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 1, 3, 9) * 1000;
const dev = { site: 's1', gateway: 'g1', device: 'm1' };

/** Child processes of this process (any of its threads), by /proc. */
function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((t) =>
    readFileSync(`/proc/self/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
}

/** Niceness of every thread of a process. */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((t) =>
    Number(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]),
  );
}

describe('archive loader process', () => {
  it('journals here, loads and answers queries in a loader process whose every thread is niced', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-archive-loader-'));
    const before = new Set(children());
    const a = await openArchiveFromConfig(
      archiveConfigFromSection({ dataDir: dir, loader: { intervalMs: 50, nice: 7 } }, '/'),
      silentLogger(),
    );
    const loaderPid = children().find((p) => !before.has(p));
    try {
      expect(loaderPid).toBeDefined();
      const nices = threadNices(loaderPid as number);
      expect(nices.length).toBeGreaterThan(3);
      expect(new Set(nices)).toEqual(new Set([7]));
      expect(threadNices(process.pid)).not.toContain(7);
      const acks = await Promise.all(
        Array.from(
          { length: 30 },
          (_, i) =>
            new Promise<Error | null | undefined>((resolve) => {
              const p = vitalsBatch(dev, i + 1, T0 + i * 60e6, { hr: 60 + i });
              a.append(p.topic, p.payload, resolve);
            }),
        ),
      );
      expect(acks.every((e) => !e)).toBe(true);
      const bad = publish(dev, 'obs', 99, {});
      a.append(bad.topic, Buffer.from([0x0a, 0xff]), () => undefined);
      await a.flush();
      expect(a.counters).toMatchObject({ batchesStored: 30, rejects: 1, checkpoints: 1 });
      // A query composed here over a relation only the worker can name (the current Parquet files).
      const rows = await a.store.sql.all(
        `SELECT count(*) AS n, max(value_number) AS hi FROM ${a.store.sql.from('obs', { fromUs: T0, toUs: T0 + 3600e6 })} t WHERE device = $1`,
        ['m1'],
      );
      expect(rows).toEqual([{ n: 30, hi: 89 }]);
      const tr = await trend(
        a.store,
        new BindingIndex(await listBindings(a.store.audit)),
        { ...dev, fromUs: T0, toUs: T0 + 30 * 60e6 },
        60e6,
      );
      expect(tr.series[0]?.points.map((p) => p?.mean ?? null)).toEqual(Array.from({ length: 30 }, (_, i) => 60 + i));
      await a.store.audit.append({ actor: 'test', action: 'export', subject: 'csv', before: null, after: { rows: 1 } });
      expect((await a.store.audit.list(['export'])).map((e) => e.actor)).toEqual(['test']);
      // A failed query is an error here, not a dead worker.
      await expect(a.store.sql.all('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
      expect(await a.store.sql.all('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await a.close();
    }
    expect(children()).not.toContain(loaderPid);
    const r = await openArchiveReader(archiveConfigFromSection({ dataDir: dir }, '/'), silentLogger());
    try {
      expect(await r.store.sql.all(`SELECT count(*) AS n FROM ${r.store.sql.from('obs')} t`)).toEqual([{ n: 30 }]);
    } finally {
      await r.close();
    }
  });

  it('holds the loader process while the broker is busy, and loads once the broker has been quiet', async () => {
    const d = await mkdtemp(join(tmpdir(), 'vw-archive-loader-pace-'));
    let u = 0.9;
    const a = await openArchiveFromConfig(
      archiveConfigFromSection({ dataDir: d, loader: { intervalMs: 20 } }, '/'),
      silentLogger(),
      { busy: () => u, paceMs: 10 },
    );
    try {
      const append = (i: number) =>
        new Promise<void>((resolve, reject) => {
          const p = vitalsBatch(dev, i + 1, T0 + i * 60e6, { hr: 60 + i });
          a.append(p.topic, p.payload, (err) => (err ? reject(err) : resolve()));
        });
      await Promise.all(Array.from({ length: 10 }, (_, i) => append(i)));
      await new Promise((r) => setTimeout(r, 300)); // 15 load intervals, all held
      expect(a.counters.batchesStored).toBe(0);
      expect(a.counters.loadsDeferred).toBeGreaterThan(3);
      u = 0.1;
      const end = Date.now() + 10_000;
      while (a.counters.batchesStored < 10 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(a.counters.batchesStored).toBe(10);
      // A counter kept where loads start: the loader process's replies do not reset it.
      expect(a.counters.loadsDeferred).toBeGreaterThan(3);
    } finally {
      await a.close();
      await rm(d, { recursive: true, force: true });
    }
  });

  it('starts a loader that died again; the journal kept everything meanwhile, stored once', async () => {
    const d2 = await mkdtemp(join(tmpdir(), 'vw-archive-loader-kill-'));
    const before = new Set(children());
    const a = await openArchiveFromConfig(
      archiveConfigFromSection({ dataDir: d2, loader: { intervalMs: 50 } }, '/'),
      silentLogger(),
    );
    try {
      const append = (from: number, n: number) =>
        Promise.all(
          Array.from(
            { length: n },
            (_, i) =>
              new Promise<Error | null | undefined>((resolve) => {
                const p = vitalsBatch(dev, from + i, T0 + (from + i) * 60e6, { hr: 60 + ((from + i) % 40) });
                a.append(p.topic, p.payload, resolve);
              }),
          ),
        );
      expect((await append(1, 20)).every((e) => !e)).toBe(true);
      // Loaded into the store's hot tables by the loader's timer; the next checkpoint is minutes away.
      for (let i = 0; i < 100 && a.counters.batchesStored < 20; i++) await new Promise((r) => setTimeout(r, 50));
      expect(a.counters).toMatchObject({ batchesStored: 20, checkpoints: 0 });
      const first = children().find((p) => !before.has(p)) as number;
      process.kill(first, 'SIGKILL');
      // Appends do not need the loader: they are durable in the journal all the same.
      expect((await append(21, 20)).every((e) => !e)).toBe(true);
      // A flush at once, while the loader is dead or still starting: it waits for the new loader, not fails.
      await a.flush();
      const second = children().find((p) => !before.has(p));
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
      const rows = await a.store.sql.all(
        `SELECT count(*) AS n, count(DISTINCT seq) AS d FROM ${a.store.sql.from('obs')} t`,
      );
      expect(rows).toEqual([{ n: 40, d: 40 }]);
    } finally {
      await a.close();
      await rm(d2, { recursive: true, force: true });
    }
  }, 60_000);
});
