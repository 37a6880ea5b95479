// What a slot says, from a bed's readings and the time now: the value and its unit as the device meant them, how
// sure it is (quality flags), how old (per parameter), whether it is a patient's at all, and one sentence that says
// all of it for hover and screen readers. Pure: no DOM; bed-view.ts and ward.ts put it on screen the same way.
import { Flag, LinkState } from '../proto/index.js';
import { ageText, clockText, fixed, hhmm, plain, unitText, vendorUnitText } from './format.js';
import { isAperiodic, isStale, timeUnknown, type AlarmRow, type BedState, type Nibp, type Reading } from './model.js';
import { MDC, PARAMS, SOURCE_NAMES, type ParamDef } from './params.js';
import { modeOf, quality, type Mode } from './quality.js';

export interface Shown {
  label: string;
  value: string;
  unit: string;
  /** "?" doubtful, "!" flagged abnormal by the device, '' */
  mark: string;
  /** a small visible line: quality notes, then the age or measurement time */
  sub: string;
  /** a shorter time note for ward tiles: the measurement time of a spot value, the age of a stale one */
  short: string;
  mode: Mode;
  empty: boolean;
  stale: boolean;
  doubtful: boolean;
  struck: boolean;
  /** everything above as sentences: title attribute and accessible label */
  title: string;
}

const EMPTY_TEXT = '—';
/** Systolic and diastolic further apart than this are not one measurement. */
const NIBP_PAIR_MS = 60_000;

export function showEmpty(def: ParamDef, label = def.label): Shown {
  return {
    label,
    value: EMPTY_TEXT,
    unit: unitText(def.unit),
    mark: '',
    sub: '',
    short: '',
    mode: '',
    empty: true,
    stale: false,
    doubtful: false,
    struck: false,
    title: `${label}: no value received`,
  };
}

/** The unit a number is shown with: the reading's own; never the slot's when the reading has none. */
function unitOf(def: ParamDef, r: Reading, hasNumber: boolean): { text: string; doubt: string } {
  if (!hasNumber) return { text: unitText(r.unit || def.unit), doubt: '' };
  if (!r.unit) return { text: 'unit?', doubt: `No unit came with this number: ${unitText(def.unit)} is not assumed.` };
  if (r.flags & Flag.FLAG_UNIT_UNKNOWN) return { text: `${unitText(r.unit)}?`, doubt: '' };
  if (!def.units.includes(r.unit))
    return { text: `${unitText(r.unit)}?`, doubt: `"${r.unit}" is not a unit of ${def.label}.` };
  return { text: unitText(r.unit), doubt: '' };
}

function numberText(def: ParamDef, r: Reading | undefined): { text: string; fromLast: boolean } {
  if (r === undefined) return { text: EMPTY_TEXT, fromLast: false };
  if (r.value !== null) return { text: fixed(r.value, def.decimals), fromLast: false };
  if (r.lastValue !== null) return { text: fixed(r.lastValue, def.decimals), fromLast: true };
  return { text: r.text || EMPTY_TEXT, fromLast: false };
}

/**
 * One reading in a slot. `parts` overrides the value text (NIBP "120/80"); `extraFlags` adds the flags of the
 * readings it was built from; `extraNotes` go before the time in the small line.
 */
export function showReading(
  def: ParamDef,
  r: Reading,
  nowMs: number,
  o: { label?: string; value?: string; extraFlags?: number; extraNotes?: string[]; extraReasons?: string[] } = {},
): Shown {
  const label = o.label ?? def.label;
  const flags = r.flags | (o.extraFlags ?? 0);
  const q = quality(flags);
  const n = numberText(def, r);
  const hasNumber = r.value !== null || r.lastValue !== null;
  const unit = unitOf(def, { ...r, flags }, hasNumber);
  const notes = [...q.notes];
  const reasons = [...q.reasons, ...(o.extraReasons ?? [])];
  if (unit.doubt) {
    if (!notes.includes('unit?')) notes.push('unit?');
    reasons.push(unit.doubt);
  }
  if (flags & Flag.FLAG_DERIVED && r.sentNumber !== null) {
    // vitals.proto Observation.sent_number / vendor_unit: what the device itself said, beside the conversion.
    const sent = `${plain(r.sentNumber)} ${vendorUnitText(r.vendorUnit)}`.trim();
    notes[notes.indexOf('converted')] = `converted from ${sent}`;
    reasons.push(`The device sent ${sent}.`);
  }
  notes.push(...(o.extraNotes ?? []));
  const value = o.value ?? n.text;
  const doubtful = q.doubtful || unit.doubt !== '';
  const struck = q.struck && (n.fromLast || o.value !== undefined);
  const stale = isStale(def, r, nowMs);
  const aperiodic = isAperiodic(def, r);
  const age = ageText(nowMs - r.atMs);
  const unknown = timeUnknown(r);
  const when = unknown
    ? `time not sent · on screen before ${hhmm(r.atMs)}`
    : aperiodic
      ? `at ${hhmm(r.atMs)} · ${age} ago`
      : stale
        ? `no update for ${age}`
        : `${age} ago`;
  const limit = aperiodic ? def.aperiodicStaleMs : def.staleMs;
  const timeSentence = unknown
    ? `The device sent no time of measurement: it was measured before ${clockText(r.atMs)}, when it was first received.`
    : `${r.deviceTime ? 'Measured' : 'Received'} at ${clockText(r.atMs)}${r.deviceTime ? ' (device time)' : ''}, ${age} ago.`;
  const staleSentence = unknown
    ? ' Not shown as current.'
    : stale
      ? ` Not current: ${label} is expected at least every ${ageText(limit)}.`
      : '';
  const mode = modeOf(flags);
  return {
    label,
    value,
    unit: unit.text,
    mark: doubtful ? '?' : flags & Flag.FLAG_ABNORMAL ? '!' : '',
    sub: [...notes, when].join(' · '),
    short: unknown ? `<${hhmm(r.atMs)}` : aperiodic ? hhmm(r.atMs) : stale ? `${age} old` : '',
    mode,
    empty: r.value === null,
    stale,
    doubtful,
    struck,
    title: `${label} ${value} ${unit.text}${struck ? ' (crossed out: not current)' : ''}. ${reasons.join(' ')}${reasons.length ? ' ' : ''}${timeSentence}${staleSentence}`,
  };
}

export function showHr(bed: BedState, nowMs: number): Shown {
  const def = PARAMS.hr;
  const r = bed.pick(def, nowMs);
  if (r === undefined) return showEmpty(def);
  return showReading(def, r, nowMs, { label: r.mdc === MDC.PULSE_RATE ? 'PR' : 'HR' });
}

export function showSpo2(bed: BedState, nowMs: number): Shown {
  const def = PARAMS.spo2;
  const r = bed.pick(def, nowMs);
  const notes: string[] = [];
  // The pulse rate beside SpO2 when HR comes from the ECG; the fast average beside the normal one.
  const hr = bed.pick(PARAMS.hr, nowMs);
  if (hr?.mdc === MDC.ECG_HR) {
    for (const p of bed.readings.values()) {
      if (p.mdc === MDC.PULSE_RATE && p.method === '' && p.value !== null && !isStale(PARAMS.hr, p, nowMs))
        notes.push(`PR ${Math.round(p.value)}`);
    }
  }
  const fast = bed.fastSpo2();
  if (fast !== undefined && fast.value !== null && !isStale(def, fast, nowMs))
    notes.push(`fast ${Math.round(fast.value)}`);
  if (r === undefined) return { ...showEmpty(def), sub: notes.join(' · ') };
  return showReading(def, r, nowMs, { extraNotes: notes.slice(0, 2) });
}

export function showRr(bed: BedState, nowMs: number): Shown {
  const def = PARAMS.rr;
  const r = bed.pick(def, nowMs);
  return r === undefined ? showEmpty(def) : showReading(def, r, nowMs);
}

export function showNibp(n: Nibp | undefined, nowMs: number): Shown {
  const def = PARAMS.nibp;
  if (n === undefined) return showEmpty(def);
  const sys = numberText(def, n.sys);
  const dia = numberText(def, n.dia);
  const reasons: string[] = [];
  let extraFlags = (n.dia?.flags ?? 0) | (n.mean?.flags ?? 0);
  if (n.dia === undefined || Math.abs(n.dia.atMs - n.sys.atMs) > NIBP_PAIR_MS) {
    extraFlags |= Flag.FLAG_QUESTIONABLE;
    reasons.push('Systolic and diastolic are not from one measurement.');
  }
  const mean = n.mean?.value != null ? [`MAP ${Math.round(n.mean.value)}`] : [];
  return showReading(def, n.sys, nowMs, {
    value: `${sys.text}/${dia.text}`,
    extraFlags,
    extraNotes: mean,
    extraReasons: reasons,
  });
}

/** Every temperature site, labelled. */
export function showTemperatures(bed: BedState, nowMs: number): Shown[] {
  const def = PARAMS.temp;
  return bed
    .temperatures()
    .map((t) => showReading(def, t.reading, nowMs, { label: t.site ? `Temp ${t.site}` : 'Temp' }));
}

export interface LinkShown {
  /** '' = nothing to say (no status yet) */
  state: '' | 'down' | 'silent' | 'connecting' | 'backfill' | 'live';
  text: string;
  title: string;
}

/** The device link as the bed header and the tile say it: DISCONNECTED and SILENT in words, with the diagnosis. */
export function showLink(bed: BedState): LinkShown {
  const l = bed.link;
  // Data received after the newest status says the link carried it: that status is no longer the news.
  const current = !(bed.lastDataMs > l.atMs);
  const detail = [l.diagnosis, l.reason].filter((s) => s !== '').join(' · ');
  const last = l.lastFrameMs > 0 ? l.lastFrameMs : bed.lastDataMs;
  const lastText = Number.isFinite(last) && last > 0 ? ` Last data from the device at ${clockText(last)}.` : '';
  if (l.downSinceMs > 0 && current) {
    const reconnecting = l.state === LinkState.LINK_STATE_CONNECTING ? ' · reconnecting' : '';
    return {
      state: 'down',
      text: `DISCONNECTED since ${clockText(l.downSinceMs)}${reconnecting}${detail ? ` — ${detail}` : ''}`,
      title: `The gateway lost the link to this device at ${clockText(l.downSinceMs)}: values shown are not current.${lastText}`,
    };
  }
  if (l.state === LinkState.LINK_STATE_SILENT && current) {
    return {
      state: 'silent',
      text: `DEVICE SILENT${detail ? ` — ${detail}` : ''}`,
      title: `The link is up but the device has sent nothing for longer than it should: values shown are not current.${lastText}`,
    };
  }
  if (l.state === LinkState.LINK_STATE_CONNECTING && current) {
    return {
      state: 'connecting',
      text: `CONNECTING${detail ? ` — ${detail}` : ''}`,
      title: 'The gateway is opening the link to this device.',
    };
  }
  if (bed.backfilling) {
    return {
      state: 'backfill',
      text: 'CATCHING UP — replayed data',
      title: 'The gateway is sending data it stored during an outage: the newest values may be minutes old.',
    };
  }
  if (l.state === LinkState.LINK_STATE_CONNECTED || (l.state !== 0 && !current)) {
    return { state: 'live', text: 'DEVICE CONNECTED', title: `The gateway receives this device.${lastText}` };
  }
  return { state: '', text: '', title: '' };
}

/** An alarm's trigger as the device reported it: "SpO₂ 85 % < 90", "HR 142 /min > 120". */
export function alarmDetail(a: AlarmRow): string {
  const name = SOURCE_NAMES.get(a.sourceMdc) ?? a.sourceRefid.replace(/^MDC_/, '');
  const unit = unitText(a.sourceUnit);
  if (a.sourceValue !== null) {
    let s = [name, plain(a.sourceValue), unit].filter((x) => x !== '').join(' ');
    if (a.limitLow !== null && a.sourceValue < a.limitLow) s += ` < ${plain(a.limitLow)}`;
    else if (a.limitHigh !== null && a.sourceValue > a.limitHigh) s += ` > ${plain(a.limitHigh)}`;
    else if (a.limitLow !== null || a.limitHigh !== null)
      s += ` (limits ${a.limitLow !== null ? plain(a.limitLow) : '…'}–${a.limitHigh !== null ? plain(a.limitHigh) : '…'})`;
    return s;
  }
  if (a.limits) return `${name} limits ${a.limits}`.trim();
  return '';
}
