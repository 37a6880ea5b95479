import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../proto/encode-batch.js';
import { Batch, Kind, type IBatch } from '../proto/index.js';
import { BATCH_LAYOUT, checkBatch, type ExpectedBatch } from './batch-check.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const expectFor = (site: string, gateway: string, device: string, kind: number): ExpectedBatch => ({
  site: ascii(site),
  gateway: ascii(gateway),
  device: ascii(device),
  kind,
});
const OBS = expectFor('site1', 'gw1', 'bed01', Kind.KIND_OBS);
const source = { site: 'site1', gateway: 'gw1', device: 'bed01' };
const enc = (b: IBatch): Uint8Array => Batch.encode(b).finish();

/** A Batch with every message of the schema in it, strings outside ASCII included. */
const full: IBatch = {
  source: {
    ...source,
    model: 'VS900',
    protocol: 'hl7',
    bed: 'Giường 3',
    hardwareId: '0123456789ABCDEF',
    bedClaim: 'ICU-3',
  },
  kind: Kind.KIND_OBS,
  seq: 42,
  backfill: true,
  publishTimeUs: 1_700_000_000_000_000,
  observations: [
    {
      time: { gatewayTimeUs: 1, deviceTimeUs: 2, clockOffsetUs: -3, deviceUtcOffsetMin: 420 },
      mdc: 150456,
      refid: 'MDC_PULS_OXIM_SAT_O2',
      number: 97,
      unit: '%',
      flags: 8192,
    },
    {
      mdc: 1,
      code: { mdc: 2, refid: 'r', text: 'nhịp xoang' },
      containment: '1.3.1',
      method: 'APERIODIC',
      range: '90-100',
      sentNumber: 36.6,
    },
  ],
  waves: [
    {
      mdc: 131330,
      sampleRateHz: 250,
      firstSample: 5,
      samples: [0, -1, 1, -2147483648, 2147483647],
      scale: 0.001221,
      offset: 0,
      unit: 'mV',
      invalidValue: 32767,
    },
  ],
  alarms: [
    {
      id: 'a1',
      mdc: 196680,
      text: 'LEAD OFF',
      priority: 4,
      kind: 2,
      state: 2,
      phase: 1,
      inactivation: 1,
      sourceValue: 120,
      limitLow: 50,
      limitHigh: 110,
      facets: [{ mdc: 1, refid: 'x', value: 'v', unit: 'u', containment: 'c' }],
    },
  ],
  statuses: [
    {
      state: 2,
      reason: 'VW_ERR_LINK_CLOSED',
      framesOk: 10,
      clockSynced: true,
      lastFrameTimeUs: 5,
      diagnosis: 'ok',
      session: 's',
      flags: 8192,
    },
  ],
  gaps: [
    {
      kind: Kind.KIND_WAVE,
      fromSeq: 1,
      toSeq: 2,
      waveMdc: 3,
      fromSample: 4,
      sampleCount: 5,
      fromTimeUs: 6,
      toTimeUs: 7,
      reason: 1,
    },
  ],
};

describe('checkBatch: the layout is the schema', () => {
  it('reads every field of every message with the wire type the .proto gives it, and no other field', () => {
    const root = protobuf.loadSync(join(import.meta.dirname, '..', 'proto', 'vitalwire', 'v1', 'vitals.proto'));
    const pkg = root.lookup('vitalwire.v1') as protobuf.Namespace;
    // Protobuf encoding spec: VARINT for int32/64, uint32/64, sint32/64, bool, enum; I64 for double/fixed64; LEN for
    // string, bytes, embedded messages and packed repeated scalars; I32 for float/fixed32.
    const wireOf = (f: protobuf.Field): number => {
      if (f.resolvedType instanceof protobuf.Type || f.type === 'string' || f.type === 'bytes') return 2;
      if (f.repeated && f.packed) return 2;
      if (['double', 'fixed64', 'sfixed64'].includes(f.type)) return 1;
      if (['float', 'fixed32', 'sfixed32'].includes(f.type)) return 5;
      return 0;
    };
    for (const [name, layout] of Object.entries(BATCH_LAYOUT)) {
      const t = pkg.lookupType(name);
      t.resolveAll();
      const numbers = layout.flatMap((f, n) => (f ? [n] : []));
      expect(numbers, name).toEqual(t.fieldsArray.map((f) => f.id).sort((a, b) => a - b));
      for (const f of t.fieldsArray) {
        const mine = layout[f.id];
        expect(mine?.wire, `${name}.${f.name}`).toBe(wireOf(f));
        // How it is read: 1 a string, 2 a sub-message of the right layout, 3 packed varints, 0 a scalar.
        const read =
          f.resolvedType instanceof protobuf.Type ? 2 : f.type === 'string' ? 1 : f.repeated && f.packed ? 3 : 0;
        expect(mine?.read, `${name}.${f.name}`).toBe(read);
        expect(mine?.message ?? null, `${name}.${f.name}`).toBe(
          f.resolvedType instanceof protobuf.Type ? BATCH_LAYOUT[f.resolvedType.name] : null,
        );
      }
    }
  });
});

describe('checkBatch', () => {
  it("accepts Batches of every message the contract has, from the generated encoder and from the gateway's", () => {
    expect(checkBatch(enc(full), OBS)).toBeNull();
    expect(checkBatch(encodeBatch(full), OBS)).toBeNull();
    for (const [kind, k] of [
      ['wave', Kind.KIND_WAVE],
      ['alarm', Kind.KIND_ALARM],
      ['status', Kind.KIND_STATUS],
    ] as const) {
      expect(checkBatch(enc({ source, kind: k, seq: 1 }), expectFor('site1', 'gw1', 'bed01', k)), kind).toBeNull();
    }
  });

  it('skips fields it does not know, of every wire type: an additive contract change passes', () => {
    // Field 99: LEN "x"; field 98: VARINT 300; field 97: I64; field 96: I32 (protobuf encoding spec, tag = number << 3 | wire).
    const unknown = Uint8Array.from([
      0x9a, 0x06, 0x01, 0x78, 0x90, 0x06, 0xac, 0x02, 0x89, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x85, 0x06, 1, 2, 3, 4,
    ]);
    expect(checkBatch(Buffer.concat([enc(full), unknown]), OBS)).toBeNull();
  });

  it("requires the topic's site, gateway, device and kind, the last value of each counting", () => {
    expect(checkBatch(enc({ ...full, source: { ...full.source, site: 'site2' } }), OBS)).toBe('source-mismatch');
    expect(checkBatch(enc({ ...full, source: { ...full.source, gateway: 'gw10' } }), OBS)).toBe('source-mismatch');
    expect(checkBatch(enc({ ...full, source: { ...full.source, device: 'bed0' } }), OBS)).toBe('source-mismatch');
    expect(checkBatch(enc({ ...full, source: null }), OBS)).toBe('source-mismatch');
    expect(checkBatch(enc({ ...full, kind: Kind.KIND_WAVE }), OBS)).toBe('kind-mismatch');
    expect(checkBatch(enc({ source }), OBS)).toBe('kind-mismatch'); // KIND_UNSPECIFIED, the default
    expect(checkBatch(new Uint8Array(0), OBS)).toBe('source-mismatch');
    // Protobuf merges repeated embedded messages and keeps the last value of a field: what a decoder sees decides.
    const second = (s: NonNullable<IBatch['source']>): Uint8Array => enc({ source: s });
    expect(checkBatch(Buffer.concat([enc(full), second({ site: 'site9' })]), OBS)).toBe('source-mismatch');
    expect(
      checkBatch(
        Buffer.concat([enc({ ...full, source: { ...source, site: 'site9' } }), second({ site: 'site1' })]),
        OBS,
      ),
    ).toBeNull();
    expect(checkBatch(Buffer.concat([enc(full), enc({ kind: Kind.KIND_ALARM })]), OBS)).toBe('kind-mismatch');
  });

  it('refuses what breaks the encoding: bad tags, groups, wrong wire types, long varints, bad lengths, bad UTF-8', () => {
    const ok = enc({ source, kind: Kind.KIND_OBS });
    const cases: [string, number[], string][] = [
      ['field number 0', [0x00, 0x01], 'bad-tag'],
      ['a group (wire type 3) in an unknown field 99', [0x9b, 0x06], 'bad-tag'],
      ['wire type 7 in an unknown field 99', [0x9f, 0x06], 'bad-tag'],
      ['a group where a known field is', [0x5b], 'wire-type'],
      ['a field number past 2^29-1', [0xf8, 0xff, 0xff, 0xff, 0x1f, 0x00], 'bad-tag'],
      ['seq as LEN', [0x1a, 0x01, 0x00], 'wire-type'],
      ['source as VARINT', [0x08, 0x01], 'wire-type'],
      ['an 11-byte varint', [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'bad-tag'],
      ['a length past the end', [0x62, 0x7f, 0x00], 'truncated'],
      ['a cut varint', [0x18, 0xff], 'truncated'],
      ['a cut I64 (observation number)', [0x52, 0x03, 0x21, 0x00, 0x00], 'truncated'],
      ['packed samples ending mid-varint', [0x5a, 0x04, 0x32, 0x02, 0x01, 0x80], 'truncated'],
      ['Source.bed not UTF-8', [0x0a, 0x03, 0x32, 0x01, 0xff], 'bad-utf8'],
      ['an overlong UTF-8 NUL in an observation unit', [0x52, 0x04, 0x3a, 0x02, 0xc0, 0x80], 'bad-utf8'],
    ];
    for (const [what, bytes, problem] of cases)
      expect(checkBatch(Buffer.concat([ok, Uint8Array.from(bytes)]), OBS), what).toBe(problem);
    // Long packed fields are scanned by words: an 11-byte varint anywhere in 4,000 samples, at every alignment.
    for (let at = 0; at < 8; at++) {
      const samples = new Uint8Array(4000).fill(0x02);
      samples.fill(0xff, 1000 + at, 1000 + at + 10);
      const chunk = Buffer.concat([Uint8Array.from([0x32, 0xa0, 0x1f]), samples]); // samples: LEN 4000
      const wave = Buffer.concat([Uint8Array.from([0x5a, 0xa3, 0x1f]), chunk]); // Batch.waves: LEN 4003
      const payload = Buffer.concat([Buffer.alloc(at), ok, wave]).subarray(at); // and at every offset in its buffer
      expect(checkBatch(payload, OBS), `at ${at}`).toBe('bad-tag');
      samples.fill(0xff, 1000 + at, 1000 + at + 9); // a 10-byte varint is allowed
      samples[1000 + at + 9] = 0x01;
      expect(
        checkBatch(Buffer.concat([ok, Uint8Array.from([0x5a, 0xa3, 0x1f, 0x32, 0xa0, 0x1f]), samples]), OBS),
        `at ${at}`,
      ).toBeNull();
    }
    // Samples may come unpacked: parsers must accept both (protobuf encoding spec, "packed repeated fields").
    expect(checkBatch(Buffer.concat([ok, Uint8Array.from([0x5a, 0x04, 0x30, 0x01, 0x30, 0x02])]), OBS)).toBeNull();
  });

  it('never throws, and whatever it accepts the generated decoder reads with the expected source and kind (fuzz)', () => {
    const valid = [enc(full), encodeBatch(full), enc({ source, kind: Kind.KIND_OBS, seq: 1 })];
    const mutated = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
      )
      .map(([b, edits, cut]) => {
        const x = Uint8Array.from(b);
        for (const [at, v] of edits) x[at % x.length] = v;
        return x.subarray(0, cut % (x.length + 1) === 0 ? x.length : cut % (x.length + 1));
      });
    // A long wave Batch with a run of continuation bytes dropped into its samples: the word-wise scan's case.
    const bigWave = enc({ source, kind: Kind.KIND_OBS, waves: [{ samples: new Array<number>(3000).fill(70) }] });
    const runs = fc
      .tuple(fc.integer({ min: 40, max: bigWave.length - 1 }), fc.integer({ min: 1, max: 14 }), fc.nat(7))
      .map(([at, n, shift]) => {
        const x = Buffer.concat([Buffer.alloc(shift), bigWave]).subarray(shift);
        x.fill(0xc0, at, Math.min(at + n, x.length));
        return x;
      });
    fc.assert(
      fc.property(fc.oneof(mutated, runs, fc.uint8Array({ maxLength: 200 })), (bytes) => {
        const problem = checkBatch(bytes, OBS);
        if (problem !== null) return;
        const b = Batch.decode(bytes); // must not throw
        expect(b.source?.site).toBe('site1');
        expect(b.source?.gateway).toBe('gw1');
        expect(b.source?.device).toBe('bed01');
        expect(b.kind).toBe(Kind.KIND_OBS);
      }),
      { numRuns: 3000 },
    );
  });
});
