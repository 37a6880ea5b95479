// The hand-written Batch encoder must produce exactly the generated encoder's bytes, for any
// Batch: random ones from every field of the schema, including negative, large and unset values.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Batch, type IBatch, type IObservation } from './index.js';
import { encodeBatch, PRE_ENCODED, preEncodeStatic } from './encode-batch.js';

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i64 = fc.oneof(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.integer({ min: -1000, max: 1000 }));
const u64 = fc.integer({ min: 0, max: 2 ** 53 - 1 });
const s32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const en = fc.integer({ min: 0, max: 9 });
const str = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('MDC_PULS_OXIM_SAT_O2', '%', 'Nguyễn Văn ✓', ''));
const dbl = fc.double({ noNaN: true });
const timing = fc.record({ gatewayTimeUs: opt(i64), deviceTimeUs: opt(i64), clockOffsetUs: opt(i64), deviceUtcOffsetMin: opt(fc.integer({ min: -720, max: 840 })) }, { requiredKeys: [] });
const obs = fc.record({
  time: opt(timing), mdc: opt(u32), refid: opt(str), number: opt(dbl), code: opt(fc.record({ mdc: opt(u32), refid: opt(str), text: opt(str) }, { requiredKeys: [] })),
  unit: opt(str), unitMdc: opt(u32), vendorCode: opt(str), vendorUnit: opt(str), flags: opt(u32), containment: opt(str), method: opt(str), range: opt(str),
}, { requiredKeys: [] }).map((o) => {
  // oneof value: at most one of number / code / text, as the generated code allows.
  const x: Record<string, unknown> = { ...o };
  if (x['number'] !== undefined) { delete x['code']; delete x['text']; } else if (x['code'] !== undefined) delete x['text'];
  return x;
});
const wave = fc.record({
  time: opt(timing), mdc: opt(u32), refid: opt(str), sampleRateHz: opt(dbl), firstSample: opt(u64), samples: opt(fc.array(s32, { maxLength: 600 })),
  scale: opt(dbl), offset: opt(dbl), unit: opt(str), invalidValue: opt(s32), vendorCode: opt(str), flags: opt(u32),
}, { requiredKeys: [] });
const alarm = fc.record({
  time: opt(timing), id: opt(str), mdc: opt(u32), refid: opt(str), text: opt(str), priority: opt(en), kind: opt(en), state: opt(en), phase: opt(en),
  inactivation: opt(en), sourceMdc: opt(u32), sourceRefid: opt(str), vendorCode: opt(str), flags: opt(u32),
}, { requiredKeys: [] });
const status = fc.record({
  time: opt(timing), state: opt(en), reason: opt(str), framesOk: opt(u64), framesBad: opt(u64), garbageBytes: opt(u64), unmapped: opt(u64),
  reconnects: opt(u64), queueDepth: opt(u64), clockSynced: opt(fc.boolean()),
}, { requiredKeys: [] });
const gap = fc.record({
  kind: opt(en), fromSeq: opt(u64), toSeq: opt(u64), waveMdc: opt(u32), fromSample: opt(u64), sampleCount: opt(u64), fromTimeUs: opt(i64), toTimeUs: opt(i64), reason: opt(en),
}, { requiredKeys: [] });
const batch = fc.record({
  source: opt(fc.record({ site: opt(str), gateway: opt(str), device: opt(str), model: opt(str), protocol: opt(str), bed: opt(str), hardwareId: opt(str) }, { requiredKeys: [] })),
  kind: opt(en), seq: opt(u64), backfill: opt(fc.boolean()), publishTimeUs: opt(i64),
  observations: opt(fc.array(obs, { maxLength: 5 })), waves: opt(fc.array(wave, { maxLength: 3 })), alarms: opt(fc.array(alarm, { maxLength: 3 })),
  statuses: opt(fc.array(status, { maxLength: 2 })), gaps: opt(fc.array(gap, { maxLength: 2 })),
}, { requiredKeys: [] });

describe('encodeBatch', () => {
  it('writes the same bytes as the generated encoder', () => {
    fc.assert(
      fc.property(batch, (b) => {
        const ours = encodeBatch(b as IBatch);
        const theirs = Batch.encode(b as IBatch).finish();
        expect(Buffer.compare(ours, Buffer.from(theirs))).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('packs samples of every varint length as the generated encoder does (the 1- and 2-byte fast paths)', () => {
    // Zigzag boundaries: 63/-64 fit one byte, 8191/-8192 two, then 3, 4 and 5 bytes.
    const edges = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, -8192, -8193, 1048575, 1048576, -1048577, 134217727, 134217728, 2 ** 31 - 1, -(2 ** 31)];
    const b: IBatch = { waves: [{ mdc: 131330, samples: edges }, { samples: Array.from({ length: 600 }, (_, i) => (i * 97) % 20000 - 10000) }] };
    expect(Buffer.compare(encodeBatch(b), Buffer.from(Batch.encode(b).finish()))).toBe(0);
  });

  it('writes int64 boundaries and shared Timing objects as the generated encoder does', () => {
    // Timestamps past 2^32 take the allocation-free split; a Timing shared by rows is copied.
    const vals = [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 0.5, 2 ** 35, 2 ** 49, 2 ** 53 - 1, 2 ** 56, 2 ** 63, 2 ** 64, 1.79e15, -1.79e15, -1, Infinity, NaN];
    for (const v of vals) {
      const shared = { gatewayTimeUs: v, deviceTimeUs: 1.79e15, deviceUtcOffsetMin: -300 };
      const b: IBatch = {
        seq: v,
        observations: [{ time: shared, number: 1 }, { time: shared, number: 2 }, { time: { clockOffsetUs: v }, number: 3 }, { time: shared, text: 'x' }],
        waves: [{ time: shared, firstSample: v, samples: [1] }],
      };
      expect(Buffer.compare(encodeBatch(b), Buffer.from(Batch.encode(b).finish()))).toBe(0);
    }
  });

  it('gives the same message when observations carry pre-encoded static fields (field order may differ)', () => {
    fc.assert(
      fc.property(fc.array(obs, { minLength: 1, maxLength: 6 }), fc.option(u64, { nil: undefined }), (os, seq) => {
        const plain = { kind: 1, seq, observations: os as IObservation[] } as IBatch;
        const pre = { ...plain, observations: (os as IObservation[]).map((o) => ({ ...o, [PRE_ENCODED]: preEncodeStatic(o) })) } as IBatch;
        const ours = Batch.toObject(Batch.decode(encodeBatch(pre)));
        const theirs = Batch.toObject(Batch.decode(Batch.encode(plain).finish()));
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips through the generated decoder', () => {
    const b: IBatch = { kind: 2, seq: 2 ** 40 + 3, waves: [{ mdc: 131330, samples: [-32768, 0, 32767], firstSample: 2 ** 35, invalidValue: 32767, time: { clockOffsetUs: -5 } }] };
    const d = Batch.decode(encodeBatch(b));
    expect(d.seq).toBe(2 ** 40 + 3);
    expect(d.waves[0]?.samples).toEqual([-32768, 0, 32767]);
    expect(d.waves[0]?.firstSample).toBe(2 ** 35);
    expect(d.waves[0]?.time?.clockOffsetUs).toBe(-5);
  });
});
