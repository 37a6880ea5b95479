// The loader's own reader of WaveformChunks (samples kept packed) against the protobuf encoding spec's zigzag table
// and against the contract's generated decoder (protobufjs), over random chunks in each encoding a sender may use.
import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { Batch, WaveformChunk, type IWaveformChunk } from '../proto/index.js';
import * as F from '../proto/gen/fields.js';
import { packSamples, readWave, splitWaves, unpackSamples } from './wave-wire.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v)));

/** readWave's view of a chunk must be the generated decoder's, field by field. */
function expectSameAsGenerated(bytes: Uint8Array): void {
  const ref = WaveformChunk.decode(bytes);
  const w = readWave(bytes);
  expect(unpackSamples(w.samples)).toEqual(ref.samples);
  expect(w.sampleCount).toBe(ref.samples.length);
  expect(w).toMatchObject({
    gatewayTimeUs: num(ref.time?.gatewayTimeUs ?? 0),
    deviceTimeUs: num(ref.time?.deviceTimeUs ?? 0),
    clockOffsetUs: num(ref.time?.clockOffsetUs ?? 0),
    deviceUtcOffsetMin:
      ref.time && Object.prototype.hasOwnProperty.call(ref.time, 'deviceUtcOffsetMin')
        ? ref.time.deviceUtcOffsetMin
        : null,
    mdc: ref.mdc,
    refid: ref.refid,
    sampleRateHz: ref.sampleRateHz,
    firstSample: num(ref.firstSample),
    scale: ref.scale,
    offset: ref.offset,
    unit: ref.unit,
    invalidValue: Object.prototype.hasOwnProperty.call(ref, 'invalidValue') ? ref.invalidValue : null,
    vendorCode: ref.vendorCode,
    flags: ref.flags,
  });
}

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const chunk: fc.Arbitrary<IWaveformChunk> = fc.record(
  {
    time: fc.record(
      {
        gatewayTimeUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        deviceTimeUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        // A device clock behind the gateway's: a negative int64, ten bytes on the wire.
        clockOffsetUs: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        deviceUtcOffsetMin: fc.integer({ min: -720, max: 840 }),
      },
      { requiredKeys: ['gatewayTimeUs'] },
    ),
    mdc: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    refid: fc.string(),
    sampleRateHz: fc.double({ noNaN: true }),
    firstSample: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    samples: fc.array(int32, { maxLength: 300 }),
    scale: fc.double({ noNaN: true }),
    offset: fc.double({ noNaN: true }),
    unit: fc.string(),
    invalidValue: int32,
    vendorCode: fc.string(),
    flags: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  },
  { requiredKeys: ['samples'] },
);

const encode = (c: IWaveformChunk): Uint8Array => WaveformChunk.encode(WaveformChunk.create(c)).finish();

describe('wave-wire', () => {
  it('packs and unpacks sint32 as the encoding spec zigzags them', () => {
    // protobuf encoding spec, "Signed Integers": 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, 2^31-1 -> 2^32-2, -2^31 -> 2^32-1.
    const bytes = [0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f];
    const values = [0, -1, 1, -2, 2 ** 31 - 1, -(2 ** 31)];
    expect(unpackSamples(Uint8Array.from(bytes))).toEqual(values);
    expect([...packSamples(values)]).toEqual(bytes);
  });

  it('reads random chunks as the generated decoder does, samples left packed', () => {
    fc.assert(
      fc.property(chunk, (c) => {
        const bytes = encode(c);
        expectSameAsGenerated(bytes);
        // Packed as the generated encoder writes them: the samples are a view of the chunk's own bytes.
        const w = readWave(bytes);
        if ((c.samples ?? []).length > 0) expect(w.samples.buffer).toBe(bytes.buffer);
      }),
    );
  });

  it('reads samples sent in several packed runs or unpacked (parsers must accept both)', () => {
    fc.assert(
      fc.property(chunk, fc.nat(), (c, cut) => {
        const s = c.samples ?? [];
        const k = s.length === 0 ? 0 : cut % s.length;
        // Two runs: a message merged from two encodings (repeated fields append).
        expectSameAsGenerated(
          Buffer.concat([encode({ ...c, samples: s.slice(0, k) }), encode({ samples: s.slice(k) })]),
        );
        // Unpacked: each sample its own tag and varint.
        const w = protobuf.Writer.create();
        for (const v of s) w.uint32((F.WaveformChunk.samples << 3) | 0).sint32(v);
        expectSameAsGenerated(Buffer.concat([encode({ ...c, samples: [] }), w.finish()]));
      }),
    );
  });

  it('splits a Batch into its waves and the rest, which decodes as the Batch without waves', () => {
    const waves = [
      { mdc: 1, samples: [1, -2, 3] },
      { mdc: 2, samples: [] },
      { mdc: 3, samples: [400000] },
    ];
    const payload = Batch.encode(
      Batch.create({ seq: 7, observations: [{ mdc: 9, number: 1.5 }], waves, gaps: [{ fromSeq: 1, toSeq: 2 }] }),
    ).finish();
    const split = splitWaves(payload);
    expect(split.waves.map((b) => readWave(b).mdc)).toEqual([1, 2, 3]);
    expect(split.waves.map((b) => unpackSamples(readWave(b).samples))).toEqual([[1, -2, 3], [], [400000]]);
    const rest = Batch.decode(split.rest);
    expect(rest.waves).toEqual([]);
    expect(Batch.toObject(rest)).toEqual({ ...Batch.toObject(Batch.decode(payload)), waves: undefined });
  });

  it('refuses truncated and malformed bytes with a RangeError', () => {
    const bytes = encode({ mdc: 131330, refid: 'MDC_ECG_ELEC_POTL_II', samples: [1, 300, -70000] });
    // Cut anywhere: inside a field it is refused, as the generated decoder refuses it; between fields it is a shorter
    // chunk, read as the generated decoder reads it.
    let refused = 0;
    for (let n = 1; n < bytes.length; n++) {
      const cut = bytes.subarray(0, n);
      let ok = true;
      try {
        WaveformChunk.decode(cut);
      } catch {
        ok = false;
      }
      if (ok) expectSameAsGenerated(cut);
      else {
        expect(() => readWave(cut), `cut at ${n}`).toThrow(RangeError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(bytes.length / 2);
    // A packed run that ends inside a varint: the length says 2, the second byte still has its continuation bit.
    expect(() => readWave(Uint8Array.from([(F.WaveformChunk.samples << 3) | 2, 2, 0x02, 0x80]))).toThrow(RangeError);
    // A varint of 11 bytes inside a long run (the word-at-a-time count), at each alignment.
    for (let at = 0; at < 8; at++) {
      const run = [...new Array<number>(100 + at).fill(0x02), ...new Array<number>(10).fill(0xff), 0x01, 0x02];
      expect(() => readWave(Uint8Array.from([(F.WaveformChunk.samples << 3) | 2, run.length, ...run]))).toThrow(
        RangeError,
      );
      const ok = [...new Array<number>(100 + at).fill(0x02), ...new Array<number>(9).fill(0xff), 0x01, 0x02];
      expect(readWave(Uint8Array.from([(F.WaveformChunk.samples << 3) | 2, ok.length, ...ok])).sampleCount).toBe(
        100 + at + 2,
      );
    }
    expect(() => splitWaves(Uint8Array.from([(F.Batch.waves << 3) | 2, 5, 1]))).toThrow(RangeError);
    expect(() => splitWaves(Uint8Array.from([(F.Batch.seq << 3) | 3]))).toThrow(RangeError); // a group
  });
});
