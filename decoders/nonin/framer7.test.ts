import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ErrorCode } from '../../lib/errors.js';
import { createNonin7Framer, PACKET_BYTES } from './framer7.js';
import { encodeNonin7Packet } from './encode.js';
import { nonin7Packet } from './test-support.js';

const packet = nonin7Packet;
const A = encodeNonin7Packet(packet(1));
const B = encodeNonin7Packet(packet(2, 0x200));
const C = encodeNonin7Packet(packet(3, 0x300));

function run(chunks: Buffer[], flush = true) {
  const f = createNonin7Framer();
  const frames: Buffer[] = [];
  const errors: string[] = [];
  const sink = {
    frame: (b: Buffer) => frames.push(Buffer.from(b)),
    error: (c: ErrorCode, d: string) => errors.push(`${c} ${d}`),
  };
  for (const c of chunks) f.push(c, sink);
  if (flush) f.flush(sink);
  return { frames, errors, codes: errors.map((e) => e.split(' ')[0]), stats: f.stats };
}

describe('Nonin format 7 framer', () => {
  it('emits whole 125-byte packets', () => {
    const r = run([Buffer.concat([A, B])]);
    expect(r.frames).toEqual([A, B]);
    expect(r.errors).toEqual([]);
    expect(r.stats.frames).toBe(2);
  });

  it('gives the same packets for every split point and byte by byte', () => {
    const wire = Buffer.concat([A, B]);
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(run([wire.subarray(0, cut), wire.subarray(cut)]).frames, `cut ${cut}`).toEqual([A, B]);
    }
    expect(run([...wire].map((b) => Buffer.from([b]))).frames).toEqual([A, B]);
  });

  it('skips garbage before the first SYNC frame, reported once when the packet is complete', () => {
    const r = run([Buffer.from([0x81, 0x00, 0x13]), A.subarray(0, 7), A.subarray(7), B]);
    expect(r.frames).toEqual([A, B]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_GARBAGE 3 bytes']);
    expect(r.stats.garbageBytes).toBe(3);
  });

  it('drops a packet with a corrupt frame and resynchronises on the next SYNC frame', () => {
    const bad = Buffer.from(B);
    bad[7 * 5 + 4] = ((bad[7 * 5 + 4] as number) + 1) & 0xff; // frame 7 checksum off by one
    const r = run([A, bad, C]);
    expect(r.frames).toEqual([A, C]);
    expect(r.codes).toEqual(['VW_ERR_NONIN_CHECKSUM', 'VW_ERR_FRAME_GARBAGE']);
    expect(r.errors[0]).toContain('frame 7');
    expect(r.stats.garbageBytes).toBe(PACKET_BYTES); // the dropped packet's bytes
  });

  it('treats a frame with STATUS bit 7 clear as corrupt', () => {
    const bad = Buffer.from(B);
    bad[3 * 5] = (bad[3 * 5] as number) & 0x7f;
    bad[3 * 5 + 4] = ((bad[3 * 5 + 4] as number) - 0x80) & 0xff; // checksum still matches
    expect(run([A, bad, C]).frames).toEqual([A, C]);
  });

  it('drops a packet cut short by a new SYNC frame and keeps the new packet', () => {
    const r = run([A, B.subarray(0, 50), C]);
    expect(r.frames).toEqual([A, C]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_TRUNCATED 10 of 25 frames before a new SYNC frame']);
  });

  it('reports a partial packet at end of input as truncated once locked, as garbage before', () => {
    expect(run([A, B.subarray(0, 60)]).errors).toEqual(['VW_ERR_FRAME_TRUNCATED 60 bytes of a packet at end of input']);
    expect(run([B.subarray(0, 60)]).errors).toEqual(['VW_ERR_FRAME_GARBAGE 60 bytes']);
  });

  it('reset forgets a partial packet without reporting it', () => {
    const f = createNonin7Framer();
    const frames: Buffer[] = [];
    const errors: string[] = [];
    const sink = { frame: (b: Buffer) => frames.push(Buffer.from(b)), error: (c: ErrorCode) => errors.push(c) };
    f.push(A.subarray(0, 40), sink);
    f.reset();
    f.push(B, sink);
    f.flush(sink);
    expect(frames).toEqual([B]);
    expect(errors).toEqual([]);
  });

  it('never throws on random bytes, keeps packets at 125 bytes, and decodes valid packets after the noise', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 12 }), (chunks) => {
        const r = run([...chunks.map((c) => Buffer.from(c)), A, B], false);
        for (const fr of r.frames) expect(fr.length).toBe(PACKET_BYTES);
        expect(r.frames.slice(-2)).toEqual([A, B]);
      }),
    );
  });
});
