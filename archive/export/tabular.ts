// Analysis tables (CSV, Parquet): one row per observation and one per declared gap, in one long table. Quality flags
// come by name (and as the mask), bindings as bed/patient/encounter columns (empty and bound=false when unbound),
// gaps as their interval and reason. Waveforms are not in these tables (FHIR SampledData or PCD-01 carry them).
import { GapReason, Kind } from '../../proto/index.js';
import type { Bound } from '../query.js';
import type { GapRow, ObsRow } from '../schema.js';
import { flagNames, formatUs } from './names.js';

export const TABULAR_COLUMNS = [
  ['record', 'VARCHAR'],
  ['site', 'VARCHAR'],
  ['gateway', 'VARCHAR'],
  ['device', 'VARCHAR'],
  ['bound', 'BOOLEAN'],
  ['bed', 'VARCHAR'],
  ['patient', 'VARCHAR'],
  ['encounter', 'VARCHAR'],
  ['time_utc', 'VARCHAR'],
  ['t_us', 'BIGINT'],
  ['gateway_time_us', 'BIGINT'],
  ['device_time_us', 'BIGINT'],
  ['mdc', 'UINTEGER'],
  ['refid', 'VARCHAR'],
  ['value_number', 'DOUBLE'],
  ['value_code', 'VARCHAR'],
  ['value_text', 'VARCHAR'],
  ['unit', 'VARCHAR'],
  ['vendor_code', 'VARCHAR'],
  ['flags', 'VARCHAR'],
  ['flags_mask', 'UINTEGER'],
  ['quarantined', 'BOOLEAN'],
  ['gap_stream', 'VARCHAR'],
  ['gap_from_utc', 'VARCHAR'],
  ['gap_to_utc', 'VARCHAR'],
  ['gap_from_us', 'BIGINT'],
  ['gap_to_us', 'BIGINT'],
  ['gap_reason', 'VARCHAR'],
] as const;

export type TabularRow = Record<(typeof TABULAR_COLUMNS)[number][0], string | number | boolean | null>;

const STREAM: Record<number, string> = {
  [Kind.KIND_OBS]: 'obs',
  [Kind.KIND_WAVE]: 'wave',
  [Kind.KIND_ALARM]: 'alarm',
  [Kind.KIND_STATUS]: 'status',
};

function common(
  r: Bound<ObsRow | GapRow>,
): Pick<
  TabularRow,
  'site' | 'gateway' | 'device' | 'bound' | 'bed' | 'patient' | 'encounter' | 'time_utc' | 't_us' | 'quarantined'
> {
  return {
    site: r.site,
    gateway: r.gateway,
    device: r.device,
    bound: r.binding !== null,
    bed: r.binding?.bed ?? null,
    patient: r.binding?.patient ?? null,
    encounter: r.binding?.encounter ?? null,
    time_utc: formatUs(r.t_us),
    t_us: r.t_us,
    quarantined: r.quarantined,
  };
}

export function tabularRows(obs: readonly Bound<ObsRow>[], gaps: readonly Bound<GapRow>[]): TabularRow[] {
  const out: TabularRow[] = [];
  const none = {
    gap_stream: null,
    gap_from_utc: null,
    gap_to_utc: null,
    gap_from_us: null,
    gap_to_us: null,
    gap_reason: null,
  };
  for (const r of obs) {
    out.push({
      record: 'observation',
      ...common(r),
      gateway_time_us: r.gateway_time_us,
      device_time_us: r.device_time_us,
      mdc: r.mdc,
      refid: r.refid,
      value_number: r.value_number,
      value_code: r.value_code_refid,
      value_text: r.value_text,
      unit: r.unit,
      vendor_code: r.vendor_code,
      flags: flagNames(r.flags).join('|'),
      flags_mask: r.flags,
      ...none,
    });
  }
  for (const g of gaps) {
    out.push({
      record: 'gap',
      ...common(g),
      gateway_time_us: null,
      device_time_us: null,
      mdc: g.wave_mdc || null,
      refid: null,
      value_number: null,
      value_code: null,
      value_text: null,
      unit: null,
      vendor_code: null,
      flags: '',
      flags_mask: 0,
      gap_stream: STREAM[g.stream] ?? String(g.stream),
      gap_from_utc: g.from_time_us ? formatUs(g.from_time_us) : null,
      gap_to_utc: g.to_time_us ? formatUs(g.to_time_us) : null,
      gap_from_us: g.from_time_us || null,
      gap_to_us: g.to_time_us || null,
      gap_reason: GapReason[g.reason] ?? String(g.reason),
    });
  }
  return out.sort((a, b) => (a.t_us as number) - (b.t_us as number));
}

/** RFC 4180 field; text a spreadsheet would run as a formula (= + - @ first) is prefixed with ' (OWASP CSV injection). */
function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return `${TABULAR_COLUMNS.map(([n]) => n).join(',')}\r\n`;
}

export function csvLines(rows: readonly TabularRow[]): string {
  let out = '';
  for (const r of rows) out += `${TABULAR_COLUMNS.map(([n]) => csvField(r[n])).join(',')}\r\n`;
  return out;
}
