// The cluster's message bus on a real redis-server: local delivery at once, one copy per message on every other
// broker whatever its patterns, its own echo dropped, glob characters in topics taken literally, and bad frames
// counted without stopping the stream.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedisServer, type TestRedis } from '../test/redis-server.js';
import { createRedisEmitter, redisPattern, type Message, type RedisEmitter } from './redis-emitter.js';

describe('redisPattern', () => {
  it('covers every topic the MQTT filter matches, and no glob character is a wildcard by accident', () => {
    expect(redisPattern('vw/v1/site-a/#', true)).toBe('vw/v1/site-a*'); // [MQTT-4.7.1-3]: matches vw/v1/site-a too
    expect(redisPattern('vw/v1/site-a/#', false)).toBe('vw/v1/site-a/*');
    expect(redisPattern('#', true)).toBe('*');
    expect(redisPattern('vw/+/a/+', true)).toBe('vw/*/a/*');
    expect(redisPattern('x/*/y?[z]\\', true)).toBe('x/\\*/y\\?\\[z\\]\\\\');
  });
});

const skip = inject('redisUrl') ? null : inject('redisSkipReason');
const d = skip ? describe.skip : describe;

d(`two emitters on one Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let redis: TestRedis;
  const open: RedisEmitter[] = [];
  const errors: Error[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => new Promise<void>((r) => e.close(r))));
    expect(errors).toEqual([]);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function emitter(): Promise<RedisEmitter> {
    const subConn = new Redis(redis.url);
    const pubConn = new Redis(redis.url);
    await Promise.all([subConn, pubConn].map((c) => new Promise((r) => c.once('ready', r))));
    const e = createRedisEmitter({
      subConn,
      pubConn,
      concurrency: 100,
      matchEmptyLevels: true,
      onError: (err) => errors.push(err),
    });
    open.push(e);
    return e;
  }
  const on = (e: RedisEmitter, filter: string): Promise<Message[]> & { got: Message[] } => {
    const got: Message[] = [];
    const p = new Promise<Message[]>((resolve) =>
      e.on(
        filter,
        (m, done) => {
          got.push(m);
          done();
        },
        () => resolve(got),
      ),
    );
    return Object.assign(p, { got });
  };
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
  const emit = (e: RedisEmitter, m: Message): Promise<Error | undefined> => new Promise((r) => e.emit(m, r));

  it('delivers here at once and on the other broker once, and drops its own echo', async () => {
    const a = await emitter();
    const b = await emitter();
    const hereA = on(a, 'vw/v1/+/gw1/#');
    const thereB = on(b, 'vw/v1/#');
    const thereB2 = on(b, 'vw/v1/site-a/+/bed1/obs'); // a second pattern on b matching the same message
    await Promise.all([hereA, thereB, thereB2]);
    const payload = Buffer.from([0, 1, 2, 0xff]);
    expect(await emit(a, { topic: 'vw/v1/site-a/gw1/bed1/obs', payload, qos: 1 })).toBeUndefined();
    expect(hereA.got).toHaveLength(1); // local delivery happened before emit called back
    await settle();
    expect(hereA.got).toHaveLength(1); // a's own copy back from Redis was dropped
    expect(thereB.got).toHaveLength(1); // one copy though two of b's patterns matched
    expect(thereB2.got).toHaveLength(1);
    const m = thereB.got[0];
    expect(m?.topic).toBe('vw/v1/site-a/gw1/bed1/obs');
    expect(Buffer.isBuffer(m?.['payload'])).toBe(true);
    expect(m?.['payload']).toEqual(payload);
    expect(m?.['qos']).toBe(1);
  });

  it('keeps each sender’s order and takes every message of a burst once', async () => {
    const a = await emitter();
    const b = await emitter();
    const got = on(b, 'burst/#');
    const also = on(b, 'burst/+'); // overlapping pattern: Redis sends each message twice to b
    await Promise.all([got, also]);
    for (let i = 0; i < 500; i++) a.emit({ topic: 'burst/x', n: i });
    await emit(a, { topic: 'burst/x', n: 500 });
    await settle();
    expect(got.got.map((m) => m['n'])).toEqual([...Array(501).keys()]);
  });

  it('takes glob characters in topics literally, in Redis as well as here', async () => {
    const a = await emitter();
    const b = await emitter();
    const star = on(b, 'x/*/y');
    await star;
    await emit(a, { topic: 'x/a/y' });
    await emit(a, { topic: 'x/*/y' });
    await settle();
    expect(star.got.map((m) => m.topic)).toEqual(['x/*/y']);
    // PUBLISH answers how many subscribers Redis sent it to: b's pattern must not take x/a/y at all.
    const raw = new Redis(redis.url);
    try {
      expect(await raw.publish('x/a/y', 'probe')).toBe(0);
      expect(await raw.publish('x/*/y', 'probe')).toBe(1);
    } finally {
      raw.disconnect();
    }
  });

  it('counts a frame it cannot read and goes on with the next', async () => {
    const a = await emitter();
    const b = await emitter();
    const got = on(b, 'g/#');
    await got;
    const raw = new Redis(redis.url);
    try {
      await raw.publish('g/1', Buffer.from('short'));
      await raw.publish(
        'g/1',
        Buffer.concat([Buffer.from('VW\x02', 'latin1'), Buffer.alloc(22, 7), Buffer.from([0xc1])]),
      ); // a header from another sender, msgpack body 0xc1: never used in msgpack
      await emit(a, { topic: 'g/2' });
      await settle();
    } finally {
      raw.disconnect();
    }
    expect(b.badFrames).toBe(2);
    expect(got.got.map((m) => m.topic)).toEqual(['g/2']);
    // Reported once, not per frame, and naming the likely cause (a broker of another version on this Redis).
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('same vitalwire version')]);
    errors.length = 0;
  });

  it('stops delivering after removeListener and refuses to emit once closed', async () => {
    const a = await emitter();
    const b = await emitter();
    const got: Message[] = [];
    const listener = (m: Message, done: () => void): void => {
      got.push(m);
      done();
    };
    await new Promise<void>((r) => b.on('r/#', listener, r));
    await emit(a, { topic: 'r/1' });
    await settle();
    await new Promise<void>((r) => b.removeListener('r/#', listener, r));
    await emit(a, { topic: 'r/2' });
    await settle();
    expect(got.map((m) => m.topic)).toEqual(['r/1']);
    await new Promise<void>((r) => a.close(r));
    expect(await emit(a, { topic: 'r/3' })).toBeInstanceOf(Error);
  });
});
