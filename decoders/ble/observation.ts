// Builds one IObservation from a decoded GATT field. The per-field constants (code, unit,
// vendor code) live in module-level ObsSpec objects, so a sample allocates only its
// observation. Special float values and device status bits become Flag bits here:
// NaN/NRes -> UNAVAILABLE (no value); the reserved code -> UNAVAILABLE + QUESTIONABLE;
// +INF/-INF -> OUT_OF_RANGE with the text "+INF"/"-INF" (JSON and the dashboard have no
// infinity, and the direction matters). UNAVAILABLE always means the value is unset.
import { Flag, type IObservation, type ITiming } from '../../proto/index.js';
import type { Metric, UnitCode } from '../mdc.js';
import { FloatKind, sfloatKind, sfloatValue } from './sfloat.js';

export interface ObsSpec {
  /** Undefined for a field without an MDC code: it leaves with FLAG_UNMAPPED. */
  readonly metric: Metric | undefined;
  /** UCUM unit of the value as sent, and its MDC_DIM code (0 when none is verified). */
  readonly unit: string;
  readonly unitMdc: number;
  /** "0x<characteristic>/<field>", e.g. "0x2A5F/spo2". */
  readonly vendorCode: string;
  /** The GATT specification's unit, e.g. "bpm", "1/1024 s". */
  readonly vendorUnit: string;
  /** Measurement modality or site, e.g. "MDC_MODALITY_FAST", "mouth". */
  readonly method?: string;
}

export function spec(
  metric: Metric | undefined,
  unit: UnitCode | string,
  vendorCode: string,
  vendorUnit: string,
  method?: string,
): ObsSpec {
  const u = typeof unit === 'string' ? { ucum: unit, mdc: 0 } : unit;
  return { metric, unit: u.ucum, unitMdc: u.mdc, vendorCode, vendorUnit, ...(method !== undefined ? { method } : {}) };
}

/** Flag bits a special float value stands for (0 for a number). */
export function kindFlags(kind: FloatKind): number {
  switch (kind) {
    case FloatKind.NAN:
    case FloatKind.NRES:
      return Flag.FLAG_UNAVAILABLE;
    case FloatKind.RESERVED:
      return Flag.FLAG_UNAVAILABLE | Flag.FLAG_QUESTIONABLE;
    case FloatKind.POS_INF:
    case FloatKind.NEG_INF:
      return Flag.FLAG_OUT_OF_RANGE;
    default:
      return 0;
  }
}

/** An observation of `value` (of float kind `kind`) with the given extra flags. */
export function observation(
  s: ObsSpec,
  kind: FloatKind,
  value: number,
  extraFlags: number,
  time: ITiming,
): IObservation {
  let flags = extraFlags | kindFlags(kind);
  if (!s.metric) flags |= Flag.FLAG_UNMAPPED;
  const o: IObservation = {
    time,
    mdc: s.metric ? s.metric.mdc : 0,
    refid: s.metric ? s.metric.refid : '',
    unit: s.unit,
    unitMdc: s.unitMdc,
    vendorCode: s.vendorCode,
    vendorUnit: s.vendorUnit,
    flags,
  };
  if (s.method !== undefined) o.method = s.method;
  if (flags & Flag.FLAG_UNAVAILABLE) return o;
  if (kind === FloatKind.POS_INF) o.text = '+INF';
  else if (kind === FloatKind.NEG_INF) o.text = '-INF';
  else o.number = value;
  return o;
}

/** Timing of a frame's values: gateway receive time, and the device time when it sent one. */
export function timing(gatewayTimeUs: number, deviceTimeUs: number): ITiming {
  return { gatewayTimeUs, deviceTimeUs };
}

/** An observation of a raw SFLOAT. */
export function sfloatObservation(s: ObsSpec, raw: number, extraFlags: number, time: ITiming): IObservation {
  return observation(s, sfloatKind(raw), sfloatValue(raw), extraFlags, time);
}
