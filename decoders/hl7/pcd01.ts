// IHE PCD-01 (DEC) ORU^R01 — and its HL7 2.4 waveform sibling ORU^W01 — to Observations and
// WaveformChunks (IHE PCD TF-2 B.8, WCM for waveforms). Per-link state: waveform sample
// counters, so first_sample runs on across messages.
import {
  AlarmKind,
  AlarmPriority,
  Flag,
  GapReason,
  Kind,
  type IAlarm,
  type IGap,
  type IObservation,
  type ITiming,
  type IWaveformChunk,
} from '../../proto/index.js';
import { alertMeaning } from '../vendor-maps/index.js';
import { PRE_ENCODED, preEncodeStatic } from '../../proto/encode-batch.js';
import { decodeError, type DecodeError } from '../../lib/errors.js';
import type { DecodeContext } from '../decoded.js';
import {
  component,
  isEmpty,
  makeSpan,
  sameBytes,
  spanEnd,
  spanEquals,
  spanStart,
  viewOf,
  type Hl7Message,
  type Span,
} from './message.js';
import { readNumber, readText, type Interner, type SpanCache } from './text.js';
import {
  readAbnormalFlags,
  readEquipment,
  resultStatus,
  type CodeInfo,
  type UnitInfo,
  type createTimeReader,
} from './fields.js';
import { convert, fitUnit, type Conversion, type FittedUnit } from '../units/units.js';

const NOT_NUMERIC: FittedUnit = Object.freeze({ ucum: '', mdc: 0, flags: 0 });

/** Vendors' "no measurement" values (XH80X sends -999 and -99.9); no vital sign takes them. */
const NO_VALUE_SENTINELS = new Set([-999, -99.9, -9999]);

export interface WaveState {
  next: number; // first_sample of the next chunk
  nextStartUs: number; // expected start time of the next chunk (0 = unknown)
}

export interface MessageContext {
  m: Hl7Message;
  ctx: DecodeContext;
  intern: Interner;
  codes: SpanCache<CodeInfo>;
  units: SpanCache<UnitInfo>;
  readTime: ReturnType<typeof createTimeReader>;
  waves: Map<string, WaveState>;
  /** Scratch for waveform samples being parsed, grown to the longest array seen. */
  mantissas: Int32Array;
  decimals: Uint8Array;
  /** OBX rows of the previous message, by segment index (see rowInfo). */
  rows: (RowInfo | undefined)[];
  /** OBX-5 and OBX-14 of the row rowInfo last looked at. */
  valueSpan: Span;
  timeSpan: Span;
}

interface PendingWave {
  chunk: IWaveformChunk;
  row: RowInfo;
  containment: string;
  values: Span;
  unitScale: number;
  valueUnit: string;
  startUs: number;
  endUs: number;
  rateFromCode: number;
}

export interface Pcd01Result {
  observations: IObservation[];
  waves: IWaveformChunk[];
  /** Free-text alarm rows (Philips `TX` rows coded MDIL-ALERT) found among the values. */
  alarms: IAlarm[];
  /** Holes in a waveform's own stream (a window the device skipped). */
  gaps: IGap[];
  warnings: DecodeError[];
  device?: string;
  model?: string;
}

export function decodePcd01Body(c: MessageContext, msgTimeUs: number, msgOffset: number | undefined): Pcd01Result {
  const { m, ctx, intern } = c;
  const out: Pcd01Result = { observations: [], waves: [], alarms: [], gaps: [], warnings: [] };
  const off = ctx.defaultUtcOffsetMin ?? 0;
  let obrStartUs = 0;
  let obrEndUs = 0;
  let obrOffset: number | undefined;
  let pending: PendingWave | undefined;
  let obrDevice: string | undefined;
  let lastTime: ITiming | undefined;

  for (let seg = 1; seg < m.segmentCount; seg++) {
    const slot = seg * 4; // cache slots: this row's OBX-3, OBX-4, OBX-6
    if (m.segmentIs(seg, 'OBR')) {
      if (pending) finishWave(c, pending, out);
      pending = undefined;
      const t7 = c.readTime(m, m.field(seg, 7), off);
      const t8 = c.readTime(m, m.field(seg, 8), off);
      obrStartUs = t7 ? t7.us : 0;
      obrOffset = t7 ? t7.offsetMin : undefined;
      obrEndUs = t8 ? t8.us : 0;
      // OBR-3 often names the sender (a gateway); OBX-18's bedside device wins when present.
      if (!obrDevice) obrDevice = readEquipment(m, m.field(seg, 3)).id;
      continue;
    }
    if (!m.segmentIs(seg, 'OBX')) continue;

    const row = rowInfo(c, seg, slot);
    const code = row.code;
    if (row.eq.id && !out.device) out.device = row.eq.id;
    if (row.eq.name && !out.model) out.model = row.eq.name;
    if (row.type === ROW_HEADER) continue; // header row (MDS/VMD/CHAN containment): identity only

    const containment = row.containment;
    // Attribute rows describe the wave before them: match by reference id, never by number
    // (vendors number MDC_ATTR_NU_MSMT_RES 2327 or 67917, MDC_EVT_INOP 196660 or 262196).
    if (pending && (containment === '' || pending.containment === '' || isChildOf(containment, pending.containment))) {
      if (applyWaveAttribute(c, row, pending)) continue;
    }
    if (row.isAttribute) continue; // an attribute of something we do not model (filter label...)

    const t14 = c.readTime(m, c.timeSpan, off);
    if (t14 === null) out.warnings.push(decodeError('VW_ERR_HL7_BAD_TIME', `OBX-${seg} OBX-14`));
    const timeUs = t14 ? t14.us : obrStartUs || msgTimeUs;
    const timeOffset = t14 ? t14.offsetMin : obrStartUs ? obrOffset : msgOffset;
    const flags = row.flags;
    // Rows of one message mostly share one time: they share one Timing object (the gateway's
    // clock stamping sets the same offset on all of a frame's payloads).
    let time = lastTime;
    if (time === undefined || time.deviceTimeUs !== timeUs || time.deviceUtcOffsetMin !== timeOffset) {
      time = { gatewayTimeUs: ctx.gatewayTimeUs, deviceTimeUs: timeUs };
      if (timeOffset !== undefined) time.deviceUtcOffsetMin = timeOffset;
      lastTime = time;
    }
    const vendorCode = code.vendor;

    if (code.alertSystem) {
      out.alarms.push(alertRowAlarm(c, code, row, time));
      continue;
    }
    if (row.type === ROW_WAVE) {
      if (pending) finishWave(c, pending, out);
      const unit = row.unit;
      pending = {
        chunk: {
          time: { ...time }, // its own: finishWave sets the window start on it
          mdc: code.mdc,
          refid: code.name,
          vendorCode,
          unit: unit.ucum,
          flags,
        },
        row,
        containment,
        values: c.valueSpan,
        unitScale: unit.scale,
        valueUnit: unit.ucum,
        startUs: obrStartUs || timeUs,
        endUs: obrEndUs,
        rateFromCode: code.rateFromCode,
      };
      continue;
    }

    const obs: IObservation = {
      time,
      mdc: code.mdc,
      refid: code.name,
      vendorCode,
      vendorUnit: row.unit.vendor,
      containment,
      flags,
    };
    if (row.method !== undefined) obs.method = row.method;
    if (row.range !== undefined) obs.range = row.range;

    if (row.type === ROW_NUMERIC) {
      const value = c.valueSpan;
      obs.unit = row.unitUcum;
      if (row.unitMdc) obs.unitMdc = row.unitMdc;
      // These fields are the row's own and never change: encoded once per row (proto/encode-batch.ts).
      row.pre ??= preEncodeStatic(obs);
      (obs as { [PRE_ENCODED]?: Uint8Array })[PRE_ENCODED] = row.pre;
      obs.flags = flags | row.numericFlags;
      if (row.noValue) {
        // OBX-11 X/N/I/O (no result) or D/W (withdrawn): whatever OBX-5 holds is not a measurement.
      } else if (isEmpty(value)) {
        // An empty OBX-5 (Philips: "?" on the screen): keep the row as "unavailable".
        obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNAVAILABLE;
      } else {
        const v = readNumber(m.buf, value) * row.unit.scale;
        if (!Number.isFinite(v)) {
          out.warnings.push(decodeError('VW_ERR_HL7_BAD_VALUE', `OBX-${seg}: NM value not a number`));
          continue;
        }
        if (NO_VALUE_SENTINELS.has(v)) obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNAVAILABLE;
        else if (row.conversion) {
          // UCUM: an exact conversion to the metric's canonical unit (FLAG_DERIVED is in numericFlags).
          obs.sentNumber = v;
          obs.number = convert(row.conversion, v);
        } else obs.number = v;
      }
      out.observations.push(obs);
      continue;
    }
    // Enumerations: CWE/CE/CNE carry a code (`<code>^<refid>^MDC`), ST/TX text. An ST value that
    // is itself an MDC reference id (Philips: MDC_ECG_PACED_RHY) is kept as a code.
    const value = c.valueSpan;
    if (row.noValue) {
      // OBX-11 says there is no valid value (flags set in rowInfo).
    } else if (isEmpty(value)) {
      obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNAVAILABLE;
    } else if (row.type === ROW_CODED) {
      const n = readNumber(m.buf, component(m, value, 1));
      obs.code = {
        mdc: Number.isFinite(n) ? n : 0,
        refid: intern.get(m, component(m, value, 2)),
        text: readText(m, component(m, value, 1)),
      };
    } else {
      const text = readText(m, value);
      if (/^MDC_[A-Z0-9_]+$/.test(text)) obs.code = { mdc: 0, refid: text, text };
      else obs.text = text;
    }
    out.observations.push(obs);
  }
  if (pending) finishWave(c, pending, out);
  if (!out.device && obrDevice) out.device = obrDevice;
  return out;
}

/**
 * A free-text alarm row (Philips Data Export: `OBX||TX|2^Yellow Alarm^MDIL-ALERT||HR Low, HR=55 /min`):
 * the alert code's meaning comes from the vendor map (decoders/vendor-maps/philips.ts); the text is
 * what the monitor shows. No MDC event code is stated, so the alarm is unmapped.
 */
function alertRowAlarm(c: MessageContext, code: CodeInfo, row: RowInfo, time: ITiming): IAlarm {
  const m = c.m;
  const text = readText(m, c.valueSpan);
  const key = readText(m, component(m, m.field(row.seg, 3), 1));
  const meaning = alertMeaning(code.alertSystem, key);
  const a: IAlarm = {
    id: `${code.alertSystem}:${key}:${text}`,
    time: { ...time },
    mdc: 0,
    refid: '',
    text,
    vendorCode: code.vendor,
    flags: row.flags | Flag.FLAG_UNMAPPED,
  };
  if (meaning?.priority) a.priority = ALERT_PRIORITY[meaning.priority];
  if (meaning?.kind) a.kind = ALERT_KIND[meaning.kind];
  return a;
}

const ALERT_PRIORITY = {
  high: AlarmPriority.ALARM_PRIORITY_HIGH,
  medium: AlarmPriority.ALARM_PRIORITY_MEDIUM,
  low: AlarmPriority.ALARM_PRIORITY_LOW,
  none: AlarmPriority.ALARM_PRIORITY_NONE,
} as const;
const ALERT_KIND = {
  physiological: AlarmKind.ALARM_KIND_PHYSIOLOGICAL,
  technical: AlarmKind.ALARM_KIND_TECHNICAL,
  advisory: AlarmKind.ALARM_KIND_ADVISORY,
} as const;

/** `a` names a part of `parent` ("1.7.6.131330.1" of "1.7.6.131330"), without building "parent.". */
function isChildOf(a: string, parent: string): boolean {
  return a.length > parent.length && a.charCodeAt(parent.length) === 0x2e && a.startsWith(parent);
}

/** Applies an attribute row to the wave before it; its value is c.valueSpan (see rowInfo). */
function applyWaveAttribute(c: MessageContext, row: RowInfo, w: PendingWave): boolean {
  const m = c.m;
  const value = c.valueSpan;
  switch (row.code.refid) {
    case 'MDC_ATTR_SAMP_RATE': {
      const r = readNumber(m.buf, value);
      if (Number.isFinite(r) && r > 0) w.chunk.sampleRateHz = r;
      return true;
    }
    case 'MDC_ATTR_NU_MSMT_RES': {
      const r = readNumber(m.buf, value);
      if (Number.isFinite(r) && r > 0) w.unitScale = r;
      const u = row.unit; // OBX-6, decoded when the row was first seen
      if (u.mismatch) w.chunk.flags = (w.chunk.flags ?? 0) | Flag.FLAG_QUESTIONABLE;
      // Dimensionless resolution (pleth) leaves the wave unitless; a physical one names the unit.
      w.valueUnit = u.ucum === '1' ? w.valueUnit || '1' : u.ucum || w.valueUnit;
      return true;
    }
    case 'MDC_EVT_INOP': {
      // Mindray: the value a sample takes when invalid (32767).
      const r = readNumber(m.buf, value);
      if (Number.isInteger(r)) w.chunk.invalidValue = r;
      return true;
    }
    default:
      return false;
  }
}

function waveState(c: MessageContext, chunk: IWaveformChunk): WaveState {
  const key = chunk.refid || chunk.vendorCode || '';
  let st = c.waves.get(key);
  if (!st) {
    st = { next: 0, nextStartUs: 0 };
    c.waves.set(key, st);
  }
  return st;
}

/**
 * The Gap for `missing` samples skipped before a window starting at `startUs` (device clock).
 * Its times are on the gateway clock, estimated by taking the frame's receive time as the end
 * of its window (`windowEndUs`); the sample indices are exact.
 */
function skippedGap(
  c: MessageContext,
  chunk: IWaveformChunk,
  st: WaveState,
  missing: number,
  startUs: number,
  windowEndUs: number,
): IGap {
  const toGateway = c.ctx.gatewayTimeUs - windowEndUs;
  return {
    kind: Kind.KIND_WAVE,
    waveMdc: chunk.mdc ?? 0,
    fromSample: st.next,
    sampleCount: missing,
    fromTimeUs: st.nextStartUs + toGateway,
    toTimeUs: startUs + toGateway,
    reason: GapReason.GAP_REASON_DEVICE_SKIPPED,
  };
}

function finishWave(c: MessageContext, w: PendingWave, out: Pcd01Result): void {
  const { m } = c;
  const buf = m.buf;
  const cs = m.delims.component;
  if (w.row.noValue) {
    // OBX-11 X/N/D/W on the array: no valid samples. The chunk says so (flags from rowInfo); the
    // index does not advance, so the next window's Gap covers this one.
    const st = waveState(c, w.chunk);
    w.chunk.samples = [];
    w.chunk.firstSample = st.next;
    if (w.chunk.time) w.chunk.time.deviceTimeUs = w.startUs;
    out.waves.push(w.chunk);
    return;
  }
  // Philips splits long arrays with a stray field separator in the value (hl7-samples SOURCES);
  // a strict reader takes OBX-5 as sent and rejects what does not parse.
  if (isEmpty(w.values)) {
    out.warnings.push(
      decodeError('VW_ERR_HL7_BAD_VALUE', `${w.chunk.refid || w.chunk.vendorCode}: empty waveform array`),
    );
    return;
  }
  // One pass over the bytes: each sample's digits become an integer mantissa and a count of
  // decimals, no substring or span per sample, written into reused scratch arrays. Integer arrays
  // go out as they are; decimal arrays (VitalRecorder sends physical mV) are brought to a common
  // decimal scale so samples stay integers on the wire.
  let maxDec = 0;
  const start = spanStart(w.values);
  const end = spanEnd(w.values);
  // Fast path: plain integers (what monitors send), parsed straight into the output array;
  // anything else takes the general loop below. The array is made as long as this row's was in
  // the last message (a device sends the same count every time), so no scratch copy is needed.
  let samples = parseIntegerSamples(buf, start, end, cs, Math.min(w.row.sampleCount, (end - start + 1) >> 1));
  let n = samples === null ? 0 : samples.length;
  let i = samples === null ? start : end + 1;
  while (i <= end) {
    if (n === c.mantissas.length) growScratch(c);
    while (i < end && buf[i] === 0x20) i++;
    let neg = false;
    if (buf[i] === 0x2d || buf[i] === 0x2b) {
      neg = buf[i] === 0x2d;
      i++;
    }
    let mant = 0;
    let dec = 0;
    let dot = false;
    let saw = false;
    let bad = false;
    let trailing = false; // spaces after the number: only more spaces may follow
    for (; i < end; i++) {
      const ch = buf[i] as number;
      if (ch === cs) break;
      if (ch >= 0x30 && ch <= 0x39 && !trailing) {
        mant = mant * 10 + (ch - 0x30);
        if (dot) dec++;
        saw = true;
      } else if (ch === 0x2e && !dot && !trailing) {
        dot = true;
      } else if (ch === 0x20) {
        // "- 5" (a sign cut from its digits) is not a number; "5 " is.
        if (saw) trailing = true;
        else bad = true;
      } else {
        bad = true;
      }
    }
    if (!saw || bad || dec > 9 || mant > 2147483647) {
      out.warnings.push(
        decodeError('VW_ERR_HL7_BAD_VALUE', `${w.chunk.refid || w.chunk.vendorCode}: sample ${n + 1} is not a number`),
      );
      return;
    }
    c.mantissas[n] = neg ? -mant : mant;
    c.decimals[n] = dec;
    if (dec > maxDec) maxDec = dec;
    n++;
    i++; // past the separator (or past the end, which ends the loop)
  }
  if (samples === null) {
    samples = new Array<number>(n);
    const mant = c.mantissas;
    for (let k = 0; k < n; k++) samples[k] = mant[k] as number;
    if (maxDec > 0)
      for (let k = 0; k < n; k++) samples[k] = (samples[k] as number) * 10 ** (maxDec - (c.decimals[k] as number));
  }
  w.row.sampleCount = n;
  const mul = 10 ** maxDec;
  const chunk = w.chunk;
  chunk.samples = samples;
  chunk.scale = w.unitScale / mul;
  chunk.unit = w.valueUnit;
  if (!chunk.sampleRateHz && w.rateFromCode > 0) chunk.sampleRateHz = w.rateFromCode;
  const windowUs = w.endUs - w.startUs;
  if (!chunk.sampleRateHz && windowUs > 0 && n > 0) {
    // No rate stated: the OBR-7/OBR-8 window and the sample count imply one (IHE PCD TF-2 WCM
    // allows senders that do so). vitalwire computed it: FLAG_DERIVED.
    chunk.sampleRateHz = n / (windowUs / 1e6);
    chunk.flags = (chunk.flags ?? 0) | Flag.FLAG_DERIVED;
  }
  const rate = chunk.sampleRateHz ?? 0;
  if (!rate) chunk.flags = (chunk.flags ?? 0) | Flag.FLAG_QUESTIONABLE;
  // A window that does not hold rate x duration samples (58 at 60 Hz over 1 s) is kept, flagged.
  if (rate && windowUs > 0 && Math.abs((windowUs / 1e6) * rate - n) > 1) {
    chunk.flags = (chunk.flags ?? 0) | Flag.FLAG_QUESTIONABLE;
  }
  const st = waveState(c, chunk);
  // A window that starts later than the previous one ended means the device skipped samples: the
  // index jumps by the missing count and a Gap declares the hole, so nothing is spliced across it.
  // HL7 times carry milliseconds at best: a hole of 1 ms or less is timestamp resolution.
  if (rate && st.nextStartUs && w.startUs - st.nextStartUs > 1000) {
    const missing = Math.round(((w.startUs - st.nextStartUs) / 1e6) * rate);
    if (missing > 0) {
      out.gaps.push(
        skippedGap(
          c,
          chunk,
          st,
          missing,
          w.startUs,
          w.endUs > w.startUs ? w.endUs : w.startUs + Math.round((n / rate) * 1e6),
        ),
      );
      st.next += missing;
    }
  }
  chunk.firstSample = st.next;
  st.next += n;
  st.nextStartUs = rate && w.startUs ? w.startUs + Math.round((n / rate) * 1e6) : 0;
  if (chunk.time) chunk.time.deviceTimeUs = w.startUs;
  out.waves.push(chunk);
}

const ROW_HEADER = 0;
const ROW_NUMERIC = 1;
const ROW_WAVE = 2;
const ROW_CODED = 3;
const ROW_TEXT = 4;

/** What an OBX row says apart from its value (OBX-5) and time (OBX-14). */
export interface RowInfo {
  /** Segment index the row was decoded at (rows are reused by position). */
  seg: number;
  type: number;
  code: CodeInfo;
  containment: string;
  unit: UnitInfo;
  eq: { id?: string; name?: string };
  isAttribute: boolean;
  /** OBX-8 abnormal and mode flags, OBX-11 status, code/refid contradiction, unmapped code. */
  flags: number;
  /** OBX-11 says the row carries no valid value (X, N, I, O, D, W): OBX-5 is not read. */
  noValue: boolean;
  /** For NM rows: how far the unit can be trusted (decoders/units/units.ts fitUnit). */
  numericFlags: number;
  /** For NM rows: the unit the values leave with, and the conversion to it when there is one. */
  unitUcum: string;
  unitMdc: number;
  conversion: Conversion | undefined;
  method: string | undefined;
  range: string | undefined;
  /** The row's bytes outside OBX-5 and OBX-14, to recognise it in the next message. */
  key: DataView;
  cut1: number;
  cut2: number;
  hasValue: boolean;
  hasTime: boolean;
  /** Encoded static fields of a numeric row's observations (see PRE_ENCODED). */
  pre?: Uint8Array;
  /** Waveform rows: samples in the row's last array (the length the next array is made with). */
  sampleCount: number;
}

/**
 * Is this segment the same row as `prev`, apart from its value and time? Walks the bytes without
 * splitting fields: the prefix up to OBX-5, the value up to the next field separator, the bytes
 * between OBX-5 and OBX-14, the time, the rest. On a match, sets c.valueSpan and c.timeSpan.
 */
/**
 * End of the field starting at `from`: a short JS scan first (numeric values are a few bytes),
 * then a native indexOf for long ones (waveform arrays are kilobytes).
 */
function fieldEnd(buf: Buffer, from: number, end: number, fs: number): number {
  const stop = Math.min(end, from + 24);
  for (let i = from; i < stop; i++) if (buf[i] === fs) return i;
  if (stop === end) return end;
  const j = buf.indexOf(fs, stop);
  return j === -1 || j > end ? end : j;
}

function matchRow(c: MessageContext, prev: RowInfo, buf: Buffer, segStart: number, segEnd: number): boolean {
  const k = prev.key;
  const view = c.m.view;
  const fs = c.m.delims.field;
  if (!prev.hasValue) return false; // a row without OBX-5 takes the slow path
  const cut1 = prev.cut1;
  const cut2 = prev.cut2;
  if (segStart + cut1 > segEnd) return false;
  if (!sameBytes(k, 0, view, segStart, cut1)) return false;
  const v0 = segStart + cut1;
  const v1 = fieldEnd(buf, v0, segEnd, fs);
  const midLen = cut2 - cut1;
  if (!prev.hasTime) {
    // No OBX-14 (waveform rows): everything after the value must be as before.
    if (segEnd - v1 !== midLen || !sameBytes(k, cut1, view, v1, midLen)) return false;
    c.valueSpan = makeSpan(v0, v1);
    c.timeSpan = -1;
    return true;
  }
  if (v1 + midLen > segEnd) return false;
  if (!sameBytes(k, cut1, view, v1, midLen)) return false;
  const t0 = v1 + midLen;
  let t1 = t0;
  while (t1 < segEnd && buf[t1] !== fs) t1++;
  const tailLen = k.byteLength - cut2;
  if (segEnd - t1 !== tailLen) return false;
  if (!sameBytes(k, cut2, view, t1, tailLen)) return false;
  c.valueSpan = makeSpan(v0, v1);
  c.timeSpan = makeSpan(t0, t1);
  return true;
}

const MAX_ROWS = 256;

/**
 * A device sends the same OBX rows in the same order every time; only values and times change.
 * The row at the same position last time is compared byte for byte (outside OBX-5 and OBX-14)
 * and, when equal, everything decoded from it is reused.
 */
function rowInfo(c: MessageContext, seg: number, slot: number): RowInfo {
  const m = c.m;
  const buf = m.buf;
  const segStart = m.segmentStart(seg);
  const segEnd = m.segmentEnd(seg);
  const prev = seg < MAX_ROWS ? c.rows[seg] : undefined;
  if (prev !== undefined && matchRow(c, prev, buf, segStart, segEnd)) return prev;
  const f5 = m.field(seg, 5);
  const f14 = m.field(seg, 14);
  const v0 = f5 < 0 ? segEnd : spanStart(f5);
  const v1 = f5 < 0 ? segEnd : spanEnd(f5);
  const t0 = f14 < 0 ? segEnd : spanStart(f14);
  const t1 = f14 < 0 ? segEnd : spanEnd(f14);
  c.valueSpan = f5;
  c.timeSpan = f14;
  const type = m.field(seg, 2);
  const code = c.codes.get(m, m.field(seg, 3), slot);
  const unit = c.units.get(m, m.field(seg, 6), slot + 2);
  const status = resultStatus(m, m.field(seg, 11));
  let flags = readAbnormalFlags(m, m.field(seg, 8)) | status.flags;
  if (code.mismatch) flags |= Flag.FLAG_QUESTIONABLE;
  if (!code.mdc) flags |= Flag.FLAG_UNMAPPED;
  const isNumeric = spanEquals(buf, type, 'NM');
  const fitted = isNumeric ? fitUnit(code.metric, unit.reading) : NOT_NUMERIC;
  let numericFlags = fitted.flags;
  if (unit.mismatch) numericFlags |= Flag.FLAG_QUESTIONABLE;
  const f17 = m.field(seg, 17);
  let method: string | undefined;
  if (!isEmpty(f17)) {
    const mc = component(m, f17, 2);
    method = c.intern.get(m, isEmpty(mc) ? component(m, f17, 1) : mc);
  }
  const f7 = m.field(seg, 7);
  const info: RowInfo = {
    seg,
    type: isEmpty(type)
      ? ROW_HEADER
      : isNumeric
        ? ROW_NUMERIC
        : spanEquals(buf, type, 'NA') || spanEquals(buf, type, 'NR')
          ? ROW_WAVE
          : spanEquals(buf, type, 'CWE') || spanEquals(buf, type, 'CE') || spanEquals(buf, type, 'CNE')
            ? ROW_CODED
            : ROW_TEXT,
    code,
    containment: c.intern.get(m, m.field(seg, 4), slot + 1),
    unit,
    eq: readEquipment(m, m.field(seg, 18)),
    isAttribute: code.refid.startsWith('MDC_ATTR_'),
    flags,
    noValue: status.noValue,
    numericFlags,
    unitUcum: fitted.ucum,
    unitMdc: fitted.mdc,
    conversion: fitted.conversion,
    method,
    range: isEmpty(f7) ? undefined : readText(m, f7),
    key: viewOf(Buffer.concat([buf.subarray(segStart, v0), buf.subarray(v1, t0), buf.subarray(t1, segEnd)])),
    cut1: v0 - segStart,
    cut2: v0 - segStart + (t0 - v1),
    hasValue: f5 >= 0,
    hasTime: f14 >= 0,
    sampleCount: 0,
  };
  if (seg < MAX_ROWS) c.rows[seg] = info;
  return info;
}

/**
 * Parses `int^int^...` into a new array made `capacity` long (grown or trimmed to the count);
 * null when the array holds anything but plain integers (of up to 9 digits, an optional minus).
 * One compare per byte for "is a digit": this loop runs over every byte of every waveform.
 */
function parseIntegerSamples(buf: Buffer, start: number, end: number, cs: number, capacity: number): number[] | null {
  if (start >= end) return null;
  const out = new Array<number>(capacity);
  let n = 0;
  let i = start;
  for (;;) {
    // Here i < end: checked on entry and after each separator.
    let ch = buf[i] as number;
    let neg = false;
    if (ch === 0x2d) {
      neg = true;
      if (++i === end) return null;
      ch = buf[i] as number;
    }
    let d = ch - 0x30;
    if (d >>> 0 > 9) return null; // not a digit (below '0' wraps around to a large unsigned)
    const first = i;
    let v = d;
    while (++i < end) {
      d = (buf[i] as number) - 0x30;
      if (d >>> 0 > 9) break;
      v = v * 10 + d;
    }
    if (i - first > 9) return null;
    out[n++] = neg ? 0 - v : v; // "-0" is 0, as it was through an Int32Array; appends when short
    if (i === end) {
      if (n < out.length) out.length = n;
      return out;
    }
    if (buf[i] !== cs || ++i === end) return null; // another character, or a trailing separator
  }
}

function growScratch(c: MessageContext): void {
  const n = c.mantissas.length * 2;
  const m = new Int32Array(n);
  m.set(c.mantissas);
  const d = new Uint8Array(n);
  d.set(c.decimals);
  c.mantissas = m;
  c.decimals = d;
}
