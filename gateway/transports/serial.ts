// Serial transport (RS-232 monitors, BLE-to-serial bridges, socat ptys) through serialport.
import { SerialPort } from 'serialport';
import type { Link, LinkHandlers } from './link.js';

export interface SerialLinkOptions {
  path: string;
  baudRate: number;
  dataBits?: 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** RTS/CTS hardware flow control, or XON/XOFF software flow control. */
  flowControl?: 'none' | 'rtscts' | 'xonxoff';
}

export function openSerialLink(opts: SerialLinkOptions, h: LinkHandlers): Promise<Link> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path: opts.path,
      baudRate: opts.baudRate,
      dataBits: opts.dataBits ?? 8,
      parity: opts.parity ?? 'none',
      stopBits: opts.stopBits ?? 1,
      rtscts: opts.flowControl === 'rtscts',
      xon: opts.flowControl === 'xonxoff',
      xoff: opts.flowControl === 'xonxoff',
      autoOpen: false,
    });
    let closing = false;
    port.open((err) => {
      if (err) {
        reject(err);
        return;
      }
      // The device cannot be slowed down: read in flowing mode and let the framer keep up.
      port.on('data', h.data);
      port.on('close', (e?: Error | null) => {
        if (!closing) h.close(e ?? new Error('serial port closed'));
      });
      port.on('error', () => {
        // 'close' follows an error on an open port; reporting once there is enough.
      });
      resolve({
        write: (d) => void port.write(d),
        close: () =>
          new Promise<void>((res) => {
            closing = true;
            if (!port.isOpen) return res();
            port.close(() => res());
          }),
      });
    });
  });
}
