// The unit policy against UCUM as NLM's ucum-lhc implements it (the differential test the style
// guide asks of a dependency's adapter), and against the browser bundle.
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { Flag } from '../../proto/index.js';
import { METRICS, TABLE_METRICS, UNITS, type Metric } from '../mdc.js';
import { ucumConvert, ucumInfo } from './ucum.js';
import { convert, fitUnit, readUnitText } from './units.js';

describe('unit policy vs ucum-lhc', () => {
  it('our exact temperature conversions agree with ucum-lhc to 0.01 Cel over the clinical range', () => {
    const fahr = fitUnit(METRICS.MDC_TEMP, readUnitText('[degF]')).conversion;
    const kelvin = fitUnit(METRICS.MDC_TEMP, readUnitText('K')).conversion;
    expect(fahr && kelvin).toBeTruthy();
    if (!fahr || !kelvin) return;
    for (let f = 86; f <= 113; f += 0.1)
      expect(convert(fahr, f)).toBeCloseTo(ucumConvert('[degF]', f, 'Cel') as number, 2);
    for (let k = 300; k <= 318; k += 0.05)
      expect(convert(kelvin, k)).toBeCloseTo(ucumConvert('K', k, 'Cel') as number, 2);
  });

  it('the trap: a plain F and C are valid UCUM (farad, coulomb), of another dimension than a temperature', () => {
    expect(ucumInfo('F')).toMatchObject({ valid: true, property: 'electric capacitance' });
    expect(ucumInfo('C')).toMatchObject({ valid: true, property: 'electric charge' });
    expect(ucumInfo('F').dim).not.toBe(ucumInfo('Cel').dim);
    // So they are Fahrenheit/Celsius only where the metric is a temperature.
    expect(fitUnit(METRICS.MDC_TEMP, readUnitText('C'))).toMatchObject({ ucum: 'Cel', flags: 0 });
    expect(fitUnit(METRICS.MDC_PULS_OXIM_SAT_O2, readUnitText('F')).flags & Flag.FLAG_UNIT_UNKNOWN).toBeTruthy();
  });

  it('kPa and mm[Hg] are one dimension and never converted into each other', () => {
    expect(fitUnit(METRICS.MDC_PRESS_CUFF_SYS, readUnitText('kPa'))).toEqual({
      ucum: 'kPa',
      mdc: UNITS.MDC_DIM_KILO_PASCAL.mdc,
      flags: 0,
    });
  });

  it('a temperature difference is not converted with the affine °F/K scale', () => {
    const diff = TABLE_METRICS.find((m) => m.refid === 'MDC_TEMP_DIFF');
    expect(fitUnit(diff, readUnitText('[degF]'))).toEqual({ ucum: '[degF]', mdc: UNITS.MDC_DIM_FAHR.mdc, flags: 0 });
  });

  it('every unit the tables name is valid UCUM', () => {
    for (const u of Object.values(UNITS)) expect(ucumInfo(u.ucum).valid, u.refid).toBe(true);
    for (const m of [...Object.values(METRICS), ...TABLE_METRICS] as Metric[]) {
      for (const u of [m.unit, ...(m.alt ?? [])]) if (u) expect(ucumInfo(u).valid, `${m.refid} ${u}`).toBe(true);
    }
  });

  it('invalid strings are not units: empty, spaces, arbitrary text', () => {
    for (const s of ['', ' ', 'mm Hg', 'pct', 'x'.repeat(100)]) expect(readUnitText(s), s).toBeUndefined();
  });
});

describe('browser bundle', () => {
  // The dashboard decodes protobuf only; the nomenclature table may be shared with it, ucum-lhc (1 MB
  // of unit definitions for the gateway) must not be.
  const inputs = async (entry: string): Promise<string[]> => {
    const r = await build({
      entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'esm',
      external: ['long'],
      logLevel: 'silent',
    });
    return Object.keys(r.metafile.inputs);
  };
  it('dashboard/app.ts does not pull ucum-lhc in', async () => {
    const files = await inputs('../../dashboard/app.ts');
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((f) => f.includes('ucum-lhc'))).toEqual([]);
  });
  it('decoders/mdc.ts (the nomenclature a browser may use) does not either', async () => {
    const files = await inputs('../mdc.ts');
    expect(files.some((f) => f.endsWith('mdc-table.ts'))).toBe(true);
    expect(files.filter((f) => f.includes('ucum-lhc') || f.includes('units/'))).toEqual([]);
  });
});
