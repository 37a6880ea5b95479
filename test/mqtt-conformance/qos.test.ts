// MQTT 3.1.1 conformance, the QoS 0, 1 and 2 flows, SUBSCRIBE, UNSUBSCRIBE and PINGREQ (sections 2.3, 3.3-3.14, 4.3,
// 4.6, 4.8), on the lab listener.
import { describe, expect, it } from 'vitest';
import { packetBytes, pub, sleep, type RawClient } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();

async function subscribed(
  clientId: string,
  subscriptions: { topic: string; qos: 0 | 1 | 2 }[],
  autoAck = true,
): Promise<RawClient> {
  const { c } = await lab.connect({ clientId }, { autoAck });
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions });
  await c.next('suback');
  return c;
}

describe('receiving PUBLISH from a client', () => {
  it('[MQTT-3.3.4-1] [MQTT-4.3.2-2] [MQTT-2.3.1-6] QoS 0 gets no answer, QoS 1 a PUBACK with its packet id, QoS 2 a PUBREC then a PUBCOMP for the PUBREL', async () => {
    const r = lab.root();
    const { c } = await lab.connect({ clientId: 'answers' }, { autoAck: false });
    c.send(pub(`${r}/a`, 'q0'));
    c.send(pub(`${r}/a`, 'q1', { qos: 1, messageId: 0x1234 }));
    expect(await c.next('puback')).toMatchObject({ messageId: 0x1234 });
    c.send(pub(`${r}/a`, 'q2', { qos: 2, messageId: 0xfffe }));
    expect(await c.next('pubrec')).toMatchObject({ messageId: 0xfffe });
    c.send({ cmd: 'pubrel', messageId: 0xfffe });
    expect(await c.next('pubcomp')).toMatchObject({ messageId: 0xfffe });
    await c.ping();
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack', 'puback', 'pubrec', 'pubcomp', 'pingresp']);
  });

  it('[MQTT-4.3.3-2] a QoS 2 PUBLISH repeated before PUBREL gets PUBREC again and is delivered once; after PUBCOMP its id is a new message', async () => {
    const r = lab.root();
    const s = await subscribed('q2-dup-sub', [{ topic: `${r}/t`, qos: 2 }]);
    const { c } = await lab.connect({ clientId: 'q2-dup-pub' }, { autoAck: false });
    c.send(pub(`${r}/t`, 'once', { qos: 2, messageId: 7 }));
    await c.next('pubrec');
    c.send(pub(`${r}/t`, 'once', { qos: 2, messageId: 7, dup: true }));
    await c.next('pubrec');
    c.send({ cmd: 'pubrel', messageId: 7 });
    await c.next('pubcomp');
    c.send(pub(`${r}/t`, 'again', { qos: 2, messageId: 7 }));
    await c.next('pubrec');
    c.send({ cmd: 'pubrel', messageId: 7 });
    await c.next('pubcomp');
    await s.next('publish');
    await s.next('publish');
    await s.ping();
    expect(s.publishes().map((p) => Buffer.from(p.payload).toString())).toEqual(['once', 'again']);
  });

  it('[MQTT-4.3.2-2] after its PUBACK, a QoS 1 PUBLISH with the same packet id is a new message, whatever its DUP flag', async () => {
    const r = lab.root();
    const s = await subscribed('q1-reuse-sub', [{ topic: `${r}/t`, qos: 1 }]);
    const { c } = await lab.connect({ clientId: 'q1-reuse-pub' });
    c.send(pub(`${r}/t`, 'first', { qos: 1, messageId: 9 }));
    await c.next('puback');
    c.send(pub(`${r}/t`, 'second', { qos: 1, messageId: 9, dup: true }));
    await c.next('puback');
    await s.next('publish');
    await s.next('publish');
    expect(s.publishes().map((p) => Buffer.from(p.payload).toString())).toEqual(['first', 'second']);
  });

  it('[MQTT-3.3.5-2] a PUBLISH the server does not authorise ($SYS/...) closes the connection rather than being acknowledged', async () => {
    const { c } = await lab.connect({ clientId: 'sys-pub' });
    c.send(pub('$SYS/forged', 'x', { qos: 1, messageId: 1 }));
    await c.gone();
    expect(c.packets.some((p) => p.cmd === 'puback')).toBe(false);
  });
});

describe('sending PUBLISH to a subscriber', () => {
  it('[MQTT-4.3.1-1] [MQTT-2.3.1-5] [MQTT-4.3.2-1] [MQTT-4.3.3-1] [MQTT-2.3.1-1] QoS 0 goes with DUP 0 and no packet id; QoS 1 and 2 with DUP 0 and distinct non-zero ids', async () => {
    const r = lab.root();
    const s = await subscribed('sender-sub', [{ topic: `${r}/#`, qos: 2 }], false);
    const { c: p } = await lab.connect({ clientId: 'sender-pub' });
    p.send(pub(`${r}/0`, 'zero'));
    for (const [i, qos] of [
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
    ] as const) {
      p.send(pub(`${r}/${qos}`, `m${i}`, { qos, messageId: i }));
      await p.next(qos === 1 ? 'puback' : 'pubcomp');
    }
    for (let i = 0; i < 5; i++) await s.next('publish');
    const got = s.publishes();
    expect(got.map((m) => [m.qos, m.dup])).toEqual([
      [0, false],
      [1, false],
      [1, false],
      [2, false],
      [2, false],
    ]);
    expect(got[0]?.messageId).toBeUndefined();
    const ids = got.slice(1).map((m) => m.messageId ?? 0);
    expect(ids.every((id) => id > 0 && id <= 0xffff)).toBe(true);
    expect(new Set(ids).size).toBe(4); // none acknowledged yet: each unused [MQTT-2.3.1-4]
  });

  it('[MQTT-4.3.3-1] [MQTT-3.6.1-1] [MQTT-2.3.1-6] the server answers PUBREC with a PUBREL (fixed header 0x62) of the same id, then takes PUBCOMP', async () => {
    const r = lab.root();
    const s = await subscribed('pubrel-sub', [{ topic: `${r}/t`, qos: 2 }], false);
    const { c: p } = await lab.connect({ clientId: 'pubrel-pub' });
    p.send(pub(`${r}/t`, 'x', { qos: 2, messageId: 1 }));
    const m = await s.next('publish');
    s.send({ cmd: 'pubrec', messageId: m.messageId ?? 0 });
    expect(await s.next('pubrel')).toMatchObject({ messageId: m.messageId });
    const bytes = Buffer.concat(s.bytes);
    const id = m.messageId ?? 0;
    expect(bytes.includes(Buffer.from([0x62, 0x02, id >> 8, id & 0xff]))).toBe(true);
    s.send({ cmd: 'pubcomp', messageId: id });
    await s.ping();
    expect(s.closed).toBe(false);
  });

  it.each([
    [0, 0, 0],
    [0, 1, 0],
    [0, 2, 0],
    [1, 0, 0],
    [1, 1, 1],
    [1, 2, 1],
    [2, 0, 0],
    [2, 1, 1],
    [2, 2, 2],
  ] as const)(
    '[MQTT-3.8.4-6] published at QoS %i, granted QoS %i: delivered at QoS %i',
    async (published, granted, delivered) => {
      const r = lab.root();
      const s = await subscribed(`min-${published}-${granted}`, [{ topic: `${r}/t`, qos: granted }]);
      const { c: p } = await lab.connect({ clientId: `min-pub-${published}-${granted}` });
      p.send(pub(`${r}/t`, 'x', { qos: published, ...(published > 0 ? { messageId: 1 } : {}) }));
      expect((await s.next('publish')).qos).toBe(delivered);
    },
  );

  // A known departure, not fixed: Aedes 1.2.0 delivers one copy through whichever matching subscription mqemitter calls
  // first (QoS 0 here) and drops the others as duplicates (docs/broker.md). it.fails keeps the clause in view: it
  // reports when a change or an upgrade makes the broker conform.
  it.fails(
    '[MQTT-3.3.5-1] a message matching several subscriptions of a client is delivered at the highest of their QoS (known Aedes departure)',
    async () => {
      const r = lab.root();
      const s = await subscribed('overlap-sub', [
        { topic: `${r}/#`, qos: 0 },
        { topic: `${r}/+`, qos: 1 },
        { topic: `${r}/x`, qos: 2 },
      ]);
      const { c: p } = await lab.connect({ clientId: 'overlap-pub' });
      p.send(pub(`${r}/x`, 'x', { qos: 2, messageId: 1 }));
      await p.next('pubcomp');
      await s.next('publish');
      await sleep(100);
      await s.ping();
      expect(Math.max(...s.publishes().map((m) => m.qos))).toBe(2);
    },
  );

  it('[MQTT-4.6.0-5] [MQTT-4.6.0-6] messages of one client on one topic reach a subscriber in the order sent, at each QoS', async () => {
    const r = lab.root();
    const s = await subscribed('order-sub', [{ topic: `${r}/+`, qos: 2 }]);
    const { c: p } = await lab.connect({ clientId: 'order-pub' });
    const sent: Record<string, string[]> = { [`${r}/q0`]: [], [`${r}/q1`]: [], [`${r}/q2`]: [] };
    for (let i = 0; i < 60; i++) {
      const qos = (i % 3) as 0 | 1 | 2;
      const topic = `${r}/q${qos}`;
      sent[topic]?.push(`m${i}`);
      p.send(pub(topic, `m${i}`, { qos, ...(qos > 0 ? { messageId: i + 1 } : {}) }));
    }
    while (s.publishes().length < 60) await s.next('publish');
    for (const topic of Object.keys(sent)) {
      expect(
        s
          .publishes()
          .filter((m) => m.topic === topic)
          .map((m) => Buffer.from(m.payload).toString()),
        topic,
      ).toEqual(sent[topic]);
    }
  });
});

describe('SUBSCRIBE and UNSUBSCRIBE', () => {
  it('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1] [MQTT-3.9.3-2] several filters get one SUBACK with the same id and one return code each, in order', async () => {
    const r = lab.root();
    const { c } = await lab.connect({ clientId: 'suback' });
    c.send({
      cmd: 'subscribe',
      messageId: 0xbeef,
      subscriptions: [
        { topic: `${r}/a`, qos: 2 },
        { topic: `${r}/b`, qos: 0 },
        { topic: `${r}/c`, qos: 1 },
      ],
    });
    const ack = await c.next('suback');
    expect(ack.messageId).toBe(0xbeef);
    expect(ack.granted).toEqual([2, 0, 1]);
    for (const g of ack.granted) expect([0, 1, 2, 0x80]).toContain(g);
  });

  it('[MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6] UNSUBSCRIBE compares filters character by character, stops delivery, and is always answered with its id', async () => {
    const r = lab.root();
    const s = await subscribed('unsub', [
      { topic: `${r}/#`, qos: 1 },
      { topic: `${r}/x`, qos: 1 },
    ]);
    s.send({ cmd: 'unsubscribe', messageId: 21, unsubscriptions: [`${r}/+`] }); // matches no filter exactly: nothing removed
    expect(await s.next('unsuback')).toMatchObject({ messageId: 21 });
    const { c: p } = await lab.connect({ clientId: 'unsub-pub' });
    p.send(pub(`${r}/x`, 'one', { qos: 1, messageId: 1 }));
    await s.next('publish');
    s.send({ cmd: 'unsubscribe', messageId: 22, unsubscriptions: [`${r}/#`, `${r}/x`, `${r}/never`] });
    expect(await s.next('unsuback')).toMatchObject({ messageId: 22 });
    p.send(pub(`${r}/x`, 'two', { qos: 1, messageId: 2 }));
    await p.next('puback');
    await sleep(100);
    await s.ping();
    expect(s.publishes().map((m) => Buffer.from(m.payload).toString())).toEqual(['one']);
    expect(s.packets.filter((x) => x.cmd === 'unsuback')).toHaveLength(2);
  });

  it('[MQTT-3.8.3-4] a requested QoS of 3 is malformed: the connection is closed', async () => {
    const { c } = await lab.connect({ clientId: 'sub-qos3' });
    c.send(packetBytes(0x82, [0, 1, 0, 1, 0x61, 3]));
    await c.gone();
    expect(c.packets.some((p) => p.cmd === 'suback')).toBe(false);
  });

  it('[MQTT-3.8.3-3] [MQTT-3.10.3-2] a SUBSCRIBE or UNSUBSCRIBE without any filter is a protocol violation: closed', async () => {
    for (const header of [0x82, 0xa2]) {
      const { c } = await lab.connect({ clientId: `empty-${header}` });
      c.send(packetBytes(header, [0, 1]));
      await c.gone();
      expect(c.packets.some((p) => p.cmd === 'suback' || p.cmd === 'unsuback')).toBe(false);
    }
  });

  it('[MQTT-3.8.1-1] [MQTT-3.10.1-1] [MQTT-3.6.1-1] [MQTT-2.2.2-2] SUBSCRIBE, UNSUBSCRIBE or PUBREL with reserved header bits other than 0010 is malformed: closed', async () => {
    for (const [header, body] of [
      [0x80, [0, 1, 0, 1, 0x61, 0]],
      [0xa0, [0, 1, 0, 1, 0x61]],
      [0x60, [0, 1]],
    ] as const) {
      const { c } = await lab.connect({ clientId: `flags-${header}` });
      c.send(packetBytes(header, body));
      await c.gone();
      expect(c.packets.map((p) => p.cmd)).toEqual(['connack']);
    }
  });

  it('[MQTT-3.3.1-4] a PUBLISH with both QoS bits set closes the connection', async () => {
    const { c } = await lab.connect({ clientId: 'pub-qos3' });
    c.send(packetBytes(0x36, [0, 1, 0x61, 0, 1, 0x78]));
    await c.gone();
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack']);
  });
});

describe('PINGREQ and DISCONNECT', () => {
  it('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
    const { c } = await lab.connect({ clientId: 'ping' });
    c.send({ cmd: 'pingreq' });
    await c.next('pingresp');
  });

  it('[MQTT-3.14.1-1] a DISCONNECT with reserved bits set closes the connection', async () => {
    const { c } = await lab.connect({ clientId: 'bad-disconnect' });
    c.send(Buffer.from([0xe1, 0x00]));
    await c.gone();
  });

  it('[MQTT-4.8.0-1] a packet of a reserved type (0 or 15) is a protocol violation: closed', async () => {
    for (const header of [0x00, 0xf0]) {
      const { c } = await lab.connect({ clientId: `reserved-${header}` });
      c.send(Buffer.from([header, 0x00]));
      await c.gone();
    }
  });
});
