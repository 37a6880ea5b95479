// A hand-written encoder for vitalwire.v1.Batch, byte-identical to the generated protobufjs
// encoder (a property test holds the two together), built for the publish hot path: sizes are
// computed first so the message is written once into one buffer, and the UTF-8 bytes of the
// strings that repeat in every message (codes, units, ids) are cached instead of re-encoded.
// The generated code stays the decoder everywhere and the reference encoder. Field numbers come
// from proto/gen/fields.ts, generated from the schema: none is typed here.
import $protobuf from 'protobufjs/minimal.js';
import { Observation as ObservationCodec } from './index.js';
import type {
  IAlarm,
  IAlarmFacet,
  IBatch,
  IDeviceStatus,
  IGap,
  IObservation,
  ISource,
  ITiming,
  IWaveformChunk,
} from './index.js';
import type { vitalwire } from './gen/vitals.js';
import * as F from './gen/fields.js';

const LongBits = $protobuf.util.LongBits;

// ---- pre-encoded observation fields ----------------------------------------------------------
/**
 * A decoder may attach, under this symbol, the encoded bytes of an Observation's fields that
 * never change for a given device row (mdc, refid, unit, unit_mdc, vendor_code, vendor_unit,
 * containment, method, range), made once with preEncodeStatic. The writer then copies them
 * instead of re-encoding six strings per value. Protobuf readers accept fields in any order, so
 * the bytes decode to the same message; those fields must not change after decoding.
 */
export const PRE_ENCODED: unique symbol = Symbol('vitalwire.preEncoded');
type WithPre = IObservation & { [PRE_ENCODED]?: Uint8Array };

/** The static fields of an observation, encoded once (generated encoder, ascending order). */
export function preEncodeStatic(o: IObservation): Uint8Array {
  const only: IObservation = {};
  for (const k of [
    'mdc',
    'refid',
    'unit',
    'unitMdc',
    'vendorCode',
    'vendorUnit',
    'containment',
    'method',
    'range',
  ] as const) {
    if (o[k] !== undefined) (only as Record<string, unknown>)[k] = o[k];
  }
  return ObservationCodec.encode(only).finish();
}

// ---- strings -------------------------------------------------------------------------------
const MAX_CACHED = 8192;
const strings = new Map<string, Uint8Array>();
function utf8(s: string): Uint8Array {
  let b = strings.get(s);
  if (b === undefined) {
    b = Buffer.from(s, 'utf8');
    if (strings.size >= MAX_CACHED) strings.clear();
    strings.set(s, b);
  }
  return b;
}

// ---- sizes ---------------------------------------------------------------------------------
// The size pass records, in write order, every sub-message size and every string's bytes; the
// write pass consumes them, so nothing is sized or looked up twice.
let sizes = new Int32Array(1024);
let sizeN = 0;
let sizeR = 0;
const strs: Uint8Array[] = [];
let strN = 0;
let strR = 0;
function reserve(): number {
  if (sizeN === sizes.length) {
    const grown = new Int32Array(sizes.length * 2);
    grown.set(sizes);
    sizes = grown;
  }
  return sizeN++;
}
function nextSize(): number {
  return sizes[sizeR++] as number;
}
function varint32Size(v: number): number {
  v >>>= 0;
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : v < 268435456 ? 4 : 5;
}
function int32Size(v: number): number {
  return v < 0 ? 10 : varint32Size(v); // negative int32/enum: sign-extended to 64 bits
}
function varint64Size(v: number): number {
  if (v >= 0 && v < 4294967296) return varint32Size(v);
  if (!(v > 0)) return LongBits.fromNumber(v).length();
  // Microsecond timestamps (> 2^32): LongBits.fromNumber's split and length(), without
  // allocating a LongBits for each.
  const lo = v >>> 0;
  const hi = ((v - lo) / 4294967296) >>> 0;
  const part1 = ((lo >>> 28) | (hi << 4)) >>> 0;
  const part2 = hi >>> 24;
  if (part2 !== 0) return part2 < 128 ? 9 : 10;
  if (part1 !== 0) return part1 < 128 ? 5 : part1 < 16384 ? 6 : part1 < 2097152 ? 7 : 8;
  return lo < 128 ? 1 : lo < 16384 ? 2 : lo < 2097152 ? 3 : 4;
}
function zz32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}
function strSize(s: string): number {
  const b = utf8(s);
  strs[strN++] = b;
  return varint32Size(b.length) + b.length;
}
// proto3 presence, as the generated encoder applies it: scalars are written only when not their
// default (0, +0.0, '', false); oneof members, `optional` fields and sub-messages whenever set.
const has = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;
const nz = (v: number | null | undefined): v is number => v !== null && v !== undefined && v !== 0;
const nd = (v: number | null | undefined): v is number => v !== null && v !== undefined && !Object.is(v, 0);
const ns = (v: string | null | undefined): v is string => v !== null && v !== undefined && v !== '';
const nb = (v: boolean | null | undefined): v is boolean => v !== null && v !== undefined && v !== false;

// Observations of one frame share a Timing object: its size is computed once per batch.
let lastTiming: ITiming | null = null;
let lastTimingSize = 0;
function timingSize(t: ITiming): number {
  if (t === lastTiming) return lastTimingSize;
  let n = 0;
  if (nz(t.gatewayTimeUs)) n += ts(F.Timing.gatewayTimeUs) + varint64Size(t.gatewayTimeUs);
  if (nz(t.deviceTimeUs)) n += ts(F.Timing.deviceTimeUs) + varint64Size(t.deviceTimeUs);
  if (nz(t.clockOffsetUs)) n += ts(F.Timing.clockOffsetUs) + varint64Size(t.clockOffsetUs);
  if (has(t.deviceUtcOffsetMin)) n += ts(F.Timing.deviceUtcOffsetMin) + varint32Size(zz32(t.deviceUtcOffsetMin));
  lastTiming = t;
  lastTimingSize = n;
  return n;
}
/** Bytes of a field's tag: one below field 16, two below 2048. */
function ts(field: number): number {
  return field < 16 ? 1 : 2;
}
function sub(size: number): number {
  return varint32Size(size) + size;
}
function observationSize(o: WithPre): number {
  const O = F.Observation;
  const slot = reserve();
  let n = 0;
  if (has(o.time)) n += ts(O.time) + sub(timingSize(o.time));
  const pre = o[PRE_ENCODED];
  const own = pre === undefined; // static fields encoded here, not pre-encoded
  if (!own) n += pre.length;
  if (own && nz(o.mdc)) n += ts(O.mdc) + varint32Size(o.mdc);
  if (own && ns(o.refid)) n += ts(O.refid) + strSize(o.refid);
  if (has(o.number)) n += ts(O.number) + 8;
  if (has(o.code)) {
    const C = F.Code;
    const cslot = reserve();
    let c = 0;
    if (nz(o.code.mdc)) c += ts(C.mdc) + varint32Size(o.code.mdc);
    if (ns(o.code.refid)) c += ts(C.refid) + strSize(o.code.refid);
    if (ns(o.code.text)) c += ts(C.text) + strSize(o.code.text);
    sizes[cslot] = c;
    n += ts(O.code) + sub(c);
  }
  if (has(o.text)) n += ts(O.text) + strSize(o.text);
  if (own && ns(o.unit)) n += ts(O.unit) + strSize(o.unit);
  if (own && nz(o.unitMdc)) n += ts(O.unitMdc) + varint32Size(o.unitMdc);
  if (own && ns(o.vendorCode)) n += ts(O.vendorCode) + strSize(o.vendorCode);
  if (own && ns(o.vendorUnit)) n += ts(O.vendorUnit) + strSize(o.vendorUnit);
  if (nz(o.flags)) n += ts(O.flags) + varint32Size(o.flags);
  if (own && ns(o.containment)) n += ts(O.containment) + strSize(o.containment);
  if (own && ns(o.method)) n += ts(O.method) + strSize(o.method);
  if (own && ns(o.range)) n += ts(O.range) + strSize(o.range);
  if (has(o.sentNumber)) n += ts(O.sentNumber) + 8;
  sizes[slot] = n;
  return n;
}

// Packed sint32 samples of every wave in the batch, back to back.
let packed = new Uint8Array(16 * 1024);
let packedN = 0;
function packSamples(s: ArrayLike<number>): number {
  const start = packedN;
  if (packedN + s.length * 5 > packed.length) {
    const grown = new Uint8Array(Math.max(packed.length * 2, packedN + s.length * 5));
    grown.set(packed.subarray(0, packedN));
    packed = grown;
  }
  let p = packedN;
  const out = packed;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const x = s[i] as number;
    let v = ((x << 1) ^ (x >> 31)) >>> 0; // zigzag, as zz32
    // Samples of 14-bit signals take one or two bytes: those two lengths without a loop.
    if (v < 128) {
      out[p++] = v;
    } else if (v < 16384) {
      out[p] = v | 128; // the byte store keeps the low 8 bits
      out[p + 1] = v >>> 7;
      p += 2;
    } else {
      while (v > 127) {
        out[p++] = (v & 127) | 128;
        v >>>= 7;
      }
      out[p++] = v;
    }
  }
  packedN = p;
  return p - start;
}
function waveSize(w: IWaveformChunk): number {
  const W = F.WaveformChunk;
  const slot = reserve();
  let n = 0;
  if (has(w.time)) n += ts(W.time) + sub(timingSize(w.time));
  if (nz(w.mdc)) n += ts(W.mdc) + varint32Size(w.mdc);
  if (ns(w.refid)) n += ts(W.refid) + strSize(w.refid);
  if (nd(w.sampleRateHz)) n += ts(W.sampleRateHz) + 8;
  if (nz(w.firstSample)) n += ts(W.firstSample) + varint64Size(w.firstSample);
  if (has(w.samples) && w.samples.length > 0) {
    // Packed once here, copied in the write pass: each sample is varint-encoded a single time.
    const sslot = reserve();
    const at = reserve();
    sizes[at] = packedN;
    const ss = packSamples(w.samples);
    sizes[sslot] = ss;
    n += ts(W.samples) + sub(ss);
  }
  if (nd(w.scale)) n += ts(W.scale) + 8;
  if (nd(w.offset)) n += ts(W.offset) + 8;
  if (ns(w.unit)) n += ts(W.unit) + strSize(w.unit);
  if (has(w.invalidValue)) n += ts(W.invalidValue) + varint32Size(zz32(w.invalidValue));
  if (ns(w.vendorCode)) n += ts(W.vendorCode) + strSize(w.vendorCode);
  if (nz(w.flags)) n += ts(W.flags) + varint32Size(w.flags);
  sizes[slot] = n;
  return n;
}
function facetSize(f: IAlarmFacet): number {
  const A = F.AlarmFacet;
  const slot = reserve();
  let n = 0;
  if (nz(f.mdc)) n += ts(A.mdc) + varint32Size(f.mdc);
  if (ns(f.refid)) n += ts(A.refid) + strSize(f.refid);
  if (ns(f.value)) n += ts(A.value) + strSize(f.value);
  if (ns(f.unit)) n += ts(A.unit) + strSize(f.unit);
  if (ns(f.containment)) n += ts(A.containment) + strSize(f.containment);
  sizes[slot] = n;
  return n;
}
function alarmSize(a: IAlarm): number {
  const A = F.Alarm;
  const slot = reserve();
  let n = 0;
  if (has(a.time)) n += ts(A.time) + sub(timingSize(a.time));
  if (ns(a.id)) n += ts(A.id) + strSize(a.id);
  if (nz(a.mdc)) n += ts(A.mdc) + varint32Size(a.mdc);
  if (ns(a.refid)) n += ts(A.refid) + strSize(a.refid);
  if (ns(a.text)) n += ts(A.text) + strSize(a.text);
  if (nz(a.priority)) n += ts(A.priority) + int32Size(a.priority);
  if (nz(a.kind)) n += ts(A.kind) + int32Size(a.kind);
  if (nz(a.state)) n += ts(A.state) + int32Size(a.state);
  if (nz(a.phase)) n += ts(A.phase) + int32Size(a.phase);
  if (nz(a.inactivation)) n += ts(A.inactivation) + int32Size(a.inactivation);
  if (nz(a.sourceMdc)) n += ts(A.sourceMdc) + varint32Size(a.sourceMdc);
  if (ns(a.sourceRefid)) n += ts(A.sourceRefid) + strSize(a.sourceRefid);
  if (ns(a.vendorCode)) n += ts(A.vendorCode) + strSize(a.vendorCode);
  if (nz(a.flags)) n += ts(A.flags) + varint32Size(a.flags);
  if (has(a.sourceValue)) n += ts(A.sourceValue) + 8;
  if (ns(a.sourceUnit)) n += ts(A.sourceUnit) + strSize(a.sourceUnit);
  if (has(a.limitLow)) n += ts(A.limitLow) + 8;
  if (has(a.limitHigh)) n += ts(A.limitHigh) + 8;
  if (ns(a.limits)) n += ts(A.limits) + strSize(a.limits);
  if (ns(a.sourceContainment)) n += ts(A.sourceContainment) + strSize(a.sourceContainment);
  if (has(a.facets)) for (const f of a.facets) n += ts(A.facets) + sub(facetSize(f));
  sizes[slot] = n;
  return n;
}
function statusSize(s: IDeviceStatus): number {
  const D = F.DeviceStatus;
  const slot = reserve();
  let n = 0;
  if (has(s.time)) n += ts(D.time) + sub(timingSize(s.time));
  if (nz(s.state)) n += ts(D.state) + int32Size(s.state);
  if (ns(s.reason)) n += ts(D.reason) + strSize(s.reason);
  if (nz(s.framesOk)) n += ts(D.framesOk) + varint64Size(s.framesOk);
  if (nz(s.framesBad)) n += ts(D.framesBad) + varint64Size(s.framesBad);
  if (nz(s.garbageBytes)) n += ts(D.garbageBytes) + varint64Size(s.garbageBytes);
  if (nz(s.unmapped)) n += ts(D.unmapped) + varint64Size(s.unmapped);
  if (nz(s.reconnects)) n += ts(D.reconnects) + varint64Size(s.reconnects);
  if (nz(s.queueDepth)) n += ts(D.queueDepth) + varint64Size(s.queueDepth);
  if (nb(s.clockSynced)) n += ts(D.clockSynced) + 1;
  if (nz(s.lastFrameTimeUs)) n += ts(D.lastFrameTimeUs) + varint64Size(s.lastFrameTimeUs);
  if (ns(s.diagnosis)) n += ts(D.diagnosis) + strSize(s.diagnosis);
  if (ns(s.session)) n += ts(D.session) + strSize(s.session);
  if (nz(s.flags)) n += ts(D.flags) + varint32Size(s.flags);
  sizes[slot] = n;
  return n;
}
function gapSize(g: IGap): number {
  const G = F.Gap;
  let n = 0;
  if (nz(g.kind)) n += ts(G.kind) + int32Size(g.kind);
  if (nz(g.fromSeq)) n += ts(G.fromSeq) + varint64Size(g.fromSeq);
  if (nz(g.toSeq)) n += ts(G.toSeq) + varint64Size(g.toSeq);
  if (nz(g.waveMdc)) n += ts(G.waveMdc) + varint32Size(g.waveMdc);
  if (nz(g.fromSample)) n += ts(G.fromSample) + varint64Size(g.fromSample);
  if (nz(g.sampleCount)) n += ts(G.sampleCount) + varint64Size(g.sampleCount);
  if (nz(g.fromTimeUs)) n += ts(G.fromTimeUs) + varint64Size(g.fromTimeUs);
  if (nz(g.toTimeUs)) n += ts(G.toTimeUs) + varint64Size(g.toTimeUs);
  if (nz(g.reason)) n += ts(G.reason) + int32Size(g.reason);
  return n;
}
function sourceSize(s: ISource): number {
  const S = F.Source;
  const slot = reserve();
  let n = 0;
  if (ns(s.site)) n += ts(S.site) + strSize(s.site);
  if (ns(s.gateway)) n += ts(S.gateway) + strSize(s.gateway);
  if (ns(s.device)) n += ts(S.device) + strSize(s.device);
  if (ns(s.model)) n += ts(S.model) + strSize(s.model);
  if (ns(s.protocol)) n += ts(S.protocol) + strSize(s.protocol);
  if (ns(s.bed)) n += ts(S.bed) + strSize(s.bed);
  if (ns(s.hardwareId)) n += ts(S.hardwareId) + strSize(s.hardwareId);
  if (ns(s.bedClaim)) n += ts(S.bedClaim) + strSize(s.bedClaim);
  sizes[slot] = n;
  return n;
}

// ---- writing -------------------------------------------------------------------------------
let buf = new Uint8Array(64 * 1024);
let view = new DataView(buf.buffer);
let pos = 0;

function tag(field: number, wire: number): void {
  const t = (field << 3) | wire;
  if (t < 128) buf[pos++] = t;
  else {
    buf[pos++] = (t & 127) | 128; // fields 16..2047: two bytes (see ts)
    buf[pos++] = t >>> 7;
  }
}

function varint32(v: number): void {
  v >>>= 0;
  while (v > 127) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
}
function int32(v: number): void {
  if (v >= 0) varint32(v);
  else varint64(v);
}
function varint64(v: number): void {
  if (v >= 0 && v < 4294967296) {
    varint32(v);
    return;
  }
  let lo: number;
  let hi: number;
  if (v > 0) {
    // LongBits.fromNumber's split, without allocating one per timestamp.
    lo = v >>> 0;
    hi = ((v - lo) / 4294967296) >>> 0;
  } else {
    const bits = LongBits.fromNumber(v);
    lo = bits.lo >>> 0;
    hi = bits.hi >>> 0;
  }
  while (hi) {
    buf[pos++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    buf[pos++] = (lo & 127) | 128;
    lo >>>= 7;
  }
  buf[pos++] = lo;
}
function double(v: number): void {
  view.setFloat64(pos, v, true);
  pos += 8;
}
/** Writes the next string recorded by the size pass as field `field`. */
function str(field: number): void {
  const b = strs[strR++] as Uint8Array;
  tag(field, 2);
  varint32(b.length);
  buf.set(b, pos);
  pos += b.length;
}

// Observations of one frame share a Timing object: once written, its bytes are copied.
let lastWritten: ITiming | null = null;
let lastWrittenField = 0;
let lastWrittenAt = 0;
let lastWrittenEnd = 0;
function writeTiming(field: number, t: ITiming): void {
  if (t === lastWritten && field === lastWrittenField) {
    buf.copyWithin(pos, lastWrittenAt, lastWrittenEnd); // a builtin: cheaper than a byte loop
    pos += lastWrittenEnd - lastWrittenAt;
    return;
  }
  lastWritten = t;
  lastWrittenField = field;
  lastWrittenAt = pos;
  writeTimingFields(field, t);
  lastWrittenEnd = pos;
}
function writeTimingFields(field: number, t: ITiming): void {
  const T = F.Timing;
  tag(field, 2);
  varint32(timingSize(t));
  if (nz(t.gatewayTimeUs)) {
    tag(T.gatewayTimeUs, 0);
    varint64(t.gatewayTimeUs);
  }
  if (nz(t.deviceTimeUs)) {
    tag(T.deviceTimeUs, 0);
    varint64(t.deviceTimeUs);
  }
  if (nz(t.clockOffsetUs)) {
    tag(T.clockOffsetUs, 0);
    varint64(t.clockOffsetUs);
  }
  if (has(t.deviceUtcOffsetMin)) {
    tag(T.deviceUtcOffsetMin, 0);
    varint32(zz32(t.deviceUtcOffsetMin));
  }
}
function u32f(field: number, v: number): void {
  tag(field, 0);
  varint32(v);
}
function i32f(field: number, v: number): void {
  tag(field, 0);
  int32(v);
}
function u64f(field: number, v: number): void {
  tag(field, 0);
  varint64(v);
}
function dblf(field: number, v: number): void {
  tag(field, 1);
  double(v);
}
function writeObservation(o: WithPre): void {
  const O = F.Observation;
  tag(F.Batch.observations, 2);
  varint32(nextSize());
  if (has(o.time)) writeTiming(O.time, o.time);
  const pre = o[PRE_ENCODED];
  const own = pre === undefined;
  if (!own) {
    buf.set(pre, pos);
    pos += pre.length;
  }
  if (own && nz(o.mdc)) u32f(O.mdc, o.mdc);
  if (own && ns(o.refid)) str(O.refid);
  if (has(o.number)) dblf(O.number, o.number);
  if (has(o.code)) {
    const c = o.code;
    tag(O.code, 2);
    varint32(nextSize());
    if (nz(c.mdc)) u32f(F.Code.mdc, c.mdc);
    if (ns(c.refid)) str(F.Code.refid);
    if (ns(c.text)) str(F.Code.text);
  }
  if (has(o.text)) str(O.text);
  if (own && ns(o.unit)) str(O.unit);
  if (own && nz(o.unitMdc)) u32f(O.unitMdc, o.unitMdc);
  if (own && ns(o.vendorCode)) str(O.vendorCode);
  if (own && ns(o.vendorUnit)) str(O.vendorUnit);
  if (nz(o.flags)) u32f(O.flags, o.flags);
  if (own && ns(o.containment)) str(O.containment);
  if (own && ns(o.method)) str(O.method);
  if (own && ns(o.range)) str(O.range);
  if (has(o.sentNumber)) dblf(O.sentNumber, o.sentNumber);
}
function writeWave(w: IWaveformChunk): void {
  const W = F.WaveformChunk;
  tag(F.Batch.waves, 2);
  varint32(nextSize());
  if (has(w.time)) writeTiming(W.time, w.time);
  if (nz(w.mdc)) u32f(W.mdc, w.mdc);
  if (ns(w.refid)) str(W.refid);
  if (nd(w.sampleRateHz)) dblf(W.sampleRateHz, w.sampleRateHz);
  if (nz(w.firstSample)) u64f(W.firstSample, w.firstSample);
  if (has(w.samples) && w.samples.length > 0) {
    tag(W.samples, 2);
    const len = nextSize();
    const at = nextSize();
    varint32(len);
    buf.set(packed.subarray(at, at + len), pos);
    pos += len;
  }
  if (nd(w.scale)) dblf(W.scale, w.scale);
  if (nd(w.offset)) dblf(W.offset, w.offset);
  if (ns(w.unit)) str(W.unit);
  if (has(w.invalidValue)) u32f(W.invalidValue, zz32(w.invalidValue));
  if (ns(w.vendorCode)) str(W.vendorCode);
  if (nz(w.flags)) u32f(W.flags, w.flags);
}
function writeAlarm(a: IAlarm): void {
  const A = F.Alarm;
  tag(F.Batch.alarms, 2);
  varint32(nextSize());
  if (has(a.time)) writeTiming(A.time, a.time);
  if (ns(a.id)) str(A.id);
  if (nz(a.mdc)) u32f(A.mdc, a.mdc);
  if (ns(a.refid)) str(A.refid);
  if (ns(a.text)) str(A.text);
  if (nz(a.priority)) i32f(A.priority, a.priority);
  if (nz(a.kind)) i32f(A.kind, a.kind);
  if (nz(a.state)) i32f(A.state, a.state);
  if (nz(a.phase)) i32f(A.phase, a.phase);
  if (nz(a.inactivation)) i32f(A.inactivation, a.inactivation);
  if (nz(a.sourceMdc)) u32f(A.sourceMdc, a.sourceMdc);
  if (ns(a.sourceRefid)) str(A.sourceRefid);
  if (ns(a.vendorCode)) str(A.vendorCode);
  if (nz(a.flags)) u32f(A.flags, a.flags);
  if (has(a.sourceValue)) dblf(A.sourceValue, a.sourceValue);
  if (ns(a.sourceUnit)) str(A.sourceUnit);
  if (has(a.limitLow)) dblf(A.limitLow, a.limitLow);
  if (has(a.limitHigh)) dblf(A.limitHigh, a.limitHigh);
  if (ns(a.limits)) str(A.limits);
  if (ns(a.sourceContainment)) str(A.sourceContainment);
  if (has(a.facets)) {
    const X = F.AlarmFacet;
    for (const f of a.facets) {
      tag(A.facets, 2);
      varint32(nextSize());
      if (nz(f.mdc)) u32f(X.mdc, f.mdc);
      if (ns(f.refid)) str(X.refid);
      if (ns(f.value)) str(X.value);
      if (ns(f.unit)) str(X.unit);
      if (ns(f.containment)) str(X.containment);
    }
  }
}
function writeStatus(s: IDeviceStatus): void {
  const D = F.DeviceStatus;
  tag(F.Batch.statuses, 2);
  varint32(nextSize());
  if (has(s.time)) writeTiming(D.time, s.time);
  if (nz(s.state)) i32f(D.state, s.state);
  if (ns(s.reason)) str(D.reason);
  if (nz(s.framesOk)) u64f(D.framesOk, s.framesOk);
  if (nz(s.framesBad)) u64f(D.framesBad, s.framesBad);
  if (nz(s.garbageBytes)) u64f(D.garbageBytes, s.garbageBytes);
  if (nz(s.unmapped)) u64f(D.unmapped, s.unmapped);
  if (nz(s.reconnects)) u64f(D.reconnects, s.reconnects);
  if (nz(s.queueDepth)) u64f(D.queueDepth, s.queueDepth);
  if (nb(s.clockSynced)) {
    tag(D.clockSynced, 0);
    buf[pos++] = 1;
  }
  if (nz(s.lastFrameTimeUs)) u64f(D.lastFrameTimeUs, s.lastFrameTimeUs);
  if (ns(s.diagnosis)) str(D.diagnosis);
  if (ns(s.session)) str(D.session);
  if (nz(s.flags)) u32f(D.flags, s.flags);
}
function writeGap(g: IGap): void {
  const G = F.Gap;
  tag(F.Batch.gaps, 2);
  varint32(gapSize(g));
  if (nz(g.kind)) i32f(G.kind, g.kind);
  if (nz(g.fromSeq)) u64f(G.fromSeq, g.fromSeq);
  if (nz(g.toSeq)) u64f(G.toSeq, g.toSeq);
  if (nz(g.waveMdc)) u32f(G.waveMdc, g.waveMdc);
  if (nz(g.fromSample)) u64f(G.fromSample, g.fromSample);
  if (nz(g.sampleCount)) u64f(G.sampleCount, g.sampleCount);
  if (nz(g.fromTimeUs)) u64f(G.fromTimeUs, g.fromTimeUs);
  if (nz(g.toTimeUs)) u64f(G.toTimeUs, g.toTimeUs);
  if (nz(g.reason)) i32f(G.reason, g.reason);
}

/** Encoded size of a Batch, in bytes (and the scratch the write pass consumes). */
export function batchSize(b: IBatch): number {
  const B = F.Batch;
  sizeN = 0;
  strN = 0;
  packedN = 0;
  lastTiming = null; // a Timing may have been changed since the last batch
  let n = 0;
  if (has(b.source)) n += ts(B.source) + sub(sourceSize(b.source));
  if (nz(b.kind)) n += ts(B.kind) + int32Size(b.kind);
  if (nz(b.seq)) n += ts(B.seq) + varint64Size(b.seq);
  if (nb(b.backfill)) n += ts(B.backfill) + 1;
  if (nz(b.publishTimeUs)) n += ts(B.publishTimeUs) + varint64Size(b.publishTimeUs);
  for (const o of b.observations ?? []) n += ts(B.observations) + sub(observationSize(o));
  for (const w of b.waves ?? []) n += ts(B.waves) + sub(waveSize(w));
  for (const a of b.alarms ?? []) n += ts(B.alarms) + sub(alarmSize(a));
  for (const s of b.statuses ?? []) n += ts(B.statuses) + sub(statusSize(s));
  for (const g of b.gaps ?? []) n += ts(B.gaps) + sub(gapSize(g));
  return n;
}

/** Encodes a Batch into a new Buffer of exactly its size. */
export function encodeBatch(b: IBatch): Buffer {
  const B = F.Batch;
  const size = batchSize(b);
  if (size > buf.length) {
    buf = new Uint8Array(Math.max(size, buf.length * 2));
    view = new DataView(buf.buffer);
  }
  pos = 0;
  sizeR = 0;
  strR = 0;
  lastWritten = null; // a Timing may have been changed since the last batch
  if (has(b.source)) {
    const s = b.source;
    const S = F.Source;
    tag(B.source, 2);
    varint32(nextSize());
    if (ns(s.site)) str(S.site);
    if (ns(s.gateway)) str(S.gateway);
    if (ns(s.device)) str(S.device);
    if (ns(s.model)) str(S.model);
    if (ns(s.protocol)) str(S.protocol);
    if (ns(s.bed)) str(S.bed);
    if (ns(s.hardwareId)) str(S.hardwareId);
    if (ns(s.bedClaim)) str(S.bedClaim);
  }
  if (nz(b.kind)) i32f(B.kind, b.kind);
  if (nz(b.seq)) u64f(B.seq, b.seq);
  if (nb(b.backfill)) {
    tag(B.backfill, 0);
    buf[pos++] = 1;
  }
  if (nz(b.publishTimeUs)) u64f(B.publishTimeUs, b.publishTimeUs);
  for (const o of b.observations ?? []) writeObservation(o);
  for (const w of b.waves ?? []) writeWave(w);
  for (const a of b.alarms ?? []) writeAlarm(a);
  for (const s of b.statuses ?? []) writeStatus(s);
  for (const g of b.gaps ?? []) writeGap(g);
  if (pos !== size || sizeR !== sizeN || strR !== strN) throw new Error(`encodeBatch: wrote ${pos} of ${size} bytes`);
  strs.fill(undefined as unknown as Uint8Array, 0, strN); // let the string bytes go
  return Buffer.from(buf.subarray(0, size));
}

export type DecodedBatch = vitalwire.v1.Batch;
