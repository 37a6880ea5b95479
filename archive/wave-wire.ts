// Waveform chunks read straight from a Batch's wire bytes, their samples kept as they came. A chunk's samples are
// most of a wave Batch (125 to 1,800 per chunk); decoding them into a JS array and then into a DuckDB list was most of
// the loader's time per wave Batch and of its garbage, and nothing on the way to the store needs their values. So the
// archive stores them as the packed field's bytes (zigzag varints, protobuf encoding spec "Packed Repeated Fields" and
// "Signed Integers") with their count, and `unpackSamples` turns them into numbers when they are read (exports).
//
// Sans-I/O: bytes in, values out. Malformed bytes throw a RangeError (the loader keeps the payload in `reject`).
import * as F from '../proto/gen/fields.js';
import { PACKED_COLUMNS } from './schema.js';
import { I32, I64, LEN, VARINT } from '../lib/proto-wire.js';

/** A WaveformChunk with its samples as packed sint32 wire bytes (vitals.proto WaveformChunk). */
export interface WireWave {
  gatewayTimeUs: number;
  deviceTimeUs: number;
  clockOffsetUs: number;
  deviceUtcOffsetMin: number | null;
  mdc: number;
  refid: string;
  sampleRateHz: number;
  firstSample: number;
  /** The samples as packed zigzag varints (one run, whatever runs or unpacked elements they came in). */
  samples: Uint8Array;
  sampleCount: number;
  scale: number;
  offset: number;
  unit: string;
  invalidValue: number | null;
  vendorCode: string;
  flags: number;
}

/** A cursor over one message's bytes. */
class Reader {
  o: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.o = start;
  }

  /** A varint as a JS number: exact up to 2^53, two's complement for the 10-byte negatives of int64. */
  varint(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.o >= this.end) throw new RangeError('truncated varint');
      const x = this.b[this.o++] as number;
      if (shift < 28) lo |= (x & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (x & 0x0f) << 28;
        hi |= (x & 0x7f) >>> 4;
      } else hi |= (x & 0x7f) << (shift - 32);
      shift += 7;
      if (x < 0x80) return (hi | 0) * 0x1_0000_0000 + (lo >>> 0);
    }
    throw new RangeError('varint over 10 bytes');
  }

  /** The low 32 bits of a varint, unsigned (uint32; a longer varint is read whole and cut, as decoders do). */
  u32(): number {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (this.o >= this.end) throw new RangeError('truncated varint');
      const x = this.b[this.o++] as number;
      if (i < 5) v |= (x & 0x7f) << (7 * i);
      if (x < 0x80) return v >>> 0;
    }
    throw new RangeError('varint over 10 bytes');
  }

  /** A zigzag varint (sint32). */
  s32(): number {
    const n = this.u32();
    return (n >>> 1) ^ -(n & 1);
  }

  double(): number {
    if (this.o + 8 > this.end) throw new RangeError('truncated double');
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.o, 8).getFloat64(0, true);
    this.o += 8;
    return v;
  }

  /** The [start, end) of a length-delimited field's bytes. */
  len(): [number, number] {
    const n = this.varint();
    if (n < 0 || this.o + n > this.end) throw new RangeError('truncated length');
    const s = this.o;
    this.o += n;
    return [s, this.o];
  }

  string(): string {
    const [s, e] = this.len();
    return Buffer.from(this.b.buffer, this.b.byteOffset + s, e - s).toString('utf8');
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === I64) this.o += 8;
    else if (wire === I32) this.o += 4;
    else if (wire === LEN) this.len();
    else throw new RangeError(`wire type ${wire}`);
    if (this.o > this.end) throw new RangeError('truncated field');
  }
}

/** Varints in [s, e) one byte at a time: their count; a RangeError when one is over 10 bytes or the run ends inside one. */
function countVarintsBytewise(b: Uint8Array, s: number, e: number): number {
  let cont = 0;
  let run = 0;
  for (let i = s; i < e; i++) {
    if ((b[i] as number) >= 0x80) {
      cont++;
      if (++run === 10) throw new RangeError('varint over 10 bytes');
    } else run = 0;
  }
  if (run > 0) throw new RangeError('truncated packed samples');
  return e - s - cont;
}

/** The high bit of each byte of a 32-bit word, as the signed number JavaScript's `&` yields. */
const HIGH_BITS = 0x80808080 | 0;

/**
 * Varints in [s, e): the bytes below 0x80, counted four at a time (the high bits of a word, summed by one multiply).
 * The checks are lib/batch-check.ts packedVarints': the run ends on a last byte below 0x80, and a varint over 10 bytes
 * always covers an aligned word with all four high bits set, so only a run with such a word is looked at byte by byte.
 */
function countVarints(b: Uint8Array, s: number, e: number): number {
  if (e > s && (b[e - 1] as number) >= 0x80) throw new RangeError('truncated packed samples');
  const first = (b.byteOffset + s + 3) & ~3;
  const last = (b.byteOffset + e) & ~3;
  if (last - first < 64) return countVarintsBytewise(b, s, e);
  let cont = 0;
  for (let i = s; i < first - b.byteOffset; i++) cont += (b[i] as number) >> 7;
  const words = new Uint32Array(b.buffer, first, (last - first) >> 2);
  for (let i = 0; i < words.length; i++) {
    const h = (words[i] as number) & HIGH_BITS;
    if (h === HIGH_BITS) return countVarintsBytewise(b, s, e);
    cont += Math.imul(h >>> 7, 0x01010101) >>> 24;
  }
  for (let i = last - b.byteOffset; i < e; i++) cont += (b[i] as number) >> 7;
  return e - s - cont;
}

/**
 * A Batch's bytes split for the loader: `rest` is the Batch without its waves (field 11, for the generated decoder),
 * `waves` the bytes of each WaveformChunk in order. Only top-level fields move, so no length prefix changes.
 */
export function splitWaves(payload: Uint8Array): { rest: Uint8Array; waves: Uint8Array[] } {
  const r = new Reader(payload, 0, payload.length);
  const waves: Uint8Array[] = [];
  const keep: Uint8Array[] = [];
  let from = 0;
  while (r.o < r.end) {
    const at = r.o;
    const tag = r.varint();
    const wire = tag & 7;
    if (Math.floor(tag / 8) === F.Batch.waves && wire === LEN) {
      const [s, e] = r.len();
      if (at > from) keep.push(payload.subarray(from, at));
      waves.push(payload.subarray(s, e));
      from = e;
    } else r.skip(wire);
  }
  if (waves.length === 0) return { rest: payload, waves };
  if (payload.length > from) keep.push(payload.subarray(from));
  return { rest: Buffer.concat(keep), waves };
}

function readTiming(w: WireWave, t: Reader): void {
  while (t.o < t.end) {
    const tag = t.varint();
    const f = Math.floor(tag / 8);
    const wire = tag & 7;
    if (f === F.Timing.gatewayTimeUs && wire === VARINT) w.gatewayTimeUs = t.varint();
    else if (f === F.Timing.deviceTimeUs && wire === VARINT) w.deviceTimeUs = t.varint();
    else if (f === F.Timing.clockOffsetUs && wire === VARINT) w.clockOffsetUs = t.varint();
    else if (f === F.Timing.deviceUtcOffsetMin && wire === VARINT) w.deviceUtcOffsetMin = t.s32();
    else t.skip(wire);
  }
}

/** One WaveformChunk's bytes into its fields; the samples stay packed (a view into `b` when they came in one run). */
export function readWave(b: Uint8Array): WireWave {
  const w: WireWave = {
    gatewayTimeUs: 0,
    deviceTimeUs: 0,
    clockOffsetUs: 0,
    deviceUtcOffsetMin: null,
    mdc: 0,
    refid: '',
    sampleRateHz: 0,
    firstSample: 0,
    samples: EMPTY,
    sampleCount: 0,
    scale: 0,
    offset: 0,
    unit: '',
    invalidValue: null,
    vendorCode: '',
    flags: 0,
  };
  const r = new Reader(b, 0, b.length);
  let runs: Uint8Array[] | null = null;
  const W = F.WaveformChunk;
  while (r.o < r.end) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const wire = tag & 7;
    if (f === W.samples && wire === LEN) {
      const [s, e] = r.len();
      w.sampleCount += countVarints(b, s, e);
      (runs ??= []).push(b.subarray(s, e));
    } else if (f === W.samples && wire === VARINT) {
      // Unpacked elements: parsers must accept them (encoding spec); their bytes are the same varints.
      const s = r.o;
      r.varint();
      w.sampleCount++;
      (runs ??= []).push(b.subarray(s, r.o));
    } else if (f === W.time && wire === LEN) {
      const [s, e] = r.len();
      readTiming(w, new Reader(b, s, e));
    } else if (f === W.mdc && wire === VARINT) w.mdc = r.u32();
    else if (f === W.refid && wire === LEN) w.refid = r.string();
    else if (f === W.sampleRateHz && wire === I64) w.sampleRateHz = r.double();
    else if (f === W.firstSample && wire === VARINT) {
      const v = r.varint();
      w.firstSample = v < 0 ? v + 2 ** 64 : v; // uint64
    } else if (f === W.scale && wire === I64) w.scale = r.double();
    else if (f === W.offset && wire === I64) w.offset = r.double();
    else if (f === W.unit && wire === LEN) w.unit = r.string();
    else if (f === W.invalidValue && wire === VARINT) w.invalidValue = r.s32();
    else if (f === W.vendorCode && wire === LEN) w.vendorCode = r.string();
    else if (f === W.flags && wire === VARINT) w.flags = r.u32();
    else r.skip(wire);
  }
  if (runs) w.samples = runs.length === 1 ? (runs[0] as Uint8Array) : Buffer.concat(runs);
  return w;
}

const EMPTY = Buffer.alloc(0);

/** Packed sint32 wire bytes into their values. */
export function unpackSamples(b: Uint8Array): number[] {
  const out: number[] = [];
  const r = new Reader(b, 0, b.length);
  while (r.o < r.end) out.push(r.s32());
  return out;
}

/** Values into packed sint32 wire bytes (the inverse of unpackSamples). */
export function packSamples(values: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(values.length * 5);
  let o = 0;
  for (const v of values) {
    let n = ((v << 1) ^ (v >> 31)) >>> 0;
    while (n >= 0x80) {
      out[o++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[o++] = n;
  }
  return out.subarray(0, o);
}

/** Rows as a store read them, with each packed_sint32 column's bytes turned into numbers (in place). */
export function unpackRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows)
    for (const k of PACKED_COLUMNS) {
      const v = row[k];
      if (v instanceof Uint8Array) row[k] = unpackSamples(v);
    }
  return rows;
}
