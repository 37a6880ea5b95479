// Masimo Radical-7 serial ASCII output: one line a second in the device's local time (docs/serial-oximeters.md),
// written by decoders/masimo/encode.ts, CR LF ended. Device time follows the device clock, so clock faults show.
import { encodeMasimoLine } from '../../decoders/masimo/encode.js';
import type { Truth } from '../ground-truth.js';
import { quantise, schedule } from './schedule.js';
import type { DeviceOptions, Emission, SimDevice } from './types.js';

export function createMasimo(o: DeviceOptions): SimDevice {
  const sched = schedule(o.bed.startUs, 1e6);
  let frames = 0;
  const sn = String(100_000_000 + o.bedNo * 1009 + (o.seed % 1000)).slice(0, 10);
  const offsetMin = o.utcOffsetMin ?? 420;
  const dev: SimDevice = {
    id: o.id,
    protocol: 'masimo',
    clockOffsetMs: 0,
    get frames() {
      return frames;
    },
    emit(nowUs) {
      const out: Emission[] = [];
      for (const k of sched.due(nowUs)) {
        const end = sched.endUs(k);
        const s = o.bed.state;
        const missing = (o.quirks?.missingEvery ?? 0) > 0 && k % (o.quirks?.missingEvery ?? 1) === 0;
        const local = new Date(Math.floor(end / 1000) + dev.clockOffsetMs + offsetMin * 60_000);
        const v = {
          spo2: missing ? null : Math.round(s.spo2),
          bpm: missing ? null : Math.round(s.pulse),
          pi: missing ? null : quantise(s.pi, 0.01),
          spco: quantise(1 + (o.seed % 7) / 10, 0.1),
          spmet: 0.5,
          desat: 0,
          pidelta: 0,
          pvi: Math.round(12 + (s.rr % 5)),
        };
        const line = encodeMasimoLine({
          time: {
            year: local.getUTCFullYear(),
            month: local.getUTCMonth() + 1,
            day: local.getUTCDate(),
            hour: local.getUTCHours(),
            minute: local.getUTCMinutes(),
            second: local.getUTCSeconds(),
          },
          sn,
          ...v,
          alarm: 0,
          exc: 0x000800, // EXC 0x800: SET processing, informational
        });
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
          bytes: Buffer.from(line + '\r\n', 'latin1'),
          frame: frames,
          truth: [
            obs('MDC_PULS_OXIM_SAT_O2', v.spo2, '%'),
            obs('MDC_PULS_OXIM_PULS_RATE', v.bpm, '/min'),
            obs('MDC_PULS_OXIM_PERF_REL', v.pi, '%'),
            obs('SPCO', v.spco, '%'),
            obs('SPMET', v.spmet, '%'),
            obs('DESAT', v.desat, '1'),
            obs('PIDELTA', v.pidelta, '%'),
            obs('PVI', v.pvi, '%'),
          ],
        });
        frames++;
      }
      return out;
    },
  };
  return dev;
}
