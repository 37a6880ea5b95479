// Numerics trends of one bed (HR, SpO2, RR over the last hour): a fixed ring of (time, value) per metric, filled
// from the numerics history the fan-out sends on subscribe and from live data; drawn on a canvas every few seconds,
// not per frame. A NaN point breaks the line (a gap in the numerics stream).

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

  /** Appends a point; points older than the newest one are ignored (history arrives before live data). */
  push(atMs: number, value: number): void {
    if (this.n > 0 && atMs < (this.t[(this.head + this.n - 1) % this.capacity] as number)) return;
    const i = (this.head + this.n) % this.capacity;
    this.t[i] = atMs;
    this.v[i] = value;
    if (this.n < this.capacity) this.n++;
    else this.head = (this.head + 1) % this.capacity;
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
}

/** Draws the lines over [now - spanMs, now]; each line on its own fixed scale (min..max), labelled. */
export function drawTrends(canvas: HTMLCanvasElement, lines: readonly TrendLine[], nowMs: number, spanMs: number): void {
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
    for (let k = 0; k < s.size; k++) {
      const t = s.timeAt(k);
      if (t < nowMs - spanMs) continue;
      const v = s.valueAt(k);
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      const x = pad + ((w - 2 * pad) * (t - (nowMs - spanMs))) / spanMs;
      const y = h - pad - ((h - 2 * pad) * (Math.min(line.max, Math.max(line.min, v)) - line.min)) / (line.max - line.min);
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
