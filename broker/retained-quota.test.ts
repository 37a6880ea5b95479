// Issue 14, finding 4: retained messages had no per-identity count or byte limit (2,000 retained messages of 100 KB from
// one gateway added 180 MB to the broker). What a later subscriber receives is what the broker stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from './broker.js';
import { RetainedQuota } from './retained-quota.js';
import { diagnosisOf, nextMessage, statusBatch, testUsers, until, pkiPerFile } from './test-kit.js';
import { createUserStore } from './users.js';

describe('RetainedQuota', () => {
  it('counts topics and bytes per owner, replacing and deleting in place', () => {
    const cleared: string[] = [];
    const q = new RetainedQuota(2, 100, (t) => cleared.push(t));
    expect(q.admit('gw1', 'a', 10)).toBe('stored');
    expect(q.admit('gw1', 'a', 20)).toBe('stored'); // a replacement: still one topic
    expect(q.admit('gw1', 'b', 10)).toBe('stored');
    expect(q.held('gw1')).toEqual({ count: 2, bytes: 21 + 11 });
    expect(q.admit('gw1', 'c', 1)).toBe('retained-count-limit');
    expect(q.admit('gw2', 'c', 1)).toBe('stored'); // another identity has its own
    expect(q.admit('gw1', 'a', 0)).toBe('stored'); // a zero-byte retained message deletes and frees its place
    expect(q.admit('gw1', 'c', 1)).toBe('stored'); // taken over from gw2
    expect(q.held('gw2')).toEqual({ count: 0, bytes: 0 });
    expect(cleared).toEqual([]);
    // Past the byte limit, a replacement is not stored and the older message is deleted: never left to look current.
    expect(q.admit('gw1', 'b', 200)).toBe('retained-bytes-limit');
    expect(cleared).toEqual(['b']);
    expect(q.held('gw1')).toEqual({ count: 1, bytes: 2 });
  });
});

const t = pkiPerFile('retained-quota');

/**
 * The retained messages a new subscriber to `filter` receives: once `expected` of them came, a little longer for any
 * more (retained messages follow the SUBACK from the store, in no order relative to live ones).
 */
async function storedFor(filter: string, expected: number): Promise<Map<string, string>> {
  const obs = await t.k.user('obsall');
  const got = new Map<string, string>();
  obs.on('message', (topic, payload, packet) => {
    if (packet.retain) got.set(topic, diagnosisOf(payload));
  });
  await obs.subscribeAsync(filter, { qos: 1 });
  await until(() => got.size >= expected, 5000, `${expected} retained messages`);
  await new Promise((r) => setTimeout(r, 500));
  await obs.endAsync();
  return got;
}

describe('retained messages per identity on a real broker', () => {
  let central: Broker;
  beforeAll(async () => {
    central = await startBroker({
      port: 0,
      tls: t.pki.brokerTls,
      users: createUserStore(await testUsers()),
      limits: {
        maxRetainedPerIdentity: 10,
        maxRetainedBytesPerIdentity: 1024 * 1024,
        publishRatePerSecond: 1e6,
        publishBurst: 1e6,
      },
    });
    t.k.url = `mqtts://127.0.0.1:${central.port}`;
  });
  afterAll(async () => {
    await central?.close();
  });

  it("stores a gateway's first 10 retained messages of 100 KB, delivers all 30 live, and counts the 20 it did not store", async () => {
    const live = await t.k.user('svc');
    let liveCount = 0;
    live.on('message', (_t, _p, packet) => {
      if (!packet.retain) liveCount++;
    });
    await live.subscribeAsync('vw/v1/site1/+/+/status', { qos: 1 });
    const gw = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
    const big = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 30; i++) {
      const t = `vw/v1/site1/gw1/dev${i}/status`;
      await gw.publishAsync(t, statusBatch(t, `${i}:${big}`), { qos: 1, retain: true });
    }
    await until(() => liveCount === 30, 10_000, 'all 30 delivered live');
    // Before: all 30 (and 2,000 would have been 2,000). Now the first 10.
    const stored = await storedFor('vw/v1/site1/gw1/+/status', 10);
    expect([...stored.keys()].sort()).toEqual([...Array(10)].map((_, i) => `vw/v1/site1/gw1/dev${i}/status`).sort());
    expect(central.counters.retainedNotStored['retained-count-limit']).toBe(20);
    // Replacing a stored one is not a new one; clearing frees a place.
    await gw.publishAsync('vw/v1/site1/gw1/dev0/status', statusBatch('vw/v1/site1/gw1/dev0/status', 'replaced'), {
      qos: 1,
      retain: true,
    });
    await gw.publishAsync('vw/v1/site1/gw1/dev1/status', Buffer.alloc(0), { qos: 1, retain: true });
    await gw.publishAsync('vw/v1/site1/gw1/dev20/status', statusBatch('vw/v1/site1/gw1/dev20/status', 'late'), {
      qos: 1,
      retain: true,
    });
    const after = await storedFor('vw/v1/site1/gw1/+/status', 10);
    expect(after.get('vw/v1/site1/gw1/dev0/status')).toBe('replaced');
    expect(after.has('vw/v1/site1/gw1/dev1/status')).toBe(false);
    expect(after.get('vw/v1/site1/gw1/dev20/status')).toBe('late');
    expect(after.size).toBe(10);
    expect(central.counters.retainedNotStored['retained-count-limit']).toBe(20);
    // Another gateway has its own ten.
    const gw2 = await t.k.gateway(t.pki.site1gw2, 'site1/gw2');
    const got = nextMessage(live);
    await gw2.publishAsync('vw/v1/site1/gw2/a/status', statusBatch('vw/v1/site1/gw2/a/status', 'gw2'), {
      qos: 1,
      retain: true,
    });
    await got;
    expect(central.counters.retainedNotStored['retained-count-limit']).toBe(20);
  });
});
