// The embedded store, the default: nothing to install or run, a data directory. DuckDB runs in process on an
// in-memory database that holds the rows loaded since the last checkpoint (hot tables, duck-hot.ts); a checkpoint
// writes them as Parquet files, one per table and UTC day, sorted by site and device (duck-files.ts), fsyncs them, and
// names them in the manifest. Until then the journal holds the same data, so a crash loses nothing: on restart the
// journal is loaded again and the seq index (built from the Parquet batch keys) drops what was already written. Any
// process can read the files, so `vitalwire export --data-dir` works while the central runs.
//
// One connection, and every use of it (writes, checkpoints, merges, purges, queries) in one queue: a query never
// runs inside a write's transaction, and never reads a file list that a checkpoint is replacing.
import { readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from '../../lib/log.js';
import { openFileAudit, type AuditLog } from '../audit.js';
import {
  ROW_TABLES,
  TABLES,
  TABLES_OF_KIND,
  type BatchRows,
  type ConflictRow,
  conflictRowOf,
  type DataKind,
  type TableName,
} from '../schema.js';
import { ParquetFiles, quoteLiteral } from './duck-files.js';
import { HotTables } from './duck-hot.js';
import { dayOf, readManifest, writeManifest, type Manifest } from './manifest.js';
import { SeqIndex } from './seq-index.js';
import { unpackRows } from '../wave-wire.js';
import type { ArchiveStore, PurgeReport, SqlRunner, TimeRange, WriteReport } from './types.js';

export { quoteLiteral } from './duck-files.js';

export interface DuckDbStoreOptions {
  /** The archive data directory; Parquet files under <dir>/parquet, the audit under <dir>/audit. */
  dir: string;
  logger: Logger;
  /** Read the files without changing them (a second process: export, queries). */
  readOnly?: boolean;
  now?: () => number;
}

function convert(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(convert);
  return v;
}

export async function openDuckDbStore(o: DuckDbStoreOptions): Promise<ArchiveStore> {
  const pqDir = join(o.dir, 'parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn: DuckDBConnection = await instance.connect();
  const log = o.logger.child({ component: 'archive-duckdb' });
  const hot = await HotTables.create(conn);
  await conn.run(
    `CREATE TEMP TABLE probe (site VARCHAR, gateway VARCHAR, device VARCHAR, kind VARCHAR, seq BIGINT, dedup VARCHAR)`,
  );
  let manifest: Manifest = await readManifest(pqDir);
  if (!o.readOnly) await removeLeftovers(pqDir, manifest);
  const files = new ParquetFiles(
    conn,
    pqDir,
    () => manifest,
    (m) => (manifest = m),
  );
  const index = new SeqIndex();
  let lock: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn);
    lock = run.catch(() => undefined);
    return run;
  };

  const filesOf = (table: TableName, range?: TimeRange): string[] => {
    const from = range?.fromUs !== undefined ? dayOf(range.fromUs) : '';
    const to = range?.toUs !== undefined ? dayOf(range.toUs) : '9999';
    return manifest.files
      .filter((f) => f.table === table && f.day >= from && f.day <= to)
      .map((f) => join(pqDir, f.path));
  };

  /** Runs a query on the connection, within the caller's turn of the queue. */
  const all = async (
    text: string,
    params: readonly (string | number | boolean)[] = [],
  ): Promise<Record<string, unknown>[]> => {
    const r = await conn.runAndReadAll(
      text,
      params.map((p) => (typeof p === 'number' && Number.isInteger(p) ? BigInt(p) : p)),
    );
    return unpackRows(
      r.getRowObjectsJS().map((row) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row)) out[k] = convert(v);
        return out;
      }),
    );
  };

  const sql: SqlRunner = {
    from(table, range) {
      const cols = TABLES[table].map(([n]) => n).join(', ');
      const list = filesOf(table, range);
      if (list.length === 0) return `h_${table}`;
      // union_by_name: a column added to the schema later reads as NULL from files written before it.
      return `(SELECT ${cols} FROM h_${table} UNION ALL SELECT ${cols} FROM read_parquet([${list.map(quoteLiteral).join(', ')}], union_by_name = true))`;
    },
    bucket: (col, p) => `((${col} // ${p}) * ${p})`,
    all: (text, params = []) => serial(() => all(text, params)),
  };

  // The seq index from every stored batch key: islands of consecutive seqs per stream, one row per island.
  const rebuildIndex = async (): Promise<void> => {
    index.clear();
    const rows = await all(`SELECT site, gateway, device, kind, dedup, min(seq) AS lo, max(seq) AS hi FROM (
        SELECT *, seq - row_number() OVER (PARTITION BY site, gateway, device, kind, dedup ORDER BY seq) AS island FROM ${sql.from('batch')}
      ) GROUP BY site, gateway, device, kind, dedup, island`);
    for (const r of rows) {
      const stream = SeqIndex.key(
        r['site'] as string,
        r['gateway'] as string,
        r['device'] as string,
        r['kind'] as string,
      );
      index.add(stream, r['lo'] as number, r['dedup'] as string, r['hi'] as number);
    }
  };
  await rebuildIndex();

  const audit: AuditLog = openFileAudit({ dir: join(o.dir, 'audit'), ...(o.now ? { now: o.now } : {}) });

  return {
    name: 'duckdb',
    durableOnWrite: false,
    sql,
    audit,
    write: (batches, rejects = []) =>
      serial(async () => {
        const report: WriteReport = { stored: 0, duplicates: 0, conflicts: 0, rows: 0 };
        const conflicts: ConflictRow[] = [];
        const conflict = (b: BatchRows): void => {
          report.conflicts++;
          conflicts.push(conflictRowOf(b));
        };
        const fresh: BatchRows[] = [];
        const seenHere = new Map<string, string>(); // key -> content hash, for repeats inside this write
        const candidates: BatchRows[] = [];
        for (const b of batches) {
          const k = b.batch;
          const stream = SeqIndex.key(k.site, k.gateway, k.device, k.kind);
          const key = `${stream}/${k.seq}/${k.dedup}`;
          const here = seenHere.get(key);
          if (here !== undefined) {
            if (here === k.content_hash) report.duplicates++;
            else conflict(b);
            continue;
          }
          if (index.has(stream, k.seq, k.dedup)) {
            candidates.push(b);
            continue;
          }
          seenHere.set(key, k.content_hash);
          fresh.push(b);
        }
        if (candidates.length > 0) {
          // Stored hashes of the keys we hold already: equal content is a repeat, different content a conflict.
          await conn.run('DELETE FROM probe');
          const ap = await conn.createAppender('probe');
          for (const b of candidates) {
            const k = b.batch;
            ap.appendVarchar(k.site);
            ap.appendVarchar(k.gateway);
            ap.appendVarchar(k.device);
            ap.appendVarchar(k.kind);
            ap.appendBigInt(BigInt(k.seq));
            ap.appendVarchar(k.dedup);
            ap.endRow();
          }
          ap.flushSync();
          ap.closeSync();
          const stored =
            await all(`SELECT b.site, b.gateway, b.device, b.kind, b.seq, b.dedup, b.content_hash FROM probe p
          JOIN ${sql.from('batch')} b USING (site, gateway, device, kind, seq, dedup)`);
          const hashOf = new Map(
            stored.map((r) => [
              `${r['site']}/${r['gateway']}/${r['device']}/${r['kind']}/${r['seq']}/${r['dedup']}`,
              r['content_hash'] as string,
            ]),
          );
          for (const b of candidates) {
            const k = b.batch;
            const h = hashOf.get(`${k.site}/${k.gateway}/${k.device}/${k.kind}/${k.seq}/${k.dedup}`);
            if (h === k.content_hash) report.duplicates++;
            else conflict(b);
          }
        }
        await conn.run('BEGIN TRANSACTION');
        try {
          await hot.append(
            'batch',
            fresh.map((b) => b.batch),
          );
          for (const t of ROW_TABLES) {
            const rows = fresh.flatMap((b): readonly Record<string, unknown>[] => b[t]);
            report.rows += rows.length;
            await hot.append(t, rows);
          }
          await hot.append('reject', rejects);
          await hot.append('conflict', conflicts);
          await conn.run('COMMIT');
        } catch (err) {
          await conn.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
        for (const b of fresh)
          index.add(
            SeqIndex.key(b.batch.site, b.batch.gateway, b.batch.device, b.batch.kind),
            b.batch.seq,
            b.batch.dedup,
          );
        report.stored = fresh.length;
        return report;
      }),

    checkpoint: () =>
      serial(async () => {
        if (o.readOnly || hot.rows === 0) return;
        const added = await files.checkpoint();
        // The manifest names the new files: from here they count, and the journal segments loaded so far may go.
        await hot.clear();
        const merges = await files.compact();
        log.info({ files: added.length, merges }, 'archive checkpoint written');
      }),

    purge: (kind: DataKind, beforeUs: number) =>
      serial(async (): Promise<PurgeReport> => {
        let rows = 0;
        const cutDay = dayOf(beforeUs);
        for (const t of TABLES_OF_KIND[kind]) rows += await hot.deleteBefore(t, beforeUs);
        // Parquet files are whole days: a day goes once all of it is older than the cut.
        const gone = manifest.files.filter(
          (f) => (TABLES_OF_KIND[kind] as readonly string[]).includes(f.table) && f.day < cutDay,
        );
        if (gone.length > 0) {
          const counted = await all(
            `SELECT count(*) AS n FROM read_parquet([${gone.map((f) => quoteLiteral(join(pqDir, f.path))).join(', ')}])`,
          );
          rows += Number(counted[0]?.['n'] ?? 0);
          if (!o.readOnly) {
            manifest = { v: 1, files: manifest.files.filter((f) => !gone.includes(f)) };
            await writeManifest(pqDir, manifest);
            for (const f of gone) await unlink(join(pqDir, f.path)).catch(() => undefined);
          }
        }
        return { kind, beforeUs, rows };
      }),

    async close() {
      await lock;
      await audit.close();
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Files under the parquet directory that the manifest does not name: an interrupted checkpoint's. */
async function removeLeftovers(pqDir: string, m: Manifest): Promise<void> {
  const live = new Set(m.files.map((f) => join(pqDir, f.path)));
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.parquet') && !live.has(p)) await unlink(p);
    }
  };
  await rm(join(pqDir, '.staging'), { recursive: true, force: true });
  await walk(pqDir);
}
