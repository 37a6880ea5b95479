import { Duplex } from 'node:stream';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { coalesceWrites } from './staged-writes.js';

/** A Duplex that records each batch its writable side hands down (one entry per _writev or _write call). */
function recorder(): { stream: Duplex; batches: string[][] } {
  const batches: string[][] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      batches.push([chunk.toString('latin1')]);
      cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => (c.chunk as Buffer).toString('latin1')));
      cb();
    },
  });
  return { stream, batches };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('coalesceWrites', () => {
  it('hands everything written in one turn of the event loop down as one write, in order', async () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    // What Aedes writes through mqtt-packet: a PUBLISH (six pieces, the topic as a string) and a PUBACK (three).
    const publish = {
      cmd: 'publish',
      topic: 'vw/v1/site-ä/gw1/bed01/wave',
      payload: Buffer.alloc(300, 7),
      qos: 1,
      messageId: 513,
      retain: false,
      dup: false,
    } as const;
    const puback = { cmd: 'puback', messageId: 42 } as const;
    mqttPacket.writeToStream(publish, stream);
    mqttPacket.writeToStream(puback, stream);
    await new Promise((r) => process.nextTick(r)); // mqtt-packet's uncork, had it corked, would come here
    expect(batches).toEqual([]);
    await turn();
    expect(batches).toHaveLength(1);
    expect(Buffer.from(batches[0]?.[0] ?? '', 'latin1')).toEqual(
      Buffer.concat([mqttPacket.generate(publish), mqttPacket.generate(puback)]),
    );
    stream.write('d');
    await turn();
    expect(batches.slice(1)).toEqual([['d']]);
  });

  it('keeps backpressure: write() returns false past the high-water mark and writableLength counts what waits', async () => {
    // A socket that has not accepted the bytes yet: the write completes a turn later.
    const stream = new Duplex({
      read() {},
      writev(_chunks, cb) {
        setImmediate(cb);
      },
      write(_c, _e, cb) {
        setImmediate(cb);
      },
    });
    coalesceWrites(stream);
    const big = Buffer.alloc(stream.writableHighWaterMark);
    expect(stream.write(big)).toBe(false);
    expect(stream.writableLength).toBe(big.length);
    await new Promise((r) => stream.once('drain', r));
    expect(stream.writableLength).toBe(0);
  });

  it('returns false only when a drain will follow, and hands down every byte in order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 40 }),
        async (sizes) => {
          const got: Buffer[] = [];
          const stream = new Duplex({
            read() {},
            write(c: Buffer, _e, cb) {
              got.push(Buffer.from(c));
              setImmediate(cb);
            }, // a socket slower than the writer
            writev(cs, cb) {
              for (const c of cs) got.push(Buffer.from(c.chunk as Buffer));
              setImmediate(cb);
            },
          });
          coalesceWrites(stream);
          const sent: Buffer[] = [];
          for (const [i, n] of sizes.entries()) {
            const b = Buffer.alloc(n, i & 0xff);
            sent.push(b);
            if (!stream.write(b)) {
              const drained = await Promise.race([
                new Promise((r) => stream.once('drain', () => r(true))),
                new Promise((r) => setTimeout(() => r(false), 1000)),
              ]);
              expect(drained).toBe(true);
            }
          }
          await new Promise((r) => stream.end(r));
          expect(Buffer.concat(got).equals(Buffer.concat(sent))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('sends a write with a callback, and a payload larger than a record, after what is staged', async () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('a');
    let called = false;
    stream.write('b', () => (called = true));
    stream.write('c');
    stream.write(Buffer.alloc(20_000, 0x7a));
    stream.write('d');
    await turn();
    expect(called).toBe(true);
    expect(batches.flat().join('')).toBe(`abc${'z'.repeat(20_000)}d`);
  });

  it('hands what is staged down before a destroy, as an unstaged write would have been', () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('connack');
    stream.destroy();
    expect(batches).toEqual([['connack']]);
  });

  it('drops nothing when mqtt-packet writes and the broker destroys in the same tick', () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    mqttPacket.writeToStream({ cmd: 'puback', messageId: 7 }, stream);
    mqttPacket.writeToStream({ cmd: 'pingresp' }, stream);
    stream.destroy();
    expect(Buffer.from(batches.flat().join(''), 'latin1')).toEqual(Buffer.from([0x40, 2, 0, 7, 0xd0, 0]));
  });

  it('lets a batch leave early at the high-water mark, so writableLength under-counts by at most that much', async () => {
    const batches: string[][] = [];
    const stream = new Duplex({
      read() {},
      writableHighWaterMark: 100,
      writev(chunks, cb) {
        batches.push(chunks.map((c) => (c.chunk as Buffer).toString()));
        cb();
      },
      write(chunk: Buffer, _enc, cb) {
        batches.push([chunk.toString()]);
        cb();
      },
    });
    coalesceWrites(stream);
    stream.write('a'.repeat(60));
    expect(batches).toHaveLength(0);
    stream.write('b'.repeat(60)); // 120 >= 100: this batch leaves now
    expect(batches.flat().join('')).toBe('a'.repeat(60) + 'b'.repeat(60));
    stream.write('c');
    await turn(); // the first batch's scheduled flush must not send the second one twice
    expect(batches.flat().join('')).toBe(`${'a'.repeat(60)}${'b'.repeat(60)}c`);
  });

  it('keeps one batch in flight: what is written until it completes leaves as the next single write', async () => {
    // A TLS socket completes each write an immediate after the system call took it: writes of the turns in between
    // would wait in Writable's buffer and leave as a second, writev'd write.
    const batches: string[][] = [];
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        batches.push([chunk.toString()]);
        setImmediate(() => setImmediate(cb));
      },
      writev(chunks, cb) {
        batches.push(chunks.map((c) => (c.chunk as Buffer).toString()));
        setImmediate(() => setImmediate(cb));
      },
    });
    coalesceWrites(stream);
    stream.write('a');
    await turn(); // 'a' leaves and is in flight for two more turns
    stream.write('b');
    await turn();
    stream.write('c');
    await turn();
    await turn();
    await turn();
    expect(batches).toEqual([['a'], ['bc']]);
  });

  it('lets end() flush at once', async () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('x');
    stream.end('y');
    await new Promise((r) => stream.once('finish', r));
    expect(batches.flat()).toEqual(['x', 'y']);
  });
});
