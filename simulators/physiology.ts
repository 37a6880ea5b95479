// A synthetic patient: vital signs that wander plausibly (mean-reverting random walks with
// breathing-coupled heart-rate variability), never a real person's data.
import { createRng, type Rng } from './prng.js';

export interface Vitals {
  hr: number; // /min
  spo2: number; // %
  rr: number; // /min
  pulse: number; // /min, SpO2 pulse rate (tracks HR)
}

export interface PatientProfile {
  hr: number;
  spo2: number;
  rr: number;
}

export const ADULT_STABLE: PatientProfile = { hr: 78, spo2: 97, rr: 16 };

export interface Patient {
  /** Advance by dtSeconds and return the rounded values a monitor would display. */
  step(dtSeconds: number): Vitals;
}

export function createPatient(seed: number, profile: PatientProfile = ADULT_STABLE): Patient {
  const rng: Rng = createRng(seed);
  const gauss = () => {
    // Box-Muller; 1 - rng() keeps log's argument in (0, 1].
    const u = 1 - rng();
    const v = rng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  // Each bed starts a little apart so a ward does not look cloned.
  let hr = profile.hr + gauss() * 8;
  let spo2 = profile.spo2 + gauss();
  let rr = profile.rr + gauss() * 2;
  let t = 0;
  const hrBase = hr;
  const spo2Base = spo2;
  const rrBase = rr;
  return {
    step(dt) {
      t += dt;
      // Ornstein-Uhlenbeck steps: pull back to baseline, plus noise scaled by sqrt(dt).
      const s = Math.sqrt(dt);
      hr += 0.05 * (hrBase - hr) * dt + 1.2 * gauss() * s;
      spo2 += 0.1 * (spo2Base - spo2) * dt + 0.3 * gauss() * s;
      rr += 0.05 * (rrBase - rr) * dt + 0.4 * gauss() * s;
      const rsa = 3 * Math.sin((2 * Math.PI * t * rr) / 60); // respiratory sinus arrhythmia
      const hrNow = clamp(hr + rsa, 35, 190);
      return {
        hr: Math.round(hrNow),
        spo2: Math.round(clamp(spo2, 80, 100)),
        rr: Math.round(clamp(rr, 6, 40)),
        pulse: Math.round(clamp(hrNow + gauss() * 0.7, 35, 190)),
      };
    },
  };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
