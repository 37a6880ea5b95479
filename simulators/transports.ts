// How a simulated device reaches a gateway, both directions (a Datex S/5 reads its requests, an MLLP monitor its
// ACKs): the device end of a socat pty pair (the gateway opens the other end as a serial port), a TCP listener the
// gateway dials (a terminal server's port), or, for MLLP, simulators/mllp-client.ts dialling the gateway.
import { createServer, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { openPtyPair, type PtyPair } from './pty.js';

export interface DevicePort {
  /** Writes bytes; false when nobody is there to receive them (a TCP port no gateway dialled yet). */
  write(b: Buffer): boolean;
  /** Bytes from the host. */
  onData(f: (b: Buffer) => void): void;
  /** Is a receiver connected (TCP: a gateway dialled in; pty: always once open). */
  readonly connected: boolean;
  /** Fault injection: the cable is pulled for `ms`, then plugged back. */
  unplug(ms: number): Promise<void>;
  close(): Promise<void>;
  /** What the gateway config needs: the pty's host path, or the TCP port. */
  readonly hostPath?: string;
  readonly port?: number;
}

function openSerial(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

/** A pty pair: the simulator holds the device end. Unplugging stops socat (the gateway's port fails, as when a USB
 *  adapter is pulled) and starts it again on the same paths. */
export async function openPtyPort(dir: string, name: string): Promise<DevicePort> {
  let pair: PtyPair = await openPtyPair(dir, name);
  let port = await openSerial(pair.device);
  let handler: ((b: Buffer) => void) | null = null;
  let up = true;
  const wire = (p: SerialPort) => {
    p.on('data', (b: Buffer) => handler?.(b));
    p.on('error', () => undefined); // a write to a pty whose far end went away: the device keeps "transmitting"
  };
  wire(port);
  const closePort = (p: SerialPort) => new Promise<void>((res) => (p.isOpen ? p.close(() => res()) : res()));
  return {
    get hostPath() {
      return pair.host;
    },
    get connected() {
      return up;
    },
    write(b) {
      if (!up) return false;
      port.write(b);
      return true;
    },
    onData(f) {
      handler = f;
    },
    async unplug(ms) {
      if (!up) return;
      up = false;
      await closePort(port);
      await pair.close();
      await new Promise((r) => setTimeout(r, ms));
      pair = await openPtyPair(dir, name);
      port = await openSerial(pair.device);
      wire(port);
      up = true;
    },
    async close() {
      up = false;
      await closePort(port);
      await pair.close();
    },
  };
}

/** A TCP listener the gateway dials (transport `tcp`); writes go to every connected peer. */
export function openTcpPort(host = '127.0.0.1', port = 0): Promise<DevicePort> {
  const peers = new Set<Socket>();
  let handler: ((b: Buffer) => void) | null = null;
  let refusing = false;
  const server = createServer((s) => {
    if (refusing) {
      s.destroy();
      return;
    }
    s.setNoDelay(true);
    s.on('error', () => s.destroy());
    s.on('data', (b: Buffer) => handler?.(b));
    peers.add(s);
    s.on('close', () => peers.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        get connected() {
          return peers.size > 0;
        },
        write(b) {
          if (peers.size === 0) return false;
          for (const s of peers) s.write(b);
          return true;
        },
        onData(f) {
          handler = f;
        },
        async unplug(ms) {
          refusing = true;
          for (const s of peers) s.destroy();
          await new Promise((r) => setTimeout(r, ms));
          refusing = false;
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
