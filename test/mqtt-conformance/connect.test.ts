// MQTT 3.1.1 conformance, CONNECT and CONNACK (sections 3.1 and 3.2), on the lab listener. Each test names the
// normative statements it checks; expected return codes and behaviours are the specification's.
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { connectBytes, packetBytes, pub, sleep } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();

describe('the first packets', () => {
  it('[MQTT-3.1.0-1] [MQTT-4.8.0-1] a connection whose first packet is not CONNECT is closed, unanswered', async () => {
    const c = await lab.open();
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }] });
    await c.gone();
    expect(c.packets).toEqual([]);
  });

  it('[MQTT-3.2.0-1] the first packet from the server is CONNACK, even when the client sends more right after CONNECT', async () => {
    const c = await lab.open();
    const connect = connectBytes({ flags: 0x02, clientId: 'first-connack' });
    const sub = packetBytes(0x82, [0, 1, 0, 1, 0x61, 0]); // SUBSCRIBE id 1, "a" QoS 0
    c.send(Buffer.concat([connect, sub, Buffer.from([0xc0, 0])])); // and PINGREQ, all in one write
    await c.next('pingresp');
    await c.next('suback');
    expect(c.packets[0]?.cmd).toBe('connack');
  });

  it('[MQTT-3.1.0-2] a second CONNECT is a protocol violation: the client is disconnected', async () => {
    const { c } = await lab.connect({ clientId: 'twice' });
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'twice', clean: true, keepalive: 60 });
    await c.gone();
    expect(c.packets.filter((p) => p.cmd === 'connack')).toHaveLength(1);
  });
});

describe('the CONNECT variable header', () => {
  it('[MQTT-3.1.2-1] a wrong protocol name is not accepted under this specification', async () => {
    const c = await lab.open();
    c.send(connectBytes({ name: 'MQTX', flags: 0x02, clientId: 'bad-name' }));
    await c.gone();
    expect(c.packets.some((p) => p.cmd === 'connack' && p.returnCode === 0)).toBe(false);
  });

  it.each([[6], [2], [0x86]])(
    '[MQTT-3.1.2-2] [MQTT-3.2.2-4] [MQTT-3.2.2-5] an unsupported protocol level (%i) gets CONNACK 0x01, session present 0, then the close',
    async (level) => {
      const c = await lab.open();
      c.send(connectBytes({ level, flags: 0x02, clientId: `level-${level}` }));
      expect(await c.next('connack')).toMatchObject({ returnCode: 1, sessionPresent: false });
      await c.gone();
    },
  );

  it('[MQTT-3.1.2-2] MQTT 5 (level 5) gets CONNACK 0x01 and a close: the broker speaks 3.1.1', async () => {
    const c = await lab.open();
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'v5', clean: true, keepalive: 60 });
    expect(await c.next('connack')).toMatchObject({ returnCode: 1 });
    await c.gone();
  });

  it('[MQTT-3.1.2-3] a CONNECT with its reserved flag set is refused: the client is disconnected', async () => {
    const c = await lab.open();
    c.send(connectBytes({ flags: 0x03, clientId: 'reserved-flag' }));
    await c.gone();
    expect(c.packets.some((p) => p.cmd === 'connack' && p.returnCode === 0)).toBe(false);
  });

  it.each([
    ['[MQTT-3.1.2-13] Will QoS 1 without the Will flag', 0x02 | 0x08],
    ['[MQTT-3.1.2-15] Will Retain without the Will flag', 0x02 | 0x20],
    ['[MQTT-3.1.2-22] a password without a user name', 0x02 | 0x40],
  ])('%s: [MQTT-3.1.4-1] the CONNECT does not conform and is closed without CONNACK', async (_what, flags) => {
    const c = await lab.open();
    c.send(connectBytes({ flags, clientId: `flags-${flags}`, ...(flags & 0x40 ? { password: [1, 2] } : {}) }));
    await c.gone();
    expect(c.packets).toEqual([]);
  });

  it('[MQTT-3.1.2-14] a Will QoS of 3 is refused: closed without CONNACK', async () => {
    const c = await lab.open();
    c.send(connectBytes({ flags: 0x02 | 0x04 | 0x18, clientId: 'will-qos-3', willTopic: 'w', willPayload: [1] }));
    await c.gone();
    expect(c.packets).toEqual([]);
  });

  it('[MQTT-3.1.2-19] [MQTT-3.1.2-21] a user name and password are accepted on the lab listener (it authenticates nobody)', async () => {
    const c = await lab.open();
    c.send(
      connectBytes({ flags: 0x02 | 0x80 | 0x40, clientId: 'with-user', username: 'someone', password: [0, 1, 2, 255] }),
    );
    expect(await c.next('connack')).toMatchObject({ returnCode: 0 });
  });
});

describe('client identifiers', () => {
  it('[MQTT-3.1.3-5] [MQTT-3.1.4-4] client ids of 1 and 23 characters from 0-9 a-z A-Z are accepted', async () => {
    for (const clientId of ['Z', '0123456789abcdefghijKLM']) {
      const { connack } = await lab.connect({ clientId });
      expect(connack, clientId).toMatchObject({ returnCode: 0 });
    }
  });

  it('[MQTT-3.1.3-6] a zero-byte client id with CleanSession 1 is given a unique id: two such clients do not take each other over', async () => {
    const a = await lab.connect({ clientId: '', clean: true });
    const b = await lab.connect({ clientId: '', clean: true });
    expect([a.connack.returnCode, b.connack.returnCode]).toEqual([0, 0]);
    await sleep(200);
    await a.c.ping();
    await b.c.ping();
    expect([a.c.closed, b.c.closed]).toEqual([false, false]);
  });

  it('[MQTT-3.1.3-8] [MQTT-3.2.2-4] [MQTT-3.2.2-5] a zero-byte client id with CleanSession 0 gets CONNACK 0x02, session present 0, then the close', async () => {
    const c = await lab.open();
    c.send(connectBytes({ flags: 0x00, clientId: '' }));
    expect(await c.next('connack')).toMatchObject({ returnCode: 2, sessionPresent: false });
    await c.gone();
  });

  it('[MQTT-3.1.4-5] data sent after a refused CONNECT is not processed', async () => {
    const topic = `${lab.root()}/after-refusal`;
    const c = await lab.open();
    const retained = mqttPacket.generate(pub(topic, 'must not be stored', { qos: 0, retain: true }));
    c.send(Buffer.concat([connectBytes({ flags: 0x00, clientId: '' }), retained]));
    expect(await c.next('connack')).toMatchObject({ returnCode: 2 });
    await c.gone();
    const { c: s } = await lab.connect({ clientId: 'after-refusal-sub' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
    await s.next('suback');
    await s.ping();
    expect(s.publishes()).toEqual([]);
  });

  it('[MQTT-3.1.4-2] a second connection with the client id of a connected client disconnects the first', async () => {
    const first = await lab.connect({ clientId: 'taken-over' });
    const second = await lab.connect({ clientId: 'taken-over' });
    expect(second.connack).toMatchObject({ returnCode: 0 });
    await first.c.gone();
    await second.c.ping();
  });
});
