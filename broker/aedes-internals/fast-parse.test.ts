import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { installFastParse, type MqttParser } from './fast-parse.js';

type Event = ['packet', string[], Record<string, unknown>] | ['error', string];

/** Feeds chunks to a parser and records what it emits: each packet's fields, in their order, and each error. */
function run(chunks: Buffer[], fast: boolean, settings: object = { protocolVersion: 4 }): Event[] {
  const parser = mqttPacket.parser(settings) as unknown as MqttParser & NodeJS.EventEmitter;
  if (fast) installFastParse(parser);
  const events: Event[] = [];
  parser.on('packet', (p: Record<string, unknown>) => {
    const fields = Object.fromEntries(
      Object.entries(p).map(([k, v]) => [k, Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : v]),
    );
    events.push(['packet', Object.keys(p), fields]);
  });
  parser.on('error', (e: Error) => events.push(['error', e.message]));
  for (const c of chunks) parser.parse(c);
  return events;
}

const topic = fc.oneof(
  fc.constantFrom('vw/v1/site-a/gw1/bed01/wave', 'a', 'vw/v1/ü/€/😀'),
  fc.string({ maxLength: 40 }),
);
const id = fc.integer({ min: 1, max: 65535 });
const packet = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        qos: fc.constantFrom(0, 1, 2),
        topic,
        messageId: id,
        retain: fc.boolean(),
        dup: fc.boolean(),
        payload: fc.uint8Array({ maxLength: 300 }),
      })
      .map((p) => mqttPacket.generate({ cmd: 'publish', ...p, payload: Buffer.from(p.payload) })),
  },
  { weight: 3, arbitrary: id.map((messageId) => mqttPacket.generate({ cmd: 'puback', messageId })) },
  { weight: 1, arbitrary: fc.constant(mqttPacket.generate({ cmd: 'pingreq' })) },
  {
    weight: 1,
    arbitrary: id.map((messageId) =>
      mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic: 'vw/#', qos: 1 }] }),
    ),
  },
  { weight: 1, arbitrary: id.map((messageId) => mqttPacket.generate({ cmd: 'pubrel', messageId })) },
  // Hostile bytes: anything at all, and near misses of the two fast packets (flags, lengths, topic lengths).
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(0x30, 0x32, 0x33, 0x36, 0x3e, 0x40, 0x41, 0x42),
        fc.uint8Array({ minLength: 0, maxLength: 8 }),
      )
      .map(([h, rest]) => Buffer.from([h, rest.length, ...rest])),
  },
  // Remaining Length in five bytes: too long, even when its value is small [MQTT-2.2.3].
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
      Buffer.from([0x30, 0x85, 0x80, 0x80, 0x80, 0x00, 0, 1, 0x61, 0, 0]),
    ),
  },
  // A QoS 1 PUBLISH whose topic runs up to, or one byte short of, the end of its body: no room for the message id.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 2 }), fc.uint8Array({ minLength: 1, maxLength: 6 }))
      .map(([short, t]) => {
        const body = Buffer.concat([Buffer.from([0, t.length]), Buffer.from(t), Buffer.alloc(2 - short, 0x61)]);
        return Buffer.concat([Buffer.from([0x32, body.length]), body]);
      }),
  },
);

/** Splits a byte stream at arbitrary points, as TCP and TLS records do. */
const chunked = fc
  .tuple(
    fc.array(packet, { minLength: 1, maxLength: 30 }),
    fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 30 }),
  )
  .map(([packets, cuts]) => {
    const all = Buffer.concat(packets);
    const chunks: Buffer[] = [];
    let at = 0;
    for (let i = 0; at < all.length; i++) {
      const n = cuts[i % cuts.length] ?? all.length;
      chunks.push(all.subarray(at, at + n));
      at += n;
    }
    return chunks;
  });

describe('installFastParse', () => {
  it('emits exactly what mqtt-packet emits, packets and errors, for any byte stream cut anywhere (property)', () => {
    fc.assert(
      fc.property(chunked, (chunks) => {
        expect(run(chunks, true)).toEqual(run(chunks, false));
      }),
      { numRuns: 3000 },
    );
  });

  it("builds its packets with the parser's own copy of mqtt-packet, whichever copy vitalwire itself loads", () => {
    // Aedes may load another copy of mqtt-packet than vitalwire does (npm nests one when their ranges differ): the
    // fast path's packets must be that parser's Packets. A subclass stands in for the other copy's class.
    const parser = mqttPacket.parser({ protocolVersion: 4 }) as unknown as MqttParser & NodeJS.EventEmitter;
    const Own = parser.packet.constructor as new () => object;
    class OtherCopy extends Own {}
    (parser as { packet: object }).packet = new OtherCopy();
    installFastParse(parser);
    const got: object[] = [];
    parser.on('packet', (p: object) => got.push(p));
    parser.parse(mqttPacket.generate({ cmd: 'puback', messageId: 7 }));
    expect(got).toHaveLength(1);
    expect(got[0]).toBeInstanceOf(OtherCopy);
  });

  it('reads a whole PUBLISH and PUBACK into mqtt-packet Packets without handing them to mqtt-packet', () => {
    const publish = mqttPacket.generate({
      cmd: 'publish',
      topic: 'vw/v1/s/g/b/wave',
      payload: Buffer.from('hi'),
      qos: 1,
      messageId: 258,
      retain: true,
      dup: false,
    });
    const puback = mqttPacket.generate({ cmd: 'puback', messageId: 9 });
    const parser = mqttPacket.parser({ protocolVersion: 4 }) as unknown as MqttParser & NodeJS.EventEmitter;
    installFastParse(parser);
    const list = parser._list as unknown as { append(b: Buffer): void };
    let handedOn = 0;
    const append = list.append.bind(list);
    list.append = (b: Buffer) => {
      handedOn++;
      append(b);
    };
    const got: Record<string, unknown>[] = [];
    parser.on('packet', (p: Record<string, unknown>) => got.push(p));
    parser.parse(Buffer.concat([publish, puback]));
    expect(handedOn).toBe(0);
    expect(got).toEqual([
      {
        cmd: 'publish',
        retain: true,
        qos: 1,
        dup: false,
        length: 2 + 16 + 2 + 2,
        topic: 'vw/v1/s/g/b/wave',
        payload: Buffer.from('hi'),
        messageId: 258,
      },
      { cmd: 'puback', retain: false, qos: 0, dup: false, length: 2, topic: null, payload: null, messageId: 9 },
    ]);
    expect(got[0]?.constructor).toBe(got[1]?.constructor);
  });

  it('keeps order when a packet handler makes the parser read again', () => {
    const parser = mqttPacket.parser({ protocolVersion: 4 }) as unknown as MqttParser & NodeJS.EventEmitter;
    installFastParse(parser);
    const ids: number[] = [];
    parser.on('packet', (p: { messageId: number }) => {
      ids.push(p.messageId);
      if (p.messageId === 1) parser.parse(mqttPacket.generate({ cmd: 'puback', messageId: 3 }));
    });
    parser.parse(
      Buffer.concat([
        mqttPacket.generate({ cmd: 'puback', messageId: 1 }),
        mqttPacket.generate({ cmd: 'puback', messageId: 2 }),
      ]),
    );
    expect(ids).toEqual([1, 2, 3]);
  });

  it('leaves MQTT 5 to mqtt-packet: the same stream gives the same packets as without the fast path', () => {
    const v5 = { protocolVersion: 5 };
    const chunks = [
      mqttPacket.generate(
        {
          cmd: 'publish',
          topic: 't',
          payload: Buffer.from('x'),
          qos: 1,
          messageId: 4,
          retain: false,
          dup: false,
          properties: { contentType: 'a' },
        },
        v5,
      ),
    ];
    const events = run(chunks, true, v5);
    expect(events).toEqual(run(chunks, false, v5));
    expect(events[0]?.[2]).toMatchObject({ properties: { contentType: 'a' } });
  });

  it('keeps of the CONNECT only what mqtt-packet reads later, and parses what follows as mqtt-packet does', () => {
    const connects = [
      { protocolId: 'MQIsdp', protocolVersion: 3 },
      { protocolId: 'MQTT', protocolVersion: 4 },
      { protocolId: 'MQTT', protocolVersion: 4, bridgeMode: true },
      { protocolId: 'MQTT', protocolVersion: 5 },
    ] as const;
    for (const c of connects) {
      const v = { protocolVersion: c.protocolVersion };
      const connect = mqttPacket.generate({
        cmd: 'connect',
        ...c,
        clientId: 'gw-1',
        clean: true,
        keepalive: 30,
        username: 'u',
        password: Buffer.from('secret'),
        will: { topic: 'w', payload: Buffer.from('gone'), qos: 1, retain: false },
      });
      const after = [
        mqttPacket.generate(
          { cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 1, messageId: 9, retain: false, dup: false },
          v,
        ),
        mqttPacket.generate({ cmd: 'puback', messageId: 9 }, v),
        mqttPacket.generate({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/#', qos: 1 }] }, v),
      ];
      const chunks = [connect, ...after];
      // From a parser that knows no version yet, as Aedes makes them: the CONNECT sets it.
      const events = run(chunks, true, {});
      expect(events).toEqual(run(chunks, false, {}));
      expect(events[0]?.[2]).toMatchObject({ cmd: 'connect', password: '0x736563726574' }); // Aedes still gets it all
      const parser = mqttPacket.parser({}) as unknown as MqttParser;
      installFastParse(parser);
      parser.parse(connect);
      expect(parser.settings).toEqual({
        protocolVersion: c.protocolVersion,
        bridgeMode: 'bridgeMode' in c ? true : undefined, // mqtt-packet sets it for a bridge only
      });
      expect('pipe' in parser._list).toBe(false); // a plain buffer list, no stream around it
    }
  });
});
