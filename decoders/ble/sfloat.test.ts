import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FloatKind, floatKind, floatRaw, floatValue, sfloatKind, sfloatRaw, sfloatValue } from './sfloat.js';

// Expected values worked out by hand from IEEE 11073-20601 (SFLOAT-Type / FLOAT-Type).
describe('SFLOAT', () => {
  it.each([
    [0x0061, 97], // exponent 0, mantissa 0x061 = 97
    [0xf3e8, 100], // exponent 0xF = -1, mantissa 0x3E8 = 1000 -> 100.0
    [0xf16d, 36.5], // exponent -1, mantissa 0x16D = 365
    [0xffff, -0.1], // exponent -1, mantissa 0xFFF = -1
    [0x1002, 20], // exponent 1, mantissa 2
    [0x8001, 1e-8], // exponent 0x8 = -8, mantissa 1
    [0x7001, 1e7], // exponent 7, mantissa 1
    [0x0000, 0],
    [0xf7ff, 204.7], // mantissa 0x7FF with exponent -1 is a number: specials are whole raw values
  ])('0x%s is %s', (raw, want) => {
    expect(sfloatKind(raw)).toBe(FloatKind.NUMBER);
    expect(sfloatValue(raw)).toBe(want);
  });

  it.each([
    [0x07ff, FloatKind.NAN],
    [0x0800, FloatKind.NRES],
    [0x07fe, FloatKind.POS_INF],
    [0x0802, FloatKind.NEG_INF],
    [0x0801, FloatKind.RESERVED],
  ])('0x%s is special %s with no numeric value', (raw, kind) => {
    expect(sfloatKind(raw)).toBe(kind);
    expect(sfloatValue(raw)).toBeNaN();
  });

  it('round-trips every mantissa and exponent outside the special codes', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2045, max: 2045 }), fc.integer({ min: -8, max: 7 }), (m, e) => {
        const v = sfloatValue(sfloatRaw(m, e));
        expect(v).toBe(e >= 0 ? m * 10 ** e : m / 10 ** -e);
      }),
    );
  });
});

describe('FLOAT', () => {
  it.each([
    [0xff00016d, 36.5], // exponent 0xFF = -1, mantissa 0x00016D = 365
    [0xfe000e42, 36.5], // exponent -2, mantissa 0x000E42 = 3650
    [0x00ffffff, -1], // exponent 0, mantissa 0xFFFFFF = -1
    [0x02000003, 300], // exponent 2, mantissa 3
    [0x81000001, 1e-127], // exponent 0x81 = -127, mantissa 1
  ])('0x%s is %s', (raw, want) => {
    expect(floatKind(raw)).toBe(FloatKind.NUMBER);
    expect(floatValue(raw)).toBe(want);
  });

  it.each([
    [0x007fffff, FloatKind.NAN],
    [0x00800000, FloatKind.NRES],
    [0x007ffffe, FloatKind.POS_INF],
    [0x00800002, FloatKind.NEG_INF],
    [0x00800001, FloatKind.RESERVED],
  ])('0x%s is special %s', (raw, kind) => {
    expect(floatKind(raw)).toBe(kind);
    expect(floatValue(raw)).toBeNaN();
  });

  it('round-trips mantissa and exponent', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8388605, max: 8388605 }), fc.integer({ min: -20, max: 20 }), (m, e) => {
        expect(floatValue(floatRaw(m, e))).toBe(e >= 0 ? m * 10 ** e : m / 10 ** -e);
      }),
    );
  });
});
