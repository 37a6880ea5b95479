// Synthetic waveforms of a simulated patient: ECG lead II with P-QRS-T morphology at the patient's heart rate, a
// photoplethysmogram (pleth) pulse per beat delayed by the pulse transit time, and a thoracic impedance
// respiration wave at the respiration rate. Synthetic only, never a real person's signal.
//
// ECG: each beat is a sum of Gaussian waves placed around the R peak, after McSharry et al., "A dynamical model
// for generating synthetic electrocardiogram signals", IEEE Trans Biomed Eng 50(3), 2003 (ECGSYN): P, Q, R, S and
// T with amplitudes in mV. The QT interval follows Bazett (QT = 0.40 s * sqrt(RR)), so T moves with the rate.
// Beat-to-beat intervals carry a little random variability and respiratory sinus arrhythmia.
import { createRng, type Rng } from './prng.js';
import { plethAt } from './signals.js';

/** Sample rates and raw resolutions of the simulated monitor's waves (what PCD-01 OBX rows announce). */
export const WAVES = {
  ecg: { rateHz: 250, resolution: 0.005 }, // mV per count (5 uV)
  pleth: { rateHz: 125, resolution: 1 }, // dimensionless counts
  resp: { rateHz: 62.5, resolution: 1 }, // dimensionless counts
} as const;

/** Chunk length: 64 ECG, 32 pleth and 16 resp samples, whole numbers at every rate above. */
export const CHUNK_MS = 256;

/** Raw value a monitor sends for a sample it could not measure (lead off), as Mindray's MDC_EVT_INOP does. */
export const INVALID_SAMPLE = 32767;

interface Wave {
  at: number; // seconds relative to the R peak
  sigma: number; // seconds
  mv: number; // amplitude
}

function morphology(rr: number): Wave[] {
  const qt = 0.4 * Math.sqrt(rr);
  return [
    { at: -0.16, sigma: 0.025, mv: 0.15 }, // P
    { at: -0.035, sigma: 0.01, mv: -0.1 }, // Q
    { at: 0, sigma: 0.011, mv: 1.1 }, // R
    { at: 0.035, sigma: 0.011, mv: -0.25 }, // S
    { at: qt - 0.12, sigma: 0.055 * Math.sqrt(rr), mv: 0.3 }, // T
  ];
}

export interface WaveChunk {
  /** raw counts, `WAVES.*.resolution` physical units each */
  ecg: Int32Array;
  pleth: Int32Array;
  resp: Int32Array;
}

export interface WaveSynth {
  /**
   * The next CHUNK_MS of all three waves at the given rates (per minute). Consecutive calls continue the same
   * signals. `leadOff` sends the ECG as INVALID_SAMPLE, like a monitor with a detached electrode.
   */
  next(hr: number, rr: number, leadOff?: boolean): WaveChunk;
}

export function createWaveSynth(seed: number): WaveSynth {
  const rng: Rng = createRng(seed ^ 0x5eed);
  const gauss = (): number => {
    const u = 1 - rng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
  };
  const nEcg = (WAVES.ecg.rateHz * CHUNK_MS) / 1000;
  const nPleth = (WAVES.pleth.rateHz * CHUNK_MS) / 1000;
  const nResp = (WAVES.resp.rateHz * CHUNK_MS) / 1000;
  let t = 0; // seconds since the synth started (start of the next chunk)
  let respPhase = 0; // cycles
  // R peaks: the last two before t and the upcoming ones, so a sample sees every beat that reaches it.
  const beats: { at: number; rr: number; waves: Wave[] }[] = [];
  let nextBeat = 0.3;
  let lastHr = 75;
  let lastRr = 15;

  const schedule = (until: number): void => {
    while (nextBeat < until) {
      // RSA: the interval shortens during inspiration; plus ~2 % random variability.
      const rsa = 1 - 0.03 * Math.sin(2 * Math.PI * respPhaseAt(nextBeat));
      const rr = Math.max(0.3, (60 / lastHr) * rsa * (1 + 0.02 * gauss()));
      beats.push({ at: nextBeat, rr, waves: morphology(rr) });
      nextBeat += rr;
    }
    while (beats.length > 4 && (beats[0] as { at: number }).at < t - 2) beats.shift();
  };
  const respPhaseAt = (s: number): number => respPhase + ((s - t) * lastRr) / 60;

  const ecgAt = (s: number): number => {
    let v = 0.04 * Math.sin(2 * Math.PI * respPhaseAt(s)); // respiratory baseline wander
    for (const b of beats) {
      const d = s - b.at;
      if (d < -0.3 || d > 0.7) continue;
      for (const w of b.waves) {
        const x = (d - w.at) / w.sigma;
        if (x > -5 && x < 5) v += w.mv * Math.exp(-0.5 * x * x);
      }
    }
    return v + 0.008 * gauss();
  };

  const plethOf = (s: number): number => plethAt(beats, s, respPhaseAt(s));

  const respAt = (s: number): number => {
    const p = respPhaseAt(s) % 1;
    // Inspiration takes 40 % of the cycle, expiration the rest.
    const g = p < 0.4 ? (p / 0.4) * 0.5 : 0.5 + ((p - 0.4) / 0.6) * 0.5;
    return (1 - Math.cos(2 * Math.PI * g)) / 2;
  };

  return {
    next(hr, rr, leadOff = false) {
      lastHr = Math.min(250, Math.max(20, hr));
      lastRr = Math.min(60, Math.max(4, rr));
      const dur = CHUNK_MS / 1000;
      schedule(t + dur + 0.8);
      const ecg = new Int32Array(nEcg);
      for (let i = 0; i < nEcg; i++) {
        ecg[i] = leadOff ? INVALID_SAMPLE : Math.round(ecgAt(t + i / WAVES.ecg.rateHz) / WAVES.ecg.resolution);
      }
      const pleth = new Int32Array(nPleth);
      for (let i = 0; i < nPleth; i++)
        pleth[i] = Math.round(200 + 600 * plethOf(t + i / WAVES.pleth.rateHz) + 2 * gauss());
      const resp = new Int32Array(nResp);
      for (let i = 0; i < nResp; i++)
        resp[i] = Math.round(1000 + 400 * respAt(t + i / WAVES.resp.rateHz) + 3 * gauss());
      respPhase = respPhaseAt(t + dur);
      t += dur;
      return { ecg, pleth, resp };
    },
  };
}
