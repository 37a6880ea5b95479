// What a decoder hands the gateway for one frame: standard payloads plus the device context
// the frame revealed. Context (bed, device identity) is kept apart from values.
import type { IAlarm, IDeviceStatus, IGap, IObservation, IWaveformChunk } from '../proto/index.js';
import type { DecodeError } from '../lib/errors.js';

export interface Decoded {
  /** Device identity found in the frame (EUI-64, serial number); undefined when the frame has none. */
  device?: string;
  model?: string;
  /** Bed the device claims (HL7 PV1-3): published as Source.bed_claim, never as the configured bed. */
  bed?: string;
  /** Message control id (HL7 MSH-10), for acknowledgements. */
  controlId?: string;
  observations: IObservation[];
  waves: IWaveformChunk[];
  alarms: IAlarm[];
  /** Device-reported status (sensor off, link state inside a bridge); optional, most frames have none. */
  statuses?: IDeviceStatus[];
  /** Holes the frame reveals in the device's own streams (a waveform window it skipped); optional. */
  gaps?: IGap[];
  /** Non-fatal problems inside an accepted frame (e.g. one unreadable OBX). */
  warnings: DecodeError[];
}

export type DecodeResult = { ok: true; value: Decoded } | { ok: false; error: DecodeError };

export interface DecodeContext {
  /** Gateway receive time of the frame, Unix microseconds. */
  gatewayTimeUs: number;
  /** UTC offset (minutes) assumed for device times sent without one. */
  defaultUtcOffsetMin?: number;
}
