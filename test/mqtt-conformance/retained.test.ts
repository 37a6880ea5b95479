// MQTT 3.1.1 conformance, retained messages (3.3.1.3, 3.8.4), on the lab listener.
import { describe, expect, it } from 'vitest';
import { pub, type RawClient } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();

async function publisher(
  clientId: string,
): Promise<{ send(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean): Promise<void> }> {
  const { c } = await lab.connect({ clientId });
  let id = 1;
  return {
    async send(topic, payload, qos, retain) {
      // QoS 0 has no acknowledgement: a PINGREQ round trip after it says the server has read it.
      c.send(pub(topic, payload, { qos, retain, ...(qos > 0 ? { messageId: id++ } : {}) }));
      if (qos === 1) await c.next('puback');
      else if (qos === 2) await c.next('pubcomp');
      else await c.ping();
    },
  };
}

async function subscribe(clientId: string, filter: string, qos: 0 | 1 | 2): Promise<RawClient> {
  const { c } = await lab.connect({ clientId });
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] });
  await c.next('suback');
  return c;
}

/** What a subscriber received, once a PINGREQ round trip says nothing more is in flight. */
async function settled(c: RawClient): Promise<{ topic: string; payload: string; retain: boolean; qos: number }[]> {
  await c.ping();
  return c
    .publishes()
    .map((p) => ({ topic: p.topic, payload: Buffer.from(p.payload).toString(), retain: p.retain, qos: p.qos }));
}

describe('retained messages', () => {
  it('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] [MQTT-3.8.4-6] a retained message is stored with its QoS and sent to a new subscriber with RETAIN 1, at the lower QoS', async () => {
    const r = lab.root();
    const p = await publisher('ret-store-pub');
    await p.send(`${r}/q2`, 'two', 2, true);
    await p.send(`${r}/q1`, 'one', 1, true);
    const s2 = await subscribe('ret-store-s2', `${r}/+`, 2);
    await s2.next('publish');
    await s2.next('publish');
    expect((await settled(s2)).sort((a, b) => a.topic.localeCompare(b.topic))).toEqual([
      { topic: `${r}/q1`, payload: 'one', retain: true, qos: 1 },
      { topic: `${r}/q2`, payload: 'two', retain: true, qos: 2 },
    ]);
    const s0 = await subscribe('ret-store-s0', `${r}/q2`, 0);
    await s0.next('publish');
    expect(await settled(s0)).toEqual([{ topic: `${r}/q2`, payload: 'two', retain: true, qos: 0 }]);
  });

  it('[MQTT-3.3.1-9] a retained PUBLISH reaching an established subscription is sent with RETAIN 0', async () => {
    const r = lab.root();
    const s = await subscribe('ret-live-sub', `${r}/t`, 1);
    const p = await publisher('ret-live-pub');
    await p.send(`${r}/t`, 'live', 1, true);
    await s.next('publish');
    expect(await settled(s)).toEqual([{ topic: `${r}/t`, payload: 'live', retain: false, qos: 1 }]);
  });

  it('[MQTT-3.3.1-7] a new retained message, QoS 0 included, replaces the one before', async () => {
    const r = lab.root();
    const p = await publisher('ret-replace-pub');
    await p.send(`${r}/t`, 'old', 1, true);
    await p.send(`${r}/t`, 'new', 0, true);
    const s = await subscribe('ret-replace-sub', `${r}/t`, 1);
    await s.next('publish');
    expect(await settled(s)).toEqual([{ topic: `${r}/t`, payload: 'new', retain: true, qos: 0 }]);
  });

  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] a zero-byte retained PUBLISH is delivered as normal, removes the retained message and is not stored', async () => {
    const r = lab.root();
    const p = await publisher('ret-clear-pub');
    await p.send(`${r}/t`, 'kept', 1, true);
    const live = await subscribe('ret-clear-live', `${r}/t`, 1);
    await live.next('publish'); // the retained one, on subscribe
    await p.send(`${r}/t`, '', 1, true);
    await live.next('publish');
    expect((await settled(live)).map((m) => m.payload)).toEqual(['kept', '']);
    const late = await subscribe('ret-clear-late', `${r}/t`, 1);
    expect(await settled(late)).toEqual([]);
  });

  it('[MQTT-3.3.1-12] a PUBLISH with RETAIN 0 neither stores nor removes nor replaces the retained message', async () => {
    const r = lab.root();
    const p = await publisher('ret-zero-pub');
    await p.send(`${r}/t`, 'kept', 1, true);
    await p.send(`${r}/t`, 'passing', 1, false);
    await p.send(`${r}/u`, 'not kept', 1, false);
    const s = await subscribe('ret-zero-sub', `${r}/+`, 1);
    await s.next('publish');
    expect(await settled(s)).toEqual([{ topic: `${r}/t`, payload: 'kept', retain: true, qos: 1 }]);
  });

  it('[MQTT-3.1.2.7] retained messages outlive the session of the client that published them', async () => {
    const r = lab.root();
    const { c } = await lab.connect({ clientId: 'ret-session-pub', clean: true });
    c.send(pub(`${r}/t`, 'stays', { qos: 1, retain: true, messageId: 1 }));
    await c.next('puback');
    await c.disconnect();
    await lab.connect({ clientId: 'ret-session-pub', clean: true }); // a new session for that client id
    const s = await subscribe('ret-session-sub', `${r}/t`, 1);
    await s.next('publish');
    expect((await settled(s)).map((m) => m.payload)).toEqual(['stays']);
  });

  it('[MQTT-3.8.4-3] subscribing again to the same filter replaces the subscription, sends the retained messages again and keeps the flow', async () => {
    const r = lab.root();
    const p = await publisher('ret-resub-pub');
    await p.send(`${r}/t`, 'kept', 2, true);
    const { c: s } = await lab.connect({ clientId: 'ret-resub-sub' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/t`, qos: 0 }] });
    await s.next('suback');
    await s.next('publish');
    s.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `${r}/t`, qos: 2 }] });
    expect((await s.next('suback')).granted).toEqual([2]);
    await s.next('publish');
    await p.send(`${r}/t`, 'live', 2, false);
    await s.next('publish');
    // One subscription, at its new QoS: the live message once, at QoS 2.
    expect(await settled(s)).toEqual([
      { topic: `${r}/t`, payload: 'kept', retain: true, qos: 0 },
      { topic: `${r}/t`, payload: 'kept', retain: true, qos: 2 },
      { topic: `${r}/t`, payload: 'live', retain: false, qos: 2 },
    ]);
  });
});
