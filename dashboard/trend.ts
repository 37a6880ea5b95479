// Numerics trends of one bed (HR, SpO2, RR over the last hour): a fixed ring of (time, value) per metric in time
// order, filled from the numerics history the fan-out sends on subscribe, from live data, and from history the
// gateway replays after an outage (it lands where it belongs in time); drawn on a canvas every few seconds, not per
// frame. A NaN point breaks the line (no value, a declared gap), and so does a stretch with no point longer than the
// line's maxGapMs: a hole is never bridged.

export class TrendSeries {
  private readonly t: Float64Array;
  private readonly v: Float32Array;
  private head = 0;
  private n = 0;
  constructor(readonly capacity = 4096) {
    this.t = new Float64Array(capacity);
    this.v = new Float32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /**
   * Adds a point in time order: at the end for live data, in its place for history (a repeat of a point, same time
   * and value, is not added twice). When full, the oldest point goes; a point older than all of a full series is
   * dropped.
   */
  push(atMs: number, value: number): void {
    const newest = this.n > 0 ? this.timeAt(this.n - 1) : Number.NEGATIVE_INFINITY;
    if (atMs >= newest) {
      if (atMs === newest && this.same(this.n - 1, value)) return;
      const i = (this.head + this.n) % this.capacity;
      this.t[i] = atMs;
      this.v[i] = value;
      if (this.n < this.capacity) this.n++;
      else this.head = (this.head + 1) % this.capacity;
      return;
    }
    // History: the first point later than atMs, by binary search.
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeAt(mid) <= atMs) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && this.timeAt(lo - 1) === atMs && this.same(lo - 1, value)) return;
    if (this.n === this.capacity) {
      if (lo === 0) return; // older than everything a full series holds
      // Make room by dropping the oldest point; everything before the insertion point moves down one.
      this.head = (this.head + 1) % this.capacity;
      this.n--;
      lo--;
    }
    for (let k = this.n; k > lo; k--) {
      const to = (this.head + k) % this.capacity;
      const from = (this.head + k - 1) % this.capacity;
      this.t[to] = this.t[from] as number;
      this.v[to] = this.v[from] as number;
    }
    const at = (this.head + lo) % this.capacity;
    this.t[at] = atMs;
    this.v[at] = value;
    this.n++;
  }

  private same(k: number, value: number): boolean {
    const v = this.valueAt(k);
    return v === value || (Number.isNaN(v) && Number.isNaN(value)) || Math.fround(value) === v;
  }

  clear(): void {
    this.n = 0;
    this.head = 0;
  }

  timeAt(k: number): number {
    return this.t[(this.head + k) % this.capacity] as number;
  }

  valueAt(k: number): number {
    return this.v[(this.head + k) % this.capacity] as number;
  }
}

export interface TrendLine {
  series: TrendSeries;
  color: string;
  min: number;
  max: number;
  label: string;
  /** Two points further apart than this are not joined (the parameter's staleness limit). */
  maxGapMs?: number;
}

/** Draws the lines over [now - spanMs, now]; each line on its own fixed scale (min..max), labelled. */
export function drawTrends(
  canvas: HTMLCanvasElement,
  lines: readonly TrendLine[],
  nowMs: number,
  spanMs: number,
): void {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, w, h);
  const pad = 4 * dpr;
  // Grid: one line per 10 minutes.
  ctx.strokeStyle = '#23282f';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let m = 0; m <= spanMs; m += 600_000) {
    const x = pad + ((w - 2 * pad) * m) / spanMs;
    ctx.moveTo(x, 0);
    ctx.lineTo(x, h);
  }
  ctx.stroke();
  ctx.font = `${Math.round(10 * dpr)}px system-ui, sans-serif`;
  let labelX = pad;
  for (const line of lines) {
    const s = line.series;
    ctx.strokeStyle = line.color;
    ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath();
    let pen = false;
    let prevT = Number.NEGATIVE_INFINITY;
    const maxGap = line.maxGapMs ?? Number.POSITIVE_INFINITY;
    for (let k = 0; k < s.size; k++) {
      const t = s.timeAt(k);
      if (t < nowMs - spanMs) continue;
      const v = s.valueAt(k);
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      if (t - prevT > maxGap) pen = false;
      prevT = t;
      const x = pad + ((w - 2 * pad) * (t - (nowMs - spanMs))) / spanMs;
      const y =
        h - pad - ((h - 2 * pad) * (Math.min(line.max, Math.max(line.min, v)) - line.min)) / (line.max - line.min);
      if (pen) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      pen = true;
    }
    ctx.stroke();
    ctx.fillStyle = line.color;
    ctx.fillText(line.label, labelX, 12 * dpr);
    labelX += ctx.measureText(line.label).width + 12 * dpr;
  }
  ctx.fillStyle = '#7d8690';
  ctx.fillText('−60 min', pad, h - pad);
  ctx.fillText('now', w - pad - ctx.measureText('now').width, h - pad);
}
