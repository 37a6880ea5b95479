// A bed's numerics from the archive over the last 1, 8 or 24 hours (GET /api/trend, fanout/trend-api.ts), under the
// live trends of the bed page. Each bucket is drawn as its min-max range and its mean; a bucket with no value breaks
// the line, and the stretches with no value at all are listed by time, so a hole in the record is never read as a
// steady patient. Holes the gateway declared (Gap records) are shaded and listed with their reason. Values from a
// device in test or demo mode, or a simulator, are said to be so. Re-read every minute while the bed page is shown.
import type { TrendResponse } from '../fanout/trend-api.js';
import { el, setData, setHidden, setText } from './dom.js';
import { hhmm } from './format.js';
import { GAP_REASON_TEXT } from './model.js';
import { MDC } from './params.js';
import { MODE_FLAGS, MODE_TEXT, modesOf } from './quality.js';
import { loadSession } from './session.js';

const REFRESH_MS = 60_000;
/** Stretches of at least this many empty buckets are listed (one empty bucket is a slow device, not a hole). */
const MIN_LISTED_RUN = 2;

interface Line {
  mdcs: readonly number[];
  color: string;
  min: number;
  max: number;
  label: string;
}

const LINES: readonly Line[] = [
  { mdcs: [MDC.ECG_HR, MDC.PULSE_RATE], color: '#3ddc5a', min: 30, max: 180, label: 'HR 30–180' },
  { mdcs: [MDC.SPO2], color: '#33d6f0', min: 70, max: 100, label: 'SpO₂ 70–100' },
  { mdcs: [MDC.RR, MDC.RR_IMPEDANCE, MDC.RR_CO2, MDC.RR_PLETH], color: '#f2d43a', min: 0, max: 40, label: 'RR 0–40' },
];

type Point = TrendResponse['series'][number]['points'][number];

/** Per bucket: does any of these series hold a value there. */
export function filledBuckets(series: readonly { points: readonly Point[] }[], n: number): boolean[] {
  const out = new Array<boolean>(n).fill(false);
  for (const s of series)
    s.points.forEach((p, i) => {
      if (p !== null && i < n) out[i] = true;
    });
  return out;
}

/** Runs of at least `min` consecutive false entries, as [first, end) bucket indices. */
export function emptyRuns(filled: readonly boolean[], min = MIN_LISTED_RUN): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= filled.length; i++) {
    const empty = i < filled.length && !filled[i];
    if (empty && start < 0) start = i;
    if (!empty && start >= 0) {
      if (i - start >= min) out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

export class ArchiveTrendView {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly status: HTMLElement;
  private readonly mode: HTMLElement;
  private readonly holes: HTMLOListElement;
  private readonly buttons: HTMLButtonElement[];
  private key = '';
  private hours = 1;
  private data: TrendResponse | null = null;
  private loading = 0;

  constructor(private readonly token: () => string | null = () => loadSession()?.token ?? null) {
    this.root = el('div', 'trends archive-trend');
    // Layout set through the CSSOM (the page's CSP allows no inline style attributes): the full width of the bed's
    // foot, the span buttons beside the title.
    this.root.style.gridColumn = '1 / -1';
    const head = el('div', 'archive-head');
    head.style.display = 'flex';
    head.style.alignItems = 'center';
    head.style.gap = '6px';
    head.append(el('h3', '', 'From the archive'));
    this.buttons = [1, 8, 24].map((h) => {
      const b = el('button', 'span', `${h} h`);
      b.type = 'button';
      b.dataset['hours'] = String(h);
      b.addEventListener('click', () => this.show(h));
      return b;
    });
    head.append(...this.buttons);
    this.status = el('p', 'archive-status');
    this.status.setAttribute('role', 'status');
    this.mode = el('p', 'archive-mode');
    this.mode.hidden = true;
    this.canvas = el('canvas');
    this.canvas.setAttribute('role', 'img');
    this.holes = el('ol', 'archive-holes');
    this.root.append(head, this.mode, this.canvas, this.status, this.holes);
    setInterval(() => {
      if (this.key && this.root.offsetParent !== null) void this.load();
    }, REFRESH_MS);
  }

  /** A bed opened: its last hour (or the span chosen before), read now. */
  open(key: string): void {
    this.key = key;
    this.data = null;
    this.draw();
    void this.load();
  }

  private show(hours: number): void {
    this.hours = hours;
    void this.load();
  }

  private async load(): Promise<void> {
    const key = this.key;
    const hours = this.hours;
    const token = this.token();
    for (const b of this.buttons) b.setAttribute('aria-pressed', String(Number(b.dataset['hours']) === hours));
    setData(this.root, 'state', 'loading');
    const n = ++this.loading;
    let res: Response;
    try {
      res = await fetch(`/api/trend?bed=${encodeURIComponent(key)}&hours=${hours}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      res = new Response(null, { status: 599 });
    }
    if (n !== this.loading || key !== this.key) return; // a newer request owns the view
    if (res.status !== 200) {
      this.data = null;
      setText(
        this.status,
        res.status === 404 ? 'No archive for this bed.' : `The archive cannot be read now (HTTP ${res.status}).`,
      );
      setData(this.root, 'state', 'error');
      this.draw();
      return;
    }
    this.data = (await res.json()) as TrendResponse;
    setData(this.root, 'state', 'ready');
    this.draw();
  }

  /** Draws the current data (also on resize). */
  draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr));
    const h = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, w, h);
    const d = this.data;
    if (!d) {
      this.holes.replaceChildren();
      setHidden(this.mode, true);
      return;
    }
    const pad = 4 * dpr;
    const n = Math.round((d.toMs - d.fromMs) / d.bucketMs);
    const x = (t: number): number => pad + ((w - 2 * pad) * (t - d.fromMs)) / (d.toMs - d.fromMs);
    // Declared gaps first, shaded under everything.
    ctx.fillStyle = 'rgba(226, 110, 60, 0.18)';
    for (const g of d.gaps)
      ctx.fillRect(
        x(Math.max(g.fromMs, d.fromMs)),
        0,
        Math.max(1, x(Math.min(g.toMs, d.toMs)) - x(Math.max(g.fromMs, d.fromMs))),
        h,
      );
    ctx.font = `${Math.round(10 * dpr)}px system-ui, sans-serif`;
    let labelX = pad;
    let flags = 0;
    const plotted: TrendResponse['series'] = [];
    for (const line of LINES) {
      const s = line.mdcs.map((m) => d.series.find((x) => x.mdc === m)).find((x) => x !== undefined);
      if (!s) continue;
      plotted.push(s);
      const y = (v: number): number =>
        h - pad - ((h - 2 * pad) * (Math.min(line.max, Math.max(line.min, v)) - line.min)) / (line.max - line.min);
      ctx.strokeStyle = line.color;
      ctx.globalAlpha = 0.35;
      ctx.lineWidth = Math.max(1, (w - 2 * pad) / n - dpr);
      ctx.beginPath();
      for (const p of s.points) {
        if (!p) continue;
        const cx = x(p[0] + d.bucketMs / 2);
        ctx.moveTo(cx, y(p[1]));
        ctx.lineTo(cx, y(p[2]) - 1);
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.lineWidth = 1.5 * dpr;
      ctx.beginPath();
      let pen = false;
      for (const p of s.points) {
        // An empty bucket lifts the pen: the line never crosses a hole.
        if (!p) {
          pen = false;
          continue;
        }
        flags |= p[5];
        const cx = x(p[0] + d.bucketMs / 2);
        if (pen) ctx.lineTo(cx, y(p[3]));
        else ctx.moveTo(cx, y(p[3]));
        pen = true;
      }
      ctx.stroke();
      ctx.fillStyle = line.color;
      ctx.fillText(line.label, labelX, 12 * dpr);
      labelX += ctx.measureText(line.label).width + 12 * dpr;
    }
    ctx.fillStyle = '#7d8690';
    ctx.fillText(`−${this.hours} h`, pad, h - pad);
    ctx.fillText('now', w - pad - ctx.measureText('now').width, h - pad);
    const filled = filledBuckets(plotted, n);
    const runs = emptyRuns(filled);
    const items = [
      ...d.gaps.map((g) =>
        el(
          'li',
          'declared',
          `Gap declared by the gateway ${hhmm(g.fromMs)}–${hhmm(g.toMs)}${GAP_REASON_TEXT[g.reason] ? ` (${GAP_REASON_TEXT[g.reason]})` : ''}`,
        ),
      ),
      ...runs.map(([a, b]) =>
        el('li', 'empty', `No values ${hhmm(d.fromMs + a * d.bucketMs)}–${hhmm(d.fromMs + b * d.bucketMs)}`),
      ),
    ];
    this.holes.replaceChildren(...items);
    setData(this.root, 'hours', String(this.hours));
    setData(this.root, 'buckets', String(filled.filter(Boolean).length));
    setData(this.root, 'holes', String(runs.length));
    const bucketText = d.bucketMs >= 60_000 ? `${d.bucketMs / 60_000} min` : `${d.bucketMs / 1000} s`;
    setText(
      this.status,
      plotted.length === 0
        ? `No archived values in the last ${this.hours} h.`
        : `Last ${this.hours} h from the archive, ${bucketText} per point (range and mean); an empty stretch is a gap, never joined.`,
    );
    const modes = modesOf(flags & MODE_FLAGS);
    setText(this.mode, modes.map((m) => MODE_TEXT[m].banner).join(' · '));
    setHidden(this.mode, modes.length === 0);
    this.canvas.setAttribute(
      'aria-label',
      `Archived trend, last ${this.hours} hours: ${runs.length} stretch${runs.length === 1 ? '' : 'es'} without values`,
    );
  }
}
