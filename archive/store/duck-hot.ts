// The embedded store's hot tables: the rows loaded since the last checkpoint, in DuckDB's memory. Appending a text
// value costs a native call per value (about 0.2 us, measured: 14 text columns were 80 % of an obs row's append), and
// most text columns repeat for every value of one device and metric (site, gateway, device, kind, refid, unit, vendor
// code, containment...). So each table's repeating text columns are kept once in a dictionary table (h_<t>_d, one row
// per distinct combination, its id looked up in a JS Map), and the rows (h_<t>_n) carry the dictionary id beside
// their own values. A view, h_<t>, joins them back into the table's columns (schema.ts), which is all that queries,
// checkpoints and purges see.
//
// Two more costs measured away: 64-bit integer columns are held as DOUBLE here (a microsecond time or a counter is
// below 2^53, exact in a double; DuckDB's node API wants a BigInt allocated per BIGINT value) and cast back to BIGINT
// in the view; and the loop that moves row objects into columns is compiled per table from the schema, so every
// property is read by its name (a load V8 caches) instead of by a key from a list (a generic lookup per value).
import {
  BLOB,
  BOOLEAN,
  blobValue,
  DOUBLE,
  DuckDBDataChunk,
  INTEGER,
  UINTEGER,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
} from '@duckdb/node-api';
import { TABLE_NAMES, TABLES, type ColType, type TableName } from '../schema.js';

/** Types of the hot row tables (BIGINT as DOUBLE, see above). */
const HOT_TYPE: Record<ColType, DuckDBType> = {
  text: VARCHAR,
  bool: BOOLEAN,
  int: INTEGER,
  u32: UINTEGER,
  bigint: DOUBLE,
  double: DOUBLE,
  bytes: BLOB,
  packed_sint32: BLOB,
};
const HOT_SQL_TYPE: Record<ColType, string> = {
  text: 'VARCHAR',
  bool: 'BOOLEAN',
  int: 'INTEGER',
  u32: 'UINTEGER',
  bigint: 'DOUBLE',
  double: 'DOUBLE',
  bytes: 'BLOB',
  packed_sint32: 'BLOB',
};
/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

const STREAM = ['site', 'gateway', 'device', 'kind'] as const;
/** Per table, the text columns that repeat for one device and metric: stored once per distinct combination. */
export const DICT_COLUMNS: Readonly<Record<TableName, readonly string[]>> = {
  batch: [
    ...STREAM,
    'model',
    'protocol',
    'source_bed',
    'hardware_id',
    'bed_claim',
    'source_site',
    'source_gateway',
    'source_device',
  ],
  obs: [...STREAM, 'refid', 'unit', 'vendor_code', 'vendor_unit', 'containment', 'method', 'ref_range'],
  obs_q: [...STREAM, 'refid', 'unit', 'vendor_code', 'vendor_unit', 'containment', 'method', 'ref_range'],
  wave: [...STREAM, 'refid', 'unit', 'vendor_code'],
  wave_q: [...STREAM, 'refid', 'unit', 'vendor_code'],
  alarm: [...STREAM, 'refid', 'source_refid', 'vendor_code', 'source_unit', 'limits', 'source_containment'],
  alarm_q: [...STREAM, 'refid', 'source_refid', 'vendor_code', 'source_unit', 'limits', 'source_containment'],
  status: [...STREAM, 'reason', 'diagnosis', 'session'],
  gap: [...STREAM],
  reject: [],
  conflict: [],
};

/** Moves rows into the row columns, and their repeating text into the dictionary (ids in column 0). */
type Extract = (
  rows: readonly object[],
  n: number,
  own: unknown[][],
  dict: DictTree,
  fresh: unknown[][],
  ids: { n: number },
) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a tree of Maps as deep as the table's dictionary columns
type DictTree = Map<string, any>;

interface Layout {
  dict: readonly string[];
  ownTypes: DuckDBType[];
  dictTypes: DuckDBType[];
  extract: Extract;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/**
 * The per-table loop, compiled from the schema's column names (constants of schema.ts, checked to be plain
 * identifiers): for each row, its dictionary key and id, then each own column's value in its DuckDB form.
 */
function compileExtract(dict: readonly string[], own: readonly (readonly [string, ColType])[]): Extract {
  for (const n of [...dict, ...own.map(([x]) => x)]) if (!IDENT.test(n)) throw new Error(`column name ${n}`);
  const off = dict.length > 0 ? 1 : 0;
  const value = (n: string, ty: ColType): string => {
    const v = `r.${n}`;
    if (ty === 'bytes' || ty === 'packed_sint32') return `(${v} == null ? null : B(${v}))`;
    return `(${v} ?? null)`;
  };
  const body = [
    'const o = own;',
    'for (let i = 0; i < n; i++) {',
    '  const r = rows[i];',
    // The dictionary is a tree of Maps, one level per column: a lookup hashes each value once and builds no key string.
    ...(dict.length > 0
      ? [
          '  let m = dict, x;',
          ...dict
            .slice(0, -1)
            .map((n) => `  x = m.get(r.${n}); if (x === undefined) { x = new Map(); m.set(r.${n}, x); } m = x;`),
          `  let id = m.get(r.${dict[dict.length - 1] ?? ''});`,
          `  if (id === undefined) { id = ids.n++; m.set(r.${dict[dict.length - 1] ?? ''}, id); fresh[0].push(id); ${dict.map((n, c) => `fresh[${c + 1}].push(r.${n});`).join(' ')} }`,
          '  o[0][i] = id;',
        ]
      : []),
    ...own.map(([n, ty], k) => `  o[${k + off}][i] = ${value(n, ty)};`),
    '}',
  ].join('\n');
  const make = new Function('B', `return (rows, n, own, dict, fresh, ids) => {\n${body}\n};`) as (
    b: typeof blobValue,
  ) => Extract;
  return make(blobValue);
}

function layoutOf(t: TableName): Layout {
  const dict = DICT_COLUMNS[t];
  const own = TABLES[t].filter(([n]) => !dict.includes(n)).map(([n, ty]) => [n, ty] as const);
  const ownTypes = own.map(([, ty]) => HOT_TYPE[ty]);
  return {
    dict,
    ownTypes: dict.length > 0 ? [INTEGER, ...ownTypes] : ownTypes,
    dictTypes: [INTEGER, ...dict.map(() => VARCHAR)],
    extract: compileExtract(dict, own),
  };
}

async function appendColumns(
  conn: DuckDBConnection,
  table: string,
  types: DuckDBType[],
  cols: unknown[][],
  n: number,
): Promise<void> {
  if (n === 0) return;
  const appender = await conn.createAppender(table);
  try {
    for (let s = 0; s < n; s += CHUNK_ROWS) {
      const m = Math.min(CHUNK_ROWS, n - s);
      const chunk = DuckDBDataChunk.create(types, m);
      for (let k = 0; k < cols.length; k++)
        chunk.setColumnValues(k, (m === n ? cols[k] : (cols[k] as unknown[]).slice(s, s + m)) as never);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

export class HotTables {
  private readonly layouts = new Map<TableName, Layout>(TABLE_NAMES.map((t) => [t, layoutOf(t)]));
  private readonly dicts = new Map<TableName, { tree: DictTree; ids: { n: number } }>(
    TABLE_NAMES.map((t) => [t, { tree: new Map(), ids: { n: 0 } }]),
  );
  /** Rows held now, all tables. */
  rows = 0;

  private constructor(private readonly conn: DuckDBConnection) {}

  static async create(conn: DuckDBConnection): Promise<HotTables> {
    const h = new HotTables(conn);
    for (const t of TABLE_NAMES) {
      const dict = DICT_COLUMNS[t];
      const own = TABLES[t].filter(([n]) => !dict.includes(n)).map(([n, ty]) => `${n} ${HOT_SQL_TYPE[ty]}`);
      // The table's own column order and types, so `SELECT *` and UNION ALL with its Parquet files line up.
      const cols = TABLES[t]
        .map(([n, ty]) => {
          if (dict.includes(n)) return `d.${n}`;
          return ty === 'bigint' ? `n.${n}::BIGINT AS ${n}` : `n.${n}`;
        })
        .join(', ');
      if (dict.length === 0) {
        await conn.run(`CREATE TABLE h_${t}_n (${own.join(', ')})`);
        await conn.run(`CREATE VIEW h_${t} AS SELECT ${cols} FROM h_${t}_n n`);
        continue;
      }
      await conn.run(`CREATE TABLE h_${t}_d (did INTEGER, ${dict.map((n) => `${n} VARCHAR`).join(', ')})`);
      await conn.run(`CREATE TABLE h_${t}_n (did INTEGER, ${own.join(', ')})`);
      await conn.run(`CREATE VIEW h_${t} AS SELECT ${cols} FROM h_${t}_n n JOIN h_${t}_d d USING (did)`);
    }
    return h;
  }

  /** Appends rows (objects with the table's columns, schema.ts) to a table; run inside the caller's transaction. */
  async append(t: TableName, rows: readonly object[]): Promise<void> {
    const n = rows.length;
    if (n === 0) return;
    const l = this.layouts.get(t) as Layout;
    const own: unknown[][] = l.ownTypes.map(() => new Array<unknown>(n));
    const fresh: unknown[][] = [[], ...l.dict.map(() => [])];
    const d = this.dicts.get(t) as { tree: DictTree; ids: { n: number } };
    l.extract(rows, n, own, d.tree, fresh, d.ids);
    if (l.dict.length > 0)
      await appendColumns(this.conn, `h_${t}_d`, l.dictTypes, fresh, (fresh[0] as unknown[]).length);
    await appendColumns(this.conn, `h_${t}_n`, l.ownTypes, own, n);
    this.rows += n;
  }

  /** Deletes rows older than beforeUs; returns how many. */
  async deleteBefore(t: TableName, beforeUs: number): Promise<number> {
    const r = await this.conn.runAndReadAll(`DELETE FROM h_${t}_n WHERE t_us < $1 RETURNING 1`, [beforeUs]);
    const n = r.currentRowCount;
    this.rows -= n;
    return n;
  }

  /** Empties every hot table and dictionary (after a checkpoint wrote them to Parquet). */
  async clear(): Promise<void> {
    for (const t of TABLE_NAMES) {
      await this.conn.run(`DELETE FROM h_${t}_n`);
      if (DICT_COLUMNS[t].length > 0) await this.conn.run(`DELETE FROM h_${t}_d`);
      this.dicts.set(t, { tree: new Map(), ids: { n: 0 } });
    }
    this.rows = 0;
  }
}
