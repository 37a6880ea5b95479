// Nonin oximeters on a serial line (docs/serial-oximeters.md, ../shared/protocols.md "Serial monitors"):
// format 7 (75 frames/s in 25-frame packets, 3 packets a second, pleth + multiplexed values, checksums) and
// format 8 (one 4-byte frame a second). Written by the decoders' own encoders (decoders/nonin/encode.ts).
import { encodeNonin7Packet, encodeNonin8Frame } from '../../decoders/nonin/encode.js';
import type { Truth } from '../ground-truth.js';
import { schedule } from './schedule.js';
import type { DeviceOptions, Emission, SimDevice } from './types.js';

const PULSE = 'MDC_PULS_OXIM_PULS_RATE';
const SPO2 = 'MDC_PULS_OXIM_SAT_O2';
/** Pleth ADC counts: baseline and gain of the simulated sensor (uncalibrated, as Nonin's are). */
const PLETH_BASE = 12_000;
const PLETH_GAIN = 16_000;
const TIMER_MOD = 1 << 14;

/** Nonin format 7: a packet every 1/3 s, 25 pleth samples at 75 Hz. */
export function createNonin7(o: DeviceOptions): SimDevice {
  const sched = schedule(o.bed.startUs, 1e6 / 3);
  let frames = 0;
  let timerBase = 0;
  const dev: SimDevice = {
    id: o.id,
    protocol: 'nonin7',
    clockOffsetMs: 0,
    get frames() {
      return frames;
    },
    powerCycle() {
      // The packet timer starts again; the decoder sees a step it cannot trust and advances by one packet.
      timerBase = sched.next;
    },
    emit(nowUs) {
      const out: Emission[] = [];
      for (const k of sched.due(nowUs)) {
        const end = sched.endUs(k);
        const s = o.bed.state;
        const missing = (o.quirks?.missingEvery ?? 0) > 0 && k % (o.quirks?.missingEvery ?? 1) === 0;
        const hr = missing ? null : Math.round(s.pulse);
        const spo2 = missing ? null : Math.round(s.spo2);
        const t0 = o.bed.seconds(end) - 1 / 3;
        const gain = PLETH_GAIN * Math.min(2, s.pi / 2.5);
        const pleth = Array.from({ length: 25 }, (_, i) =>
          Math.max(0, Math.min(65535, Math.round(PLETH_BASE + gain * o.bed.signals.pleth(t0 + i / 75)))),
        );
        const timer = (k - timerBase) % TIMER_MOD;
        const bytes = encodeNonin7Packet({
          pleth,
          timer,
          hr,
          spo2,
          spo2D: spo2,
          spo2Fast: spo2,
          spo2BB: spo2,
          eHr: hr,
          eSpo2: spo2,
          eSpo2D: spo2,
          hrD: hr,
          eHrD: hr,
          firmware: 0x2a,
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
        const truth: Truth[] = [
          obs(PULSE, hr, '/min'),
          obs(SPO2, spo2, '%'),
          obs('SpO2-D', spo2, '%'),
          obs('SpO2 Fast', spo2, '%'),
          obs('SpO2 B-B', spo2, '%'),
          obs('E-HR', hr, '/min'),
          obs('E-SpO2', spo2, '%'),
          obs('E-SpO2-D', spo2, '%'),
          obs('HR-D', hr, '/min'),
          obs('E-HR-D', hr, '/min'),
          {
            t: 'wave',
            dev: o.id,
            frame: frames,
            timeUs: end,
            code: 'MDC_PULS_OXIM_PLETH',
            rateHz: 75,
            first: k * 25,
            samples: pleth,
            scale: 1,
          },
        ];
        out.push({ bytes, truth, frame: frames++ });
      }
      return out;
    },
  };
  return dev;
}

/** Nonin format 8: one frame a second, no checksum. */
export function createNonin8(o: DeviceOptions): SimDevice {
  const sched = schedule(o.bed.startUs, 1e6);
  let frames = 0;
  return {
    id: o.id,
    protocol: 'nonin8',
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
        const hr = missing ? null : Math.round(s.pulse);
        const spo2 = missing ? null : Math.round(s.spo2);
        const bytes = encodeNonin8Frame({ hr, spo2 });
        out.push({
          bytes,
          frame: frames,
          truth: [
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: PULSE, value: hr, unit: '/min' },
            { t: 'obs', dev: o.id, frame: frames, timeUs: end, code: SPO2, value: spo2, unit: '%' },
          ],
        });
        frames++;
      }
      return out;
    },
  };
}
