// TCP client transport: the gateway dials a device or a terminal server.
import { connect, type Socket } from 'node:net';
import type { Link, LinkHandlers } from './link.js';

export interface TcpLinkOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
}

export function openTcpLink(opts: TcpLinkOptions, h: LinkHandlers): Promise<Link> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ host: opts.host, port: opts.port, noDelay: true });
    let closing = false;
    let opened = false;
    sock.setTimeout(opts.connectTimeoutMs ?? 10_000, () => sock.destroy(new Error('connect timeout')));
    sock.once('connect', () => {
      opened = true;
      sock.setTimeout(0);
      sock.on('data', h.data);
      resolve({
        write: (d) => void sock.write(d),
        close: () =>
          new Promise<void>((res) => {
            closing = true;
            if (sock.destroyed) return res();
            sock.once('close', () => res());
            sock.destroy();
          }),
      });
    });
    sock.on('error', (err) => {
      if (!opened) reject(err);
    });
    sock.on('close', () => {
      if (opened && !closing) h.close(new Error('tcp connection closed'));
    });
  });
}
