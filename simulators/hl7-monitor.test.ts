import { describe, expect, it } from 'vitest';
import { buildPcd01, buildPcd01Frame } from './hl7-monitor.js';
import { createPatient } from './physiology.js';

const id = { eui64: '0256570000000001', model: 'VW-SIM', bed: 'Bed 1' };
const v = { hr: 80, spo2: 97, rr: 15, pulse: 79 };

describe('simulated PCD-01 monitor', () => {
  it('puts each OBX field where IHE PCD TF-2 puts it', () => {
    const msg = buildPcd01(id, v, {
      controlId: 'C1',
      timeUs: Date.UTC(2026, 0, 1, 0, 0, 0) * 1000,
      utcOffsetMin: 420,
      demo: true,
    });
    const segs = msg.split('\r').filter(Boolean);
    expect(segs.map((s) => s.slice(0, 3))).toEqual(['MSH', 'PID', 'PV1', 'OBR', 'OBX', 'OBX', 'OBX', 'OBX', 'OBX']);
    const msh = segs[0]!.split('|');
    expect(msh[8]).toBe('ORU^R01^ORU_R01'); // MSH-9 (MSH-1 is the separator itself)
    expect(msh[9]).toBe('C1'); // MSH-10 control id
    expect(msh[20]).toBe('IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO'); // MSH-21 profile
    const hr = segs[5]!.split('|');
    expect(hr[2]).toBe('NM');
    expect(hr[3]).toBe('147842^MDC_ECG_CARD_BEAT_RATE^MDC');
    expect(hr[5]).toBe('80');
    expect(hr[6]).toBe('264864^MDC_DIM_BEAT_PER_MIN^MDC');
    expect(hr[8]).toBe('DEMO');
    expect(hr[11]).toBe('R');
    expect(hr[14]).toBe('20260101070000.000+0700');
    expect(hr[18]).toBe('0256570000000001^VW-SIM^0256570000000001^EUI-64');
    const header = segs[4]!.split('|');
    expect(header[2]).toBe('');
    expect(header[11]).toBe('X');
  });

  it('frames with MLLP', () => {
    const f = buildPcd01Frame(id, v, { controlId: 'C2', timeUs: 0 });
    expect(f[0]).toBe(0x0b);
    expect([...f.subarray(-2)]).toEqual([0x1c, 0x0d]);
  });

  it('synthetic patients stay in plausible ranges and are reproducible from a seed', () => {
    const a = createPatient(7);
    const b = createPatient(7);
    for (let i = 0; i < 3600; i++) {
      const x = a.step(1);
      expect(b.step(1)).toEqual(x);
      expect(x.hr).toBeGreaterThanOrEqual(35);
      expect(x.hr).toBeLessThanOrEqual(190);
      expect(x.spo2).toBeGreaterThanOrEqual(80);
      expect(x.spo2).toBeLessThanOrEqual(100);
      expect(x.rr).toBeGreaterThanOrEqual(6);
    }
  });
});
