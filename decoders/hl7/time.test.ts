import { describe, expect, it } from 'vitest';
import { formatHl7Time, parseHl7Time } from './time.js';

describe('HL7 DTM', () => {
  it('reads a full timestamp with fraction and offset (HL7 v2.6 2A.22)', () => {
    // 2026-11-23 14:05:09.1234 at +07:00 is 07:05:09.1234 UTC.
    const t = parseHl7Time('20261123140509.1234+0700');
    expect(t).toEqual({ us: Date.UTC(2026, 10, 23, 7, 5, 9) * 1000 + 123400, offsetMin: 420 });
  });

  it('reads reduced precision and applies the default offset when none is sent', () => {
    expect(parseHl7Time('202611231405', 60)).toEqual({
      us: Date.UTC(2026, 10, 23, 13, 5) * 1000,
      offsetMin: undefined,
    });
    expect(parseHl7Time('2026')?.us).toBe(Date.UTC(2026, 0, 1) * 1000);
  });

  it('reads negative offsets (.0000+0530 style fractions too)', () => {
    expect(parseHl7Time('20260101000000-0330')?.us).toBe(Date.UTC(2026, 0, 1, 3, 30) * 1000);
    expect(parseHl7Time('20260101000000.0000+0530')?.us).toBe(Date.UTC(2025, 11, 31, 18, 30) * 1000);
  });

  it('refuses impossible dates instead of shifting them', () => {
    for (const s of [
      '20260231120000',
      '20261301',
      '20261123250000',
      'abc',
      '',
      '2026112314050',
      '20261123140509+9900',
    ]) {
      expect(parseHl7Time(s), s).toBeNull();
    }
  });

  it('formats what it parses, to the millisecond', () => {
    const us = Date.UTC(2026, 10, 23, 7, 5, 9, 456) * 1000;
    expect(formatHl7Time(us, 420)).toBe('20261123140509.456+0700');
    expect(parseHl7Time(formatHl7Time(us, -90))?.us).toBe(us);
  });
});

describe('HL7 DTM quirks', () => {
  it('reads Mindray milliseconds written without a decimal point', () => {
    // 20260124124738000+0800: 12:47:38.000 at +08:00 = 04:47:38 UTC.
    expect(parseHl7Time('20260124124738000+0800')?.us).toBe(Date.UTC(2026, 0, 24, 4, 47, 38) * 1000);
    expect(parseHl7Time('20190929092149610')?.us).toBe(Date.UTC(2019, 8, 29, 9, 21, 49, 610) * 1000);
  });
});
