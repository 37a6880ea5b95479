// Continuous-time waveforms of one simulated patient, sampled by each device at its own rate: ECG (leads I and II in
// mV; III follows from Einthoven's law, III = II - I, when a device quantises), a photoplethysmogram pulse per beat
// delayed by the pulse transit time, and a thoracic impedance respiration wave. Every device of a bed samples the
// same beats, so the ECG monitor's R waves and the oximeter's pleth pulses stay phase-locked, as on a patient.
//
// ECG morphology: a sum of Gaussian waves per beat after McSharry et al., "A dynamical model for generating synthetic
// electrocardiogram signals", IEEE Trans Biomed Eng 50(3), 2003 (ECGSYN), as simulators/ecg.ts; QT follows Bazett.
// Lead I has the same beats with smaller QRS and P, as in a normal frontal axis (~+60 degrees: lead II largest).
// Noise is a hash of (channel, sample time), not a stream of draws, so a signal's samples do not depend on which
// device asked first: the same seed gives the same samples whatever the ward's order of work.

export interface CardioSignals {
  /** Schedules beats and breaths up to `toS` (+ look-ahead) at the given rates; call before sampling up to toS. */
  advance(toS: number, hr: number, rr: number, stMm?: number): void;
  /** Lead I and lead II at time s, mV. */
  ecg(s: number): { i: number; ii: number };
  /** Pleth at time s: 0 (diastole) to ~1.35 (systolic peak), times the perfusion factor. */
  pleth(s: number): number;
  /** Respiration at time s, 0 (end expiration) to 1 (end inspiration); constant during apnoea (rr 0). */
  resp(s: number): number;
  /** Beat times (R peaks, seconds) scheduled so far that are at or after `fromS` (tests). */
  beatsFrom(fromS: number): number[];
}

/**
 * The pleth at time s from the beats around it: a systolic pulse and a dicrotic wave per beat, 0.2 s after its R peak
 * (the pulse transit time to the finger), its amplitude swaying a little with the breath (respPhase, cycles).
 */
export function plethAt(beats: readonly { at: number }[], s: number, respPhase: number): number {
  let v = 0;
  for (const b of beats) {
    const d = s - b.at - 0.2;
    if (d < -0.2 || d > 1.2) continue;
    const sys = (d - 0.12) / 0.06;
    const dic = (d - 0.36) / 0.08;
    v += Math.exp(-0.5 * sys * sys) + 0.35 * Math.exp(-0.5 * dic * dic);
  }
  return v * (1 + 0.05 * Math.sin(2 * Math.PI * respPhase));
}

interface Wave {
  at: number;
  sigma: number;
  ii: number; // amplitude in lead II, mV
  i: number; // amplitude in lead I, mV
}

function morphology(rr: number, stMm: number): Wave[] {
  const qt = 0.4 * Math.sqrt(rr);
  const st = stMm * 0.1; // mm at 10 mm/mV
  return [
    { at: -0.16, sigma: 0.025, ii: 0.15, i: 0.08 }, // P
    { at: -0.035, sigma: 0.01, ii: -0.1, i: -0.04 }, // Q
    { at: 0, sigma: 0.011, ii: 1.1, i: 0.55 }, // R
    { at: 0.035, sigma: 0.011, ii: -0.25, i: -0.1 }, // S
    { at: 0.1, sigma: 0.04, ii: st, i: st * 0.5 }, // ST segment deviation
    { at: qt - 0.12, sigma: 0.055 * Math.sqrt(rr), ii: 0.3, i: 0.18 }, // T
  ];
}

/** Deterministic standard normal noise from an integer key (splitmix-like hash, then Box-Muller). */
export function hashNoise(seed: number, channel: number, k: number): number {
  const h = (x: number): number => {
    let z = (x + 0x9e3779b9) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  const a = h(seed * 31 + channel * 1_000_003 + k);
  const b = h(a * 4294967296 + 7);
  return Math.sqrt(-2 * Math.log(1 - a)) * Math.cos(2 * Math.PI * b);
}

const LOOKAHEAD_S = 1.2;
const KEEP_S = 4;

export function createCardioSignals(seed: number): CardioSignals {
  const beats: { at: number; waves: Wave[] }[] = [];
  let nextBeat = 0.3;
  let k = 0;
  // Respiration phase (cycles) as knots: phase at `at` and the rate after it, so a phase is exact at any time.
  const knots: { at: number; phase: number; perS: number }[] = [{ at: 0, phase: 0, perS: 15 / 60 }];
  let scheduledTo = 0;

  const respPhaseAt = (s: number): number => {
    let kn = knots[0]!;
    for (let j = knots.length - 1; j >= 0; j--) {
      if (knots[j]!.at <= s) {
        kn = knots[j]!;
        break;
      }
    }
    return kn.phase + (s - kn.at) * kn.perS;
  };

  return {
    advance(toS, hr, rr, stMm = 0) {
      const until = toS + LOOKAHEAD_S;
      if (until > scheduledTo) {
        const last = knots[knots.length - 1]!;
        const phase = respPhaseAt(scheduledTo);
        if (scheduledTo > last.at) knots.push({ at: scheduledTo, phase, perS: Math.max(0, rr) / 60 });
        else last.perS = Math.max(0, rr) / 60;
        while (knots.length > 2 && knots[1]!.at < toS - KEEP_S) knots.shift();
        scheduledTo = until;
      }
      const rate = Math.min(250, Math.max(20, hr));
      while (nextBeat < until) {
        // Respiratory sinus arrhythmia (the interval shortens in inspiration) and ~2 % beat-to-beat variability.
        const rsa = rr > 0 ? 1 - 0.03 * Math.sin(2 * Math.PI * respPhaseAt(nextBeat)) : 1;
        const rrS = Math.max(0.24, (60 / rate) * rsa * (1 + 0.02 * hashNoise(seed, 9, k++)));
        beats.push({ at: nextBeat, waves: morphology(rrS, stMm) });
        nextBeat += rrS;
      }
      while (beats.length > 8 && beats[0]!.at < toS - KEEP_S) beats.shift();
    },
    ecg(s) {
      const wander = 0.04 * Math.sin(2 * Math.PI * respPhaseAt(s));
      let i = wander * 0.5;
      let ii = wander;
      for (const b of beats) {
        const d = s - b.at;
        if (d < -0.3 || d > 0.7) continue;
        for (const w of b.waves) {
          const x = (d - w.at) / w.sigma;
          if (x > -5 && x < 5) {
            const g = Math.exp(-0.5 * x * x);
            i += w.i * g;
            ii += w.ii * g;
          }
        }
      }
      const key = Math.round(s * 1000);
      return { i: i + 0.006 * hashNoise(seed, 1, key), ii: ii + 0.006 * hashNoise(seed, 2, key) };
    },
    pleth: (s) => plethAt(beats, s, respPhaseAt(s)),
    resp(s) {
      const p = ((respPhaseAt(s) % 1) + 1) % 1;
      // Inspiration takes 40 % of the cycle, expiration the rest.
      const g = p < 0.4 ? (p / 0.4) * 0.5 : 0.5 + ((p - 0.4) / 0.6) * 0.5;
      return (1 - Math.cos(2 * Math.PI * g)) / 2;
    },
    beatsFrom: (fromS) => beats.filter((b) => b.at >= fromS).map((b) => b.at),
  };
}
