// MQTT 3.1.1 conformance, clean and persistent sessions (3.1.2.4, 3.2.2.2, 4.1, 4.4, 4.5), on the lab listener.
import { describe, expect, it } from 'vitest';
import { pub, sleep } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();

async function publish(
  clientId: string,
  messages: { topic: string; payload: string; qos: 0 | 1 | 2 }[],
): Promise<void> {
  const { c } = await lab.connect({ clientId });
  let id = 1;
  for (const m of messages) {
    c.send(pub(m.topic, m.payload, { qos: m.qos, ...(m.qos > 0 ? { messageId: id++ } : {}) }));
    if (m.qos === 1) await c.next('puback');
    else if (m.qos === 2) await c.next('pubcomp');
    else await c.ping();
  }
}

describe('clean sessions', () => {
  it('[MQTT-3.1.2-6] [MQTT-3.2.2-1] CleanSession 1 starts with session present 0 and leaves nothing behind', async () => {
    const r = lab.root();
    const first = await lab.connect({ clientId: 'clean', clean: true });
    expect(first.connack).toMatchObject({ returnCode: 0, sessionPresent: false });
    first.c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/t`, qos: 1 }] });
    await first.c.next('suback');
    await first.c.disconnect();
    await publish('clean-pub', [{ topic: `${r}/t`, payload: 'while away', qos: 1 }]);
    const again = await lab.connect({ clientId: 'clean', clean: false });
    expect(again.connack).toMatchObject({ returnCode: 0, sessionPresent: false });
    await publish('clean-pub2', [{ topic: `${r}/t`, payload: 'after', qos: 1 }]);
    await sleep(100);
    await again.c.ping();
    expect(again.c.publishes()).toEqual([]); // the old subscription did not survive
  });
});

describe('persistent sessions', () => {
  it('[MQTT-3.1.2-4] [MQTT-3.2.2-2] [MQTT-3.2.2-3] [MQTT-4.1.0-1] CleanSession 0 resumes the session: session present 1 and its subscriptions still there', async () => {
    const r = lab.root();
    const first = await lab.connect({ clientId: 'resume', clean: false });
    expect(first.connack).toMatchObject({ returnCode: 0, sessionPresent: false });
    first.c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/t`, qos: 1 }] });
    await first.c.next('suback');
    await first.c.disconnect();
    const back = await lab.connect({ clientId: 'resume', clean: false });
    expect(back.connack).toMatchObject({ returnCode: 0, sessionPresent: true });
    await publish('resume-pub', [{ topic: `${r}/t`, payload: 'no resubscribe needed', qos: 1 }]);
    expect(Buffer.from((await back.c.next('publish')).payload).toString()).toBe('no resubscribe needed');
  });

  it('[MQTT-3.1.2-5] [MQTT-4.5.0-1] [MQTT-4.6.0-1] QoS 1 and 2 messages published while away are kept and sent on return, in order', async () => {
    const r = lab.root();
    const first = await lab.connect({ clientId: 'queue', clean: false });
    first.c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/#`, qos: 2 }] });
    await first.c.next('suback');
    await first.c.disconnect();
    const sent = Array.from({ length: 6 }, (_, i) => ({
      topic: `${r}/t`,
      payload: `m${i}`,
      qos: ((i % 2) + 1) as 1 | 2,
    }));
    await publish('queue-pub', sent);
    const back = await lab.connect({ clientId: 'queue', clean: false });
    expect(back.connack).toMatchObject({ sessionPresent: true });
    for (let i = 0; i < sent.length; i++) await back.c.next('publish');
    expect(back.c.publishes().map((m) => [Buffer.from(m.payload).toString(), m.qos])).toEqual(
      sent.map((m) => [m.payload, m.qos]),
    );
  });

  it('[MQTT-4.4.0-1] [MQTT-3.3.1-1] a QoS 1 message left unacknowledged is sent again on reconnect, with its packet id and DUP 1', async () => {
    const r = lab.root();
    const first = await lab.connect({ clientId: 'redeliver', clean: false }, { autoAck: false });
    first.c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/t`, qos: 1 }] });
    await first.c.next('suback');
    await publish('redeliver-pub', [{ topic: `${r}/t`, payload: 'unacked', qos: 1 }]);
    const original = await first.c.next('publish');
    expect(original.dup).toBe(false);
    first.c.destroy(); // gone before its PUBACK
    await sleep(100);
    const back = await lab.connect({ clientId: 'redeliver', clean: false });
    const again = await back.c.next('publish');
    expect([Buffer.from(again.payload).toString(), again.messageId, again.dup]).toEqual([
      'unacked',
      original.messageId,
      true,
    ]);
  });

  it('[MQTT-4.4.0-1] a PUBREL left without PUBCOMP is sent again on reconnect, with its packet id', async () => {
    const r = lab.root();
    const first = await lab.connect({ clientId: 'repubrel', clean: false }, { autoAck: false });
    first.c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/t`, qos: 2 }] });
    await first.c.next('suback');
    await publish('repubrel-pub', [{ topic: `${r}/t`, payload: 'x', qos: 2 }]);
    const m = await first.c.next('publish');
    first.c.send({ cmd: 'pubrec', messageId: m.messageId ?? 0 });
    await first.c.next('pubrel');
    first.c.destroy(); // gone before its PUBCOMP
    await sleep(100);
    const back = await lab.connect({ clientId: 'repubrel', clean: false }, { autoAck: false });
    expect(await back.c.next('pubrel')).toMatchObject({ messageId: m.messageId });
  });

  it('[MQTT-3.1.2-6] connecting with CleanSession 1 discards a stored session: a later CleanSession 0 finds none', async () => {
    const r = lab.root();
    const first = await lab.connect({ clientId: 'discard', clean: false });
    first.c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/t`, qos: 1 }] });
    await first.c.next('suback');
    await first.c.disconnect();
    await publish('discard-pub', [{ topic: `${r}/t`, payload: 'queued', qos: 1 }]);
    const clean = await lab.connect({ clientId: 'discard', clean: true });
    expect(clean.connack).toMatchObject({ sessionPresent: false });
    await clean.c.disconnect();
    const later = await lab.connect({ clientId: 'discard', clean: false });
    expect(later.connack).toMatchObject({ sessionPresent: false });
    await sleep(100);
    await later.c.ping();
    expect(later.c.publishes()).toEqual([]);
  });
});
