// What a device's bytes say when they make no frame: every decoder of the registry is tried on the bytes seen (a
// Nonin 8 oximeter configured as `masimo` decodes as nonin8), and for a serial link, bytes that decode as nothing are
// checked for the pattern a slower sender leaves (diagnosis-uart.ts). Sans-I/O: bytes in, an inference out. The
// device loop keeps only the bytes that made no good frame (ByteRing), so a healthy link copies nothing.
import { getProtocol, protocolIds } from '../decoders/registry.js';
import { fitsGroups, groupConstraints, slowSenderGroups } from './diagnosis-uart.js';

/** Bytes kept per device for the diagnosis: a few Masimo lines, a Datex record, about 1000 Nonin 8 frames. */
export const RING_BYTES = 4096;

/** The newest bytes of a stream, at most `size`: a fixed buffer, no allocation per chunk. */
export class ByteRing {
  private readonly buf: Buffer;
  private end = 0;
  private full = false;

  constructor(size = RING_BYTES) {
    this.buf = Buffer.alloc(size);
  }

  push(chunk: Buffer): void {
    const size = this.buf.length;
    if (chunk.length >= size) {
      chunk.copy(this.buf, 0, chunk.length - size);
      this.end = 0;
      this.full = true;
      return;
    }
    const first = Math.min(chunk.length, size - this.end);
    chunk.copy(this.buf, this.end, 0, first);
    if (first < chunk.length) chunk.copy(this.buf, 0, first);
    const next = this.end + chunk.length;
    if (next >= size) this.full = true;
    this.end = next % size;
  }

  clear(): void {
    this.end = 0;
    this.full = false;
  }

  get length(): number {
    return this.full ? this.buf.length : this.end;
  }

  /** The bytes in arrival order (a copy: the diagnosis runs rarely, the ring keeps filling). */
  snapshot(): Buffer {
    if (!this.full) return Buffer.from(this.buf.subarray(0, this.end));
    return Buffer.concat([this.buf.subarray(this.end), this.buf.subarray(0, this.end)]);
  }
}

export interface ProtocolScore {
  protocol: string;
  /** Frames the decoder accepted. */
  frames: number;
  /** Frames the framer delimited and the decoder rejected. */
  rejected: number;
  /** Share of the bytes inside accepted frames (delimiters and escapes not counted). */
  coverage: number;
}

/** At least this many accepted frames ... */
export const MIN_FRAMES = 3;
/** ... covering at least this share of the bytes (a partial frame at each end and the delimiters stay outside) ... */
export const MIN_COVERAGE = 0.5;
/** ... with at most one rejected frame in this many (the cut frame at the start of the bytes is one). */
export const MAX_REJECTED_SHARE = 0.25;

/** Every protocol of the registry over the same bytes, best first. */
export function scoreProtocols(bytes: Buffer, ids: readonly string[] = protocolIds()): ProtocolScore[] {
  const out: ProtocolScore[] = [];
  const ctx = { gatewayTimeUs: 0, defaultUtcOffsetMin: 0 };
  for (const id of ids) {
    const p = getProtocol(id);
    if (!p) continue;
    const framer = p.createFramer();
    const decoder = p.createDecoder();
    let frames = 0;
    let rejected = 0;
    let good = 0;
    const sink = {
      frame(f: Buffer) {
        if (decoder.decode(f, ctx).ok) {
          frames++;
          good += f.length;
        } else rejected++;
      },
      error() {},
    };
    try {
      framer.push(bytes, sink);
    } catch {
      continue; // a decoder that throws on garbage is a defect of its own (the fuzz suite's job), not a match
    }
    out.push({ protocol: id, frames, rejected, coverage: bytes.length > 0 ? good / bytes.length : 0 });
  }
  return out.sort((a, b) => Number(decodes(b)) - Number(decodes(a)) || b.coverage - a.coverage || b.frames - a.frames);
}

/** Do these bytes decode as this protocol, beyond what chance and a cut frame give? */
export function decodes(s: ProtocolScore): boolean {
  return (
    s.frames >= MIN_FRAMES && s.coverage >= MIN_COVERAGE && s.rejected <= Math.max(1, s.frames * MAX_REJECTED_SHARE)
  );
}

/** The rates probe tries and the diagnosis considers (Nonin, Masimo 9600; Datex 19200; Philips MIB, BLE bridges 115200). */
export const COMMON_BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

/** Bytes needed before a slower sender's pattern is believed, and the share of them that must fit it. */
export const SLOW_SENDER_MIN_BYTES = 32;
export const SLOW_SENDER_MIN_FIT = 0.9;
/** A pattern must constrain at least this many bits (a random byte fits it by chance at most 1 in 8). */
export const SLOW_SENDER_MIN_CONSTRAINTS = 3;

export interface SlowSender {
  /** The sender's rate: the rates whose pattern the bytes fit, the most constrained first. */
  baudRate: number;
  /** Share of the bytes that fit. */
  fit: number;
}

/**
 * Bytes read at `readAt` that carry the pattern of a slower sender (diagnosis-uart.ts): the sender's likely rate.
 * Only slower senders leave one; bytes from a faster sender carry nothing that names its rate.
 */
export function slowSender(bytes: Buffer, readAt: number, dataBits: 7 | 8 = 8): SlowSender | null {
  if (bytes.length < SLOW_SENDER_MIN_BYTES) return null;
  // All one value (a break held, an idle adapter's zeros) fits most patterns and says nothing. (Two values can be
  // all there is: eight times too fast, the only characters possible are 0x00 and 0x80.)
  if (new Set(bytes).size < 2) return null;
  let best: (SlowSender & { constraints: number }) | null = null;
  for (const rate of COMMON_BAUD_RATES) {
    if (rate >= readAt) continue;
    const groups = slowSenderGroups(rate, readAt, dataBits);
    const constraints = groupConstraints(groups);
    if (constraints < SLOW_SENDER_MIN_CONSTRAINTS) continue;
    let n = 0;
    for (const b of bytes) if (fitsGroups(b, groups)) n++;
    const fit = n / bytes.length;
    if (fit >= SLOW_SENDER_MIN_FIT && (!best || constraints > best.constraints))
      best = { baudRate: rate, fit, constraints };
  }
  return best ? { baudRate: best.baudRate, fit: best.fit } : null;
}

export type Inference =
  { kind: 'protocol'; protocol: string; score: ProtocolScore } | { kind: 'slow-sender'; baudRate: number; fit: number };

/**
 * What bytes that made no frame of `protocol` look like: another protocol of the registry, or (serial links, given
 * the rate they were read at) a sender slower than the link. Null: nothing that can be said from these bytes.
 */
export function inferFromBytes(
  bytes: Buffer,
  o: { protocol: string; readAt?: number; dataBits?: 7 | 8 },
): Inference | null {
  const others = protocolIds().filter((id) => id !== o.protocol);
  const best = scoreProtocols(bytes, others)[0];
  if (best && decodes(best)) return { kind: 'protocol', protocol: best.protocol, score: best };
  if (o.readAt !== undefined) {
    const s = slowSender(bytes, o.readAt, o.dataBits);
    if (s) return { kind: 'slow-sender', baudRate: s.baudRate, fit: s.fit };
  }
  return null;
}
