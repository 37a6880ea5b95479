// Starts a server listening and resolves with the bound port (0 asks the OS for a free one), or
// rejects with the listen error (EADDRINUSE, EACCES) instead of leaving it unhandled.
import type { Server } from 'node:net';

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
