import { describe, expect, it } from 'vitest';
import { createHl7BatchFramer } from './hl7-batch.js';
import { createHl7Framer } from './hl7-auto.js';
import { mllpWrap } from './mllp.js';
import type { Framer } from './framer.js';

function run(f: Framer, chunks: Buffer[]) {
  const frames: string[] = [];
  const errors: string[] = [];
  const sink = { frame: (b: Buffer) => frames.push(b.toString('latin1')), error: (c: string) => errors.push(c) };
  for (const c of chunks) f.push(c, sink);
  f.flush(sink);
  return { frames, errors };
}

const a = 'MSH|^~\\&|A\rOBX|1|NM|x||1';
const b = 'MSH|^~\\&|B\nPID|1';
const file = Buffer.from(`${a}\r${b}\n\n`);

describe('HL7 batch framer (unframed files)', () => {
  it('splits at MSH segments, with any line ends, at any chunking', () => {
    for (let cut = 0; cut <= file.length; cut++) {
      const r = run(createHl7BatchFramer(), [file.subarray(0, cut), file.subarray(cut)]);
      expect(r.frames, `cut ${cut}`).toEqual([a, b]);
      expect(r.errors).toEqual([]);
    }
  });

  it('counts bytes before the first MSH as garbage, and an MSH inside a line is content', () => {
    const r = run(createHl7BatchFramer(), [Buffer.from(`junk\r${a}|MSH|x\r`)]);
    expect(r.frames).toEqual([`${a}|MSH|x`]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_GARBAGE']);
  });

  it('drops an oversize message and keeps the next', () => {
    const r = run(createHl7BatchFramer({ maxFrameBytes: 64 }), [Buffer.from(`MSH|^~\\&|${'X'.repeat(100)}\r${b}`)]);
    expect(r.frames).toEqual([b]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_TOO_LARGE']);
  });
});

describe('hl7 framer chooses MLLP or bare messages from the stream start', () => {
  it('picks MLLP even after leading noise fed byte by byte', () => {
    const wire = Buffer.concat([Buffer.from('noise'), mllpWrap(a), mllpWrap(b)]);
    const r = run(
      createHl7Framer(),
      [...wire].map((x) => Buffer.from([x])),
    );
    expect(r.frames).toEqual([a, b]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_GARBAGE']);
  });

  it('picks bare messages for a file of segments', () => {
    expect(run(createHl7Framer(), [file]).frames).toEqual([a, b]);
  });
});
