import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createDelimitedFramer, delimitedJoin, type DelimitedFramerOptions } from './delimited.js';
import type { ErrorCode } from '../../lib/errors.js';

function run(chunks: Buffer[], opts: DelimitedFramerOptions = {}, flush = false) {
  const f = createDelimitedFramer(opts);
  const frames: string[] = [];
  const errors: ErrorCode[] = [];
  const sink = { frame: (b: Buffer) => frames.push(b.toString('latin1')), error: (c: ErrorCode) => errors.push(c) };
  for (const c of chunks) f.push(c, sink);
  if (flush) f.flush(sink);
  return { frames, errors, stats: f.stats };
}

const b = (s: string) => Buffer.from(s, 'latin1');

/** Reference splitter: what the framer must produce for any chunking. */
function reference(data: string, delim: string, max: number, stripCR: boolean, keepEmpty: boolean) {
  const parts = data.split(delim);
  const tail = parts.pop() ?? ''; // the unterminated tail is not a frame...
  const frames: string[] = [];
  // ...but memory stays bounded: a tail longer than the limit (plus a CR and a partial
  // delimiter that may yet complete it) is reported before its end arrives.
  let tooLarge = tail.length > max + (stripCR ? 1 : 0) + delim.length - 1 ? 1 : 0;
  for (let p of parts) {
    if (stripCR && p.endsWith('\r')) p = p.slice(0, -1);
    if (p.length > max) tooLarge++;
    else if (p.length > 0 || keepEmpty) frames.push(p);
  }
  return { frames, tooLarge };
}

describe('delimited framer', () => {
  it('splits LF and CR LF lines and skips blank lines', () => {
    const r = run([b('one\r\ntwo\n\n\r\nthree\n')]);
    expect(r.frames).toEqual(['one', 'two', 'three']);
    expect(r.errors).toEqual([]);
    expect(r.stats.frames).toBe(3);
  });

  it('keeps empty frames when asked, and leaves CR alone for other delimiters', () => {
    expect(run([b('a\n\nb\n')], { keepEmpty: true }).frames).toEqual(['a', '', 'b']);
    expect(run([b('a\r;b\r;')], { delimiter: [0x3b] }).frames).toEqual(['a\r', 'b\r']);
  });

  it('gives the same frames at every cut, including inside a CR LF delimiter', () => {
    const wire = b('alpha\r\nbeta\r\ngamma\r\n');
    for (let cut = 0; cut <= wire.length; cut++) {
      const r = run([wire.subarray(0, cut), wire.subarray(cut)], { delimiter: [0x0d, 0x0a], stripCR: false });
      expect(r.frames, `cut ${cut}`).toEqual(['alpha', 'beta', 'gamma']);
    }
  });

  it('drops an oversize line whole with one error, in one chunk or byte by byte, and resyncs', () => {
    const wire = b(`${'X'.repeat(40)}\nok\n`);
    for (const chunks of [[wire], [...wire].map((x) => Buffer.from([x]))]) {
      const r = run(chunks, { maxFrameBytes: 16 });
      expect(r.frames).toEqual(['ok']);
      expect(r.errors).toEqual(['VW_ERR_FRAME_TOO_LARGE']);
    }
  });

  it('accepts a line of exactly the maximum, with or without its CR', () => {
    expect(run([b(`${'Y'.repeat(16)}\r\n${'Z'.repeat(16)}\n`)], { maxFrameBytes: 16 }).frames).toEqual([
      'Y'.repeat(16),
      'Z'.repeat(16),
    ]);
    expect(run([b(`${'Y'.repeat(17)}\n`)], { maxFrameBytes: 16 }).errors).toEqual(['VW_ERR_FRAME_TOO_LARGE']);
  });

  it('reports a partial line at flush as truncated, and forgets it on reset', () => {
    expect(run([b('done\npart')], {}, true)).toMatchObject({ frames: ['done'], errors: ['VW_ERR_FRAME_TRUNCATED'] });
    const f = createDelimitedFramer();
    const frames: string[] = [];
    const sink = { frame: (x: Buffer) => frames.push(x.toString()), error: () => undefined };
    f.push(b('stale'), sink);
    f.reset();
    f.push(b('fresh\n'), sink);
    expect(frames).toEqual(['fresh']);
  });

  it('frames a line inside one chunk as a view of it (no copy)', () => {
    const chunk = b('abc\n');
    let got: Buffer | undefined;
    createDelimitedFramer().push(chunk, { frame: (x) => (got = x), error: () => undefined });
    expect(got?.buffer).toBe(chunk.buffer);
  });

  it('matches a reference splitter for random data, delimiters and chunkings', () => {
    const alphabet = fc.constantFrom('a', 'b', '\r', '\n', ';', 'x');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 200 }).map((a) => a.join('')),
        fc.constantFrom('\n', '\r\n', ';', 'ab', 'aab', '\n;\n'),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 30 }),
        (data, delim, max, keepEmpty, cuts) => {
          const stripCR = delim === '\n';
          const wire = b(data);
          const chunks: Buffer[] = [];
          for (let i = 0, k = 0; i < wire.length; k++) {
            const n = cuts[k % cuts.length] ?? 1;
            chunks.push(wire.subarray(i, i + n));
            i += n;
          }
          const r = run(chunks, { delimiter: [...b(delim)], maxFrameBytes: max, stripCR, keepEmpty });
          const want = reference(data, delim, max, stripCR, keepEmpty);
          expect(r.frames).toEqual(want.frames);
          expect(r.errors.filter((e) => e === 'VW_ERR_FRAME_TOO_LARGE').length).toBe(want.tooLarge);
        },
      ),
      { numRuns: Number(process.env['FC_RUNS'] ?? 300) },
    );
  });

  it('joins frames for simulators', () => {
    expect(delimitedJoin(['a', b('b')]).toString()).toBe('a\nb\n');
  });
});
