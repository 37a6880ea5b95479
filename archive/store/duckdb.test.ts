// The shared archive store suite on the embedded store (DuckDB in process, Parquet files in a temporary data dir).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { rowsOf, vitalsBatch } from '../test-kit.js';
import { FAN_IN } from './duck-files.js';
import { openDuckDbStore } from './duckdb.js';
import { readManifest } from './manifest.js';
import { archiveStoreSuite } from './suite.js';

let dir = '';
archiveStoreSuite('duckdb + parquet', {
  async open() {
    dir = await mkdtemp(join(tmpdir(), 'vw-archive-duck-'));
    return openDuckDbStore({ dir, logger: silentLogger() });
  },
  async reopen(s) {
    await s.close();
    return openDuckDbStore({ dir, logger: silentLogger() });
  },
  async cleanup() {
    await rm(dir, { recursive: true, force: true });
  },
});

describe('embedded store files: one per table and day, merged in tiers', () => {
  it('writes every site of a day into one sorted file per checkpoint, merges FAN_IN of them, and loses no row', async () => {
    const d = await mkdtemp(join(tmpdir(), 'vw-archive-files-'));
    try {
      const s = await openDuckDbStore({ dir: d, logger: silentLogger() });
      const T = Date.UTC(2026, 0, 20, 10) * 1000;
      let seq = 1;
      // 2 * FAN_IN + 1 checkpoints, each with 3 sites' numerics of the same UTC day.
      for (let c = 0; c < 2 * FAN_IN + 1; c++) {
        await s.write(
          ['a', 'b', 'c'].map((site) =>
            rowsOf(vitalsBatch({ site, gateway: 'gw1', device: 'm1' }, seq, T + seq * 1e6, { hr: 60 + c })),
          ),
        );
        seq++;
        await s.checkpoint();
      }
      const m = await readManifest(join(d, 'parquet'));
      const obsFiles = m.files.filter((f) => f.table === 'obs');
      // 17 level-0 files: two merges into level 1, one left at level 0; each file holds all three sites.
      expect(obsFiles.map((f) => f.level ?? 0).sort()).toEqual([0, 1, 1]);
      expect(obsFiles.map((f) => f.rows)).toEqual(expect.arrayContaining([3, 3 * FAN_IN, 3 * FAN_IN]));
      expect(new Set(obsFiles.map((f) => f.day))).toEqual(new Set(['2026-01-20']));
      const sites = await s.sql.all(
        `SELECT DISTINCT site FROM read_parquet('${join(d, 'parquet', obsFiles[0]!.path)}') ORDER BY site`,
      );
      expect(sites.map((r) => r['site'])).toEqual(['a', 'b', 'c']);
      // Every value once, in order.
      const rows = await s.sql.all(`SELECT site, seq, value_number FROM ${s.sql.from('obs')} t ORDER BY site, seq`);
      expect(rows).toHaveLength(3 * (2 * FAN_IN + 1));
      expect(rows.filter((r) => r['site'] === 'b').map((r) => r['value_number'])).toEqual(
        Array.from({ length: 2 * FAN_IN + 1 }, (_, c) => 60 + c),
      );
      // A merged file is deleted one checkpoint later (a reader elsewhere may have listed it); the live ones stay.
      await s.write([rowsOf(vitalsBatch({ site: 'a', gateway: 'gw1', device: 'm1' }, seq, T + seq * 1e6, { hr: 1 }))]);
      await s.checkpoint();
      const onDisk = (await readdir(join(d, 'parquet', 'obs', 'day=2026-01-20'))).length;
      expect(onDisk).toBe((await readManifest(join(d, 'parquet'))).files.filter((f) => f.table === 'obs').length);
      // The batch keys survive the merges: a reopened store still drops a repeat.
      await s.close();
      const again = await openDuckDbStore({ dir: d, logger: silentLogger() });
      expect(
        await again.write([rowsOf(vitalsBatch({ site: 'c', gateway: 'gw1', device: 'm1' }, 5, T + 5e6, { hr: 64 }))]),
      ).toMatchObject({ stored: 0, duplicates: 1 });
      await again.close();
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
