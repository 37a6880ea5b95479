// PCD-01 export round trip: vitalwire's own HL7 decoder reads the exported messages back to the archived codes,
// values, units, times (to the millisecond PCD-01 carries here), DEMO/abnormal flags, bed and device identity.
import { describe, expect, it } from 'vitest';
import { createHl7Decoder } from '../../decoders/hl7/decoder.js';
import { Flag } from '../../proto/index.js';
import type { Binding } from '../bindings.js';
import type { Bound, DeviceInfo } from '../query.js';
import { fullBatches, rowsOf, vitalsBatch, waveRowsOf } from '../test-kit.js';
import { pcd01Messages } from './pcd01.js';

const T = Date.UTC(2026, 0, 15, 8, 0, 0) * 1000 + 123_456;
const dev = { site: 'bv-soc-son', gateway: 'gw1', device: 'bed01' };
const b: Binding = { id: 'b1', ...dev, bed: 'ICU-3', patient: 'MRN-000123', encounter: 'ENC-9', fromUs: 1, toUs: null };
const bound = <R>(rows: R[], quarantined = false): Bound<R>[] => rows.map((r) => ({ ...r, binding: b, quarantined }));
const devices = new Map<string, DeviceInfo>([
  [
    'bv-soc-son/gw1/bed01',
    { ...dev, model: 'VS900', protocol: 'hl7', hardwareId: '0256570000000001', firstUs: T, lastUs: T },
  ],
]);

describe('PCD-01 export', () => {
  it('reads back through the decoder to the same codes, values, units, times and flags', () => {
    const obs = [
      ...bound(
        rowsOf(vitalsBatch(dev, 1, T, { hr: 72, spo2: 97.5, rr: 16, temp: 36.8, sys: 120, dia: 80, mean: 93 })).obs,
      ),
      ...bound(rowsOf(vitalsBatch(dev, 2, T + 1e6, { hr: 150 }, Flag.FLAG_ABNORMAL)).obs),
      ...bound(rowsOf(vitalsBatch(dev, 3, T + 2e6, { hr: 60 }, Flag.FLAG_DEMO)).obs_q, true),
    ];
    const { messages, counts } = pcd01Messages(obs, [], devices, { patientAuthority: 'BV' });
    expect(counts).toMatchObject({ messages: 3, skippedUnmapped: 0, skippedUnit: 0 });
    const decoded = messages.map((m) => {
      const r = createHl7Decoder().decode(Buffer.from(m, 'utf8'), { gatewayTimeUs: 1 });
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      return r.value;
    });
    expect(decoded.every((d) => d.device === '0256570000000001' && d.bed === 'ICU-3' && d.warnings.length === 0)).toBe(
      true,
    );
    expect(messages[0]).toContain('PID|||MRN-000123^^^BV^MR');
    const back = decoded.flatMap((d) => d.observations);
    expect(back).toHaveLength(obs.length);
    obs.forEach((row, i) => {
      const o = back[i]!;
      expect(o.mdc).toBe(row.mdc);
      expect(o.refid).toBe(row.refid);
      expect(o.unit).toBe(row.unit);
      expect(o.number).toBe(row.value_number);
      expect(o.time?.deviceTimeUs).toBe(Math.floor(row.t_us / 1000) * 1000);
      expect(o.containment).toBe(row.containment);
      const keep = Flag.FLAG_DEMO | Flag.FLAG_ABNORMAL;
      expect((o.flags ?? 0) & keep).toBe(row.flags & keep);
    });
  });

  it("marks a simulator's values DEMO in OBX-8, so a record system never takes them for a patient's", () => {
    const sim = bound(rowsOf(vitalsBatch(dev, 4, T, { hr: 80 }, Flag.FLAG_SIMULATED)).obs_q, true);
    const { messages } = pcd01Messages(sim, [], devices);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^OBX\|[^\r]*\|\|DEMO\|/m);
    const d = createHl7Decoder().decode(Buffer.from(messages[0]!, 'utf8'), { gatewayTimeUs: 1 });
    if (!d.ok) throw new Error(JSON.stringify(d.error));
    for (const o of d.value.observations) expect((o.flags ?? 0) & Flag.FLAG_DEMO).toBe(Flag.FLAG_DEMO);
  });

  it('sends unavailable values as OBX-11 X, waves as WCM arrays, and skips what PCD-01 cannot carry, counted', () => {
    const full = fullBatches(dev, T);
    const { messages, counts } = pcd01Messages(bound(rowsOf(full.obs).obs), [], devices);
    // The SpO2 row and the sensor-off heart rate go; the coded rhythm and the unmapped vendor text cannot.
    expect(counts).toMatchObject({ messages: 1, skippedNotNumeric: 1, skippedUnmapped: 1 });
    const d = createHl7Decoder().decode(Buffer.from(messages[0]!), { gatewayTimeUs: 1 });
    if (!d.ok) throw new Error(JSON.stringify(d.error));
    expect(
      d.value.observations.map((o) => [o.mdc, o.number ?? null, ((o.flags ?? 0) & Flag.FLAG_UNAVAILABLE) !== 0]),
    ).toEqual([
      [150456, 97.5, false],
      [147842, null, true],
    ]);

    const wave = { ...waveRowsOf(full.wave)[0]!, wave_offset: 0 };
    const w = pcd01Messages([], bound([wave]), devices);
    expect(w.counts.messages).toBe(1);
    const wd = createHl7Decoder().decode(Buffer.from(w.messages[0]!), { gatewayTimeUs: 1 });
    if (!wd.ok) throw new Error(JSON.stringify(wd.error));
    expect(wd.value.waves[0]).toMatchObject({
      mdc: 131330,
      samples: [0, 1, -1, 32767, -32768, 12],
      sampleRateHz: 250,
      unit: 'mV',
      invalidValue: 32767,
    });
    expect(wd.value.waves[0]!.scale).toBeCloseTo(0.001221, 12);
    expect(pcd01Messages([], bound(waveRowsOf(full.wave)), devices).counts.skippedWaveOffset).toBe(1);
  });
});
