// The contract's generated code under short names. Everything that encodes or decodes the
// wire format imports from here, never from proto/gen directly.
import { vitalwire } from './gen/vitals.js';

export const v1 = vitalwire.v1;
export const { Batch, Observation, WaveformChunk, Alarm, AlarmFacet, DeviceStatus, Gap, Source, Timing, Code } =
  vitalwire.v1;
export const { Kind, Flag, AlarmPriority, AlarmKind, AlarmState, AlarmPhase, AlarmInactivation, LinkState, GapReason } =
  vitalwire.v1;

export type IBatch = vitalwire.v1.IBatch;
export type IObservation = vitalwire.v1.IObservation;
export type IWaveformChunk = vitalwire.v1.IWaveformChunk;
export type IAlarm = vitalwire.v1.IAlarm;
export type IAlarmFacet = vitalwire.v1.IAlarmFacet;
export type IDeviceStatus = vitalwire.v1.IDeviceStatus;
export type IGap = vitalwire.v1.IGap;
export type ISource = vitalwire.v1.ISource;
export type ITiming = vitalwire.v1.ITiming;
export type KindValue = vitalwire.v1.Kind;

/** Topic segment of each stream kind: vw/v1/<site>/<gateway>/<device>/<kind>. */
export const KIND_SEGMENT = {
  [vitalwire.v1.Kind.KIND_OBS]: 'obs',
  [vitalwire.v1.Kind.KIND_WAVE]: 'wave',
  [vitalwire.v1.Kind.KIND_ALARM]: 'alarm',
  [vitalwire.v1.Kind.KIND_STATUS]: 'status',
} as const;
