// A hand-written encoder for vitalwire.v1.Batch, byte-identical to the generated protobufjs
// encoder (a property test holds the two together), built for the publish hot path: sizes are
// computed first so the message is written once into one buffer, and the UTF-8 bytes of the
// strings that repeat in every message (codes, units, ids) are cached instead of re-encoded.
// The generated code stays the decoder everywhere and the reference encoder.
import $protobuf from 'protobufjs/minimal.js';
import { Observation as ObservationCodec } from './index.js';
import type { IAlarm, IBatch, IDeviceStatus, IGap, IObservation, ISource, ITiming, IWaveformChunk } from './index.js';
import type { vitalwire } from './gen/vitals.js';

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
  for (const k of ['mdc', 'refid', 'unit', 'unitMdc', 'vendorCode', 'vendorUnit', 'containment', 'method', 'range'] as const) {
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
  if (nz(t.gatewayTimeUs)) n += 1 + varint64Size(t.gatewayTimeUs);
  if (nz(t.deviceTimeUs)) n += 1 + varint64Size(t.deviceTimeUs);
  if (nz(t.clockOffsetUs)) n += 1 + varint64Size(t.clockOffsetUs);
  if (has(t.deviceUtcOffsetMin)) n += 1 + varint32Size(zz32(t.deviceUtcOffsetMin));
  lastTiming = t;
  lastTimingSize = n;
  return n;
}
function sub(size: number): number {
  return varint32Size(size) + size;
}
function observationSize(o: WithPre): number {
  const slot = reserve();
  let n = 0;
  if (has(o.time)) n += 1 + sub(timingSize(o.time));
  const pre = o[PRE_ENCODED];
  const own = pre === undefined; // static fields encoded here, not pre-encoded
  if (!own) n += pre.length;
  if (own && nz(o.mdc)) n += 1 + varint32Size(o.mdc);
  if (own && ns(o.refid)) n += 1 + strSize(o.refid);
  if (has(o.number)) n += 9;
  if (has(o.code)) {
    const cslot = reserve();
    let c = 0;
    if (nz(o.code.mdc)) c += 1 + varint32Size(o.code.mdc);
    if (ns(o.code.refid)) c += 1 + strSize(o.code.refid);
    if (ns(o.code.text)) c += 1 + strSize(o.code.text);
    sizes[cslot] = c;
    n += 1 + sub(c);
  }
  if (has(o.text)) n += 1 + strSize(o.text);
  if (own && ns(o.unit)) n += 1 + strSize(o.unit);
  if (own && nz(o.unitMdc)) n += 1 + varint32Size(o.unitMdc);
  if (own && ns(o.vendorCode)) n += 1 + strSize(o.vendorCode);
  if (own && ns(o.vendorUnit)) n += 1 + strSize(o.vendorUnit);
  if (nz(o.flags)) n += 1 + varint32Size(o.flags);
  if (own && ns(o.containment)) n += 1 + strSize(o.containment);
  if (own && ns(o.method)) n += 1 + strSize(o.method);
  if (own && ns(o.range)) n += 1 + strSize(o.range);
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
  const slot = reserve();
  let n = 0;
  if (has(w.time)) n += 1 + sub(timingSize(w.time));
  if (nz(w.mdc)) n += 1 + varint32Size(w.mdc);
  if (ns(w.refid)) n += 1 + strSize(w.refid);
  if (nd(w.sampleRateHz)) n += 9;
  if (nz(w.firstSample)) n += 1 + varint64Size(w.firstSample);
  if (has(w.samples) && w.samples.length > 0) {
    // Packed once here, copied in the write pass: each sample is varint-encoded a single time.
    const sslot = reserve();
    const at = reserve();
    sizes[at] = packedN;
    const ss = packSamples(w.samples);
    sizes[sslot] = ss;
    n += 1 + sub(ss);
  }
  if (nd(w.scale)) n += 9;
  if (nd(w.offset)) n += 9;
  if (ns(w.unit)) n += 1 + strSize(w.unit);
  if (has(w.invalidValue)) n += 1 + varint32Size(zz32(w.invalidValue));
  if (ns(w.vendorCode)) n += 1 + strSize(w.vendorCode);
  if (nz(w.flags)) n += 1 + varint32Size(w.flags);
  sizes[slot] = n;
  return n;
}
function alarmSize(a: IAlarm): number {
  const slot = reserve();
  let n = 0;
  if (has(a.time)) n += 1 + sub(timingSize(a.time));
  if (ns(a.id)) n += 1 + strSize(a.id);
  if (nz(a.mdc)) n += 1 + varint32Size(a.mdc);
  if (ns(a.refid)) n += 1 + strSize(a.refid);
  if (ns(a.text)) n += 1 + strSize(a.text);
  if (nz(a.priority)) n += 1 + int32Size(a.priority);
  if (nz(a.kind)) n += 1 + int32Size(a.kind);
  if (nz(a.state)) n += 1 + int32Size(a.state);
  if (nz(a.phase)) n += 1 + int32Size(a.phase);
  if (nz(a.inactivation)) n += 1 + int32Size(a.inactivation);
  if (nz(a.sourceMdc)) n += 1 + varint32Size(a.sourceMdc);
  if (ns(a.sourceRefid)) n += 1 + strSize(a.sourceRefid);
  if (ns(a.vendorCode)) n += 1 + strSize(a.vendorCode);
  if (nz(a.flags)) n += 1 + varint32Size(a.flags);
  sizes[slot] = n;
  return n;
}
function statusSize(s: IDeviceStatus): number {
  const slot = reserve();
  let n = 0;
  if (has(s.time)) n += 1 + sub(timingSize(s.time));
  if (nz(s.state)) n += 1 + int32Size(s.state);
  if (ns(s.reason)) n += 1 + strSize(s.reason);
  for (const v of [s.framesOk, s.framesBad, s.garbageBytes, s.unmapped, s.reconnects, s.queueDepth]) if (nz(v)) n += 1 + varint64Size(v);
  if (nb(s.clockSynced)) n += 2;
  sizes[slot] = n;
  return n;
}
function gapSize(g: IGap): number {
  let n = 0;
  if (nz(g.kind)) n += 1 + int32Size(g.kind);
  for (const v of [g.fromSeq, g.toSeq]) if (nz(v)) n += 1 + varint64Size(v);
  if (nz(g.waveMdc)) n += 1 + varint32Size(g.waveMdc);
  for (const v of [g.fromSample, g.sampleCount, g.fromTimeUs, g.toTimeUs]) if (nz(v)) n += 1 + varint64Size(v);
  if (nz(g.reason)) n += 1 + int32Size(g.reason);
  return n;
}
function sourceSize(s: ISource): number {
  const slot = reserve();
  let n = 0;
  for (const v of [s.site, s.gateway, s.device, s.model, s.protocol, s.bed, s.hardwareId]) if (ns(v)) n += 1 + strSize(v);
  sizes[slot] = n;
  return n;
}

// ---- writing -------------------------------------------------------------------------------
let buf = new Uint8Array(64 * 1024);
let view = new DataView(buf.buffer);
let pos = 0;

function tag(field: number, wire: number): void {
  buf[pos++] = (field << 3) | wire; // every field number here is < 16: one byte
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
  tag(field, 2);
  varint32(timingSize(t));
  if (nz(t.gatewayTimeUs)) {
    tag(1, 0);
    varint64(t.gatewayTimeUs);
  }
  if (nz(t.deviceTimeUs)) {
    tag(2, 0);
    varint64(t.deviceTimeUs);
  }
  if (nz(t.clockOffsetUs)) {
    tag(3, 0);
    varint64(t.clockOffsetUs);
  }
  if (has(t.deviceUtcOffsetMin)) {
    tag(4, 0);
    varint32(zz32(t.deviceUtcOffsetMin));
  }
}
function writeObservation(o: WithPre): void {
  tag(10, 2);
  varint32(nextSize());
  if (has(o.time)) writeTiming(1, o.time);
  const pre = o[PRE_ENCODED];
  const own = pre === undefined;
  if (!own) {
    buf.set(pre, pos);
    pos += pre.length;
  }
  if (own && nz(o.mdc)) {
    tag(2, 0);
    varint32(o.mdc);
  }
  if (own && ns(o.refid)) str(3);
  if (has(o.number)) {
    tag(4, 1);
    double(o.number);
  }
  if (has(o.code)) {
    const c = o.code;
    tag(5, 2);
    varint32(nextSize());
    if (nz(c.mdc)) {
    tag(1, 0);
    varint32(c.mdc);
  }
    if (ns(c.refid)) str(2);
    if (ns(c.text)) str(3);
  }
  if (has(o.text)) str(6);
  if (own && ns(o.unit)) str(7);
  if (own && nz(o.unitMdc)) {
    tag(8, 0);
    varint32(o.unitMdc);
  }
  if (own && ns(o.vendorCode)) str(9);
  if (own && ns(o.vendorUnit)) str(10);
  if (nz(o.flags)) {
    tag(11, 0);
    varint32(o.flags);
  }
  if (own && ns(o.containment)) str(12);
  if (own && ns(o.method)) str(13);
  if (own && ns(o.range)) str(14);
}
function writeWave(w: IWaveformChunk): void {
  tag(11, 2);
  varint32(nextSize());
  if (has(w.time)) writeTiming(1, w.time);
  if (nz(w.mdc)) {
    tag(2, 0);
    varint32(w.mdc);
  }
  if (ns(w.refid)) str(3);
  if (nd(w.sampleRateHz)) {
    tag(4, 1);
    double(w.sampleRateHz);
  }
  if (nz(w.firstSample)) {
    tag(5, 0);
    varint64(w.firstSample);
  }
  if (has(w.samples) && w.samples.length > 0) {
    tag(6, 2);
    const len = nextSize();
    const at = nextSize();
    varint32(len);
    buf.set(packed.subarray(at, at + len), pos);
    pos += len;
  }
  if (nd(w.scale)) {
    tag(7, 1);
    double(w.scale);
  }
  if (nd(w.offset)) {
    tag(8, 1);
    double(w.offset);
  }
  if (ns(w.unit)) str(9);
  if (has(w.invalidValue)) {
    tag(10, 0);
    varint32(zz32(w.invalidValue));
  }
  if (ns(w.vendorCode)) str(11);
  if (nz(w.flags)) {
    tag(12, 0);
    varint32(w.flags);
  }
}
function writeAlarm(a: IAlarm): void {
  tag(12, 2);
  varint32(nextSize());
  if (has(a.time)) writeTiming(1, a.time);
  if (ns(a.id)) str(2);
  if (nz(a.mdc)) {
    tag(3, 0);
    varint32(a.mdc);
  }
  if (ns(a.refid)) str(4);
  if (ns(a.text)) str(5);
  if (nz(a.priority)) {
    tag(6, 0);
    int32(a.priority);
  }
  if (nz(a.kind)) {
    tag(7, 0);
    int32(a.kind);
  }
  if (nz(a.state)) {
    tag(8, 0);
    int32(a.state);
  }
  if (nz(a.phase)) {
    tag(9, 0);
    int32(a.phase);
  }
  if (nz(a.inactivation)) {
    tag(10, 0);
    int32(a.inactivation);
  }
  if (nz(a.sourceMdc)) {
    tag(11, 0);
    varint32(a.sourceMdc);
  }
  if (ns(a.sourceRefid)) str(12);
  if (ns(a.vendorCode)) str(13);
  if (nz(a.flags)) {
    tag(14, 0);
    varint32(a.flags);
  }
}
function writeStatus(s: IDeviceStatus): void {
  tag(13, 2);
  varint32(nextSize());
  if (has(s.time)) writeTiming(1, s.time);
  if (nz(s.state)) {
    tag(2, 0);
    int32(s.state);
  }
  if (ns(s.reason)) str(3);
  const counters = [s.framesOk, s.framesBad, s.garbageBytes, s.unmapped, s.reconnects, s.queueDepth];
  for (let i = 0; i < counters.length; i++) {
    const v = counters[i];
    if (nz(v)) {
      tag(4 + i, 0);
      varint64(v);
    }
  }
  if (nb(s.clockSynced)) {
    tag(10, 0);
    (buf[pos++] = s.clockSynced ? 1 : 0);
  }
}
function writeGap(g: IGap): void {
  tag(14, 2);
  varint32(gapSize(g));
  if (nz(g.kind)) {
    tag(1, 0);
    int32(g.kind);
  }
  if (nz(g.fromSeq)) {
    tag(2, 0);
    varint64(g.fromSeq);
  }
  if (nz(g.toSeq)) {
    tag(3, 0);
    varint64(g.toSeq);
  }
  if (nz(g.waveMdc)) {
    tag(4, 0);
    varint32(g.waveMdc);
  }
  if (nz(g.fromSample)) {
    tag(5, 0);
    varint64(g.fromSample);
  }
  if (nz(g.sampleCount)) {
    tag(6, 0);
    varint64(g.sampleCount);
  }
  if (nz(g.fromTimeUs)) {
    tag(7, 0);
    varint64(g.fromTimeUs);
  }
  if (nz(g.toTimeUs)) {
    tag(8, 0);
    varint64(g.toTimeUs);
  }
  if (nz(g.reason)) {
    tag(9, 0);
    int32(g.reason);
  }
}

/** Encoded size of a Batch, in bytes (and the scratch the write pass consumes). */
export function batchSize(b: IBatch): number {
  sizeN = 0;
  strN = 0;
  packedN = 0;
  lastTiming = null; // a Timing may have been changed since the last batch
  let n = 0;
  if (has(b.source)) n += 1 + sub(sourceSize(b.source));
  if (nz(b.kind)) n += 1 + int32Size(b.kind);
  if (nz(b.seq)) n += 1 + varint64Size(b.seq);
  if (nb(b.backfill)) n += 2;
  if (nz(b.publishTimeUs)) n += 1 + varint64Size(b.publishTimeUs);
  for (const o of b.observations ?? []) n += 1 + sub(observationSize(o));
  for (const w of b.waves ?? []) n += 1 + sub(waveSize(w));
  for (const a of b.alarms ?? []) n += 1 + sub(alarmSize(a));
  for (const s of b.statuses ?? []) n += 1 + sub(statusSize(s));
  for (const g of b.gaps ?? []) n += 1 + sub(gapSize(g));
  return n;
}

/** Encodes a Batch into a new Buffer of exactly its size. */
export function encodeBatch(b: IBatch): Buffer {
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
    tag(1, 2);
    varint32(nextSize());
    const fields = [s.site, s.gateway, s.device, s.model, s.protocol, s.bed, s.hardwareId];
    for (let i = 0; i < fields.length; i++) {
      const v = fields[i];
      if (ns(v)) str(i + 1);
    }
  }
  if (nz(b.kind)) {
    tag(2, 0);
    int32(b.kind);
  }
  if (nz(b.seq)) {
    tag(3, 0);
    varint64(b.seq);
  }
  if (nb(b.backfill)) {
    tag(4, 0);
    (buf[pos++] = b.backfill ? 1 : 0);
  }
  if (nz(b.publishTimeUs)) {
    tag(5, 0);
    varint64(b.publishTimeUs);
  }
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
