// Golden fixtures: every fixtures/<protocol>/*.fixture.json decoded whole, byte by byte and at
// random cut points; all three must give the expected records (see fixtures/README.md).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPipeline } from '../decoders/pipeline.js';
import { getProtocol } from '../decoders/registry.js';
import { decodedRecords, errorRecord, type NdjsonRecord } from '../decoders/ndjson.js';

interface Fixture {
  protocol: string;
  description: string;
  derivation: string;
  wire_hex?: string;
  wire_text?: string;
  options?: { defaultUtcOffsetMin?: number; maxFrameBytes?: number };
  expected: NdjsonRecord[];
}

const root = join(import.meta.dirname, '..', 'fixtures');
const files = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory())
  .flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => f.endsWith('.fixture.json'))
      .map((f) => join(d, f)),
  );

export function wireBytes(f: Fixture): Buffer {
  if (f.wire_text !== undefined) return Buffer.from(f.wire_text, 'utf8');
  const hex = (f.wire_hex ?? '').replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('wire_hex is not hex');
  return Buffer.from(hex, 'hex');
}

function decodeAll(f: Fixture, chunks: Buffer[]): NdjsonRecord[] {
  const p = getProtocol(f.protocol);
  if (!p) throw new Error(`unknown protocol ${f.protocol}`);
  const out: NdjsonRecord[] = [];
  const off = f.options?.defaultUtcOffsetMin ?? 0;
  const pipe = createPipeline(
    p,
    {
      decoded: (d) => out.push(...decodedRecords(d, off)),
      error: (e) => out.push(errorRecord(e)),
    },
    {
      defaultUtcOffsetMin: off,
      ...(f.options?.maxFrameBytes !== undefined ? { maxFrameBytes: f.options.maxFrameBytes } : {}),
    },
  );
  for (const c of chunks) pipe.push(c, 1_800_000_000_000_000);
  pipe.end();
  return out;
}

function check(records: NdjsonRecord[], expected: NdjsonRecord[]): void {
  expect(records.length, JSON.stringify(records.map((r) => [r['kind'], r['refid'] ?? r['code']]))).toBe(
    expected.length,
  );
  expected.forEach((e, i) => expect(records[i], `record ${i}`).toMatchObject(e));
}

describe('golden fixtures', () => {
  it('has fixtures', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    const f = JSON.parse(readFileSync(join(root, file), 'utf8')) as Fixture;
    describe(file, () => {
      it('states where its expected values come from', () => {
        expect(f.derivation.length).toBeGreaterThan(20);
        expect(f.expected.length).toBeGreaterThan(0);
      });
      const wire = wireBytes(f);
      it('decodes as one chunk', () => check(decodeAll(f, [wire]), f.expected));
      it('decodes byte by byte', () =>
        check(
          decodeAll(
            f,
            [...wire].map((b) => Buffer.from([b])),
          ),
          f.expected,
        ));
      it('decodes at random cut points', () => {
        let seed = 12345;
        for (let round = 0; round < 20; round++) {
          const chunks: Buffer[] = [];
          let i = 0;
          while (i < wire.length) {
            seed = (seed * 1103515245 + 12345) >>> 0;
            const n = 1 + (seed % 97);
            chunks.push(wire.subarray(i, i + n));
            i += n;
          }
          check(decodeAll(f, chunks), f.expected);
        }
      });
    });
  }
});
