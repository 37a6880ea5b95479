// The archive's tables, once, for every store: each column's name and logical type. DuckDB/Parquet and PostgreSQL
// DDL, inserts and reads are generated from these lists, so the two stores cannot drift apart. Every field of the
// contract (proto/vitalwire/v1/vitals.proto) has a column; enums and flag masks are stored as their numbers.
//
// Rows stay keyed by what the data came from (site, gateway, device, the Batch's kind and seq, and the item's index
// in the Batch); beds and patients are bound at export and query time (bindings.ts).

// packed_sint32: a list of sint32 kept as its protobuf wire bytes (packed zigzag varints, wave-wire.ts), a BLOB/bytea
// in the stores; written as those bytes, read back (SqlRunner.all) as numbers.
export type ColType = 'text' | 'bool' | 'int' | 'u32' | 'bigint' | 'double' | 'bytes' | 'packed_sint32';

/** name, type, nullable */
export type Col = readonly [string, ColType, boolean?];

type TsOf<T extends ColType> = T extends 'text'
  ? string
  : T extends 'bool'
    ? boolean
    : T extends 'packed_sint32'
      ? number[]
      : T extends 'bytes'
        ? Buffer
        : number;
export type RowOf<C extends readonly Col[]> = {
  [E in C[number] as E[0]]: E[2] extends true ? TsOf<E[1]> | null : TsOf<E[1]>;
};

const KEY = [
  ['site', 'text'],
  ['gateway', 'text'],
  ['device', 'text'],
  ['kind', 'text'],
  ['seq', 'bigint'],
  ['idx', 'int'],
] as const;
// t_us: the item's time on the gateway's clock (device time corrected by the gateway's offset estimate, or the gateway
// receive time when the device sent none or it is suspect): the one time used for ranges, partitions and bindings.
const TIMING = [
  ['t_us', 'bigint'],
  ['gateway_time_us', 'bigint'],
  ['device_time_us', 'bigint'],
  ['clock_offset_us', 'bigint'],
  ['device_utc_offset_min', 'int', true],
] as const;

export const BATCH_COLUMNS = [
  ['site', 'text'],
  ['gateway', 'text'],
  ['device', 'text'],
  ['kind', 'text'],
  ['seq', 'bigint'],
  // '' for seq > 0; for seq 0 (a last will, outside the sequence) the content hash, so distinct wills are all kept.
  ['dedup', 'text'],
  // Hash of the Batch without its publish tail (backfill, publish_time_us): a replay matches, a different Batch under a
  // reused key does not (a conflict, kept apart).
  ['content_hash', 'text'],
  ['t_us', 'bigint'],
  ['received_us', 'bigint'],
  ['publish_time_us', 'bigint'],
  ['backfill', 'bool'],
  ['model', 'text'],
  ['protocol', 'text'],
  ['source_bed', 'text'],
  ['hardware_id', 'text'],
  ['bed_claim', 'text'],
  // Source ids as the payload states them (the topic's, from the gateway certificate, are the ones used).
  ['source_site', 'text'],
  ['source_gateway', 'text'],
  ['source_device', 'text'],
  ['items', 'int'],
] as const satisfies readonly Col[];

export const OBS_COLUMNS = [
  ...KEY,
  ...TIMING,
  ['mdc', 'u32'],
  ['refid', 'text'],
  ['value_number', 'double', true],
  ['value_code_mdc', 'u32', true],
  ['value_code_refid', 'text', true],
  ['value_code_text', 'text', true],
  ['value_text', 'text', true],
  ['unit', 'text'],
  ['unit_mdc', 'u32'],
  ['vendor_code', 'text'],
  ['vendor_unit', 'text'],
  ['flags', 'u32'],
  ['containment', 'text'],
  ['method', 'text'],
  ['ref_range', 'text'],
  ['sent_number', 'double', true],
] as const satisfies readonly Col[];

export const WAVE_COLUMNS = [
  ...KEY,
  ...TIMING,
  ['mdc', 'u32'],
  ['refid', 'text'],
  ['sample_rate_hz', 'double'],
  ['first_sample', 'bigint'],
  // The raw samples as they came on the wire (WaveformChunk.samples' packed bytes): decoding them into numbers is left
  // to the reader, which few are (exports); the count is kept beside them for queries.
  ['samples', 'packed_sint32'],
  ['sample_count', 'int'],
  ['scale', 'double'],
  ['wave_offset', 'double'],
  ['unit', 'text'],
  ['invalid_value', 'int', true],
  ['vendor_code', 'text'],
  ['flags', 'u32'],
] as const satisfies readonly Col[];

export const ALARM_COLUMNS = [
  ...KEY,
  ...TIMING,
  ['alarm_id', 'text'],
  ['mdc', 'u32'],
  ['refid', 'text'],
  ['alarm_text', 'text'],
  ['priority', 'int'],
  ['alarm_kind', 'int'],
  ['state', 'int'],
  ['phase', 'int'],
  ['inactivation', 'int'],
  ['source_mdc', 'u32'],
  ['source_refid', 'text'],
  ['vendor_code', 'text'],
  ['flags', 'u32'],
  ['source_value', 'double', true],
  ['source_unit', 'text'],
  ['limit_low', 'double', true],
  ['limit_high', 'double', true],
  ['limits', 'text'],
  ['source_containment', 'text'],
  // AlarmFacet list as JSON ([{mdc, refid, value, unit, containment}]): every facet the device sent.
  ['facets', 'text'],
] as const satisfies readonly Col[];

export const STATUS_COLUMNS = [
  ...KEY,
  ...TIMING,
  ['state', 'int'],
  ['reason', 'text'],
  ['frames_ok', 'bigint'],
  ['frames_bad', 'bigint'],
  ['garbage_bytes', 'bigint'],
  ['unmapped', 'bigint'],
  ['reconnects', 'bigint'],
  ['queue_depth', 'bigint'],
  ['clock_synced', 'bool'],
  ['last_frame_time_us', 'bigint'],
  ['diagnosis', 'text'],
  ['session', 'text'],
  // About the device itself (FLAG_SIMULATED: a simulator): its Gaps, which carry no flags, are quarantined by it.
  ['flags', 'u32'],
] as const satisfies readonly Col[];

export const GAP_COLUMNS = [
  ...KEY,
  // t_us: from_time_us when known, else the Batch's time.
  ['t_us', 'bigint'],
  ['stream', 'int'],
  ['from_seq', 'bigint'],
  ['to_seq', 'bigint'],
  ['wave_mdc', 'u32'],
  ['from_sample', 'bigint'],
  ['sample_count', 'bigint'],
  ['from_time_us', 'bigint'],
  ['to_time_us', 'bigint'],
  ['reason', 'int'],
] as const satisfies readonly Col[];

/** Payloads accepted by the broker that the archive cannot read: kept as they came, never dropped. */
export const REJECT_COLUMNS = [
  ['t_us', 'bigint'],
  ['site', 'text'],
  ['topic', 'text'],
  ['reason', 'text'],
  ['payload', 'bytes'],
] as const satisfies readonly Col[];

/** A second Batch under a key already stored with different content (a gateway whose sequence was reset). */
export const CONFLICT_COLUMNS = [
  ['t_us', 'bigint'],
  ['site', 'text'],
  ['gateway', 'text'],
  ['device', 'text'],
  ['kind', 'text'],
  ['seq', 'bigint'],
  ['content_hash', 'text'],
  ['topic', 'text'],
  ['payload', 'bytes'],
] as const satisfies readonly Col[];

export type BatchRow = RowOf<typeof BATCH_COLUMNS>;
export type ObsRow = RowOf<typeof OBS_COLUMNS>;
export type WaveRow = RowOf<typeof WAVE_COLUMNS>;
/** A wave row as written: its samples still as their packed wire bytes. */
export type WaveRowIn = Omit<WaveRow, 'samples'> & { samples: Uint8Array };
export type AlarmRow = RowOf<typeof ALARM_COLUMNS>;
export type StatusRow = RowOf<typeof STATUS_COLUMNS>;
export type GapRow = RowOf<typeof GAP_COLUMNS>;
export type RejectRow = RowOf<typeof REJECT_COLUMNS>;
export type ConflictRow = RowOf<typeof CONFLICT_COLUMNS>;

// Data flagged FLAG_DEMO, FLAG_TEST or FLAG_SIMULATED lives in the *_q (quarantine) tables: never in a real patient's
// export, trend or search unless asked for explicitly.
export const TABLES = {
  batch: BATCH_COLUMNS,
  obs: OBS_COLUMNS,
  obs_q: OBS_COLUMNS,
  wave: WAVE_COLUMNS,
  wave_q: WAVE_COLUMNS,
  alarm: ALARM_COLUMNS,
  alarm_q: ALARM_COLUMNS,
  status: STATUS_COLUMNS,
  gap: GAP_COLUMNS,
  reject: REJECT_COLUMNS,
  conflict: CONFLICT_COLUMNS,
} as const;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];
/** The tables holding clinical data, by retention kind. */
export const DATA_KINDS = ['obs', 'wave', 'alarm', 'status', 'gap'] as const;
export type DataKind = (typeof DATA_KINDS)[number];
export const TABLES_OF_KIND: Readonly<Record<DataKind, readonly TableName[]>> = {
  obs: ['obs', 'obs_q'],
  wave: ['wave', 'wave_q'],
  alarm: ['alarm', 'alarm_q'],
  status: ['status'],
  gap: ['gap'],
};

export interface BatchRows {
  batch: BatchRow;
  obs: ObsRow[];
  obs_q: ObsRow[];
  wave: WaveRowIn[];
  wave_q: WaveRowIn[];
  alarm: AlarmRow[];
  alarm_q: AlarmRow[];
  status: StatusRow[];
  gap: GapRow[];
  /** The Batch as published, kept only until the store has classified it (a conflict stores it). */
  payload: Buffer;
  topic: string;
}

/** The conflict row of a Batch whose key is stored with other content: its key, hash, topic and bytes kept as sent. */
export function conflictRowOf(b: BatchRows): ConflictRow {
  const k = b.batch;
  return {
    t_us: k.t_us,
    site: k.site,
    gateway: k.gateway,
    device: k.device,
    kind: k.kind,
    seq: k.seq,
    content_hash: k.content_hash,
    topic: b.topic,
    payload: b.payload,
  };
}

export type RowTable = Exclude<TableName, 'batch' | 'reject' | 'conflict'>;
export const ROW_TABLES: readonly RowTable[] = ['obs', 'obs_q', 'wave', 'wave_q', 'alarm', 'alarm_q', 'status', 'gap'];

export function columnsOf(t: TableName): readonly Col[] {
  return TABLES[t];
}

/** Names of the packed_sint32 columns: a store's reads turn their bytes into numbers (SqlRunner.all). */
export const PACKED_COLUMNS: ReadonlySet<string> = new Set(
  TABLE_NAMES.flatMap((t) => TABLES[t].filter(([, ty]) => ty === 'packed_sint32').map(([n]) => n)),
);
