import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createDatexFramer, datexWrap } from './datex.js';
import type { ErrorCode } from '../../lib/errors.js';

function run(chunks: Buffer[], max?: number) {
  const f = createDatexFramer(max ? { maxFrameBytes: max } : {});
  const frames: string[] = [];
  const errors: string[] = [];
  const sink = {
    frame: (b: Buffer) => frames.push(b.toString('hex')),
    error: (c: ErrorCode, d: string) => errors.push(`${c} ${d}`),
  };
  for (const c of chunks) f.push(c, sink);
  f.flush(sink);
  return { frames, errors, codes: errors.map((e) => e.split(' ')[0]), stats: f.stats };
}
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const cuts = (b: Buffer, at: number[]) =>
  [0, ...at, b.length].slice(1).map((end, k, a) => b.subarray(k === 0 ? 0 : (a[k - 1] as number), end));

// Written by hand: record 01 02 03, sum 06 -> 7E 01 02 03 06 7E. Record 7E 7D 10: sum 0x10B & 0xFF = 0x0B,
// escaped 7D 5E 7D 5D 10 0B. Record 3F 3F: sum 0x7E, so the checksum itself is escaped (7D 5E).
const A = hex('7e 01 02 03 06 7e');
const B = hex('7e 7d5e 7d5d 10 0b 7e');
const C = hex('7e 3f 3f 7d5e 7e');
const wire = Buffer.concat([A, B, C]);
const want = ['010203', '7e7d10', '3f3f'];

describe('Datex framer', () => {
  it('unescapes, checks the sum and strips it; the encoder agrees with the hand-written bytes', () => {
    expect(run([wire]).frames).toEqual(want);
    expect(run([wire]).errors).toEqual([]);
    expect(Buffer.concat([datexWrap(hex('010203')), datexWrap(hex('7e7d10')), datexWrap(hex('3f3f'))])).toEqual(wire);
  });

  it('gives the same frames for every split point and byte by byte', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const r = run([wire.subarray(0, cut), wire.subarray(cut)]);
      expect(r.frames, `cut ${cut}`).toEqual(want);
      expect(r.errors, `cut ${cut}`).toEqual([]);
    }
    expect(run([...wire].map((b) => Buffer.from([b]))).frames).toEqual(want);
  });

  it('delivers a frame inside one chunk without escapes as a view of the chunk', () => {
    const f = createDatexFramer();
    let got: Buffer | undefined;
    f.push(A, { frame: (b) => (got = b), error: () => undefined });
    expect(got?.buffer).toBe(A.buffer);
    expect(got?.byteOffset).toBe(A.byteOffset + 1);
  });

  it('accepts frames that share one flag between them', () => {
    expect(run([hex('7e 01 02 03 06 7e 3f 3f 7d5e 7e')]).frames).toEqual(['010203', '3f3f']);
  });

  it('counts garbage before and between frames, one report per run however chunked', () => {
    const g = Buffer.concat([hex('ff 00 11'), A, hex('aa bb'), hex('7e cc 7e'), C]);
    for (const chunks of [[g], [...g].map((b) => Buffer.from([b])), cuts(g, [1, 7, 9, 12])]) {
      const r = run(chunks);
      expect(r.frames).toEqual(['010203', '3f3f']);
      // 'aa bb' and 'cc' are one run: the flag between them does not end it, only a frame does.
      expect(r.errors).toEqual(['VW_ERR_FRAME_GARBAGE 3 bytes', 'VW_ERR_FRAME_GARBAGE 3 bytes']);
      expect(r.stats.garbageBytes).toBe(6);
      expect(r.stats.frames).toBe(2);
    }
  });

  it('drops a frame with a bad sum after a flag pair as VW_ERR_DATEX_CHECKSUM and decodes the next', () => {
    const r = run([hex('7e 01 02 03 07 7e 7e 01 02 03 06 7e')]);
    expect(r.codes).toEqual(['VW_ERR_DATEX_CHECKSUM']);
    expect(r.errors[0]).toContain('sum 0x6 != 0x7');
    expect(r.frames).toEqual(['010203']);
  });

  it('counts a failing candidate that no flag pair opened as garbage, not as a bad frame', () => {
    // After frame A the bytes "01 02 03 07" close at a flag but were not opened by a pair.
    const r = run([Buffer.concat([A, hex('01 02 03 07 7e 7e'), A.subarray(1)])]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_GARBAGE 4 bytes']);
    expect(r.frames).toEqual(['010203', '010203']);
  });

  it('rejects bad escapes, 0x7D 0x7E included, and too-short frames', () => {
    expect(run([hex('7e 01 7d 33 02 7e 7e 01 01 7e')]).codes).toEqual(['VW_ERR_DATEX_ESCAPE']);
    expect(run([hex('7e 01 7d 7e 7e 01 01 7e')]).codes).toEqual(['VW_ERR_DATEX_ESCAPE']);
    expect(run([hex('7e 01 7d 7e 7e 01 01 7e')]).frames).toEqual(['01']);
    expect(run([hex('7e 05 7e')]).codes).toEqual(['VW_ERR_DATEX_CHECKSUM']);
    expect(run([hex('7e 7e 7e 7e')]).errors).toEqual([]); // empty frames are idle flags
  });

  it('drops an oversize frame once, in one chunk or many, and resynchronises', () => {
    const big = datexWrap(Buffer.alloc(100, 0x41));
    const next = datexWrap(hex('0102'));
    for (const chunks of [[big, next], cuts(Buffer.concat([big, next]), [10, 50, 90, 103])]) {
      const r = run(chunks, 64);
      expect(r.errors).toEqual(['VW_ERR_FRAME_TOO_LARGE more than 64 bytes']);
      expect(r.frames).toEqual(['0102']);
    }
  });

  it('accepts a frame of exactly maxFrameBytes (record + checksum)', () => {
    expect(run([datexWrap(Buffer.alloc(63, 0x7d))], 64).frames).toEqual(['7d'.repeat(63)]);
    expect(run([datexWrap(Buffer.alloc(64, 0x7d))], 64).codes).toEqual(['VW_ERR_FRAME_TOO_LARGE']);
  });

  it('flush reports a partial frame and pending garbage; reset forgets them', () => {
    expect(run([hex('7e 01 02')]).errors).toEqual(['VW_ERR_FRAME_TRUNCATED 2 bytes at end of input']);
    expect(run([Buffer.concat([A, hex('01 02')])]).errors).toEqual(['VW_ERR_FRAME_GARBAGE 2 bytes']);
    const f = createDatexFramer();
    const errors: string[] = [];
    const frames: Buffer[] = [];
    const sink = { frame: (b: Buffer) => frames.push(b), error: (c: ErrorCode) => errors.push(c) };
    f.push(hex('99 7e 01 02'), sink);
    f.reset();
    f.push(A, sink);
    f.flush(sink);
    expect(errors).toEqual([]);
    expect(frames.length).toBe(1);
  });

  it('never throws, keeps frames within the limit, and a frame after any garbage decodes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 12 }),
        fc.uint8Array({ minLength: 1, maxLength: 50 }),
        (chunks, rec) => {
          const f = createDatexFramer({ maxFrameBytes: 128 });
          const frames: Buffer[] = [];
          const sink = { frame: (b: Buffer) => frames.push(Buffer.from(b)), error: () => undefined };
          for (const c of chunks) f.push(Buffer.from(c), sink);
          for (const fr of frames) expect(fr.length).toBeLessThanOrEqual(127);
          frames.length = 0;
          f.push(datexWrap(Buffer.from(rec)), sink);
          // The record's opening flag also closes whatever the garbage left open, and 1 in 256
          // random tails carries a valid checksum by chance: that one may come out as a frame too.
          // The record itself must always be the last frame, whole.
          expect(frames.length).toBeLessThanOrEqual(2);
          expect(frames.at(-1)?.toString('hex')).toBe(Buffer.from(rec).toString('hex'));
        },
      ),
    );
  });

  it('gives the same frames and errors whatever the chunking (random streams of frames, garbage, corrupt frames)', () => {
    const piece = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((r) => datexWrap(Buffer.from(r))),
      fc.uint8Array({ maxLength: 12 }).map((g) => Buffer.from(g)),
      fc
        .tuple(fc.uint8Array({ minLength: 2, maxLength: 30 }), fc.nat(), fc.integer({ min: 1, max: 255 }))
        .map(([r, at, x]) => {
          const w = datexWrap(Buffer.from(r));
          const k = 1 + (at % (w.length - 2));
          w[k] = (w[k] as number) ^ x;
          return w;
        }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 8 }), (pieces, cutSeeds) => {
        const all = Buffer.concat(pieces);
        const at = [...new Set(cutSeeds.map((c) => (all.length ? c % all.length : 0)))].sort((a, b) => a - b);
        const whole = run([all], 48);
        expect(run(cuts(all, at), 48)).toEqual(whole);
        expect(
          run(
            [...all].map((b) => Buffer.from([b])),
            48,
          ),
        ).toEqual(whole);
      }),
    );
  });
});
