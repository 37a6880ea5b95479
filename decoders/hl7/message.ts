// HL7 v2 message model, parsed in place: one pass over the bytes records where each segment and
// field starts; components, repetitions and values are read from the Buffer only when asked for.
// The parser object is reused across messages, so a steady stream of messages allocates nothing
// in here once its arrays have grown to the largest message seen.
//
// Encoding characters come from MSH-1 and MSH-2 (HL7 v2.x ch. 2.5.4): field, component,
// repetition, escape, sub-component, and from v2.7 an optional truncation character. Segments
// end with CR; LF and CRLF from sloppy senders are accepted, and empty lines are skipped.

export interface Delimiters {
  field: number;
  component: number;
  repetition: number;
  escape: number;
  subcomponent: number;
}

/** A byte range [start, end) packed in one number: start * 2^24 + end. -1 means absent. */
export type Span = number;
const SHIFT = 16777216; // 2^24: messages are capped below 16 MiB (the MLLP framer caps them at 1 MiB)
export const NONE: Span = -1;

// Division by 2^24 is exact and `| 0` truncates (starts are < 2^31); `%` on a double would
// compile to a slow fmod call, so the end is recovered by multiply and subtract. The final
// `| 0` (exact: ends are < 2^24) tells the compiler the end is an int32: loops bounded by it
// then compare integers instead of converting the index to a double on every step.
export function spanStart(s: Span): number {
  return (s / SHIFT) | 0;
}
export function spanEnd(s: Span): number {
  return (s - ((s / SHIFT) | 0) * SHIFT) | 0;
}
export function spanLength(s: Span): number {
  if (s < 0) return 0;
  const start = (s / SHIFT) | 0;
  return s - start * SHIFT - start;
}
export function makeSpan(start: number, end: number): Span {
  return start * SHIFT + end;
}
function span(start: number, end: number): Span {
  return start * SHIFT + end;
}

export type Charset = 'utf8' | 'latin1';

export interface ParseFailure {
  code: 'VW_ERR_HL7_NO_MSH' | 'VW_ERR_HL7_BAD_ENCODING_CHARS';
  detail: string;
}

const CR = 0x0d;
const LF = 0x0a;

export interface Hl7Message {
  readonly buf: Buffer;
  /** The same bytes as a DataView, for comparing them four at a time (see sameBytes). */
  readonly view: DataView;
  readonly delims: Delimiters;
  readonly charset: Charset;
  readonly segmentCount: number;
  /** Three-letter segment id compared without allocating. */
  segmentIs(seg: number, id: string): boolean;
  segmentId(seg: number): string;
  /** HL7 field n of a segment (MSH-n counts MSH-1 as the separator itself), or NONE. */
  field(seg: number, n: number): Span;
  /** Number of the last field present in a segment. */
  fieldCount(seg: number): number;
  /** Byte offset where a segment ends (its terminator, or the end of the message). */
  segmentEnd(seg: number): number;
  /** Byte offset where a segment starts. */
  segmentStart(seg: number): number;
}

export interface Hl7Parser extends Hl7Message {
  /** Parses buf in place. Returns null on success, or why the message cannot be read. */
  parse(buf: Buffer): ParseFailure | null;
}

export function createHl7Parser(): Hl7Parser {
  let buf: Buffer = Buffer.alloc(0);
  const delims: Delimiters = { field: 0x7c, component: 0x5e, repetition: 0x7e, escape: 0x5c, subcomponent: 0x26 };
  let charset: Charset = 'utf8';
  let segCount = 0;
  let segStart = new Int32Array(64);
  let segEnd = new Int32Array(64);
  let segFirstField = new Int32Array(64); // index into fieldStart of field 0 (the segment id)
  let segFields = new Int32Array(64); // number of separators-delimited parts, id included
  let fieldStart = new Int32Array(1024); // each part's first byte; its end is the next part's start - 1
  let nf = 0; // fieldStart entries used by the segments indexed so far

  /** Splits a segment into fields (once per message). */
  function indexFields(seg: number): void {
    const fs = delims.field;
    const b = buf;
    const start = segStart[seg] as number;
    const end = segEnd[seg] as number;
    segFirstField[seg] = nf;
    if (nf === fieldStart.length) fieldStart = growInt32(fieldStart);
    fieldStart[nf++] = start;
    for (let j = start; j < end; j++) {
      if (b[j] === fs) {
        if (nf === fieldStart.length) fieldStart = growInt32(fieldStart);
        fieldStart[nf++] = j + 1;
      }
    }
    segFields[seg] = nf - (segFirstField[seg] as number);
  }

  function growSegments(): void {
    const n = segStart.length * 2;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    segStart = grow(segStart);
    segEnd = grow(segEnd);
    segFirstField = grow(segFirstField);
    segFields = grow(segFields);
  }

  function parse(b: Buffer): ParseFailure | null {
    buf = b;
    (self as { buf: Buffer }).buf = b;
    (self as { view: DataView }).view = new DataView(b.buffer, b.byteOffset, b.length);
    segCount = 0;
    (self as { segmentCount: number }).segmentCount = 0;
    const len = b.length;
    // MSH|^~\& : the first segment must be MSH with its encoding characters.
    let p = 0;
    while (p < len && (b[p] === CR || b[p] === LF)) p++;
    if (len - p < 8 || b[p] !== 0x4d || b[p + 1] !== 0x53 || b[p + 2] !== 0x48) {
      return { code: 'VW_ERR_HL7_NO_MSH', detail: `${len} bytes` };
    }
    const fs = b[p + 3] as number;
    const cs = b[p + 4] as number;
    const rs = b[p + 5] as number;
    const es = b[p + 6] as number;
    const ss = b[p + 7] as number;
    if (!isDelimiter(fs) || !isDelimiter(cs) || !isDelimiter(rs) || !isDelimiter(es) || !allDifferent(fs, cs, rs, es)) {
      return { code: 'VW_ERR_HL7_BAD_ENCODING_CHARS', detail: 'MSH-1/MSH-2' };
    }
    delims.field = fs;
    delims.component = cs;
    delims.repetition = rs;
    delims.escape = es;
    // A message may omit the sub-component separator (MSH-2 of three characters); then none exists.
    delims.subcomponent = isDelimiter(ss) && ss !== fs ? ss : -1;

    // Segments are found with native scans for the line ends; fields are indexed lazily, on the
    // first field() of a segment, so rows a decoder recognises by their bytes are never split.
    nf = 0;
    const hasLf = b.indexOf(LF, p) !== -1;
    const hasCr = b.indexOf(CR, p) !== -1;
    let i = p;
    while (i < len) {
      const c0 = b[i] as number;
      if (c0 === CR || c0 === LF) {
        i++; // segment terminator, or an empty line
        continue;
      }
      let j = hasCr ? b.indexOf(CR, i) : len;
      if (j === -1) j = len;
      if (hasLf) {
        const k = b.indexOf(LF, i);
        if (k !== -1 && k < j) j = k;
      }
      if (segCount === segStart.length) growSegments();
      segStart[segCount] = i;
      segEnd[segCount] = j;
      segFirstField[segCount] = -1;
      segCount++;
      i = j + 1;
    }
    charset = 'utf8';
    const msh18 = field(0, 18);
    // HL7 Table 0211: ISO IR100 / 8859/1 is Latin-1; ASCII is its subset. UTF-8 as "UNICODE UTF-8".
    if (
      msh18 >= 0 &&
      (asciiEqualsUpper(b, msh18, '8859/1') ||
        asciiEqualsUpper(b, msh18, 'ISO IR100') ||
        asciiEqualsUpper(b, msh18, 'ASCII'))
    ) {
      charset = 'latin1';
    }
    (self as { charset: Charset }).charset = charset;
    (self as { segmentCount: number }).segmentCount = segCount;
    return null;
  }

  function field(seg: number, n: number): Span {
    if (seg >= segCount || n < 0) return NONE;
    if ((segFirstField[seg] as number) < 0) indexFields(seg);
    // MSH-1 is the field separator itself: MSH-n is part n-1 of the split; MSH-1 has no span.
    const isMsh = seg === 0;
    if (isMsh && n === 1) return NONE;
    const part = isMsh ? n - 1 : n;
    if (part >= (segFields[seg] as number)) return NONE;
    const idx = (segFirstField[seg] as number) + part;
    const start = fieldStart[idx] as number;
    const end = part + 1 < (segFields[seg] as number) ? (fieldStart[idx + 1] as number) - 1 : (segEnd[seg] as number);
    return span(start, end);
  }

  // Plain data properties, set by parse(): an object literal with getters is created in V8's
  // dictionary mode, and every m.buf / m.field(...) of the decoders would be a hash lookup.
  const self: Hl7Parser = {
    buf,
    view: new DataView(buf.buffer, buf.byteOffset, buf.length),
    delims,
    charset,
    segmentCount: 0,
    segmentIs(seg, id) {
      const s = segStart[seg] as number;
      return (
        seg < segCount &&
        buf[s] === id.charCodeAt(0) &&
        buf[s + 1] === id.charCodeAt(1) &&
        buf[s + 2] === id.charCodeAt(2) &&
        (s + 3 === segEnd[seg] || buf[s + 3] === delims.field)
      );
    },
    segmentId(seg) {
      const s = segStart[seg] as number;
      return buf.toString('latin1', s, Math.min(s + 3, segEnd[seg] as number));
    },
    field,
    segmentEnd(seg) {
      return segEnd[seg] ?? 0;
    },
    segmentStart(seg) {
      return segStart[seg] ?? 0;
    },
    fieldCount(seg) {
      if (seg >= segCount) return 0;
      if ((segFirstField[seg] as number) < 0) indexFields(seg);
      const parts = segFields[seg] ?? 0;
      return seg === 0 ? parts : parts - 1;
    },
    parse,
  };
  return self;
}

function isDelimiter(c: number): boolean {
  // Printable, not alphanumeric, not space: HL7 2.5.4 leaves the choice to the sender but these
  // would make the message unreadable.
  return c > 0x20 && c < 0x7f && !((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
}

/** No two of the four encoding characters alike (without building a Set per message). */
function allDifferent(a: number, b: number, c: number, d: number): boolean {
  return a !== b && a !== c && a !== d && b !== c && b !== d && c !== d;
}

/** The span, upper-cased, equals `upper` (ASCII; no string is made). */
function asciiEqualsUpper(buf: Buffer, s: Span, upper: string): boolean {
  const start = spanStart(s);
  if (spanEnd(s) - start !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    const c = buf[start + i] as number;
    if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== upper.charCodeAt(i)) return false;
  }
  return true;
}

function growInt32(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The k-th (1-based) part of a span split on a separator byte, or NONE. */
export function part(buf: Buffer, s: Span, sep: number, k: number): Span {
  if (s < 0 || sep < 0) return k === 1 ? s : NONE;
  // A JS loop, not Buffer.indexOf: spans are a few bytes long and the native call costs more
  // than the scan.
  let start = spanStart(s);
  const end = spanEnd(s);
  let i = start;
  let n = 1;
  for (; i < end; i++) {
    if (buf[i] === sep) {
      if (n === k) return span(start, i);
      n++;
      start = i + 1;
    }
  }
  return n === k ? span(start, end) : NONE;
}

/** Component k (1-based) of the first repetition of a field. */
export function component(m: Hl7Message, s: Span, k: number): Span {
  if (s < 0) return NONE;
  const buf = m.buf;
  const rs = m.delims.repetition;
  const cs = m.delims.component;
  // One pass: stop at the first repetition separator, count component separators.
  let start = spanStart(s);
  const end = spanEnd(s);
  let n = 1;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === rs) return n === k ? span(start, i) : NONE;
    if (c === cs) {
      if (n === k) return span(start, i);
      n++;
      start = i + 1;
    }
  }
  return n === k ? span(start, end) : NONE;
}

/** Number of parts of a span split on sep (an empty span has one empty part). */
export function countParts(buf: Buffer, s: Span, sep: number): number {
  if (s < 0) return 0;
  let n = 1;
  const end = spanEnd(s);
  for (let i = spanStart(s); i < end; i++) if (buf[i] === sep) n++;
  return n;
}

export function isEmpty(s: Span): boolean {
  return s < 0 || spanLength(s) === 0;
}

/** A DataView over exactly a Buffer's bytes. */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * a[aStart, +len) equals b[bStart, +len)? Compares four bytes per read: a DataView read compiles
 * to one unaligned load, and the decoders compare row and time bytes of every message (a byte
 * loop costs ~3x as much, a native Buffer.compare more still at these lengths of 10-100 bytes).
 */
export function sameBytes(a: DataView, aStart: number, b: DataView, bStart: number, len: number): boolean {
  let i = 0;
  for (; i + 4 <= len; i += 4) if (a.getInt32(aStart + i, true) !== b.getInt32(bStart + i, true)) return false;
  for (; i < len; i++) if (a.getUint8(aStart + i) !== b.getUint8(bStart + i)) return false;
  return true;
}

/** True when the span's bytes equal the ASCII string. */
export function spanEquals(buf: Buffer, s: Span, ascii: string): boolean {
  if (s < 0) return ascii.length === 0;
  const start = spanStart(s);
  if (spanEnd(s) - start !== ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (buf[start + i] !== ascii.charCodeAt(i)) return false;
  return true;
}
