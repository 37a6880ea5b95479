// The shape of a device that sends one frame per fixed period (Nonin 7 and 8, Masimo): the schedule, the frame count,
// the "no value now and then" quirk and the ground-truth rows, so each protocol's module only encodes its frame.
import type { Truth } from '../ground-truth.js';
import { schedule, type Schedule } from './schedule.js';
import type { DeviceOptions, Emission, SimDevice, SimProtocol } from './types.js';

export interface FrameContext {
  /** Frame number on the schedule (continues across power cycles). */
  k: number;
  /** The end of the frame's interval: its send time, Unix microseconds. */
  endUs: number;
  /** The device's clock offset from true time, ms. */
  clockOffsetMs: number;
  /** The `missingEvery` quirk: this frame sends "no value" where the protocol has one. */
  missing: boolean;
  /** A numeric's ground-truth row for this frame. */
  obs(code: string, value: number | null, unit: string): Truth;
  /** This frame's number in the device's count (for rows other than numerics). */
  frame: number;
}

export function periodicDevice(
  o: DeviceOptions,
  protocol: SimProtocol,
  periodUs: number,
  frameAt: (c: FrameContext) => { bytes: Buffer; truth: Truth[] },
  onPowerCycle?: (sched: Schedule) => void,
): SimDevice {
  const sched = schedule(o.bed.startUs, periodUs);
  const every = o.quirks?.missingEvery ?? 0;
  let frames = 0;
  const dev: SimDevice = {
    id: o.id,
    protocol,
    clockOffsetMs: 0,
    get frames() {
      return frames;
    },
    ...(onPowerCycle ? { powerCycle: () => onPowerCycle(sched) } : {}),
    emit(nowUs) {
      const out: Emission[] = [];
      for (const k of sched.due(nowUs)) {
        const endUs = sched.endUs(k);
        const frame = frames;
        const obs = (code: string, value: number | null, unit: string): Truth => ({
          t: 'obs',
          dev: o.id,
          frame,
          timeUs: endUs,
          code,
          value,
          unit,
        });
        const f = frameAt({
          k,
          endUs,
          clockOffsetMs: dev.clockOffsetMs,
          missing: every > 0 && k % every === 0,
          obs,
          frame,
        });
        out.push({ bytes: f.bytes, truth: f.truth, frame: frames++ });
      }
      return out;
    },
  };
  return dev;
}
