// Device clocks: every payload keeps the gateway's receive time and, when the device sent one, its own time. Per device
// the gateway estimates the offset (device - gateway) and drift, and flags timestamps it cannot trust instead of
// trusting them. docs/gateway.md ("Clocks") explains the rules; in short:
//   - offset: per frame o = (newest device time in the frame) - (receive time). Transport and buffering only delay,
//     so o <= true offset; the least delayed frame of each minute estimates it, and a line through the last hour's
//     minute maxima gives offset and drift.
//   - future:   a device time later than the receive time + maxFutureMs (the device stamps data it has not sent yet).
//   - jump:     a frame's newest time ahead of the model by more than jumpMs, or behind the previous frame's by more
//               than jumpMs (a clock set back). After `relearnFrames` consistent frames the model accepts the new
//               offset (a clock step) and stops flagging.
//   - rollover: a device time before minPlausible (an unset clock, a 2-digit year, a GPS week roll-over).
// Legitimately old times inside a frame (an NIBP taken minutes ago) are neither: only each frame's newest time feeds
// the model.
import type { Decoded } from '../decoders/decoded.js';
import { Flag, type ITiming } from '../proto/index.js';

export type TimeSuspect = 'future' | 'jump' | 'rollover';

export interface ClockOptions {
  maxFutureMs: number;
  jumpMs: number;
  /** Device times before this (Unix us) are roll-overs. */
  minPlausibleUs: number;
  bucketMs?: number;
  buckets?: number;
  relearnFrames?: number;
}

export interface ClockEstimate {
  /** device - gateway, us; 0 before the first frame. */
  offsetUs: number;
  /** Device clock rate error, parts per million (positive: the device clock runs fast). */
  driftPpm: number;
  frames: number;
  /** Clock steps accepted (the device clock was set). */
  steps: number;
  suspects: Record<TimeSuspect, number>;
}

interface Bucket {
  start: number; // gateway us
  maxO: number;
  atUs: number;
}

export class DeviceClock {
  private readonly o: Required<ClockOptions>;
  private readonly buckets: Bucket[] = [];
  private lastDeviceUs = 0;
  private candidate: number | null = null;
  private candidateFrames = 0;
  private fit = { a: 0, b: 0, t0: 0, ok: false };
  readonly stats: ClockEstimate = {
    offsetUs: 0,
    driftPpm: 0,
    frames: 0,
    steps: 0,
    suspects: { future: 0, jump: 0, rollover: 0 },
  };

  constructor(o: ClockOptions) {
    this.o = { bucketMs: 60_000, buckets: 60, relearnFrames: 5, ...o };
  }

  /** The model's offset at a gateway time. */
  offsetAt(gatewayUs: number): number {
    if (!this.fit.ok) {
      const last = this.buckets[this.buckets.length - 1];
      return last ? last.maxO : 0;
    }
    return Math.round(this.fit.a + this.fit.b * (gatewayUs - this.fit.t0));
  }

  private refit(): void {
    const n = this.buckets.length;
    if (n < 2) {
      this.fit.ok = false;
      this.stats.driftPpm = 0;
      return;
    }
    const t0 = this.buckets[0]?.atUs ?? 0;
    let sx = 0,
      sy = 0,
      sxx = 0,
      sxy = 0;
    for (const b of this.buckets) {
      const x = b.atUs - t0;
      sx += x;
      sy += b.maxO;
      sxx += x * x;
      sxy += x * b.maxO;
    }
    const den = n * sxx - sx * sx;
    const slope = den === 0 ? 0 : (n * sxy - sx * sy) / den;
    this.fit = { a: (sy - slope * sx) / n, b: slope, t0, ok: true };
    this.stats.driftPpm = slope * 1e6;
  }

  private feed(o: number, gatewayUs: number): void {
    const start = gatewayUs - (gatewayUs % (this.o.bucketMs * 1000));
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.start === start) {
      if (o > last.maxO) {
        last.maxO = o;
        last.atUs = gatewayUs;
        if (this.buckets.length >= 2) this.refit();
      }
      return;
    }
    this.buckets.push({ start, maxO: o, atUs: gatewayUs });
    if (this.buckets.length > this.o.buckets) this.buckets.shift();
    this.refit();
  }

  /**
   * One frame: the newest device time it carried and its receive time. Returns the offset to stamp on its payloads
   * and whether the frame's time is a jump.
   */
  observeFrame(deviceUs: number, gatewayUs: number): { offsetUs: number; jump: boolean } {
    if (deviceUs < this.o.minPlausibleUs) return { offsetUs: this.offsetAt(gatewayUs), jump: false };
    this.stats.frames++;
    const o = deviceUs - gatewayUs;
    const jumpUs = this.o.jumpMs * 1000;
    const established = this.buckets.length > 0;
    const ahead = established && o - this.offsetAt(gatewayUs) > jumpUs;
    const back = this.lastDeviceUs > 0 && deviceUs < this.lastDeviceUs - jumpUs;
    if (ahead || back) {
      if (this.candidate !== null && Math.abs(o - this.candidate) <= jumpUs) this.candidateFrames++;
      else {
        this.candidate = o;
        this.candidateFrames = 1;
      }
      if (this.candidateFrames < this.o.relearnFrames) return { offsetUs: this.offsetAt(gatewayUs), jump: true };
      // The device clock was stepped: start a new model at the new offset.
      this.stats.steps++;
      this.buckets.length = 0;
      this.fit.ok = false;
    }
    this.candidate = null;
    this.candidateFrames = 0;
    this.lastDeviceUs = deviceUs;
    this.feed(o, gatewayUs);
    const offsetUs = this.offsetAt(gatewayUs);
    this.stats.offsetUs = offsetUs;
    return { offsetUs, jump: false };
  }

  /** Sets offsets and FLAG_TIME_SUSPECT on a decoded frame's payloads; returns the suspect kinds found. */
  stamp(d: Decoded, gatewayUs: number): TimeSuspect | null {
    let newest = 0;
    const times: { t: ITiming; set(flag: number): void }[] = [];
    const visit = (p: { time?: ITiming | null; flags?: number | null }) => {
      const t = p.time;
      if (!t) return;
      const dt = Number(t.deviceTimeUs ?? 0);
      if (dt === 0) return;
      if (dt > newest && dt >= this.o.minPlausibleUs) newest = dt;
      times.push({ t, set: (f) => void (p.flags = (p.flags ?? 0) | f) });
    };
    for (const x of d.observations) visit(x);
    for (const x of d.waves) visit(x);
    for (const x of d.alarms) visit(x);
    if (times.length === 0) return null;
    const frame =
      newest > 0 ? this.observeFrame(newest, gatewayUs) : { offsetUs: this.offsetAt(gatewayUs), jump: false };
    let worst: TimeSuspect | null = null;
    const futureUs = gatewayUs + this.o.maxFutureMs * 1000;
    for (const { t, set } of times) {
      const dt = Number(t.deviceTimeUs);
      t.clockOffsetUs = frame.offsetUs;
      const why: TimeSuspect | null =
        dt < this.o.minPlausibleUs ? 'rollover' : dt > futureUs ? 'future' : frame.jump ? 'jump' : null;
      if (why) {
        set(Flag.FLAG_TIME_SUSPECT);
        this.stats.suspects[why]++;
        worst ??= why;
      }
    }
    return worst;
  }
}
