// Starts a server listening and resolves with the bound port (0 asks the OS for a free one), or
// rejects with the listen error (EADDRINUSE, EACCES) instead of leaving it unhandled.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/**
 * A loopback port that was free a moment ago, for programs started as child processes (redis-server, mosquitto, a
 * gateway) that cannot be handed port 0 and report back. Taken below the kernel's ephemeral range: between this check
 * and the child's bind, a port from that range may be handed to any port-0 listener or outgoing connection on the
 * machine (CI saw EADDRINUSE); below it only another caller of this function could take it.
 */
export async function freePort(): Promise<number> {
  const [lo] = ephemeralRange();
  const from = Math.max(1024, lo - 12_000);
  for (let tries = 0; tries < 50 && from < lo; tries++) {
    const port = from + Math.floor(Math.random() * (lo - from));
    const s = createServer();
    const ok = await listen(s, port, '127.0.0.1').then(
      () => true,
      () => false,
    );
    if (ok) {
      await new Promise<void>((resolve) => s.close(() => resolve()));
      return port;
    }
  }
  const s = createServer();
  const port = await listen(s, 0, '127.0.0.1');
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The kernel's ephemeral port range (Linux), or the common default where it cannot be read. */
function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (a && b && a <= b) return [a, b];
  } catch {
    // not Linux: the IANA range
  }
  return [49152, 65535];
}
