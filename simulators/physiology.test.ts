// Properties of the ward's patients and waveforms: physiological ranges under any sequence of events, Einthoven's
// law on the ECG a monitor sends, beats locked between ECG and pleth, events that move the numbers, and the same
// bytes for the same seed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getProtocol } from '../decoders/registry.js';
import { createBed } from './bed.js';
import { createSimDevice } from './devices/index.js';
import { createPhysiology, EVENT_KINDS, RANGES, type PhysioState } from './physiology.js';
import { createCardioSignals } from './signals.js';

const T0 = Date.UTC(2026, 2, 1) * 1000;

describe('physiology', () => {
  it('stays in physiological ranges under any events, durations and seeds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(
          fc.record({
            kind: fc.constantFrom(...EVENT_KINDS),
            at: fc.integer({ min: 0, max: 600 }),
            len: fc.integer({ min: 5, max: 400 }),
          }),
          { maxLength: 6 },
        ),
        (seed, events) => {
          const p = createPhysiology(seed);
          for (let s = 0; s < 900; s++) {
            for (const e of events) {
              if (e.at === s) p.start(e.kind, 15);
              if (e.at + e.len === s) p.stop(e.kind);
            }
            for (let k = 0; k < 10; k++) {
              const st = p.step(0.1);
              for (const [key, [lo, hi]] of Object.entries(RANGES)) {
                const v = st[key as keyof PhysioState] as number;
                if (!(v >= lo && v <= hi)) throw new Error(`${key} = ${v} outside ${lo}-${hi} at ${s} s`);
              }
              if (!(st.dia < st.map && st.map < st.sys))
                throw new Error(`pressures out of order ${st.dia}/${st.map}/${st.sys}`);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('events change the numbers as they should, and recover', () => {
    const mean = (
      seed: number,
      kind: (typeof EVENT_KINDS)[number] | null,
      key: keyof PhysioState,
    ): [number, number] => {
      const p = createPhysiology(seed);
      for (let i = 0; i < 1200; i++) p.step(0.1); // 2 min settle
      const base = p.state[key] as number;
      if (kind) p.start(kind, 10);
      let sum = 0;
      for (let i = 0; i < 1800; i++) {
        p.step(0.1);
        if (i >= 1200) sum += p.state[key] as number;
      }
      return [base, sum / 600];
    };
    const [hr0, hrTachy] = mean(1, 'tachycardia', 'hr');
    expect(hrTachy - hr0).toBeGreaterThan(35);
    const [, hrBrady] = mean(1, 'bradycardia', 'hr');
    expect(hrBrady).toBeLessThan(55);
    const [s0, sDesat] = mean(2, 'desaturation', 'spo2');
    expect(s0 - sDesat).toBeGreaterThan(8);
    const [, hrDesat] = mean(2, 'desaturation', 'hr');
    const [hrCtl] = mean(2, null, 'hr');
    expect(hrDesat - hrCtl).toBeGreaterThan(8); // compensation
    const [sys0, sysHypo] = mean(3, 'hypotension', 'sys');
    expect(sys0 - sysHypo).toBeGreaterThan(25);
    const [, rrApnoea] = mean(4, 'apnoea', 'rr');
    expect(rrApnoea).toBe(0);
    const [, etApnoea] = mean(4, 'apnoea', 'etco2');
    expect(etApnoea).toBe(0);
    const p = createPhysiology(5);
    p.start('tachycardia', 5);
    for (let i = 0; i < 1200; i++) p.step(0.1);
    p.stop('tachycardia');
    for (let i = 0; i < 3000; i++) p.step(0.1);
    expect(p.severity('tachycardia')).toBe(0);
    expect(p.state.hr).toBeLessThan(110);
  });
});

describe('waveforms', () => {
  it('ECG from a simulated monitor obeys Einthoven (II = I + III) sample by sample, at 250 and 500 Hz, through the decoder', () => {
    for (const ecgRateHz of [250, 500] as const) {
      const bed = createBed(1, 7, T0);
      const dev = createSimDevice('hl7', { id: 'm', bed, bedNo: 1, seed: 7, ecgRateHz });
      const p = getProtocol('hl7')!;
      const dec = p.createDecoder();
      let checked = 0;
      for (let us = T0; us < T0 + 5e6; us += 64_000) {
        bed.advanceTo(us);
        for (const e of dev.emit(us)) {
          p.createFramer().push(e.bytes, {
            frame: (f) => {
              const r = dec.decode(f, { gatewayTimeUs: us });
              if (!r.ok) throw new Error(r.error.code);
              const lead = (n: string) => r.value.waves.find((w) => w.refid === `MDC_ECG_ELEC_POTL_${n}`);
              const [i, ii, iii] = [lead('I'), lead('II'), lead('III')];
              if (!i || !ii || !iii) return;
              expect(ii.sampleRateHz).toBe(ecgRateHz);
              expect(ii.samples).toHaveLength((ecgRateHz * 256) / 1000);
              ii.samples!.forEach((v, k) => expect(Number(v)).toBe(Number(i.samples![k]) + Number(iii.samples![k])));
              checked++;
            },
            error: (c) => {
              throw new Error(c);
            },
          });
        }
      }
      expect(checked).toBeGreaterThan(15);
    }
  });

  it('the pleth pulse follows each R wave by the pulse transit time, and respiration stops in apnoea', () => {
    const sig = createCardioSignals(3);
    const beats: number[] = [];
    for (let t = 2; t <= 30; t += 2) {
      sig.advance(t, 75, 15);
      beats.push(...sig.beatsFrom(t - 2).filter((b) => b < t - 0.6 && !beats.includes(b)));
    }
    expect(beats.length).toBeGreaterThan(25);
    const sig2 = createCardioSignals(3);
    for (const b of beats) {
      sig2.advance(b, 75, 15);
      // R peak: lead II is at a local maximum near the beat; the pleth peaks 0.25-0.4 s after it.
      expect(sig2.ecg(b).ii).toBeGreaterThan(0.8);
      let best = 0;
      let at = 0;
      for (let d = 0; d < 0.6; d += 0.01) {
        const v = sig2.pleth(b + d);
        if (v > best) {
          best = v;
          at = d;
        }
      }
      expect(at).toBeGreaterThan(0.25);
      expect(at).toBeLessThan(0.4);
    }
    const flat = createCardioSignals(4);
    flat.advance(1, 80, 0);
    flat.advance(20, 80, 0);
    const r = [2, 5, 9, 13, 17].map((s) => flat.resp(s));
    expect(new Set(r.map((x) => x.toFixed(9))).size).toBe(1);
  });

  it('the same seed gives the same bytes; another seed does not', () => {
    const bytes = (seed: number): string => {
      const bed = createBed(2, seed, T0);
      const devs = (['hl7', 'nonin7', 'masimo', 'ble-bridge'] as const).map((p) =>
        createSimDevice(p, { id: p, bed, bedNo: 2, seed }),
      );
      const out: Buffer[] = [];
      for (let us = T0; us < T0 + 20e6; us += 50_000) {
        bed.advanceTo(us);
        for (const d of devs) for (const e of d.emit(us)) out.push(e.bytes);
      }
      return Buffer.concat(out).toString('hex');
    };
    expect(bytes(42)).toBe(bytes(42));
    expect(bytes(42)).not.toBe(bytes(43));
  });
});
