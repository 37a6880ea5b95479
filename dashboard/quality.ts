// What each quality flag (vitals.proto Flag) means on screen: whether the value is doubtful (dimmed, marked "?"),
// withdrawn (crossed out), the short word shown beside it, and the sentence given on hover and to screen readers.
// Pure: no DOM.
import { Flag } from '../proto/index.js';

/** Flags that say the data is not a patient's. */
export const MODE_FLAGS = Flag.FLAG_DEMO | Flag.FLAG_TEST | Flag.FLAG_SIMULATED;

export type Mode = '' | 'test' | 'demo' | 'simulated';

interface Rule {
  flag: number;
  /** A short word shown beside the value. */
  note: string;
  /** Said on hover / to a screen reader. */
  reason: string;
  /** The number cannot be taken at face value: dimmed and marked "?". */
  doubtful: boolean;
}

// In the order a clinician needs them: what makes the number not a measurement first.
const RULES: readonly Rule[] = [
  {
    flag: Flag.FLAG_RETRACTED,
    note: 'retracted',
    reason: 'Withdrawn by the device (HL7 OBX-11 D/W): not a measurement.',
    doubtful: false,
  },
  { flag: Flag.FLAG_UNAVAILABLE, note: 'no value', reason: 'The device reports no value.', doubtful: false },
  {
    flag: Flag.FLAG_SENSOR_OFF,
    note: 'sensor off',
    reason: 'Sensor disconnected or displaced, or a lead is off.',
    doubtful: true,
  },
  {
    flag: Flag.FLAG_OUT_OF_RANGE,
    note: 'out of range',
    reason: 'Outside the range the device can measure.',
    doubtful: true,
  },
  {
    flag: Flag.FLAG_CALIBRATING,
    note: 'calibrating',
    reason: 'The sensor or device is calibrating, zeroing or not calibrated.',
    doubtful: true,
  },
  { flag: Flag.FLAG_ARTIFACT, note: 'artifact', reason: 'The device detected artifact or motion.', doubtful: true },
  {
    flag: Flag.FLAG_LOW_PERFUSION,
    note: 'low perfusion',
    reason: 'Low or marginal perfusion: the reading may be unreliable.',
    doubtful: true,
  },
  {
    flag: Flag.FLAG_QUESTIONABLE,
    note: 'questionable',
    reason: 'Questionable: the device marked it, or the code or unit it sent contradict each other.',
    doubtful: true,
  },
  {
    flag: Flag.FLAG_UNIT_UNKNOWN,
    note: 'unit?',
    reason: 'The unit is missing or not valid for this parameter: the number cannot be read safely.',
    doubtful: true,
  },
  {
    flag: Flag.FLAG_EARLY_ESTIMATE,
    note: 'preliminary',
    reason: 'A preliminary value: the measurement was still settling.',
    doubtful: true,
  },
  {
    flag: Flag.FLAG_DERIVED,
    note: 'converted',
    reason: 'Converted by vitalwire, not stated so by the device.',
    doubtful: false,
  },
  {
    flag: Flag.FLAG_TIME_SUSPECT,
    note: 'time?',
    reason: 'The device clock is implausible: the time shown is when the gateway received the value.',
    doubtful: false,
  },
  {
    flag: Flag.FLAG_ABNORMAL,
    note: 'abnormal',
    reason: 'The device flags this value outside its reference range.',
    doubtful: false,
  },
  {
    flag: Flag.FLAG_UNMAPPED,
    note: 'uncoded',
    reason: 'No standard (MDC) code is known for what the device sent.',
    doubtful: false,
  },
  { flag: Flag.FLAG_TEST, note: 'TEST', reason: 'From a device in test mode: not a patient.', doubtful: false },
  {
    flag: Flag.FLAG_DEMO,
    note: 'DEMO',
    reason: 'From a device in demo mode: simulated, not a patient.',
    doubtful: false,
  },
  {
    flag: Flag.FLAG_SIMULATED,
    note: 'SIMULATED',
    reason: 'Produced by a simulator: never a patient.',
    doubtful: false,
  },
];

export interface Quality {
  /** Dimmed and marked "?". (A withdrawn or unavailable row has no number: it is crossed out instead.) */
  doubtful: boolean;
  /** Withdrawn or unavailable: a value held from before is shown crossed out, never as current. */
  struck: boolean;
  notes: string[];
  reasons: string[];
}

export function quality(flags: number): Quality {
  const q: Quality = {
    doubtful: false,
    struck: (flags & (Flag.FLAG_RETRACTED | Flag.FLAG_UNAVAILABLE)) !== 0,
    notes: [],
    reasons: [],
  };
  if (flags === 0) return q;
  for (const r of RULES) {
    if ((flags & r.flag) === 0) continue;
    if (r.doubtful) q.doubtful = true;
    // TEST/DEMO/SIMULATED have their own badge; the word is not repeated among the notes.
    if ((r.flag & MODE_FLAGS) === 0) q.notes.push(r.note);
    q.reasons.push(r.reason);
  }
  return q;
}

/** The strongest "not a patient" mode in a flag mask: test, then demo, then simulated. */
export function modeOf(flags: number): Mode {
  if (flags & Flag.FLAG_TEST) return 'test';
  if (flags & Flag.FLAG_DEMO) return 'demo';
  if (flags & Flag.FLAG_SIMULATED) return 'simulated';
  return '';
}

export const MODE_TEXT: Readonly<Record<Exclude<Mode, ''>, { badge: string; banner: string }>> = {
  test: { badge: 'TEST', banner: 'TEST — data from a device in test mode, not from a patient' },
  demo: { badge: 'DEMO', banner: 'DEMO — simulated data from a device in demo mode, not from a patient' },
  simulated: { badge: 'SIMULATED', banner: 'SIMULATED — data produced by a simulator, never a patient' },
};

/** Every mode in a mask, strongest first (a bed can be both TEST and DEMO). */
export function modesOf(flags: number): Exclude<Mode, ''>[] {
  const out: Exclude<Mode, ''>[] = [];
  if (flags & Flag.FLAG_TEST) out.push('test');
  if (flags & Flag.FLAG_DEMO) out.push('demo');
  if (flags & Flag.FLAG_SIMULATED) out.push('simulated');
  return out;
}
