// Nonin oximeters on a serial line (docs/serial-oximeters.md, ../shared/protocols.md "Serial monitors"):
// format 7 (75 frames/s in 25-frame packets, 3 packets a second, pleth + multiplexed values, checksums) and
// format 8 (one 4-byte frame a second). Written by the decoders' own encoders (decoders/nonin/encode.ts).
import { encodeNonin7Packet, encodeNonin8Frame } from '../../decoders/nonin/encode.js';
import type { Truth } from '../ground-truth.js';
import { periodicDevice } from './periodic.js';
import type { DeviceOptions, SimDevice } from './types.js';

const PULSE = 'MDC_PULS_OXIM_PULS_RATE';
const SPO2 = 'MDC_PULS_OXIM_SAT_O2';
/** Pleth ADC counts: baseline and gain of the simulated sensor (uncalibrated, as Nonin's are). */
const PLETH_BASE = 12_000;
const PLETH_GAIN = 16_000;
const TIMER_MOD = 1 << 14;

/** Nonin format 7: a packet every 1/3 s, 25 pleth samples at 75 Hz. */
export function createNonin7(o: DeviceOptions): SimDevice {
  let timerBase = 0;
  return periodicDevice(
    o,
    'nonin7',
    1e6 / 3,
    ({ k, endUs, missing, obs, frame }) => {
      const s = o.bed.state;
      const hr = missing ? null : Math.round(s.pulse);
      const spo2 = missing ? null : Math.round(s.spo2);
      const t0 = o.bed.seconds(endUs) - 1 / 3;
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
          frame,
          timeUs: endUs,
          code: 'MDC_PULS_OXIM_PLETH',
          rateHz: 75,
          first: k * 25,
          samples: pleth,
          scale: 1,
        },
      ];
      return { bytes, truth };
    },
    // The packet timer starts again; the decoder sees a step it cannot trust and advances by one packet.
    (sched) => (timerBase = sched.next),
  );
}

/** Nonin format 8: one frame a second, no checksum. */
export function createNonin8(o: DeviceOptions): SimDevice {
  return periodicDevice(o, 'nonin8', 1e6, ({ missing, obs }) => {
    const s = o.bed.state;
    const hr = missing ? null : Math.round(s.pulse);
    const spo2 = missing ? null : Math.round(s.spo2);
    return { bytes: encodeNonin8Frame({ hr, spo2 }), truth: [obs(PULSE, hr, '/min'), obs(SPO2, spo2, '%')] };
  });
}
