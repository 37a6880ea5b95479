import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Flag } from '../../proto/index.js';
import type { Decoded } from '../decoded.js';
import type { ErrorCode } from '../../lib/errors.js';
import { decodeNonin8 } from './decoder8.js';
import { encodeNonin8Frame } from './encode.js';
import { createNonin8Framer } from './framer8.js';
import { detectNonin7, detectNonin8 } from './index.js';
import { encodeNonin7Packet } from './encode.js';
import { DF8_ARTF, DF8_LPRF, DF8_MPRF, DF8_OOT, DF8_SNSD } from './status.js';

const ctx = { gatewayTimeUs: 7 };

function frames(chunks: Buffer[]) {
  const f = createNonin8Framer();
  const out: Buffer[] = [];
  const errors: string[] = [];
  const sink = {
    frame: (b: Buffer) => out.push(Buffer.from(b)),
    error: (c: ErrorCode, d: string) => errors.push(`${c} ${d}`),
  };
  for (const c of chunks) f.push(c, sink);
  f.flush(sink);
  return { out, errors, stats: f.stats };
}

function decode(b: Buffer): Decoded {
  const r = decodeNonin8(b, ctx);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

const F1 = encodeNonin8Frame({ hr: 300, spo2: 97 });
const F2 = encodeNonin8Frame({ hr: null, spo2: null, status1: DF8_SNSD });

describe('Nonin format 8 framer', () => {
  it('syncs on the bit-7 STATUS1 byte, whatever the chunking', () => {
    const wire = Buffer.concat([F1, F2]);
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(frames([wire.subarray(0, cut), wire.subarray(cut)]).out, `cut ${cut}`).toEqual([F1, F2]);
    }
  });

  it('reports a burst of STATUS1-like noise once, not once per byte', () => {
    const r = frames([Buffer.alloc(1000, 0x80), F1]);
    expect(r.out).toEqual([F1]);
    expect(r.errors).toEqual(['VW_ERR_FRAME_TRUNCATED 1000 partial frame(s), 1000 bytes, cut by a new STATUS1 byte']);
  });

  it('skips garbage, drops a frame cut short by a new STATUS1, reports a truncated tail', () => {
    const r = frames([Buffer.from([0x01, 0x02]), F1, F2.subarray(0, 2), F1, Buffer.from([0x05]), F2.subarray(0, 3)]);
    expect(r.out).toEqual([F1, F1]);
    expect(r.errors).toEqual([
      'VW_ERR_FRAME_GARBAGE 2 bytes',
      'VW_ERR_FRAME_TRUNCATED 1 partial frame(s), 2 bytes, cut by a new STATUS1 byte',
      'VW_ERR_FRAME_GARBAGE 1 bytes',
      'VW_ERR_FRAME_TRUNCATED 3 bytes at end of input',
    ]);
  });

  it('never throws on random bytes and frames valid data after them', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 10 }), (chunks) => {
        const r = frames([...chunks.map((c) => Buffer.from(c)), F1, F2]);
        for (const fr of r.out) expect(fr.length).toBe(4);
        expect(r.out.slice(-2)).toEqual([F1, F2]);
      }),
    );
  });
});

describe('Nonin format 8 decoder', () => {
  it('reads HR = ((STATUS1 & 3) << 7) | HR_LSB and SpO2, mapped to MDC', () => {
    const d = decode(Buffer.from([0x82, 0x2c, 0x61, 0x00])); // HR 2 << 7 | 44 = 300, SpO2 97
    expect(d.observations.map((o) => [o.mdc, o.refid, o.number, o.unit, o.vendorCode, o.flags])).toEqual([
      [149530, 'MDC_PULS_OXIM_PULS_RATE', 300, '/min', 'HR', 0],
      [150456, 'MDC_PULS_OXIM_SAT_O2', 97, '%', 'SpO2', 0],
    ]);
  });

  it('turns HR 511 and SpO2 127 into FLAG_UNAVAILABLE', () => {
    const d = decode(F2);
    expect(d.observations.map((o) => o.number)).toEqual([undefined, undefined]);
    expect(d.observations.map((o) => o.flags)).toEqual([
      Flag.FLAG_UNAVAILABLE | Flag.FLAG_SENSOR_OFF,
      Flag.FLAG_UNAVAILABLE | Flag.FLAG_SENSOR_OFF,
    ]);
  });

  it.each([
    [DF8_SNSD, Flag.FLAG_SENSOR_OFF],
    [DF8_OOT, Flag.FLAG_QUESTIONABLE],
    [DF8_LPRF, Flag.FLAG_LOW_PERFUSION],
    [DF8_MPRF, Flag.FLAG_LOW_PERFUSION],
    [DF8_ARTF, Flag.FLAG_ARTIFACT],
  ])('STATUS1 bit %i sets flag %i', (bit, flag) => {
    expect(decode(encodeNonin8Frame({ hr: 60, spo2: 99, status1: bit })).observations[0]?.flags).toBe(flag);
  });

  it('rejects out-of-range values and a broken bit-7 layout', () => {
    const codes = [
      Buffer.from([0x80, 0x00, 0x65, 0x00]), // SpO2 101
      Buffer.from([0x83, 0x00, 0x60, 0x00]), // HR 384
      Buffer.from([0x80, 0x80, 0x60, 0x00]),
      Buffer.from([0x80, 0x10]),
    ].map((b) => {
      const r = decodeNonin8(b, ctx);
      return r.ok ? 'ok' : r.error.code;
    });
    expect(codes).toEqual([
      'VW_ERR_NONIN_RANGE',
      'VW_ERR_NONIN_RANGE',
      'VW_ERR_NONIN_CHECKSUM',
      'VW_ERR_NONIN_CHECKSUM',
    ]);
  });

  it('never throws on arbitrary frames, and round-trips every valid value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (b) => {
        decodeNonin8(Buffer.from(b), ctx);
      }),
    );
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 321 }), { nil: null }),
        fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
        fc.integer({ min: 0, max: 0x7f }),
        (hr, spo2, status2) => {
          const d = decode(encodeNonin8Frame({ hr, spo2, status2 }));
          expect(d.observations.map((o) => o.number ?? null)).toEqual([hr, spo2]);
        },
      ),
    );
  });
});

describe('Nonin detection', () => {
  const p7 = encodeNonin7Packet({
    pleth: new Array<number>(25).fill(0x1234),
    timer: 1,
    hr: 70,
    spo2: 98,
    spo2D: 98,
    spo2Fast: 98,
    spo2BB: 98,
    eHr: 70,
    eSpo2: 98,
    eSpo2D: 98,
    hrD: 70,
    eHrD: 70,
  });
  it('recognises each format and not the other', () => {
    const f8 = Buffer.concat([F1, F1, F1, F1]);
    expect(detectNonin7(Buffer.concat([Buffer.from([7, 7]), p7]))).toBe(true);
    expect(detectNonin8(f8)).toBe(true);
    expect(detectNonin7(f8)).toBe(false);
    expect(detectNonin8(p7)).toBe(false);
    expect(detectNonin8(Buffer.from('12/01/05 11:56:29 SN=1 SPO2=098%'))).toBe(false);
  });
});
