import { describe, expect, it } from 'vitest';
import { Batch } from '../../proto/index.js';
import { firstMismatch } from '../proto.bench.js';
import { ecgBatch, ecgSamples, observationBatch } from './payloads.js';
import { metricByMdc } from '../../decoders/mdc.js';

describe('bench payloads', () => {
  it('are valid Batches of the announced size', () => {
    const obs = observationBatch();
    const ecg = ecgBatch(500);
    expect(Batch.verify(obs)).toBeNull();
    expect(Batch.verify(ecg)).toBeNull();
    expect(obs.observations).toHaveLength(15);
    expect(ecg.waves?.[0]?.samples).toHaveLength(500);
  });
  it('ECG looks like lead II at 72 /min: R peaks near +1000 counts, S dips below zero', () => {
    const xs = ecgSamples(500);
    expect(Math.max(...xs)).toBeGreaterThan(900);
    expect(Math.max(...xs)).toBeLessThan(1100);
    expect(Math.min(...xs)).toBeLessThan(-150);
    // Two seconds hold R waves at 0.25, 1.083 and 1.917 s: R-R = 60/72 s = 417 samples at 500 Hz.
    const two = ecgSamples(1000);
    const peaks = two.flatMap((x, i) => (x > 600 && x >= (two[i - 1] ?? 0) && x > (two[i + 1] ?? 0) ? [i] : []));
    expect(peaks).toHaveLength(3);
    for (let i = 1; i < peaks.length; i++)
      expect(Math.abs((peaks[i] ?? 0) - (peaks[i - 1] ?? 0) - 417)).toBeLessThanOrEqual(2);
  });
  it('firstMismatch names the first differing path', () => {
    const obs = observationBatch();
    const decoded = Batch.decode(Batch.encode(obs).finish());
    expect(firstMismatch(obs, decoded)).toBeNull();
    decoded.observations[3]!.number = 0;
    expect(firstMismatch(obs, decoded)).toBe('$.observations[3].number');
  });
});

describe('bench payload codes', () => {
  it('uses only verified codes from the nomenclature table, with matching reference ids', () => {
    for (const o of observationBatch().observations ?? []) {
      expect(metricByMdc(o.mdc ?? 0)?.refid, String(o.mdc)).toBe(o.refid);
    }
  });
});
