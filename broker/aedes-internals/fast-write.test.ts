import { Duplex } from 'node:stream';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { installFastWrite, writeStaged } from './fast-write.js';
import { coalesceWrites } from './staged-writes.js';

/** A staged Duplex that keeps every byte handed down. */
function staged(): { stream: Duplex; bytes: () => Buffer } {
  const got: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      got.push(Buffer.from(chunk));
      cb();
    },
    writev(chunks, cb) {
      for (const c of chunks) got.push(Buffer.from(c.chunk as Buffer));
      cb();
    },
  });
  coalesceWrites(stream);
  return { stream, bytes: () => Buffer.concat(got) };
}

/** mqtt-packet's typings want every field; a packet Aedes writes may leave some out (payload null, no dup). */
const asPacket = (p: object): mqttPacket.Packet => p as mqttPacket.Packet;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('writeStaged', () => {
  it('writes a QoS 1 PUBLISH and a PUBACK byte for byte as MQTT 3.1.1 lays them out', async () => {
    const { stream, bytes } = staged();
    expect(
      writeStaged({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hi'), qos: 1, messageId: 10 }, stream),
    ).toBe(true);
    expect(writeStaged({ cmd: 'puback', messageId: 0x1234 }, stream)).toBe(true);
    await turn();
    // §3.3.1: 0x32 = PUBLISH, QoS 1; Remaining Length 2+3+2+2 = 9; topic length 3, "a/b"; packet id 10; payload "hi".
    // §3.4: 0x40, Remaining Length 2, packet id 0x1234.
    expect([...bytes()]).toEqual([0x32, 9, 0, 3, 0x61, 0x2f, 0x62, 0, 10, 0x68, 0x69, 0x40, 2, 0x12, 0x34]);
  });

  it('writes every PUBLISH and PUBACK it takes exactly as mqtt-packet does (property)', async () => {
    const publish = fc.record({
      cmd: fc.constant('publish' as const),
      topic: fc.string({ unit: 'grapheme', maxLength: 60 }),
      payload: fc.oneof(
        fc.constant(null),
        fc.uint8Array({ maxLength: 20_000 }).map((a) => Buffer.from(a)),
      ),
      qos: fc.constantFrom(0, 1, 2),
      messageId: fc.integer({ min: 1, max: 0xffff }),
      dup: fc.boolean(),
      retain: fc.boolean(),
    });
    const puback = fc.record({ cmd: fc.constant('puback' as const), messageId: fc.integer({ min: 0, max: 0xffff }) });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(publish, puback), { minLength: 1, maxLength: 30 }), async (packets) => {
        const { stream, bytes } = staged();
        for (const p of packets)
          if (writeStaged(p, stream) === undefined) mqttPacket.writeToStream(asPacket(p), stream);
        await turn();
        expect(bytes().equals(Buffer.concat(packets.map((p) => mqttPacket.generate(asPacket(p)))))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves to mqtt-packet what it does not take: other packets, bad ids, odd fields, large or unstaged writes', () => {
    const { stream } = staged();
    const leave = [
      { cmd: 'pingresp' },
      { cmd: 'pubrec', messageId: 1 },
      { cmd: 'puback', messageId: 70_000 },
      { cmd: 'puback' },
      { cmd: 'publish', topic: 'a', payload: Buffer.alloc(1), qos: 1 }, // no packet id: mqtt-packet refuses it
      { cmd: 'publish', topic: 'a', payload: 'text', qos: 0 },
      { cmd: 'publish', topic: Buffer.from('a'), payload: Buffer.alloc(1), qos: 0 },
      { cmd: 'publish', topic: 'a', payload: Buffer.alloc(1), qos: 3 },
      { cmd: 'publish', topic: 'a', payload: Buffer.alloc(20_000), qos: 0 }, // more than a slab: pieces, as before
    ];
    for (const p of leave) expect(writeStaged(p, stream)).toBeUndefined();
    const plain = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    expect(writeStaged({ cmd: 'puback', messageId: 1 }, plain)).toBeUndefined();
    const { stream: ended } = staged();
    ended.destroy();
    expect(writeStaged({ cmd: 'puback', messageId: 1 }, ended)).toBeUndefined();
  });

  it('answers as write() would at the high-water mark, so Aedes waits for the drain', async () => {
    const stream = new Duplex({
      read() {},
      writableHighWaterMark: 64,
      write(_c, _e, cb) {
        setImmediate(cb);
      },
    });
    coalesceWrites(stream);
    const packet = { cmd: 'publish', topic: 't', payload: Buffer.alloc(40), qos: 0 };
    expect(writeStaged(packet, stream)).toBe(true);
    expect(writeStaged(packet, stream)).toBe(false); // 2 x 45 bytes staged >= 64: handed down, and the socket is full
    await new Promise((r) => stream.once('drain', r));
  });
});

describe('installFastWrite', () => {
  it("puts the writer in front of the writeToStream Aedes calls, and leaves other streams to mqtt-packet's", async () => {
    const { resolveAedesDir } = await import('./index.js');
    installFastWrite(resolveAedesDir());
    const { stream } = staged();
    const plain = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    let stagedWrites = 0;
    let plainWrites = 0;
    const w = stream.write.bind(stream);
    stream.write = ((...a: Parameters<Duplex['write']>) => (stagedWrites++, w(...a))) as Duplex['write'];
    const pw = plain.write.bind(plain);
    plain.write = ((...a: Parameters<Duplex['write']>) => (plainWrites++, pw(...a))) as Duplex['write'];
    const packet = { cmd: 'publish', topic: 'vw/v1/s/g/d/obs', payload: Buffer.alloc(50), qos: 1, messageId: 2 };
    mqttPacket.writeToStream(asPacket(packet), stream);
    mqttPacket.writeToStream(asPacket(packet), plain);
    expect(stagedWrites).toBe(0); // serialized into the stage, no write() call
    expect(plainWrites).toBe(6); // mqtt-packet's six pieces
  });
});
