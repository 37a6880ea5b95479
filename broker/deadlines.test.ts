// Issue 14, finding 2: every server socket has a deadline to authenticate and is destroyed at it. The review found TLS
// handshakes that never finish left open for good (idle and partial-ClientHello sockets still ESTABLISHED after 50 s),
// and the health port holding idle and partial-request sockets. Real TLS listeners, real sockets; what is counted is
// what the server itself sees (its open sockets, its refusal counters) and what the peer sees (its socket closed).
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from './broker.js';
import { startHealthServer } from './health.js';
import { batch, Clients, makeTestPki, testUsers, until, type TestPki } from './test-kit.js';
import { createUserStore } from './users.js';

const DEADLINE_MS = 300;
/** How long a test waits for closes that the deadline should have made: several deadlines, for a loaded machine. */
const WAIT_MS = 6000;

let dir: string;
let pki: TestPki;
let broker: Broker;
let clientHello: Buffer;

/** The first bytes a real TLS client sends (its ClientHello record), captured from node:tls over a plain socket. */
async function captureClientHello(): Promise<Buffer> {
  const server = createNetServer();
  const first = new Promise<Buffer>((resolve) =>
    server.on('connection', (s) =>
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
      }),
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = tlsConnect({
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    rejectUnauthorized: false,
  });
  c.on('error', () => undefined);
  const hello = await first;
  c.destroy();
  server.close();
  return hello;
}

/** `n` raw TCP sockets to `port`, each sending `bytes` (nothing when empty); resolves once all are connected. */
async function hostile(
  port: number,
  n: number,
  bytes: Buffer,
): Promise<{ sockets: Socket[]; closedByServer: () => number }> {
  let closed = 0;
  const sockets = await Promise.all(
    [...Array(n)].map(
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = netConnect({ host: '127.0.0.1', port }, () => {
            if (bytes.length > 0) s.write(bytes);
            resolve(s);
          });
          s.on('error', reject);
          s.once('close', () => closed++);
          s.resume(); // read whatever the server sends (a TLS alert), so its end arrives
        }),
    ),
  );
  return { sockets, closedByServer: () => closed };
}

/** `n` sockets that complete the TLS handshake, then send `bytes` (nothing when empty). */
async function afterHandshake(
  port: number,
  n: number,
  bytes: Buffer,
): Promise<{ sockets: TLSSocket[]; closedByServer: () => number }> {
  let closed = 0;
  const sockets = await Promise.all(
    [...Array(n)].map(
      () =>
        new Promise<TLSSocket>((resolve, reject) => {
          const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.caPem, servername: 'localhost' }, () => {
            if (bytes.length > 0) s.write(bytes);
            resolve(s);
          });
          s.on('error', reject);
          s.once('close', () => closed++);
          s.resume();
        }),
    ),
  );
  return { sockets, closedByServer: () => closed };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-deadlines-'));
  pki = await makeTestPki(dir);
  clientHello = await captureClientHello();
  broker = await startBroker({
    port: 0,
    tls: pki.brokerTls,
    users: createUserStore(await testUsers()),
    websocket: { port: 0 },
    limits: { tlsHandshakeTimeoutMs: DEADLINE_MS, connectTimeoutMs: DEADLINE_MS },
  });
});
afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a deadline to authenticate on every MQTT socket', () => {
  it('closes TLS handshakes that never finish (idle, and a partial ClientHello) at tlsHandshakeTimeoutMs, and counts each', async () => {
    expect(clientHello[0]).toBe(0x16); // a TLS handshake record (RFC 8446 5.1)
    const before = broker.counters.refusedConnects['tls-handshake-timeout'] ?? 0;
    const idle = await hostile(broker.port, 40, Buffer.alloc(0));
    const partial = await hostile(broker.port, 40, clientHello.subarray(0, Math.floor(clientHello.length / 2)));
    // The peers see their sockets closed by the server...
    await until(
      () => idle.closedByServer() === 40 && partial.closedByServer() === 40,
      WAIT_MS,
      'hostile handshakes closed by the broker',
    );
    // ...the server holds none of them, and every one was counted.
    await until(() => broker.openSockets() === 0, WAIT_MS, 'no socket left open on the broker');
    expect((broker.counters.refusedConnects['tls-handshake-timeout'] ?? 0) - before).toBe(80);
  });

  it('closes a TLS connection that sends no CONNECT, or half of one, at connectTimeoutMs, and counts each; an admitted one stays', async () => {
    const before = broker.counters.refusedConnects['connect-timeout'] ?? 0;
    const k = new Clients(pki.caPem, `mqtts://127.0.0.1:${broker.port}`);
    try {
      const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
      const silent = await afterHandshake(broker.port, 20, Buffer.alloc(0));
      // A CONNECT's fixed header, protocol name and level, and no more: Aedes' parser waits for the rest.
      const partial = await afterHandshake(
        broker.port,
        20,
        Buffer.from([0x10, 0x20, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04]),
      );
      await until(
        () => silent.closedByServer() === 20 && partial.closedByServer() === 20,
        WAIT_MS,
        'connections without CONNECT closed',
      );
      expect((broker.counters.refusedConnects['connect-timeout'] ?? 0) - before).toBe(40);
      // The gateway admitted before them is past its deadline: still connected and publishing.
      expect(gw.connected).toBe(true);
      await gw.publishAsync('vw/v1/site1/gw1/d1/obs', batch('vw/v1/site1/gw1/d1/obs'), { qos: 1 });
      await until(() => broker.openSockets() === 1, WAIT_MS, 'only the gateway left');
    } finally {
      await k.endAll();
    }
  });

  it('closes secure WebSocket connections that never upgrade, or never finish the upgrade request', async () => {
    const before = broker.counters.refusedConnects['connect-timeout'] ?? 0;
    const silent = await afterHandshake(broker.wsPort ?? 0, 10, Buffer.alloc(0));
    const partial = await afterHandshake(
      broker.wsPort ?? 0,
      10,
      Buffer.from('GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'),
    );
    await until(
      () => silent.closedByServer() === 10 && partial.closedByServer() === 10,
      WAIT_MS,
      'wss sockets without upgrade closed',
    );
    expect((broker.counters.refusedConnects['connect-timeout'] ?? 0) - before).toBe(20);
  });
});

describe('the health and metrics port', () => {
  it('closes idle, partial-request and idle keep-alive sockets at its deadlines, and still answers a scrape', async () => {
    const h = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      metrics: new Registry(),
      health: () => ({ status: 'ok', brokerId: 'b', mode: 'single', redis: 'none', connections: 0, uptimeS: 0 }),
      deadlines: {
        headersTimeoutMs: DEADLINE_MS,
        requestTimeoutMs: DEADLINE_MS,
        keepAliveTimeoutMs: DEADLINE_MS,
        requestDeadlineMs: DEADLINE_MS,
      },
    });
    try {
      const idle = await hostile(h.port, 20, Buffer.alloc(0));
      const partial = await hostile(h.port, 20, Buffer.from('GET /metrics HTTP/1.1\r\nHost: x\r\n'));
      // A whole request on a keep-alive connection, then silence: answered, then closed.
      const kept = await hostile(
        h.port,
        5,
        Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'),
      );
      await until(
        () => idle.closedByServer() === 20 && partial.closedByServer() === 20 && kept.closedByServer() === 5,
        WAIT_MS,
        'health sockets closed',
      );
      await until(() => h.openSockets() === 0, WAIT_MS, 'none left open');
      const res = await fetch(`http://127.0.0.1:${h.port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
