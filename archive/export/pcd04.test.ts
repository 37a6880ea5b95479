// PCD-04 export: the ORU^R40 layout of IHE PCD TF-2 (ACM), and a round trip: vitalwire's own ACM decoder reads each
// exported message back to the archived alarm (event, text, priority, kind, phase, state, inactivation, source, value,
// unit, limits), with the bed and patient of the binding and the device's EUI-64.
import { describe, expect, it } from 'vitest';
import { createHl7Decoder } from '../../decoders/hl7/decoder.js';
import { Flag } from '../../proto/index.js';
import type { Binding } from '../bindings.js';
import type { Bound, DeviceInfo } from '../query.js';
import type { AlarmRow } from '../schema.js';
import { fullBatches, rowsOf } from '../test-kit.js';
import { pcd04Messages } from './pcd04.js';

const T = Date.UTC(2026, 0, 15, 8, 0, 0) * 1000;
const dev = { site: 'bv-soc-son', gateway: 'gw1', device: 'bed01' };
const b: Binding = { id: 'b1', ...dev, bed: 'ICU-3', patient: 'MRN-000123', encounter: 'ENC-9', fromUs: 1, toUs: null };
const devices = new Map<string, DeviceInfo>([
  [
    'bv-soc-son/gw1/bed01',
    { ...dev, model: 'iMEC10', protocol: 'hl7', hardwareId: '00A0370000000001', firstUs: T, lastUs: T },
  ],
]);
const bound = (rows: AlarmRow[], quarantined = false): Bound<AlarmRow>[] =>
  rows.map((r) => ({ ...r, binding: b, quarantined }));
const segments = (m: string) => m.split('\r').filter(Boolean);

describe('PCD-04 export', () => {
  it('writes one ORU^R40 per alarm that reads back through the decoder to the archived alarm', () => {
    const rows = bound(rowsOf(fullBatches(dev, T).alarm).alarm);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const { messages, counts } = pcd04Messages(rows, devices, { patientAuthority: 'BV' });
    expect(counts).toEqual({ messages: 1, skippedUnmapped: 0, valuesWithoutUnit: 0 });
    const segs = segments(messages[0]!);
    // IHE PCD TF-2: ORU^R40^ORU_R40, the ACM profile in MSH-21; one OBR per alarm, MDC_EVT_ALARM; facet 1's OBX-8
    // abnormality ~ priority ~ kind (an HR high, priority high (PH), physiological (SP)).
    expect(segs[0]).toMatch(/^MSH\|\^~\\&\|VITALWIRE\|VITALWIRE\|\|\|\d{14}[^|]*\|\|ORU\^R40\^ORU_R40\|/);
    expect(segs[0]!.endsWith('|IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.4.1^ISO')).toBe(true);
    expect(segs[1]).toBe('PID|||MRN-000123^^^BV^MR');
    expect(segs[3]).toMatch(/^OBR\|1\|[^|]+\|A-17\^VITALWIRE\|196616\^MDC_EVT_ALARM\^MDC\|/);
    expect(segs[4]!.split('|')[8]).toBe('H~PH~SP');
    expect(segs.map((s) => s.split('|')[3])).toContain('68481^MDC_ATTR_EVENT_PHASE^MDC');

    const r = createHl7Decoder().decode(Buffer.from(messages[0]!, 'utf8'), { gatewayTimeUs: 1 });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    expect(r.value.warnings).toEqual([]);
    expect(r.value.device).toBe('00A0370000000001');
    expect(r.value.bed).toBe('ICU-3');
    const [a] = r.value.alarms;
    expect(a).toMatchObject({
      id: 'A-17^VITALWIRE',
      mdc: row.mdc,
      refid: row.refid,
      text: row.alarm_text,
      priority: row.priority,
      kind: row.alarm_kind,
      phase: row.phase,
      state: row.state,
      inactivation: row.inactivation,
      sourceMdc: row.source_mdc,
      sourceRefid: row.source_refid,
      sourceValue: row.source_value,
      sourceUnit: row.source_unit,
      limits: row.limits,
      limitLow: row.limit_low,
      limitHigh: row.limit_high,
      sourceContainment: row.source_containment,
    });
    expect(a?.time?.deviceTimeUs).toBe(Math.floor(row.t_us / 1000) * 1000);
  });

  it("gives OBX-8 the event's own abnormality (L for a low limit), and facets their numbers when one is missing", () => {
    const base = rowsOf(fullBatches(dev, T).alarm).alarm[0]!;
    const rows = bound([
      { ...base, mdc: 196652, refid: 'MDC_EVT_LO', alarm_text: 'SpO2 LOW' },
      { ...base, idx: 1, mdc: 196680, refid: 'MDC_EVT_LEAD_OFF', alarm_kind: 2, source_mdc: 0, source_refid: '' },
    ]);
    const [low, leadOff] = pcd04Messages(rows, devices).messages.map(segments);
    expect(low![4]!.split('|')[8]).toBe('L~PH~SP'); // HL7 table 0078: L below the low limit
    expect(leadOff![4]!.split('|')[8]).toBe('A~PH~ST');
    // No source facet (.2): phase, state and inactivation stay .3, .4 and .5 (IHE PCD TF-2 ACM facet numbering).
    const subIds = leadOff!.filter((x) => x.startsWith('OBX')).map((x) => x.split('|')[4]!.split('.').at(-1));
    expect(subIds).toEqual(['1', '3', '4', '5']);
  });

  it('marks demo and simulated alarms DEMO and test alarms T, and counts what PCD-04 cannot carry', () => {
    const base = rowsOf(fullBatches(dev, T).alarm).alarm[0]!;
    const rows = bound(
      [
        { ...base, flags: Flag.FLAG_SIMULATED },
        { ...base, idx: 1, flags: Flag.FLAG_TEST },
        { ...base, idx: 2, mdc: 0, refid: 'VENDOR_ALARM' },
        { ...base, idx: 3, source_unit: 'furlong/fortnight' },
      ],
      true,
    );
    const { messages, counts } = pcd04Messages(rows, devices);
    expect(counts).toEqual({ messages: 3, skippedUnmapped: 1, valuesWithoutUnit: 1 });
    const decoded = messages.map((m) => {
      const r = createHl7Decoder().decode(Buffer.from(m, 'utf8'), { gatewayTimeUs: 1 });
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      return r.value.alarms[0]!;
    });
    expect((decoded[0]!.flags ?? 0) & Flag.FLAG_DEMO).toBe(Flag.FLAG_DEMO);
    expect(segments(messages[1]!)[0]!.split('|')[10]).toBe('T'); // MSH-11 processing id
    expect((decoded[1]!.flags ?? 0) & Flag.FLAG_TEST).toBe(Flag.FLAG_TEST);
    // The source without its value: named, never with a unit it was not measured in.
    expect(decoded[2]).toMatchObject({ sourceMdc: base.source_mdc, sourceRefid: base.source_refid });
    expect(decoded[2]!.sourceValue ?? null).toBeNull();
  });
});
