// Where a simulated device writes: a serial port (a pty end, or a real cable) or a TCP
// listener that a gateway dials, as a terminal server would offer.
import { createServer, type Socket } from 'node:net';
import { SerialPort } from 'serialport';

export interface Sink {
  write(frame: Buffer): void;
  close(): Promise<void>;
  /** For TCP sinks: the listening port. */
  readonly port?: number;
  /** For TCP sinks (fault injection): drops every connected peer and keeps listening, as a terminal server that
   *  lost its line does; the gateway sees the link close and dials again. */
  dropPeers?(): void;
}

export function openSerialSink(path: string, baudRate = 115200): Promise<Sink> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => {
      if (err) return reject(err);
      port.on('error', () => {
        // A write to a pty whose other side closed fails; the device keeps "transmitting".
      });
      resolve({
        write: (b) => void port.write(b),
        close: () => new Promise<void>((res) => (port.isOpen ? port.close(() => res()) : res())),
      });
    });
  });
}

export function openTcpSink(host = '127.0.0.1', port = 0): Promise<Sink> {
  const peers = new Set<Socket>();
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => s.destroy());
    peers.add(s);
    s.on('close', () => peers.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        write(b) {
          for (const s of peers) s.write(b);
        },
        dropPeers() {
          for (const s of peers) s.destroy();
        },
        close: () =>
          new Promise<void>((res) => {
            for (const s of peers) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
