// What the dashboard knows about one bed, built from decoded Batches. Pure (no DOM): latest numerics, trends,
// waveform tracks, alarms, sequence bookkeeping (duplicates dropped, holes counted as gaps), the DEMO state.
import { AlarmPhase, AlarmPriority, AlarmState, Flag, Kind } from '../proto/index.js';
import type { vitalwire } from '../proto/gen/vitals.js';
import type { BackfillSummary, BedInfo, StreamName } from '../fanout/protocol.js';
import { MDC, RESP_RATES, TEMPERATURES } from './format.js';
import { TrendSeries } from './trend.js';
import { WaveTrack } from './wave-track.js';

type Batch = vitalwire.v1.Batch;

export interface Reading {
  /** null when the device says unavailable */
  value: number | null;
  text: string;
  unit: string;
  flags: number;
  /** gateway time, ms */
  atMs: number;
}

export interface AlarmRow {
  id: string;
  text: string;
  priority: number;
  technical: boolean;
  active: boolean;
  startMs: number;
  lastMs: number;
}

const MAX_ALARMS = 50;
const MAX_TRACKS = 8;

const STREAM_OF: Record<number, StreamName> = {
  [Kind.KIND_OBS]: 'obs',
  [Kind.KIND_WAVE]: 'wave',
  [Kind.KIND_ALARM]: 'alarm',
  [Kind.KIND_STATUS]: 'status',
};

const ENDING = new Set<number>([AlarmPhase.ALARM_PHASE_END, AlarmPhase.ALARM_PHASE_INACTIVATE, AlarmPhase.ALARM_PHASE_RESET]);

export class BedState {
  label = '';
  model = '';
  readonly readings = new Map<number, Reading>();
  /** Did the newest numerics or waves carry FLAG_DEMO? */
  demo = false;
  /** gateway time of the newest data of any kind, ms */
  lastDataMs = Number.NEGATIVE_INFINITY;
  readonly alarms = new Map<string, AlarmRow>();
  readonly tracks = new Map<number, WaveTrack>();
  readonly trends = { hr: new TrendSeries(), spo2: new TrendSeries(), rr: new TrendSeries() };
  /** last seq per stream; 0 = none yet */
  readonly seq: Record<StreamName, number> = { obs: 0, wave: 0, alarm: 0, status: 0 };
  gaps = 0;
  lastGapMs = 0;
  linkState = 0;
  /** obs seqs up to this one came as a thinned trend (holes expected) */
  private trendUntil = 0;

  constructor(readonly key: string) {}

  describe(b: BedInfo): void {
    if (b.label) this.label = b.label;
    if (b.model) this.model = b.model;
  }

  /** A (re)subscription: its history follows, so sequence checks restart from it. */
  subscribed(backfill: Partial<Record<StreamName, BackfillSummary>>): void {
    for (const s of Object.keys(backfill) as StreamName[]) this.seq[s] = 0;
    this.trendUntil = backfill.obs?.toSeq ?? 0;
    // A numerics history refills the trends from its start (they only take points newer than their newest).
    const obs = backfill.obs;
    if (obs !== undefined && obs.items > 1 && obs.stride > 0) {
      this.trends.hr.clear();
      this.trends.spo2.clear();
      this.trends.rr.clear();
    }
  }

  /** Applies one Batch; arrivalMs is the page's clock corrected to the server's. False for a duplicate. */
  apply(b: Batch, arrivalMs: number): boolean {
    const stream = STREAM_OF[b.kind];
    const seq = Number(b.seq);
    if (stream === undefined) return false;
    if (seq === 0 && b.gaps.length > 0) {
      // A Gap declared by the fan-out (slow connection) or the gateway: show it, never interpolate.
      this.gaps += b.gaps.length;
      this.lastGapMs = arrivalMs;
      // The declared range is accounted for: the sequence goes on after it without a second gap.
      for (const g of b.gaps) if (Number(g.toSeq) > this.seq[stream]) this.seq[stream] = Number(g.toSeq);
      if (stream === 'obs') this.breakTrends(Number(b.gaps[0]?.fromTimeUs ?? 0) / 1000 || arrivalMs);
      return true;
    }
    if (seq > 0) {
      const last = this.seq[stream];
      // Seen already: a QoS 1 repeat or history overlapping live data (seq 1 again after more: the stream restarted).
      if (seq === last || (seq < last && seq !== 1)) return false;
      if (last > 0 && seq > last + 1 && !(stream === 'obs' && seq <= this.trendUntil)) {
        this.gaps++;
        this.lastGapMs = arrivalMs;
        if (stream === 'obs') this.breakTrends(arrivalMs);
      }
      this.seq[stream] = seq;
    }
    if (b.gaps.length > 0) {
      this.gaps += b.gaps.length;
      this.lastGapMs = arrivalMs;
    }
    const src = b.source;
    if (src?.bed) this.label = src.bed;
    if (src?.model) this.model = src.model;
    const publishMs = Number(b.publishTimeUs) / 1000;
    switch (b.kind) {
      case Kind.KIND_OBS:
        this.applyObservations(b, publishMs || arrivalMs);
        break;
      case Kind.KIND_WAVE:
        this.applyWaves(b, publishMs || arrivalMs);
        break;
      case Kind.KIND_ALARM:
        this.applyAlarms(b, publishMs || arrivalMs);
        break;
      case Kind.KIND_STATUS:
        this.linkState = b.statuses[0]?.state ?? this.linkState;
        break;
    }
    return true;
  }

  private seen(atMs: number): void {
    if (atMs > this.lastDataMs) this.lastDataMs = atMs;
  }

  private applyObservations(b: Batch, fallbackMs: number): void {
    let demo = false;
    let newest = Number.NEGATIVE_INFINITY;
    for (const o of b.observations) {
      const flags = o.flags ?? 0;
      const mdc = o.mdc ?? 0;
      if (flags & Flag.FLAG_DEMO) demo = true;
      const atMs = Number(o.time?.gatewayTimeUs ?? 0) / 1000 || fallbackMs;
      if (atMs > newest) newest = atMs;
      const isNumber = o.value === 'number' && typeof o.number === 'number' && Number.isFinite(o.number);
      const unavailable = (flags & Flag.FLAG_UNAVAILABLE) !== 0;
      const value = isNumber && !unavailable ? (o.number as number) : null;
      // Trends take history too (older than the reading shown); the series ignores what is older than its newest.
      const trendValue = value ?? Number.NaN;
      if (mdc === MDC.ECG_HR) this.trends.hr.push(atMs, trendValue);
      else if (mdc === MDC.PULSE_RATE && !this.readings.has(MDC.ECG_HR)) this.trends.hr.push(atMs, trendValue);
      else if (mdc === MDC.SPO2) this.trends.spo2.push(atMs, trendValue);
      else if (mdc === MDC.RR) this.trends.rr.push(atMs, trendValue);
      const prev = this.readings.get(mdc);
      if (prev !== undefined && prev.atMs > atMs) continue;
      const text = value !== null ? '' : o.code ? o.code.text || o.code.refid || '' : (o.text ?? '');
      this.readings.set(mdc, { value, text, unit: o.unit ?? '', flags, atMs });
    }
    if (b.observations.length > 0) {
      this.demo = demo;
      this.seen(newest);
    }
  }

  private applyWaves(b: Batch, fallbackMs: number): void {
    for (const w of b.waves) {
      const mdc = w.mdc ?? 0;
      let t = this.tracks.get(mdc);
      if (t === undefined) {
        if (this.tracks.size >= MAX_TRACKS) continue;
        t = new WaveTrack(mdc);
        this.tracks.set(mdc, t);
      }
      const holes = t.gaps;
      t.push({
        firstSample: Number(w.firstSample ?? 0),
        samples: w.samples ?? [],
        rateHz: w.sampleRateHz ?? 0,
        scale: w.scale || 1,
        offset: w.offset ?? 0,
        invalidValue: w.invalidValue ?? null,
        unit: w.unit ?? '',
      });
      if (t.gaps > holes) {
        // first_sample jumped: samples were lost upstream (or dropped for this slow connection).
        this.gaps += t.gaps - holes;
        this.lastGapMs = fallbackMs;
      }
      if ((w.flags ?? 0) & Flag.FLAG_DEMO) this.demo = true;
      // The chunk's last sample, on the gateway clock.
      const startMs = Number(w.time?.gatewayTimeUs ?? 0) / 1000 || fallbackMs;
      this.seen(startMs);
    }
  }

  private applyAlarms(b: Batch, fallbackMs: number): void {
    for (const a of b.alarms) {
      const id = a.id || `${a.mdc}:${a.sourceMdc}`;
      const atMs = Number(a.time?.gatewayTimeUs ?? 0) / 1000 || fallbackMs;
      let row = this.alarms.get(id);
      if (row === undefined) {
        row = { id, text: '', priority: 0, technical: false, active: false, startMs: atMs, lastMs: atMs };
        this.alarms.set(id, row);
      } else if (atMs < row.lastMs) continue;
      row.text = a.text || a.refid || 'alarm';
      if (a.priority) row.priority = a.priority;
      row.technical = a.kind === 2; // ALARM_KIND_TECHNICAL
      const stated = a.state === AlarmState.ALARM_STATE_ACTIVE || a.state === AlarmState.ALARM_STATE_LATCHED;
      const phase = a.phase ?? 0;
      row.active = !a.state ? !ENDING.has(phase) : stated && !ENDING.has(phase);
      row.lastMs = atMs;
      this.seen(atMs);
    }
    if (this.alarms.size > MAX_ALARMS) {
      for (const [id, row] of this.alarms) {
        if (this.alarms.size <= MAX_ALARMS) break;
        if (!row.active) this.alarms.delete(id);
      }
    }
  }

  private breakTrends(atMs: number): void {
    this.trends.hr.push(atMs, Number.NaN);
    this.trends.spo2.push(atMs, Number.NaN);
    this.trends.rr.push(atMs, Number.NaN);
  }

  /** Highest priority among active alarms (AlarmPriority), 0 when none. */
  topPriority(): number {
    let p = 0;
    for (const a of this.alarms.values()) if (a.active && a.priority > p) p = a.priority;
    return p;
  }

  /** ECG heart rate when present, else the oximeter's pulse rate. */
  heartRate(): { reading: Reading | undefined; fromPulse: boolean } {
    const ecg = this.readings.get(MDC.ECG_HR);
    if (ecg !== undefined && ecg.value !== null) return { reading: ecg, fromPulse: false };
    const pulse = this.readings.get(MDC.PULSE_RATE);
    return pulse !== undefined ? { reading: pulse, fromPulse: true } : { reading: ecg, fromPulse: false };
  }

  respRate(): Reading | undefined {
    for (const m of RESP_RATES) {
      const r = this.readings.get(m);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  temperature(): Reading | undefined {
    let best: Reading | undefined;
    for (const [mdc, r] of this.readings) if (TEMPERATURES.has(mdc) && (best === undefined || r.atMs > best.atMs)) best = r;
    return best;
  }
}

export const PRIORITY_NAME: Record<number, string> = {
  [AlarmPriority.ALARM_PRIORITY_HIGH]: 'high',
  [AlarmPriority.ALARM_PRIORITY_MEDIUM]: 'medium',
  [AlarmPriority.ALARM_PRIORITY_LOW]: 'low',
  [AlarmPriority.ALARM_PRIORITY_NONE]: 'info',
};
