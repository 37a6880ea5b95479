// Nonin format 7 and format 8 encoders: values in, wire bytes out, for simulators and round-trip
// tests. The layouts are the ones decoder7.ts and decoder8.ts read (Nonin "Serial Data Format #7"
// and "#8"); `null` is sent as Nonin's "missing" sentinel (HR 511, SpO2 127).
import { FRAME_BYTES, FRAMES_PER_PACKET, PACKET_BYTES } from './framer7.js';
import { DF7_ALWAYS, DF7_SYNC, DF8_ALWAYS } from './status.js';
import { HR_MISSING, SPO2_MISSING } from './terms.js';

export interface Nonin7Numerics {
  hr: number | null;
  spo2: number | null;
  spo2D: number | null;
  spo2Fast: number | null;
  spo2BB: number | null;
  eHr: number | null;
  eSpo2: number | null;
  eSpo2D: number | null;
  hrD: number | null;
  eHrD: number | null;
}

export interface Nonin7Packet extends Nonin7Numerics {
  /** 25 pleth samples, 0..65535. */
  pleth: readonly number[];
  /** 3 Hz packet timer, 0..16383. */
  timer: number;
  firmware?: number;
  stat2?: number;
  /** Per-frame status bits other than bit 7 and SYNC (e.g. DF7_ARTF); missing frames send 0. */
  status?: readonly number[];
}

const hr = (v: number | null): number => (v === null ? HR_MISSING : v) & 0x1ff;
const sat = (v: number | null): number => (v === null ? SPO2_MISSING : v) & 0x7f;

/** The 25 DATA bytes of a packet, by frame index. */
function dataBytes(p: Nonin7Packet): number[] {
  const d = new Array<number>(FRAMES_PER_PACKET).fill(0);
  const put9 = (k: number, v: number): void => {
    d[k] = (v >> 7) & 0x03;
    d[k + 1] = v & 0x7f;
  };
  put9(0, hr(p.hr));
  d[2] = sat(p.spo2);
  d[3] = (p.firmware ?? 0) & 0xff;
  d[5] = (p.timer >> 7) & 0x7f;
  d[6] = p.timer & 0x7f;
  d[7] = (p.stat2 ?? 0) & 0xff;
  d[8] = sat(p.spo2D);
  d[9] = sat(p.spo2Fast);
  d[10] = sat(p.spo2BB);
  put9(13, hr(p.eHr));
  d[15] = sat(p.eSpo2);
  d[16] = sat(p.eSpo2D);
  put9(19, hr(p.hrD));
  put9(21, hr(p.eHrD));
  return d;
}

/** One 125-byte format 7 packet. */
export function encodeNonin7Packet(p: Nonin7Packet): Buffer {
  const out = Buffer.alloc(PACKET_BYTES);
  const d = dataBytes(p);
  for (let k = 0; k < FRAMES_PER_PACKET; k++) {
    const o = k * FRAME_BYTES;
    const s = DF7_ALWAYS | ((p.status?.[k] ?? 0) & 0x7e) | (k === 0 ? DF7_SYNC : 0);
    const pl = (p.pleth[k] ?? 0) & 0xffff;
    out[o] = s;
    out[o + 1] = pl >> 8;
    out[o + 2] = pl & 0xff;
    out[o + 3] = d[k] as number;
    out[o + 4] = (s + (pl >> 8) + (pl & 0xff) + (d[k] as number)) & 0xff;
  }
  return out;
}

export interface Nonin8Frame {
  hr: number | null;
  spo2: number | null;
  /** STATUS1 bits 6..2 (DF8_SNSD, DF8_OOT, DF8_LPRF, DF8_MPRF, DF8_ARTF). */
  status1?: number;
  /** STATUS2, 7 bits, passed through. */
  status2?: number;
}

/** One 4-byte format 8 frame. */
export function encodeNonin8Frame(f: Nonin8Frame): Buffer {
  const h = hr(f.hr);
  return Buffer.from([
    DF8_ALWAYS | ((f.status1 ?? 0) & 0x7c) | (h >> 7),
    h & 0x7f,
    sat(f.spo2),
    (f.status2 ?? 0) & 0x7f,
  ]);
}
