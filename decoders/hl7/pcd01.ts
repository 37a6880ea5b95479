// IHE PCD-01 (DEC) ORU^R01 — and its HL7 2.4 waveform sibling ORU^W01 — to Observations and
// WaveformChunks (IHE PCD TF-2 B.8, WCM for waveforms). Per-link state: waveform sample
// counters, so first_sample runs on across messages.
import { Flag, type IObservation, type ITiming, type IWaveformChunk } from '../../proto/index.js';
import { decodeError, type DecodeError } from '../errors.js';
import type { DecodeContext } from '../decoded.js';
import { component, countParts, isEmpty, makeSpan, spanEnd, spanEquals, spanStart, type Hl7Message, type Span } from './message.js';
import { decimalPlaces, readNumber, readText, type Interner, type SpanCache } from './text.js';
import { readAbnormalFlags, readEquipment, type CodeInfo, type UnitInfo, type createTimeReader } from './fields.js';

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
}

interface PendingWave {
  chunk: IWaveformChunk;
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
  warnings: DecodeError[];
  device?: string;
  model?: string;
}

export function decodePcd01Body(c: MessageContext, msgTimeUs: number, msgOffset: number | undefined): Pcd01Result {
  const { m, ctx, intern } = c;
  const out: Pcd01Result = { observations: [], waves: [], warnings: [] };
  const off = ctx.defaultUtcOffsetMin ?? 0;
  let obrStartUs = 0;
  let obrEndUs = 0;
  let obrOffset: number | undefined;
  let pending: PendingWave | undefined;
  let obrDevice: string | undefined;
  const finish = () => {
    if (pending) finishWave(c, pending, out);
    pending = undefined;
  };

  for (let seg = 1; seg < m.segmentCount; seg++) {
    const slot = seg * 4; // cache slots: this row's OBX-3, OBX-4, OBX-6
    if (m.segmentIs(seg, 'OBR')) {
      finish();
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

    const type = m.field(seg, 2);
    const code = c.codes.get(m, m.field(seg, 3), slot);
    const eq = readEquipment(m, m.field(seg, 18));
    if (eq.id && !out.device) out.device = eq.id;
    if (eq.name && !out.model) out.model = eq.name;
    if (isEmpty(type)) continue; // header row (MDS/VMD/CHAN containment): identity only

    const containment = intern.get(m, m.field(seg, 4), slot + 1);
    // Attribute rows describe the wave before them: match by reference id, never by number
    // (vendors number MDC_ATTR_NU_MSMT_RES 2327 or 67917, MDC_EVT_INOP 196660 or 262196).
    if (pending && (containment === '' || pending.containment === '' || containment.startsWith(`${pending.containment}.`))) {
      if (applyWaveAttribute(c, seg, code.refid, pending)) continue;
    }
    if (code.refid.startsWith('MDC_ATTR_')) continue; // an attribute of something we do not model (filter label...)

    const t14 = c.readTime(m, m.field(seg, 14), off);
    if (t14 === null) out.warnings.push(decodeError('VW_ERR_HL7_BAD_TIME', `OBX-${seg} OBX-14`));
    const timeUs = t14 ? t14.us : obrStartUs || msgTimeUs;
    const timeOffset = t14 ? t14.offsetMin : obrStartUs ? obrOffset : msgOffset;
    let flags = readAbnormalFlags(m, m.field(seg, 8));
    const status = m.field(seg, 11);
    if (spanEquals(m.buf, status, 'W')) flags |= Flag.FLAG_QUESTIONABLE;
    if (code.mismatch) flags |= Flag.FLAG_QUESTIONABLE;
    const time: ITiming = { gatewayTimeUs: ctx.gatewayTimeUs, deviceTimeUs: timeUs };
    if (timeOffset !== undefined) time.deviceUtcOffsetMin = timeOffset;
    const vendorCode = code.vendor;

    if (spanEquals(m.buf, type, 'NA') || spanEquals(m.buf, type, 'NR')) {
      finish();
      const unit = c.units.get(m, m.field(seg, 6), slot + 2);
      if (!code.metric) flags |= Flag.FLAG_UNMAPPED;
      pending = {
        chunk: {
          time,
          mdc: code.metric ? code.metric.mdc : 0,
          refid: code.metric ? code.metric.refid : '',
          vendorCode,
          unit: unit.ucum,
          flags,
        },
        containment,
        values: m.field(seg, 5),
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
      mdc: code.metric ? code.metric.mdc : 0,
      refid: code.metric ? code.metric.refid : '',
      vendorCode,
      vendorUnit: c.units.get(m, m.field(seg, 6), slot + 2).vendor,
      containment,
      flags,
    };
    const f17 = m.field(seg, 17);
    if (!isEmpty(f17)) {
      const method = component(m, f17, 2);
      obs.method = intern.get(m, isEmpty(method) ? component(m, f17, 1) : method);
    }
    const f7 = m.field(seg, 7);
    if (!isEmpty(f7)) obs.range = readText(m, f7);
    if (!code.metric) obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNMAPPED;

    if (spanEquals(m.buf, type, 'NM')) {
      const value = m.field(seg, 5);
      const unit = c.units.get(m, m.field(seg, 6), slot + 2);
      obs.unit = unit.ucum;
      if (unit.mdc) obs.unitMdc = unit.mdc;
      if (unit.mismatch) obs.flags = (obs.flags ?? 0) | Flag.FLAG_QUESTIONABLE;
      if (!unit.ucum && !isEmpty(m.field(seg, 6))) obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNMAPPED;
      if (isEmpty(value)) {
        // OBX-11 X: the result cannot be obtained. Keep the row as "unavailable".
        obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNAVAILABLE;
      } else {
        const v = readNumber(m.buf, value) * unit.scale;
        if (!Number.isFinite(v)) {
          out.warnings.push(decodeError('VW_ERR_HL7_BAD_VALUE', `OBX-${seg}: NM value not a number`));
          continue;
        }
        if (NO_VALUE_SENTINELS.has(v)) obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNAVAILABLE;
        else obs.number = v;
      }
      out.observations.push(obs);
      continue;
    }
    // Enumerations: CWE/CE/CNE carry a code (`<code>^<refid>^MDC`), ST/TX text. An ST value that
    // is itself an MDC reference id (Philips: MDC_ECG_PACED_RHY) is kept as a code.
    const value = m.field(seg, 5);
    if (isEmpty(value)) {
      obs.flags = (obs.flags ?? 0) | Flag.FLAG_UNAVAILABLE;
    } else if (spanEquals(m.buf, type, 'CWE') || spanEquals(m.buf, type, 'CE') || spanEquals(m.buf, type, 'CNE')) {
      const n = readNumber(m.buf, component(m, value, 1));
      obs.code = { mdc: Number.isFinite(n) ? n : 0, refid: intern.get(m, component(m, value, 2)), text: readText(m, component(m, value, 1)) };
    } else {
      const text = readText(m, value);
      if (/^MDC_[A-Z0-9_]+$/.test(text)) obs.code = { mdc: 0, refid: text, text };
      else obs.text = text;
    }
    out.observations.push(obs);
  }
  finish();
  if (!out.device && obrDevice) out.device = obrDevice;
  return out;
}

function applyWaveAttribute(c: MessageContext, seg: number, refid: string, w: PendingWave): boolean {
  const m = c.m;
  const value = m.field(seg, 5);
  switch (refid) {
    case 'MDC_ATTR_SAMP_RATE': {
      const r = readNumber(m.buf, value);
      if (Number.isFinite(r) && r > 0) w.chunk.sampleRateHz = r;
      return true;
    }
    case 'MDC_ATTR_NU_MSMT_RES': {
      const r = readNumber(m.buf, value);
      if (Number.isFinite(r) && r > 0) w.unitScale = r;
      const u = c.units.get(m, m.field(seg, 6));
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

function finishWave(c: MessageContext, w: PendingWave, out: Pcd01Result): void {
  const { m } = c;
  const buf = m.buf;
  const cs = m.delims.component;
  // Philips splits long arrays with a stray field separator in the value (hl7-samples SOURCES);
  // a strict reader takes OBX-5 as sent and rejects what does not parse.
  const n = countParts(buf, w.values, cs);
  if (isEmpty(w.values) || n === 0) {
    out.warnings.push(decodeError('VW_ERR_HL7_BAD_VALUE', `${w.chunk.refid || w.chunk.vendorCode}: empty waveform array`));
    return;
  }
  // Integers are taken as they are; decimal arrays (VitalRecorder sends physical mV) get a
  // decimal scale so samples stay integers on the wire. One walk over the parts.
  let decimals = 0;
  const spans: Span[] = new Array<Span>(n);
  const end = spanEnd(w.values);
  let i = spanStart(w.values);
  for (let k = 0; k < n; k++) {
    let j = buf.indexOf(cs, i);
    if (j === -1 || j > end) j = end;
    const p = makeSpan(i, j);
    spans[k] = p;
    const d = decimalPlaces(buf, p);
    if (d > decimals) decimals = d;
    i = j + 1;
  }
  const samples: number[] = new Array<number>(n);
  const mul = 10 ** decimals;
  for (let k = 0; k < n; k++) {
    const v = readNumber(buf, spans[k] as Span);
    if (!Number.isFinite(v)) {
      out.warnings.push(decodeError('VW_ERR_HL7_BAD_VALUE', `${w.chunk.refid || w.chunk.vendorCode}: sample ${k + 1} is not a number`));
      return;
    }
    samples[k] = Math.round(v * mul);
  }
  const chunk = w.chunk;
  chunk.samples = samples;
  chunk.scale = w.unitScale / mul;
  chunk.unit = w.valueUnit;
  if (!chunk.sampleRateHz && w.rateFromCode > 0) chunk.sampleRateHz = w.rateFromCode;
  const rate = chunk.sampleRateHz ?? 0;
  if (!rate) chunk.flags = (chunk.flags ?? 0) | Flag.FLAG_QUESTIONABLE;
  // A window that does not hold rate x duration samples (58 at 60 Hz over 1 s) is kept, flagged.
  if (rate && w.endUs > w.startUs && Math.abs(((w.endUs - w.startUs) / 1e6) * rate - n) > 1) {
    chunk.flags = (chunk.flags ?? 0) | Flag.FLAG_QUESTIONABLE;
  }
  const key = chunk.refid || chunk.vendorCode || '';
  let st = c.waves.get(key);
  if (!st) {
    st = { next: 0, nextStartUs: 0 };
    c.waves.set(key, st);
  }
  // A window that starts later than the previous one ended means samples were lost: the index
  // jumps by the missing count, so consumers see the hole instead of a silent splice.
  if (rate && st.nextStartUs && w.startUs > st.nextStartUs) {
    const missing = Math.round(((w.startUs - st.nextStartUs) / 1e6) * rate);
    if (missing > 0) st.next += missing;
  }
  chunk.firstSample = st.next;
  st.next += n;
  st.nextStartUs = rate && w.startUs ? w.startUs + Math.round((n / rate) * 1e6) : 0;
  if (chunk.time) chunk.time.deviceTimeUs = w.startUs;
  out.waves.push(chunk);
}

