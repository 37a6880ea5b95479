// What a UART receiver delivers from a line that another UART drives at another rate or framing: the physics behind
// the gateway's baud-rate diagnosis (what can be inferred from bytes read at the wrong rate, and what cannot), and the
// wire that tests put between a simulated device and a pty (a pty itself ignores the baud rate).
//
// The model (an asynchronous serial frame, EIA-232 / the 16550 receiver): the idle line is 1 (mark); a character is a
// start bit 0, the data bits least significant first, an optional parity bit, and 1 or 2 stop bits 1. A receiver
// hunts for a 1-to-0 transition, checks the start bit in its middle (a 1 there is a glitch: hunting goes on), then
// samples every following bit in its middle at its own rate, and after sampling the stop bit hunts again. Sampling
// happens 1/32 of a bit after the ideal middle (a 16x oversampling receiver sees the edge up to 1/16 bit late), so a
// sample never falls exactly on a bit boundary. A character whose stop bit or parity is wrong is still delivered with
// the data bits sampled: Linux does so with serialport's settings (IGNPAR without INPCK, in the 8250 and usb-serial
// drivers alike). Not modelled: the 16550's resynchronisation after a framing error (it takes a low stop bit as the
// next start bit), noise, and clock error between the two ends.

export interface UartFraming {
  baudRate: number;
  dataBits?: 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

const ONES = (b: number): number => {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
};

/** The line levels of `bytes` sent back to back, one entry per bit time of the sender. */
export function uartBits(bytes: Uint8Array, f: UartFraming): Uint8Array {
  const nd = f.dataBits ?? 8;
  const par = f.parity ?? 'none';
  const per = 1 + nd + (par === 'none' ? 0 : 1) + (f.stopBits ?? 1);
  const out = new Uint8Array(bytes.length * per);
  let i = 0;
  for (const b of bytes) {
    out[i++] = 0;
    for (let n = 0; n < nd; n++) out[i++] = (b >> n) & 1;
    if (par !== 'none') out[i++] = (ONES(b & ((1 << nd) - 1)) + (par === 'odd' ? 1 : 0)) & 1;
    for (let s = 0; s < (f.stopBits ?? 1); s++) out[i++] = 1;
  }
  return out;
}

/**
 * The characters a receiver set to `rx` delivers from a line carrying `bits` at `txBaud`, idle before and after.
 * Times are integers in units of 1/(32 * rx * tx) s: a sender's bit lasts 32*rx units, a receiver's 32*tx.
 */
export function uartReceive(bits: Uint8Array, txBaud: number, rx: UartFraming): Buffer {
  const R = rx.baudRate;
  const T = txBaud;
  const nd = rx.dataBits ?? 8;
  const samplesAfterStart = nd + (rx.parity === undefined || rx.parity === 'none' ? 0 : 1) + 1; // data, parity, stop
  const txBit = 32 * R;
  const level = (u: number): number => {
    const i = Math.floor(u / txBit);
    return i < bits.length ? (bits[i] as number) : 1;
  };
  const sample = (edge: number, k: number): number => level(edge + (32 * k + 17) * T);
  const out: number[] = [];
  let after = -1; // hunting resumes after this time
  for (;;) {
    // The next 1-to-0 transition after `after`: only sender bit boundaries can carry one.
    let i = Math.floor(after / txBit) + 1;
    while (i < bits.length && !(bits[i] === 0 && (i === 0 || bits[i - 1] === 1))) i++;
    if (i >= bits.length) break;
    const edge = i * txBit;
    if (sample(edge, 0) === 1) {
      after = edge + 17 * T; // a glitch, not a start bit
      continue;
    }
    let byte = 0;
    for (let n = 0; n < nd; n++) byte |= sample(edge, 1 + n) << n;
    out.push(byte);
    after = edge + (32 * samplesAfterStart + 17) * T; // the stop bit's sample
  }
  return Buffer.from(out);
}

/** The bytes a receiver at `rx` reads from `bytes` sent back to back by a sender set to `tx`. */
export function uartReread(bytes: Uint8Array, tx: UartFraming, rx: UartFraming): Buffer {
  return uartReceive(uartBits(bytes, tx), tx.baudRate, rx);
}

/**
 * A receiver faster than the sender reads each of the sender's bits several times, from a falling edge: in every
 * character it delivers, data bit n is the line level (32(n+1)+17)*T/(32*R) sender bits after the edge, and level 0
 * (the bit that made the edge) is always 0. So data bits in the same group must be equal and bits of group 0 must be
 * 0. Returns the group of each data bit. (For a receiver slower than the sender every character mixes bits from
 * several of the sender's characters: nothing of the kind survives, and the sender's rate cannot be read back.)
 */
export function slowSenderGroups(txBaud: number, rxBaud: number, dataBits: 7 | 8 = 8): number[] {
  const g: number[] = [];
  for (let n = 0; n < dataBits; n++) g.push(Math.floor(((32 * (n + 1) + 17) * txBaud) / (32 * rxBaud)));
  return g;
}

/** How many independent bit constraints a group pattern puts on a random byte (it fits by chance 1 in 2^this). */
export function groupConstraints(groups: readonly number[]): number {
  let c = 0;
  for (let n = 0; n < groups.length; n++) {
    if (groups[n] === 0) c++;
    else if (n > 0 && groups[n] === groups[n - 1]) c++;
  }
  return c;
}

/** Does a delivered character fit the pattern of a slower sender? */
export function fitsGroups(byte: number, groups: readonly number[]): boolean {
  for (let n = 0; n < groups.length; n++) {
    const bit = (byte >> n) & 1;
    if (groups[n] === 0 && bit !== 0) return false;
    if (n > 0 && groups[n] === groups[n - 1] && bit !== ((byte >> (n - 1)) & 1)) return false;
  }
  return true;
}
