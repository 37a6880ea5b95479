// Issue 14: the gateway's metrics/health port kept idle and partial-request sockets open (60-130 s and counting). With
// real sockets: peers that connect and send nothing, send half a request and trickle the rest, or keep an answered
// connection alive, are all closed by the server's deadlines, while a plain scrape keeps working. Short deadlines here
// stand for the defaults (METRICS_DEADLINES).
import { connect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_DEADLINES, startMetricsServer, type MetricsServer } from './metrics.js';

let server: MetricsServer | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await server?.close();
  server = null;
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function open(port: number): Promise<{ sock: Socket; closed: () => boolean; data: () => string }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    let data = '';
    const sock = connect(port, '127.0.0.1', () => resolve({ sock, closed: () => closed, data: () => data }));
    sockets.push(sock);
    sock.on('data', (b: Buffer) => (data += b.toString('latin1')));
    sock.on('close', () => (closed = true));
    sock.on('error', () => undefined);
    sock.once('error', reject);
  });
}

describe('metrics server deadlines', () => {
  it('closes silent, slow and idle keep-alive sockets; a scrape still works', async () => {
    const s = (server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      healthy: () => true,
      deadlines: { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300, idleSocketMs: 400 },
    }));
    const silent = await Promise.all(Array.from({ length: 5 }, () => open(s.port)));
    const slow = await Promise.all(Array.from({ length: 5 }, () => open(s.port)));
    const header = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(200);
    let i = 0;
    const drip = setInterval(() => {
      for (const c of slow) if (!c.closed()) c.sock.write(header.charAt(i % header.length));
      i++;
    }, 50);
    const kept = await Promise.all(Array.from({ length: 5 }, () => open(s.port)));
    for (const c of kept) c.sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    try {
      await until(() => kept.every((c) => c.data().includes('ok\n')), 'keep-alive answers');
      await until(() => s.openSockets() >= 15, 'all 15 sockets open at the server', 2000).catch(() => undefined);
      const health = await fetch(`http://127.0.0.1:${s.port}/healthz`);
      expect(health.status).toBe(200);
      await until(
        () => [...silent, ...slow, ...kept].every((c) => c.closed()),
        'every silent, slow and idle socket closed by the server',
      );
    } finally {
      clearInterval(drip);
    }
    await until(() => s.openSockets() === 0, 'no socket left open at the server');
    expect(slow.every((c) => !c.data().includes('200 OK'))).toBe(true);
  });

  it('has deadlines by default, well under the minutes the sockets stayed open', () => {
    expect(METRICS_DEADLINES.headersTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(METRICS_DEADLINES.idleSocketMs).toBeLessThanOrEqual(30_000);
    expect(METRICS_DEADLINES.keepAliveTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(METRICS_DEADLINES.requestTimeoutMs).toBeGreaterThan(METRICS_DEADLINES.headersTimeoutMs);
  });
});
