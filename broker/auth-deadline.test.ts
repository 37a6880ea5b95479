import { createServer, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthDeadlines } from './auth-deadline.js';

describe('AuthDeadlines', () => {
  let server: ReturnType<typeof createServer>;
  const accepted: Socket[] = [];
  beforeAll(async () => {
    server = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });

  it('lets go of each phase once it ends: a connection that lives on holds no deadline listener or timer', async () => {
    const port = (server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    await new Promise((r) => setImmediate(r));
    const s = accepted.at(-1) as Socket;
    const expired: string[] = [];
    const d = new AuthDeadlines({ handshakeMs: 50, connectMs: 50, onExpired: (reason) => expired.push(reason) });
    const base = s.listenerCount('close');
    d.accepted(s);
    expect(s.listenerCount('close')).toBe(base + 1);
    expect(d.handshaking).toBe(1);
    const deadline = d.secured(s);
    expect(d.handshaking).toBe(0);
    expect(s.listenerCount('close')).toBe(base + 1); // the handshake's listener gone, the authentication's in place
    deadline.met();
    deadline.met(); // idempotent
    expect(s.listenerCount('close')).toBe(base);
    await new Promise((r) => setTimeout(r, 120)); // past both deadlines: neither fires
    expect(expired).toEqual([]);
    expect(s.destroyed).toBe(false);
    client.destroy();
  });
});
