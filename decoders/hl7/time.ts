// HL7 v2 DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ] (HL7 v2.6 ch. 2A.22).
// Returns Unix microseconds and the stated UTC offset in minutes (undefined when absent, in
// which case the caller's default offset applies).

export interface Hl7Time {
  us: number;
  offsetMin: number | undefined;
}

// Mindray senders write milliseconds as three digits without the decimal point
// (20260124124738000+0800); they are read as milliseconds.
const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4})|(\d{3}))?)?)?)?)?)?([+-]\d{4})?$/;

export function parseHl7Time(s: string, defaultOffsetMin = 0): Hl7Time | null {
  const m = DTM.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) : 1;
  const day = m[3] ? Number(m[3]) : 1;
  const hour = m[4] ? Number(m[4]) : 0;
  const min = m[5] ? Number(m[5]) : 0;
  const sec = m[6] ? Number(m[6]) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) return null;
  const frac = m[7] ?? m[8];
  const fracUs = frac ? Math.round(Number(`0.${frac}`) * 1e6) : 0;
  let offsetMin: number | undefined;
  const tz = m[9];
  if (tz) {
    const sign = tz[0] === '-' ? -1 : 1;
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(3, 5));
    if (oh > 14 || om > 59) return null;
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, min, sec);
  // Date.UTC rolls 31 Feb into March; refuse rather than shift a clinical timestamp.
  if (new Date(ms).getUTCDate() !== day) return null;
  return { us: (ms - (offsetMin ?? defaultOffsetMin) * 60_000) * 1000 + fracUs, offsetMin };
}

/** Formats Unix microseconds as an HL7 DTM with milliseconds and the given UTC offset. */
export function formatHl7Time(us: number, offsetMin = 0): string {
  const d = new Date(Math.floor(us / 1000) + offsetMin * 60_000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  return `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(
    d.getUTCMinutes(),
  )}${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}
