import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { generate, type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from './broker.js';
import { checkLimits, ConnectionTable, DEFAULT_LIMITS, RateLimiter, TokenBucket } from './limits.js';
import { batch, closed, granted, sizedBatch, testUsers, until, withSendTime, pkiPerFile } from './test-kit.js';
import { createUserStore } from './users.js';

describe('TokenBucket and RateLimiter', () => {
  it('allows a burst, then the sustained rate, on the injected clock', () => {
    const b = new TokenBucket(10, 5, 0);
    expect([...Array(6)].map(() => b.take(0))).toEqual([true, true, true, true, true, false]);
    expect(b.take(99)).toBe(false); // 0.99 token
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
    expect(b.full(1000)).toBe(true); // refilled, capped at the burst
    expect([...Array(6)].map(() => b.take(1000)).filter(Boolean)).toHaveLength(5);
  });

  it('keeps one bucket per identity and forgets refilled ones', () => {
    let now = 0;
    const r = new RateLimiter(1, 1, () => now);
    expect(r.allow('a')).toBe(true);
    expect(r.allow('a')).toBe(false);
    expect(r.allow('b')).toBe(true);
    expect(r.size).toBe(2);
    now = 500;
    r.sweep();
    expect(r.size).toBe(2);
    now = 1000;
    r.sweep();
    expect(r.size).toBe(0);
  });

  it('counts connections per identity, optionally leaving one out', () => {
    const t = new ConnectionTable<string>();
    t.add('gw', 'a');
    t.add('gw', 'b');
    expect(t.count('gw')).toBe(2);
    expect(t.count('gw', (c) => c === 'a')).toBe(1);
    t.delete('gw', 'a');
    t.delete('gw', 'b');
    expect(t.identities).toBe(0);
  });

  it('checks every limit and reports every problem', () => {
    expect(checkLimits({ ...DEFAULT_LIMITS })).toEqual([]);
    const p = checkLimits({
      ...DEFAULT_LIMITS,
      maxPacketBytes: 10,
      maxClientIdLength: 5,
      publishRatePerSecond: 0,
      keepAliveMaxSeconds: 70000,
    });
    expect(p).toHaveLength(4);
  });
});

const t = pkiPerFile('limits');

async function broker(
  limits: NonNullable<Parameters<typeof startBroker>[0]['limits']>,
  now?: () => number,
): Promise<Broker> {
  const c = await startBroker({
    port: 0,
    tls: t.pki.brokerTls,
    users: createUserStore(await testUsers()),
    limits,
    ...(now ? { now } : {}),
  });
  t.k.url = `mqtts://127.0.0.1:${c.port}`;
  return c;
}

describe('publish rate per identity', () => {
  it('disconnects a flooding gateway with a named reason, counts it, and leaves other identities alone', async () => {
    let now = 1_000_000;
    const c = await broker({ publishRatePerSecond: 10, publishBurst: 20 }, () => now);
    try {
      const flood = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
      for (let i = 0; i < 20; i++)
        await flood.publishAsync('vw/v1/site1/gw1/m/obs', batch('vw/v1/site1/gw1/m/obs', { seq: i + 1 }), { qos: 1 });
      const gone = closed(flood);
      flood.publish('vw/v1/site1/gw1/m/obs', batch('vw/v1/site1/gw1/m/obs', { seq: 21 }), { qos: 1 });
      await gone;
      expect(c.counters.refusedPublishes['publish-rate-exceeded']).toBe(1);
      expect(c.counters.disconnects['publish-rate-exceeded']).toBe(1);
      // Another identity has its own bucket.
      const other = await t.k.gateway(t.pki.site2gw1, 'site2/gw1');
      await other.publishAsync('vw/v1/site2/gw1/m/obs', batch('vw/v1/site2/gw1/m/obs'), { qos: 1 });
      // The bucket is per identity, not per connection: reconnecting does not refill it...
      const again = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
      const gone2 = closed(again);
      again.publish('vw/v1/site1/gw1/m/obs', batch('vw/v1/site1/gw1/m/obs', { seq: 22 }), { qos: 1 });
      await gone2;
      expect(c.counters.refusedPublishes['publish-rate-exceeded']).toBe(2);
      // ...time does.
      now += 1000;
      const later = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
      for (let i = 0; i < 10; i++)
        await later.publishAsync('vw/v1/site1/gw1/m/obs', batch('vw/v1/site1/gw1/m/obs', { seq: 23 + i }), { qos: 1 });
    } finally {
      await c.close();
    }
  });
});

describe('connections per identity, keep-alive bounds, subscriptions per client', () => {
  let c: Broker;
  beforeAll(async () => {
    c = await broker({
      maxConnectionsPerIdentity: 2,
      keepAliveMinSeconds: 5,
      keepAliveMaxSeconds: 300,
      maxSubscriptionsPerClient: 3,
    });
  });
  afterAll(async () => {
    await c.close();
  });

  it('refuses a third connection of one identity (3 server unavailable), but not a takeover of its own id', async () => {
    await t.k.gateway(t.pki.site1gw1, 'site1/gw1/a');
    const b = await t.k.gateway(t.pki.site1gw1, 'site1/gw1/b');
    expect(
      await t.k.refusedCode(
        t.k.base({ cert: t.pki.site1gw1.certPem, key: t.pki.site1gw1.keyPem, clientId: 'site1/gw1/c' }),
      ),
    ).toBe(3);
    expect(c.counters.refusedConnects['too-many-connections']).toBe(1);
    const gone = closed(b);
    await t.k.gateway(t.pki.site1gw1, 'site1/gw1/b');
    await gone;
    expect(c.counters.connections.gateway).toBe(2);
    // Users count separately, per name.
    await t.k.user('obs1');
    await t.k.user('obs1');
    expect(await t.k.refusedCode(t.k.base({ username: 'obs1', password: 'pw-obs1', clientId: 'obs1:third' }))).toBe(3);
    expect(c.counters.refusedConnects['too-many-connections']).toBe(2);
  });

  it('refuses keep-alives outside the bounds with CONNACK 5, never the reserved 6 (MQTT 3.1.1 Table 3.1)', async () => {
    for (const keepalive of [0, 4, 301]) {
      expect(
        await t.k.refusedCode(t.k.base({ username: 'obsall', password: 'pw-obsall', clientId: 'obsall', keepalive })),
        String(keepalive),
      ).toBe(5);
    }
    expect(c.counters.refusedConnects['keepalive-out-of-bounds']).toBe(3);
    expect((await t.k.user('obsall', { keepalive: 300 })).connected).toBe(true);
  });

  it('answers 0x80 past maxSubscriptionsPerClient, and accepts a repeat of a held filter', async () => {
    const u = await t.k.user('obsall');
    expect(await granted(u, { 'vw/v1/a/#': { qos: 1 }, 'vw/v1/b/#': { qos: 1 }, 'vw/v1/c/#': { qos: 1 } })).toEqual([
      1, 1, 1,
    ]);
    expect(await granted(u, 'vw/v1/d/#')).toEqual([128]);
    expect(await granted(u, 'vw/v1/a/#', 0)).toEqual([0]);
    expect(c.counters.refusedSubscribes['too-many-subscriptions']).toBe(1);
  });
});

/** A subscriber that connects, subscribes, then never reads again: its socket is paused for good. */
async function stalledSubscriber(port: number, qos: 0 | 1): Promise<TLSSocket> {
  const sock = tlsConnect({ host: '127.0.0.1', port, ca: t.pki.caPem, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', () => resolve());
    sock.once('error', reject);
  });
  const send = (p: Packet): void => {
    sock.write(generate(p));
  };
  const acks: number[] = [];
  sock.on('data', (d: Buffer) => acks.push(d[0] ?? 0));
  send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: 'obsall:stalled',
    clean: true,
    keepalive: 60,
    username: 'obsall',
    password: Buffer.from('pw-obsall'),
  });
  await until(() => acks.includes(0x20), 5000, 'CONNACK');
  send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'vw/v1/#', qos }] });
  await until(() => acks.includes(0x90), 5000, 'SUBACK');
  sock.removeAllListeners('data');
  sock.pause();
  return sock;
}

describe('a subscriber that stops reading', () => {
  const N = 4000;
  // 4 KB wave Batches with their send time at byte 1 (withSendTime), to measure the healthy subscriber's latency.
  const payload = withSendTime(sizedBatch('vw/v1/site1/gw1/m/wave', 4096 - 9));

  async function run(
    qos: 0 | 1,
    drainTimeoutMs: number,
    context: { annotate?: (m: string) => unknown },
  ): Promise<{ c: Broker; stalledWasConnected: boolean }> {
    const c = await broker({
      maxBufferedBytesPerClient: 256 * 1024,
      drainTimeoutMs,
      publishRatePerSecond: 1e6,
      publishBurst: 1e6,
    });
    const stalled = await stalledSubscriber(c.port, qos);
    const healthy = await t.k.user('svc');
    let got = 0;
    const lat: number[] = [];
    healthy.on('message', (_t, p) => {
      got++;
      lat.push(Date.now() - p.readDoubleBE(1));
    });
    await healthy.subscribeAsync('vw/v1/#', { qos });
    const gw = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
    for (let i = 0; i < N; i += 100) {
      await Promise.all(
        [...Array(100)].map(() => {
          payload.writeDoubleBE(Date.now(), 1);
          return gw.publishAsync('vw/v1/site1/gw1/m/wave', Buffer.from(payload), { qos: 1 });
        }),
      );
    }
    await until(() => got === N, 20_000, `healthy subscriber got ${N}`);
    const stalledWasConnected = c.counters.connections.observer === 1;
    // Closed for being slow, one way or the other (a paused socket does not notice, so ask the broker).
    await until(() => c.counters.connections.observer === 0, 10_000, 'stalled subscriber closed');
    lat.sort((a, b) => a - b);
    context.annotate?.(
      `qos ${qos}: healthy subscriber got ${got}/${N}; latency p50 ${lat[Math.floor(N / 2)]} ms, p99 ${lat[Math.floor(N * 0.99)]} ms`,
    );
    stalled.destroy();
    return { c, stalledWasConnected };
  }

  it('QoS 0: drops and counts what does not fit, closes it at the drain timeout; the others get everything first', async (ctx) => {
    // Aedes alone would hold its emitter for the stalled socket until the drain timeout: the healthy subscriber would
    // only complete after the stalled one was closed. Here it completes while the stalled one is still connected.
    const { c, stalledWasConnected } = await run(0, 5000, ctx);
    try {
      expect(stalledWasConnected).toBe(true);
      expect(c.counters.queueDrops['buffer-full'] ?? 0).toBeGreaterThan(0);
      expect(c.counters.disconnects['drain-timeout']).toBe(1);
      expect(c.counters.disconnects['slow-consumer'] ?? 0).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('QoS 1: disconnects it rather than drop a QoS 1 message; the others get everything', async (ctx) => {
    const { c } = await run(1, 60_000, ctx);
    try {
      expect(c.counters.disconnects['slow-consumer']).toBe(1);
      expect(c.counters.queueDrops['buffer-full'] ?? 0).toBe(0);
    } finally {
      await c.close();
    }
  });
});
