// One bed: ECG lead II, pleth and respiration as sweeps at 25 mm/s (ECG at 10 mm/mV with a 1 mV calibration
// pulse), labelled above their paper so no trace ever crosses a label; the numerics beside them with the unit each
// value carries, its quality marks and its age; every temperature site; the device link; the alarm list with what
// triggered each alarm; numerics trends over the last hour; gap markers; and a banner whenever the data is not a
// patient's (TEST, DEMO, SIMULATED). Built once; each bed opened reuses the elements.
import { el, setClass, setData, setHidden, setText } from './dom.js';
import { ageText, clockText } from './format.js';
import { GAP_REASON_TEXT, PRIORITY_NAME, type BedState } from './model.js';
import { MDC, PARAMS } from './params.js';
import { alarmDetail, showEmpty, showHr, showLink, showNibp, showRr, showSpo2, showTemperatures } from './present.js';
import { MODE_TEXT, modeOf, modesOf } from './quality.js';
import { renderSlot, slotView, type SlotView } from './slot-view.js';
import { Sweep } from './sweep.js';
import { drawTrends } from './trend.js';
import { ArchiveTrendView } from './archive-trend.js';

/** Temperature sites shown at once; more are named in the last one's hover text. */
const MAX_TEMPS = 4;

function strip(
  cls: string,
  name: string,
  scale: string,
  cal: boolean,
): { root: HTMLElement; canvas: HTMLCanvasElement; scale: HTMLElement } {
  const root = el('div', `strip ${cls}`);
  // The label has its own band above the paper: a trace never runs over it.
  const label = el('div', 'strip-label');
  label.append(el('b', '', name));
  const scaleEl = el('span', 'scale', scale);
  label.append(scaleEl);
  const paper = el('div', 'paper');
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${name} waveform`);
  if (cal) {
    // The standard 1 mV calibration pulse: 10 mm high at 10 mm/mV, 200 ms (5 mm) wide at 25 mm/s.
    const c = el('div', 'cal');
    c.title = '1 mV calibration: 10 mm at 10 mm/mV';
    paper.append(c);
  }
  paper.append(canvas);
  root.append(label, paper);
  return { root, canvas, scale: scaleEl };
}

export class BedView {
  readonly root: HTMLElement;
  key = '';
  readonly sweeps: Sweep[];
  private readonly title: HTMLElement;
  private readonly meta: HTMLElement;
  private readonly claim: HTMLElement;
  private readonly link: HTMLElement;
  private readonly age: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly refused: HTMLElement;
  private readonly body: HTMLElement;
  private readonly gapInfo: HTMLElement;
  private readonly alarmList: HTMLOListElement;
  private readonly trendCanvas: HTMLCanvasElement;
  private readonly hr: SlotView;
  private readonly spo2: SlotView;
  private readonly nibp: SlotView;
  private readonly rr: SlotView;
  private readonly temps: SlotView[] = [];
  private readonly ecg: Sweep;
  private readonly pleth: Sweep;
  private readonly resp: Sweep;
  private alarmStamp = '-';
  private readonly archive = new ArchiveTrendView();

  constructor(private readonly now: () => number) {
    this.root = el('section', 'bed-view');
    this.root.id = 'bed';
    const head = el('header', 'bed-head');
    const back = el('a', 'back', '← Ward');
    back.href = '#/ward';
    this.title = el('h2', 'title');
    this.meta = el('span', 'meta');
    this.claim = el('span', 'claim');
    this.claim.hidden = true;
    this.link = el('span', 'link');
    this.link.setAttribute('role', 'status');
    this.link.hidden = true;
    this.age = el('span', 'age');
    head.append(back, this.title, this.meta, this.claim, this.link, this.age);
    this.banner = el('div', 'mode-banner');
    this.banner.setAttribute('role', 'alert');
    this.banner.hidden = true;
    this.refused = el('div', 'refused');
    this.refused.setAttribute('role', 'alert');
    this.refused.hidden = true;

    this.body = el('div', 'bed-body');
    const waves = el('div', 'waves');
    const e = strip('ecg', 'II', '10 mm/mV · 25 mm/s', true);
    const p = strip('pleth', 'Pleth', 'auto gain · 25 mm/s', false);
    const r = strip('resp', 'Resp', 'auto gain · 25 mm/s', false);
    waves.append(e.root, p.root, r.root);
    this.ecg = new Sweep(e.canvas, { kind: 'mv', mmPerMv: 10 }, '#3ddc5a', 'rgba(125,134,144,0.35)');
    this.pleth = new Sweep(p.canvas, { kind: 'auto' }, '#33d6f0', 'rgba(125,134,144,0.35)');
    this.resp = new Sweep(r.canvas, { kind: 'auto' }, '#f2d43a', 'rgba(125,134,144,0.35)');
    this.sweeps = [this.ecg, this.pleth, this.resp];

    const nums = el('div', 'numerics');
    this.hr = slotView('num hr', 'HR', '/min', String(MDC.ECG_HR));
    this.spo2 = slotView('num spo2', 'SpO₂', '%', String(MDC.SPO2));
    this.nibp = slotView('num nibp', 'NIBP', 'mmHg', String(MDC.NIBP_SYS));
    this.rr = slotView('num rr', 'RR', '/min', String(MDC.RR));
    nums.append(this.hr.root, this.spo2.root, this.nibp.root, this.rr.root);
    for (let i = 0; i < MAX_TEMPS; i++) {
      const t = slotView('num temp', 'Temp', '°C', 'temp');
      if (i > 0) t.root.hidden = true;
      this.temps.push(t);
      nums.append(t.root);
    }
    this.body.append(waves, nums);

    const foot = el('div', 'bed-foot');
    const alarms = el('div', 'alarms');
    alarms.append(el('h3', '', 'Alarms'));
    this.alarmList = el('ol', 'alarm-list');
    alarms.append(this.alarmList);
    const trends = el('div', 'trends');
    trends.append(el('h3', '', 'Trends, last 60 min'));
    this.trendCanvas = el('canvas');
    trends.append(this.trendCanvas);
    foot.append(alarms, trends, this.archive.root);
    this.gapInfo = el('p', 'gap-info');
    this.gapInfo.hidden = true;
    this.body.append(foot);
    this.root.append(head, this.banner, this.refused, this.body, this.gapInfo);
  }

  /** Shows a bed (or, with `refusedReason`, says it may not be shown). */
  open(key: string, bed: BedState): void {
    this.key = key;
    for (const s of this.sweeps) s.clear();
    this.ecg.track = null;
    this.pleth.track = null;
    this.resp.track = null;
    this.alarmStamp = '-';
    // The previous bed's gap notice must not stand over this one until the next tick.
    setText(this.gapInfo, '');
    setHidden(this.gapInfo, true);
    setHidden(this.refused, true);
    setHidden(this.body, false);
    setText(this.title, bed.label || key.split('/')[2] || key);
    this.update(bed);
    this.archive.open(key);
  }

  showRefused(reason: string): void {
    setText(this.refused, reason);
    setHidden(this.refused, false);
    setHidden(this.body, true);
    setHidden(this.banner, true);
  }

  resize(): void {
    for (const s of this.sweeps) s.resize();
    this.archive.draw();
  }

  /** New data for the bed shown (`waveOnly`: a waveform chunk, which changes no number). */
  update(bed: BedState, waveOnly = false): void {
    if (bed.key !== this.key) return;
    this.ecg.track ??= bed.tracks.get(MDC.ECG_II) ?? null;
    this.pleth.track ??= bed.tracks.get(MDC.PLETH) ?? null;
    this.resp.track ??= bed.tracks.get(MDC.RESP_WAVE) ?? null;
    setText(this.title, bed.label || this.key.split('/')[2] || this.key);
    setText(this.meta, `${this.key}${bed.model ? ` · ${bed.model}` : ''}`);
    // The device's own bed claim is shown as its claim, never as the bed (vitals.proto Source.bed_claim).
    setText(this.claim, bed.bedClaim ? `device says: ${bed.bedClaim}` : '');
    this.claim.title = bed.bedClaim
      ? 'The bed the device itself reports (HL7 PV1-3). The bed above is the one the gateway is configured with.'
      : '';
    setHidden(this.claim, bed.bedClaim === '');
    const modes = modesOf(bed.modes());
    setText(this.banner, modes.map((m) => MODE_TEXT[m].banner).join(' · '));
    setData(this.banner, 'mode', modes[0] ?? 'none');
    setHidden(this.banner, modes.length === 0 || !this.refused.hidden);
    setClass(this.root, 'not-patient', modes.length > 0);
    setData(this.root, 'mode', modes[0] ?? 'none');
    if (waveOnly) return;
    this.renderNumerics(bed);
    this.renderAlarms(bed);
    setData(this.root, 'alarm', PRIORITY_NAME[bed.topPriority()] ?? 'none');
  }

  private renderNumerics(bed: BedState): void {
    const now = this.now();
    renderSlot(this.hr, showHr(bed, now), 'sub');
    renderSlot(this.spo2, showSpo2(bed, now), 'sub');
    renderSlot(this.nibp, showNibp(bed.nibp(), now), 'sub');
    renderSlot(this.rr, showRr(bed, now), 'sub');
    const temps = showTemperatures(bed, now);
    for (let i = 0; i < MAX_TEMPS; i++) {
      const t = this.temps[i] as SlotView;
      const shown = temps[i];
      if (shown === undefined) {
        if (i === 0) renderSlot(t, showEmpty(PARAMS.temp), 'sub');
        setHidden(t.root, i > 0);
        continue;
      }
      const more =
        i === MAX_TEMPS - 1 && temps.length > MAX_TEMPS
          ? ` Also: ${temps
              .slice(MAX_TEMPS)
              .map((x) => `${x.label} ${x.value} ${x.unit}`)
              .join(', ')}.`
          : '';
      renderSlot(t, more ? { ...shown, title: shown.title + more } : shown, 'sub');
      setHidden(t.root, false);
    }
    const link = showLink(bed);
    setText(this.link, link.text);
    this.link.title = link.title;
    setData(this.link, 'state', link.state || 'none');
    setHidden(this.link, link.text === '');
    setData(this.root, 'link', link.state || 'none');
  }

  private renderAlarms(bed: BedState): void {
    // Rebuilt only when an alarm changed (alarms are rare; this is not per frame).
    let stamp = '';
    for (const a of bed.alarms.values()) stamp += `${a.id}:${a.active ? 1 : 0}:${a.priority}:${a.lastMs}:${a.flags};`;
    if (stamp === this.alarmStamp) return;
    this.alarmStamp = stamp;
    const rows = [...bed.alarms.values()]
      .sort((x, y) => Number(y.active) - Number(x.active) || y.priority - x.priority || y.lastMs - x.lastMs)
      .slice(0, 12);
    const items = rows.map((a) => {
      const mode = modeOf(a.flags);
      const li = el('li', `alarm ${PRIORITY_NAME[a.priority] ?? 'info'}${a.active ? ' active' : ' ended'}`);
      li.dataset['mode'] = mode || 'none';
      const text = el('span', 'text', a.text);
      if (mode) {
        // An alarm from a device in test or demo mode is not a patient's alarm: said on the alarm itself.
        const badge = el('span', `badge mode ${mode}`, MODE_TEXT[mode].badge);
        badge.title = MODE_TEXT[mode].banner;
        text.prepend(badge, ' ');
      }
      const detail = alarmDetail(a);
      if (detail) text.append(el('span', 'detail', detail));
      li.append(
        el('span', 'prio', (PRIORITY_NAME[a.priority] ?? 'info').toUpperCase()),
        text,
        el('span', 'kind', a.technical ? 'technical' : 'physiological'),
        el('span', 'when', `${clockText(a.startMs)}${a.active ? '' : ` – ${clockText(a.lastMs)}`}`),
      );
      return li;
    });
    if (items.length === 0) items.push(el('li', 'none', 'No alarms'));
    this.alarmList.replaceChildren(...items);
  }

  /** Ages, staleness, gap notice and trends (every 500 ms). */
  tick(nowMs: number, bed: BedState | undefined, drawTrend: boolean): void {
    if (!bed || bed.key !== this.key) return;
    const age = nowMs - bed.lastDataMs;
    setText(this.age, `data age ${ageText(age)}`);
    setClass(this.age, 'is-stale', !(age <= 5000));
    this.renderNumerics(bed);
    const why = GAP_REASON_TEXT[bed.lastGapReason];
    setText(
      this.gapInfo,
      bed.gaps > 0
        ? `${bed.gaps} gap${bed.gaps === 1 ? '' : 's'} in the data, last at ${clockText(bed.lastGapMs)}${why ? ` (${why})` : ''}`
        : '',
    );
    setHidden(this.gapInfo, bed.gaps === 0);
    if (drawTrend) {
      // A line is broken where no point came for the parameter's staleness limit (times the history's thinning).
      const join = Math.max(1, bed.trendStride);
      drawTrends(
        this.trendCanvas,
        [
          {
            series: bed.trends.hr,
            color: '#3ddc5a',
            min: 30,
            max: 180,
            label: 'HR 30–180',
            maxGapMs: PARAMS.hr.staleMs * join,
          },
          {
            series: bed.trends.spo2,
            color: '#33d6f0',
            min: 70,
            max: 100,
            label: 'SpO₂ 70–100',
            maxGapMs: PARAMS.spo2.staleMs * join,
          },
          {
            series: bed.trends.rr,
            color: '#f2d43a',
            min: 0,
            max: 40,
            label: 'RR 0–40',
            maxGapMs: PARAMS.rr.staleMs * join,
          },
        ],
        nowMs,
        3600_000,
      );
    }
  }

  frame(nowMs: number): void {
    for (const s of this.sweeps) s.frame(nowMs);
  }
}
