// What every archive store provides. Two implement it: the embedded default (DuckDB in process, Parquet files by day and
// site in a data directory) and PostgreSQL (shared by the brokers of a cluster). One behavioural suite (suite.ts) runs
// against both. Queries, bindings and exports are written once, over `sql` and `audit`.
import type { AuditLog } from '../audit.js';
import type { BatchRows, DataKind, RejectRow, TableName } from '../schema.js';

export interface WriteReport {
  /** Batches newly stored. */
  stored: number;
  /** Batches already stored with the same content (a QoS 1 repeat, a backfill replay, a journal replay): dropped. */
  duplicates: number;
  /** Batches whose key was already stored with different content: kept apart in the conflict table. */
  conflicts: number;
  rows: number;
}

export interface TimeRange {
  fromUs?: number;
  toUs?: number;
}

/** The SQL both stores speak, as far as the query layer needs it. Parameters are $1, $2, ... (scalars only). */
export interface SqlRunner {
  /** A relation (a table name or a parenthesised subquery) holding every stored row of `table`, pruned to `range` when it can be. */
  from(table: TableName, range?: TimeRange): string;
  /** Integer floor division `col / $param`, times the same parameter: the start of a col's bucket. */
  bucket(col: string, param: string): string;
  /**
   * Runs a query; integers come back as numbers, lists as arrays, blobs as Buffers, and a packed_sint32 column (by its
   * name, schema.ts) as its numbers.
   */
  all(sql: string, params?: readonly (string | number | boolean)[]): Promise<Record<string, unknown>[]>;
}

export interface PurgeReport {
  kind: DataKind;
  beforeUs: number;
  rows: number;
}

export interface ArchiveStore {
  readonly name: 'duckdb' | 'postgres';
  /** True when write() returns only once its rows are durable in the store itself (PostgreSQL commit). */
  readonly durableOnWrite: boolean;
  /**
   * Stores each Batch's rows exactly once by its key (site, gateway, device, kind, seq; seq 0 by content), and the
   * rejects as they are. Resolves when they are queryable (and durable when durableOnWrite).
   */
  write(batches: readonly BatchRows[], rejects?: readonly RejectRow[]): Promise<WriteReport>;
  /** Makes everything written so far durable in the store (the embedded store writes its Parquet files). */
  checkpoint(): Promise<void>;
  readonly sql: SqlRunner;
  /** The append-only audit store: binding changes, purges, exports. */
  readonly audit: AuditLog;
  /** Deletes rows of a data kind older than beforeUs (whole days for Parquet files); the caller audits it. */
  purge(kind: DataKind, beforeUs: number): Promise<PurgeReport>;
  close(): Promise<void>;
}
