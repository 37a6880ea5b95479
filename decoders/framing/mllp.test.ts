import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMllpFramer, mllpWrap } from './mllp.js';
import type { ErrorCode } from '../../lib/errors.js';

function run(chunks: Buffer[], max?: number) {
  const f = createMllpFramer(max ? { maxFrameBytes: max } : {});
  const frames: string[] = [];
  const errors: ErrorCode[] = [];
  const sink = { frame: (b: Buffer) => frames.push(b.toString('latin1')), error: (c: ErrorCode) => errors.push(c) };
  for (const c of chunks) f.push(c, sink);
  return { frames, errors, stats: f.stats };
}

const msgA = 'MSH|^~\\&|A\rOBX|1|NM|x\r';
const msgB = 'MSH|^~\\&|B\r';
// Wire bytes written out by hand from the MLLP envelope (HL7 v2.x Annex C): 0x0B body 0x1C 0x0D.
const wire = Buffer.concat([
  Buffer.from([0x0b]),
  Buffer.from(msgA, 'latin1'),
  Buffer.from([0x1c, 0x0d, 0x0b]),
  Buffer.from(msgB, 'latin1'),
  Buffer.from([0x1c, 0x0d]),
]);

describe('MLLP framer', () => {
  it('frames two messages from one chunk', () => {
    const r = run([wire]);
    expect(r.frames).toEqual([msgA, msgB]);
    expect(r.errors).toEqual([]);
    expect(r.stats.frames).toBe(2);
  });

  it('gives the same frames for every split point, including inside FS CR', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const r = run([wire.subarray(0, cut), wire.subarray(cut)]);
      expect(r.frames, `cut at ${cut}`).toEqual([msgA, msgB]);
      expect(r.errors, `cut at ${cut}`).toEqual([]);
    }
  });

  it('gives the same frames byte by byte', () => {
    const r = run([...wire].map((b) => Buffer.from([b])));
    expect(r.frames).toEqual([msgA, msgB]);
  });

  it('skips and counts garbage between frames, and keeps the frames after it', () => {
    const r = run([Buffer.from('noise\r\n'), wire.subarray(0, 20), Buffer.from([]), wire.subarray(20)]);
    expect(r.frames).toEqual([msgA, msgB]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_GARBAGE']);
    expect(r.stats.garbageBytes).toBe(7);
  });

  it('reports a garbage run once however it is chunked, and flush reports what is pending', () => {
    const f = createMllpFramer();
    const errors: string[] = [];
    const frames: string[] = [];
    const sink = {
      frame: (b: Buffer) => frames.push(b.toString('latin1')),
      error: (c: ErrorCode, d: string) => errors.push(`${c} ${d}`),
    };
    for (const b of Buffer.from('abcdef')) f.push(Buffer.from([b]), sink);
    f.push(mllpWrap(msgB), sink);
    expect(errors).toEqual(['VW_ERR_FRAME_GARBAGE 6 bytes']);
    f.push(Buffer.from('xyz'), sink);
    f.flush(sink);
    f.push(Buffer.from([0x0b, 0x41, 0x42]), sink);
    f.flush(sink);
    expect(errors).toEqual([
      'VW_ERR_FRAME_GARBAGE 6 bytes',
      'VW_ERR_FRAME_GARBAGE 3 bytes',
      'VW_ERR_FRAME_TRUNCATED 2 bytes at end of input',
    ]);
    expect(frames).toEqual([msgB]);
  });

  it('reports a burst of start bytes once, with the next frame', () => {
    const r = run([Buffer.alloc(500, 0x0b), Buffer.from('MSH|x'), mllpWrap(msgB)]);
    expect(r.frames).toEqual([msgB]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_TRUNCATED']);
  });

  it('drops a frame cut short by a new start byte and keeps the next one', () => {
    const r = run([Buffer.from([0x0b]), Buffer.from('MSH|partial'), mllpWrap(msgB)]);
    expect(r.frames).toEqual([msgB]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_TRUNCATED']);
  });

  it('drops an oversize frame whole, in one chunk or many, and recovers', () => {
    const big = mllpWrap('X'.repeat(100));
    for (const chunks of [
      [big, mllpWrap(msgB)],
      [big.subarray(0, 30), big.subarray(30, 60), big.subarray(60), mllpWrap(msgB)],
    ]) {
      const r = run(chunks, 64);
      expect(r.frames).toEqual([msgB]);
      expect(r.errors).toEqual(['VW_ERR_FRAME_TOO_LARGE']);
    }
  });

  it('accepts a frame of exactly the maximum size', () => {
    const r = run([mllpWrap('Y'.repeat(64))], 64);
    expect(r.frames).toEqual(['Y'.repeat(64)]);
  });

  it('never throws and keeps memory bounded on random bytes, then decodes a valid frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const f = createMllpFramer({ maxFrameBytes: 256 });
        const frames: Buffer[] = [];
        const sink = { frame: (b: Buffer) => frames.push(b), error: () => undefined };
        for (const c of chunks) f.push(Buffer.from(c), sink);
        for (const fr of frames) expect(fr.length).toBeLessThanOrEqual(256);
        // Whatever state the garbage left, a VT starts a fresh frame.
        frames.length = 0;
        f.push(mllpWrap(msgB), sink);
        expect(frames.map((b) => b.toString('latin1'))).toEqual([msgB]);
      }),
    );
  });
});
