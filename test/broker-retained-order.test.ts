// A gateway's retained status and its other QoS 1 messages, published back to back (as the uplink does: a status on
// each link change, numerics and Gaps between them), must all reach a subscriber, each topic in the order sent
// ([MQTT-4.6.0-6] ordered topics, [MQTT-4.3.2] QoS 1: a PUBACKed message is delivered). Issue 13: retained statuses
// were PUBACKed and then never delivered. On the in-memory broker and, when redis-server exists, the Redis backend.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBroker, type BrokerOptions } from '../broker/broker.js';
import { batch, Clients, makeTestPki, testUsers, until, type TestPki } from '../broker/test-kit.js';
import { Batch } from '../proto/index.js';
import { createUserStore } from '../broker/users.js';
import { startRedisServer, type TestRedis } from './redis-server.js';

const redisSkip = inject('redisUrl') ? null : inject('redisSkipReason');

let dir: string;
let pki: TestPki;
let redis: TestRedis | null = null;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-retained-order-'));
  pki = await makeTestPki(dir);
  // A server of its own: this suite's fixed client id (site1/gw1) must not meet other files' brokers.
  if (!redisSkip) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

function suite(label: string, extra: () => Partial<BrokerOptions>, skip: string | null): void {
  describe.skipIf(skip !== null)(`${label}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    it('delivers every retained and non-retained QoS 1 message of a gateway, each topic in the order published', async () => {
      const central = await startBroker({
        port: 0,
        tls: pki.brokerTls,
        users: createUserStore(await testUsers()),
        ...extra(),
      });
      const k = new Clients(pki.caPem, `mqtts://127.0.0.1:${central.port}`);
      try {
        const sub = await k.user('obs1');
        const got = new Map<string, number[]>();
        sub.on('message', (topic, payload) => {
          const list = got.get(topic) ?? [];
          list.push(Batch.decode(payload).seq);
          got.set(topic, list);
        });
        await sub.subscribeAsync('vw/v1/site1/#', { qos: 1 });
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        const devices = ['bed01', 'bed02', 'bed03'];
        const rounds = 30;
        const sends: Promise<unknown>[] = [];
        // Not awaited one by one: the messages share TLS records and socket reads, as the uplink's window makes them.
        for (let i = 1; i <= rounds; i++) {
          for (const d of devices) {
            sends.push(
              gw.publishAsync(`vw/v1/site1/gw1/${d}/status`, batch(`vw/v1/site1/gw1/${d}/status`, { seq: i }), {
                qos: 1,
                retain: true,
              }),
            );
            sends.push(
              gw.publishAsync(`vw/v1/site1/gw1/${d}/obs`, batch(`vw/v1/site1/gw1/${d}/obs`, { seq: i }), { qos: 1 }),
            );
          }
        }
        await Promise.all(sends); // every one PUBACKed
        const expected = Array.from({ length: rounds }, (_, i) => i + 1);
        const total = () => [...got.values()].reduce((n, l) => n + l.length, 0);
        await until(() => total() >= devices.length * rounds * 2, 5000, 'every message delivered').catch(
          () => undefined,
        );
        for (const d of devices) {
          expect(got.get(`vw/v1/site1/gw1/${d}/status`), `${d} status`).toEqual(expected);
          expect(got.get(`vw/v1/site1/gw1/${d}/obs`), `${d} obs`).toEqual(expected);
        }
        // The retained copy is the newest status.
        const late = await k.user('obs1');
        const retained: string[] = [];
        late.on('message', (_t, payload, packet) => {
          if (packet.retain) retained.push(String(Batch.decode(payload).seq));
        });
        await late.subscribeAsync('vw/v1/site1/gw1/+/status', { qos: 1 });
        await until(() => retained.length === devices.length, 5000, 'retained statuses');
        expect(retained).toEqual(devices.map(() => String(rounds)));
      } finally {
        await k.endAll();
        await central.close();
      }
    });
  });
}

suite('single broker, in-memory persistence', () => ({}), null);
suite('Redis-backed broker', () => ({ redis: { url: redis?.url ?? 'redis://127.0.0.1:1' } }), redisSkip);
