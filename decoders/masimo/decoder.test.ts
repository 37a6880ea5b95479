import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Flag } from '../../proto/index.js';
import type { Decoded } from '../decoded.js';
import type { DecodeError } from '../../lib/errors.js';
import { createPipeline } from '../pipeline.js';
import { decodeMasimoLine } from './decoder.js';
import { encodeMasimoLine, type MasimoLine } from './encode.js';
import { detectMasimo, masimoProtocol } from './index.js';

// The MD PnP Radical-7 example line (mdpnp/mdpnp other/pox_rad/src/poxrad_discrete.h).
const EXAMPLE =
  '12/01/05 11:56:29 SN=0123456789 SPO2=098% BPM=240 PI=20.00% SPCO=01.0% SPMET=00.5% DESAT=01 PIDELTA=-02 PVI=027 ALARM=0000 EXC=000820';

function decode(line: string, offsetMin = 0): Decoded {
  const r = decodeMasimoLine(Buffer.from(line, 'latin1'), { gatewayTimeUs: 5, defaultUtcOffsetMin: offsetMin });
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

function run(wire: Buffer, chunks = 1) {
  const decoded: Decoded[] = [];
  const errors: DecodeError[] = [];
  const pipe = createPipeline(masimoProtocol, { decoded: (d) => decoded.push(d), error: (e) => errors.push(e) });
  const n = Math.ceil(wire.length / chunks);
  for (let i = 0; i < wire.length; i += n) pipe.push(wire.subarray(i, i + n), 1);
  pipe.end();
  return { decoded, errors };
}

describe('Masimo Radical-7 line decoder', () => {
  it('reads the example line: serial, device time, values, units, MDC codes', () => {
    const d = decode(EXAMPLE, 60);
    expect(d.device).toBe('0123456789');
    expect(d.observations.map((o) => [o.vendorCode, o.number, o.unit, o.vendorUnit, o.mdc])).toEqual([
      ['SPO2', 98, '%', '%', 150456],
      ['BPM', 240, '/min', '', 149530],
      ['PI', 20, '%', '%', 150448],
      ['SPCO', 1, '%', '%', 0],
      ['SPMET', 0.5, '%', '%', 0],
      ['DESAT', 1, '1', '', 0],
      ['PIDELTA', -2, '%', '', 0],
      ['PVI', 27, '%', '', 0],
    ]);
    // EXC 0x800 (SET) is informational; 0x020 is "sensor off".
    expect(d.observations[0]?.flags).toBe(Flag.FLAG_SENSOR_OFF);
    expect(d.observations[3]?.flags).toBe(Flag.FLAG_SENSOR_OFF | Flag.FLAG_UNMAPPED);
    // 2005-12-01 11:56:29 local at UTC+1 is 10:56:29 UTC.
    expect(d.observations[0]?.time).toEqual({
      gatewayTimeUs: 5,
      deviceTimeUs: Date.UTC(2005, 11, 1, 10, 56, 29) * 1000,
    });
  });

  it('makes dash values unavailable and keeps the rest', () => {
    const d = decode(
      '02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800',
    );
    const spco = d.observations.find((o) => o.vendorCode === 'SPCO');
    expect(spco?.number).toBeUndefined();
    expect(spco?.flags).toBe(Flag.FLAG_UNAVAILABLE | Flag.FLAG_UNMAPPED);
    expect(d.observations.filter((o) => o.number === undefined).map((o) => o.vendorCode)).toEqual([
      'SPCO',
      'SPMET',
      'DESAT',
      'PIDELTA',
    ]);
    expect(d.observations[0]?.flags).toBe(0);
  });

  it('maps EXC bits to flags and ALARM limit bits to FLAG_ABNORMAL on their value', () => {
    const d = decode('01/02/20 03:04:05 SPO2=085% BPM=130 SPCO=12.0% ALARM=0106 EXC=20001C');
    const f = Object.fromEntries(d.observations.map((o) => [o.vendorCode, o.flags]));
    const common = Flag.FLAG_LOW_PERFUSION | Flag.FLAG_QUESTIONABLE | Flag.FLAG_ARTIFACT; // 0x4, 0x8, 0x10
    expect(f['SPO2']).toBe(common | Flag.FLAG_ABNORMAL); // 0x0002 SpO2 low
    expect(f['BPM']).toBe(common | Flag.FLAG_ABNORMAL); // 0x0004 pulse rate high
    expect(f['SPCO']).toBe(common | Flag.FLAG_ABNORMAL | Flag.FLAG_UNMAPPED); // 0x0100, and 0x200000 low confidence
  });

  it('keeps unknown fields as unmapped, skips unreadable values with a warning', () => {
    const d = decode('01/02/20 03:04:05 SPHB=13.1 RRA=18 SPO2=9x% EXC=ZZ');
    expect(d.observations.map((o) => [o.vendorCode, o.number, o.flags])).toEqual([
      ['SPHB', 13.1, Flag.FLAG_UNMAPPED],
      ['RRA', 18, Flag.FLAG_UNMAPPED],
    ]);
    expect(d.warnings.map((w) => w.code)).toEqual(['VW_ERR_MASIMO_BAD_VALUE', 'VW_ERR_MASIMO_BAD_VALUE']);
  });

  it('skips noise before the time with a warning and tolerates a leading CR (LF CR senders)', () => {
    const d = decode('\u0000\u00ffxx12/01/05 11:56:29 SPO2=098%');
    expect(d.warnings.map((w) => w.code)).toEqual(['VW_ERR_MASIMO_SYNTAX']);
    expect(d.observations[0]?.number).toBe(98);
    expect(decode('\r12/01/05 11:56:29 SPO2=097%').warnings).toEqual([]);
    expect(decode('99/99/99 99:99:99 12/01/05 11:56:29 SPO2=096%').observations[0]?.number).toBe(96);
  });

  it('rejects a line without a time, or with an impossible one', () => {
    for (const line of [
      'SPO2=098% BPM=060',
      '02/30/21 10:00:00 SPO2=098%',
      '13/01/21 10:00:00 SPO2=098%',
      '12/01/05 24:00:00 SPO2=1%',
    ]) {
      const r = decodeMasimoLine(Buffer.from(line), { gatewayTimeUs: 0 });
      expect(r.ok ? 'ok' : r.error.code, line).toBe('VW_ERR_MASIMO_SYNTAX');
    }
  });

  it('frames CR LF and LF lines, skips blank lines, drops an oversize line and resyncs', () => {
    const wire = Buffer.from(`${EXAMPLE}\r\n\r\n${'X'.repeat(600)}\r\n${EXAMPLE}\n`, 'latin1');
    for (const chunks of [1, 7, wire.length]) {
      const r = run(wire, chunks);
      expect(r.decoded.length).toBe(2);
      expect(r.errors.map((e) => e.code)).toEqual(['VW_ERR_FRAME_TOO_LARGE']);
    }
  });

  it('detects Radical-7 output', () => {
    expect(detectMasimo(Buffer.from(`\r\n${EXAMPLE}\r\n`))).toBe(true);
    expect(detectMasimo(Buffer.from('MSH|^~\\&|'))).toBe(false);
  });

  it('never throws on arbitrary lines, with or without a valid time in front', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.string({ maxLength: 300, unit: 'binary' }), (timed, rest) => {
        const r = decodeMasimoLine(Buffer.from(`${timed ? '12/01/05 11:56:29 ' : ''}${rest}`, 'utf8'), {
          gatewayTimeUs: 0,
        });
        if (timed) expect(r.ok).toBe(true);
      }),
    );
  });

  it('never throws on random bytes, and decodes a valid line after them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (noise) => {
        const r = run(Buffer.concat([Buffer.from(noise), Buffer.from(`\n${EXAMPLE}\n`)]), 3);
        expect(r.decoded.at(-1)?.device).toBe('0123456789');
      }),
    );
  });

  it('round-trips random lines through encoder, framer and decoder', () => {
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    const line = fc.record<MasimoLine>({
      time: fc.record({
        year: fc.integer({ min: 2000, max: 2099 }),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 28 }),
        hour: fc.integer({ min: 0, max: 23 }),
        minute: fc.integer({ min: 0, max: 59 }),
        second: fc.integer({ min: 0, max: 59 }),
      }),
      sn: opt(fc.stringMatching(/^[0-9]{10}$/)),
      spo2: opt(fc.integer({ min: 0, max: 100 })),
      bpm: opt(fc.integer({ min: 0, max: 240 })),
      pi: opt(fc.integer({ min: 0, max: 2000 }).map((n) => n / 100)),
      spco: opt(fc.integer({ min: 0, max: 990 }).map((n) => n / 10)),
      spmet: opt(fc.integer({ min: 0, max: 990 }).map((n) => n / 10)),
      desat: opt(fc.integer({ min: 0, max: 99 })),
      pidelta: opt(fc.integer({ min: -99, max: 99 })),
      pvi: opt(fc.integer({ min: 0, max: 100 })),
      alarm: fc.constant(0),
      exc: fc.constant(0),
    });
    fc.assert(
      fc.property(line, (l) => {
        const r = run(Buffer.from(`${encodeMasimoLine(l)}\r\n`));
        const d = r.decoded[0] as Decoded;
        expect(d.device).toBe(l.sn ?? undefined);
        expect(d.observations.map((o) => o.number ?? null)).toEqual([
          l.spo2,
          l.bpm,
          l.pi,
          l.spco,
          l.spmet,
          l.desat,
          l.pidelta,
          l.pvi,
        ]);
        const t = l.time;
        expect(Number(d.observations[0]?.time?.deviceTimeUs)).toBe(
          Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) * 1000,
        );
      }),
    );
  });
});
