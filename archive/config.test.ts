// The archive section of the central's config: defaults, every problem reported at once, read from the central's file;
// and the daily retention purge, which removes per kind and leaves an audit entry for each.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { archiveConfigFromSection, readArchiveConfig } from './config.js';
import { runRetention } from './retention.js';
import { openDuckDbStore } from './store/duckdb.js';
import { fullBatches, rowsOf, vitalsBatch } from './test-kit.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('archive config', () => {
  it('fills every default and resolves dataDir against the config file', () => {
    const c = archiveConfigFromSection({ dataDir: 'archive' }, '/etc/vitalwire');
    expect(c).toMatchObject({
      dataDir: '/etc/vitalwire/archive',
      store: 'duckdb',
      journal: { commitDelayMs: 5, maxBytes: 4 * 1024 ** 3 },
      loader: { intervalMs: 1000, nice: 19, deferAbove: 0.5, maxDeferMs: 60_000 },
      checkpoint: { intervalMs: 600_000 },
      retention: { waveDays: 30, obsDays: 3650 },
    });
  });

  it('reports every problem with its path, together', () => {
    expect(() =>
      archiveConfigFromSection({ dataDir: '', store: 'postgres', retention: { waveDays: 0 }, extra: 1 }, '/'),
    ).toThrow(/dataDir[\s\S]*retention\.waveDays[\s\S]*extra|extra[\s\S]*dataDir/);
    expect(() => archiveConfigFromSection({ dataDir: 'x', store: 'postgres' }, '/')).toThrow(
      /postgres: required when store is postgres/,
    );
    expect(() => archiveConfigFromSection({ dataDir: 'x', loader: { deferAbove: 1.5 } }, '/')).toThrow(
      /loader\.deferAbove/,
    );
  });

  it("reads the `archive` section of the central's YAML file", async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-acfg-'));
    await writeFile(
      join(dir, 'central.yaml'),
      'listen: { port: 8883 }\narchive:\n  dataDir: ./arch\n  retention: { waveDays: 7 }\n',
    );
    const c = await readArchiveConfig(join(dir, 'central.yaml'));
    expect(c.dataDir).toBe(join(dir, 'arch'));
    expect(c.retention.waveDays).toBe(7);
  });
});

describe('archive retention', () => {
  it('purges each kind after its own days and audits each purge', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-ret-'));
    const store = await openDuckDbStore({ dir, logger: silentLogger() });
    const now = Date.UTC(2026, 5, 1) * 1000;
    const day = 86_400_000_000;
    const d = { site: 's', gateway: 'g', device: 'd' };
    await store.write([
      rowsOf(vitalsBatch(d, 1, now - 10 * day, { hr: 60 })),
      rowsOf(fullBatches(d, now - 10 * day).wave),
      rowsOf(vitalsBatch(d, 2, now - day, { hr: 61 })),
    ]);
    await store.checkpoint();
    const r = await runRetention(
      store,
      store.audit,
      { obsDays: 365, waveDays: 7, alarmDays: 365, statusDays: 365, gapDays: 365 },
      now,
    );
    expect(r.map((x) => [x.kind, x.rows])).toEqual([
      ['obs', 0],
      ['wave', 1],
      ['alarm', 0],
      ['status', 0],
      ['gap', 0],
    ]);
    const audit = await store.audit.list(['retention.purge']);
    expect(audit.map((e) => [e.actor, e.subject, (e.after as { rows: number }).rows])).toEqual([
      ['system', 'obs', 0],
      ['system', 'wave', 1],
      ['system', 'alarm', 0],
      ['system', 'status', 0],
      ['system', 'gap', 0],
    ]);
    expect(Number((await store.sql.all(`SELECT count(*) AS n FROM ${store.sql.from('obs')} t`))[0]?.['n'])).toBe(2);
    await store.close();
  });
});
