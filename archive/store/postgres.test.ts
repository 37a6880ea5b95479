// The shared archive store suite on PostgreSQL (a real server this file starts from Debian's packages), plus what
// only a shared store must show: brokers of a cluster writing the same Batches at once store each exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../../test/postgres-server.js';
import { rowsOf, vitalsBatch } from '../test-kit.js';
import { openPostgresStore } from './postgres.js';
import { archiveStoreSuite } from './suite.js';

const skip = postgresSkipReason();
let server: TestPostgres | null = null;
let schemaNo = 0;

// Without PostgreSQL's server binaries (a developer machine without the Debian package) the suite is skipped, its
// reason in the title; CI installs them and sets VW_CI, under which test/global-setup.ts fails the run without them.
if (skip) {
  describe.skip(`archive store: postgres (skipped: ${skip})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
} else {
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  let schema = '';
  archiveStoreSuite('postgres', {
    async open() {
      schema = `suite${++schemaNo}`;
      return openPostgresStore({ url: server!.url, schema, logger: silentLogger() });
    },
    async reopen(s) {
      await s.close();
      return openPostgresStore({ url: server!.url, schema, logger: silentLogger() });
    },
    async cleanup() {},
  });

  describe('archive store: postgres cluster', () => {
    it('stores each Batch once when several brokers write the same ones concurrently', async () => {
      const opts = { url: server!.url, schema: 'cluster', logger: silentLogger() };
      const a = await openPostgresStore(opts);
      const stores = [a, await openPostgresStore(opts), await openPostgresStore(opts), await openPostgresStore(opts)];
      const dev = { site: 's1', gateway: 'g1', device: 'd1' };
      const T = Date.UTC(2026, 1, 1) * 1000;
      const batches = Array.from({ length: 300 }, (_, i) =>
        rowsOf(vitalsBatch(dev, i + 1, T + i * 1e6, { hr: 60 + (i % 40), spo2: 95 })),
      );
      // Each broker gets every Batch (QoS 1 repeats after a failover), in its own slices and order.
      const reports = await Promise.all(
        stores.map(async (s, k) => {
          // Opposite and interleaved orders: each transaction's keys overlap the others' in a different order.
          const mine =
            k === 1 ? [...batches].reverse() : k === 3 ? batches.map((_, i) => batches[(i * 7) % 300]!) : batches;
          const rs = [];
          for (let i = 0; i < mine.length; i += 50) rs.push(await s.write(mine.slice(i, i + 50)));
          return rs;
        }),
      );
      const stored = reports.flat().reduce((n, r) => n + r.stored, 0);
      const dups = reports.flat().reduce((n, r) => n + r.duplicates, 0);
      expect(stored).toBe(300);
      expect(dups).toBe(900);
      const [c] = await a.sql.all(
        `SELECT count(*) AS n, count(DISTINCT seq) AS d FROM ${a.sql.from('obs')} t WHERE device = 'd1'`,
      );
      expect(c).toEqual({ n: 600, d: 300 });
      await Promise.all(stores.map((s) => s.close()));
    });

    it('refuses to change or delete audit entries', async () => {
      const s = await openPostgresStore({ url: server!.url, schema: 'auditonly', logger: silentLogger() });
      await s.audit.append({ actor: 'x', action: 'binding.set', subject: 'b', before: null, after: { bed: '1' } });
      await expect(s.sql.all(`UPDATE "auditonly".audit SET actor = 'y'`)).rejects.toThrow(/append-only/);
      await expect(s.sql.all(`DELETE FROM "auditonly".audit`)).rejects.toThrow(/append-only/);
      await expect(s.sql.all(`TRUNCATE "auditonly".audit`)).rejects.toThrow(/append-only/);
      expect(await s.audit.list()).toHaveLength(1);
      await s.close();
    });
  });
}
