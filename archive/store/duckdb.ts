// The embedded store, the default: nothing to install or run, a data directory. DuckDB runs in process on an
// in-memory database that holds the rows loaded since the last checkpoint ("hot" tables, h_<table>); a checkpoint
// writes them as Parquet files partitioned by UTC day and site (parquet/<table>/day=D/site=S/<uuid>.parquet), fsyncs
// them, and names them in the manifest. Until then the journal holds the same data, so a crash loses nothing: on
// restart the journal is loaded again and the seq index (built from the Parquet batch keys) drops what was already
// written. Any process can read the files, so `vitalwire export --data-dir` works while the central runs.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import {
  BIGINT, BLOB, BOOLEAN, blobValue, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, LIST, listValue, UINTEGER, VARCHAR,
  type DuckDBConnection, type DuckDBType,
} from '@duckdb/node-api';
import { syncDir } from '../../lib/framed-records.js';
import type { Logger } from '../../lib/log.js';
import { openFileAudit, type AuditLog } from '../audit.js';
import {
  ROW_TABLES, TABLE_NAMES, TABLES, TABLES_OF_KIND, type BatchRows, type Col, type ColType, type ConflictRow,
  type DataKind, type TableName,
} from '../schema.js';
import { dayOf, readManifest, writeManifest, type Manifest, type ParquetFile } from './manifest.js';
import { SeqIndex } from './seq-index.js';
import type { ArchiveStore, PurgeReport, SqlRunner, TimeRange, WriteReport } from './types.js';

const DUCK_TYPE: Record<ColType, DuckDBType> = {
  text: VARCHAR, bool: BOOLEAN, int: INTEGER, u32: UINTEGER, bigint: BIGINT, double: DOUBLE, 'int[]': LIST(INTEGER), bytes: BLOB,
};
const SQL_TYPE: Record<ColType, string> = {
  text: 'VARCHAR', bool: 'BOOLEAN', int: 'INTEGER', u32: 'UINTEGER', bigint: 'BIGINT', double: 'DOUBLE', 'int[]': 'INTEGER[]', bytes: 'BLOB',
};
/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

export interface DuckDbStoreOptions {
  /** The archive data directory; Parquet files under <dir>/parquet, the audit under <dir>/audit. */
  dir: string;
  logger: Logger;
  /** Read the files without changing them (a second process: export, queries). */
  readOnly?: boolean;
  now?: () => number;
}

export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function convert(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(convert);
  return v;
}

/** JS values of a column for a data chunk. */
function chunkValues(type: ColType, values: unknown[]): unknown[] {
  switch (type) {
    case 'bigint':
      return values.map((v) => (v === null ? null : BigInt(Math.trunc(v as number))));
    case 'int[]':
      return values.map((v) => listValue(v as number[]));
    case 'bytes':
      return values.map((v) => (v === null ? null : blobValue(v as Uint8Array)));
    default:
      return values;
  }
}

export async function openDuckDbStore(o: DuckDbStoreOptions): Promise<ArchiveStore> {
  const pqDir = join(o.dir, 'parquet');
  const staging = join(pqDir, '.staging');
  const instance = await DuckDBInstance.create(':memory:');
  const conn: DuckDBConnection = await instance.connect();
  const log = o.logger.child({ component: 'archive-duckdb' });
  for (const t of TABLE_NAMES) {
    await conn.run(`CREATE TABLE h_${t} (${TABLES[t].map(([n, ty]) => `${n} ${SQL_TYPE[ty]}`).join(', ')})`);
  }
  await conn.run(`CREATE TEMP TABLE probe (site VARCHAR, gateway VARCHAR, device VARCHAR, kind VARCHAR, seq BIGINT, dedup VARCHAR)`);
  let manifest: Manifest = await readManifest(pqDir);
  if (!o.readOnly) await removeLeftovers(pqDir, manifest);
  const index = new SeqIndex();
  let hotRows = 0;
  let lock: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn);
    lock = run.catch(() => undefined);
    return run;
  };

  const filesOf = (table: TableName, range?: TimeRange): string[] => {
    const from = range?.fromUs !== undefined ? dayOf(range.fromUs) : '';
    const to = range?.toUs !== undefined ? dayOf(range.toUs) : '9999';
    return manifest.files.filter((f) => f.table === table && f.day >= from && f.day <= to).map((f) => join(pqDir, f.path));
  };

  const sql: SqlRunner = {
    from(table, range) {
      const cols = TABLES[table].map(([n]) => n).join(', ');
      const files = filesOf(table, range);
      if (files.length === 0) return `h_${table}`;
      return `(SELECT ${cols} FROM h_${table} UNION ALL SELECT ${cols} FROM read_parquet([${files.map(quoteLiteral).join(', ')}]))`;
    },
    bucket: (col, p) => `((${col} // ${p}) * ${p})`,
    async all(text, params = []) {
      const r = await conn.runAndReadAll(text, params.map((p) => (typeof p === 'number' && Number.isInteger(p) ? BigInt(p) : p)));
      return r.getRowObjectsJS().map((row) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row)) out[k] = convert(v);
        return out;
      });
    },
  };

  // The seq index from every stored batch key: islands of consecutive seqs per stream, one row per island.
  const rebuildIndex = async (): Promise<void> => {
    index.clear();
    const rows = await sql.all(`SELECT site, gateway, device, kind, dedup, min(seq) AS lo, max(seq) AS hi FROM (
        SELECT *, seq - row_number() OVER (PARTITION BY site, gateway, device, kind, dedup ORDER BY seq) AS island FROM ${sql.from('batch')}
      ) GROUP BY site, gateway, device, kind, dedup, island`);
    for (const r of rows) {
      const stream = SeqIndex.key(r['site'] as string, r['gateway'] as string, r['device'] as string, r['kind'] as string);
      index.add(stream, r['lo'] as number, r['dedup'] as string, r['hi'] as number);
    }
  };
  await rebuildIndex();

  const append = async (table: TableName, rows: readonly Record<string, unknown>[]): Promise<void> => {
    if (rows.length === 0) return;
    const cols: readonly Col[] = TABLES[table];
    const types = cols.map(([, t]) => DUCK_TYPE[t]);
    const appender = await conn.createAppender(`h_${table}`);
    try {
      for (let s = 0; s < rows.length; s += CHUNK_ROWS) {
        const part = rows.slice(s, s + CHUNK_ROWS);
        const chunk = DuckDBDataChunk.create(types, part.length);
        cols.forEach(([name, type], k) => chunk.setColumnValues(k, chunkValues(type, part.map((r) => r[name] ?? null)) as never));
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  };

  const audit: AuditLog = openFileAudit({ dir: join(o.dir, 'audit'), ...(o.now ? { now: o.now } : {}) });

  return {
    name: 'duckdb',
    durableOnWrite: false,
    sql,
    audit,
    write: (batches, rejects = []) => serial(async () => {
      const report: WriteReport = { stored: 0, duplicates: 0, conflicts: 0, rows: 0 };
      const conflicts: ConflictRow[] = [];
      const conflict = (b: BatchRows): void => {
        report.conflicts++;
        const k = b.batch;
        conflicts.push({ t_us: k.t_us, site: k.site, gateway: k.gateway, device: k.device, kind: k.kind, seq: k.seq, content_hash: k.content_hash, topic: b.topic, payload: b.payload });
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
          ap.appendVarchar(k.site); ap.appendVarchar(k.gateway); ap.appendVarchar(k.device); ap.appendVarchar(k.kind);
          ap.appendBigInt(BigInt(k.seq)); ap.appendVarchar(k.dedup); ap.endRow();
        }
        ap.flushSync();
        ap.closeSync();
        const stored = await sql.all(`SELECT b.site, b.gateway, b.device, b.kind, b.seq, b.dedup, b.content_hash FROM probe p
          JOIN ${sql.from('batch')} b USING (site, gateway, device, kind, seq, dedup)`);
        const hashOf = new Map(stored.map((r) => [`${r['site']}/${r['gateway']}/${r['device']}/${r['kind']}/${r['seq']}/${r['dedup']}`, r['content_hash'] as string]));
        for (const b of candidates) {
          const k = b.batch;
          const h = hashOf.get(`${k.site}/${k.gateway}/${k.device}/${k.kind}/${k.seq}/${k.dedup}`);
          if (h === k.content_hash) report.duplicates++;
          else conflict(b);
        }
      }
      await conn.run('BEGIN TRANSACTION');
      try {
        await append('batch', fresh.map((b) => b.batch));
        for (const t of ROW_TABLES) {
          const rows = fresh.flatMap((b): readonly Record<string, unknown>[] => b[t]);
          report.rows += rows.length;
          await append(t, rows);
        }
        await append('reject', rejects);
        await append('conflict', conflicts);
        await conn.run('COMMIT');
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      for (const b of fresh) index.add(SeqIndex.key(b.batch.site, b.batch.gateway, b.batch.device, b.batch.kind), b.batch.seq, b.batch.dedup);
      report.stored = fresh.length;
      hotRows += report.rows + fresh.length + rejects.length + conflicts.length;
      return report;
    }),

    checkpoint: () => serial(async () => {
      if (o.readOnly || hotRows === 0) return;
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true, mode: 0o700 });
      const added: ParquetFile[] = [];
      const moves: { from: string; to: string; file: ParquetFile }[] = [];
      for (const t of TABLE_NAMES) {
        const n = Number((await sql.all(`SELECT count(*) AS n FROM h_${t}`))[0]?.['n'] ?? 0);
        if (n === 0) continue;
        const out = join(staging, t);
        const r = await sql.all(`COPY (SELECT *, strftime(make_timestamp(t_us), '%Y-%m-%d') AS day,
            CASE WHEN site = '' THEN '_' ELSE site END AS psite FROM h_${t})
          TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day, psite), RETURN_FILES true, FILENAME_PATTERN 'p{uuid}')`);
        for (const f of (r[0]?.['Files'] as string[] | undefined) ?? []) {
          const m = /day=([^/]+)\/psite=([^/]+)\/[^/]+$/.exec(f);
          if (!m) throw new Error(`unexpected Parquet path ${f}`);
          const day = decodeURIComponent(m[1] as string);
          const site = decodeURIComponent(m[2] as string);
          const dest = join(pqDir, t, `day=${day}`, `site=${encodeURIComponent(site)}`, `${randomUUID()}.parquet`);
          moves.push({ from: f, to: dest, file: { table: t, day, site, path: relative(pqDir, dest) } });
        }
      }
      // Every file fsynced, moved into place, and every directory touched fsynced, before the manifest names them.
      // In parallel: one central of many sites writes a file per site, and the file system merges concurrent syncs.
      await inParallel(moves, async (mv) => {
        const fh = await open(mv.from, 'r');
        await fh.sync().finally(() => fh.close());
        await mkdir(dirname(mv.to), { recursive: true, mode: 0o700 });
        await rename(mv.from, mv.to);
      });
      const dirs = new Set<string>();
      for (const mv of moves) for (let d = dirname(mv.to); d.length > pqDir.length; d = dirname(d)) dirs.add(d);
      await inParallel([...dirs, pqDir], syncDir);
      added.push(...moves.map((mv) => mv.file));
      // The manifest names the new files: from here they count, and the journal segments loaded so far may go.
      manifest = { v: 1, files: [...manifest.files, ...added] };
      await writeManifest(pqDir, manifest);
      for (const t of TABLE_NAMES) await conn.run(`DELETE FROM h_${t}`);
      hotRows = 0;
      await rm(staging, { recursive: true, force: true });
      log.info({ files: added.length }, 'archive checkpoint written');
    }),

    purge: (kind: DataKind, beforeUs: number) => serial(async (): Promise<PurgeReport> => {
      let rows = 0;
      const cutDay = dayOf(beforeUs);
      for (const t of TABLES_OF_KIND[kind]) {
        const n = await sql.all(`SELECT count(*) AS n FROM h_${t} WHERE t_us < $1`, [beforeUs]);
        rows += Number(n[0]?.['n'] ?? 0);
        await sql.all(`DELETE FROM h_${t} WHERE t_us < $1`, [beforeUs]);
      }
      // Parquet files are whole days: a day goes once all of it is older than the cut.
      const gone = manifest.files.filter((f) => (TABLES_OF_KIND[kind] as readonly string[]).includes(f.table) && f.day < cutDay);
      if (gone.length > 0) {
        const counted = await sql.all(`SELECT count(*) AS n FROM read_parquet([${gone.map((f) => quoteLiteral(join(pqDir, f.path))).join(', ')}])`);
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

async function inParallel<T>(items: readonly T[], fn: (x: T) => Promise<void>, width = 32): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
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
