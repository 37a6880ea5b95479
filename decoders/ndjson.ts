// The decode CLI's NDJSON view of decoded payloads, also the shape golden fixtures state their
// expected values in. One object per observation, wave chunk, alarm, status or gap; errors as
// {"kind":"error","code","detail"}. Times are shown as the device sent them: its local time
// with the offset it stated, or without an offset when it stated none.
import {
  AlarmInactivation,
  AlarmKind,
  AlarmPhase,
  AlarmPriority,
  AlarmState,
  Flag,
  GapReason,
  Kind,
  LinkState,
} from '../proto/index.js';
import type {
  IAlarm,
  IAlarmFacet,
  IDeviceStatus,
  IGap,
  IObservation,
  ITiming,
  IWaveformChunk,
} from '../proto/index.js';
import type { Decoded } from './decoded.js';
import type { DecodeError } from '../lib/errors.js';

export type NdjsonRecord = Record<string, unknown>;

/** Every Flag of the contract by its name (FLAG_OUT_OF_RANGE -> "out-of-range"): derived, so a new flag needs no edit here. */
export const FLAG_NAMES: readonly [number, string][] = Object.entries(Flag)
  .filter(([k, v]) => typeof v === 'number' && v !== 0 && k.startsWith('FLAG_'))
  .map(([k, v]) => [v as number, k.slice(5).toLowerCase().replace(/_/g, '-')] as [number, string])
  .sort((x, y) => x[0] - y[0]);

export function flagNames(flags: number | null | undefined): string[] {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if ((flags ?? 0) & bit) out.push(name);
  return out;
}

/** Device time as sent: local wall time plus the stated offset, or without offset when none was stated. */
export function deviceTimeText(t: ITiming | null | undefined, assumedOffsetMin = 0): string | undefined {
  const us = Number(t?.deviceTimeUs ?? 0);
  if (!us) return undefined;
  const stated = t?.deviceUtcOffsetMin;
  const off = stated ?? assumedOffsetMin;
  const local = new Date(Math.floor(us / 1000) + off * 60_000).toISOString().slice(0, 23);
  if (stated === undefined || stated === null) return local;
  const a = Math.abs(stated);
  return `${local}${stated < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function enumName(e: object, v: number | null | undefined, prefix: string): string | undefined {
  if (!v) return undefined;
  for (const [k, n] of Object.entries(e)) if (n === v) return k.slice(prefix.length).toLowerCase().replace(/_/g, '-');
  return undefined;
}

function base(kind: string, device: string | undefined, rec: NdjsonRecord): NdjsonRecord {
  return device === undefined ? { kind, ...rec } : { kind, device, ...rec };
}

function clean(o: NdjsonRecord): NdjsonRecord {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === '') delete o[k];
  return o;
}

export function observationRecord(o: IObservation, device?: string, assumedOffsetMin = 0): NdjsonRecord {
  const value = o.number ?? (o.code ? o.code.text || o.code.refid || o.code.mdc : undefined) ?? o.text ?? null;
  return base(
    'obs',
    device,
    clean({
      mdc: o.mdc ?? 0,
      refid: o.refid ?? '',
      value,
      unit: o.unit ?? '',
      // The value as the device sent it, when vitalwire converted it (FLAG_DERIVED).
      sentValue: o.sentNumber ?? undefined,
      vendorCode: o.vendorCode ?? '',
      vendorUnit: o.vendorUnit ?? '',
      time: deviceTimeText(o.time, assumedOffsetMin),
      containment: o.containment ?? '',
      method: o.method ?? '',
      flags: flagNames(o.flags),
    }),
  );
}

export function waveRecord(w: IWaveformChunk, device?: string, assumedOffsetMin = 0): NdjsonRecord {
  const scale = w.scale || 1;
  const offset = w.offset ?? 0;
  const invalid = w.invalidValue;
  // Twelve significant digits: raw x scale in binary floating point would otherwise print
  // 0.11721600000000001 for 96 x 0.001221.
  const samples = Array.from(w.samples ?? [], (s) =>
    invalid !== undefined && invalid !== null && s === invalid ? null : Number((s * scale + offset).toPrecision(12)),
  );
  return base(
    'wave',
    device,
    clean({
      mdc: w.mdc ?? 0,
      refid: w.refid ?? '',
      rate: w.sampleRateHz ?? 0,
      firstSample: Number(w.firstSample ?? 0),
      unit: w.unit ?? '',
      vendorCode: w.vendorCode ?? '',
      time: deviceTimeText(w.time, assumedOffsetMin),
      samples,
      flags: flagNames(w.flags),
    }),
  );
}

export function alarmRecord(a: IAlarm, device?: string, assumedOffsetMin = 0): NdjsonRecord {
  return base(
    'alarm',
    device,
    clean({
      id: a.id ?? '',
      mdc: a.mdc ?? 0,
      refid: a.refid ?? '',
      text: a.text ?? '',
      priority: enumName(AlarmPriority, a.priority, 'ALARM_PRIORITY_'),
      alarmKind: enumName(AlarmKind, a.kind, 'ALARM_KIND_'),
      state: enumName(AlarmState, a.state, 'ALARM_STATE_'),
      phase: enumName(AlarmPhase, a.phase, 'ALARM_PHASE_'),
      inactivation: enumName(AlarmInactivation, a.inactivation, 'ALARM_INACTIVATION_'),
      sourceMdc: a.sourceMdc || undefined,
      sourceRefid: a.sourceRefid ?? '',
      sourceValue: a.sourceValue ?? undefined,
      sourceUnit: a.sourceUnit ?? '',
      limitLow: a.limitLow ?? undefined,
      limitHigh: a.limitHigh ?? undefined,
      limits: a.limits ?? '',
      sourceContainment: a.sourceContainment ?? '',
      vendorCode: a.vendorCode ?? '',
      time: deviceTimeText(a.time, assumedOffsetMin),
      facets: a.facets && a.facets.length > 0 ? a.facets.map(facetRecord) : undefined,
      flags: flagNames(a.flags),
    }),
  );
}

function facetRecord(f: IAlarmFacet): NdjsonRecord {
  return clean({
    mdc: f.mdc || undefined,
    refid: f.refid ?? '',
    value: f.value ?? '',
    unit: f.unit ?? '',
    containment: f.containment ?? '',
  });
}

export function gapRecord(g: IGap, device?: string): NdjsonRecord {
  const iso = (us: number | null | undefined) =>
    Number(us ?? 0) ? new Date(Number(us) / 1000).toISOString() : undefined;
  return base(
    'gap',
    device,
    clean({
      stream: enumName(Kind, g.kind, 'KIND_') ?? 'all',
      reason: enumName(GapReason, g.reason, 'GAP_REASON_'),
      fromSeq: g.fromSeq || g.toSeq ? Number(g.fromSeq ?? 0) : undefined,
      toSeq: g.fromSeq || g.toSeq ? Number(g.toSeq ?? 0) : undefined,
      waveMdc: g.waveMdc || undefined,
      fromSample: g.sampleCount ? Number(g.fromSample ?? 0) : undefined,
      sampleCount: g.sampleCount ? Number(g.sampleCount) : undefined,
      from: iso(g.fromTimeUs),
      to: iso(g.toTimeUs),
    }),
  );
}

export function statusRecord(s: IDeviceStatus, device?: string): NdjsonRecord {
  const rec = clean({
    state: enumName(LinkState, s.state, 'LINK_STATE_'),
    reason: s.reason ?? '',
    diagnosis: s.diagnosis ?? '',
    session: s.session ?? '',
    lastFrame: Number(s.lastFrameTimeUs ?? 0) ? new Date(Number(s.lastFrameTimeUs) / 1000).toISOString() : undefined,
  });
  for (const k of ['framesOk', 'framesBad', 'garbageBytes', 'unmapped', 'reconnects', 'queueDepth'] as const)
    if (Number(s[k] ?? 0)) rec[k] = Number(s[k]);
  return base('status', device, rec);
}

export function errorRecord(e: DecodeError): NdjsonRecord {
  return { kind: 'error', code: e.code, detail: e.detail };
}

/** All records of one decoded frame, in payload order: observations, waves, alarms, statuses, gaps. */
export function decodedRecords(d: Decoded, assumedOffsetMin = 0): NdjsonRecord[] {
  const out: NdjsonRecord[] = [];
  for (const o of d.observations) out.push(observationRecord(o, d.device, assumedOffsetMin));
  for (const w of d.waves) out.push(waveRecord(w, d.device, assumedOffsetMin));
  for (const a of d.alarms) out.push(alarmRecord(a, d.device, assumedOffsetMin));
  for (const s of d.statuses ?? []) out.push(statusRecord(s, d.device));
  for (const g of d.gaps ?? []) out.push(gapRecord(g, d.device));
  for (const w of d.warnings) out.push(errorRecord(w));
  return out;
}
