// PLX (Pulse Oximeter Service 1.0) status fields shared by 0x2A5E and 0x2A5F, as Flag bits
// applied to every value of the notification.
import { Flag } from '../../proto/index.js';

// PLXS 3.1.1.4 / 3.2.1.5 Measurement Status (16 bits); bits 0-4 reserved.
const MS_EARLY_ESTIMATE = 1 << 6;
const MS_DEMO = 1 << 10;
const MS_TESTING = 1 << 11;
const MS_CALIBRATING = 1 << 12;
const MS_UNAVAILABLE = 1 << 13;
const MS_QUESTIONABLE = 1 << 14;
const MS_INVALID = 1 << 15;
// Bits 5 (ongoing), 7 (validated), 8 (fully qualified) and 9 (from storage) say nothing
// against the value and map to no flag.

/** Flags for a Measurement Status word. "Invalid" is treated as unavailable + questionable: the value is not shown. */
export function measurementStatusFlags(ms: number): number {
  let f = 0;
  if (ms & MS_EARLY_ESTIMATE) f |= Flag.FLAG_EARLY_ESTIMATE;
  if (ms & MS_DEMO) f |= Flag.FLAG_DEMO;
  if (ms & MS_TESTING) f |= Flag.FLAG_TEST;
  if (ms & MS_CALIBRATING) f |= Flag.FLAG_CALIBRATING;
  if (ms & MS_UNAVAILABLE) f |= Flag.FLAG_UNAVAILABLE;
  if (ms & MS_QUESTIONABLE) f |= Flag.FLAG_QUESTIONABLE;
  if (ms & MS_INVALID) f |= Flag.FLAG_UNAVAILABLE | Flag.FLAG_QUESTIONABLE;
  return f;
}

// PLXS 3.1.1.5 / 3.2.1.6 Device and Sensor Status (24 bits); bits 16-23 reserved.
const DS_QUESTIONABLE =
  (1 << 1) | // equipment malfunction detected
  (1 << 2) | // signal processing irregularity detected
  (1 << 3) | // inadequate signal detected
  (1 << 4) | // poor signal detected
  (1 << 7) | // non-pulsatile signal detected
  (1 << 8) | // questionable pulse detected
  (1 << 12) | // unknown sensor connected
  (1 << 14); // sensor malfunctioning
const DS_LOW_PERFUSION = 1 << 5;
const DS_ARTIFACT = (1 << 6) | (1 << 10); // erratic signal; sensor interference
const DS_SENSOR_OFF = (1 << 11) | (1 << 13) | (1 << 15); // unconnected to user; displaced; disconnected
// Bits 0 (extended display update ongoing) and 9 (signal analysis ongoing) map to no flag.

/** Flags for a Device and Sensor Status word. */
export function deviceStatusFlags(ds: number): number {
  let f = 0;
  if (ds & DS_QUESTIONABLE) f |= Flag.FLAG_QUESTIONABLE;
  if (ds & DS_LOW_PERFUSION) f |= Flag.FLAG_LOW_PERFUSION;
  if (ds & DS_ARTIFACT) f |= Flag.FLAG_ARTIFACT;
  if (ds & DS_SENSOR_OFF) f |= Flag.FLAG_SENSOR_OFF;
  return f;
}
