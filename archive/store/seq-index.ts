// Which Batch keys the embedded store holds: per stream (site/gateway/device/kind) a sorted list of seq intervals.
// Sequences run +1 per Batch, so a day of one stream is one interval: the whole index of a site fits in a few KB and
// is rebuilt at start from the stored batch keys (gaps and islands), never scanned per write.

export class SeqIntervals {
  // Flat [from0, to0, from1, to1, ...], sorted, non-overlapping, non-adjacent.
  private r: number[] = [];

  has(seq: number): boolean {
    const i = this.find(seq);
    return i >= 0 && seq <= (this.r[i + 1] as number);
  }

  /** Index (even) of the last interval starting at or before seq, or -2. */
  private find(seq: number): number {
    let lo = 0;
    let hi = this.r.length / 2 - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.r[mid * 2] as number) <= seq) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at * 2;
  }

  add(from: number, to = from): void {
    const r = this.r;
    // Common case: the next seq of the newest interval.
    const n = r.length;
    if (n > 0 && from === (r[n - 1] as number) + 1 && to >= from) {
      r[n - 1] = Math.max(to, r[n - 1] as number);
      return;
    }
    // First interval that ends at or after from - 1 (may merge), by binary search: out-of-order arrivals (backfill
    // beside live data) stay O(log n) plus one splice, never a rebuild.
    let lo = 0;
    let hi = n / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((r[mid * 2 + 1] as number) < from - 1) lo = mid + 1;
      else hi = mid;
    }
    let f = from;
    let t = to;
    let k = lo;
    // Absorb every interval that overlaps or touches [f, t].
    while (k < n / 2 && (r[k * 2] as number) <= t + 1) {
      f = Math.min(f, r[k * 2] as number);
      t = Math.max(t, r[k * 2 + 1] as number);
      k++;
    }
    r.splice(lo * 2, (k - lo) * 2, f, t);
  }

  get intervals(): number {
    return this.r.length / 2;
  }
}

export class SeqIndex {
  private readonly streams = new Map<string, SeqIntervals>();
  /** seq 0 Batches (last wills) by stream and content hash. */
  private readonly zero = new Set<string>();

  static key(site: string, gateway: string, device: string, kind: string): string {
    return `${site}/${gateway}/${device}/${kind}`;
  }

  has(stream: string, seq: number, dedup: string): boolean {
    if (seq === 0) return this.zero.has(`${stream}#${dedup}`);
    return this.streams.get(stream)?.has(seq) ?? false;
  }

  add(stream: string, seq: number, dedup: string, to = seq): void {
    if (seq === 0) {
      this.zero.add(`${stream}#${dedup}`);
      return;
    }
    let s = this.streams.get(stream);
    if (!s) this.streams.set(stream, (s = new SeqIntervals()));
    s.add(seq, to);
  }

  clear(): void {
    this.streams.clear();
    this.zero.clear();
  }
}
