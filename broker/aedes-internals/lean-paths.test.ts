// The two lean paths around Aedes (lean-publish.ts, lean-deliver.ts) on the real broker: each must be taken where it
// applies (or it is only a cost), and must leave what MQTT requires as it was. The differential test compares whole
// scenarios with stock Aedes; these pin where each path starts and stops.
import mqttPacket from 'mqtt-packet';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pub, RawClient, waitFor } from '../../test/mqtt-raw.js';
import { startBroker, type Broker } from '../broker.js';

const require = createRequire(import.meta.url);
const memoryPersistence = require('aedes-persistence') as () => object;
// The in-memory persistence's methods live on its class: a spy there sees the broker's own instance.
const persistenceProto = Object.getPrototypeOf(memoryPersistence()) as {
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: object): Promise<void>;
};

let b: Broker;
beforeEach(async () => {
  b = await startBroker({ lab: true, port: 0 });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await b.close();
});

async function subscriber(clientId: string, topic: string, clean = true): Promise<RawClient> {
  const { c } = await RawClient.connected(b.port, { clientId, clean });
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] });
  await c.next('suback');
  return c;
}

describe('lean publish', () => {
  it('skips the offline queue when no persistent session waits for the topic, and queues for one that does', async () => {
    const enqueue = vi.spyOn(persistenceProto, 'outgoingEnqueueCombi');
    const live = await subscriber('live', 'a/#');
    const { c: p } = await RawClient.connected(b.port, { clientId: 'p' });
    for (let i = 1; i <= 20; i++) {
      p.send(pub('a/b', `m${i}`, { qos: 1, messageId: i }));
      await p.next('puback');
    }
    await waitFor(() => live.publishes().length === 20, 'twenty deliveries');
    // The first message of a topic asks the persistence (Aedes' own path, nothing to queue); the rest skip it.
    expect(enqueue.mock.calls.length).toBeLessThanOrEqual(1);
    expect(enqueue.mock.calls.every(([subs]) => subs.length === 0)).toBe(true);

    // A persistent session subscribes and leaves: the topic's messages are queued for it again, each one.
    const away = await subscriber('away', 'a/b', false);
    await away.disconnect();
    enqueue.mockClear();
    for (let i = 21; i <= 25; i++) {
      p.send(pub('a/b', `m${i}`, { qos: 1, messageId: i }));
      await p.next('puback');
    }
    expect(enqueue.mock.calls.map(([subs]) => subs.map((s) => s.clientId))).toEqual(Array(5).fill(['away']));
    const { c: back } = await RawClient.connected(b.port, { clientId: 'away', clean: false });
    await waitFor(() => back.publishes().length === 5, 'the five queued messages');
    expect(back.publishes().map((m) => m.payload.toString())).toEqual(['m21', 'm22', 'm23', 'm24', 'm25']);
    expect(live.publishes()).toHaveLength(25);
  });

  it('leaves retained messages to Aedes: stored and sent to a later subscriber', async () => {
    const { c: p } = await RawClient.connected(b.port, { clientId: 'p' });
    p.send(pub('r/1', 'kept', { qos: 1, messageId: 1, retain: true }));
    await p.next('puback');
    const late = await subscriber('late', 'r/#');
    await waitFor(() => late.publishes().length === 1, 'the retained message');
    expect(late.publishes()[0]).toMatchObject({ topic: 'r/1', retain: true });
  });
});

describe('lean deliveries', () => {
  it('writes a turn of clean-session deliveries together, in order, each with its own packet identifier', async () => {
    const subs = await Promise.all([1, 2, 3, 4, 5].map((i) => subscriber(`s${i}`, 'd/#')));
    const { c: p } = await RawClient.connected(b.port, { clientId: 'p' });
    const n = 100;
    const immediates = vi.spyOn(globalThis, 'setImmediate');
    // All in one write: the broker reads them in one turn.
    p.send(
      Buffer.concat(
        Array.from({ length: n }, (_, i) => mqttPacket.generate(pub('d/x', `m${i}`, { qos: 1, messageId: i + 1 }))),
      ),
    );
    for (const s of subs) await waitFor(() => s.publishes().length === n, 'every delivery');
    // Aedes takes two immediates per delivery (500 deliveries: 1,000); these go out in a few per turn.
    expect(immediates.mock.calls.length).toBeLessThan(n * subs.length);
    for (const s of subs) {
      const got = s.publishes();
      expect(got.map((m) => m.payload.toString())).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
      expect(got.every((m) => m.qos === 1 && m.dup === false && m.retain === false)).toBe(true);
      const ids = got.map((m) => m.messageId ?? 0);
      expect(new Set(ids).size).toBe(n);
      expect(ids.every((id) => id >= 1 && id <= 65535)).toBe(true);
    }
  });

  it('leaves a persistent session to Aedes: a message not acknowledged is sent again with DUP on return', async () => {
    const { c: s } = await RawClient.connected(b.port, { clientId: 'keep', clean: false }, { autoAck: false });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'k/#', qos: 1 }] });
    await s.next('suback');
    const { c: p } = await RawClient.connected(b.port, { clientId: 'p' });
    p.send(pub('k/1', 'once', { qos: 1, messageId: 1 }));
    await waitFor(() => s.publishes().length === 1, 'the delivery');
    s.sock.destroy();
    await waitFor(() => s.closed, 'closed');
    const { c: again } = await RawClient.connected(b.port, { clientId: 'keep', clean: false });
    await waitFor(() => again.publishes().length === 1, 'the re-delivery');
    expect(again.publishes()[0]).toMatchObject({ topic: 'k/1', dup: true, messageId: s.publishes()[0]?.messageId });
  });
});
