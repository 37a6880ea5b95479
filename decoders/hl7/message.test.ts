import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { component, countParts, createHl7Parser, part, spanEquals } from './message.js';
import { readNumber, readText } from './text.js';

const parser = createHl7Parser();
function parse(s: string | Buffer) {
  const failure = parser.parse(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  if (failure) throw new Error(failure.code);
  return parser;
}
const text = (seg: number, f: number, c?: number) => {
  const m = parser;
  return readText(m, c === undefined ? m.field(seg, f) : component(m, m.field(seg, f), c));
};

describe('HL7 message model', () => {
  it('numbers MSH fields with MSH-1 as the separator itself', () => {
    parse('MSH|^~\\&|APP|FAC|||20260101||ORU^R01^ORU_R01|C1|P|2.6\rPID|1||X');
    expect(parser.field(0, 1)).toBe(-1);
    expect(text(0, 2)).toBe('^~\\&');
    expect(text(0, 3)).toBe('APP');
    expect(text(0, 9, 2)).toBe('R01');
    expect(text(0, 10)).toBe('C1');
    expect(text(1, 3)).toBe('X');
    expect(parser.segmentId(1)).toBe('PID');
    expect(parser.field(1, 4)).toBe(-1);
  });

  it('honours the encoding characters the message declares', () => {
    // HL7 2.5.4: any non-alphanumeric characters may be chosen.
    parse('MSH#*!%@#A*B*C!D#\rOBX#1#NM#1*X@y*MDC');
    expect(text(0, 3, 2)).toBe('B');
    expect(parser.delims.repetition).toBe('!'.charCodeAt(0));
    expect(readText(parser, part(parser.buf, parser.field(0, 3), parser.delims.repetition, 2))).toBe('D');
    expect(text(1, 3, 2)).toBe('X@y');
    expect(
      readText(parser, part(parser.buf, component(parser, parser.field(1, 3), 2), parser.delims.subcomponent, 2)),
    ).toBe('y');
  });

  it('resolves every escape sequence (HL7 2.7)', () => {
    parse('MSH|^~\\&|A\rOBX|1|ST|c||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X41C3A9\\g\\.br\\h\\H\\i\\N\\j\\Z99\\');
    // \X41C3A9\ is the bytes 41 C3 A9: 'A' then U+00E9 in UTF-8 (the default charset).
    expect(text(1, 5)).toBe('a|b^c&d~e\\fAég\nhij\\Z99\\');
  });

  it('decodes in the charset MSH-18 names', () => {
    const latin = Buffer.concat([
      Buffer.from(`MSH|^~\\&|A${'|'.repeat(15)}8859/1\rOBX|1|ST|c||caf`),
      Buffer.from([0xe9]),
    ]);
    parse(latin);
    expect(parser.charset).toBe('latin1');
    expect(text(1, 5)).toBe('café');
    parse(Buffer.from(`MSH|^~\\&|A${'|'.repeat(15)}UNICODE UTF-8\rOBX|1|ST|c||Nguyễn`, 'utf8'));
    expect(parser.charset).toBe('utf8');
    expect(text(1, 5)).toBe('Nguyễn');
  });

  it('accepts CR, LF and CRLF segment ends and skips blank lines', () => {
    for (const sep of ['\r', '\n', '\r\n', '\r\n\r\n']) {
      parse(`MSH|^~\\&|A${sep}PID|1${sep}OBX|1|NM|x||5${sep}`);
      expect(parser.segmentCount, JSON.stringify(sep)).toBe(3);
      expect(parser.segmentIs(2, 'OBX')).toBe(true);
      expect(text(2, 5)).toBe('5');
    }
  });

  it('keeps a 2.7 truncation character as a fifth encoding character', () => {
    parse('MSH|^~\\&#|A|B\rMSA|AA|1');
    expect(text(0, 2)).toBe('^~\\&#');
    expect(text(0, 4)).toBe('B');
  });

  it('refuses messages it cannot read, with codes', () => {
    expect(parser.parse(Buffer.from('PID|1'))).toMatchObject({ code: 'VW_ERR_HL7_NO_MSH' });
    expect(parser.parse(Buffer.from('MSH|||||'))).toMatchObject({ code: 'VW_ERR_HL7_BAD_ENCODING_CHARS' });
    expect(parser.parse(Buffer.from('MSHA^~\\&|'))).toMatchObject({ code: 'VW_ERR_HL7_BAD_ENCODING_CHARS' });
    expect(parser.parse(Buffer.alloc(0))).toMatchObject({ code: 'VW_ERR_HL7_NO_MSH' });
  });

  it('reads NM values without strings, exactly as decimal text', () => {
    const cases: [string, number][] = [
      ['97', 97],
      ['-0.5', -0.5],
      ['+12.25', 12.25],
      [' 1.76 ', 1.76],
      ['0.001221', 0.001221],
      ['35.1', 35.1],
      ['.5', 0.5],
      ['7.', 7],
    ];
    for (const [s, v] of cases) {
      parse(`MSH|^~\\&|A\rOBX|1|NM|c||${s}`);
      expect(readNumber(parser.buf, parser.field(1, 5)), s).toBe(v);
    }
    for (const s of ['', '-', '.', '1e3', '12a', '1.2.3', '- 5', '--1']) {
      parse(`MSH|^~\\&|A\rOBX|1|NM|c||${s}`);
      expect(readNumber(parser.buf, parser.field(1, 5)), s).toBeNaN();
    }
  });

  it('counts parts and compares spans', () => {
    parse('MSH|^~\\&|A\rOBX|1|NA|c||1^2^^4');
    expect(countParts(parser.buf, parser.field(1, 5), parser.delims.component)).toBe(4);
    expect(spanEquals(parser.buf, parser.field(1, 2), 'NA')).toBe(true);
    expect(spanEquals(parser.buf, parser.field(1, 2), 'NM')).toBe(false);
  });
});

// An independent HL7 parser (@medplum/core 4.5) must see the same segments, fields and
// components as ours, over generated valid messages.
describe('HL7 model against @medplum/core', () => {
  const value = fc.stringMatching(/^[A-Za-z0-9 .:-]{0,8}$/);
  const fieldArb = fc.array(fc.array(value, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 });
  const segArb = fc.tuple(
    fc.constantFrom('PID', 'PV1', 'OBR', 'OBX', 'NTE'),
    fc.array(fieldArb, { minLength: 1, maxLength: 8 }),
  );
  it('agrees on every field and component', () => {
    fc.assert(
      fc.property(
        fc.array(segArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('\r', '\n', '\r\n'),
        (segs, eol) => {
          const lines = ['MSH|^~\\&|APP|FAC|||20260101||ORU^R01^ORU_R01|C1|P|2.6'];
          for (const [id, fields] of segs)
            lines.push([id, ...fields.map((reps) => reps.map((comps) => comps.join('^')).join('~'))].join('|'));
          const wire = lines.join(eol);
          parse(wire);
          const theirs = MedplumMessage.parse(wire.replace(/\r\n|\n/g, '\r'));
          expect(parser.segmentCount).toBe(theirs.segments.length);
          segs.forEach(([id, fields], i) => {
            const seg = i + 1;
            expect(parser.segmentId(seg)).toBe(id);
            const their = theirs.segments[seg];
            fields.forEach((reps, f) => {
              const n = f + 1;
              expect(text(seg, n)).toBe(their?.getField(n)?.toString() ?? '');
              const first = reps[0] ?? [];
              first.forEach((_c, k) => expect(text(seg, n, k + 1)).toBe(their?.getComponent(n, k + 1) ?? ''));
            });
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
