// One bed: ECG lead II, pleth and respiration as sweeps at 25 mm/s (ECG at 10 mm/mV with a 1 mV calibration
// pulse), the numerics beside them with units and age, the alarm list by priority, numerics trends over the last
// hour, gap markers, and a DEMO banner for demo-flagged data. Built once; each bed opened reuses the elements.
import { el, setClass, setData, setHidden, setText } from './dom.js';
import { MDC, ageText, clockText, unitText, valueText } from './format.js';
import { PRIORITY_NAME, type BedState, type Reading } from './model.js';
import { Sweep } from './sweep.js';
import { drawTrends } from './trend.js';

interface Big {
  root: HTMLElement;
  label: HTMLElement;
  value: HTMLElement;
  unit: HTMLElement;
  sub: HTMLElement;
}

function big(cls: string, label: string, unit: string, mdc: string): Big {
  const root = el('div', `num ${cls}`);
  root.dataset['mdc'] = mdc;
  const l = el('span', 'label', label);
  const unitEl = el('span', 'unit', unit);
  const value = el('span', 'value', '—');
  const sub = el('span', 'sub');
  root.append(l, unitEl, value, sub);
  return { root, label: l, value, unit: unitEl, sub };
}

function strip(cls: string, name: string, scale: string, cal: boolean): { root: HTMLElement; canvas: HTMLCanvasElement; scale: HTMLElement } {
  const root = el('div', `strip ${cls}`);
  const label = el('div', 'strip-label');
  label.append(el('b', '', name));
  const scaleEl = el('span', 'scale', scale);
  label.append(scaleEl);
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${name} waveform`);
  root.append(label);
  if (cal) {
    // The standard 1 mV calibration pulse: 10 mm high at 10 mm/mV, 200 ms (5 mm) wide at 25 mm/s.
    const c = el('div', 'cal');
    c.title = '1 mV calibration: 10 mm at 10 mm/mV';
    root.append(c);
  }
  root.append(canvas);
  return { root, canvas, scale: scaleEl };
}

export class BedView {
  readonly root: HTMLElement;
  key = '';
  readonly sweeps: Sweep[];
  private readonly title: HTMLElement;
  private readonly meta: HTMLElement;
  private readonly age: HTMLElement;
  private readonly demo: HTMLElement;
  private readonly refused: HTMLElement;
  private readonly body: HTMLElement;
  private readonly gapInfo: HTMLElement;
  private readonly alarmList: HTMLOListElement;
  private readonly trendCanvas: HTMLCanvasElement;
  private readonly hr: Big;
  private readonly spo2: Big;
  private readonly nibp: Big;
  private readonly rr: Big;
  private readonly temp: Big;
  private readonly ecg: Sweep;
  private readonly pleth: Sweep;
  private readonly resp: Sweep;
  private alarmStamp = '-';

  constructor() {
    this.root = el('section', 'bed-view');
    this.root.id = 'bed';
    const head = el('header', 'bed-head');
    const back = el('a', 'back', '← Ward');
    back.href = '#/ward';
    this.title = el('h2', 'title');
    this.meta = el('span', 'meta');
    this.age = el('span', 'age');
    head.append(back, this.title, this.meta, this.age);
    this.demo = el('div', 'demo-banner', 'DEMO — simulated data from a device in demo mode, not from a patient');
    this.demo.setAttribute('role', 'status');
    this.demo.hidden = true;
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
    this.hr = big('hr', 'HR', '/min', String(MDC.ECG_HR));
    this.spo2 = big('spo2', 'SpO₂', '%', String(MDC.SPO2));
    this.nibp = big('nibp', 'NIBP', 'mmHg', String(MDC.NIBP_SYS));
    this.rr = big('rr', 'RR', '/min', String(MDC.RR));
    this.temp = big('temp', 'Temp', '°C', 'temp');
    nums.append(this.hr.root, this.spo2.root, this.nibp.root, this.rr.root, this.temp.root);
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
    foot.append(alarms, trends);
    this.gapInfo = el('p', 'gap-info');
    this.gapInfo.hidden = true;
    this.body.append(foot);
    this.root.append(head, this.demo, this.refused, this.body, this.gapInfo);
  }

  /** Shows a bed (or, with `refusedReason`, says it may not be shown). */
  open(key: string, bed: BedState): void {
    this.key = key;
    for (const s of this.sweeps) s.clear();
    this.ecg.track = null;
    this.pleth.track = null;
    this.resp.track = null;
    this.alarmStamp = '-';
    setHidden(this.refused, true);
    setHidden(this.body, false);
    setText(this.title, bed.label || key.split('/')[2] || key);
    this.update(bed);
  }

  showRefused(reason: string): void {
    setText(this.refused, reason);
    setHidden(this.refused, false);
    setHidden(this.body, true);
    setHidden(this.demo, true);
  }

  resize(): void {
    for (const s of this.sweeps) s.resize();
  }

  update(bed: BedState): void {
    if (bed.key !== this.key) return;
    this.ecg.track ??= bed.tracks.get(MDC.ECG_II) ?? null;
    this.pleth.track ??= bed.tracks.get(MDC.PLETH) ?? null;
    this.resp.track ??= bed.tracks.get(MDC.RESP_WAVE) ?? null;
    setText(this.title, bed.label || this.key.split('/')[2] || this.key);
    setText(this.meta, `${this.key}${bed.model ? ` · ${bed.model}` : ''}`);
    setHidden(this.demo, !bed.demo || !this.refused.hidden);

    const hr = bed.heartRate();
    this.show(this.hr, hr.reading, MDC.ECG_HR);
    setText(this.hr.label, hr.fromPulse ? 'PR' : 'HR');
    this.show(this.spo2, bed.readings.get(MDC.SPO2), MDC.SPO2);
    const pr = bed.readings.get(MDC.PULSE_RATE);
    setText(this.spo2.sub, pr?.value != null && !hr.fromPulse ? `PR ${Math.round(pr.value)}` : '');
    const sys = bed.readings.get(MDC.NIBP_SYS);
    const dia = bed.readings.get(MDC.NIBP_DIA);
    const mean = bed.readings.get(MDC.NIBP_MEAN);
    setText(this.nibp.value, sys?.value != null && dia?.value != null ? `${Math.round(sys.value)}/${Math.round(dia.value)}` : '—');
    setText(this.nibp.unit, unitText(sys?.unit || 'mm[Hg]'));
    setText(this.nibp.sub, sys ? `${mean?.value != null ? `(${Math.round(mean.value)}) ` : ''}at ${clockText(sys.atMs)}` : '');
    setClass(this.nibp.root, 'is-empty', sys?.value == null);
    this.show(this.rr, bed.respRate(), MDC.RR);
    this.show(this.temp, bed.temperature(), 150364);
    this.renderAlarms(bed);
    setData(this.root, 'alarm', PRIORITY_NAME[bed.topPriority()] ?? 'none');
  }

  private show(b: Big, r: Reading | undefined, mdc: number): void {
    setText(b.value, r === undefined ? '—' : r.value !== null ? valueText(r.value, mdc) : r.text || '—');
    if (r?.unit) setText(b.unit, unitText(r.unit));
    setClass(b.root, 'is-empty', r === undefined || r.value === null);
  }

  private renderAlarms(bed: BedState): void {
    // Rebuilt only when an alarm changed (alarms are rare; this is not per frame).
    let stamp = '';
    for (const a of bed.alarms.values()) stamp += `${a.id}:${a.active ? 1 : 0}:${a.priority}:${a.lastMs};`;
    if (stamp === this.alarmStamp) return;
    this.alarmStamp = stamp;
    const rows = [...bed.alarms.values()].sort((x, y) => Number(y.active) - Number(x.active) || y.priority - x.priority || y.lastMs - x.lastMs).slice(0, 12);
    const items = rows.map((a) => {
      const li = el('li', `alarm ${PRIORITY_NAME[a.priority] ?? 'info'}${a.active ? ' active' : ' ended'}`);
      li.append(
        el('span', 'prio', (PRIORITY_NAME[a.priority] ?? 'info').toUpperCase()),
        el('span', 'text', a.text),
        el('span', 'kind', a.technical ? 'technical' : 'physiological'),
        el('span', 'when', `${clockText(a.startMs)}${a.active ? '' : ` – ${clockText(a.lastMs)}`}`),
      );
      return li;
    });
    if (items.length === 0) items.push(el('li', 'none', 'No alarms'));
    this.alarmList.replaceChildren(...items);
  }

  /** Ages, gap notice and trends (every 500 ms). */
  tick(nowMs: number, bed: BedState | undefined, drawTrend: boolean): void {
    if (!bed) return;
    const age = nowMs - bed.lastDataMs;
    setText(this.age, `data age ${ageText(age)}`);
    setClass(this.age, 'is-stale', !(age <= 5000));
    setText(this.gapInfo, bed.gaps > 0 ? `${bed.gaps} gap${bed.gaps === 1 ? '' : 's'} in the data, last at ${clockText(bed.lastGapMs)}` : '');
    setHidden(this.gapInfo, bed.gaps === 0);
    if (drawTrend) {
      drawTrends(this.trendCanvas, [
        { series: bed.trends.hr, color: '#3ddc5a', min: 30, max: 180, label: 'HR 30–180' },
        { series: bed.trends.spo2, color: '#33d6f0', min: 70, max: 100, label: 'SpO₂ 70–100' },
        { series: bed.trends.rr, color: '#f2d43a', min: 0, max: 40, label: 'RR 0–40' },
      ], nowMs, 3600_000);
    }
  }

  frame(nowMs: number): void {
    for (const s of this.sweeps) s.frame(nowMs);
  }
}
