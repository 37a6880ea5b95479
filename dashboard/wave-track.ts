// One waveform of one bed: a fixed ring of physical sample values indexed by the stream's sample index
// (WaveformChunk.first_sample), and a playback cursor that advances at the sample rate. Pure (no DOM), allocation
// only when the sample rate changes.
//
// Samples that never arrived are NaN (a gap: first_sample jumped, or a slow-client Gap); samples the device marked
// invalid (invalid_value, e.g. lead off) are +Infinity. The sweep draws both as marked bands, never as a line.
//
// Playback is a jitter buffer: data arrives in bursts (a chunk per 256 ms from the demo monitor, batches per second
// from a gateway), the cursor runs at the sample rate about LAG_S behind the newest sample and nudges its speed by
// a few per cent so that, just before each burst, it is still AHEAD_MIN_S..AHEAD_MAX_S short of the newest sample.
// If the cursor does reach the newest sample it waits; if data has stopped for RUN_ON_MS it runs on over empty
// paper (the gap shows), and jumps back behind the data when it resumes.

export const LAG_S = 1.2;
const AHEAD_MIN_S = 0.1;
const AHEAD_MAX_S = 0.45;
const ADAPT_EVERY_MS = 2000;
const RUN_ON_MS = 1500;
/** Seconds of samples kept (the bed view shows ~10 s across a wide screen). */
export const CAPACITY_S = 20;
/** A cursor more than this far behind the newest sample (hidden tab, stalled frame) jumps forward. */
const MAX_LAG_S = 2.5;
/** A cursor this far past the newest sample re-anchors when data comes back. */
const RUN_ON_S = 0.5;

export interface ChunkIn {
  /** Replayed history under newer data (Batch.backfill after live data): it may fill a hole, never move the track. */
  history?: boolean;
  firstSample: number;
  samples: ArrayLike<number>;
  rateHz: number;
  scale: number;
  offset: number;
  invalidValue: number | null;
  unit: string;
}

export class WaveTrack {
  rate = 0;
  unit = '';
  /** one past the newest sample index received */
  end = 0;
  /** oldest sample index still held */
  start = 0;
  /** playback position (sample index, fractional); NaN until the first data */
  cursor = Number.NaN;
  /** gaps seen (index jumps) */
  gaps = 0;
  private buf = new Float32Array(0);
  private cap = 0;
  private lastMs = 0;
  private seenEnd = 0;
  private endAtMs = 0;
  private speed = 1;
  private aheadMin = Number.POSITIVE_INFINITY;
  private adaptAt = 0;

  constructor(readonly mdc: number) {}

  reset(): void {
    this.end = 0;
    this.start = 0;
    this.cursor = Number.NaN;
  }

  push(c: ChunkIn): void {
    const n = c.samples.length;
    if (!(c.rateHz > 0) || n === 0) return;
    if (c.rateHz !== this.rate) {
      this.rate = c.rateHz;
      this.cap = Math.ceil(c.rateHz * CAPACITY_S);
      this.buf = new Float32Array(this.cap);
      this.reset();
    }
    this.unit = c.unit;
    const first = c.firstSample;
    if (this.end > this.start) {
      // Older than anything held: history replayed after an outage is past the sweep; dropped, never a restart.
      if (first + n <= this.start && c.history === true) return;
      // A stream that started over (device link re-opened: first_sample from 0 again) or jumped far: start afresh.
      if (first + n < this.end - this.cap || first > this.end + this.cap) this.reset();
      else if (first + n <= this.start) return; // older than anything held
    }
    if (this.end === this.start) {
      this.start = first;
      this.end = first;
    }
    if (first > this.end) {
      this.gaps++;
      for (let i = this.end; i < first; i++) this.buf[i % this.cap] = Number.NaN;
    }
    for (let i = 0; i < n; i++) {
      const idx = first + i;
      if (idx < this.start) continue;
      const raw = c.samples[i] as number;
      this.buf[idx % this.cap] =
        c.invalidValue !== null && raw === c.invalidValue ? Number.POSITIVE_INFINITY : raw * c.scale + c.offset;
    }
    const resumed = this.cursor > this.end + RUN_ON_S * this.rate;
    if (first + n > this.end) this.end = first + n;
    if (this.end - this.start > this.cap) this.start = this.end - this.cap;
    if (resumed) this.cursor = this.end - LAG_S * this.rate;
  }

  /**
   * Physical value at a sample index: NaN for a gap (missing inside what is held), +Infinity for a sample the device
   * marked invalid, -Infinity outside what is held (before the first sample received, or not yet received).
   */
  valueAt(idx: number): number {
    if (idx < this.start || idx >= this.end) return Number.NEGATIVE_INFINITY;
    return this.buf[idx % this.cap] as number;
  }

  /** Moves the cursor to wall time nowMs and returns it (NaN before any data). */
  advance(nowMs: number): number {
    if (this.end === this.start) return this.cursor;
    if (this.end !== this.seenEnd) {
      this.seenEnd = this.end;
      this.endAtMs = nowMs;
    }
    if (Number.isNaN(this.cursor)) {
      this.cursor = this.end - LAG_S * this.rate;
      this.lastMs = nowMs;
      this.adaptAt = nowMs;
      this.aheadMin = Number.POSITIVE_INFINITY;
      return this.cursor;
    }
    const dt = Math.min(1000, Math.max(0, nowMs - this.lastMs));
    this.lastMs = nowMs;
    let c = this.cursor + (dt * this.rate * this.speed) / 1000;
    const flowing = nowMs - this.endAtMs < RUN_ON_MS;
    if (c > this.end && flowing) c = Math.max(this.cursor, this.end); // wait for the next burst
    if (this.end - c > MAX_LAG_S * this.rate) c = this.end - LAG_S * this.rate;
    this.cursor = c;
    if (flowing) {
      const ahead = (this.end - c) / this.rate;
      if (ahead < this.aheadMin) this.aheadMin = ahead;
    }
    if (nowMs - this.adaptAt >= ADAPT_EVERY_MS) {
      this.speed =
        this.aheadMin < AHEAD_MIN_S
          ? 0.95
          : this.aheadMin > AHEAD_MAX_S && this.aheadMin !== Number.POSITIVE_INFINITY
            ? 1.05
            : 1;
      this.aheadMin = Number.POSITIVE_INFINITY;
      this.adaptAt = nowMs;
    }
    return this.cursor;
  }

  /** Min and max of the finite values in [from, to), for automatic gain; NaN/NaN when none. */
  range(from: number, to: number, out: { min: number; max: number }): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const a = Math.max(from, this.start);
    const b = Math.min(to, this.end);
    for (let i = a; i < b; i++) {
      const v = this.buf[i % this.cap] as number;
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    out.min = lo === Number.POSITIVE_INFINITY ? Number.NaN : lo;
    out.max = hi === Number.NEGATIVE_INFINITY ? Number.NaN : hi;
  }
}
