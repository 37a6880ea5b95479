// Names for exported values: quality flags by their contract names, times as ISO 8601 with microseconds.
import { Flag } from '../../proto/index.js';

const FLAG_BITS: readonly [number, string][] = Object.entries(Flag)
  .filter(([name, v]) => typeof v === 'number' && v !== 0 && name.startsWith('FLAG_'))
  .map(([name, v]) => [v as number, name] as [number, string])
  .sort((a, b) => a[0] - b[0]);

/** The FLAG_* names set in a mask, lowest bit first (bits the contract does not name come as FLAG_BIT_<n>). */
export function flagNames(flags: number): string[] {
  const out: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of FLAG_BITS) {
    if (rest & bit) out.push(name);
    rest &= ~bit >>> 0;
  }
  for (let b = 0; rest; b++, rest >>>= 1) if (rest & 1) out.push(`FLAG_BIT_${b}`);
  return out;
}

/** Microseconds since the epoch as 2026-01-15T08:00:00.123456Z (FHIR dateTime/instant keep every digit given). */
export function formatUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, 23)}${String(Math.round(micros)).padStart(3, '0')}Z`;
}

/** Parses a time given on the command line: ISO 8601 (with zone), or epoch microseconds. */
export function parseTimeUs(s: string): number {
  if (/^\d{13,17}$/.test(s)) return Number(s);
  const m = /\.(\d{4,6})(Z|[+-]\d{2}:?\d{2})$/.exec(s);
  const ms = Date.parse(m ? s.replace(/\.(\d{4,6})(?=Z|[+-])/, (d) => d.slice(0, 4)) : s);
  if (!Number.isFinite(ms) || !/(Z|[+-]\d{2}:?\d{2})$/.test(s)) return Number.NaN;
  const extra = m ? Number((m[1] as string).slice(3).padEnd(3, '0')) : 0;
  return ms * 1000 + extra;
}
