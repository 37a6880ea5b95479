// Nonin serial data format 7 decoder: one 125-byte packet (25 frames, framer7.ts) in, one pleth
// waveform chunk and the packet's numerics out.
//
// Per frame k (Nonin "Serial Data Format #7"; ../shared/protocols.md): PLETH = MSB << 8 | LSB,
// one sample per frame at 75 Hz; DATA multiplexed by k: 0-1 HR 4-beat (MSB bits 1..0 = HR bits
// 8..7, LSB bits 6..0 = HR bits 6..0), 2 SpO2 4-beat, 3 firmware revision, 5-6 3 Hz timer (7 bits
// each), 7 STAT2, 8 SpO2-D, 9 SpO2 fast, 10 SpO2 beat-to-beat, 13-14 E-HR 8-beat, 15 E-SpO2,
// 16 E-SpO2-D, 19-20 HR-D, 21-22 E-HR-D. SpO2 values are bits 6..0. Missing: HR 511, SpO2 127.
//
// Sample index: the 3 Hz timer counts packets (14 bits, wraps every 16384 packets, ~91 min), so
// first_sample advances by 25 x (timer step): continuous across packets, and a lost packet makes
// a 50-sample jump, which is the truth. A step of 0 or of more than half the timer range (a
// device restart, or a timer the device does not run) cannot be trusted and advances by 25.
//
// Hot path: per packet one samples array, the payload objects and one shared Timing; no strings.
import type { IObservation, ITiming, IWaveformChunk } from '../../proto/index.js';
import type { DecodeContext, DecodeResult } from '../decoded.js';
import { decodeError } from '../../lib/errors.js';
import { METRICS } from '../mdc.js';
import type { FrameDecoder } from '../registry.js';
import { FRAME_BYTES, FRAMES_PER_PACKET, PACKET_BYTES, df7FrameOk } from './framer7.js';
import { DF7_SYNC, df7Flags } from './status.js';
import * as T from './terms.js';

export const PLETH_RATE_HZ = 75;
const TIMER_MOD = 1 << 14;
const TIMER_MAX_STEP = TIMER_MOD / 2;

/** DATA byte of frame k. */
function data(p: Buffer, k: number): number {
  return p[k * FRAME_BYTES + 3] as number;
}

/** 9-bit heart rate from its MSB frame (bits 1..0) and LSB frame (bits 6..0). */
function hr(p: Buffer, k: number): number {
  return ((data(p, k) & 0x03) << 7) | (data(p, k + 1) & 0x7f);
}

function spo2(p: Buffer, k: number): number {
  return data(p, k) & 0x7f;
}

/** Is this a well-formed packet? The decoder is callable on any bytes, not only framer output. */
function packetError(p: Buffer): string | undefined {
  if (p.length !== PACKET_BYTES) return `${p.length} bytes, a packet is ${PACKET_BYTES}`;
  for (let k = 0; k < FRAMES_PER_PACKET; k++) {
    const o = k * FRAME_BYTES;
    if (!df7FrameOk(p, o)) return `frame ${k}: bad checksum or status bit 7 clear`;
    if ((((p[o] as number) & DF7_SYNC) !== 0) !== (k === 0)) return `frame ${k}: SYNC bit ${k === 0 ? 'clear' : 'set'}`;
  }
  return undefined;
}

export function createNonin7Decoder(): FrameDecoder {
  let nextSample = 0; // index of the next packet's first sample
  let lastTimer = -1;

  return {
    decode(p: Buffer, ctx: DecodeContext): DecodeResult {
      const bad = packetError(p);
      if (bad !== undefined) return { ok: false, error: decodeError('VW_ERR_NONIN_CHECKSUM', bad) };

      const timer = ((data(p, 5) & 0x7f) << 7) | (data(p, 6) & 0x7f);
      if (lastTimer >= 0) {
        const step = (timer - lastTimer + TIMER_MOD) % TIMER_MOD;
        nextSample += (step > 0 && step <= TIMER_MAX_STEP ? step : 1) * FRAMES_PER_PACKET;
      }
      lastTimer = timer;

      let status = 0;
      const samples = new Array<number>(FRAMES_PER_PACKET);
      for (let k = 0; k < FRAMES_PER_PACKET; k++) {
        const o = k * FRAME_BYTES;
        status |= p[o] as number;
        samples[k] = ((p[o + 1] as number) << 8) | (p[o + 2] as number);
      }
      const flags = df7Flags(status);
      const time: ITiming = { gatewayTimeUs: ctx.gatewayTimeUs };

      const observations: IObservation[] = [
        T.numeric(T.HR, hr(p, 0), T.HR_MISSING, flags, time),
        T.numeric(T.SPO2, spo2(p, 2), T.SPO2_MISSING, flags, time),
        T.numeric(T.SPO2_D, spo2(p, 8), T.SPO2_MISSING, flags, time),
        T.numeric(T.SPO2_FAST, spo2(p, 9), T.SPO2_MISSING, flags, time),
        T.numeric(T.SPO2_BB, spo2(p, 10), T.SPO2_MISSING, flags, time),
        T.numeric(T.E_HR, hr(p, 13), T.HR_MISSING, flags, time),
        T.numeric(T.E_SPO2, spo2(p, 15), T.SPO2_MISSING, flags, time),
        T.numeric(T.E_SPO2_D, spo2(p, 16), T.SPO2_MISSING, flags, time),
        T.numeric(T.HR_D, hr(p, 19), T.HR_MISSING, flags, time),
        T.numeric(T.E_HR_D, hr(p, 21), T.HR_MISSING, flags, time),
      ];
      const wave: IWaveformChunk = {
        time,
        mdc: METRICS.MDC_PULS_OXIM_PLETH.mdc,
        refid: METRICS.MDC_PULS_OXIM_PLETH.refid,
        sampleRateHz: PLETH_RATE_HZ,
        firstSample: nextSample,
        samples,
        scale: 1,
        offset: 0,
        // Uncalibrated amplitude (ADC counts): no physical unit, as METRICS.MDC_PULS_OXIM_PLETH says.
        unit: METRICS.MDC_PULS_OXIM_PLETH.unit,
        vendorCode: 'PLETH',
        flags,
      };
      return { ok: true, value: { observations, waves: [wave], alarms: [], warnings: [] } };
    },
  };
}
