import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Batch, GapReason, Kind, Source } from '../proto/index.js';
import { delimit, encodeSlowClientGap, obsShape, peekBatch, readSource, undelimit } from './wire.js';

const batch = (seq: number, publishTimeUs: number, bed = 'Bed 7'): Uint8Array =>
  Batch.encode({
    source: { site: 's1', gateway: 'g1', device: 'd1', bed, model: 'M' },
    kind: Kind.KIND_WAVE,
    seq,
    publishTimeUs,
    waves: [{ mdc: 131330, samples: [1, -2, 3], sampleRateHz: 250, firstSample: 9 }],
  }).finish();

describe('fan-out wire helpers', () => {
  it('reads seq, publish time and the Source without decoding the rest', () => {
    const b = batch(4_000_000_123, 1_767_225_600_123_456);
    const h = peekBatch(b);
    expect(h).not.toBeNull();
    expect(h!.seq).toBe(4_000_000_123);
    expect(h!.publishTimeUs).toBe(1_767_225_600_123_456);
    expect(Source.decode(b.subarray(h!.sourceStart, h!.sourceEnd)).device).toBe('d1');
    expect(readSource(b, h!)).toEqual({ bed: 'Bed 7', model: 'M' });
  });

  it('reads the metric codes a numerics Batch carries without decoding it', () => {
    const b = Batch.encode({
      source: { device: 'd' },
      kind: Kind.KIND_OBS,
      seq: 3,
      observations: [
        { mdc: 150021, number: 120, unit: 'mm[Hg]', vendorCode: 'NIBP-S' },
        { mdc: 150022, number: 80 },
        { code: { mdc: 1, refid: 'X' } },
      ],
    }).finish();
    expect(obsShape(b)).toBe('150021,150022,0');
    expect(obsShape(Buffer.from([0x52, 0x05, 0x10]))).toBe(''); // truncated observation
  });

  it('refuses bytes that are not a protobuf message', () => {
    expect(peekBatch(Buffer.from([0x00, 0x01]))).toBeNull(); // field number 0
    expect(peekBatch(Buffer.from([0x0a, 0x10, 0x01]))).toBeNull(); // length beyond the end
    expect(peekBatch(Buffer.from([0x0f]))).toBeNull(); // wire type 7
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const h = peekBatch(bytes);
        if (h) expect(h.sourceEnd).toBeLessThanOrEqual(bytes.length);
      }),
    );
  });

  it('delimits and splits back byte-identical payloads (protobuf length-delimited stream)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (parts) => {
        const stream = Buffer.concat(parts.map((p) => delimit(p)));
        expect([...undelimit(stream)].map((p) => Buffer.from(p))).toEqual(parts.map((p) => Buffer.from(p)));
      }),
    );
    expect(() => [...undelimit(Buffer.from([0x05, 1, 2]))]).toThrow(/truncated/);
  });

  it('encodes a slow-client Gap as a seq 0 Batch of the stream', () => {
    const [bytes] = [
      ...undelimit(
        encodeSlowClientGap({
          site: 's',
          gateway: 'g',
          device: 'd',
          stream: 'obs',
          fromSeq: 5,
          toSeq: 9,
          fromTimeUs: 1,
          toTimeUs: 2,
        }),
      ),
    ];
    const b = Batch.decode(bytes!);
    expect(Number(b.seq)).toBe(0);
    expect(b.kind).toBe(Kind.KIND_OBS);
    expect(b.source?.device).toBe('d');
    expect(b.gaps).toHaveLength(1);
    expect(b.gaps[0]).toMatchObject({ kind: Kind.KIND_OBS, reason: GapReason.GAP_REASON_SLOW_CLIENT });
    expect([Number(b.gaps[0]!.fromSeq), Number(b.gaps[0]!.toSeq)]).toEqual([5, 9]);
  });
});
