// The message bus between clustered brokers: an Aedes `mq` (mqemitter interface) over Redis pub/sub that delivers a
// message to this process's own subscribers at once and sends it to Redis for the others.
//
// mqemitter-redis, used before, delivered nothing locally: every message went to Redis and came back, was
// msgpack-decoded and looked up in a cache, even when publisher and subscriber sat on the same broker. That cost a
// Redis round trip of latency per message and a decode per message per broker. Here each frame (bus-frame.ts)
// carries, at a fixed offset, the sending emitter's random id and a counter: a broker drops its own echo by comparing
// 16 bytes, before any decoding, and a message that matches several of a broker's patterns (Redis sends one copy per
// pattern, one after the other) is taken once, since one sender's counters arrive in order on one connection.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import mqemitter from 'mqemitter';
import { redisSocket } from './aedes-internals/index.js';
import { decodeFrame, encodeFrame, frameCounter, hasHeader, ID_AT, ID_BYTES, type BusMessage } from './bus-frame.js';

export interface RedisEmitterOptions {
  subConn: Redis;
  pubConn: Redis;
  /** Messages in flight inside the local emitter (Aedes' mqemitter concurrency). */
  concurrency: number;
  /** [MQTT-4.7.1-3] 'a/#' matches 'a' too. */
  matchEmptyLevels: boolean;
  onError(err: Error): void;
}

export type Message = BusMessage;
type Notify = (message: Message, done: () => void) => void;

/** The subset of the mqemitter interface that Aedes uses. */
export interface RedisEmitter {
  on(topic: string, notify: Notify, done?: () => void): RedisEmitter;
  removeListener(topic: string, notify: Notify, done?: () => void): RedisEmitter;
  emit(message: Message, done?: (err?: Error) => void): RedisEmitter;
  close(done: () => void): RedisEmitter;
  /** Frames from other brokers that could not be decoded (counted, dropped). */
  readonly badFrames: number;
}

/** Redis glob special characters in a literal topic level are escaped; they are plain characters in MQTT. */
function globEscape(level: string): string {
  return level.replace(/[\\*?[\]]/g, '\\$&');
}

/**
 * A Redis pattern that matches at least every topic the MQTT filter matches (the local emitter then matches exactly):
 * '+' becomes '*', and a trailing '#' becomes '*' that also covers the parent level when empty levels match.
 */
export function redisPattern(filter: string, matchEmptyLevels: boolean): string {
  const levels = filter.split('/');
  if (levels[levels.length - 1] === '#') {
    levels.pop();
    const head = levels.map((l) => (l === '+' ? '*' : globEscape(l))).join('/');
    if (levels.length === 0) return '*';
    return matchEmptyLevels ? `${head}*` : `${head}/*`;
  }
  return levels.map((l) => (l === '+' ? '*' : globEscape(l))).join('/');
}

export function createRedisEmitter(o: RedisEmitterOptions): RedisEmitter {
  const local = mqemitter({ concurrency: o.concurrency, matchEmptyLevels: o.matchEmptyLevels });
  const self = randomBytes(ID_BYTES);
  let counter = 0;
  /** Last counter taken from each other sender (by id); a new process has a new id. */
  const lastSeen = new Map<string, number>();
  /** Redis patterns subscribed, with how many local listeners need each. */
  const patterns = new Map<string, number>();
  let closed = false;
  let badFrames = 0;
  /**
   * Counts a frame it cannot read and reports the first, then every 10,000th: the usual cause is a broker of another
   * vitalwire version on the same Redis (the frame format is not kept across versions), and every message between
   * the two is then lost, so it must not go unseen.
   */
  const bad = (why: string): void => {
    if (badFrames++ % 10_000 === 0) {
      o.onError(
        new Error(
          `cluster bus: ${badFrames} frame(s) from another broker not understood (${why}); are all brokers on this Redis the same vitalwire version?`,
        ),
      );
    }
  };

  function onFrame(_pattern: Buffer, _channel: Buffer, frame: Buffer): void {
    if (!hasHeader(frame)) {
      bad('no vitalwire frame header');
      return;
    }
    if (self.compare(frame, ID_AT, ID_AT + ID_BYTES) === 0) return; // our own: delivered locally when emitted
    const sender = frame.toString('latin1', ID_AT, ID_AT + ID_BYTES);
    const n = frameCounter(frame);
    if (n <= (lastSeen.get(sender) ?? -1)) return; // another pattern's copy of the message just taken
    lastSeen.set(sender, n);
    let message: Message | null;
    try {
      message = decodeFrame(frame);
    } catch (err) {
      bad((err as Error).message);
      return;
    }
    if (message === null) {
      bad('body does not add up');
      return;
    }
    local.emit(message);
  }
  o.subConn.on('pmessageBuffer', onFrame);

  // PUBLISHes of one event-loop turn leave in one write: the connection's socket is corked at the first and uncorked
  // on setImmediate. The socket changes on reconnect, so the one corked is remembered.
  let corked: { uncork(): void } | null = null;
  const uncork = (): void => {
    corked?.uncork();
    corked = null;
  };
  const cork = (): void => {
    if (corked !== null) return;
    const stream = redisSocket(o.pubConn);
    if (!stream?.cork || !stream.writable) return;
    stream.cork();
    corked = stream;
    setImmediate(uncork);
  };

  const later = (done?: () => void): void => {
    if (done) setImmediate(done);
  };

  const emitter: RedisEmitter = {
    get badFrames() {
      return badFrames;
    },
    on(topic, notify, done) {
      local.on(topic, notify);
      const p = redisPattern(topic, o.matchEmptyLevels);
      const n = patterns.get(p) ?? 0;
      patterns.set(p, n + 1);
      if (n > 0) later(done);
      else
        o.subConn.psubscribe(p).then(
          () => later(done),
          (err: Error) => (o.onError(err), later(done)),
        );
      return emitter;
    },
    removeListener(topic, notify, done) {
      local.removeListener(topic, notify);
      const p = redisPattern(topic, o.matchEmptyLevels);
      const n = (patterns.get(p) ?? 0) - 1;
      if (n > 0) {
        patterns.set(p, n);
        later(done);
      } else {
        patterns.delete(p);
        o.subConn.punsubscribe(p).then(
          () => later(done),
          (err: Error) => (o.onError(err), later(done)),
        );
      }
      return emitter;
    },
    emit(message, done) {
      if (closed) {
        done?.(new Error('redis emitter closed'));
        return emitter;
      }
      // Done once both happened: delivered here, and handed to Redis for the other brokers. A Redis failure is the
      // caller's error (a QoS 1 publisher then gets no PUBACK and sends again; subscribers here may see it twice,
      // which QoS 1 allows).
      let pending = 2;
      let failed: Error | undefined;
      const settle = (err?: Error): void => {
        if (err && !failed) failed = err;
        if (--pending === 0) done?.(failed);
      };
      const frame = encodeFrame(message, self, counter++);
      local.emit(message, () => settle());
      cork();
      o.pubConn.publish(message.topic, frame).then(
        () => settle(),
        (err: Error) => settle(err),
      );
      return emitter;
    },
    close(done) {
      if (closed) {
        setImmediate(done);
        return emitter;
      }
      closed = true;
      o.subConn.off('pmessageBuffer', onFrame);
      const quit = (c: Redis): Promise<unknown> => c.quit().catch(() => c.disconnect());
      void Promise.all([quit(o.subConn), quit(o.pubConn)]).then(() => local.close(done));
      return emitter;
    },
  };
  return emitter;
}
