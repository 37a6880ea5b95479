// Queries composed in the central and run in the archive's loader process (loader-client.ts): the relation of a table,
// which only the loader can name (the embedded store's current Parquet files), travels as a marker that the loader
// replaces with its store's `from(table, range)`.
import { TABLE_NAMES, type TableName } from './schema.js';
import type { SqlRunner, TimeRange } from './store/types.js';

const MARKER = /__vw_from\(([a-z_]+),(-?[0-9.e+]*),(-?[0-9.e+]*)\)/g;

export function fromMarker(table: TableName, range?: TimeRange): string {
  return `__vw_from(${table},${range?.fromUs ?? ''},${range?.toUs ?? ''})`;
}

export function replaceFromMarkers(text: string, sql: Pick<SqlRunner, 'from'>): string {
  return text.replace(MARKER, (_m, t: string, from: string, to: string) => {
    if (!(TABLE_NAMES as readonly string[]).includes(t)) throw new Error(`unknown table ${t}`);
    const range: TimeRange = {};
    if (from !== '') range.fromUs = Number(from);
    if (to !== '') range.toUs = Number(to);
    return sql.from(t as TableName, range);
  });
}
