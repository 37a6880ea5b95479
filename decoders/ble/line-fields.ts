// Field parsers for the VWB bridge line (docs/ble-bridge.md), reading straight from the
// line's bytes: no string split, no per-byte substring.

const NIBBLE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[0x41 + i] = 10 + i;
  NIBBLE[0x61 + i] = 10 + i;
}

function nib(line: Buffer, i: number): number {
  return NIBBLE[line[i] ?? 0] ?? -1;
}

/** Value of the hex digits line[start..end) (at most 8), or -1 if any is not a hex digit. */
export function hexValue(line: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const n = nib(line, i);
    if (n < 0) return -1;
    v = v * 16 + n;
  }
  return v;
}

/**
 * Decodes the hex digits line[start..end) into out (reused between lines); returns the byte
 * count, or -1 when the count is odd, a digit is not hex, or out is too small.
 */
export function decodeHex(line: Buffer, start: number, end: number, out: Buffer): number {
  const n = end - start;
  if (n % 2 !== 0 || n / 2 > out.length) return -1;
  for (let i = start, o = 0; i < end; i += 2, o++) {
    const hi = nib(line, i);
    const lo = nib(line, i + 1);
    if (hi < 0 || lo < 0) return -1;
    out[o] = (hi << 4) | lo;
  }
  return n / 2;
}

export const UUID_INVALID = -1;
/** A well-formed 128-bit UUID outside the Bluetooth Base UUID: a vendor-specific characteristic. */
export const UUID_VENDOR = -2;

// Bluetooth Core Vol 3 Part B 2.5.1: 16-bit UUIDs stand for 0000xxxx-0000-1000-8000-00805F9B34FB.
const BASE_TAIL = '-0000-1000-8000-00805f9b34fb';

/** 16-bit UUID of a field: "180D", or the 36-character Base UUID form; UUID_INVALID or UUID_VENDOR otherwise. */
export function parseUuid16(line: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n === 4) {
    const v = hexValue(line, start, end);
    return v < 0 ? UUID_INVALID : v;
  }
  if (n !== 36) return UUID_INVALID;
  for (let i = 0; i < 36; i++) {
    const c = line[start + i] ?? 0;
    const dash = i === 8 || i === 13 || i === 18 || i === 23;
    if (dash ? c !== 0x2d : NIBBLE[c] === -1) return UUID_INVALID;
  }
  const prefix = hexValue(line, start, start + 4);
  if (prefix !== 0 || line.toString('latin1', start + 8, end).toLowerCase() !== BASE_TAIL) return UUID_VENDOR;
  return hexValue(line, start + 4, start + 8);
}

/**
 * Peripheral addresses ("C4:7F:51:0A:22:3B", "c4-7f-51-0a-22-3b" or "C47F510A223B") as the
 * normalised device id: 12 upper-case hex digits, no separators. The last address is cached,
 * so a steady stream from one peripheral allocates no string per line.
 */
export class AddressParser {
  private last = Buffer.alloc(17);
  private lastLen = 0;
  private lastText = '';

  /** Normalised address, or '' when the field is not a 48-bit address. */
  parse(line: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n === this.lastLen && n > 0 && line.compare(this.last, 0, n, start, end) === 0) return this.lastText;
    let text: string;
    if (n === 12) {
      if (hexValue(line, start, start + 6) < 0 || hexValue(line, start + 6, end) < 0) return '';
      text = line.toString('latin1', start, end).toUpperCase();
    } else if (n === 17) {
      const sep = line[start + 2];
      if (sep !== 0x3a && sep !== 0x2d) return '';
      let s = '';
      for (let i = 0; i < 6; i++) {
        const at = start + i * 3;
        if (i < 5 && line[at + 2] !== sep) return '';
        if (hexValue(line, at, at + 2) < 0) return '';
        s += line.toString('latin1', at, at + 2);
      }
      text = s.toUpperCase();
    } else {
      return '';
    }
    line.copy(this.last, 0, start, end);
    this.lastLen = n;
    this.lastText = text;
    return text;
  }
}
