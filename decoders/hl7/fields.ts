// Field readers shared by the PCD-01 and PCD-04 decoders: codes, units, flags, equipment
// identity, times. All read from spans of the in-place message.
import { Flag } from '../../proto/index.js';
import { isMetricCode, metricByMdc, metricByRefId, type Metric } from '../mdc.js';
import { mdcUnit, readUnitText, type UnitReading } from '../units/units.js';
import { hexPartitionTerm, isAlertSystem, isHexPartitionTermSystem, localCode } from '../vendor-maps/index.js';
import {
  component,
  isEmpty,
  part,
  sameBytes,
  spanEquals,
  spanLength,
  spanStart,
  viewOf,
  type Hl7Message,
  type Span,
} from './message.js';
import { createSpanCache, readNumber, readText, type Interner, type SpanCache } from './text.js';
import { parseHl7Time, type Hl7Time } from './time.js';

export interface CodeInfo {
  /** The field as sent, for vendorCode. */
  vendor: string;
  /** The table entry that enriches the code (canonical unit, dimensions); undefined when unknown. */
  metric: Metric | undefined;
  /** The MDC code published: the sender's when it is a valid metric code, else the table's; 0 = not MDC. */
  mdc: number;
  /** The reference id published with it ('' when none). */
  name: string;
  /** The number the sender put in component 1 (0 when absent or not a number). */
  sentCode: number;
  /** Component 2 as sent: attribute rows are matched on it (vendors number attributes differently). */
  refid: string;
  /** Sender's code contradicts its reference id (or our table): trust neither silently. */
  mismatch: boolean;
  /** Sample rate carried in a VitalRecorder track name (`ECG_II@100`). */
  rateFromCode: number;
  /** A free-text alarm row's coding system (Philips MDIL-ALERT); '' for other rows. */
  alertSystem: string;
}

const MDC_REFID = /^MDC_[A-Za-z0-9_]+$/;

/**
 * OBX-3 / CWE code. A code the sender states in the MDC coding system (`<code>^<refid>^MDC`, the
 * CWE alternate `...^<code>^<refid>^MDC` beside a local code, or hexadecimal `<partition>-<term>`
 * in a vendor system such as Philips MDIL) is kept when it is a valid metric code
 * (decoders/mdc.ts isMetricCode), known to our table or not; the table only enriches it and
 * flags a contradiction. Local codes go through the vendor maps; the rest are unmapped.
 */
export function readCode(m: Hl7Message, s: Span, intern: Interner): CodeInfo {
  const vendor = readText(m, s);
  const refid = intern.get(m, component(m, s, 2));
  const system = readText(m, component(m, s, 3));
  let code = NaN;
  let name = '';
  let rateFromCode = 0;
  let local: string | undefined;
  if (isAlertSystem(system)) {
    return {
      vendor,
      metric: undefined,
      mdc: 0,
      name: '',
      sentCode: 0,
      refid,
      mismatch: false,
      rateFromCode: 0,
      alertSystem: system,
    };
  }
  if (system === 'MDC' || (system === '' && MDC_REFID.test(refid))) {
    code = readNumber(m.buf, component(m, s, 1));
    name = refid;
  } else if (isHexPartitionTermSystem(system)) {
    // HL7 CWE-3 "MDIL": the identifier is the partition and term in hexadecimal; component 2 is a label.
    code = hexPartitionTerm(readText(m, component(m, s, 1)));
  } else if (readText(m, component(m, s, 6)) === 'MDC') {
    // HL7 v2 CWE-4..6: the alternate identifier, here in MDC, beside the sender's local code.
    code = readNumber(m.buf, component(m, s, 4));
    name = readText(m, component(m, s, 5));
  } else if (refid.includes('/')) {
    // VitalRecorder: <Device>/<Track>[@rate]
    const track = refid.slice(refid.indexOf('/') + 1);
    const at = track.indexOf('@');
    if (at !== -1) rateFromCode = Number(track.slice(at + 1)) || 0;
    local = localCode(at === -1 ? track : track.slice(0, at));
  } else {
    local = localCode(readText(m, component(m, s, 1)));
  }
  if (local !== undefined) name = local;
  const sentCode = Number.isFinite(code) ? code : 0;
  const r = resolveMetric(sentCode, MDC_REFID.test(name) ? name : '');
  return {
    vendor,
    metric: r.metric,
    mdc: r.mdc,
    name: r.name,
    sentCode,
    refid,
    mismatch: r.mismatch,
    rateFromCode,
    alertSystem: '',
  };
}

/**
 * The code to publish for a stated number and reference id. The verified table pair wins over a
 * contradicting number (131330 sent as MDC_PULS_OXIM_PLETH); a valid number unknown to the table
 * is kept with the sent reference id; a number outside the metric partitions is not trusted.
 */
export function resolveMetric(
  code: number,
  refid: string,
): { metric: Metric | undefined; mdc: number; name: string; mismatch: boolean } {
  const byRef = refid ? metricByRefId(refid) : undefined;
  const valid = isMetricCode(code);
  if (byRef) {
    // Code 0 is legitimate ("not given"); any other number must be the reference id's.
    return { metric: byRef, mdc: byRef.mdc, name: byRef.refid, mismatch: code !== 0 && code !== byRef.mdc };
  }
  if (!valid) return { metric: undefined, mdc: 0, name: '', mismatch: false };
  const byCode = metricByMdc(code);
  if (byCode)
    return { metric: byCode, mdc: code, name: byCode.refid, mismatch: refid !== '' && refid !== byCode.refid };
  return { metric: undefined, mdc: code, name: refid, mismatch: false };
}

export interface UnitInfo {
  /** The field as sent, for vendorUnit. */
  vendor: string;
  /** What the field says as a unit (decoders/units/units.ts); undefined when it says nothing usable. */
  reading: UnitReading | undefined;
  /** UCUM of the reading ('' when none): the unit of waveform samples. */
  ucum: string;
  mdc: number;
  /** The MDC dimension code contradicts its reference id. */
  mismatch: boolean;
  /** Multiplier from a scaled UCUM unit such as Philips' `10.mV/4096` (else 1). */
  scale: number;
}

const SCALED = /^([0-9.]+)\.([A-Za-z[\]%/]+)\/([0-9.]+)$/;

function unitInfo(vendor: string, reading: UnitReading | undefined, mismatch = false, scale = 1): UnitInfo {
  return { vendor, reading, ucum: reading ? reading.ucum : '', mdc: reading ? reading.mdc : 0, mismatch, scale };
}

/**
 * OBX-6: `<code>^<MDC_DIM_..>^MDC`, `<ucum>^<text>^UCUM`, `<partition>-<term>^<text>^MDIL`, or a
 * plain unit. Runs once per distinct OBX-6 bytes (the span cache), so ucum-lhc is never per value.
 */
export function readUnit(m: Hl7Message, s: Span, intern: Interner): UnitInfo {
  if (isEmpty(s)) return NO_UNIT;
  const vendor = readText(m, s);
  const c1 = readText(m, component(m, s, 1));
  const c2 = intern.get(m, component(m, s, 2));
  const system = readText(m, component(m, s, 3));
  if (c2.startsWith('MDC_DIM') || system === 'MDC') {
    const r = mdcUnit(readNumber(m.buf, component(m, s, 1)), c2.startsWith('MDC_DIM') ? c2 : '');
    return unitInfo(vendor, r.reading, r.mismatch);
  }
  if (isHexPartitionTermSystem(system)) {
    const r = mdcUnit(hexPartitionTerm(c1), '');
    // The vendor's text (bpm, °C, mmHg) when the code is not one we know.
    return unitInfo(vendor, r.reading ?? readUnitText(c2), r.mismatch);
  }
  const sc = SCALED.exec(c1);
  if (sc) {
    const base = readUnitText(sc[2] as string);
    const num = Number(sc[1]);
    const den = Number(sc[3]);
    if (base !== undefined && num > 0 && den > 0) return unitInfo(vendor, base, false, num / den);
  }
  return unitInfo(vendor, readUnitText(c1) ?? (system === 'UCUM' && c2 ? readUnitText(c2) : undefined));
}

export const NO_UNIT: UnitInfo = Object.freeze({
  vendor: '',
  reading: undefined,
  ucum: '',
  mdc: 0,
  mismatch: false,
  scale: 1,
});
export const NO_CODE: CodeInfo = Object.freeze({
  vendor: '',
  metric: undefined,
  mdc: 0,
  name: '',
  sentCode: 0,
  refid: '',
  mismatch: false,
  rateFromCode: 0,
  alertSystem: '',
});

/** Per-decoder caches of decoded OBX-3 codes and OBX-6 units, keyed by their bytes. */
export function createCodeCaches(intern: Interner): { codes: SpanCache<CodeInfo>; units: SpanCache<UnitInfo> } {
  return {
    codes: createSpanCache((m, s) => readCode(m, s, intern), NO_CODE),
    units: createSpanCache((m, s) => readUnit(m, s, intern), NO_UNIT),
  };
}

/**
 * OBX-11 observation result status (HL7 v2 Table 0085) as flags, and whether OBX-5 may be read.
 * F final, C corrected, R entered not verified (what devices send), U changed to final, A amended,
 * B appended, empty (HL7 2.3-era senders): valid. P preliminary, S partial: provisional
 * (FLAG_EARLY_ESTIMATE). X cannot be obtained, N not asked, I pending, O order detail only: no
 * result (FLAG_UNAVAILABLE, value unset even if present). D delete, W posted as wrong: withdrawn
 * (FLAG_RETRACTED, value unset). Anything else is not a status this table defines: doubted.
 */
export function resultStatus(m: Hl7Message, s: Span): { flags: number; noValue: boolean } {
  if (isEmpty(s)) return STATUS_VALID;
  const t = m.buf.toString('latin1', spanStart(s), spanStart(s) + Math.min(spanLength(s), 2)).trim();
  return RESULT_STATUS[t] ?? STATUS_UNKNOWN;
}

const STATUS_VALID = Object.freeze({ flags: 0, noValue: false });
const STATUS_UNKNOWN = Object.freeze({ flags: Flag.FLAG_QUESTIONABLE, noValue: false });
const NO_RESULT = Object.freeze({ flags: Flag.FLAG_UNAVAILABLE, noValue: true });
const WITHDRAWN = Object.freeze({ flags: Flag.FLAG_RETRACTED, noValue: true });
const PROVISIONAL = Object.freeze({ flags: Flag.FLAG_EARLY_ESTIMATE, noValue: false });
const RESULT_STATUS: Readonly<Record<string, { flags: number; noValue: boolean }>> = {
  F: STATUS_VALID,
  C: STATUS_VALID,
  R: STATUS_VALID,
  U: STATUS_VALID,
  A: STATUS_VALID,
  B: STATUS_VALID,
  '': STATUS_VALID,
  P: PROVISIONAL,
  S: PROVISIONAL,
  X: NO_RESULT,
  N: NO_RESULT,
  I: NO_RESULT,
  O: NO_RESULT,
  D: WITHDRAWN,
  W: WITHDRAWN,
};

/** OBX-8 abnormal flags (HL7 Table 0078) and Mindray's DEMO, as Flag bits. */
export function readAbnormalFlags(m: Hl7Message, s: Span): number {
  if (isEmpty(s)) return 0;
  let flags = 0;
  const rs = m.delims.repetition;
  for (let k = 1; ; k++) {
    const r = part(m.buf, s, rs, k);
    if (r < 0) break;
    if (spanEquals(m.buf, r, 'DEMO')) flags |= Flag.FLAG_DEMO;
    else if (spanEquals(m.buf, r, 'TEST')) flags |= Flag.FLAG_TEST;
    else if (isAbnormal(m.buf, r)) flags |= Flag.FLAG_ABNORMAL;
  }
  return flags;
}

const ABNORMAL = ['L', 'H', 'LL', 'HH', '<', '>', 'A', 'AA', 'LU', 'HU'];
function isAbnormal(buf: Buffer, s: Span): boolean {
  for (const a of ABNORMAL) if (spanEquals(buf, s, a)) return true;
  return false;
}

const HEX_ID = /^[0-9A-Fa-f]{12,16}$/;

/**
 * Equipment identity in an EI (IHE PCD TF-2: `<EUI-64>^<name>^<EUI-64>^EUI-64`, or
 * `<name>^<EUI-64>^EUI-64` in MSH-3/4). Returns the id upper-cased, and the name if any.
 */
export function readEquipment(m: Hl7Message, s: Span): { id?: string; name?: string } {
  if (isEmpty(s)) return NO_EQUIPMENT;
  // Find which component says EUI-64 before reading any text: most OBX-18s are absent or plain.
  let idAt: number;
  let nameAt = 0;
  if (spanEquals(m.buf, component(m, s, 4), 'EUI-64')) {
    idAt = 3;
    nameAt = 2;
  } else if (spanEquals(m.buf, component(m, s, 3), 'EUI-64')) {
    idAt = 2;
    nameAt = 1;
  } else if (spanEquals(m.buf, component(m, s, 2), 'EUI-64')) {
    idAt = 1; // Draeger: `<EUI-64>^EUI-64`
  } else {
    return NO_EQUIPMENT;
  }
  let id = readText(m, component(m, s, idAt));
  if (!HEX_ID.test(id) && idAt === 3) id = readText(m, component(m, s, 1));
  if (!HEX_ID.test(id)) return NO_EQUIPMENT;
  const out: { id?: string; name?: string } = { id: id.toUpperCase() };
  const name = nameAt ? readText(m, component(m, s, nameAt)).trim() : '';
  if (name) out.name = name;
  return out;
}

const NO_EQUIPMENT: { id?: string; name?: string } = Object.freeze({});

/**
 * Parses DTM spans with a small cache keyed by their bytes: every OBX of a message usually
 * repeats one time, and a waveform OBR alternates between its start and end.
 */
export function createTimeReader(): (m: Hl7Message, s: Span, defaultOffsetMin: number) => Hl7Time | null | undefined {
  const WAYS = 4;
  const keys: Buffer[] = Array.from({ length: WAYS }, () => Buffer.alloc(32));
  const views: DataView[] = keys.map(viewOf);
  const lens = new Int32Array(WAYS).fill(-1);
  const offs = new Float64Array(WAYS);
  const vals: (Hl7Time | null)[] = new Array<Hl7Time | null>(WAYS).fill(null);
  let next = 0;
  return (m, s, off) => {
    if (isEmpty(s)) return undefined;
    const buf = m.buf;
    let start = spanStart(s);
    let end = start + spanLength(s);
    while (start < end && buf[start] === 0x20) start++;
    while (end > start && buf[end - 1] === 0x20) end--;
    const len = end - start;
    for (let w = 0; w < WAYS; w++) {
      if (lens[w] === len && offs[w] === off && sameBytes(views[w] as DataView, 0, m.view, start, len))
        return vals[w] as Hl7Time | null;
    }
    const w = next;
    next = (next + 1) % WAYS;
    if (len > (keys[w] as Buffer).length) {
      keys[w] = Buffer.alloc(len);
      views[w] = viewOf(keys[w] as Buffer);
    }
    buf.copy(keys[w] as Buffer, 0, start, end);
    lens[w] = len;
    offs[w] = off;
    const v = parseHl7Time(buf.toString('latin1', start, end), off);
    vals[w] = v;
    return v;
  };
}
