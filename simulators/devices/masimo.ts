// Masimo Radical-7 serial ASCII output: one line a second in the device's local time (docs/serial-oximeters.md),
// written by decoders/masimo/encode.ts, CR LF ended. Device time follows the device clock, so clock faults show.
import { encodeMasimoLine } from '../../decoders/masimo/encode.js';
import { periodicDevice } from './periodic.js';
import { quantise } from './schedule.js';
import type { DeviceOptions, SimDevice } from './types.js';

export function createMasimo(o: DeviceOptions): SimDevice {
  const sn = String(100_000_000 + o.bedNo * 1009 + (o.seed % 1000)).slice(0, 10);
  const offsetMin = o.utcOffsetMin ?? 420;
  return periodicDevice(o, 'masimo', 1e6, ({ endUs, clockOffsetMs, missing, obs }) => {
    const s = o.bed.state;
    const local = new Date(Math.floor(endUs / 1000) + clockOffsetMs + offsetMin * 60_000);
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
    return {
      bytes: Buffer.from(line + '\r\n', 'latin1'),
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
    };
  });
}
