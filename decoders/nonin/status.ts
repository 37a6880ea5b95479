// Nonin status bits and the vitalwire flags they become.
//
// Format 7 STATUS byte (Nonin OEM III / WristOx2 3150 "Serial Data Format #7"; ../shared/protocols.md):
//   bit 7 always 1, bit 6 SNSD sensor disconnect, bit 5 ARTF artifact, bit 4 OOT out of track,
//   bit 3 SNSA sensor alarm, bit 2 RPRF red perfusion, bit 1 GPRF green perfusion (red + green =
//   yellow), bit 0 SYNC (first frame of a 25-frame packet).
// Format 8 STATUS1 ("Serial Data Format #8"): bit 7 always 1, bit 6 SNSD, bit 5 OOT, bit 4 LPRF low
//   perfusion, bit 3 MPRF marginal perfusion, bit 2 ARTF, bits 1..0 heart rate bits 8..7.
//
// Mapping (docs/serial-oximeters.md):
// - SNSD and SNSA -> FLAG_SENSOR_OFF: Nonin: "sensor not connected or inoperable" / "sensor is
//   providing unusable data for analysis" (set when the finger is removed).
// - OOT -> FLAG_QUESTIONABLE: "an absence of consecutive good pulse signals"; values still come.
// - ARTF -> FLAG_ARTIFACT: "a detected pulse beat didn't match the current pulse interval".
// - Perfusion: green = high signal quality (no flag); red = low/no pulse signal and yellow (red +
//   green) = low/marginal signal -> FLAG_LOW_PERFUSION. Format 8 LPRF and MPRF likewise.
//   The format 7 colours are only set during a pulse, so a packet is flagged when any frame is.
import { Flag } from '../../proto/index.js';

export const DF7_ALWAYS = 0x80;
export const DF7_SNSD = 0x40;
export const DF7_ARTF = 0x20;
export const DF7_OOT = 0x10;
export const DF7_SNSA = 0x08;
export const DF7_RPRF = 0x04;
export const DF7_GPRF = 0x02;
export const DF7_SYNC = 0x01;

export const DF8_ALWAYS = 0x80;
export const DF8_SNSD = 0x40;
export const DF8_OOT = 0x20;
export const DF8_LPRF = 0x10;
export const DF8_MPRF = 0x08;
export const DF8_ARTF = 0x04;
export const DF8_HR_HIGH = 0x03;

/** Flags for the OR of a packet's format 7 status bytes. */
export function df7Flags(status: number): number {
  let f = 0;
  if (status & (DF7_SNSD | DF7_SNSA)) f |= Flag.FLAG_SENSOR_OFF;
  if (status & DF7_OOT) f |= Flag.FLAG_QUESTIONABLE;
  if (status & DF7_ARTF) f |= Flag.FLAG_ARTIFACT;
  if (status & DF7_RPRF) f |= Flag.FLAG_LOW_PERFUSION; // red alone, or yellow (red + green)
  return f;
}

/** Flags for a format 8 STATUS1 byte. */
export function df8Flags(status1: number): number {
  let f = 0;
  if (status1 & DF8_SNSD) f |= Flag.FLAG_SENSOR_OFF;
  if (status1 & DF8_OOT) f |= Flag.FLAG_QUESTIONABLE;
  if (status1 & (DF8_LPRF | DF8_MPRF)) f |= Flag.FLAG_LOW_PERFUSION;
  if (status1 & DF8_ARTF) f |= Flag.FLAG_ARTIFACT;
  return f;
}
