// Starts a server listening and resolves with the bound port (0 asks the OS for a free one), or
// rejects with the listen error (EADDRINUSE, EACCES) instead of leaving it unhandled.
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
 * A loopback port that was free a moment ago, for programs started as child processes
 * (redis-server, mosquitto, a gateway) that cannot be handed port 0 and report back.
 */
export async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s, 0, '127.0.0.1');
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
