// Reading the archive: rows in a scope (site, device, bed, patient, codes, time), each with the binding valid at its
// time; a bed's numerics downsampled for a trend, with gaps kept as gaps; the devices seen. Written once over the
// stores' SQL (store/types.ts). Quarantined data (demo, test, simulated) is read only when asked for.
import { Flag } from '../proto/index.js';
import type { Binding, BindingIndex } from './bindings.js';
import type { AlarmRow, GapRow, ObsRow, StatusRow, TableName, WaveRow } from './schema.js';
import type { ArchiveStore } from './store/types.js';

export interface Scope {
  fromUs?: number | undefined;
  toUs?: number | undefined;
  site?: string | undefined;
  gateway?: string | undefined;
  device?: string | undefined;
  bed?: string | undefined;
  patient?: string | undefined;
  /** MDC codes of the metric (or, for waves, the wave; for gaps, any). */
  codes?: readonly number[] | undefined;
  /** Read the quarantine tables too (demo, test and simulated data): only when a user asks for it explicitly. */
  includeQuarantine?: boolean | undefined;
  /** Only devices this lets through (a user's scope): applied to the devices a bed or patient was bound to. */
  allow?: ((site: string, gateway: string, device: string) => boolean) | undefined;
  /** A page of rows, oldest first (selectRows; per table when the quarantine tables are read too). */
  limit?: number | undefined;
  offset?: number | undefined;
}

export type DataTable = 'obs' | 'wave' | 'alarm' | 'status' | 'gap';
export interface RowOfTable {
  obs: ObsRow;
  wave: WaveRow;
  alarm: AlarmRow;
  status: StatusRow;
  gap: GapRow;
}

export type Bound<R> = R & { binding: Binding | null; quarantined: boolean };

interface Slice {
  site?: string | undefined;
  gateway?: string | undefined;
  device?: string | undefined;
  fromUs?: number | undefined;
  toUs?: number | null | undefined;
}

/** The (device, time) slices a scope covers: a bed's or patient's through their bindings, else the filters as given. */
export function slicesOf(idx: BindingIndex, s: Scope): Slice[] {
  if (s.bed === undefined && s.patient === undefined)
    return [{ site: s.site, gateway: s.gateway, device: s.device, fromUs: s.fromUs, toUs: s.toUs }];
  return idx
    .where({ bed: s.bed, patient: s.patient, site: s.site }, s.fromUs ?? 0, s.toUs ?? null)
    .filter(
      (b) => (s.gateway === undefined || b.gateway === s.gateway) && (s.device === undefined || b.device === s.device),
    )
    .filter((b) => s.allow === undefined || s.allow(b.site, b.gateway, b.device))
    .map((b) => ({
      site: b.site,
      gateway: b.gateway,
      device: b.device,
      fromUs: Math.max(b.fromUs, s.fromUs ?? 0),
      toUs: b.toUs === null ? (s.toUs ?? null) : s.toUs === undefined ? b.toUs : Math.min(b.toUs, s.toUs),
    }));
}

class Params {
  readonly values: (string | number)[] = [];
  add(v: string | number): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

function where(slices: readonly Slice[], s: Scope, p: Params, codeCol: string | null): string {
  const ors = slices.map((sl) => {
    const c: string[] = [];
    if (sl.site !== undefined) c.push(`site = ${p.add(sl.site)}`);
    if (sl.gateway !== undefined) c.push(`gateway = ${p.add(sl.gateway)}`);
    if (sl.device !== undefined) c.push(`device = ${p.add(sl.device)}`);
    if (sl.fromUs !== undefined) c.push(`t_us >= ${p.add(sl.fromUs)}`);
    if (sl.toUs !== undefined && sl.toUs !== null) c.push(`t_us < ${p.add(sl.toUs)}`);
    return c.length ? `(${c.join(' AND ')})` : 'TRUE';
  });
  const all = [`(${ors.join(' OR ')})`];
  if (codeCol && s.codes && s.codes.length > 0) all.push(`${codeCol} IN (${s.codes.map((c) => p.add(c)).join(', ')})`);
  return all.join(' AND ');
}

const CODE_COL: Record<DataTable, string | null> = { obs: 'mdc', wave: 'mdc', alarm: 'mdc', status: null, gap: null };

/** Flags that quarantine data (demo, test, simulated): rows.ts QUARANTINE_FLAGS. */
const QUARANTINE = Flag.FLAG_DEMO | Flag.FLAG_TEST | Flag.FLAG_SIMULATED;

/**
 * True for a row of a device whose status says it is not a patient's monitor (DeviceStatus.flags, FLAG_SIMULATED):
 * a Gap carries no flags of its own, so a simulator's Gaps are quarantined by its status.
 */
function fromQuarantinedDevice(store: ArchiveStore, p: Params): string {
  return `EXISTS (SELECT 1 FROM ${store.sql.from('status')} s WHERE s.site = t.site AND s.gateway = t.gateway AND s.device = t.device
    AND (s.flags & ${p.add(QUARANTINE)}) <> 0)`;
}
const HAS_Q: Record<DataTable, boolean> = { obs: true, wave: true, alarm: true, status: false, gap: false };

/** Rows of one kind in a scope, oldest first, each with the binding valid at its time. */
export async function selectRows<T extends DataTable>(
  store: ArchiveStore,
  idx: BindingIndex,
  table: T,
  s: Scope,
): Promise<Bound<RowOfTable[T]>[]> {
  const slices = slicesOf(idx, s);
  if (slices.length === 0) return [];
  const tables: [TableName, boolean][] = [[table, false]];
  if (s.includeQuarantine && HAS_Q[table]) tables.push([`${table}_q` as TableName, true]);
  const out: Bound<RowOfTable[T]>[] = [];
  for (const [t, q] of tables) {
    const p = new Params();
    const range = {
      ...(s.fromUs !== undefined ? { fromUs: s.fromUs } : {}),
      ...(s.toUs !== undefined ? { toUs: s.toUs } : {}),
    };
    const page =
      s.limit !== undefined
        ? ` ORDER BY t_us, device, seq, idx LIMIT ${Math.trunc(s.limit)} OFFSET ${Math.trunc(s.offset ?? 0)}`
        : '';
    const gap = table === 'gap';
    const w = where(slices, s, p, CODE_COL[table]);
    const sim = gap ? fromQuarantinedDevice(store, p) : '';
    const select = gap ? `SELECT t.*, ${sim} AS q_device` : 'SELECT *';
    const rows = await store.sql.all(
      `${select} FROM ${store.sql.from(t, range)} t WHERE ${w}${gap && !s.includeQuarantine ? ` AND NOT ${sim}` : ''}${page}`,
      p.values,
    );
    for (const r of rows) {
      // Set in place: a spread copy of a 30-column row costs far more than the query (see rows.ts).
      const row = r as unknown as Bound<RowOfTable[T]> & { q_device?: boolean };
      row.binding = idx.at(row.site, row.gateway, row.device, row.t_us);
      row.quarantined = q || row.q_device === true;
      delete row.q_device;
      out.push(row);
    }
  }
  return out.sort((a, b) => a.t_us - b.t_us || a.device.localeCompare(b.device) || a.seq - b.seq || a.idx - b.idx);
}

export interface TrendPoint {
  /** Bucket start. */
  t: number;
  min: number;
  max: number;
  mean: number;
  n: number;
  /** OR of the flags of the values in the bucket (FLAG_QUESTIONABLE, FLAG_ABNORMAL... shown with the point). */
  flags: number;
}

export interface TrendSeries {
  mdc: number;
  refid: string;
  unit: string;
  /** One entry per bucket from fromUs to toUs: null where the bucket holds no value (drawn as a break, never joined). */
  points: (TrendPoint | null)[];
}

export interface Trend {
  fromUs: number;
  toUs: number;
  bucketUs: number;
  series: TrendSeries[];
  /** Holes the gateways declared (Gap records) overlapping the window. */
  gaps: { fromUs: number; toUs: number; reason: number; device: string }[];
  /** Parts of the window when the bed had no device bound (bed trends only). */
  unbound: { fromUs: number; toUs: number }[];
}

/** Values that do not belong on a trend line: no value, withdrawn, or the device's own "no value". */
const NOT_A_VALUE = Flag.FLAG_UNAVAILABLE | Flag.FLAG_RETRACTED;

/**
 * A bed's (or device's) numerics over [fromUs, toUs), downsampled into buckets (about 360 by default: the last 1 h in
 * 10 s buckets, 8 h in 80 s, 24 h in 4 min).
 */
export async function trend(
  store: ArchiveStore,
  idx: BindingIndex,
  s: Scope & { fromUs: number; toUs: number },
  bucketUs?: number,
): Promise<Trend> {
  const b = bucketUs ?? Math.max(1_000_000, Math.ceil((s.toUs - s.fromUs) / 360 / 1_000_000) * 1_000_000);
  const slices = slicesOf(idx, s);
  const out: Trend = { fromUs: s.fromUs, toUs: s.toUs, bucketUs: b, series: [], gaps: [], unbound: [] };
  if (s.bed !== undefined || s.patient !== undefined) {
    let at = s.fromUs;
    for (const sl of [...slices].sort((x, y) => (x.fromUs ?? 0) - (y.fromUs ?? 0))) {
      if ((sl.fromUs ?? 0) > at) out.unbound.push({ fromUs: at, toUs: sl.fromUs ?? 0 });
      at = Math.max(at, sl.toUs ?? s.toUs);
    }
    if (at < s.toUs) out.unbound.push({ fromUs: at, toUs: s.toUs });
  }
  if (slices.length === 0) return out;
  const nBuckets = Math.ceil((s.toUs - s.fromUs) / b);
  const series = new Map<string, TrendSeries>();
  const tables: TableName[] = s.includeQuarantine ? ['obs', 'obs_q'] : ['obs'];
  for (const t of tables) {
    const p = new Params();
    const origin = p.add(s.fromUs);
    const size = p.add(b);
    const w = where(slices, s, p, 'mdc');
    // Bucket index relative to the window start, so buckets line up with fromUs whatever the store.
    const rows = await store.sql.all(
      `SELECT mdc, refid, unit, ${store.sql.bucket(`(t_us - ${origin})`, size)} AS bk, min(value_number) AS mn,
        max(value_number) AS mx, avg(value_number) AS av, count(*) AS n, bit_or(flags) AS fl
      FROM ${store.sql.from(t, { fromUs: s.fromUs, toUs: s.toUs })} t
      WHERE ${w} AND value_number IS NOT NULL AND (flags & ${p.add(NOT_A_VALUE)}) = 0
      GROUP BY mdc, refid, unit, bk`,
      p.values,
    );
    for (const r of rows) {
      const key = `${r['mdc']}|${r['unit']}`;
      let ser = series.get(key);
      if (!ser)
        series.set(
          key,
          (ser = {
            mdc: r['mdc'] as number,
            refid: r['refid'] as string,
            unit: r['unit'] as string,
            points: new Array<TrendPoint | null>(nBuckets).fill(null),
          }),
        );
      const i = Math.floor((r['bk'] as number) / b);
      if (i < 0 || i >= nBuckets) continue;
      const prev = ser.points[i];
      const pt: TrendPoint = {
        t: s.fromUs + i * b,
        min: r['mn'] as number,
        max: r['mx'] as number,
        mean: r['av'] as number,
        n: r['n'] as number,
        flags: r['fl'] as number,
      };
      ser.points[i] = prev
        ? {
            t: pt.t,
            min: Math.min(prev.min, pt.min),
            max: Math.max(prev.max, pt.max),
            n: prev.n + pt.n,
            mean: (prev.mean * prev.n + pt.mean * pt.n) / (prev.n + pt.n),
            flags: prev.flags | pt.flags,
          }
        : pt;
    }
  }
  out.series = [...series.values()].sort((x, y) => x.mdc - y.mdc);
  // Declared holes: a Gap record's interval, which may start before the window.
  const gp = new Params();
  const gw = where(
    slices.map((sl) => ({ ...sl, fromUs: undefined, toUs: undefined })),
    s,
    gp,
    null,
  );
  const gaps = await store.sql.all(
    `SELECT device, from_time_us, to_time_us, reason FROM ${store.sql.from('gap')} t WHERE ${gw}
    AND from_time_us < ${gp.add(s.toUs)} AND to_time_us > ${gp.add(s.fromUs)}${s.includeQuarantine ? '' : ` AND NOT ${fromQuarantinedDevice(store, gp)}`}
    ORDER BY from_time_us`,
    gp.values,
  );
  out.gaps = gaps.map((g) => ({
    fromUs: g['from_time_us'] as number,
    toUs: g['to_time_us'] as number,
    reason: g['reason'] as number,
    device: g['device'] as string,
  }));
  return out;
}

export interface DeviceInfo {
  site: string;
  gateway: string;
  device: string;
  model: string;
  protocol: string;
  hardwareId: string;
  firstUs: number;
  lastUs: number;
}

/** Devices seen (from their Batches), optionally of one site or one device. */
export async function devicesSeen(
  store: ArchiveStore,
  s: Pick<Scope, 'site' | 'gateway' | 'device' | 'fromUs' | 'toUs'> = {},
): Promise<DeviceInfo[]> {
  const p = new Params();
  const w = where(
    [{ site: s.site, gateway: s.gateway, device: s.device, fromUs: s.fromUs, toUs: s.toUs }],
    {},
    p,
    null,
  );
  const rows = await store.sql.all(
    `SELECT site, gateway, device, max(model) AS model, max(protocol) AS protocol, max(hardware_id) AS hw,
      min(t_us) AS first_us, max(t_us) AS last_us FROM ${store.sql.from('batch')} t WHERE ${w} AND device <> '_gateway'
    GROUP BY site, gateway, device ORDER BY site, gateway, device`,
    p.values,
  );
  return rows.map((r) => ({
    site: r['site'] as string,
    gateway: r['gateway'] as string,
    device: r['device'] as string,
    model: r['model'] as string,
    protocol: r['protocol'] as string,
    hardwareId: r['hw'] as string,
    firstUs: r['first_us'] as number,
    lastUs: r['last_us'] as number,
  }));
}
