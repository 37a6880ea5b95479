// MQTT 3.1.1 conformance, UTF-8 encoded strings (1.5.3) in every place a packet carries one, on the lab listener.
// mqtt-packet decodes strings leniently (ill-formed bytes become U+FFFD), so the broker checks the bytes before it
// parses them (broker/packet-guard.ts).
import { describe, expect, it } from 'vitest';
import { connectBytes, mqttString, packetBytes, pub } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();

// Each appended to "a/" to make a topic, filter, client id, Will topic or user name.
const illFormed: [string, number[]][] = [
  ['a lone continuation byte', [0x80]],
  ['a truncated sequence', [0xe2, 0x82]],
  ['an overlong encoding of "/"', [0xc0, 0xaf]],
  ['a UTF-16 surrogate, U+D800', [0xed, 0xa0, 0x80]],
  ['0xFF, never in UTF-8', [0xff]],
];
const str = (bytes: number[]): number[] => [0x61, 0x2f, ...bytes];

describe('[MQTT-1.5.3-1] ill-formed UTF-8 closes the connection', () => {
  it.each(illFormed)('in a PUBLISH topic (%s): no PUBACK, nothing delivered', async (_what, bytes) => {
    const { c } = await lab.connect({ clientId: 'utf8-pub' });
    c.send(packetBytes(0x32, [...mqttString(str(bytes)), 0, 9, 0x78])); // QoS 1, packet id 9, payload "x"
    await c.gone();
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack']);
  });

  it.each(illFormed)(
    '[MQTT-3.8.3-1] [MQTT-3.10.3-1] in a SUBSCRIBE or UNSUBSCRIBE filter (%s)',
    async (_what, bytes) => {
      for (const [header, tail] of [
        [0x82, [1]],
        [0xa2, []],
      ] as const) {
        const { c } = await lab.connect({ clientId: 'utf8-sub' });
        c.send(packetBytes(header, [0, 5, ...mqttString(str(bytes)), ...tail]));
        await c.gone();
        expect(c.packets.map((p) => p.cmd)).toEqual(['connack']);
      }
    },
  );

  it.each(illFormed)(
    '[MQTT-3.1.3-4] [MQTT-3.1.3-10] [MQTT-3.1.3-11] in a CONNECT client id, Will topic or user name (%s): no CONNACK',
    async (_what, bytes) => {
      for (const connect of [
        connectBytes({ flags: 0x02, clientId: str(bytes) }),
        connectBytes({ flags: 0x02 | 0x04, clientId: 'utf8-will', willTopic: str(bytes), willPayload: [1] }),
        connectBytes({ flags: 0x02 | 0x80, clientId: 'utf8-user', username: str(bytes) }),
      ]) {
        const c = await lab.open();
        c.send(connect);
        await c.gone();
        expect(c.packets).toEqual([]);
      }
    },
  );
});

describe('[MQTT-1.5.3-2] [MQTT-4.7.3-2] U+0000 closes the connection', () => {
  it('in a PUBLISH topic', async () => {
    const { c } = await lab.connect({ clientId: 'nul-pub' });
    c.send(pub('a\u0000b', 'x', { qos: 1, messageId: 1 }));
    await c.gone();
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack']);
  });

  it('in a SUBSCRIBE filter, with no SUBACK', async () => {
    const { c } = await lab.connect({ clientId: 'nul-sub' });
    c.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'a/\u0000/b', qos: 0 }] });
    await c.gone();
    expect(c.packets.map((p) => p.cmd)).toEqual(['connack']);
  });

  it('in a CONNECT client id: no CONNACK', async () => {
    const c = await lab.open();
    c.send(connectBytes({ flags: 0x02, clientId: [0x61, 0x00] }));
    await c.gone();
    expect(c.packets).toEqual([]);
  });
});

describe('[MQTT-1.5.3-3] U+FEFF is a character like any other', () => {
  it('is kept, not stripped, in topic names and filters', async () => {
    const r = lab.root();
    const { c: s } = await lab.connect({ clientId: 'bom-sub' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `\uFEFF${r}/#`, qos: 1 }] });
    await s.next('suback');
    const { c: p } = await lab.connect({ clientId: 'bom-pub' });
    p.send(pub(`${r}/x`, 'no bom', { qos: 1, messageId: 1 }));
    await p.next('puback');
    p.send(pub(`\uFEFF${r}/x`, 'bom', { qos: 1, messageId: 2 }));
    const m = await s.next('publish');
    await s.ping();
    expect([m.topic, s.publishes().length]).toEqual([`\uFEFF${r}/x`, 1]);
  });
});
