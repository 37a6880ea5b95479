// The ward grid: one tile per bed the session may see, with lead II as a small sweep, HR, SpO2, NIBP, RR and
// temperature with their units, the alarm state as the tile colour, the DEMO mark and the data age. Tiles are
// built once; updates change text and classes only.
import type { BedInfo } from '../fanout/protocol.js';
import { el, setClass, setData, setHidden, setText } from './dom.js';
import { MDC, ageText, unitText, valueText } from './format.js';
import { PRIORITY_NAME, type BedState, type Reading } from './model.js';
import { Sweep } from './sweep.js';

/** A bed whose newest data is older than this is marked stale. */
export const BED_STALE_MS = 5000;
const MAX_TILES = 64;

interface Slot {
  root: HTMLElement;
  value: HTMLElement;
  unit: HTMLElement;
  label: HTMLElement;
}

interface Tile {
  key: string;
  root: HTMLAnchorElement;
  title: HTMLElement;
  sub: HTMLElement;
  demo: HTMLElement;
  alarm: HTMLElement;
  age: HTMLElement;
  sweep: Sweep;
  hr: Slot;
  spo2: Slot;
  nibp: Slot;
  rr: Slot;
  temp: Slot;
}

export interface WardHost {
  bed(key: string): BedState;
  onTilesChanged(): void;
}

function slot(cls: string, label: string, unit: string): Slot {
  const root = el('div', `v ${cls}`);
  const l = el('span', 'label', label);
  const value = el('span', 'value', '—');
  const u = el('span', 'unit', unit);
  root.append(l, value, u);
  return { root, value, unit: u, label: l };
}

function showReading(s: Slot, r: Reading | undefined, mdc: number, fallbackUnit: string): void {
  setText(s.value, r === undefined ? '—' : r.value !== null ? valueText(r.value, mdc) : r.text || '—');
  setText(s.unit, unitText(r?.unit || fallbackUnit));
  setClass(s.root, 'is-empty', r === undefined || r.value === null);
}

export class WardView {
  readonly root: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly tiles = new Map<string, Tile>();
  readonly sweeps: Sweep[] = [];

  constructor(private readonly host: WardHost) {
    this.root = el('section', 'ward');
    this.root.id = 'ward';
    this.grid = el('div', 'grid');
    this.grid.setAttribute('aria-label', 'Beds');
    this.empty = el('p', 'empty', 'No beds yet: waiting for data from the gateways you may see.');
    this.root.append(this.empty, this.grid);
  }

  get keys(): string[] {
    return [...this.tiles.keys()];
  }

  /** Adds (or relabels) the tile of a bed. Returns false when the grid is full. */
  addBed(b: BedInfo): boolean {
    const t = this.tiles.get(b.key);
    if (t) {
      this.describe(t, b);
      return true;
    }
    if (this.tiles.size >= MAX_TILES) return false;
    const root = el('a', 'tile');
    root.href = `#/bed/${b.key}`;
    root.dataset['bed'] = b.key;
    const head = el('header', 'tile-head');
    const title = el('span', 'title');
    const sub = el('span', 'sub');
    const demo = el('span', 'badge demo', 'DEMO');
    demo.title = 'Device in demo mode: simulated values, not a patient';
    demo.hidden = true;
    const alarm = el('span', 'alarm-chip');
    alarm.hidden = true;
    const age = el('span', 'age', '—');
    head.append(title, sub, demo, alarm, age);
    const wave = el('div', 'tile-wave');
    const canvas = el('canvas');
    const waveLabel = el('span', 'wave-label', 'II  5 mm/mV');
    wave.append(canvas, waveLabel);
    const vitals = el('div', 'tile-vitals');
    const tile: Tile = {
      key: b.key, root, title, sub, demo, alarm, age,
      sweep: null as unknown as Sweep,
      hr: slot('hr', 'HR', '/min'),
      spo2: slot('spo2', 'SpO₂', '%'),
      nibp: slot('nibp', 'NIBP', 'mmHg'),
      rr: slot('rr', 'RR', '/min'),
      temp: slot('temp', 'Temp', '°C'),
    };
    tile.hr.root.dataset['mdc'] = String(MDC.ECG_HR);
    tile.spo2.root.dataset['mdc'] = String(MDC.SPO2);
    tile.nibp.root.dataset['mdc'] = String(MDC.NIBP_SYS);
    tile.rr.root.dataset['mdc'] = String(MDC.RR);
    tile.temp.root.dataset['mdc'] = 'temp';
    vitals.append(tile.hr.root, tile.spo2.root, tile.nibp.root, tile.rr.root, tile.temp.root);
    root.append(head, wave, vitals);
    // Tiles in bed-label order (Bed 2 before Bed 10).
    const label = b.label || b.device;
    const after = [...this.tiles.values()].find((x) => collate(x.title.textContent || x.key, label) > 0);
    this.grid.insertBefore(root, after ? after.root : null);
    tile.sweep = new Sweep(canvas, { kind: 'mv', mmPerMv: 5 }, '#3ddc5a', 'rgba(125,134,144,0.35)');
    this.sweeps.push(tile.sweep);
    this.tiles.set(b.key, tile);
    this.describe(tile, b);
    setHidden(this.empty, true);
    this.host.onTilesChanged();
    return true;
  }

  private describe(t: Tile, b: BedInfo): void {
    setText(t.title, b.label || b.device);
    setText(t.sub, b.label ? b.device : b.gateway);
    t.root.title = `${b.site} / ${b.gateway} / ${b.device}${b.model ? ` · ${b.model}` : ''}`;
  }

  resize(): void {
    for (const s of this.sweeps) s.resize();
  }

  /** New data for a bed: its numbers, DEMO mark and alarm colour. */
  update(bed: BedState): void {
    const t = this.tiles.get(bed.key);
    if (!t) return;
    if (t.sweep.track === null) t.sweep.track = bed.tracks.get(MDC.ECG_II) ?? null;
    const hr = bed.heartRate();
    showReading(t.hr, hr.reading, MDC.ECG_HR, '/min');
    setText(t.hr.label, hr.fromPulse ? 'PR' : 'HR');
    showReading(t.spo2, bed.readings.get(MDC.SPO2), MDC.SPO2, '%');
    const sys = bed.readings.get(MDC.NIBP_SYS);
    const dia = bed.readings.get(MDC.NIBP_DIA);
    setText(t.nibp.value, sys?.value != null && dia?.value != null ? `${Math.round(sys.value)}/${Math.round(dia.value)}` : '—');
    setText(t.nibp.unit, unitText(sys?.unit || 'mm[Hg]'));
    setClass(t.nibp.root, 'is-empty', sys?.value == null);
    const rr = bed.respRate();
    showReading(t.rr, rr, MDC.RR, '/min');
    const temp = bed.temperature();
    showReading(t.temp, temp, 150364, 'Cel');
    setHidden(t.demo, !bed.demo);
    setClass(t.root, 'is-demo', bed.demo);
    const p = bed.topPriority();
    setData(t.root, 'alarm', PRIORITY_NAME[p] ?? 'none');
    let top = '';
    for (const a of bed.alarms.values()) if (a.active && a.priority === p) top = a.text;
    setText(t.alarm, top);
    setHidden(t.alarm, top === '');
  }

  /** Ages and staleness (every 500 ms, not per frame). */
  tick(nowMs: number, bed: (key: string) => BedState | undefined): void {
    for (const t of this.tiles.values()) {
      const b = bed(t.key);
      const age = b ? nowMs - b.lastDataMs : Number.POSITIVE_INFINITY;
      setText(t.age, ageText(age));
      setClass(t.root, 'is-stale', !(age <= BED_STALE_MS));
    }
  }

  frame(nowMs: number): void {
    for (const s of this.sweeps) s.frame(nowMs);
  }
}

function collate(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
}
