// The demo monitor's waveforms and extra messages, checked through the gateway's own HL7 decoder: what the
// dashboard will draw is what the decoder makes of these frames.
import { describe, expect, it } from 'vitest';
import { getProtocol } from '../decoders/registry.js';
import type { Decoded } from '../decoders/decoded.js';
import { AlarmKind, AlarmPhase, AlarmPriority, Flag } from '../proto/index.js';
import { CHUNK_MS, INVALID_SAMPLE, WAVES, createWaveSynth } from './ecg.js';
import { buildAlarmFrame } from './hl7-alarm.js';
import { buildSlowNumericsFrame, buildWaveFrame } from './hl7-waves.js';

const id = { eui64: '0256570000000001', model: 'VW-SIM', bed: 'Bed 1' };

function decodeAll(frames: Buffer[]): Decoded[] {
  const p = getProtocol('hl7')!;
  const framer = p.createFramer();
  const decoder = p.createDecoder();
  const out: Decoded[] = [];
  const sink = {
    frame(frame: Buffer): void {
      const r = decoder.decode(frame, { gatewayTimeUs: Date.now() * 1000, defaultUtcOffsetMin: 0 });
      if (!r.ok) throw new Error(r.error.code + ' ' + r.error.detail);
      out.push(r.value);
    },
    error(code: string, detail: string): void {
      throw new Error(`${code} ${detail}`);
    },
  };
  for (const f of frames) framer.push(f, sink);
  return out;
}

describe('waveform synthesis', () => {
  it('beats at the heart rate with an R wave near 1.1 mV, a negative S, and T after it', () => {
    const synth = createWaveSynth(7);
    const ecg: number[] = [];
    const seconds = 30;
    for (let i = 0; i < (seconds * 1000) / CHUNK_MS; i++) ecg.push(...synth.next(72, 15).ecg);
    const mv = ecg.map((c) => c * WAVES.ecg.resolution);
    // R peaks: local maxima above 0.7 mV, at least 200 ms apart.
    const peaks: number[] = [];
    for (let i = 1; i < mv.length - 1; i++) {
      if (mv[i]! > 0.7 && mv[i]! >= mv[i - 1]! && mv[i]! > mv[i + 1]! && (peaks.length === 0 || i - peaks.at(-1)! > 50))
        peaks.push(i);
    }
    const bpm = ((peaks.length - 1) / ((peaks.at(-1)! - peaks[0]!) / WAVES.ecg.rateHz)) * 60;
    expect(bpm).toBeGreaterThan(66);
    expect(bpm).toBeLessThan(78);
    const r = Math.max(...mv);
    expect(r).toBeGreaterThan(0.9);
    expect(r).toBeLessThan(1.4);
    // S: the minimum within 60 ms after an R peak is negative.
    const p = peaks[3]!;
    expect(Math.min(...mv.slice(p, p + 15))).toBeLessThan(-0.1);
    // T: a positive wave 200-400 ms after R, well above the baseline.
    expect(Math.max(...mv.slice(p + 50, p + 100))).toBeGreaterThan(0.15);
  });

  it('pleth pulses once per beat and respiration cycles at the respiration rate', () => {
    const synth = createWaveSynth(3);
    const pleth: number[] = [];
    const resp: number[] = [];
    for (let i = 0; i < 60_000 / CHUNK_MS; i++) {
      const c = synth.next(60, 12);
      pleth.push(...c.pleth);
      resp.push(...c.resp);
    }
    // Rising crossings with hysteresis (20 % of the range either side of the middle), so noise does not count.
    const cycles = (xs: number[]): number => {
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      const up = lo + 0.7 * (hi - lo);
      const down = lo + 0.3 * (hi - lo);
      let n = 0;
      let armed = false;
      for (const x of xs) {
        if (x < down) armed = true;
        else if (armed && x > up) {
          n++;
          armed = false;
        }
      }
      return n;
    };
    expect(cycles(pleth)).toBeGreaterThanOrEqual(57);
    expect(cycles(pleth)).toBeLessThanOrEqual(63);
    expect(cycles(resp)).toBeGreaterThanOrEqual(11);
    expect(cycles(resp)).toBeLessThanOrEqual(13);
  });
});

describe('simulated monitor messages through the HL7 decoder', () => {
  it('waveform frames decode to three waves with rate, resolution, continuous first_sample and the invalid marker', () => {
    const synth = createWaveSynth(1);
    const t0 = Date.UTC(2026, 0, 1) * 1000;
    const frames = [0, 1, 2].map((k) =>
      buildWaveFrame(id, synth.next(80, 16, k === 2), { controlId: `W${k}`, timeUs: t0 + k * CHUNK_MS * 1000 }),
    );
    const d = decodeAll(frames);
    expect(d).toHaveLength(3);
    const [ecg, pleth, resp] = d[0]!.waves;
    expect(ecg!.refid).toBe('MDC_ECG_ELEC_POTL_II');
    expect(ecg!.mdc).toBe(131330);
    expect(ecg!.sampleRateHz).toBe(250);
    expect(ecg!.scale).toBeCloseTo(0.005, 9);
    expect(ecg!.unit).toBe('mV');
    expect(ecg!.invalidValue).toBe(INVALID_SAMPLE);
    expect(ecg!.samples).toHaveLength(64);
    expect((ecg!.flags ?? 0) & Flag.FLAG_QUESTIONABLE).toBe(0);
    expect(pleth!.refid).toBe('MDC_PULS_OXIM_PLETH');
    expect(pleth!.samples).toHaveLength(32);
    expect(resp!.refid).toBe('MDC_IMPED_TTHOR');
    expect(resp!.sampleRateHz).toBe(62.5);
    expect(resp!.samples).toHaveLength(16);
    expect(d.map((x) => Number(x.waves[0]!.firstSample))).toEqual([0, 64, 128]);
    expect(d.map((x) => Number(x.waves[2]!.firstSample))).toEqual([0, 16, 32]);
    expect(d[2]!.waves[0]!.samples!.every((s) => s === INVALID_SAMPLE)).toBe(true);
  });

  it('NIBP and temperature decode with their MDC codes, units and the DEMO flag', () => {
    const t = Date.UTC(2026, 0, 1) * 1000;
    const [d] = decodeAll([
      buildSlowNumericsFrame(
        id,
        { nibp: { sys: 121, dia: 78, mean: 92, timeUs: t }, tempC: 36.84 },
        { controlId: 'S1', timeUs: t, demo: true },
      ),
    ]);
    const by = new Map(d!.observations.map((o) => [o.refid, o]));
    expect(by.get('MDC_PRESS_BLD_NONINV_SYS')?.number).toBe(121);
    expect(by.get('MDC_PRESS_BLD_NONINV_SYS')?.unit).toBe('mm[Hg]');
    expect(by.get('MDC_PRESS_BLD_NONINV_DIA')?.number).toBe(78);
    expect(by.get('MDC_PRESS_BLD_NONINV_MEAN')?.number).toBe(92);
    expect(by.get('MDC_TEMP_BODY')?.number).toBe(36.8);
    expect(by.get('MDC_TEMP_BODY')?.unit).toBe('Cel');
    for (const o of d!.observations) expect((o.flags ?? 0) & Flag.FLAG_DEMO).toBe(Flag.FLAG_DEMO);
  });

  it('alarm frames decode to PCD-04 alarms with priority, kind, phase and text', () => {
    const t = Date.UTC(2026, 0, 1) * 1000;
    const [d] = decodeAll([
      buildAlarmFrame(
        id,
        {
          id: 'A1',
          event: { mdc: 196680, refid: 'MDC_EVT_LEAD_OFF' },
          text: 'ECG LEAD OFF',
          source: { mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', containment: '1.1.1.147842' },
          priority: 'PM',
          kind: 'ST',
          phase: 'start',
          state: 'active',
        },
        { controlId: 'A1', timeUs: t },
      ),
    ]);
    expect(d!.alarms).toHaveLength(1);
    const a = d!.alarms[0]!;
    expect(a.refid).toBe('MDC_EVT_LEAD_OFF');
    expect(a.text).toBe('ECG LEAD OFF');
    expect(a.priority).toBe(AlarmPriority.ALARM_PRIORITY_MEDIUM);
    expect(a.kind).toBe(AlarmKind.ALARM_KIND_TECHNICAL);
    expect(a.phase).toBe(AlarmPhase.ALARM_PHASE_START);
    expect(a.sourceRefid).toBe('MDC_ECG_CARD_BEAT_RATE');
    expect(d!.warnings).toEqual([]);
  });
});
