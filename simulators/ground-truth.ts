// Ground truth: what a simulated device put on the wire, value by value and sample by sample, in the standard terms
// the protocol's documents give it (MDC reference id, or the vendor's name for values with no MDC term; UCUM unit),
// so a test can compare it with what reached a decoder or a subscriber. One NDJSON line per record
// (`vitalwire simulate --truth FILE`). Records of a frame that a fault corrupted are not truth: the fault record
// lists the frame instead, and a receiver must show a Gap or a rejected frame there, never a value.
import { createWriteStream, type WriteStream } from 'node:fs';

/** One value as sent. `code`: the MDC reference id, or the vendor's code when the value has no MDC term. */
export interface TruthObs {
  t: 'obs';
  dev: string;
  /** The device's frame (message, packet, record, line) number, from 0. */
  frame: number;
  /** Simulation time of the frame, Unix microseconds. */
  timeUs: number;
  code: string;
  value: number | null;
  unit: string;
}

/** One waveform chunk as sent: raw integer samples; physical value = sample x scale. */
export interface TruthWave {
  t: 'wave';
  dev: string;
  frame: number;
  timeUs: number;
  code: string;
  rateHz: number;
  /** Index of the first sample in the device's stream of this wave (from 0 at the device's start). */
  first: number;
  samples: number[];
  scale: number;
}

export interface TruthAlarm {
  t: 'alarm';
  dev: string;
  frame: number;
  timeUs: number;
  code: string;
  phase: string;
  priority: string;
}

export const FAULT_KINDS = [
  'garbage',
  'truncate',
  'oversize',
  'checksum',
  'disconnect',
  'clock-skew',
  'clock-jump',
  'burst',
  'drip',
  'duplicate',
  'no-ack-read',
  'power-cycle',
  'nak',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface TruthFault {
  t: 'fault';
  dev: string;
  timeUs: number;
  kind: FaultKind;
  /** Frames whose values did not arrive intact because of the fault. */
  frames?: number[];
  /** For time faults: the device clock's offset from now on, ms. */
  offsetMs?: number;
  durationMs?: number;
}

export type Truth = TruthObs | TruthWave | TruthAlarm | TruthFault;

export interface TruthSink {
  write(r: Truth): void;
  close(): Promise<void>;
}

/** Keeps every record in memory (tests). */
export function memoryTruth(): TruthSink & { readonly records: Truth[] } {
  const records: Truth[] = [];
  return { records, write: (r) => void records.push(r), close: async () => undefined };
}

/** Appends NDJSON to a file. */
export function fileTruth(path: string): TruthSink {
  const s: WriteStream = createWriteStream(path, { flags: 'w' });
  return {
    write: (r) => void s.write(JSON.stringify(r) + '\n'),
    close: () => new Promise<void>((res) => s.end(() => res())),
  };
}

/** Discards everything (load runs). */
export const noTruth: TruthSink = { write: () => undefined, close: async () => undefined };

/** Parses an NDJSON truth file's text. */
export function parseTruth(text: string): Truth[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Truth);
}
