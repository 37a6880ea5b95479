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

// ---- The ward's patient: coupled vital signs, trends, noise and clinical events ---------------------------------
//
// One state per patient, advanced in steps: every device of the bed samples the same patient, so an ECG monitor, an
// oximeter and a cuff agree with each other, as they do on a real patient. Each value is a mean-reverting random
// walk (Ornstein-Uhlenbeck) around a baseline; an event moves the baselines with a first-order onset (time constant
// `rampS`) and couples the others as physiology does: a desaturation raises heart and respiration rate, a hypotension
// raises heart rate (baroreflex), an apnoea takes respiration and end-tidal CO2 to zero and lets SpO2 fall while it
// lasts. Values are physical and unrounded: each device quantises them as it does on its own wire.

export const EVENT_KINDS = ['tachycardia', 'bradycardia', 'desaturation', 'apnoea', 'hypotension'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface PhysioState {
  /** Heart rate from the ECG, /min. */
  hr: number;
  /** Pulse rate at the finger (SpO2), /min: the heart rate plus a little measurement noise. */
  pulse: number;
  /** SpO2, %. */
  spo2: number;
  /** Respiration rate, /min (0 during apnoea). */
  rr: number;
  /** Arterial pressure, mmHg: what a cuff measures when it cycles. */
  sys: number;
  dia: number;
  map: number;
  /** Core temperature, Cel. */
  tempC: number;
  /** End-tidal CO2, % (kPa at sea level is ~ the same number; 5 % ~ 38 mmHg). */
  etco2: number;
  /** ST deviation, mm (1 mm = 0.1 mV at standard gain). */
  stMm: number;
  /** Perfusion index, %. */
  pi: number;
  apnoea: boolean;
}

export interface PhysiologyProfile {
  hr: number;
  spo2: number;
  rr: number;
  sys: number;
  dia: number;
  tempC: number;
  etco2: number;
}

export const ADULT_WARD: PhysiologyProfile = { hr: 78, spo2: 97, rr: 16, sys: 122, dia: 76, tempC: 36.9, etco2: 5.1 };

/** Physiological ranges every state stays in (property-tested): what a monitor could display for a living adult. */
export const RANGES = {
  hr: [25, 220],
  pulse: [25, 220],
  spo2: [50, 100],
  rr: [0, 60],
  sys: [50, 240],
  dia: [25, 140],
  map: [35, 180],
  tempC: [33, 42],
  etco2: [0, 10],
  stMm: [-5, 5],
  pi: [0.05, 20],
} as const satisfies Record<string, readonly [number, number]>;

interface EventShape {
  /** Baseline shifts at full severity. */
  shift: Partial<Record<'hr' | 'spo2' | 'rr' | 'sys' | 'dia' | 'etco2' | 'stMm' | 'pi', number>>;
}

const EVENTS: Record<EventKind, EventShape> = {
  tachycardia: { shift: { hr: 62, sys: -6, dia: -4, stMm: -1.2, pi: -0.8 } },
  bradycardia: { shift: { hr: -40, sys: -14, dia: -8 } },
  desaturation: { shift: { spo2: -13, hr: 16, rr: 9, pi: -1.2 } },
  // Apnoea: rr and etco2 go to zero by the state itself; SpO2 falls while it lasts (below).
  apnoea: { shift: { hr: 8 } },
  hypotension: { shift: { sys: -42, dia: -26, hr: 22, pi: -1.5 } },
};

export interface Physiology {
  step(dtSeconds: number): PhysioState;
  /** Starts an event (its onset ramps with time constant rampS, default 20 s). */
  start(kind: EventKind, rampS?: number): void;
  /** Ends an event (recovery ramps with the same time constant). */
  stop(kind: EventKind): void;
  readonly state: PhysioState;
  /** Severity 0..1 of each event now. */
  severity(kind: EventKind): number;
}

export function createPhysiology(seed: number, profile: PhysiologyProfile = ADULT_WARD): Physiology {
  const rng: Rng = createRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  // Each bed starts a little apart so a ward does not look cloned.
  const base = {
    hr: profile.hr + gauss() * 8,
    spo2: Math.min(99.5, profile.spo2 + gauss() * 0.8),
    rr: profile.rr + gauss() * 2,
    sys: profile.sys + gauss() * 10,
    dia: profile.dia + gauss() * 6,
    tempC: profile.tempC + gauss() * 0.25,
    etco2: profile.etco2 + gauss() * 0.3,
    stMm: gauss() * 0.2,
    pi: 2.5 + Math.abs(gauss()),
  };
  const x = { ...base };
  const sev = new Map<EventKind, { target: number; level: number; rampS: number }>();
  let apnoeaS = 0; // seconds into the current apnoea (SpO2 falls with it)
  let t = 0;
  let state: PhysioState = snapshot(0);

  function snapshot(rsa: number): PhysioState {
    const apnoea = (sev.get('apnoea')?.level ?? 0) > 0.5;
    const hr = clamp(x.hr + rsa, RANGES.hr[0], RANGES.hr[1]);
    const sys = clamp(x.sys, RANGES.sys[0], RANGES.sys[1]);
    const dia = clamp(Math.min(x.dia, sys - 15), RANGES.dia[0], RANGES.dia[1]);
    return {
      hr,
      pulse: clamp(hr + gauss() * 0.6, RANGES.pulse[0], RANGES.pulse[1]),
      spo2: clamp(x.spo2 - Math.min(30, apnoeaS * 0.35), RANGES.spo2[0], RANGES.spo2[1]),
      rr: apnoea ? 0 : clamp(x.rr, 4, RANGES.rr[1]),
      sys,
      dia,
      // Mean arterial pressure: diastolic plus a third of the pulse pressure.
      map: clamp(dia + (sys - dia) / 3, RANGES.map[0], RANGES.map[1]),
      tempC: clamp(x.tempC, RANGES.tempC[0], RANGES.tempC[1]),
      etco2: apnoea ? 0 : clamp(x.etco2, 0.5, RANGES.etco2[1]),
      stMm: clamp(x.stMm, RANGES.stMm[0], RANGES.stMm[1]),
      pi: clamp(x.pi, RANGES.pi[0], RANGES.pi[1]),
      apnoea,
    };
  }

  return {
    get state() {
      return state;
    },
    severity: (k) => sev.get(k)?.level ?? 0,
    start(kind, rampS = 20) {
      const e = sev.get(kind);
      sev.set(kind, { target: 1, level: e?.level ?? 0, rampS: Math.max(0.1, rampS) });
    },
    stop(kind) {
      const e = sev.get(kind);
      if (e) e.target = 0;
    },
    step(dt) {
      t += dt;
      // Event severities follow their targets with first-order dynamics.
      const target = { ...base };
      for (const [k, e] of sev) {
        e.level += (e.target - e.level) * (1 - Math.exp(-dt / e.rampS));
        if (e.target === 0 && e.level < 0.01) {
          sev.delete(k);
          continue;
        }
        for (const [key, d] of Object.entries(EVENTS[k].shift) as [keyof typeof target, number][])
          target[key] += d * e.level;
      }
      const apnoea = (sev.get('apnoea')?.level ?? 0) > 0.5;
      apnoeaS = apnoea ? apnoeaS + dt : Math.max(0, apnoeaS - dt * 2); // recovers twice as fast once breathing resumes
      const s = Math.sqrt(dt);
      // Ornstein-Uhlenbeck: pull towards the (event-shifted) baseline; noise scaled by sqrt(dt). Pull rates are
      // fast enough that an event reaches its shift within a minute or two.
      x.hr += 0.08 * (target.hr - x.hr) * dt + 1.0 * gauss() * s;
      x.spo2 += 0.15 * (target.spo2 - x.spo2) * dt + 0.25 * gauss() * s;
      x.rr += 0.08 * (target.rr - x.rr) * dt + 0.35 * gauss() * s;
      x.sys += 0.05 * (target.sys - x.sys) * dt + 0.8 * gauss() * s;
      x.dia += 0.05 * (target.dia - x.dia) * dt + 0.5 * gauss() * s;
      x.tempC += 0.002 * (target.tempC - x.tempC) * dt + 0.004 * gauss() * s;
      x.etco2 += 0.1 * (target.etco2 - x.etco2) * dt + 0.05 * gauss() * s;
      x.stMm += 0.05 * (target.stMm - x.stMm) * dt + 0.02 * gauss() * s;
      x.pi += 0.05 * (target.pi - x.pi) * dt + 0.05 * gauss() * s;
      x.spo2 = Math.min(x.spo2, 100);
      const rsa = apnoea ? 0 : 2.5 * Math.sin((2 * Math.PI * t * x.rr) / 60); // respiratory sinus arrhythmia
      state = snapshot(rsa);
      return state;
    },
  };
}
