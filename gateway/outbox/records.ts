// The outbox's on-disk record format, sans-I/O: bytes in, records out. docs/gateway.md describes it.
//
//   frame = u32 LE body length | u32 LE CRC-32 of the body | body
//   body  = u8 type | ...
//     DATA (1)     f64 id | f64 seq | f64 fromUs | f64 toUs | u8 kind | u8 flags | u8 device length | device |
//                  u8 ref length | ref | payload (the encoded vitalwire.v1.Batch, published as it is)
//     ACK (2)      u32 count | count x f64 id             (PUBACKed records; written without fsync)
//     SNAPSHOT (3) UTF-8 JSON                             (first record of every segment: seqs, ids, refs)
//
// Framing and torn-tail rules: lib/framed-records.ts (shared with the archive's journal).
import { crc32 } from 'node:zlib';
import { FRAME_HEADER_BYTES, frameRecord } from '../../lib/framed-records.js';

export { FRAME_HEADER_BYTES, MAX_BODY_BYTES, scanFrames, type ScanResult } from '../../lib/framed-records.js';

export const REC_DATA = 1;
export const REC_ACK = 2;
export const REC_SNAPSHOT = 3;
/** Flags of a DATA record. */
export const FLAG_RETAIN = 1;

const DATA_FIXED = 1 + 8 * 4 + 1 + 1 + 1;

export interface DataHeader {
  id: number;
  seq: number;
  fromUs: number;
  toUs: number;
  /** vitalwire.v1.Kind */
  kind: number;
  flags: number;
  device: string;
  /** Deduplication reference of the input (HL7 MSH-10 + checksum), '' when none. */
  ref: string;
}

/** Bytes a publish appends to a stored Batch (backfill + publish time): room for them follows each payload. */
export const PUBLISH_TAIL_MAX = 13;

/**
 * The frame of a DATA record, allocated with PUBLISH_TAIL_MAX spare bytes after it, so the publisher can send the
 * payload plus its tail from this one buffer. Returns the buffer (frame + spare), the frame's length and where the
 * payload starts.
 */
export function encodeData(
  h: DataHeader,
  payload: Uint8Array,
): { buf: Buffer; frameLength: number; payloadOffset: number } {
  const dev = Buffer.from(h.device, 'latin1');
  const ref = Buffer.from(h.ref, 'latin1');
  if (dev.length > 255 || ref.length > 255) throw new RangeError('device id or ref longer than 255 bytes');
  const len = DATA_FIXED + dev.length + 1 + ref.length + payload.length;
  const out = Buffer.allocUnsafeSlow(FRAME_HEADER_BYTES + len + PUBLISH_TAIL_MAX);
  out.writeUInt32LE(len, 0);
  let o = FRAME_HEADER_BYTES;
  out[o++] = REC_DATA;
  o = out.writeDoubleLE(h.id, o);
  o = out.writeDoubleLE(h.seq, o);
  o = out.writeDoubleLE(h.fromUs, o);
  o = out.writeDoubleLE(h.toUs, o);
  out[o++] = h.kind;
  out[o++] = h.flags;
  out[o++] = dev.length;
  o += dev.copy(out, o);
  out[o++] = ref.length;
  o += ref.copy(out, o);
  out.set(payload, o);
  const frameLength = FRAME_HEADER_BYTES + len;
  out.writeUInt32LE(crc32(out.subarray(FRAME_HEADER_BYTES, frameLength)), 4);
  return { buf: out, frameLength, payloadOffset: o };
}

/**
 * Writes the publish tail (protobuf fields 4 `backfill` and 5 `publish_time_us`; a later field wins, so they can follow
 * the stored Batch) at buf[at]; returns its length (at most PUBLISH_TAIL_MAX).
 */
export function writePublishTail(buf: Buffer, at: number, backfill: boolean, publishTimeUs: number): number {
  let o = at;
  if (backfill) {
    buf[o++] = 0x20; // field 4, varint
    buf[o++] = 1;
  }
  buf[o++] = 0x28; // field 5, varint
  let v = Math.max(0, Math.floor(publishTimeUs));
  while (v >= 128) {
    buf[o++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[o++] = v;
  return o - at;
}

/** The header of a DATA body and where its payload starts; null when the body is too short to be one. */
export function decodeDataHeader(body: Buffer): { header: DataHeader; payloadOffset: number } | null {
  if (body.length < DATA_FIXED + 1 || body[0] !== REC_DATA) return null;
  let o = 1;
  const id = body.readDoubleLE(o);
  const seq = body.readDoubleLE((o += 8));
  const fromUs = body.readDoubleLE((o += 8));
  const toUs = body.readDoubleLE((o += 8));
  o += 8;
  const kind = body[o++] ?? 0;
  const flags = body[o++] ?? 0;
  const devLen = body[o++] ?? 0;
  if (o + devLen + 1 > body.length) return null;
  const device = body.toString('latin1', o, o + devLen);
  o += devLen;
  const refLen = body[o++] ?? 0;
  if (o + refLen > body.length) return null;
  const ref = body.toString('latin1', o, o + refLen);
  o += refLen;
  return { header: { id, seq, fromUs, toUs, kind, flags, device, ref }, payloadOffset: o };
}

export function encodeAck(ids: readonly number[]): Buffer {
  const body = Buffer.allocUnsafe(5 + 8 * ids.length);
  body[0] = REC_ACK;
  body.writeUInt32LE(ids.length, 1);
  ids.forEach((id, i) => body.writeDoubleLE(id, 5 + 8 * i));
  return frameRecord(body);
}

export function decodeAck(body: Buffer): number[] {
  const n = body.length >= 5 ? body.readUInt32LE(1) : 0;
  const ids: number[] = [];
  for (let i = 0; i < n && 5 + 8 * i + 8 <= body.length; i++) ids.push(body.readDoubleLE(5 + 8 * i));
  return ids;
}

export interface Snapshot {
  v: 1;
  nextId: number;
  /** `${device}/${kind}` -> highest seq durably written. */
  seqs: Record<string, number>;
  /** device -> gateway time (us) of the newest durable data. */
  lastUs: Record<string, number>;
  /** device -> the newest dedup refs. */
  refs: Record<string, string[]>;
}

export function encodeSnapshot(s: Snapshot): Buffer {
  const json = Buffer.from(JSON.stringify(s), 'utf8');
  const body = Buffer.allocUnsafe(1 + json.length);
  body[0] = REC_SNAPSHOT;
  json.copy(body, 1);
  return frameRecord(body);
}

export function decodeSnapshot(body: Buffer): Snapshot | null {
  try {
    const s = JSON.parse(body.toString('utf8', 1)) as Partial<Snapshot>;
    if (s.v !== 1 || typeof s.nextId !== 'number') return null;
    return { v: 1, nextId: s.nextId, seqs: s.seqs ?? {}, lastUs: s.lastUs ?? {}, refs: s.refs ?? {} };
  } catch {
    return null;
  }
}
