// Periodic emissions on the simulation clock: frame k is due at start + (k + 1) x period (a frame leaves once the
// interval it covers has been measured). A device that was not asked for a while catches up on every frame due,
// as a real device's buffer drains; the runner decides how often it asks.
export interface Schedule {
  /** Frame numbers due by nowUs, oldest first; each is returned once. */
  due(nowUs: number): number[];
  /** The end of frame k's interval (its send time), Unix microseconds. */
  endUs(k: number): number;
  /** Starts again at startUs (a power cycle, a new request). */
  restart(startUs: number): void;
  readonly next: number;
}

export function schedule(startUs: number, periodUs: number): Schedule {
  let start = startUs;
  let base = 0; // frame numbers continue across restarts
  let next = 0;
  return {
    get next() {
      return next;
    },
    due(nowUs) {
      const out: number[] = [];
      while (start + (next - base + 1) * periodUs <= nowUs) out.push(next++);
      return out;
    },
    endUs: (k) => start + (k - base + 1) * periodUs,
    restart(s) {
      start = s;
      base = next;
    },
  };
}

/** Rounds half away from zero to `digits` decimals, as a display does. */
export function quantise(v: number, step: number): number {
  const r = Math.round(v / step) * step;
  // Keep the decimal representation clean (0.1 + 0.2 style residues would differ from the decoder's raw / divisor).
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return Number(r.toFixed(decimals));
}
