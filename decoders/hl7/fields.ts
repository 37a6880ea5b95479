// Field readers shared by the PCD-01 and PCD-04 decoders: codes, units, flags, equipment
// identity, times. All read from spans of the in-place message.
import { Flag } from '../../proto/index.js';
import { metricByRefId, unitByMdc, unitByRefId, type Metric } from '../mdc.js';
import { component, isEmpty, part, sameBytes, spanEquals, spanLength, spanStart, viewOf, type Hl7Message, type Span } from './message.js';
import { createSpanCache, readNumber, readText, type Interner, type SpanCache } from './text.js';
import { parseHl7Time, type Hl7Time } from './time.js';
import { PLAIN_UNITS, VITALRECORDER_TRACKS } from './vendor-codes.js';
import { METRICS } from '../mdc.js';

export interface CodeInfo {
  /** The field as sent, for vendorCode. */
  vendor: string;
  metric: Metric | undefined;
  /** The number the sender put in component 1 (0 when absent or not a number). */
  sentCode: number;
  refid: string;
  /** Sender's code contradicts the reference id: trust neither silently. */
  mismatch: boolean;
  /** Sample rate carried in a VitalRecorder track name (`ECG_II@100`). */
  rateFromCode: number;
}

/** OBX-3 / CWE code: `<code>^<refid>^MDC`, or a vendor form mapped through vendor-codes.ts. */
export function readCode(m: Hl7Message, s: Span, intern: Interner): CodeInfo {
  const c1 = component(m, s, 1);
  const c2 = component(m, s, 2);
  const sent = readNumber(m.buf, c1);
  const refid = intern.get(m, c2);
  let metric = metricByRefId(refid);
  let rateFromCode = 0;
  if (!metric && refid.includes('/')) {
    // VitalRecorder: <Device>/<Track>[@rate]
    const track = refid.slice(refid.indexOf('/') + 1);
    const at = track.indexOf('@');
    const name = at === -1 ? track : track.slice(0, at);
    if (at !== -1) rateFromCode = Number(track.slice(at + 1)) || 0;
    const key = VITALRECORDER_TRACKS[name];
    if (key) metric = METRICS[key];
  }
  const sentCode = Number.isFinite(sent) ? sent : 0;
  // A number that is not the refid's code (e.g. 131330, lead II, sent as MDC_PULS_OXIM_PLETH): one
  // of the two is wrong. Code 0 is legitimate ("not given").
  const mismatch = metric !== undefined && sentCode !== 0 && sentCode !== metric.mdc;
  return { vendor: readText(m, s), metric, sentCode, refid, mismatch, rateFromCode };
}

export interface UnitInfo {
  /** The field as sent, for vendorUnit. */
  vendor: string;
  ucum: string;
  mdc: number;
  mismatch: boolean;
  /** Multiplier from a scaled UCUM unit such as Philips' `10.mV/4096` (else 1). */
  scale: number;
}

const SCALED = /^([0-9.]+)\.([A-Za-z[\]%/]+)\/([0-9.]+)$/;

/** OBX-6: `<code>^<MDC_DIM_..>^MDC`, `<ucum>^<ucum>^UCUM`, or a plain unit. */
export function readUnit(m: Hl7Message, s: Span, intern: Interner): UnitInfo {
  if (isEmpty(s)) return NO_UNIT;
  const vendor = readText(m, s);
  const c1 = component(m, s, 1);
  const c2 = component(m, s, 2);
  const c3 = component(m, s, 3);
  const refid = intern.get(m, c2);
  if (refid.startsWith('MDC_DIM')) {
    const byRef = unitByRefId(refid);
    const code = readNumber(m.buf, c1);
    const byCode = Number.isFinite(code) ? unitByMdc(code) : undefined;
    if (byRef) return { vendor, ucum: byRef.ucum, mdc: byRef.mdc, mismatch: byCode !== undefined && byCode !== byRef, scale: 1 };
    if (byCode) return { vendor, ucum: byCode.ucum, mdc: byCode.mdc, mismatch: true, scale: 1 };
    return { vendor, ucum: '', mdc: 0, mismatch: false, scale: 1 };
  }
  const text = intern.get(m, c1);
  if (spanEquals(m.buf, c3, 'UCUM') || !isEmpty(c1)) {
    const plain = PLAIN_UNITS[text];
    if (plain !== undefined) return { vendor, ucum: plain, mdc: 0, mismatch: false, scale: 1 };
    const sc = SCALED.exec(text);
    if (sc) {
      const base = PLAIN_UNITS[sc[2] as string];
      const num = Number(sc[1]);
      const den = Number(sc[3]);
      if (base !== undefined && num > 0 && den > 0) return { vendor, ucum: base, mdc: 0, mismatch: false, scale: num / den };
    }
  }
  return { vendor, ucum: '', mdc: 0, mismatch: false, scale: 1 };
}

export const NO_UNIT: UnitInfo = Object.freeze({ vendor: '', ucum: '', mdc: 0, mismatch: false, scale: 1 });
export const NO_CODE: CodeInfo = Object.freeze({ vendor: '', metric: undefined, sentCode: 0, refid: '', mismatch: false, rateFromCode: 0 });

/** Per-decoder caches of decoded OBX-3 codes and OBX-6 units, keyed by their bytes. */
export function createCodeCaches(intern: Interner): { codes: SpanCache<CodeInfo>; units: SpanCache<UnitInfo> } {
  return {
    codes: createSpanCache((m, s) => readCode(m, s, intern), NO_CODE),
    units: createSpanCache((m, s) => readUnit(m, s, intern), NO_UNIT),
  };
}

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
      if (lens[w] === len && offs[w] === off && sameBytes(views[w] as DataView, 0, m.view, start, len)) return vals[w] as Hl7Time | null;
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
