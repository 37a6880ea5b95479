import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalesceWrites, topicMatches } from './delivery.js';

/** A Duplex that records each batch its writable side hands down (one entry per _writev or _write call). */
function recorder(): { stream: Duplex; batches: string[][] } {
  const batches: string[][] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      batches.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, batches };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('coalesceWrites', () => {
  it('hands everything written in one turn of the event loop down as one batch, in order', async () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('a');
    // mqtt-packet corks per packet and uncorks on the next tick; that must not flush early.
    stream.cork();
    stream.write('b');
    process.nextTick(() => stream.uncork());
    await new Promise((r) => process.nextTick(r));
    stream.write('c');
    expect(batches).toEqual([]);
    await turn();
    expect(batches).toEqual([['a', 'b', 'c']]);
    stream.write('d');
    await turn();
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('keeps backpressure: writableLength counts what waits, and write() returns false past the high-water mark', async () => {
    const { stream } = recorder();
    coalesceWrites(stream);
    const big = Buffer.alloc(stream.writableHighWaterMark);
    expect(stream.write(big)).toBe(false);
    expect(stream.writableLength).toBe(big.length);
    await turn();
    expect(stream.writableLength).toBe(0);
  });

  it('hands what is corked down before a destroy, as an uncorked write would have been', () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('connack');
    stream.destroy();
    expect(batches).toEqual([['connack']]);
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

describe('topicMatches', () => {
  it('follows MQTT 3.1.1 4.7', () => {
    expect(topicMatches('vw/v1/#', 'vw/v1')).toBe(true);
    expect(topicMatches('vw/+/a', 'vw/v1/a')).toBe(true);
    expect(topicMatches('vw/+/a', 'vw/v1/b')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
  });
});
