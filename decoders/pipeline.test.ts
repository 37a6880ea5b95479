// The pipeline's count of rejected frames: a frame the framer delimited and then rejected by the protocol's own check
// (a Nonin format 7 checksum, a Datex checksum) is a bad frame, as one the decoder rejects is; garbage between frames
// is not. The gateway's link diagnosis ("checksum errors 12 %") reads this count.
import { describe, expect, it } from 'vitest';
import type { DecodeError } from '../lib/errors.js';
import { encodePhdbFrame } from './datex/encode.js';
import { encodeNonin7Packet } from './nonin/encode.js';
import { nonin7Packet } from './nonin/test-support.js';
import { createPipeline } from './pipeline.js';
import { getProtocol } from './registry.js';

function run(protocol: string, bytes: Buffer) {
  const p = getProtocol(protocol);
  if (!p) throw new Error(protocol);
  const seen = { decoded: 0, rejected: [] as string[], other: [] as string[] };
  const pipe = createPipeline(p, {
    decoded: () => seen.decoded++,
    error: (e: DecodeError, frameLevel: boolean) => (frameLevel ? seen.rejected : seen.other).push(e.code),
  });
  pipe.push(bytes, 1);
  pipe.end();
  return seen;
}

const packet = (timer: number) => encodeNonin7Packet(nonin7Packet(timer));

describe('pipeline: rejected frames', () => {
  it('counts a Nonin 7 packet lost to a bad frame checksum as a rejected frame, not as garbage', () => {
    const bad = packet(2);
    bad[5 * 5 + 1] = bad[5 * 5 + 1]! ^ 0x01; // frame 5's PLETH_MSB: CHK = (b0 + b1 + b2 + b3) mod 256 no longer holds
    const seen = run('nonin7', Buffer.concat([packet(1), bad, packet(3), packet(4)]));
    expect(seen.rejected).toEqual(['VW_ERR_NONIN_CHECKSUM']);
    expect(seen.decoded).toBe(3);
  });

  it('counts a Datex frame with a bad checksum as a rejected frame', () => {
    const rec = { time: 1_700_000_000, subrecords: [] };
    const good = encodePhdbFrame(rec);
    const bad = Buffer.from(good);
    bad[bad.length - 2] = bad[bad.length - 2]! ^ 0x01; // the checksum byte before the closing flag
    const seen = run('datex', Buffer.concat([good, bad, good]));
    expect(seen.rejected).toEqual(['VW_ERR_DATEX_CHECKSUM']);
  });

  it('does not count garbage between frames as a rejected frame', () => {
    const seen = run('nonin7', Buffer.concat([packet(1), Buffer.from('noise!'), packet(2)]));
    expect(seen.rejected).toEqual([]);
    expect(seen.other).toContain('VW_ERR_FRAME_GARBAGE');
  });
});
