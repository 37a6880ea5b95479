// The shared store behind a clustered central: PostgreSQL 15+, written by every broker process. Data tables are
// partitioned by UTC day of t_us (declarative range partitions made on demand; TimescaleDB hypertables instead when
// the extension is installed, detected, never required). Exactly-once across processes rests on the batch table's
// primary key (site, gateway, device, kind, seq, dedup): INSERT ... ON CONFLICT DO NOTHING decides which writer stores a
// Batch, in the same transaction as its rows. The audit table refuses UPDATE, DELETE and TRUNCATE (a trigger).
import pg from 'pg';
import type { Logger } from '../../lib/log.js';
import type { AuditAction, AuditEntry, AuditInput, AuditLog, AuditTx } from '../audit.js';
import {
  ROW_TABLES,
  TABLE_NAMES,
  TABLES,
  TABLES_OF_KIND,
  type BatchRows,
  type ColType,
  type ConflictRow,
  conflictRowOf,
  type DataKind,
  type TableName,
} from '../schema.js';
import { unpackRows } from '../wave-wire.js';
import type { ArchiveStore, PurgeReport, SqlRunner, WriteReport } from './types.js';

const DAY_US = 86_400_000_000;
const PG_TYPE: Record<ColType, string> = {
  text: 'text',
  bool: 'boolean',
  int: 'integer',
  u32: 'bigint',
  bigint: 'bigint',
  double: 'double precision',
  bytes: 'bytea',
  packed_sint32: 'bytea',
};
const PARTITIONED: readonly TableName[] = ROW_TABLES;

export interface PostgresStoreOptions {
  url: string;
  /** Schema holding vitalwire's tables (created when missing). */
  schema?: string;
  poolSize?: number;
  logger: Logger;
}

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** int8 and numeric as JS numbers: microsecond times and counts stay below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 || oid === 1700
      ? Number
      : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openPostgresStore(o: PostgresStoreOptions): Promise<ArchiveStore> {
  const schema = o.schema ?? 'vitalwire';
  const S = ident(schema);
  const pool = new pg.Pool({ connectionString: o.url, max: o.poolSize ?? 4, types });
  const log = o.logger.child({ component: 'archive-postgres' });
  pool.on('error', (err) =>
    log.warn({ code: 'VW_ERR_ARCHIVE_STORE', err: err.message }, 'idle PostgreSQL connection failed'),
  );
  const q = (text: string, params: unknown[] = []) => pool.query(text, params);

  const timescale = (await q(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`)).rowCount === 1;
  const ddl = await pool.connect();
  try {
    await ddl.query(`SELECT pg_advisory_lock(hashtext('vitalwire-archive-ddl'))`);
    await ddl.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    if (timescale) await ddl.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    for (const t of TABLE_NAMES) {
      const cols = TABLES[t]
        .map(([n, ty]) => `${n} ${PG_TYPE[ty]}${TABLES[t].find((c) => c[0] === n)?.[2] ? '' : ' NOT NULL'}`)
        .join(', ');
      if (t === 'batch') {
        await ddl.query(
          `CREATE TABLE IF NOT EXISTS ${S}.batch (${cols}, PRIMARY KEY (site, gateway, device, kind, seq, dedup))`,
        );
        await ddl.query(`CREATE INDEX IF NOT EXISTS batch_t ON ${S}.batch (t_us)`);
      } else if (PARTITIONED.includes(t)) {
        if (timescale) {
          await ddl.query(`CREATE TABLE IF NOT EXISTS ${S}.${t} (${cols})`);
          await ddl.query(`SELECT create_hypertable($1, by_range('t_us', ${DAY_US}::bigint), if_not_exists => true)`, [
            `${schema}.${t}`,
          ]);
        } else {
          await ddl.query(`CREATE TABLE IF NOT EXISTS ${S}.${t} (${cols}) PARTITION BY RANGE (t_us)`);
        }
        await ddl.query(`CREATE INDEX IF NOT EXISTS ${t}_dev_t ON ${S}.${t} (site, gateway, device, t_us)`);
        await ddl.query(`CREATE INDEX IF NOT EXISTS ${t}_t ON ${S}.${t} (t_us)`);
      } else {
        await ddl.query(`CREATE TABLE IF NOT EXISTS ${S}.${t} (${cols})`);
      }
    }
    // Columns added to the schema after a database was made (0 for rows stored before).
    await ddl.query(`ALTER TABLE ${S}.status ADD COLUMN IF NOT EXISTS flags bigint NOT NULL DEFAULT 0`);
    await ddl.query(`CREATE TABLE IF NOT EXISTS ${S}.audit (n bigserial PRIMARY KEY, at text NOT NULL, actor text NOT NULL, action text NOT NULL,
      subject text NOT NULL, before jsonb, after jsonb)`);
    await ddl.query(`CREATE OR REPLACE FUNCTION ${S}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'the vitalwire audit is append-only'; END $$`);
    await ddl.query(`DO $$ BEGIN
        CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON ${S}.audit FOR EACH ROW EXECUTE FUNCTION ${S}.audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON ${S}.audit FOR EACH STATEMENT EXECUTE FUNCTION ${S}.audit_append_only();
      EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  } finally {
    await ddl.query(`SELECT pg_advisory_unlock_all()`).catch(() => undefined);
    ddl.release();
  }

  const partitions = new Set<string>();
  const ensurePartitions = async (table: TableName, tUs: readonly number[]): Promise<void> => {
    if (timescale) return;
    const days = new Set(tUs.map((t) => Math.floor(t / DAY_US)));
    for (const d of days) {
      const name = `${table}_d${new Date(d * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '')}`;
      if (partitions.has(name)) continue;
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        // Two brokers may meet the same new day at once: one creates, the other finds it made.
        await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${schema}.${name}`]);
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${S}.${name} PARTITION OF ${S}.${table} FOR VALUES FROM (${d * DAY_US}) TO (${(d + 1) * DAY_US})`,
        );
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
      partitions.add(name);
    }
  };

  const insert = async (
    c: pg.PoolClient,
    table: TableName,
    rows: readonly Record<string, unknown>[],
    returning = '',
  ): Promise<pg.QueryResult> => {
    const cols = TABLES[table];
    const params = cols.map(([n, ty]) =>
      rows.map((r) => {
        const v = r[n] ?? null;
        // pg sends a Buffer in an array as bytea; a plain Uint8Array it would not.
        return ty === 'packed_sint32' && v !== null && !Buffer.isBuffer(v) ? Buffer.from(v as Uint8Array) : v;
      }),
    );
    const select = cols.map((_c, i) => `c${i}`).join(', ');
    const unnest = cols.map(([, ty], i) => `$${i + 1}::${PG_TYPE[ty]}[]`).join(', ');
    const names = cols.map((_c, i) => `c${i}`).join(', ');
    return c.query(
      `INSERT INTO ${S}.${table} (${cols.map(([n]) => n).join(', ')}) SELECT ${select} FROM unnest(${unnest}) AS u(${names}) ${returning}`,
      params,
    );
  };

  const sql: SqlRunner = {
    from: (table) => `${S}.${table}`,
    bucket: (col, p) => `((${col} / ${p}) * ${p})`,
    async all(text, params = []) {
      return unpackRows((await q(text, params as unknown[])).rows as Record<string, unknown>[]);
    },
  };

  const keyOf = (b: { site: string; gateway: string; device: string; kind: string; seq: number; dedup: string }) =>
    `${b.site}/${b.gateway}/${b.device}/${b.kind}/${b.seq}/${b.dedup}`;

  const auditTx = (c: pg.PoolClient): AuditTx => ({
    async append(e: AuditInput) {
      const r = await c.query(
        `INSERT INTO ${S}.audit (at, actor, action, subject, before, after) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [
          e.at ?? new Date().toISOString(),
          e.actor,
          e.action,
          e.subject,
          e.before === null ? null : JSON.stringify(e.before),
          e.after === null ? null : JSON.stringify(e.after),
        ],
      );
      return r.rows[0] as AuditEntry;
    },
    async list(actions?: readonly AuditAction[]) {
      const r = actions
        ? await c.query(`SELECT * FROM ${S}.audit WHERE action = ANY($1) ORDER BY n`, [actions])
        : await c.query(`SELECT * FROM ${S}.audit ORDER BY n`);
      return r.rows as AuditEntry[];
    },
  });
  const exclusive = async <T>(fn: (tx: AuditTx) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${schema}.audit`]);
      const out = await fn(auditTx(c));
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };
  const audit: AuditLog = {
    append: (e) => exclusive((tx) => tx.append(e)),
    async list(actions) {
      const c = await pool.connect();
      try {
        return await auditTx(c).list(actions);
      } finally {
        c.release();
      }
    },
    exclusive,
    async close() {},
  };

  return {
    name: 'postgres',
    durableOnWrite: true,
    sql,
    audit,
    async write(batches, rejects = []) {
      const report: WriteReport = { stored: 0, duplicates: 0, conflicts: 0, rows: 0 };
      const first = new Map<string, BatchRows>();
      const later: BatchRows[] = [];
      for (const b of batches) {
        const k = keyOf(b.batch);
        if (first.has(k)) later.push(b);
        else first.set(k, b);
      }
      // One global order of keys: brokers inserting overlapping Batches in different orders would otherwise
      // wait on each other's uncommitted keys and deadlock.
      const candidates = [...first.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map((e) => e[1]);
      for (const t of ROW_TABLES)
        await ensurePartitions(
          t,
          candidates.flatMap((b) => b[t].map((r) => r.t_us)),
        );
      const conflicts: ConflictRow[] = [];
      const conflict = (b: BatchRows): void => {
        report.conflicts++;
        conflicts.push(conflictRowOf(b));
      };
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const inserted =
          candidates.length === 0
            ? new Set<string>()
            : new Set(
                (
                  await insert(
                    c,
                    'batch',
                    candidates.map((b) => b.batch),
                    'ON CONFLICT DO NOTHING RETURNING site, gateway, device, kind, seq, dedup',
                  )
                ).rows.map((r) => keyOf(r as BatchRows['batch'])),
              );
        const fresh = candidates.filter((b) => inserted.has(keyOf(b.batch)));
        const known = [...candidates.filter((b) => !inserted.has(keyOf(b.batch))), ...later];
        if (known.length > 0) {
          // Stored content of the keys already held: equal is a repeat, different a conflict.
          const r = await c.query(
            `SELECT b.site, b.gateway, b.device, b.kind, b.seq, b.dedup, b.content_hash FROM ${S}.batch b
            JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS k(site, gateway, device, kind, seq, dedup)
            USING (site, gateway, device, kind, seq, dedup)`,
            ['site', 'gateway', 'device', 'kind', 'seq', 'dedup'].map((n) =>
              known.map((b) => b.batch[n as keyof BatchRows['batch']]),
            ),
          );
          const hashOf = new Map(
            r.rows.map((x) => [keyOf(x as BatchRows['batch']), (x as { content_hash: string }).content_hash]),
          );
          for (const b of known) {
            if (hashOf.get(keyOf(b.batch)) === b.batch.content_hash) report.duplicates++;
            else conflict(b);
          }
        }
        for (const t of ROW_TABLES) {
          const rows = fresh.flatMap((b): readonly Record<string, unknown>[] => b[t]);
          if (rows.length === 0) continue;
          report.rows += rows.length;
          await insert(c, t, rows);
        }
        if (rejects.length > 0) await insert(c, 'reject', rejects);
        if (conflicts.length > 0) await insert(c, 'conflict', conflicts);
        await c.query('COMMIT');
        report.stored = fresh.length;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
      return report;
    },
    async checkpoint() {},
    async purge(kind: DataKind, beforeUs: number): Promise<PurgeReport> {
      let rows = 0;
      for (const t of TABLES_OF_KIND[kind]) {
        // Whole days go by dropping their partition; the rest of the cut by DELETE.
        if (!timescale) {
          const parts = await q(
            `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE p.relname = $1 AND n.nspname = $2`,
            [t, schema],
          );
          for (const p of parts.rows as { name: string; bound: string }[]) {
            const m = /TO \('?(-?\d+)'?\)/.exec(p.bound);
            if (!m || Number(m[1]) > beforeUs) continue;
            rows += Number((await q(`SELECT count(*) AS n FROM ${S}.${ident(p.name)}`)).rows[0]?.n ?? 0);
            await q(`DROP TABLE ${S}.${ident(p.name)}`);
            partitions.delete(p.name);
          }
        }
        rows += (await q(`DELETE FROM ${S}.${t} WHERE t_us < $1`, [beforeUs])).rowCount ?? 0;
      }
      return { kind, beforeUs, rows };
    },
    async close() {
      await pool.end();
    },
  };
}
