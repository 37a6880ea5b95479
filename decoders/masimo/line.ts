// Masimo Radical-7 "ASCII 1" serial line, read without interpretation: the device time and the
// KEY=value fields as sent. ../shared/protocols.md and the MD PnP Radical-5/7 driver
// (mdpnp/mdpnp other/pox_rad/src/poxrad_discrete.h) give the layout:
//   MM/dd/yy HH:mm:ss SN=<serial> SPO2=<n>% BPM=<n> PI=<n>% SPCO=<n>% SPMET=<n>% DESAT=<n>
//   PIDELTA=<n> PVI=<n> ALARM=<hex> EXC=<hex>
// one line a second, fields separated by spaces. A value made of dashes ("---", "--.-", "+--") is
// "no value"; a '%' after a value is its unit. Radical-5 and Rad-8 lines are subsets (no SN, or PR
// for BPM) and read the same way.

/** MM/dd/yy HH:mm:ss, as the device shows its clock (local time, no offset). */
const TIMESTAMP = /(\d\d)\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?=\s|$)/g;
const NUMBER = /^[+-]?\d+(\.\d+)?$/;
const NO_VALUE = /^[+-]?[-.]*-[-.]*$/;
const HEX = /^[0-9A-Fa-f]{1,8}(?=$|:)/; // Rad-8 trend lines append ":Search,OffPat,SET"

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export interface RawField {
  key: string;
  raw: string;
}

export interface RawLine {
  time: LocalTime;
  /** Characters before the time (line noise); 0 when the line starts with it. */
  skipped: number;
  fields: RawField[];
}

/** Splits a line into its time and fields; undefined when it has no valid time. */
export function splitLine(text: string): RawLine | undefined {
  // The first well-formed, possible date and time: noise may look like one ("99/99/99 ...").
  for (const m of text.matchAll(TIMESTAMP)) {
    const [mo, d, y, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    const time = { year: 2000 + y, month: mo, day: d, hour: h, minute: mi, second: s };
    if (validTime(time)) return { time, skipped: m.index, fields: fields(text.slice(m.index + m[0].length)) };
  }
  return undefined;
}

function fields(rest: string): RawField[] {
  const out: RawField[] = [];
  for (const tok of rest.split(/\s+/)) {
    if (tok === '') continue;
    const eq = tok.indexOf('=');
    out.push(eq < 0 ? { key: tok, raw: '' } : { key: tok.slice(0, eq), raw: tok.slice(eq + 1) });
  }
  return out;
}

function validTime(t: LocalTime): boolean {
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.hour > 23 || t.minute > 59 || t.second > 59) return false;
  return new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDate() === t.day; // 02/30 is no date
}

/** Device local time as UTC microseconds, using the UTC offset the gateway assumes for the device. */
export function localTimeToUtcUs(t: LocalTime, offsetMin: number): number {
  return (Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - offsetMin * 60_000) * 1000;
}

export type NumericValue =
  { kind: 'number'; value: number; unit: string } | { kind: 'none'; unit: string } | { kind: 'bad' };

/** "098%" -> 98 with unit '%'; "--.-%" -> no value; anything else is unreadable. */
export function readNumeric(raw: string): NumericValue {
  const pct = raw.endsWith('%');
  const v = pct ? raw.slice(0, -1) : raw;
  const unit = pct ? '%' : '';
  if (NUMBER.test(v)) return { kind: 'number', value: Number(v), unit };
  if (NO_VALUE.test(v)) return { kind: 'none', unit };
  return { kind: 'bad' };
}

/** ALARM / EXC bit fields: hex digits; dashes mean none set. Undefined when unreadable. */
export function readHex(raw: string): number | undefined {
  if (NO_VALUE.test(raw)) return 0;
  const m = HEX.exec(raw);
  return m ? parseInt(m[0], 16) : undefined;
}
