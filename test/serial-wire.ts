// A serial cable with real line physics for tests: a pty carries bytes whatever baud rate either end sets, so a wrong
// rate would go unnoticed. This wire reads the host side's line settings (stty -F, as the gateway or probe set them
// with tcsetattr) and hands the host what a UART set that way receives from a device sending at its own setting
// (gateway/diagnosis-uart.ts). Each write is one burst, with the line idle before and after it.
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { UartFraming } from '../gateway/diagnosis-uart.js';
import { uartReread } from '../gateway/diagnosis-uart.js';
import type { PtyPair } from '../simulators/pty.js';

/** The settings `stty -a` prints: "speed 9600 baud; ..." and flags like -parenb, cs8, -cstopb. */
export function parseStty(out: string): UartFraming | null {
  const speed = /speed (\d+) baud/.exec(out);
  if (!speed) return null;
  const has = (flag: string) => new RegExp(`(^|\\s)${flag}(\\s|$)`).test(out);
  return {
    baudRate: Number(speed[1]),
    dataBits: has('cs7') ? 7 : 8,
    parity: has('parenb') ? (has('parodd') ? 'odd' : 'even') : 'none',
    stopBits: has('cstopb') ? 2 : 1,
  };
}

export interface SerialWire {
  /** The host side's settings as last read. */
  readonly rx: UartFraming | null;
  /** Sends one burst from the device. */
  write(bytes: Buffer): void;
  /** Resolves once the host side's settings have been read (after it reopened, say). */
  settled(): Promise<void>;
  close(): void;
}

export async function openSerialWire(pair: PtyPair, tx: UartFraming, pollMs = 100): Promise<SerialWire> {
  const fd = openSync(pair.device, constants.O_RDWR | constants.O_NOCTTY);
  let rx: UartFraming | null = null;
  let closed = false;
  let waiters: (() => void)[] = [];
  const poll = () => {
    if (closed) return;
    execFile('stty', ['-F', pair.host, '-a'], { timeout: 2000 }, (err, out) => {
      if (!err) {
        rx = parseStty(out) ?? rx;
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      }
      if (!closed) timer = setTimeout(poll, pollMs);
    });
  };
  let timer: NodeJS.Timeout | undefined;
  poll();
  const wire: SerialWire = {
    get rx() {
      return rx;
    },
    write(bytes) {
      if (closed || !rx) return;
      const out = uartReread(bytes, tx, rx);
      if (out.length > 0) writeSync(fd, out);
    },
    settled: () => new Promise((r) => waiters.push(r)),
    close() {
      closed = true;
      clearTimeout(timer);
      closeSync(fd);
    },
  };
  await wire.settled();
  return wire;
}
