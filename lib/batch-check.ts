// Does a payload decode as the contract says? A bounded, validating walk over the bytes of a vitalwire.v1.Batch
// (proto/vitalwire/v1/vitals.proto), for the broker's publish hook (issue 14, finding 11: a payload that does not decode
// as the contract says is refused where it enters). It allocates nothing on the way (a full decode builds an object
// per observation and an array per waveform), reads every byte range once, and checks what a decoder relies on:
//   - every tag well formed: a field number from 1 to 2^29-1, a wire type of proto3 (no groups), every varint ending
//     within 10 bytes, every length inside its message (protobuf encoding spec);
//   - each known field with its declared wire type (a packed repeated scalar also unpacked, as parsers must accept),
//     its sub-messages walked the same way, its strings well-formed UTF-8 (proto3 `string`); unknown fields skipped by
//     their wire type, so an additive contract change passes;
//   - Batch.source's site, gateway and device and Batch.kind equal to what the topic says (protobuf merge semantics:
//     the last value of each field counts, across repeated Source fields too).
// Field numbers come from the generated proto/gen/fields.ts; lib/batch-check.test.ts holds the wire types below to the
// schema itself, loaded with protobufjs' reflection, so the two cannot drift apart.
import { isUtf8 } from 'node:buffer';
import * as F from '../proto/gen/fields.js';
import { I32, I64, LEN, VARINT } from './proto-wire.js';

/** What a payload is not, when it is not a Batch of the topic it came on. */
export type BatchProblem =
  | 'truncated' // a varint or a length runs past its message
  | 'bad-tag' // field number 0 or beyond 2^29-1, a group or an unknown wire type, a varint over 10 bytes
  | 'wire-type' // a known field with another wire type than the schema's
  | 'bad-utf8' // a string field that is not UTF-8
  | 'source-mismatch' // Source site, gateway or device absent or not the topic's
  | 'kind-mismatch'; // Batch.kind absent or not the topic's

/** What the topic says the Batch must carry: the site, gateway and device segments (ASCII) and the Kind number. */
export interface ExpectedBatch {
  site: Uint8Array;
  gateway: Uint8Array;
  device: Uint8Array;
  kind: number;
}

const MAX_FIELD = 2 ** 29 - 1;
/** The high bit of each byte of a 32-bit word, as the signed number JavaScript's `&` yields. */
const HIGH_BITS = 0x80808080 | 0;

const SCALAR = 0;
const STRING = 1;
const MESSAGE = 2;
const PACKED = 3;
/**
 * How a field is read: a scalar of its wire type, a string, a sub-message, or a packed repeated varint scalar. One
 * object shape for all, so the walk's property reads stay monomorphic.
 */
interface Field {
  wire: number;
  read: typeof SCALAR | typeof STRING | typeof MESSAGE | typeof PACKED;
  message: Message | null;
}
type Message = (Field | undefined)[];

const varint: Field = { wire: VARINT, read: SCALAR, message: null };
const fixed64: Field = { wire: I64, read: SCALAR, message: null };
const string: Field = { wire: LEN, read: STRING, message: null };
const packed: Field = { wire: LEN, read: PACKED, message: null };
const message = (m: Message): Field => ({ wire: LEN, read: MESSAGE, message: m });

/** A message's fields by number, from name -> Field pairs keyed by the generated numbers. */
function fields<N extends Record<string, number>>(numbers: N, spec: { [K in keyof N]: Field }): Message {
  const m: Message = [];
  for (const [name, n] of Object.entries(numbers)) m[n] = spec[name as keyof N];
  return m;
}

const SOURCE = fields(F.Source, {
  site: string,
  gateway: string,
  device: string,
  model: string,
  protocol: string,
  bed: string,
  hardwareId: string,
  bedClaim: string,
});
const TIMING = fields(F.Timing, {
  gatewayTimeUs: varint,
  deviceTimeUs: varint,
  clockOffsetUs: varint,
  deviceUtcOffsetMin: varint,
});
const CODE = fields(F.Code, { mdc: varint, refid: string, text: string });
const OBSERVATION = fields(F.Observation, {
  time: message(TIMING),
  mdc: varint,
  refid: string,
  number: fixed64,
  code: message(CODE),
  text: string,
  unit: string,
  unitMdc: varint,
  vendorCode: string,
  vendorUnit: string,
  flags: varint,
  containment: string,
  method: string,
  range: string,
  sentNumber: fixed64,
});
const WAVE = fields(F.WaveformChunk, {
  time: message(TIMING),
  mdc: varint,
  refid: string,
  sampleRateHz: fixed64,
  firstSample: varint,
  samples: packed,
  scale: fixed64,
  offset: fixed64,
  unit: string,
  invalidValue: varint,
  vendorCode: string,
  flags: varint,
});
const FACET = fields(F.AlarmFacet, { mdc: varint, refid: string, value: string, unit: string, containment: string });
const ALARM = fields(F.Alarm, {
  time: message(TIMING),
  id: string,
  mdc: varint,
  refid: string,
  text: string,
  priority: varint,
  kind: varint,
  state: varint,
  phase: varint,
  inactivation: varint,
  sourceMdc: varint,
  sourceRefid: string,
  vendorCode: string,
  flags: varint,
  sourceValue: fixed64,
  sourceUnit: string,
  limitLow: fixed64,
  limitHigh: fixed64,
  limits: string,
  sourceContainment: string,
  facets: message(FACET),
});
const STATUS = fields(F.DeviceStatus, {
  time: message(TIMING),
  state: varint,
  reason: string,
  framesOk: varint,
  framesBad: varint,
  garbageBytes: varint,
  unmapped: varint,
  reconnects: varint,
  queueDepth: varint,
  clockSynced: varint,
  lastFrameTimeUs: varint,
  diagnosis: string,
  session: string,
  flags: varint,
});
const GAP = fields(F.Gap, {
  kind: varint,
  fromSeq: varint,
  toSeq: varint,
  waveMdc: varint,
  fromSample: varint,
  sampleCount: varint,
  fromTimeUs: varint,
  toTimeUs: varint,
  reason: varint,
});
const BATCH = fields(F.Batch, {
  source: message(SOURCE),
  kind: varint,
  seq: varint,
  backfill: varint,
  publishTimeUs: varint,
  observations: message(OBSERVATION),
  waves: message(WAVE),
  alarms: message(ALARM),
  statuses: message(STATUS),
  gaps: message(GAP),
});

/** The schema as this module reads it, for the test that holds it to the .proto. */
export const BATCH_LAYOUT: Readonly<Record<string, Message>> = {
  Batch: BATCH,
  Source: SOURCE,
  Timing: TIMING,
  Code: CODE,
  Observation: OBSERVATION,
  WaveformChunk: WAVE,
  AlarmFacet: FACET,
  Alarm: ALARM,
  DeviceStatus: STATUS,
  Gap: GAP,
};

/** The walk's position and findings: one per call, reused; nothing else is allocated. */
interface Walk {
  b: Uint8Array;
  pos: number;
  /** The last varint read, when it fits in 32 bits (tags, lengths, enum values); -1 when larger. */
  value: number;
  problem: BatchProblem | null;
  expected: ExpectedBatch;
  /** Whether the last value seen of Source.site, .gateway, .device and of Batch.kind is the expected one. */
  siteOk: boolean;
  gatewayOk: boolean;
  deviceOk: boolean;
  kindOk: boolean;
}

/** Reads one varint ending before `end`; false (with the problem set) when it does not. */
function readVarint(w: Walk, end: number): boolean {
  const b = w.b;
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (w.pos >= end) {
      w.problem = 'truncated';
      return false;
    }
    const x = b[w.pos++] as number;
    if (shift < 28) value |= (x & 0x7f) << shift;
    else if (shift === 28) value = (x & 0x70) === 0 ? (value | ((x & 0x0f) << 28)) >>> 0 : -1;
    else if ((x & 0x7f) !== 0) value = -1;
    shift += 7;
    if (x < 0x80) {
      w.value = value;
      return true;
    }
  }
  w.problem = 'bad-tag';
  return false;
}

/** Well-formed UTF-8 in b[from, to): one pass when ASCII, the platform's validator otherwise. */
function utf8(b: Uint8Array, from: number, to: number): boolean {
  let ascii = true;
  for (let i = from; i < to; i++) {
    if ((b[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  return ascii || isUtf8(b.subarray(from, to));
}

/** b[from, to) equals the ASCII bytes `s`. */
function same(b: Uint8Array, from: number, to: number, s: Uint8Array): boolean {
  if (to - from !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[from + i] !== s[i]) return false;
  return true;
}

/** Byte by byte: no varint in b[from, to) over 10 bytes, and the last one ends inside. */
function packedVarintsBytewise(b: Uint8Array, from: number, to: number): BatchProblem | null {
  let run = 0;
  for (let i = from; i < to; i++) {
    if ((b[i] as number) >= 0x80) {
      if (++run === 10) return 'bad-tag';
    } else run = 0;
  }
  return run === 0 ? null : 'truncated';
}

/**
 * A packed repeated varint field (WaveformChunk.samples, most of a wave Batch's bytes): every varint ends inside the
 * field and none is over 10 bytes. A field ends inside when its last byte is below 0x80; a varint over 10 bytes has
 * 10 continuation bytes in a row, which always cover one aligned 4-byte word whose four high bits are all set. So the
 * words are scanned, four bytes per step, and only a field with such a word is looked at byte by byte (a sample needs
 * four continuation bytes only from |value| >= 2^27; device samples are 12 to 24 bits).
 */
function packedVarints(b: Uint8Array, from: number, to: number): BatchProblem | null {
  if (to > from && (b[to - 1] as number) >= 0x80) return 'truncated';
  const first = (b.byteOffset + from + 3) & ~3;
  const last = (b.byteOffset + to) & ~3;
  if (last - first < 64) return packedVarintsBytewise(b, from, to);
  const words = new Uint32Array(b.buffer, first, (last - first) >> 2);
  for (let i = 0; i < words.length; i++)
    if (((words[i] as number) & HIGH_BITS) === HIGH_BITS) return packedVarintsBytewise(b, from, to);
  return null;
}

/** Walks one message in w.b[w.pos, end) against `m`. */
function walk(w: Walk, m: Message, end: number): boolean {
  const b = w.b;
  while (w.pos < end) {
    if (!readVarint(w, end)) return false;
    const tag = w.value;
    const number = tag >>> 3;
    const wire = tag & 7;
    if (tag < 0 || number === 0 || number > MAX_FIELD) {
      w.problem = 'bad-tag';
      return false;
    }
    const f = m[number];
    if (f !== undefined && f.wire !== wire && !(f.read === PACKED && wire === VARINT)) {
      w.problem = 'wire-type';
      return false;
    }
    switch (wire) {
      case VARINT:
        if (!readVarint(w, end)) return false;
        if (m === BATCH && number === F.Batch.kind) w.kindOk = w.value === w.expected.kind;
        break;
      case I64:
      case I32: {
        const n = wire === I64 ? 8 : 4;
        if (end - w.pos < n) {
          w.problem = 'truncated';
          return false;
        }
        w.pos += n;
        break;
      }
      case LEN: {
        if (!readVarint(w, end)) return false;
        const len = w.value;
        if (len < 0 || len > end - w.pos) {
          w.problem = 'truncated';
          return false;
        }
        const from = w.pos;
        const to = from + len;
        if (f === undefined) {
          // an unknown field: skipped
        } else if (f.read === MESSAGE) {
          if (!walk(w, f.message as Message, to)) return false;
        } else if (f.read === STRING) {
          if (!utf8(b, from, to)) {
            w.problem = 'bad-utf8';
            return false;
          }
          if (m === SOURCE) {
            if (number === F.Source.site) w.siteOk = same(b, from, to, w.expected.site);
            else if (number === F.Source.gateway) w.gatewayOk = same(b, from, to, w.expected.gateway);
            else if (number === F.Source.device) w.deviceOk = same(b, from, to, w.expected.device);
          }
        } else {
          const problem = packedVarints(b, from, to);
          if (problem !== null) {
            w.problem = problem;
            return false;
          }
        }
        w.pos = to;
        break;
      }
      default:
        w.problem = 'bad-tag'; // 3 and 4 are groups, which proto3 does not have; 6 and 7 are not wire types
        return false;
    }
  }
  return true;
}

const shared: Walk = {
  b: new Uint8Array(0),
  pos: 0,
  value: 0,
  problem: null,
  expected: { site: new Uint8Array(0), gateway: new Uint8Array(0), device: new Uint8Array(0), kind: 0 },
  siteOk: false,
  gatewayOk: false,
  deviceOk: false,
  kindOk: false,
};

/** null when `payload` is a well-formed vitalwire.v1.Batch of the expected source and kind, else what is wrong. */
export function checkBatch(payload: Uint8Array, expected: ExpectedBatch): BatchProblem | null {
  const w = shared;
  w.b = payload;
  w.pos = 0;
  w.problem = null;
  w.expected = expected;
  w.siteOk = false;
  w.gatewayOk = false;
  w.deviceOk = false;
  w.kindOk = false;
  const ok = walk(w, BATCH, payload.length);
  w.b = shared.expected.site; // hold no reference to the payload
  if (!ok) return w.problem;
  if (!w.siteOk || !w.gatewayOk || !w.deviceOk) return 'source-mismatch';
  if (!w.kindOk) return 'kind-mismatch';
  return null;
}
