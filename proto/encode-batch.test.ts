// The hand-written Batch encoder must produce exactly the generated encoder's bytes, for any
// Batch: random ones from every field of the schema, including negative, large and unset values.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
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

// Arbitraries built from the schema itself, so a field added to vitals.proto is generated here without anyone
// remembering to: the encoder must then write it, or this test fails.
const schema = protobuf
  .loadSync(fileURLToPath(new URL('./vitalwire/v1/vitals.proto', import.meta.url)))
  .lookupType('vitalwire.v1.Batch').parent as protobuf.Namespace;
const SCALAR: Record<string, fc.Arbitrary<unknown>> = {
  uint32: u32,
  int64: i64,
  uint64: u64,
  sint32: s32,
  double: dbl,
  string: str,
  bool: fc.boolean(),
};
const cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();
function arbitraryOf(typeName: string, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const hit = cache.get(typeName);
  if (hit) return hit;
  const t = schema.lookupType(typeName);
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of t.fieldsArray) {
    f.resolve();
    let a: fc.Arbitrary<unknown>;
    if (f.resolvedType instanceof protobuf.Type) a = arbitraryOf(f.resolvedType.name, depth + 1);
    else if (f.resolvedType instanceof protobuf.Enum) a = en;
    else if (f.name === 'deviceUtcOffsetMin') a = fc.integer({ min: -720, max: 840 });
    else {
      const s = SCALAR[f.type];
      if (!s) throw new Error(`encode-batch.test: no arbitrary for ${t.name}.${f.name} (${f.type})`);
      a = s;
    }
    if (f.repeated) a = fc.array(a, { maxLength: f.name === 'samples' ? 600 : depth === 0 ? 5 : 3 });
    fields[f.name] = opt(a);
  }
  // oneof members: at most one set, as the generated code allows.
  const oneofs = t.oneofsArray.map((o) => o.fieldsArray.map((f) => f.name));
  const arb = fc.record(fields, { requiredKeys: [] }).map((o) => {
    const x: Record<string, unknown> = { ...o };
    for (const names of oneofs) {
      const set = names.filter((n) => x[n] !== undefined);
      for (const n of set.slice(1)) delete x[n];
    }
    return x;
  });
  cache.set(typeName, arb);
  return arb;
}
const obs = arbitraryOf('Observation');
const batch = arbitraryOf('Batch');

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
    const edges = [
      0,
      1,
      -1,
      63,
      64,
      -64,
      -65,
      8191,
      8192,
      -8192,
      -8193,
      1048575,
      1048576,
      -1048577,
      134217727,
      134217728,
      2 ** 31 - 1,
      -(2 ** 31),
    ];
    const b: IBatch = {
      waves: [
        { mdc: 131330, samples: edges },
        { samples: Array.from({ length: 600 }, (_, i) => ((i * 97) % 20000) - 10000) },
      ],
    };
    expect(Buffer.compare(encodeBatch(b), Buffer.from(Batch.encode(b).finish()))).toBe(0);
  });

  it('writes int64 boundaries and shared Timing objects as the generated encoder does', () => {
    // Timestamps past 2^32 take the allocation-free split; a Timing shared by rows is copied.
    const vals = [
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 0.5,
      2 ** 35,
      2 ** 49,
      2 ** 53 - 1,
      2 ** 56,
      2 ** 63,
      2 ** 64,
      1.79e15,
      -1.79e15,
      -1,
      Infinity,
      NaN,
    ];
    for (const v of vals) {
      const shared = { gatewayTimeUs: v, deviceTimeUs: 1.79e15, deviceUtcOffsetMin: -300 };
      const b: IBatch = {
        seq: v,
        observations: [
          { time: shared, number: 1 },
          { time: shared, number: 2 },
          { time: { clockOffsetUs: v }, number: 3 },
          { time: shared, text: 'x' },
        ],
        waves: [{ time: shared, firstSample: v, samples: [1] }],
      };
      expect(Buffer.compare(encodeBatch(b), Buffer.from(Batch.encode(b).finish()))).toBe(0);
    }
  });

  it('gives the same message when observations carry pre-encoded static fields (field order may differ)', () => {
    fc.assert(
      fc.property(fc.array(obs, { minLength: 1, maxLength: 6 }), fc.option(u64, { nil: undefined }), (os, seq) => {
        const plain = { kind: 1, seq, observations: os as IObservation[] } as IBatch;
        const pre = {
          ...plain,
          observations: (os as IObservation[]).map((o) => ({ ...o, [PRE_ENCODED]: preEncodeStatic(o) })),
        } as IBatch;
        const ours = Batch.toObject(Batch.decode(encodeBatch(pre)));
        const theirs = Batch.toObject(Batch.decode(Batch.encode(plain).finish()));
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips through the generated decoder', () => {
    const b: IBatch = {
      kind: 2,
      seq: 2 ** 40 + 3,
      waves: [
        {
          mdc: 131330,
          samples: [-32768, 0, 32767],
          firstSample: 2 ** 35,
          invalidValue: 32767,
          time: { clockOffsetUs: -5 },
        },
      ],
    };
    const d = Batch.decode(encodeBatch(b));
    expect(d.seq).toBe(2 ** 40 + 3);
    expect(d.waves[0]?.samples).toEqual([-32768, 0, 32767]);
    expect(d.waves[0]?.firstSample).toBe(2 ** 35);
    expect(d.waves[0]?.time?.clockOffsetUs).toBe(-5);
  });
});
