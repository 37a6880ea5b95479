// A GE Datex-Ohmeda S/5 computer interface, as the real monitor behaves: silent until the host sends a transmission
// request (decoders/datex/session.ts), then a physiological-data record every requested interval with the displayed
// values (basic class), until a stop request (interval 0) or a power cycle, after which it is silent again.
// Records are built by decoders/datex/encode.ts. NIBP holds the last cuff reading, as the monitor repeats it.
import { encodePhdbFrame, type BasicValues, type DatexValue } from '../../decoders/datex/encode.js';
import { readPhdbRequest } from '../../decoders/datex/session.js';
import { createDatexFramer } from '../../decoders/framing/datex.js';
import type { Truth } from '../ground-truth.js';
import { quantise, schedule, type Schedule } from './schedule.js';
import type { DeviceOptions, Emission, SimDevice } from './types.js';

/** NIBP cuff cycle of the simulated monitor. */
export const DATEX_NIBP_EVERY_S = 120;

export function createDatex(o: DeviceOptions & { nibpEveryS?: number }): SimDevice & { readonly requests: number } {
  const framer = createDatexFramer();
  let sched: Schedule | null = null;
  let frames = 0;
  let requests = 0;
  let nibp: { sys: number; dia: number; mean: number } | null = null;
  const nibpEveryUs = (o.nibpEveryS ?? DATEX_NIBP_EVERY_S) * 1e6;
  let nextCuffUs = o.bed.startUs + 30e6;
  const dev = {
    id: o.id,
    protocol: 'datex' as const,
    clockOffsetMs: 0,
    get frames() {
      return frames;
    },
    get requests() {
      return requests;
    },
    get requested() {
      return sched !== null;
    },
    receive(chunk: Buffer, nowUs: number) {
      framer.push(chunk, {
        frame: (rec) => {
          const r = readPhdbRequest(rec);
          if (!r) return;
          requests++;
          if (r.intervalS <= 0) sched = null;
          else if (!sched) sched = schedule(nowUs, r.intervalS * 1e6);
          // A repeated request with the same interval keeps the running schedule (the monitor already sends).
        },
        error: () => undefined,
      });
    },
    powerCycle() {
      sched = null;
      framer.reset();
    },
    emit(nowUs: number): Emission[] {
      // The cuff cycles whether or not anyone listens.
      while (nextCuffUs <= nowUs) {
        const s = o.bed.state;
        nibp = { sys: Math.round(s.sys), dia: Math.round(s.dia), mean: Math.round(s.map) };
        nextCuffUs += nibpEveryUs;
      }
      if (!sched) return [];
      const out: Emission[] = [];
      for (const k of sched.due(nowUs)) {
        const end = sched.endUs(k);
        const s = o.bed.state;
        const missing = (o.quirks?.missingEvery ?? 0) > 0 && k % (o.quirks?.missingEvery ?? 1) === 0;
        const v = {
          hr: Math.round(s.hr),
          impRr: Math.round(s.rr),
          temp: quantise(s.tempC, 0.01),
          spo2: missing ? null : quantise(s.spo2, 0.01),
          pr: Math.round(s.pulse),
          et: quantise(s.etco2, 0.01),
          fi: 0,
          co2rr: Math.round(s.rr),
        };
        const val = (x: number | null): DatexValue => (x === null ? 'no-data' : x);
        const basic: BasicValues = {
          ecg: { hr: v.hr, impRr: v.impRr },
          nibp: nibp
            ? { sys: nibp.sys, dia: nibp.dia, mean: nibp.mean }
            : { sys: 'no-data', dia: 'no-data', mean: 'no-data' },
          t: [{ temp: v.temp }],
          spo2: { spo2: val(v.spo2), pr: v.pr },
          co2: { et: v.et, fi: v.fi, rr: v.co2rr },
        };
        const timeS = Math.floor((end / 1000 + dev.clockOffsetMs) / 1000);
        const bytes = encodePhdbFrame({ time: timeS, recordNumber: frames & 0xff, subrecords: [{ type: 1, basic }] });
        const obs = (code: string, value: number | null, unit: string): Truth => ({
          t: 'obs',
          dev: o.id,
          frame: frames,
          timeUs: end,
          code,
          value,
          unit,
        });
        out.push({
          bytes,
          frame: frames,
          truth: [
            obs('MDC_ECG_CARD_BEAT_RATE', v.hr, '/min'),
            obs('MDC_TTHOR_RESP_RATE', v.impRr, '/min'),
            obs('MDC_PRESS_CUFF_SYS', nibp?.sys ?? null, 'mm[Hg]'),
            obs('MDC_PRESS_CUFF_DIA', nibp?.dia ?? null, 'mm[Hg]'),
            obs('MDC_PRESS_CUFF_MEAN', nibp?.mean ?? null, 'mm[Hg]'),
            obs('MDC_TEMP', v.temp, 'Cel'),
            obs('MDC_PULS_OXIM_SAT_O2', v.spo2, '%'),
            obs('MDC_PULS_OXIM_PULS_RATE', v.pr, '/min'),
            obs('MDC_CONC_AWAY_CO2_ET', v.et, '%'),
            obs('MDC_CONC_AWAY_CO2_INSP', v.fi, '%'),
            obs('MDC_CO2_RESP_RATE', v.co2rr, '/min'),
          ],
        });
        frames++;
      }
      return out;
    },
  };
  return dev;
}
