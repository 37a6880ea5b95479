// Reading HL7 values: text with escape sequences (HL7 v2.x ch. 2.7), numbers without
// intermediate strings, and an interner so the codes and units a device repeats every second
// become strings once.
import { NONE, spanEnd, spanStart, type Hl7Message, type Span } from './message.js';

/** Text of a span, escapes resolved, decoded in the message's charset. */
export function readText(m: Hl7Message, s: Span): string {
  if (s < 0) return '';
  const start = spanStart(s);
  const end = spanEnd(s);
  const buf = m.buf;
  const esc = m.delims.escape;
  const first = buf.indexOf(esc, start);
  if (first === -1 || first >= end) return buf.toString(m.charset, start, end);
  return unescape(m, start, end);
}

// \F\ field, \S\ component, \T\ sub-component, \R\ repetition, \E\ escape, \Xhh..\ raw bytes
// in the message charset, \.br\ line break; highlighting (\H\ \N\) and formatting commands other
// than .br are dropped; anything else is kept as written.
function unescape(m: Hl7Message, start: number, end: number): string {
  const buf = m.buf;
  const d = m.delims;
  const out: number[] = [];
  let i = start;
  while (i < end) {
    const c = buf[i] as number;
    if (c !== d.escape) {
      out.push(c);
      i++;
      continue;
    }
    const close = buf.indexOf(d.escape, i + 1);
    if (close === -1 || close >= end) {
      out.push(c);
      i++;
      continue;
    }
    const body = buf.toString('latin1', i + 1, close);
    let bytes: number[] | null = null;
    switch (body) {
      case 'F':
        bytes = [d.field];
        break;
      case 'S':
        bytes = [d.component];
        break;
      case 'T':
        bytes = d.subcomponent >= 0 ? [d.subcomponent] : null;
        break;
      case 'R':
        bytes = [d.repetition];
        break;
      case 'E':
        bytes = [d.escape];
        break;
      case 'H':
      case 'N':
        bytes = [];
        break;
      case '.br':
        bytes = [0x0a];
        break;
      default:
        if (/^X([0-9A-Fa-f]{2})+$/.test(body)) {
          bytes = [];
          for (let k = 1; k < body.length; k += 2) bytes.push(parseInt(body.slice(k, k + 2), 16));
        }
    }
    if (bytes === null) {
      for (let k = i; k <= close; k++) out.push(buf[k] as number);
    } else {
      for (const b of bytes) out.push(b);
    }
    i = close + 1;
  }
  return Buffer.from(out).toString(m.charset);
}

/**
 * HL7 NM (HL7 v2.x 2A.47): optional sign, digits, optional decimal point and digits; leading and
 * trailing spaces tolerated. Returns NaN for anything else, including an empty value.
 */
export function readNumber(buf: Buffer, s: Span): number {
  if (s < 0) return NaN;
  let i = spanStart(s);
  let end = spanEnd(s);
  while (i < end && buf[i] === 0x20) i++;
  while (end > i && buf[end - 1] === 0x20) end--;
  if (i === end) return NaN;
  let neg = false;
  if (buf[i] === 0x2d || buf[i] === 0x2b) {
    neg = buf[i] === 0x2d;
    i++;
  }
  let mant = 0;
  let sig = 0; // significant digits kept
  let frac = 0; // decimal places kept (negative: integer digits dropped beyond 15)
  let dot = false;
  let saw = false;
  for (; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x30 && c <= 0x39) {
      saw = true;
      // Beyond 15 significant digits doubles are not exact; such a value is not a vital sign.
      if (sig < 15) {
        mant = mant * 10 + (c - 0x30);
        if (mant > 0) sig++;
        if (dot) frac++;
      } else if (!dot) {
        frac--;
      }
    } else if (c === 0x2e && !dot) {
      dot = true;
    } else {
      return NaN;
    }
  }
  if (!saw) return NaN;
  // One rounding: an exact integer divided by an exact power of ten.
  const v = frac >= 0 ? mant / 10 ** frac : mant * 10 ** -frac;
  return neg ? -v : v;
}

/** Decimal places written in an NM value (for choosing a waveform scale); -1 when not a number. */
export function decimalPlaces(buf: Buffer, s: Span): number {
  if (s < 0) return -1;
  const start = spanStart(s);
  const end = spanEnd(s);
  const dot = buf.indexOf(0x2e, start);
  if (dot === -1 || dot >= end) return 0;
  let e = end;
  while (e > dot + 1 && buf[e - 1] === 0x20) e--;
  return e - dot - 1;
}

/**
 * Byte-keyed cache of whatever a field's bytes decode to: the same code, unit and containment
 * bytes arrive every second from every device, so each distinct value is decoded once. Bounded:
 * when full, it is cleared and refilled. Escaped text is never cached (rare, and charset-bound).
 */
export interface SpanCache<T> {
  /**
   * `slot` (optional) names where in a message the field sits (e.g. OBX row x field): a device
   * sends the same rows in the same order, so the entry last seen in that slot is compared first
   * and, on a hit, no hash is computed at all.
   */
  get(m: Hl7Message, s: Span, slot?: number): T;
}

export function createSpanCache<T>(compute: (m: Hl7Message, s: Span) => T, empty: T, max = 4096): SpanCache<T> {
  const table = new Map<number, { bytes: Buffer; value: T }[]>();
  const slots: ({ bytes: Buffer; value: T } | undefined)[] = [];
  const MAX_SLOTS = 1024;
  let size = 0;
  return {
    get(m, s, slot) {
      if (s < 0) return empty;
      const buf = m.buf;
      const start = spanStart(s);
      const end = spanEnd(s);
      if (end === start) return empty;
      const inSlot = slot !== undefined && slot < MAX_SLOTS ? slots[slot] : undefined;
      if (inSlot !== undefined && sameBytes(inSlot.bytes, buf, start, end)) return inSlot.value;
      const esc = m.delims.escape;
      let h = 0x811c9dc5 ^ (m.charset === 'utf8' ? 1 : 2);
      for (let i = start; i < end; i++) {
        const c = buf[i] as number;
        if (c === esc) return compute(m, s);
        h = Math.imul(h ^ c, 0x01000193);
      }
      // Keep the key a small integer (31-bit Smi): larger ones become heap numbers and every
      // Map lookup would allocate.
      h &= 0x3fffffff;
      const bucket = table.get(h);
      if (bucket !== undefined) {
        for (let k = 0; k < bucket.length; k++) {
          const e = bucket[k] as { bytes: Buffer; value: T };
          if (sameBytes(e.bytes, buf, start, end)) {
            if (slot !== undefined && slot < MAX_SLOTS) slots[slot] = e;
            return e.value;
          }
        }
      }
      const value = compute(m, s);
      if (size >= max) {
        table.clear();
        size = 0;
      }
      const entry = { bytes: Buffer.from(buf.subarray(start, end)), value };
      if (bucket !== undefined) bucket.push(entry);
      else table.set(h, [entry]);
      size++;
      if (slot !== undefined && slot < MAX_SLOTS) slots[slot] = entry;
      return value;
    },
  };
}

export type Interner = SpanCache<string>;

/** Strings of spans, decoded once per distinct byte sequence. */
export function createInterner(max = 4096): Interner {
  return createSpanCache(readText, '', max);
}

function sameBytes(a: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

export { NONE };
