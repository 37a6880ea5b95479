// A waveform drawn as a monitor sweep: the trace is written left to right at 25 mm/s and wraps, erasing a band
// ahead of the pen. Each frame draws only the samples the cursor passed since the previous frame, with one path
// and no allocation. Amplitude is calibrated for ECG (mm/mV, in CSS millimetres: 96 px = 25.4 mm) and automatic
// for unitless waves (pleth, respiration), whose gain is re-fitted every 2 s.
import { PX_PER_MM, SWEEP_MM_PER_S } from './format.js';
import type { WaveTrack } from './wave-track.js';

export type Gain = { kind: 'mv'; mmPerMv: number } | { kind: 'auto' };

const ERASE_PX = 10; // CSS px of blank paper ahead of the pen
const AUTO_GAIN_EVERY_MS = 2000;

export interface SweepDiag {
  /** x of the pen in CSS px; moves as the sweep advances */
  pen: number;
  /** samples drawn so far */
  drawn: number;
  frames: number;
}

export class Sweep {
  track: WaveTrack | null = null;
  readonly diag: SweepDiag = { pen: -1, drawn: 0, frames: 0 };
  private readonly ctx: CanvasRenderingContext2D;
  private w = 0;
  private h = 0;
  private dpr = 1;
  private pxPerSample = 0;
  private last = Number.NaN; // last sample index drawn
  private lastRate = 0;
  // y = mid - (v - center) * yPerUnit
  private mid = 0;
  private center = 0;
  private yPerUnit = 1;
  private autoAt = -Infinity;
  private gainReady = false;
  private font = '10px system-ui, sans-serif';
  private readonly span = { min: 0, max: 0 };

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly gain: Gain,
    private readonly color: string,
    private readonly gapColor: string,
  ) {
    const ctx = canvas.getContext('2d', { alpha: true, desynchronized: true });
    if (!ctx) throw new Error('canvas 2d context unavailable');
    this.ctx = ctx;
    this.resize();
  }

  /** Re-reads the canvas' CSS size (call on resize); the trace is redrawn from the history held. */
  resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const ch = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (cw !== this.canvas.width || ch !== this.canvas.height) {
      this.canvas.width = cw;
      this.canvas.height = ch;
    }
    this.w = cw;
    this.h = ch;
    this.dpr = dpr;
    this.font = `${Math.round(10 * dpr)}px system-ui, sans-serif`;
    this.lastRate = 0; // recompute scales at the next frame
    this.last = Number.NaN;
    this.gainReady = false;
    this.ctx.clearRect(0, 0, cw, ch);
  }

  /** Starts over (a new bed or a new subscription). */
  clear(): void {
    this.last = Number.NaN;
    this.lastRate = 0;
    this.autoAt = -Infinity;
    this.gainReady = false;
    this.ctx.clearRect(0, 0, this.w, this.h);
    this.diag.pen = -1;
  }

  private scales(t: WaveTrack): void {
    this.lastRate = t.rate;
    this.pxPerSample = (SWEEP_MM_PER_S * PX_PER_MM * this.dpr) / t.rate;
    if (this.gain.kind === 'mv') {
      this.mid = this.h * 0.58;
      this.center = 0;
      this.yPerUnit = this.gain.mmPerMv * PX_PER_MM * this.dpr;
    }
  }

  /**
   * Fits unitless waves to 80 % of the height over what the screen shows. True when the scale moved by more than a
   * quarter (the screen is then redrawn at the new scale, so old and new parts of the trace agree).
   */
  private autoGain(t: WaveTrack, cursor: number, nowMs: number, widthSamples: number): boolean {
    if (this.gainReady && nowMs - this.autoAt < AUTO_GAIN_EVERY_MS) return false;
    this.autoAt = nowMs;
    t.range(Math.floor(cursor) - widthSamples, Math.floor(cursor) + 1, this.span);
    if (Number.isNaN(this.span.min)) return false;
    const range = Math.max(this.span.max - this.span.min, 1e-6);
    const yPerUnit = (this.h * 0.8) / range;
    const center = (this.span.max + this.span.min) / 2;
    const moved =
      !this.gainReady ||
      Math.abs(yPerUnit / this.yPerUnit - 1) > 0.25 ||
      Math.abs(center - this.center) * this.yPerUnit > this.h * 0.15;
    if (!moved) return false;
    this.mid = this.h / 2;
    this.center = center;
    this.yPerUnit = yPerUnit;
    this.gainReady = true;
    return true;
  }

  frame(nowMs: number): void {
    const t = this.track;
    if (t === null || t.rate === 0) return;
    const cursor = t.advance(nowMs);
    if (Number.isNaN(cursor)) return;
    if (t.rate !== this.lastRate) {
      this.scales(t);
      this.last = Number.NaN;
    }
    const target = Math.floor(cursor);
    const widthSamples = Math.floor(this.w / this.pxPerSample) - 2;
    if (this.gain.kind === 'auto') {
      if (this.autoGain(t, cursor, nowMs, widthSamples)) this.last = Number.NaN;
      if (!this.gainReady) return;
    }
    let from = this.last;
    if (Number.isNaN(from) || target - from > widthSamples || target < from) {
      // First frame, a long stall, a jump or a new scale: redraw a screenful from history.
      from = target - widthSamples;
      this.ctx.clearRect(0, 0, this.w, this.h);
    }
    if (target <= from) return;
    this.draw(t, from, target);
    this.last = target;
    this.diag.frames++;
  }

  private xOf(i: number): number {
    const x = (i * this.pxPerSample) % this.w;
    return x < 0 ? x + this.w : x;
  }

  private draw(t: WaveTrack, from: number, to: number): void {
    const ctx = this.ctx;
    const w = this.w;
    const x0 = this.xOf(from);
    const x1 = this.xOf(to);
    const erase = ERASE_PX * this.dpr;
    // Blank the paper from the previous pen position to just ahead of the new one.
    if (x1 >= x0) ctx.clearRect(x0 + 0.5, 0, x1 - x0 + erase, this.h);
    else {
      ctx.clearRect(x0 + 0.5, 0, w - x0, this.h);
      ctx.clearRect(0, 0, x1 + erase, this.h);
    }
    if (x1 + erase > w) ctx.clearRect(0, 0, x1 + erase - w, this.h);

    const colW = Math.max(1, Math.ceil(this.pxPerSample));
    ctx.beginPath();
    ctx.strokeStyle = this.color;
    ctx.lineWidth = 1.5 * this.dpr;
    ctx.lineJoin = 'round';
    ctx.fillStyle = this.gapColor;
    let pen = false;
    let prevX = -1;
    let wasGap = false;
    const top = 1;
    const bottom = this.h - 1;
    for (let i = from; i <= to; i++) {
      const v = t.valueAt(i);
      const x = this.xOf(i);
      if (v === Number.NEGATIVE_INFINITY) {
        // Nothing held here (before the first sample, or after the last): blank paper.
        pen = false;
        wasGap = false;
        continue;
      }
      if (!Number.isFinite(v)) {
        // Missing (NaN) or invalid (Infinity): a band, labelled where it starts.
        if (i > from) {
          ctx.fillRect(x, top, colW, bottom - top);
          if (!wasGap) this.label(x, Number.isNaN(v) ? 'GAP' : 'NO SIGNAL');
        }
        wasGap = true;
        pen = false;
        continue;
      }
      wasGap = false;
      let y = this.mid - (v - this.center) * this.yPerUnit;
      if (y < top) y = top;
      else if (y > bottom) y = bottom;
      if (!pen || x < prevX) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
      pen = true;
      prevX = x;
    }
    ctx.stroke();
    this.diag.pen = x1 / this.dpr;
    this.diag.drawn += to - from;
  }

  private label(x: number, text: string): void {
    const ctx = this.ctx;
    ctx.save();
    ctx.fillStyle = '#c9ced6';
    ctx.font = this.font;
    ctx.fillText(text, x + 3 * this.dpr, 12 * this.dpr);
    ctx.restore();
  }
}
