import fc from 'fast-check';
import msgpack from 'msgpack-lite';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, frameCounter, hasHeader, ID_AT, ID_BYTES, type BusMessage } from './bus-frame.js';

const id = Buffer.alloc(ID_BYTES, 0xab);
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('vw/v1/site-a/gw1/bed01/wave', 'ü/€/😀', ''));

/** A packet as aedes-packet builds it for the emitter: optional clientId first, messageId undefined for QoS > 0. */
const aedesPacket = fc
  .record({
    clientId: fc.option(text, { nil: undefined }),
    brokerId: text,
    brokerCounter: fc.oneof(fc.nat(), fc.constant(2 ** 48 + 3)),
    topic: text,
    payload: fc.uint8Array({ maxLength: 5000 }),
    qos: fc.constantFrom(0, 1, 2),
    retain: fc.boolean(),
    dup: fc.boolean(),
  })
  .map((r) => {
    const m: Record<string, unknown> = {};
    if (r.clientId !== undefined) m['clientId'] = r.clientId;
    Object.assign(m, {
      cmd: 'publish',
      brokerId: r.brokerId,
      brokerCounter: r.brokerCounter,
      topic: r.topic,
      payload: Buffer.from(r.payload),
      qos: r.qos,
      retain: r.retain,
      dup: r.dup,
    });
    if (r.qos > 0) m['messageId'] = undefined;
    return m as BusMessage;
  });

describe('bus frames', () => {
  it('give back an Aedes publish packet whole, in the binary form, with the sender and counter in the header (property)', () => {
    fc.assert(
      fc.property(aedesPacket, fc.integer({ min: 0, max: 2 ** 48 - 1 }), (m, n) => {
        const frame = encodeFrame(m, id, n);
        expect(frame[2]).toBe(0x01);
        expect(hasHeader(frame)).toBe(true);
        expect(frame.subarray(ID_AT, ID_AT + ID_BYTES)).toEqual(id);
        expect(frameCounter(frame)).toBe(n);
        const back = decodeFrame(frame);
        expect(back).toEqual(m);
        expect(Object.keys(back ?? {})).toEqual(Object.keys(m));
      }),
      { numRuns: 500 },
    );
  });

  it('carries any other message through msgpack, as msgpack would (property)', () => {
    const other = fc.oneof(
      // MQTT 5 properties, a no-local flag, or an extra field: not the fixed form
      aedesPacket.chain((m) =>
        fc.constantFrom({ ...m, properties: { contentType: 'x' } }, { ...m, nl: true }, { ...m, extra: 1 }),
      ),
      fc.record({ topic: text, payload: text }), // e.g. Aedes' $SYS notices carry a string payload
      fc.record({ topic: text, payload: fc.uint8Array().map((b) => Buffer.from(b)), qos: fc.constant(3) }),
    );
    fc.assert(
      fc.property(other, (m) => {
        const frame = encodeFrame(m as BusMessage, id, 1);
        expect(frame[2]).toBe(0x02);
        expect(decodeFrame(frame)).toEqual(msgpack.decode(msgpack.encode(m)));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on a packet-form body of any bytes, and anything it returns is a well-typed publish (property)', () => {
    const head = encodeFrame(
      {
        topic: 't',
        cmd: 'publish',
        brokerId: 'b',
        brokerCounter: 1,
        payload: Buffer.alloc(0),
        qos: 0,
        retain: false,
        dup: false,
      },
      id,
      1,
    ).subarray(0, ID_AT + ID_BYTES + 6);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (body) => {
        const m = decodeFrame(Buffer.concat([head, body]));
        if (m !== null) {
          expect(typeof m.topic).toBe('string');
          expect(Buffer.isBuffer(m['payload'])).toBe(true);
          expect([0, 1, 2]).toContain(m['qos']);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('tells a frame without the header', () => {
    expect(hasHeader(Buffer.from('short'))).toBe(false);
    expect(hasHeader(Buffer.concat([Buffer.from([0x92, 0xc4, 22]), Buffer.alloc(40)]))).toBe(false); // the previous format
    expect(hasHeader(Buffer.concat([Buffer.from('VW\x03', 'latin1'), Buffer.alloc(40)]))).toBe(false); // a form not known
  });
});
