// The ward grid: one tile per bed the session may see, with lead II as a small sweep (its label above the paper,
// never under the trace), HR, SpO2, NIBP, RR and the temperature sites with the units their values carry, quality
// marks, per-parameter staleness, the device link, the alarm state as the tile colour, a TEST / DEMO / SIMULATED
// badge, and the data age. Every bed in scope is reachable: the ward is paged (a page is what one connection may
// subscribe), with a pager that says how many beds there are; no bed is ever silently cut (issue 14 finding 4).
// Tiles are built when their page is shown; updates change text and classes only.
import type { BedInfo } from '../fanout/protocol.js';
import { el, setClass, setData, setHidden, setText } from './dom.js';
import { ageText } from './format.js';
import { PRIORITY_NAME, type BedState } from './model.js';
import { MDC, PARAMS } from './params.js';
import { showEmpty, showHr, showLink, showNibp, showRr, showSpo2, showTemperatures } from './present.js';
import { MODE_TEXT, modesOf } from './quality.js';
import { renderSlot, slotView, type SlotView } from './slot-view.js';
import { Sweep } from './sweep.js';

/** A bed whose newest data is older than this is marked stale. */
export const BED_STALE_MS = 5000;
/** Tiles per page, at most: the fan-out's beds per connection (hello.maxBeds) may lower it. */
export const WARD_PAGE_SIZE = 64;
/** Temperature sites a tile has room for; the rest are named in the last one's hover text. */
const TILE_TEMPS = 2;

interface Tile {
  key: string;
  root: HTMLAnchorElement;
  title: HTMLElement;
  sub: HTMLElement;
  mode: HTMLElement;
  link: HTMLElement;
  alarm: HTMLElement;
  age: HTMLElement;
  sweep: Sweep;
  hr: SlotView;
  spo2: SlotView;
  nibp: SlotView;
  rr: SlotView;
  temps: SlotView[];
}

export interface WardHost {
  bed(key: string): BedState;
  onTilesChanged(): void;
  now(): number;
}

export class WardView {
  readonly root: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly pager: HTMLElement;
  private readonly pagerText: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly tiles = new Map<string, Tile>();
  /** Every bed the session may see, shown or not. */
  private readonly infos = new Map<string, BedInfo>();
  private page = 0;
  private pageSize = WARD_PAGE_SIZE;
  sweeps: Sweep[] = [];

  constructor(private readonly host: WardHost) {
    this.root = el('section', 'ward');
    this.root.id = 'ward';
    this.grid = el('div', 'grid');
    this.grid.setAttribute('aria-label', 'Beds');
    this.empty = el('p', 'empty', 'No beds yet: waiting for data from the gateways you may see.');
    this.pager = el('nav', 'pager');
    this.pager.setAttribute('aria-label', 'Ward pages');
    this.prev = el('button', 'prev', '‹ Previous');
    this.prev.type = 'button';
    this.next = el('button', 'next', 'Next ›');
    this.next.type = 'button';
    this.pagerText = el('span', 'pages');
    this.pagerText.setAttribute('role', 'status');
    this.pager.append(this.prev, this.pagerText, this.next);
    this.pager.hidden = true;
    this.prev.addEventListener('click', () => this.showPage(this.page - 1));
    this.next.addEventListener('click', () => this.showPage(this.page + 1));
    this.root.append(this.empty, this.pager, this.grid);
  }

  /** The beds on the page shown (what the ward subscribes). */
  get keys(): string[] {
    return [...this.tiles.keys()];
  }

  /** How many beds the session may see, on every page. */
  get bedCount(): number {
    return this.infos.size;
  }

  get pageCount(): number {
    return Math.max(1, Math.ceil(this.infos.size / this.pageSize));
  }

  /** The fan-out's limit of beds per connection: a page never holds more. */
  setPageSize(n: number): void {
    const size = Math.max(1, Math.min(WARD_PAGE_SIZE, Math.floor(n)));
    if (size === this.pageSize) return;
    this.pageSize = size;
    this.render();
  }

  /** The whole list of beds in scope (the fan-out's `beds`): beds not in it leave the ward. */
  setBeds(list: readonly BedInfo[]): void {
    this.infos.clear();
    for (const b of list) this.infos.set(b.key, b);
    this.render();
  }

  /** A new or relabelled bed. */
  addBed(b: BedInfo): void {
    const known = this.infos.get(b.key);
    this.infos.set(b.key, b);
    const t = this.tiles.get(b.key);
    // A relabel of a tile shown changes its text; the order may change too.
    if (known !== undefined && t !== undefined && (known.label || known.device) === (b.label || b.device)) {
      this.describe(t, b);
      return;
    }
    this.render();
  }

  showPage(n: number): void {
    const page = Math.max(0, Math.min(this.pageCount - 1, n));
    if (page === this.page) return;
    this.page = page;
    this.render();
  }

  /** Builds the tiles of the page shown, in bed-label order (Bed 2 before Bed 10), and the pager. */
  private render(): void {
    const sorted = [...this.infos.values()].sort(
      (a, b) => collate(a.label || a.device, b.label || b.device) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    this.page = Math.max(0, Math.min(this.pageCount - 1, this.page));
    const from = this.page * this.pageSize;
    const shown = sorted.slice(from, from + this.pageSize);
    const want = new Set(shown.map((b) => b.key));
    let changed = false;
    for (const [key, t] of this.tiles) {
      if (want.has(key)) continue;
      t.root.remove();
      this.tiles.delete(key);
      changed = true;
    }
    for (const b of shown) {
      let t = this.tiles.get(b.key);
      if (t === undefined) {
        t = this.buildTile(b);
        this.tiles.set(b.key, t);
        changed = true;
      }
      this.describe(t, b);
      this.grid.append(t.root); // moves it to its place in the order
    }
    this.sweeps = [...this.tiles.values()].map((t) => t.sweep);
    setHidden(this.empty, sorted.length > 0);
    // The pager is there whenever one page cannot hold every bed: how many there are is always said.
    setHidden(this.pager, this.pageCount <= 1);
    setText(
      this.pagerText,
      sorted.length === 0
        ? ''
        : `Beds ${from + 1}–${from + shown.length} of ${sorted.length} · page ${this.page + 1} of ${this.pageCount}`,
    );
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= this.pageCount - 1;
    if (changed) {
      requestAnimationFrame(() => this.resize());
      this.host.onTilesChanged();
    }
  }

  private buildTile(b: BedInfo): Tile {
    const root = el('a', 'tile');
    root.href = `#/bed/${b.key}`;
    root.dataset['bed'] = b.key;
    const head = el('header', 'tile-head');
    const title = el('span', 'title');
    const sub = el('span', 'sub');
    const mode = el('span', 'badge mode');
    mode.hidden = true;
    const link = el('span', 'link');
    link.hidden = true;
    const alarm = el('span', 'alarm-chip');
    alarm.hidden = true;
    const age = el('span', 'age', '—');
    head.append(title, sub, mode, link, alarm, age);
    const wave = el('div', 'tile-wave');
    const waveLabel = el('span', 'wave-label', 'II  5 mm/mV');
    const paper = el('div', 'paper');
    const canvas = el('canvas');
    paper.append(canvas);
    wave.append(waveLabel, paper);
    const vitals = el('div', 'tile-vitals');
    const tile: Tile = {
      key: b.key,
      root,
      title,
      sub,
      mode,
      link,
      alarm,
      age,
      sweep: new Sweep(canvas, { kind: 'mv', mmPerMv: 5 }, '#3ddc5a', 'rgba(125,134,144,0.35)'),
      hr: slotView('v hr', 'HR', '/min', String(MDC.ECG_HR)),
      spo2: slotView('v spo2', 'SpO₂', '%', String(MDC.SPO2)),
      nibp: slotView('v nibp', 'NIBP', 'mmHg', String(MDC.NIBP_SYS)),
      rr: slotView('v rr', 'RR', '/min', String(MDC.RR)),
      temps: Array.from({ length: TILE_TEMPS }, () => slotView('v temp', 'Temp', '°C', 'temp')),
    };
    for (const s of tile.temps.slice(1)) s.root.hidden = true;
    vitals.append(tile.hr.root, tile.spo2.root, tile.nibp.root, tile.rr.root, ...tile.temps.map((s) => s.root));
    root.append(head, wave, vitals);
    return tile;
  }

  private describe(t: Tile, b: BedInfo): void {
    setText(t.title, b.label || b.device);
    setText(t.sub, b.label ? b.device : b.gateway);
    t.root.title = `${b.site} / ${b.gateway} / ${b.device}${b.model ? ` · ${b.model}` : ''}`;
  }

  resize(): void {
    for (const s of this.sweeps) s.resize();
  }

  /** New data for a bed: its numbers, marks, link, mode badge and alarm colour (`waveOnly`: a waveform chunk, which
   *  changes no number; the 500 ms tick refreshes them anyway). */
  update(bed: BedState, waveOnly = false): void {
    const t = this.tiles.get(bed.key);
    if (!t) return;
    if (t.sweep.track === null) t.sweep.track = bed.tracks.get(MDC.ECG_II) ?? null;
    if (!waveOnly) this.renderValues(t, bed);
    const modes = modesOf(bed.modes());
    setText(t.mode, modes.map((m) => MODE_TEXT[m].badge).join(' '));
    t.mode.title = modes.map((m) => MODE_TEXT[m].banner).join('. ');
    setData(t.mode, 'mode', modes[0] ?? 'none');
    setHidden(t.mode, modes.length === 0);
    setData(t.root, 'mode', modes[0] ?? 'none');
    const p = bed.topPriority();
    setData(t.root, 'alarm', PRIORITY_NAME[p] ?? 'none');
    let top = '';
    for (const a of bed.alarms.values()) if (a.active && a.priority === p) top = a.text;
    setText(t.alarm, top);
    setHidden(t.alarm, top === '');
  }

  private renderValues(t: Tile, bed: BedState): void {
    const now = this.host.now();
    renderSlot(t.hr, showHr(bed, now), 'short');
    renderSlot(t.spo2, showSpo2(bed, now), 'short');
    renderSlot(t.nibp, showNibp(bed.nibp(), now), 'short');
    renderSlot(t.rr, showRr(bed, now), 'short');
    const temps = showTemperatures(bed, now);
    t.temps.forEach((s, i) => {
      const shown = temps[i];
      if (shown === undefined) {
        if (i === 0) renderSlot(s, showEmpty(PARAMS.temp), 'short');
        setHidden(s.root, i > 0);
        return;
      }
      const more =
        i === TILE_TEMPS - 1 && temps.length > TILE_TEMPS
          ? ` Also: ${temps
              .slice(TILE_TEMPS)
              .map((x) => `${x.label} ${x.value} ${x.unit}`)
              .join(', ')}.`
          : '';
      renderSlot(s, more ? { ...shown, title: shown.title + more } : shown, 'short');
      setHidden(s.root, false);
    });
    const link = showLink(bed);
    // A connected, live device needs no words on a tile; anything else does.
    const say = link.state !== '' && link.state !== 'live';
    setText(t.link, say ? (link.text.split(' — ')[0] ?? '') : '');
    t.link.title = say ? `${link.text}. ${link.title}` : '';
    setHidden(t.link, !say);
    setData(t.root, 'link', link.state || 'none');
  }

  /** Ages and staleness (every 500 ms, not per frame). */
  tick(nowMs: number, bed: (key: string) => BedState | undefined): void {
    for (const t of this.tiles.values()) {
      const b = bed(t.key);
      const age = b ? nowMs - b.lastDataMs : Number.POSITIVE_INFINITY;
      setText(t.age, ageText(age));
      setClass(t.root, 'is-stale', !(age <= BED_STALE_MS));
      if (b) this.renderValues(t, b);
    }
  }

  frame(nowMs: number): void {
    for (const s of this.sweeps) s.frame(nowMs);
  }
}

function collate(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
}
