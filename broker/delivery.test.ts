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

  it('keeps backpressure: write() returns false past the high-water mark and writableLength counts what waits', async () => {
    // A socket that has not accepted the bytes yet: the write completes a turn later.
    const stream = new Duplex({ read() {}, writev(_chunks, cb) { setImmediate(cb); }, write(_c, _e, cb) { setImmediate(cb); } });
    coalesceWrites(stream);
    const big = Buffer.alloc(stream.writableHighWaterMark);
    expect(stream.write(big)).toBe(false);
    expect(stream.writableLength).toBe(big.length);
    await new Promise((r) => stream.once('drain', r));
    expect(stream.writableLength).toBe(0);
  });

  it('hands what is corked down before a destroy, as an uncorked write would have been', () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('connack');
    stream.destroy();
    expect(batches).toEqual([['connack']]);
  });

  it('hands everything down before a destroy even while mqtt-packet holds its own cork', async () => {
    const { stream, batches } = recorder();
    coalesceWrites(stream);
    stream.write('puback');
    await new Promise((r) => process.nextTick(r));
    stream.cork(); // mqtt-packet: cork, write, uncork on the next tick; the broker destroys before that tick
    stream.write('pingresp');
    process.nextTick(() => stream.uncork());
    stream.destroy();
    expect(batches.flat()).toEqual(['puback', 'pingresp']);
  });

  it('lets a batch leave early at the high-water mark, so writableLength over-counts by at most that much', async () => {
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
    await turn(); // the first batch's scheduled flush must not uncork the second one early, nor twice
    expect(batches.flat().join('')).toBe(`${'a'.repeat(60)}${'b'.repeat(60)}c`);
    expect(stream.writableCorked).toBe(0);
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
