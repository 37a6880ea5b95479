// The nomenclature table is clinical data: a wrong code is a silent error downstream. These tests
// hold the table to its arithmetic (code = partition * 65536 + term), to one code per refid and one
// refid per code, and to docs/nomenclature.md, where every code must be listed with its sources.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  METRIC_ALIASES,
  METRICS,
  TABLE_METRICS,
  UNIT_ALIASES,
  UNITS,
  displayLabel,
  isMetricCode,
  metricByMdc,
  metricByRefId,
  unitByMdc,
  unitByRefId,
} from './mdc.js';

const PART = 65536;
const partition = (code: number): number => Math.floor(code / PART);
const term = (code: number): number => code % PART;

// Partitions a METRICS entry may live in: 2 SCADA, and the personal-health partitions
// 128 (PHD_DM), 129 (PHD_HF), 130 (PHD_AI). Events (3) and units (4) are never metrics.
const METRIC_PARTITIONS = new Set([2, 128, 129, 130]);
const UNIT_PARTITION = 4;

// Every metric vitalwire knows: the emitted set (METRICS) and the Rosetta table (decoders/mdc-table.ts).
const metrics: [string, { mdc: number; refid: string; unit: string; alt?: readonly string[] }][] = [
  ...Object.entries(METRICS),
  ...TABLE_METRICS.map((m) => [m.refid, m] as [string, typeof m]),
];
const units = Object.entries(UNITS);
const doc = readFileSync(new URL('../docs/nomenclature.md', import.meta.url), 'utf8');
const docLines = doc.split('\n');

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
/** Lines of the doc naming `refid` (as a whole identifier) together with `code` (as a whole number). */
function docLinesFor(refid: string, code: number): string[] {
  const id = new RegExp(`(?<![A-Za-z0-9_])${escape(refid)}(?![A-Za-z0-9_])`);
  const num = new RegExp(`(?<![0-9])${code}(?![0-9])`);
  return docLines.filter((l) => id.test(l) && num.test(l));
}

describe('MDC nomenclature table', () => {
  it('keys are the reference ids', () => {
    for (const [key, m] of metrics) expect(m.refid, key).toBe(key);
    for (const [key, u] of units) expect(u.refid, key).toBe(key);
  });

  it('every code is partition * 65536 + term, metrics in a metric partition, units in partition 4', () => {
    for (const [key, m] of metrics) {
      expect(Number.isInteger(m.mdc) && m.mdc > 0, key).toBe(true);
      expect(partition(m.mdc) * PART + term(m.mdc), key).toBe(m.mdc);
      expect(METRIC_PARTITIONS.has(partition(m.mdc)), `${key} ${m.mdc} is in partition ${partition(m.mdc)}`).toBe(true);
      expect(key.startsWith('MDC_DIM_') || key.startsWith('MDC_EVT_') || key.startsWith('MDC_ATTR_'), key).toBe(false);
    }
    for (const [key, u] of units) {
      expect(Number.isInteger(u.mdc) && u.mdc > 0, key).toBe(true);
      expect(partition(u.mdc), `${key} ${u.mdc}`).toBe(UNIT_PARTITION);
      expect(key.startsWith('MDC_DIM_'), key).toBe(true);
    }
  });

  it('refids are unique and each code names one refid (metrics and units)', () => {
    for (const list of [metrics, units] as const) {
      const refids = list.map(([, e]) => e.refid);
      const codes = list.map(([, e]) => e.mdc);
      expect(new Set(refids).size).toBe(refids.length);
      const dup = codes.filter((c, i) => codes.indexOf(c) !== i);
      expect(dup, 'codes used by two refids').toEqual([]);
    }
    for (const [key, m] of metrics) expect(metricByMdc(m.mdc)?.refid, key).toBe(key);
    for (const [key, u] of units) {
      expect(unitByMdc(u.mdc)?.refid, key).toBe(key);
      expect(unitByRefId(key)?.mdc, key).toBe(u.mdc);
    }
  });

  it('the Rosetta table is substantial and adds only codes METRICS lacks', () => {
    expect(TABLE_METRICS.length).toBeGreaterThan(140);
    for (const m of TABLE_METRICS) expect(m.refid in METRICS, `${m.refid} is in both`).toBe(false);
    // Codes the review found thrown away (ST II/III/V5, invasive pulse rate, end-tidal CO2, airway pressure):
    for (const [code, refid] of [
      [131842, 'MDC_ECG_AMPL_ST_II'],
      [131901, 'MDC_ECG_AMPL_ST_III'],
      [131847, 'MDC_ECG_AMPL_ST_V5'],
      [149522, 'MDC_BLD_PULS_RATE_INV'],
      [151728, 'MDC_AWAY_CO2_ET'],
      [151792, 'MDC_PRESS_AWAY'],
    ] as const) {
      expect(metricByMdc(code)?.refid, String(code)).toBe(refid);
      expect(isMetricCode(code)).toBe(true);
    }
  });

  it('ST amplitude of a lead is 768 + the lead code (I 1 .. V6 8, III 61, aVR/aVL/aVF 62-64)', () => {
    const leads: Record<string, number> = {
      I: 1,
      II: 2,
      V1: 3,
      V2: 4,
      V3: 5,
      V4: 6,
      V5: 7,
      V6: 8,
      III: 61,
      AVR: 62,
      AVL: 63,
      AVF: 64,
    };
    for (const [lead, n] of Object.entries(leads))
      expect(term(metricByRefId(`MDC_ECG_AMPL_ST_${lead}`)?.mdc ?? 0), lead).toBe(768 + n);
    expect(displayLabel('MDC_ECG_AMPL_ST_II')).toBe('ST-II');
  });

  it('every unit a metric names is valid UCUM syntax (checked in decoders/units/units.test.ts) and metric partitions are checked', () => {
    expect(isMetricCode(131842)).toBe(true);
    expect(isMetricCode(188496)).toBe(true); // partition 2, a standard term (Mindray's axillary code)
    expect(isMetricCode(196680)).toBe(false); // partition 3: an event
    expect(isMetricCode(262196)).toBe(false); // partition 4: a unit
    expect(isMetricCode(2327)).toBe(false); // no partition
    expect(isMetricCode(2 * 65536 + 0xf10c)).toBe(false); // private term (Philips NOM_TEMP_AXIL 0xF10C)
  });

  it('unit aliases point at existing units', () => {
    for (const [alias, target] of Object.entries(UNIT_ALIASES)) {
      expect(alias in UNITS, alias).toBe(false);
      expect(unitByRefId(alias)?.mdc, alias).toBe(UNITS[target].mdc);
    }
  });

  it('aliases point at existing metrics and do not shadow a metric refid', () => {
    for (const [alias, target] of Object.entries(METRIC_ALIASES)) {
      expect(alias in METRICS, `${alias} is itself a metric`).toBe(false);
      expect(METRICS[target], alias).toBeDefined();
      expect(metricByRefId(alias)?.mdc, alias).toBe(METRICS[target].mdc);
    }
  });

  it('lead III is 131389 (term 317), not 131331 (V1): the public-table trap', () => {
    expect(METRICS.MDC_ECG_ELEC_POTL_III.mdc).toBe(131389);
    expect(term(METRICS.MDC_ECG_ELEC_POTL_III.mdc)).toBe(317);
    expect(metricByMdc(131331)?.refid).toBe('MDC_ECG_ELEC_POTL_V1');
    expect(metricByRefId('MDC_ECG_ELEC_POTL_III')?.mdc).not.toBe(131331);
    // Leads are 256 + lead code: I 1, II 2, V1..V6 3..8, III 61, aVR/aVL/aVF 62..64.
    const leads: Record<string, number> = {
      I: 1,
      II: 2,
      V1: 3,
      V2: 4,
      V3: 5,
      V4: 6,
      V5: 7,
      V6: 8,
      III: 61,
      AVR: 62,
      AVL: 63,
      AVF: 64,
    };
    for (const [lead, n] of Object.entries(leads)) {
      const m = metricByRefId(`MDC_ECG_ELEC_POTL_${lead}`);
      if (m) expect(term(m.mdc), lead).toBe(256 + n);
    }
  });

  it('hertz is 264640 (term 2496); 266176 is watt and per-second is 264608', () => {
    expect(UNITS.MDC_DIM_HZ.mdc).toBe(264640);
    expect(unitByMdc(266176)).toBeUndefined();
    expect(UNITS.MDC_DIM_PER_SEC.mdc).toBe(264608);
  });

  it('every METRICS and UNITS entry is in docs/nomenclature.md with its code', () => {
    const missing: string[] = [];
    for (const [, e] of [...metrics, ...units])
      if (docLinesFor(e.refid, e.mdc).length === 0) missing.push(`${e.refid} ${e.mdc}`);
    expect(missing, 'entries with no line in docs/nomenclature.md naming both refid and code').toEqual([]);
  });

  it('where the doc gives partition:term next to an entry, it matches the code', () => {
    for (const [, e] of [...metrics, ...units]) {
      for (const line of docLinesFor(e.refid, e.mdc)) {
        const cells = line.split('|').map((c) => c.trim());
        // Table rows of the form | refid | code | partition:term | ...
        const at = cells.indexOf(e.refid);
        if (at < 0 || cells[at + 1] !== String(e.mdc)) continue;
        const pt = /^(\d+):(\d+)$/.exec(cells[at + 2] ?? '');
        if (!pt) continue;
        expect(Number(pt[1]) * PART + Number(pt[2]), `${e.refid}: ${cells[at + 2]}`).toBe(e.mdc);
      }
    }
  });
});
