// Scale-out on Redis: a pub/sub emitter (redis-emitter.ts) carries traffic between broker processes, and
// aedes-persistence-redis (12.x, forced by package.json "overrides") holds sessions, subscriptions, offline queues,
// retained messages and wills, so several `vitalwire central` processes behind a TCP load balancer act as one broker.
import { Redis } from 'ioredis';
import redisPersistence from 'aedes-persistence-redis';
import { VitalwireError } from '../lib/errors.js';
import { checkTestedVersions } from './aedes-internals/index.js';
import { createRedisEmitter } from './redis-emitter.js';

export interface ClusterBackend {
  /** Aedes `mq` and `persistence` options. */
  readonly mq: unknown;
  readonly persistence: { destroy(): Promise<void> };
  /** Frames from other brokers that could not be read (a broker of another version on the same Redis, or garbage). */
  badFrames(): number;
  /** True while all three Redis connections are up. */
  ready(): boolean;
  /** Closes the persistence connection (Aedes closes the mq itself on broker.close, ecosystem trap 2). */
  close(): Promise<void>;
  /** Closes everything: for a broker that failed to start. */
  abort(): void;
}

export interface RedisOptions {
  url: string;
  /** Aedes' mqemitter concurrency (messages in flight inside the emitter). */
  concurrency: number;
  /** How long to wait for Redis at start before giving up. */
  connectTimeoutMs: number;
  /** Queued messages sent to a reconnecting persistent session per restore. */
  maxSessionDelivery: number;
}

/** The URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}

function whenReady(conn: Redis, timeoutMs: number, url: string): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = '';
    const onError = (err: Error): void => {
      lastError = err.message;
    };
    const timer = setTimeout(() => {
      conn.off('ready', onReady);
      conn.off('error', onError);
      reject(
        new VitalwireError(
          'VW_ERR_CONFIG',
          `redis ${redactRedisUrl(url)} not ready after ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}`,
        ),
      );
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      conn.off('error', onError);
      resolve();
    };
    conn.once('ready', onReady);
    conn.on('error', onError);
  });
}

export async function connectRedis(o: RedisOptions, onError: (err: Error) => void): Promise<ClusterBackend> {
  checkTestedVersions(['ioredis']); // the emitter corks an ioredis socket (aedes-internals)
  const redisOpts = { maxRetriesPerRequest: null, enableAutoPipelining: true } as const;
  const subConn = new Redis(o.url, redisOpts);
  // The emitter gathers its PUBLISHes per event-loop turn itself (corked socket): ioredis' auto-pipelining would
  // build a Pipeline object and a second copy of every frame per turn.
  const pubConn = new Redis(o.url, { maxRetriesPerRequest: null, enableAutoPipelining: false });
  const db = new Redis(o.url, { enableAutoPipelining: true });
  const conns = [subConn, pubConn, db];
  for (const c of conns) c.on('error', onError);
  try {
    // Ecosystem trap 1 (met with mqemitter-redis, kept for the emitter): a connection that is not ready when Aedes
    // subscribes fails with "Connection in subscriber mode, only subscriber commands may be used".
    await Promise.all(conns.map((c) => whenReady(c, o.connectTimeoutMs, o.url)));
  } catch (err) {
    for (const c of conns) c.disconnect();
    throw err;
  }
  // matchEmptyLevels is what Aedes sets on its default emitter: [MQTT-4.7.1-3] 'a/#' matches 'a'.
  const mq = createRedisEmitter({ subConn, pubConn, concurrency: o.concurrency, matchEmptyLevels: true, onError });
  const persistence = redisPersistence({ conn: db, maxSessionDelivery: o.maxSessionDelivery });
  let closed = false;
  return {
    mq,
    persistence,
    badFrames: () => mq.badFrames,
    ready: () => !closed && conns.every((c) => c.status === 'ready'),
    async close() {
      if (closed) return;
      closed = true;
      await persistence.destroy();
    },
    abort() {
      closed = true;
      for (const c of conns) c.disconnect();
    },
  };
}
