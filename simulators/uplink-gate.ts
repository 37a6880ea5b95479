// The uplink outages of a scenario (`simulate --scenario F --uplink-gate LISTEN=TARGET`): a TCP relay between the
// gateway and its broker that the scenario cuts (refusing new connections and dropping live ones) and restores.
import { connect, createServer, type Socket } from 'node:net';

export interface UplinkGate {
  readonly port: number;
  set(down: boolean): void;
  close(): Promise<void>;
}

export function startUplinkGate(
  listen: { host: string; port: number },
  target: { host: string; port: number },
): Promise<UplinkGate> {
  let down = false;
  const socks = new Set<Socket>();
  const server = createServer((inbound) => {
    if (down) return void inbound.destroy();
    const outbound = connect(target.port, target.host);
    const cut = () => {
      inbound.destroy();
      outbound.destroy();
      socks.delete(inbound);
      socks.delete(outbound);
    };
    socks.add(inbound).add(outbound);
    inbound.on('error', cut).on('close', cut);
    outbound.on('error', cut).on('close', cut);
    inbound.pipe(outbound).pipe(inbound);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : 0,
        set(d) {
          down = d;
          if (d) for (const s of socks) s.destroy();
        },
        close: () =>
          new Promise<void>((res) => {
            for (const s of socks) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

/** "HOST:PORT" or "PORT" -> address. */
export function parseHostPort(s: string, defHost = '127.0.0.1'): { host: string; port: number } | null {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(s.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port > 65535) return null;
  return { host: m[1] ? m[1].replace(/^\[|\]$/g, '') : defHost, port };
}
