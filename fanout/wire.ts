// Byte-level helpers of the fan-out. Sans-I/O. The fan-out never decodes a whole Batch: it reads the few header
// fields it routes on (seq, publish time, the Source sub-message) by walking the top-level tags, and forwards the
// gateway's bytes unchanged behind a varint length prefix (protobuf's length-delimited stream format).
import $protobuf from 'protobufjs/minimal.js';
import { Batch, GapReason, Kind, Source } from '../proto/index.js';
import type { StreamName } from './protocol.js';

const Reader = $protobuf.Reader;

export interface BatchHeader {
  seq: number;
  /** Batch.backfill: replayed from the gateway's outbox after an outage. */
  backfill: boolean;
  publishTimeUs: number;
  /** Byte range of the encoded Source inside the payload (0/0 when absent). */
  sourceStart: number;
  sourceEnd: number;
}

/** Reads seq, backfill, publish_time_us and where the Source lies; null when the bytes are not a well-formed Batch prefix. */
export function peekBatch(payload: Uint8Array): BatchHeader | null {
  const h: BatchHeader = { seq: 0, backfill: false, publishTimeUs: 0, sourceStart: 0, sourceEnd: 0 };
  try {
    const r = Reader.create(payload);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) return null;
      if (field === 1 && wire === 2) {
        const len = r.uint32();
        h.sourceStart = r.pos;
        r.skip(len);
        h.sourceEnd = r.pos;
      } else if (field === 3 && wire === 0) {
        h.seq = Number(r.uint64());
      } else if (field === 4 && wire === 0) {
        h.backfill = r.bool();
      } else if (field === 5 && wire === 0) {
        h.publishTimeUs = Number(r.int64());
      } else {
        r.skipType(wire);
      }
    }
    return h;
  } catch {
    return null;
  }
}

/**
 * The metric codes a numerics Batch carries (Observation.mdc of each entry, in order), read without decoding: the
 * Batch's "shape". A device sends a few shapes (vitals every second, NIBP per cuff cycle, temperature); a ward tile
 * needs the newest Batch of each. '' when unreadable.
 */
export function obsShape(payload: Uint8Array): string {
  let shape = '';
  try {
    const r = Reader.create(payload);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 10 && (tag & 7) === 2) {
        const end = r.uint32() + r.pos;
        let mdc = 0;
        while (r.pos < end) {
          const t = r.uint32();
          if (t === 2 << 3) mdc = r.uint32();
          else r.skipType(t & 7);
        }
        shape += shape ? `,${mdc}` : String(mdc);
        if (shape.length > 256) return shape; // enough to tell shapes apart
      } else r.skipType(tag & 7);
    }
  } catch {
    return '';
  }
  return shape;
}

/** Source fields the fan-out shows in bed lists: ids and labels only. */
export function readSource(payload: Uint8Array, h: BatchHeader): { bed: string; model: string } {
  if (h.sourceEnd <= h.sourceStart) return { bed: '', model: '' };
  try {
    const s = Source.decode(payload.subarray(h.sourceStart, h.sourceEnd));
    return { bed: s.bed.slice(0, 64), model: s.model.slice(0, 64) };
  } catch {
    return { bed: '', model: '' };
  }
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** varint(length) ++ payload: one copy per published message, shared by the ring and every client. */
export function delimit(payload: Uint8Array): Buffer {
  const n = payload.length;
  const out = Buffer.allocUnsafe(varintSize(n) + n);
  let i = 0;
  let v = n;
  while (v >= 0x80) {
    out[i++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[i++] = v;
  out.set(payload, i);
  return out;
}

/** Splits a delimited stream back into payloads (tests, bench clients). Throws on a truncated stream. */
export function* undelimit(buf: Uint8Array): Generator<Uint8Array> {
  let i = 0;
  while (i < buf.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new RangeError('truncated length prefix');
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 28) throw new RangeError('length prefix too long');
    }
    if (i + len > buf.length) throw new RangeError('truncated message');
    yield buf.subarray(i, i + len);
    i += len;
  }
}

export const KIND_OF_STREAM: Record<StreamName, number> = {
  obs: Kind.KIND_OBS,
  wave: Kind.KIND_WAVE,
  alarm: Kind.KIND_ALARM,
  status: Kind.KIND_STATUS,
};

export interface GapRange {
  site: string;
  gateway: string;
  device: string;
  stream: StreamName;
  fromSeq: number;
  toSeq: number;
  fromTimeUs: number;
  toTimeUs: number;
}

/**
 * A Batch declaring that the fan-out dropped Batches of one stream for this client (slow client policy). seq 0:
 * it is not part of the gateway's numbering. Encoded once per gap, delimited like the rest.
 */
export function encodeSlowClientGap(g: GapRange): Buffer {
  const bytes = Batch.encode({
    source: { site: g.site, gateway: g.gateway, device: g.device },
    kind: KIND_OF_STREAM[g.stream],
    seq: 0,
    publishTimeUs: Math.round(Date.now() * 1000),
    gaps: [
      {
        kind: KIND_OF_STREAM[g.stream],
        fromSeq: g.fromSeq,
        toSeq: g.toSeq,
        fromTimeUs: g.fromTimeUs,
        toTimeUs: g.toTimeUs,
        reason: GapReason.GAP_REASON_SLOW_CLIENT,
      },
    ],
  }).finish();
  return delimit(bytes);
}
