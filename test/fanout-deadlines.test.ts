// Issue 14 finding 2: the dashboard's HTTP port kept idle and partial-request sockets open for a minute and more.
// Every socket on that port now has a deadline (headers, whole request, keep-alive, an upgrade that must finish, a
// refused upgrade that must go): real TCP sockets against the real fan-out, counted on the server.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, waitFor } from './ws-client.js';

const HTTP = {
  headersTimeoutMs: 800,
  requestTimeoutMs: 1500,
  keepAliveTimeoutMs: 600,
  idleTimeoutMs: 1200,
  upgradeTimeoutMs: 800,
  checkIntervalMs: 200,
};

describe('fan-out HTTP deadlines', () => {
  let rig: FanoutRig;

  beforeAll(async () => {
    rig = await startRig({ limits: { http: HTTP } });
  });
  afterAll(() => rig?.close());

  const open = (): Promise<number> =>
    new Promise((resolve, reject) => rig.fanout.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

  /** The server's count of open sockets comes back to `n` (its close may lag the client's by a turn). */
  const settled = async (n: number): Promise<void> => {
    const deadline = Date.now() + 3000;
    while ((await open()) !== n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await open()).toBe(n);
  };

  /** A raw TCP client of the fan-out's port; resolves its close time (ms after connect) when the server drops it. */
  const dial = async (send?: string): Promise<{ s: Socket; closed: Promise<number>; got: () => string }> => {
    const s = connect(rig.fanout.port, '127.0.0.1');
    // The half of a client that never closes its side: only the server can end this socket.
    s.on('error', () => undefined);
    let text = '';
    s.on('data', (b: Buffer) => {
      text += b.toString('latin1');
    });
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const t0 = Date.now();
    const closed = new Promise<number>((resolve) => s.once('close', () => resolve(Date.now() - t0)));
    if (send) s.write(send);
    return { s, closed, got: () => text };
  };

  it('closes a socket that never sends a byte, one stuck in its headers, and one that stops mid-body', async () => {
    const base = await open();
    const silent = await dial();
    const partial = await dial('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // One header byte every 200 ms: never idle, never finished (slowloris).
    const trickle = await dial('GET / HTTP/1.1\r\nHost: x\r\nX-A: ');
    const drip = setInterval(() => trickle.s.writable && trickle.s.write('a'), 200);
    const body = await dial(
      'POST /api/login HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"us',
    );
    expect(await open()).toBe(base + 4);
    try {
      const times = await Promise.all([silent.closed, partial.closed, trickle.closed, body.closed]);
      // Each went at its deadline (plus the check interval), not a minute later.
      for (const t of times) expect(t).toBeLessThan(5000);
    } finally {
      clearInterval(drip);
    }
    await settled(base);
  });

  it('closes an idle keep-alive socket after its response', async () => {
    const base = await open();
    const ka = await dial('GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => ka.got().includes('404'), 3000, 'the response');
    expect(await ka.closed).toBeLessThan(5000);
    await settled(base);
  });

  it('leaves a dashboard WebSocket open past every HTTP deadline, and counts the sockets', async () => {
    const base = await open();
    const token = (await rig.fanout.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    expect(rig.fanout.counters.httpSockets).toBe(base + 1);
    await new Promise((r) => setTimeout(r, HTTP.idleTimeoutMs + HTTP.requestTimeoutMs));
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    s.ws.close();
    await settled(base);
    expect(rig.fanout.counters.httpSockets).toBe(base);
  });

  it('drops a refused upgrade whose client keeps its side open', async () => {
    const base = await open();
    const bad = await dial(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: vw.v1, vw.token.junk\r\n\r\n',
    );
    await waitFor(() => bad.got().includes('403'), 3000, 'the refusal');
    expect(bad.got()).toContain('x-vitalwire-error: VW_ERR_WS_AUTH');
    expect(await bad.closed).toBeLessThan(5000);
    await settled(base);
  });
});
