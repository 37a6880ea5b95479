// One simulated bed: a patient's physiology and the continuous waveforms every device of the bed samples. The runner
// advances it in time; devices read the state and sample the signals at their own rates.
import { createPhysiology, type EventKind, type PhysioState, type Physiology } from './physiology.js';
import { createCardioSignals, type CardioSignals } from './signals.js';

export interface Bed {
  readonly no: number;
  readonly physiology: Physiology;
  readonly signals: CardioSignals;
  /** Simulation time the bed has been advanced to, Unix microseconds. */
  readonly nowUs: number;
  readonly startUs: number;
  readonly state: PhysioState;
  /** Seconds since the bed started (the waveform time base). */
  seconds(us: number): number;
  advanceTo(us: number): void;
  event(kind: EventKind, on: boolean, rampS?: number): void;
}

/** Physiology steps: 100 ms, fine enough for trends, coarse enough for a 50-bed ward. */
const STEP_US = 100_000;

export function createBed(no: number, seed: number, startUs: number): Bed {
  const physiology = createPhysiology(seed);
  const signals = createCardioSignals(seed ^ 0x5eed);
  let now = startUs;
  let stepped = startUs;
  const bed: Bed = {
    no,
    physiology,
    signals,
    startUs,
    get nowUs() {
      return now;
    },
    get state() {
      return physiology.state;
    },
    seconds: (us) => (us - startUs) / 1e6,
    advanceTo(us) {
      if (us <= now) return;
      while (stepped + STEP_US <= us) {
        stepped += STEP_US;
        physiology.step(STEP_US / 1e6);
      }
      now = us;
      const s = physiology.state;
      signals.advance(bed.seconds(us), s.hr, s.rr, s.stMm);
    },
    event(kind, on, rampS) {
      if (on) physiology.start(kind, rampS);
      else physiology.stop(kind);
    },
  };
  physiology.step(0.001);
  signals.advance(0, physiology.state.hr, physiology.state.rr, physiology.state.stMm);
  return bed;
}
