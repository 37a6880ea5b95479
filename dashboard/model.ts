// What the dashboard knows about one bed, built from decoded Batches. Pure (no DOM): readings keyed by what they
// measure (code, containment, method), the pick of each clinical slot, trends, waveform tracks, alarms with their
// facets, the device link, sequence bookkeeping (duplicates dropped, holes counted as gaps), and whether the data is
// a patient's at all (TEST / DEMO / SIMULATED).
import { AlarmPhase, AlarmPriority, AlarmState, Flag, GapReason, Kind, LinkState } from '../proto/index.js';
import type { vitalwire } from '../proto/gen/vitals.js';
import type { BackfillSummary, BedInfo, StreamName } from '../fanout/protocol.js';
import {
  APERIODIC,
  FAST,
  MDC,
  MODALITY_VARIANTS,
  NIBP_FAMILIES,
  PARAMS,
  TEMPERATURE_SITES,
  siteRank,
  temperatureSite,
  type ParamDef,
} from './params.js';
import { MODE_FLAGS } from './quality.js';
import { SeqTrack } from './seq-track.js';
import { TrendSeries } from './trend.js';
import { WaveTrack } from './wave-track.js';

type Batch = vitalwire.v1.Batch;
type Timing = vitalwire.v1.Timing.$Properties;

export interface Reading {
  /** `${mdc}|${containment}|${method}`: what was measured, where and how */
  key: string;
  mdc: number;
  refid: string;
  containment: string;
  method: string;
  /** null when the row carries no number (unavailable, retracted, an enumeration) */
  value: number | null;
  /** the last number this key had, while the newest row has none: shown crossed out, never as current */
  lastValue: number | null;
  text: string;
  unit: string;
  vendorUnit: string;
  /** the number as the device sent it, when vitalwire converted it (FLAG_DERIVED) */
  sentNumber: number | null;
  flags: number;
  /** when it was measured, gateway clock, ms: the device's own time (OBX-14, corrected by the clock offset) when it
   *  sent one and the gateway trusts it, else the gateway's receive time */
  atMs: number;
  /** atMs is the device's measurement time */
  deviceTime: boolean;
  /** when the gateway received it, ms */
  receivedMs: number;
}

export interface AlarmRow {
  id: string;
  text: string;
  priority: number;
  technical: boolean;
  active: boolean;
  startMs: number;
  lastMs: number;
  flags: number;
  sourceMdc: number;
  sourceRefid: string;
  sourceValue: number | null;
  sourceUnit: string;
  limitLow: number | null;
  limitHigh: number | null;
  limits: string;
}

export interface LinkInfo {
  /** LinkState of the newest status; 0 before any */
  state: number;
  /** gateway time of that status, ms */
  atMs: number;
  reason: string;
  diagnosis: string;
  /** gateway time of the device's last good frame, ms; 0 unknown */
  lastFrameMs: number;
  /** gateway time the link went down (DISCONNECTED), until a CONNECTED status; 0 = not down */
  downSinceMs: number;
}

export interface Nibp {
  sys: Reading;
  dia: Reading | undefined;
  mean: Reading | undefined;
}

const MAX_ALARMS = 50;
const MAX_TRACKS = 8;
/** Distinct (code, containment, method) keys held per bed; beyond, the least recently measured goes. */
const MAX_READINGS = 256;

const STREAM_NAMES: readonly StreamName[] = ['obs', 'wave', 'alarm', 'status'];

const STREAM_OF: Record<number, StreamName> = {
  [Kind.KIND_OBS]: 'obs',
  [Kind.KIND_WAVE]: 'wave',
  [Kind.KIND_ALARM]: 'alarm',
  [Kind.KIND_STATUS]: 'status',
};

const ENDING = new Set<number>([
  AlarmPhase.ALARM_PHASE_END,
  AlarmPhase.ALARM_PHASE_INACTIVATE,
  AlarmPhase.ALARM_PHASE_RESET,
]);
const TIME_SUSPECT = Flag.FLAG_TIME_SUSPECT;

/** Measurement time of a value on the gateway clock: device time minus the device's clock offset, when trusted. */
export function measuredAt(
  t: Timing | null | undefined,
  flags: number,
  fallbackMs: number,
): { atMs: number; deviceTime: boolean; receivedMs: number } {
  const receivedMs = Number(t?.gatewayTimeUs ?? 0) / 1000 || fallbackMs;
  const deviceUs = Number(t?.deviceTimeUs ?? 0);
  if (deviceUs > 0 && (flags & TIME_SUSPECT) === 0) {
    // vitals.proto Timing: device_time_us - clock_offset_us ~ gateway clock. A value is never newer than its receipt.
    const atMs = (deviceUs - Number(t?.clockOffsetUs ?? 0)) / 1000;
    if (Number.isFinite(atMs) && atMs > 0) return { atMs: Math.min(atMs, receivedMs), deviceTime: true, receivedMs };
  }
  return { atMs: receivedMs, deviceTime: false, receivedMs };
}

export function isAperiodic(def: ParamDef, r: Reading): boolean {
  return def.aperiodic || r.method === APERIODIC;
}

/**
 * An on-demand measurement whose device sent no time for it (a Datex S/5 NIBP already on screen when the link came up:
 * decoders/datex/decode.ts). Its receipt says nothing about when it was measured, so it is never shown as current.
 */
export function timeUnknown(r: Reading): boolean {
  return r.method === APERIODIC && !r.deviceTime && (r.flags & TIME_SUSPECT) === 0;
}

/** Has the value outlived its parameter's limit (by its measurement time)? One of unknown time always has. */
export function isStale(def: ParamDef, r: Reading, nowMs: number): boolean {
  if (timeUnknown(r)) return true;
  return nowMs - r.atMs > (isAperiodic(def, r) ? def.aperiodicStaleMs : def.staleMs);
}

export class BedState {
  label = '';
  model = '';
  /** The bed the device itself claims (HL7 PV1-3): its claim, never the bed. */
  bedClaim = '';
  readonly readings = new Map<string, Reading>();
  /** gateway receive time of the newest data of any kind, ms */
  lastDataMs = Number.NEGATIVE_INFINITY;
  readonly alarms = new Map<string, AlarmRow>();
  readonly tracks = new Map<number, WaveTrack>();
  /** FLAG bits of the newest chunk of each track */
  private readonly trackFlags = new Map<number, number>();
  readonly trends = { hr: new TrendSeries(), spo2: new TrendSeries(), rr: new TrendSeries() };
  /** Sequence bookkeeping per stream (duplicates, holes, history). */
  private readonly seqs: Record<StreamName, SeqTrack> = {
    obs: new SeqTrack(),
    wave: new SeqTrack(),
    alarm: new SeqTrack(),
    status: new SeqTrack(),
  };
  /** Per stream since its subscription: ranges declared missing (Gap) and Batches that could not be read. */
  private readonly declared: Record<StreamName, number> = { obs: 0, wave: 0, alarm: 0, status: 0 };
  /** Jumps in waveform sample indices held by the tracks (they outlive subscriptions, as the tracks do). */
  private waveJumps = 0;
  lastGapMs = 0;
  lastGapReason = 0;
  readonly link: LinkInfo = { state: 0, atMs: 0, reason: '', diagnosis: '', lastFrameMs: 0, downSinceMs: 0 };
  /** The newest data Batch was replayed from the gateway's outbox after an outage (Batch.backfill). */
  backfilling = false;
  /** The trend history came as every n-th Batch: its points are n times further apart than live ones. */
  trendStride = 1;

  constructor(readonly key: string) {}

  describe(b: BedInfo): void {
    if (b.label) this.label = b.label;
    if (b.model) this.model = b.model;
  }

  /** A (re)subscription: its history follows, so the bookkeeping of each stream it names starts from it. */
  subscribed(backfill: Partial<Record<StreamName, BackfillSummary>>): void {
    for (const s of Object.keys(backfill) as StreamName[]) {
      this.seqs[s].reset();
      this.declared[s] = 0;
    }
    // Holes in a thinned numerics history (every n-th Batch, or the newest per metric set) are not gaps.
    const obs = backfill.obs;
    if (obs !== undefined && obs.stride !== 1) this.seqs.obs.thinnedUntil = obs.toSeq;
    if (obs !== undefined && obs.stride > 0) this.trendStride = obs.stride;
    // A numerics history refills the trends from its start.
    if (obs !== undefined && obs.items > 1 && obs.stride > 0) {
      this.trends.hr.clear();
      this.trends.spo2.clear();
      this.trends.rr.clear();
    }
  }

  /**
   * Gaps in what this bed shows: since each stream was subscribed, holes in its sequence not (yet) filled by history,
   * ranges declared missing (Gap) and Batches that could not be read; and the jumps in the waveform samples held.
   */
  get gaps(): number {
    let n = this.waveJumps;
    for (const s of STREAM_NAMES) n += this.seqs[s].openHoles + this.seqs[s].lost + this.declared[s];
    return n;
  }

  /** Applies one Batch; arrivalMs is the page's clock corrected to the server's. False for a duplicate. */
  apply(b: Batch, arrivalMs: number): boolean {
    const stream = STREAM_OF[b.kind];
    const seq = Number(b.seq);
    if (stream === undefined) return false;
    const track = this.seqs[stream];
    if (seq === 0 && b.gaps.length > 0) {
      // A Gap declared by the fan-out (slow connection) or the gateway: show it, never interpolate.
      this.noteGaps(stream, b, arrivalMs);
      if (stream === 'obs') this.breakTrends(Number(b.gaps[0]?.fromTimeUs ?? 0) / 1000 || arrivalMs);
      return true;
    }
    // Duplicates by seq only: history older than what is shown (a backlog replayed after live data) is taken in.
    const holes = track.openHoles;
    const verdict = track.accept(seq, b.backfill === true);
    if (verdict === 'duplicate') return false;
    if (verdict === 'restart') this.declared[stream] = 0;
    const history = verdict === 'history';
    if (track.openHoles > holes) {
      this.lastGapMs = arrivalMs;
      this.lastGapReason = 0;
    }
    if (b.gaps.length > 0) this.noteGaps(stream, b, arrivalMs);
    const src = b.source;
    // Source.bed is the configured bed; a device's own claim (PV1-3) is kept apart (vitals.proto Source.bed_claim).
    if (!history) {
      if (src?.bed) this.label = src.bed;
      if (src?.bedClaim) this.bedClaim = src.bedClaim;
      if (src?.model) this.model = src.model;
    }
    const fallbackMs = Number(b.publishTimeUs) / 1000 || arrivalMs;
    switch (b.kind) {
      case Kind.KIND_OBS:
        this.applyObservations(b, fallbackMs);
        break;
      case Kind.KIND_WAVE:
        this.applyWaves(b, fallbackMs, history);
        break;
      case Kind.KIND_ALARM:
        this.applyAlarms(b, fallbackMs);
        break;
      case Kind.KIND_STATUS:
        this.applyStatuses(b, fallbackMs);
        break;
    }
    // Replayed data is the news only when nothing newer came live (a short backlog is sent first); history replayed
    // under live data fills the trends and never makes the bed look like it is catching up.
    if (b.kind !== Kind.KIND_STATUS && !history) this.backfilling = b.backfill === true;
    return true;
  }

  /**
   * A Batch of this bed that did not decode (its header still named the bed): a gap in that stream, shown as such;
   * its seq is accounted for, so the next Batch does not count a second gap, and a repeat of it is not counted again.
   */
  noteUndecodable(kind: number, seq: number, arrivalMs: number): void {
    const stream = STREAM_OF[kind];
    if (stream !== undefined && seq > 0 && this.seqs[stream].accept(seq, true) === 'duplicate') return;
    if (stream !== undefined) this.declared[stream]++;
    else this.declared.obs++;
    this.lastGapMs = arrivalMs;
    this.lastGapReason = GAP_UNDECODABLE;
  }

  private noteGaps(stream: StreamName, b: Batch, arrivalMs: number): void {
    this.declared[stream] += b.gaps.length;
    // The declared ranges are accounted for: the sequence goes on after them without a second gap.
    for (const g of b.gaps) this.seqs[stream].declare(Number(g.fromSeq), Number(g.toSeq));
    this.lastGapMs = arrivalMs;
    this.lastGapReason = b.gaps[b.gaps.length - 1]?.reason ?? 0;
  }

  private seen(receivedMs: number): void {
    if (receivedMs > this.lastDataMs) this.lastDataMs = receivedMs;
  }

  private applyObservations(b: Batch, fallbackMs: number): void {
    for (const o of b.observations) {
      const flags = o.flags ?? 0;
      const mdc = o.mdc ?? 0;
      const t = measuredAt(o.time, flags, fallbackMs);
      this.seen(t.receivedMs);
      const isNumber = o.value === 'number' && typeof o.number === 'number' && Number.isFinite(o.number);
      // A withdrawn or unavailable row carries no measurement, whatever number field it has.
      const value =
        isNumber && (flags & (Flag.FLAG_UNAVAILABLE | Flag.FLAG_RETRACTED)) === 0 ? (o.number as number) : null;
      const containment = o.containment ?? '';
      const method = o.method ?? '';
      const key = `${mdc}|${containment}|${method}`;
      this.trend(mdc, method, t.atMs, value);
      const prev = this.readings.get(key);
      if (prev !== undefined && prev.atMs > t.atMs) continue; // older than what is shown (history under live data)
      const text = value !== null ? '' : o.code ? o.code.text || o.code.refid || '' : (o.text ?? '');
      const lastValue = value !== null ? null : (prev?.value ?? prev?.lastValue ?? null);
      const r: Reading = {
        key,
        mdc,
        refid: o.refid ?? '',
        containment,
        method,
        value,
        lastValue,
        text,
        unit: o.unit ?? '',
        vendorUnit: o.vendorUnit ?? '',
        sentNumber: typeof o.sentNumber === 'number' && Number.isFinite(o.sentNumber) ? o.sentNumber : null,
        flags,
        atMs: t.atMs,
        deviceTime: t.deviceTime,
        receivedMs: t.receivedMs,
      };
      // The same value repeated with no time of its own: the earliest receipt is the most that is known of it.
      if (prev !== undefined && timeUnknown(r) && timeUnknown(prev) && prev.value === r.value) r.atMs = prev.atMs;
      if (prev === undefined && this.readings.size >= MAX_READINGS) this.evictOldest();
      this.readings.set(key, r);
    }
  }

  private evictOldest(): void {
    let oldest: Reading | undefined;
    for (const r of this.readings.values()) if (oldest === undefined || r.atMs < oldest.atMs) oldest = r;
    if (oldest) this.readings.delete(oldest.key);
  }

  /** Trends follow each slot's own choice: ECG HR (the pulse rate only without ECG), normal-averaging SpO2, the
   *  preferred respiration source. */
  private trend(mdc: number, method: string, atMs: number, value: number | null): void {
    if (MODALITY_VARIANTS.has(method)) return;
    const v = value ?? Number.NaN;
    if (mdc === MDC.ECG_HR) this.trends.hr.push(atMs, v);
    else if (mdc === MDC.PULSE_RATE && !this.holds(MDC.ECG_HR)) this.trends.hr.push(atMs, v);
    else if (mdc === MDC.SPO2) this.trends.spo2.push(atMs, v);
    else {
      const i = PARAMS.rr.codes.indexOf(mdc);
      if (i >= 0 && !PARAMS.rr.codes.slice(0, i).some((c) => this.holds(c))) this.trends.rr.push(atMs, v);
    }
  }

  private holds(mdc: number): boolean {
    for (const r of this.readings.values()) if (r.mdc === mdc && !MODALITY_VARIANTS.has(r.method)) return true;
    return false;
  }

  private applyWaves(b: Batch, fallbackMs: number, history: boolean): void {
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
        history,
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
        this.waveJumps += t.gaps - holes;
        this.lastGapMs = fallbackMs;
        this.lastGapReason = 0;
      }
      this.trackFlags.set(mdc, w.flags ?? 0);
      this.seen(Number(w.time?.gatewayTimeUs ?? 0) / 1000 || fallbackMs);
    }
  }

  private applyAlarms(b: Batch, fallbackMs: number): void {
    for (const a of b.alarms) {
      const id = a.id || `${a.mdc}:${a.sourceMdc}`;
      const atMs = Number(a.time?.gatewayTimeUs ?? 0) / 1000 || fallbackMs;
      let row = this.alarms.get(id);
      if (row === undefined) {
        row = {
          id,
          text: '',
          priority: 0,
          technical: false,
          active: false,
          startMs: atMs,
          lastMs: atMs,
          flags: 0,
          sourceMdc: 0,
          sourceRefid: '',
          sourceValue: null,
          sourceUnit: '',
          limitLow: null,
          limitHigh: null,
          limits: '',
        };
        this.alarms.set(id, row);
      } else if (atMs < row.lastMs) continue;
      row.text = a.text || a.refid || 'alarm';
      if (a.priority) row.priority = a.priority;
      row.technical = a.kind === 2; // ALARM_KIND_TECHNICAL
      const stated = a.state === AlarmState.ALARM_STATE_ACTIVE || a.state === AlarmState.ALARM_STATE_LATCHED;
      const phase = a.phase ?? 0;
      row.active = !a.state ? !ENDING.has(phase) : stated && !ENDING.has(phase);
      row.lastMs = atMs;
      row.flags = a.flags ?? 0;
      if (a.sourceMdc) row.sourceMdc = a.sourceMdc;
      if (a.sourceRefid) row.sourceRefid = a.sourceRefid;
      // PCD-04 source facet: the value that triggered it and the limits in force, as sent (vitals.proto Alarm).
      if (typeof a.sourceValue === 'number' && Number.isFinite(a.sourceValue)) row.sourceValue = a.sourceValue;
      if (a.sourceUnit) row.sourceUnit = a.sourceUnit;
      if (typeof a.limitLow === 'number' && Number.isFinite(a.limitLow)) row.limitLow = a.limitLow;
      if (typeof a.limitHigh === 'number' && Number.isFinite(a.limitHigh)) row.limitHigh = a.limitHigh;
      if (a.limits) row.limits = a.limits;
      this.seen(atMs);
    }
    if (this.alarms.size > MAX_ALARMS) {
      for (const [id, row] of this.alarms) {
        if (this.alarms.size <= MAX_ALARMS) break;
        if (!row.active) this.alarms.delete(id);
      }
    }
  }

  private applyStatuses(b: Batch, fallbackMs: number): void {
    for (const s of b.statuses) {
      const atMs = Number(s.time?.gatewayTimeUs ?? 0) / 1000 || fallbackMs;
      if (atMs < this.link.atMs) continue; // history older than the status shown
      const l = this.link;
      l.state = s.state ?? 0;
      l.atMs = atMs;
      l.reason = s.reason ?? '';
      l.diagnosis = s.diagnosis ?? '';
      const last = Number(s.lastFrameTimeUs ?? 0) / 1000;
      if (last > 0) l.lastFrameMs = last;
      // Down until the link says CONNECTED again: a reconnect attempt (CONNECTING) brings no data back.
      if (l.state === LinkState.LINK_STATE_DISCONNECTED) {
        if (l.downSinceMs === 0) l.downSinceMs = atMs;
      } else if (l.state === LinkState.LINK_STATE_CONNECTED) l.downSinceMs = 0;
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

  /** TEST / DEMO / SIMULATED bits in what the bed shows: its readings, its waves, its active alarms. */
  modes(): number {
    let m = 0;
    for (const r of this.readings.values()) m |= r.flags;
    for (const f of this.trackFlags.values()) m |= f;
    for (const a of this.alarms.values()) if (a.active) m |= a.flags;
    return m & MODE_FLAGS;
  }

  /**
   * The reading a single-value slot shows: among the codes that mean the parameter (never an averaging variant such
   * as fast SpO2), a current one before a stale one, a number before none, the preferred code, then the newest.
   */
  pick(def: ParamDef, nowMs: number): Reading | undefined {
    let best: Reading | undefined;
    let bestRank: number[] = [];
    for (const r of this.readings.values()) {
      const pref = def.codes.indexOf(r.mdc);
      if (pref < 0 || MODALITY_VARIANTS.has(r.method)) continue;
      const rank = [isStale(def, r, nowMs) ? 1 : 0, r.value === null ? 1 : 0, pref, -r.atMs];
      if (best === undefined || lexLess(rank, bestRank)) {
        best = r;
        bestRank = rank;
      }
    }
    return best;
  }

  /** The fast-averaging SpO2 (IEEE 11073-10404 MDC_MODALITY_FAST), shown beside the normal one, never instead. */
  fastSpo2(): Reading | undefined {
    let best: Reading | undefined;
    for (const r of this.readings.values())
      if (r.mdc === MDC.SPO2 && r.method === FAST && (best === undefined || r.atMs > best.atMs)) best = r;
    return best;
  }

  /** Every temperature held, one per site, core sites first. */
  temperatures(): { site: string; reading: Reading }[] {
    const out: { site: string; reading: Reading }[] = [];
    for (const r of this.readings.values()) {
      if (!TEMPERATURE_SITES.has(r.mdc)) continue;
      out.push({ site: temperatureSite(r.mdc, r.containment, r.method), reading: r });
    }
    return out.sort(
      (a, b) =>
        siteRank(a.site) - siteRank(b.site) ||
        a.site.localeCompare(b.site) ||
        a.reading.key.localeCompare(b.reading.key),
    );
  }

  /** The newest NIBP measurement: systolic, and diastolic and mean of the same code family (cuff or non-invasive). */
  nibp(): Nibp | undefined {
    let sys: Reading | undefined;
    let family: readonly number[] = [];
    for (const r of this.readings.values()) {
      const f = NIBP_FAMILIES.find((x) => x[0] === r.mdc);
      if (f && (sys === undefined || r.atMs > sys.atMs)) {
        sys = r;
        family = f;
      }
    }
    if (sys === undefined) return undefined;
    const newest = (mdc: number | undefined): Reading | undefined => {
      let best: Reading | undefined;
      for (const r of this.readings.values()) if (r.mdc === mdc && (best === undefined || r.atMs > best.atMs)) best = r;
      return best;
    };
    return { sys, dia: newest(family[1]), mean: newest(family[2]) };
  }
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y;
  }
  return false;
}

export const PRIORITY_NAME: Record<number, string> = {
  [AlarmPriority.ALARM_PRIORITY_HIGH]: 'high',
  [AlarmPriority.ALARM_PRIORITY_MEDIUM]: 'medium',
  [AlarmPriority.ALARM_PRIORITY_LOW]: 'low',
  [AlarmPriority.ALARM_PRIORITY_NONE]: 'info',
};

/** The page's own gap reason (not a GapReason of the contract): a Batch arrived that could not be decoded. */
export const GAP_UNDECODABLE = -1;

export const GAP_REASON_TEXT: Record<number, string> = {
  [GAP_UNDECODABLE]: 'data that could not be read',
  [GapReason.GAP_REASON_DEVICE_DISCONNECTED]: 'device disconnected',
  [GapReason.GAP_REASON_SHED_QUOTA]: 'gateway storage full: data shed',
  [GapReason.GAP_REASON_SLOW_CLIENT]: 'this screen fell behind',
  [GapReason.GAP_REASON_DEVICE_ERROR]: 'corrupt frames from the device',
  [GapReason.GAP_REASON_RESTART]: 'gateway restarted',
  [GapReason.GAP_REASON_DEVICE_SILENT]: 'device silent',
  [GapReason.GAP_REASON_DEVICE_SKIPPED]: 'the device skipped data',
  [GapReason.GAP_REASON_UNSENDABLE]: 'data the gateway could not send',
};
