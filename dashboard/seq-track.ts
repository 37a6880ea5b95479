// Sequence bookkeeping of one stream of one bed (vitals.proto Batch.seq: +1 per Batch, continuous across gateway
// restarts). Pure. Duplicates are told by seq only, so history older than what is shown (the gateway replays a long
// backlog after live data, docs/gateway.md) is taken in, and fills the hole it belongs to, rather than dropped.
//
// A hole is a run of seqs below the highest seen that has not arrived: counted as a gap while it is open, no longer
// once history has filled it. Holes are bounded (the oldest beyond MAX_HOLES is given up and counted as lost).

export type SeqVerdict =
  /** the newest of its stream */
  | 'new'
  /** older than the newest, not seen before: history to take in (it may fill a hole) */
  | 'history'
  | 'duplicate'
  /** a live seq 1 (or far below) after more: the gateway's numbering began again; the tracker starts over */
  | 'restart';

const MAX_HOLES = 64;
/** A live (not backfilled) seq this far below the newest is a restart, as on the fan-out (fanout/ring.ts). */
const RESTART_DISTANCE = 4096;

export class SeqTrack {
  /** highest seq seen; 0 = none */
  high = 0;
  /** lowest seq seen */
  low = 0;
  /** holes given up (beyond MAX_HOLES): they stay counted */
  lost = 0;
  /** Seqs up to this one came as a thinned history (every n-th, or the newest per metric set): holes there are expected. */
  thinnedUntil = 0;
  private holes: [number, number][] = [];

  reset(): void {
    this.high = 0;
    this.low = 0;
    this.lost = 0;
    this.thinnedUntil = 0;
    this.holes = [];
  }

  /** Holes open now, outside thinned history. */
  get openHoles(): number {
    let n = 0;
    for (const [, to] of this.holes) if (to > this.thinnedUntil) n++;
    return n;
  }

  accept(seq: number, backfill: boolean): SeqVerdict {
    if (seq <= 0) return 'new';
    if (this.high === 0) {
      this.high = seq;
      this.low = seq;
      return 'new';
    }
    if (seq > this.high) {
      if (seq > this.high + 1) this.addHole(this.high + 1, seq - 1);
      this.high = seq;
      return 'new';
    }
    if (seq === this.high) return 'duplicate';
    if (!backfill && (seq === 1 || this.high - seq >= RESTART_DISTANCE)) {
      this.reset();
      this.high = seq;
      this.low = seq;
      return 'restart';
    }
    if (seq < this.low) {
      // Older than anything seen: what lies between it and the old start is still to come (or lost).
      if (seq + 1 < this.low) this.addHole(seq + 1, this.low - 1);
      this.low = seq;
      return 'history';
    }
    return this.fill(seq) ? 'history' : 'duplicate';
  }

  /** A range the sender declared missing (a Gap): accounted for, never a hole. */
  declare(from: number, to: number): void {
    if (!(to >= from && from > 0)) return;
    // The declared range leaves every hole it overlaps.
    const out: [number, number][] = [];
    for (const [a, b] of this.holes) {
      if (b < from || a > to) out.push([a, b]);
      else {
        if (a < from) out.push([a, from - 1]);
        if (b > to) out.push([to + 1, b]);
      }
    }
    this.holes = out;
    if (to > this.high) {
      if (this.high > 0 && from > this.high + 1) this.addHole(this.high + 1, from - 1);
      this.high = to;
      if (this.low === 0) this.low = from;
    }
  }

  private addHole(from: number, to: number): void {
    this.holes.push([from, to]);
    this.holes.sort((a, b) => a[0] - b[0]);
    while (this.holes.length > MAX_HOLES) {
      this.holes.shift();
      this.lost++;
    }
  }

  /** Takes seq out of the hole holding it; false when no hole holds it (seen already). */
  private fill(seq: number): boolean {
    for (let i = 0; i < this.holes.length; i++) {
      const h = this.holes[i] as [number, number];
      if (seq < h[0] || seq > h[1]) continue;
      if (h[0] === h[1]) this.holes.splice(i, 1);
      else if (seq === h[0]) h[0]++;
      else if (seq === h[1]) h[1]--;
      else this.holes.splice(i, 1, [h[0], seq - 1], [seq + 1, h[1]]);
      if (this.holes.length > MAX_HOLES) {
        this.holes.shift();
        this.lost++;
      }
      return true;
    }
    return false;
  }
}
