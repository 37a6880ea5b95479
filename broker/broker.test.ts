import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeBrokerBehaviour } from './behaviour.js';
import fc from 'fast-check';
import { PacketSizeGuard, startBroker, type Broker } from './broker.js';
import {
  batch,
  Clients,
  closed,
  diagnosisOf,
  makeTestPki,
  nextMessage,
  statusBatch,
  testUsers,
  type TestPki,
} from './test-kit.js';
import { createUserStore } from './users.js';
import { connectBytes, RawClient } from '../test/mqtt-raw.js';

const memoryPersistence = createRequire(import.meta.url)(
  'aedes-persistence',
) as typeof import('aedes-persistence').default;

describeBrokerBehaviour('single node, in-memory persistence', (o) => startBroker({ port: 0, ...o }));

let dir: string;
let pki: TestPki;
const k = { clients: null as Clients | null };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-central-'));
  pki = await makeTestPki(dir);
});
afterEach(async () => {
  await k.clients?.endAll();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acknowledge after the durable write ([MQTT-4.3.2-2])', () => {
  it('routes a QoS 1 message before its PUBACK even when storage is slow', async () => {
    // A persistence slowed down: Aedes alone would PUBACK first and store and route 150 ms later.
    const slow = memoryPersistence() as unknown as { subscriptionsByTopic(t: string): Promise<unknown> };
    const orig = slow.subscriptionsByTopic.bind(slow);
    slow.subscriptionsByTopic = async (t) => {
      await new Promise((r) => setTimeout(r, 150));
      return orig(t);
    };
    const c = await startBroker({ port: 0, tls: pki.brokerTls, persistence: slow });
    try {
      const seen: string[] = [];
      await new Promise<void>((r) =>
        c.aedes.subscribe(
          'vw/v1/#',
          (packet, cb) => {
            seen.push(packet.topic);
            cb();
          },
          r,
        ),
      );
      k.clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${c.port}`);
      const gw = await k.clients.gateway(pki.site1gw1, 'site1/gw1');
      await gw.publishAsync('vw/v1/site1/gw1/m/obs', batch('vw/v1/site1/gw1/m/obs'), { qos: 1 });
      expect(seen).toEqual(['vw/v1/site1/gw1/m/obs']);
      expect(c.counters.messagesIn).toBe(1);
    } finally {
      await c.close();
    }
  });
});

describe('MQTT over secure WebSocket', () => {
  let c: Broker;
  beforeAll(async () => {
    c = await startBroker({
      port: 0,
      tls: pki.brokerTls,
      users: createUserStore(await testUsers()),
      websocket: { port: 0 },
    });
  });
  afterAll(async () => {
    await c.close();
  });

  it('serves the same broker and policy to browsers and tools over wss', async () => {
    k.clients = new Clients(pki.caPem, `wss://127.0.0.1:${c.wsPort}/mqtt`);
    const obs = await k.clients.user('obs1');
    await obs.subscribeAsync('vw/v1/site1/#', { qos: 1 });
    const tls = new Clients(pki.caPem, `mqtts://127.0.0.1:${c.port}`);
    try {
      const gw = await tls.gateway(pki.site1gw1, 'site1/gw1');
      const got = nextMessage(obs);
      await gw.publishAsync('vw/v1/site1/gw1/m/status', statusBatch('vw/v1/site1/gw1/m/status', 'over-ws'), { qos: 1 });
      expect(diagnosisOf((await got).payload)).toBe('over-ws');
    } finally {
      await tls.endAll();
    }
    expect(await k.clients.refusedCode(k.clients.base({ username: 'obs1', password: 'nope', clientId: 'obs1' }))).toBe(
      4,
    );
    const before = c.counters.refusedSubscribes['topic-not-allowed'] ?? 0;
    await expect(obs.subscribeAsync('vw/v1/site2/#', { qos: 1 })).rejects.toBeDefined();
    expect(c.counters.refusedSubscribes['topic-not-allowed']).toBe(before + 1);
  });

  it('refuses plain ws:// and a foreign client certificate over wss', async () => {
    k.clients = new Clients(pki.caPem, `ws://127.0.0.1:${c.wsPort}/mqtt`);
    await expect(k.clients.connect(k.clients.base({ clientId: 'x' }))).rejects.toThrow();
    k.clients.url = `wss://127.0.0.1:${c.wsPort}/mqtt`;
    expect(
      await k.clients.refusedCode(
        k.clients.base({ cert: pki.foreign.certPem, key: pki.foreign.keyPem, clientId: 'site1/gw1' }),
      ),
    ).toBe(5);
  });
});

describe('health and metrics endpoint', () => {
  it('answers /healthz and /metrics over HTTP, and 503 once closing', async () => {
    const c = await startBroker({ port: 0, tls: pki.brokerTls, http: { port: 0 } });
    try {
      const h = await fetch(`http://127.0.0.1:${c.httpPort}/healthz`);
      expect(h.status).toBe(200);
      expect(await h.json()).toMatchObject({ status: 'ok', mode: 'single', redis: 'none', connections: 0 });
      const m = await fetch(`http://127.0.0.1:${c.httpPort}/metrics`);
      expect(m.headers.get('content-type')).toMatch(/text\/plain/);
      const text = await m.text();
      for (const name of [
        'connections',
        'messages_in_total',
        'messages_out_total',
        'refused_connects_total',
        'refused_publishes_total',
        'refused_subscribes_total',
        'queue_drops_total',
        'disconnects_total',
      ]) {
        expect(text).toContain(`vitalwire_broker_${name}`);
      }
      expect((await fetch(`http://127.0.0.1:${c.httpPort}/nope`)).status).toBe(404);
    } finally {
      await c.close();
    }
    expect(c.health().status).toBe('unavailable');
  });
});

describe('revocation while connected', () => {
  it('closes a gateway whose certificate is revoked after it connected, and keeps the others', async () => {
    const revoked = new Set<string>();
    const serialOf = async (pem: string): Promise<string> =>
      new (await import('node:crypto')).X509Certificate(pem).serialNumber;
    const c = await startBroker({
      port: 0,
      tls: pki.brokerTls,
      users: createUserStore(await testUsers()),
      revocationRecheckMs: 50,
      revocation: { isRevoked: async (serial) => revoked.has(serial.toUpperCase()) },
    });
    const clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${c.port}`);
    try {
      const doomed = await clients.gateway(pki.site1gw1, 'site1/gw1');
      const kept = await clients.gateway(pki.site2gw1, 'site2/gw1');
      await new Promise((r) => setTimeout(r, 200));
      expect(doomed.connected).toBe(true); // nothing revoked yet: re-checks leave it alone
      revoked.add((await serialOf(pki.site1gw1.certPem)).toUpperCase());
      await closed(doomed);
      expect(c.counters.disconnects['certificate-revoked']).toBe(1);
      expect(kept.connected).toBe(true);
    } finally {
      await clients.endAll();
      await c.close();
    }
  });
});

describe('close', () => {
  it('closes the listener, connected clients and half-open sockets without hanging', async () => {
    const c = await startBroker({ port: 0, tls: pki.brokerTls });
    const gw = await mqtt.connectAsync(
      `mqtts://127.0.0.1:${c.port}`,
      {
        ca: pki.caPem,
        cert: pki.site1gw1.certPem,
        key: pki.site1gw1.keyPem,
        clientId: 'site1/gw1',
        protocolVersion: 4,
        reconnectPeriod: 0,
      },
      false,
    );
    const gone = closed(gw);
    const raw = netConnect(c.port, '127.0.0.1'); // never starts a TLS handshake
    await new Promise((r) => raw.once('connect', r));
    const rawClosed = new Promise((r) => raw.once('close', r));
    await c.close();
    await Promise.all([gone, rawClosed]);
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${c.port}`, { ca: pki.caPem, reconnectPeriod: 0, clientId: 'late' }, false),
    ).rejects.toThrow();
    await c.close(); // idempotent
    gw.end(true);
  });

  it('refuses to start without TLS material unless in lab mode, and with impossible limits', async () => {
    await expect(startBroker({ port: 0 })).rejects.toMatchObject({ code: 'VW_ERR_CONFIG' });
    await expect(
      startBroker({
        port: 0,
        tls: pki.brokerTls,
        limits: { keepAliveMinSeconds: 100, keepAliveMaxSeconds: 10, maxPacketBytes: 1 },
      }),
    ).rejects.toThrow(/keepAliveMinSeconds must not exceed keepAliveMaxSeconds.*|maxPacketBytes/);
  });
});

describe('what the byte guard refuses is counted by reason', () => {
  it('counts ill-formed strings as malformed-utf8 disconnects and unknown protocol levels as refused connects', async () => {
    const c = await startBroker({ lab: true, port: 0 });
    try {
      const { c: bad } = await RawClient.connected(c.port, { clientId: 'nul' });
      bad.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'a/\u0000/b', qos: 0 }] });
      await bad.gone();
      expect(c.counters.disconnects['malformed-utf8']).toBe(1);
      const old = await RawClient.open(c.port);
      old.send(connectBytes({ level: 6, flags: 0x02, clientId: 'ab' }));
      await old.gone();
      expect(c.counters.refusedConnects['unacceptable-protocol-level']).toBe(1);
    } finally {
      await c.close();
    }
  });
});

describe('PacketSizeGuard', () => {
  // MQTT 3.1.1 table 2.4: Remaining Length encodings at each byte-count boundary.
  const encodings: [number, number[]][] = [
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [16383, [0xff, 0x7f]],
    [16384, [0x80, 0x80, 0x01]],
    [2097151, [0xff, 0xff, 0x7f]],
    [2097152, [0x80, 0x80, 0x80, 0x01]],
    [268435455, [0xff, 0xff, 0xff, 0x7f]],
  ];

  it.each(encodings)('reads Remaining Length %i from its header, before any body byte', (len, enc) => {
    const size = 1 + enc.length + len;
    expect(new PacketSizeGuard(size).push(Uint8Array.from([0x30, ...enc]))).toBeNull();
    expect(new PacketSizeGuard(size - 1).push(Uint8Array.from([0x30, ...enc]))).toEqual({ type: 3, size, topic: null });
  });

  const packet = (type: number, bodyLen: number): Uint8Array => {
    const enc: number[] = [];
    let x = bodyLen;
    do {
      let b = x % 128;
      x = Math.floor(x / 128);
      if (x > 0) b |= 0x80;
      enc.push(b);
    } while (x > 0);
    return Uint8Array.from([type << 4, ...enc, ...new Array<number>(bodyLen).fill(0x5a)]);
  };

  it('follows packet boundaries across any chunking', () => {
    // CONNECT 40, PINGREQ 0, PUBLISH 200 (203 bytes total), then a PUBLISH of 205 bytes total
    const stream = Uint8Array.from([...packet(1, 40), ...packet(12, 0), ...packet(3, 200), ...packet(3, 202)]);
    for (const step of [1, 2, 3, 7, 64, stream.length]) {
      const g = new PacketSizeGuard(204);
      let verdict: ReturnType<PacketSizeGuard['push']> = null;
      let at = -1;
      for (let i = 0; i < stream.length && verdict === null; i += step) {
        verdict = g.push(stream.subarray(i, i + step));
        at = i;
      }
      expect(verdict, `step ${step}`).toMatchObject({ type: 3, size: 205 });
      // Reported with the chunk that holds the oversized packet's last length byte (offset 249), not later.
      const lastHeaderByte = 42 + 2 + 203 + 2;
      expect(at <= lastHeaderByte && at + step > lastHeaderByte, `step ${step}, at ${at}`).toBe(true);
    }
  });

  it('reports an oversized PUBLISH with its own topic when the chunk holding its header holds the topic too', () => {
    const topic = [...Buffer.from('vw/v1/s/g/d/wave')];
    const body = [0, topic.length, ...topic, 0, 1, ...new Array<number>(300).fill(7)];
    const big = [0x32, 0x80 | (body.length & 0x7f), body.length >> 7, ...body];
    const small = [0x30, 4, 0, 2, 0x61, 0x62]; // a PUBLISH to 'ab' in front of it
    expect(new PacketSizeGuard(100).push(Uint8Array.from([...small, ...big]))).toEqual({
      type: 3,
      size: 3 + body.length,
      topic: 'vw/v1/s/g/d/wave',
    });
    // Cut inside the topic: unknown, not guessed, and the verdict still comes at the header.
    expect(new PacketSizeGuard(100).push(Uint8Array.from([...small, ...big.slice(0, 10)]))).toEqual({
      type: 3,
      size: 3 + body.length,
      topic: null,
    });
    expect(new PacketSizeGuard(100).push(Uint8Array.from([0x82, 0x80, 0x01]))).toEqual({
      type: 8,
      size: 131,
      topic: null,
    }); // a SUBSCRIBE has none
  });

  it('finds ill-formed strings in any chunking, copying only the topic of a PUBLISH', () => {
    const topic = (bytes: number[]): number[] => [0, bytes.length, ...bytes];
    const publish = (t: number[], payload: number): Uint8Array => {
      const body = [...topic(t), ...new Array<number>(payload).fill(0xff)]; // an ill-formed payload is fine: it is binary
      return Uint8Array.from([0x30, 0x80 | (body.length & 0x7f), body.length >> 7, ...body]);
    };
    const ok = publish([0x61, 0x2f, 0xc3, 0xa9], 300);
    const bad = publish([0x61, 0x2f, 0xc3], 300);
    const nul = publish([0x61, 0x00], 300);
    for (const step of [1, 2, 5, 64, 10_000]) {
      const feed = (bytes: Uint8Array): ReturnType<PacketSizeGuard['push']> => {
        const g = new PacketSizeGuard(1 << 20);
        let v: ReturnType<PacketSizeGuard['push']> = null;
        for (let i = 0; i < bytes.length && v === null; i += step) v = g.push(bytes.subarray(i, i + step));
        return v;
      };
      expect(feed(Uint8Array.from([...ok, ...ok])), `step ${step}`).toBeNull();
      expect(feed(Uint8Array.from([...ok, ...bad])), `step ${step}`).toBe('bad-string');
      expect(feed(nul), `step ${step}`).toBe('bad-string');
    }
  });

  it('gives the same verdict whether a packet arrives whole (checked in place) or in pieces (copied)', () => {
    const str = fc.uint8Array({ maxLength: 12 }).map((b) => [0, b.length, ...b]);
    const withLength = (head: number, body: number[]): number[] => {
      const enc: number[] = [];
      let x = body.length;
      do {
        enc.push((x % 128) | (x >= 128 ? 0x80 : 0));
        x = Math.floor(x / 128);
      } while (x > 0);
      return [head, ...enc, ...body];
    };
    const pkt = fc.oneof(
      fc.tuple(str, fc.uint8Array({ maxLength: 40 })).map(([t, p]) => withLength(0x30, [...t, ...p])),
      fc.tuple(str, fc.uint8Array({ maxLength: 40 })).map(([t, p]) => withLength(0x32, [...t, 0, 1, ...p])),
      fc
        .array(str, { minLength: 1, maxLength: 3 })
        .map((fs) => withLength(0x82, [0, 7, ...fs.flatMap((f) => [...f, 1])])),
      fc
        .tuple(str, str)
        .map(([id, user]) => withLength(0x10, [0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x82, 0, 60, ...id, ...user])),
    );
    fc.assert(
      fc.property(
        fc.array(pkt, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1 }),
        (pkts, cuts) => {
          const bytes = Uint8Array.from(pkts.flat());
          const whole = new PacketSizeGuard(1 << 20).push(bytes);
          const g = new PacketSizeGuard(1 << 20);
          let pieces: ReturnType<PacketSizeGuard['push']> = null;
          for (let i = 0, k = 0; i < bytes.length && pieces === null; i += cuts[k++ % cuts.length] ?? 1) {
            pieces = g.push(bytes.subarray(i, i + (cuts[k % cuts.length] ?? 1)));
          }
          expect(pieces).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('flags CONNECT flags and empty SUBSCRIBE/UNSUBSCRIBE bodies that MQTT 3.1.1 forbids, in any chunking', () => {
    const cases: [string, Buffer, ReturnType<PacketSizeGuard['push']>][] = [
      [
        'a valid CONNECT with Will QoS 2 and a user name',
        connectBytes({ flags: 0x02 | 0x04 | 0x10 | 0x80, clientId: 'a', willTopic: 'w', username: 'u' }),
        null,
      ],
      [
        '[MQTT-3.1.2-14] Will QoS 3',
        connectBytes({ flags: 0x02 | 0x04 | 0x18, clientId: 'a', willTopic: 'w' }),
        'bad-packet',
      ],
      [
        '[MQTT-3.1.2-13] Will QoS without the Will flag',
        connectBytes({ flags: 0x02 | 0x08, clientId: 'a' }),
        'bad-packet',
      ],
      [
        '[MQTT-3.1.2-15] Will Retain without the Will flag',
        connectBytes({ flags: 0x02 | 0x20, clientId: 'a' }),
        'bad-packet',
      ],
      [
        '[MQTT-3.1.2-22] a password without a user name',
        connectBytes({ flags: 0x02 | 0x40, clientId: 'a', password: [1] }),
        'bad-packet',
      ],
      ['[MQTT-3.1.2-3] the reserved flag', connectBytes({ flags: 0x03, clientId: 'a' }), 'bad-packet'],
      ['[MQTT-3.8.3-3] SUBSCRIBE with no filter', Buffer.from([0x82, 2, 0, 1]), 'bad-packet'],
      ['[MQTT-3.10.3-2] UNSUBSCRIBE with no filter', Buffer.from([0xa2, 2, 0, 1]), 'bad-packet'],
      ['a SUBSCRIBE with one filter', Buffer.from([0x82, 6, 0, 1, 0, 1, 0x61, 1]), null],
    ];
    for (const [what, bytes, verdict] of cases) {
      for (const step of [1, 3, bytes.length]) {
        const g = new PacketSizeGuard(1 << 20);
        let v: ReturnType<PacketSizeGuard['push']> = null;
        for (let i = 0; i < bytes.length && v === null; i += step) v = g.push(bytes.subarray(i, i + step));
        expect(v, `${what}, step ${step}`).toEqual(verdict);
      }
    }
  });

  it('accepts a stream of packets that all fit, and flags a five-byte length as malformed', () => {
    const g = new PacketSizeGuard(1000);
    for (let i = 0; i < 50; i++) expect(g.push(packet(3, 900))).toBeNull();
    expect(new PacketSizeGuard(1 << 30).push(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('malformed');
  });
});
