// Nonin serial data format 8 decoder: one 4-byte frame STATUS1, HR_LSB, SpO2, STATUS2 (1 Hz) in,
// pulse rate and SpO2 out (Nonin "Serial Data Format #8"; ../shared/protocols.md).
// HR = ((STATUS1 & 0x03) << 7) | HR_LSB; missing values HR 511, SpO2 127.
// STATUS1 bits become flags (status.ts). STATUS2 is not interpreted: public sources disagree on
// its bits (low battery, spot-check mode, SmartPoint), so vitalwire reports none of them.
//
// Format 8 has no checksum, so the decoder checks what it can: the bit-7 layout the framer syncs
// on, and the documented ranges (SpO2 0..100, pulse rate up to 321 BPM, the top of Nonin's
// measurement range 18..321). A frame outside them is rejected (VW_ERR_NONIN_RANGE), not guessed.
import type { ITiming } from '../../proto/index.js';
import type { DecodeContext, DecodeResult } from '../decoded.js';
import { decodeError } from '../../lib/errors.js';
import type { FrameDecoder } from '../registry.js';
import { DF8_FRAME_BYTES } from './framer8.js';
import { DF8_ALWAYS, DF8_HR_HIGH, df8Flags } from './status.js';
import * as T from './terms.js';

export const DF8_HR_MAX = 321;
export const DF8_SPO2_MAX = 100;

export function decodeNonin8(f: Buffer, ctx: DecodeContext): DecodeResult {
  if (f.length !== DF8_FRAME_BYTES) {
    return {
      ok: false,
      error: decodeError('VW_ERR_NONIN_CHECKSUM', `${f.length} bytes, a frame is ${DF8_FRAME_BYTES}`),
    };
  }
  const s1 = f[0] as number;
  const lsb = f[1] as number;
  const sat = f[2] as number;
  const s2 = f[3] as number;
  if ((s1 & DF8_ALWAYS) === 0 || ((lsb | sat | s2) & 0x80) !== 0) {
    return { ok: false, error: decodeError('VW_ERR_NONIN_CHECKSUM', 'bit 7 layout: STATUS1 set, other bytes clear') };
  }
  const hr = ((s1 & DF8_HR_HIGH) << 7) | lsb;
  if ((hr > DF8_HR_MAX && hr !== T.HR_MISSING) || (sat > DF8_SPO2_MAX && sat !== T.SPO2_MISSING)) {
    return { ok: false, error: decodeError('VW_ERR_NONIN_RANGE', `HR ${hr}, SpO2 ${sat}`) };
  }
  const flags = df8Flags(s1);
  const time: ITiming = { gatewayTimeUs: ctx.gatewayTimeUs };
  return {
    ok: true,
    value: {
      observations: [
        T.numeric(T.HR, hr, T.HR_MISSING, flags, time),
        T.numeric(T.SPO2, sat, T.SPO2_MISSING, flags, time),
      ],
      waves: [],
      alarms: [],
      warnings: [],
    },
  };
}

export function createNonin8Decoder(): FrameDecoder {
  return { decode: decodeNonin8 };
}
