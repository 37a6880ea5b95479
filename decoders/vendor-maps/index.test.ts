// Vendor maps are data: each names its sources, every MDC reference id it maps to exists, every
// unit spelling maps to valid UCUM, and no two maps contradict each other.
import { describe, expect, it } from 'vitest';
import { metricByRefId } from '../mdc.js';
import { ucumInfo } from '../units/ucum.js';
import { VENDOR_MAPS, hexPartitionTerm } from './index.js';

describe('vendor maps', () => {
  it('every map states its sources', () => {
    for (const m of VENDOR_MAPS) expect(m.sources.length, m.id).toBeGreaterThan(0);
  });
  it('local codes map to known MDC reference ids, spellings to valid UCUM', () => {
    for (const m of VENDOR_MAPS) {
      for (const [k, refid] of Object.entries(m.codes ?? {}))
        expect(metricByRefId(refid), `${m.id} ${k}`).toBeDefined();
      for (const [k, ucum] of Object.entries(m.unitSpellings ?? {}))
        expect(ucumInfo(ucum).valid, `${m.id} ${k}`).toBe(true);
    }
  });
  it('no two maps give one spelling or one code two meanings', () => {
    const seen = new Map<string, string>();
    for (const m of VENDOR_MAPS) {
      for (const [k, v] of [
        ...Object.entries(m.unitSpellings ?? {}).map(([a, b]) => [`unit:${a}`, b]),
        ...Object.entries(m.codes ?? {}).map(([a, b]) => [`code:${a}`, b]),
      ]) {
        const prev = seen.get(k as string);
        if (prev !== undefined) expect(v, `${m.id} ${k}`).toBe(prev);
        seen.set(k as string, v as string);
      }
    }
  });
  it('MDIL hexadecimal <partition>-<term> is partition * 65536 + term (Efficia Data Export Guide, MDIL Coding)', () => {
    expect(hexPartitionTerm('0002-4bb8')).toBe(150456);
    expect(hexPartitionTerm('0004-0aa0')).toBe(264864);
    expect(hexPartitionTerm('0002-4BB8')).toBe(150456);
    expect(hexPartitionTerm('2-4bb8')).toBeNaN();
  });
});
