// Compares what a decoder (or a subscriber) got with the ground truth, frame by frame: every value with its code,
// unit and number, every waveform chunk with its samples and its index. Used by the protocol round-trip tests and
// the end-to-end ward test; returns the differences rather than throwing, so a test can print them all.
import type { IObservation, IWaveformChunk } from '../../proto/index.js';
import type { Truth, TruthObs, TruthWave } from '../ground-truth.js';

export interface Received {
  observations: readonly IObservation[];
  waves: readonly IWaveformChunk[];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The decoded value of an observation: `number` (protobuf may leave it unset for "no value"). */
export function valueOf(o: IObservation): number | null {
  return o.number === undefined || o.number === null ? null : Number(o.number);
}

/** Matches one truth value against the observations of its frame; '' when it matches. */
export function matchObs(t: TruthObs, obs: readonly IObservation[]): string {
  const cands = obs.filter((o) => o.refid === t.code || o.vendorCode === t.code);
  if (cands.length === 0) return `${t.dev} frame ${t.frame}: ${t.code} missing`;
  const hit = cands.find(
    (o) =>
      valueOf(o) === t.value || (t.value !== null && valueOf(o) !== null && Math.abs(valueOf(o)! - t.value) < 1e-9),
  );
  if (!hit)
    return `${t.dev} frame ${t.frame}: ${t.code} = ${cands.map((o) => valueOf(o)).join('/')} expected ${t.value}`;
  if ((hit.unit ?? '') !== t.unit) return `${t.dev} frame ${t.frame}: ${t.code} unit ${hit.unit} expected ${t.unit}`;
  return '';
}

/** Matches a truth chunk; `base` maps the device's sample index to the receiver's (the receiver counts from its
 *  first chunk). '' when samples, rate, scale and index all match. */
export function matchWave(t: TruthWave, waves: readonly IWaveformChunk[], base = 0): string {
  const w = waves.find((x) => x.refid === t.code);
  if (!w) return `${t.dev} frame ${t.frame}: wave ${t.code} missing`;
  const s = Array.from(w.samples ?? [], Number);
  if (s.length !== t.samples.length || s.some((v, i) => v !== t.samples[i]))
    return `${t.dev} frame ${t.frame}: ${t.code} samples differ`;
  if (num(w.firstSample) !== t.first - base)
    return `${t.dev} frame ${t.frame}: ${t.code} first sample ${num(w.firstSample)} expected ${t.first - base}`;
  if (w.sampleRateHz !== t.rateHz)
    return `${t.dev} frame ${t.frame}: ${t.code} rate ${w.sampleRateHz} expected ${t.rateHz}`;
  if (Math.abs((w.scale ?? 1) - t.scale) > 1e-12)
    return `${t.dev} frame ${t.frame}: ${t.code} scale ${w.scale} expected ${t.scale}`;
  return '';
}

/** Truth records grouped by frame. */
export function byFrame(truth: readonly Truth[]): Map<number, Truth[]> {
  const m = new Map<number, Truth[]>();
  for (const t of truth) {
    if (t.t === 'fault') continue;
    const l = m.get(t.frame) ?? [];
    l.push(t);
    m.set(t.frame, l);
  }
  return m;
}
