// MQTT 3.1.1 conformance, the Will Message (3.1.2.5-3.1.2.7, 3.14), on the lab listener.
import { describe, expect, it } from 'vitest';
import { sleep, type RawClient } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();

async function watcher(clientId: string, topic: string): Promise<RawClient> {
  const { c } = await lab.connect({ clientId });
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 2 }] });
  await c.next('suback');
  return c;
}

const will = (topic: string, payload: string, o: { qos?: 0 | 1 | 2; retain?: boolean } = {}) => ({
  topic,
  payload: Buffer.from(payload),
  qos: o.qos ?? 1,
  retain: o.retain ?? false,
});

describe('the Will', () => {
  it('[MQTT-3.1.2-8] [MQTT-3.1.2-16] the Will is published when the connection closes without DISCONNECT, at its QoS, not retained', async () => {
    const r = lab.root();
    const w = await watcher('will-abnormal-sub', `${r}/#`);
    const { c } = await lab.connect({ clientId: 'will-abnormal', will: will(`${r}/status`, 'offline', { qos: 2 }) });
    c.destroy();
    const m = await w.next('publish');
    expect([m.topic, Buffer.from(m.payload).toString(), m.qos, m.retain]).toEqual([`${r}/status`, 'offline', 2, false]);
    const late = await watcher('will-abnormal-late', `${r}/#`);
    await late.ping();
    expect(late.publishes()).toEqual([]);
  });

  it('[MQTT-3.1.2-8] [MQTT-3.1.2-10] [MQTT-3.14.4-3] a DISCONNECT discards the Will: nothing is published', async () => {
    const r = lab.root();
    const w = await watcher('will-clean-sub', `${r}/#`);
    const { c } = await lab.connect({ clientId: 'will-clean', will: will(`${r}/status`, 'offline') });
    await c.disconnect();
    await sleep(300);
    await w.ping();
    expect(w.publishes()).toEqual([]);
  });

  it('[MQTT-3.1.2-17] a Will with Will Retain 1 is published as a retained message', async () => {
    const r = lab.root();
    const { c } = await lab.connect({ clientId: 'will-retained', will: will(`${r}/status`, 'gone', { retain: true }) });
    c.destroy();
    await sleep(300);
    const late = await watcher('will-retained-late', `${r}/status`);
    const m = await late.next('publish');
    expect([Buffer.from(m.payload).toString(), m.retain]).toEqual(['gone', true]);
  });

  it('[MQTT-3.1.2-12] without the Will flag nothing is published when the connection drops', async () => {
    const r = lab.root();
    const w = await watcher('no-will-sub', `${r}/#`);
    const { c } = await lab.connect({ clientId: 'no-will' });
    c.destroy();
    await sleep(300);
    await w.ping();
    expect(w.publishes()).toEqual([]);
  });

  it('[MQTT-3.1.2-8] [MQTT-4.8.0-1] a connection the server closes for a protocol violation publishes its Will', async () => {
    const r = lab.root();
    const w = await watcher('will-violation-sub', `${r}/#`);
    const { c } = await lab.connect({ clientId: 'will-violation', will: will(`${r}/status`, 'violated') });
    c.send(Buffer.from([0xf0, 0x00])); // a reserved packet type
    await c.gone();
    expect(Buffer.from((await w.next('publish')).payload).toString()).toBe('violated');
  });
});
