// Delivery to subscribers: what QoS a message goes out at, the non-blocking drain that keeps one slow subscriber
// from stalling the others, and the publish-before-PUBACK order that makes a QoS 1 acknowledgement mean "stored".
import type { Aedes, Client, PublishPacket } from 'aedes';
import type { Duplex } from 'node:stream';

/** MQTT 3.1.1 4.7 topic matching of one filter against one topic name. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // [MQTT-4.7.2-1] filters starting with a wildcard do not match '$' topics.
  if ((f[0] === '#' || f[0] === '+') && topic.startsWith('$')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // [MQTT-4.7.1-2] also matches the parent level
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** The QoS a message goes out at to this client: the lower of the publish's and its best matching subscription's. */
export function effectiveQos(client: Client, topic: string, packetQos: number): number {
  const subs = (client as unknown as { subscriptions: Record<string, { qos: number }> }).subscriptions;
  let best = 0;
  for (const [filter, sub] of Object.entries(subs)) if (sub.qos > best && topicMatches(filter, topic)) best = sub.qos;
  return Math.min(best, packetQos);
}


type DrainCallback = (err: Error | null, client: Client) => void;

/**
 * Aedes waits for 'drain' before calling back a write that filled the socket, and its emitter holds one of its
 * `concurrency` slots per waiting delivery: one stalled subscriber would stall everyone. Once `live()` is true,
 * deliveries call back at once; the caller bounds what may pile up (authorizeForward), and a socket that does not
 * drain within `drainTimeoutMs` is handed to `onTimeout`. Before that (the stored session being restored) the
 * original, backpressured wait stays, so a long offline queue is paced by the socket instead of buffered.
 */
export function installNonBlockingDrain(client: Client, stream: Duplex, o: {
  live: () => boolean; drainTimeoutMs: number; onTimeout: () => void; timers: { drain: NodeJS.Timeout | null };
}): void {
  const target = client as unknown as { waitForDrain(cb: DrainCallback): void };
  const originalWait = target.waitForDrain.bind(client);
  target.waitForDrain = (cb) => {
    if (!o.live()) return originalWait(cb);
    if (o.timers.drain === null) {
      o.timers.drain = setTimeout(o.onTimeout, o.drainTimeoutMs);
      o.timers.drain.unref();
      stream.once('drain', () => {
        if (o.timers.drain) clearTimeout(o.timers.drain);
        o.timers.drain = null;
      });
    }
    setImmediate(cb, null, client);
  };
}

export type PublishFn = (packet: PublishPacket, client: Client | null, done: (err?: Error) => void) => void;

/**
 * Wraps broker.publish so a packet already published by the caller (from authorizePublish, before the PUBACK) is not
 * published a second time when Aedes, after its PUBACK, calls broker.publish for it. Returns the unwrapped publish
 * and the function that marks a packet as done.
 */
export function installPublishOnce(broker: Aedes): { publishRaw: PublishFn; markPublished(packet: object): void } {
  const alreadyPublished = new WeakSet<object>();
  const publishRaw: PublishFn = (broker.publish as unknown as PublishFn).bind(broker);
  const publishOnce = (packet: PublishPacket, client: Client | null | ((err?: Error) => void), done?: (err?: Error) => void): void => {
    const cb = typeof client === 'function' ? client : done;
    if (alreadyPublished.delete(packet)) {
      cb?.();
      return;
    }
    publishRaw(packet, typeof client === 'function' ? null : client, cb ?? (() => undefined));
  };
  (broker as unknown as { publish: typeof publishOnce }).publish = publishOnce;
  return { publishRaw, markPublished: (p) => alreadyPublished.add(p) };
}

/**
 * Gathers every write a connection gets within one turn of the event loop into one: mqtt-packet corks a stream per
 * packet and uncorks it on the next tick, so each PUBLISH to a busy subscriber and each PUBACK to a busy publisher
 * became its own TLS record and its own system call. Corked until setImmediate, the packets produced while one batch
 * of reads is processed leave as one writev: one SSL_write, one syscall. A batch leaves early once it reaches the
 * stream's high-water mark (16 KiB on a socket, one TLS record's worth), so writableLength over-counts what the
 * kernel refused by at most that much: the slow-subscriber bound and write()'s backpressure stay meaningful.
 * end() uncorks fully; destroy() first hands everything corked (ours and mqtt-packet's) to the socket, as uncorked
 * writes would already have been, so a refusing CONNACK or the PUBACKs before a disconnect still leave.
 */
export function coalesceWrites(stream: Duplex): void {
  let corked = false;
  let batch = 0; // which cork a scheduled flush belongs to: a batch that left early is not uncorked twice
  const release = (): void => {
    corked = false;
    if (stream.writableCorked > 0) stream.uncork();
  };
  const flush = (n: number): void => {
    if (corked && n === batch) release();
  };
  const write = stream.write;
  const destroy = stream.destroy;
  stream.destroy = function flushThenDestroy(this: Duplex, ...args: Parameters<Duplex['destroy']>): Duplex {
    corked = false;
    while (stream.writableCorked > 0) stream.uncork(); // mqtt-packet's own cork too; its later uncork is then a no-op
    return destroy.apply(this, args);
  } as Duplex['destroy'];
  stream.write = function coalescedWrite(this: Duplex, ...args: Parameters<Duplex['write']>): boolean {
    if (!corked && !stream.destroyed && !stream.writableEnded) {
      corked = true;
      stream.cork();
      setImmediate(flush, ++batch);
    }
    const ok = write.apply(this, args);
    if (corked && stream.writableLength >= stream.writableHighWaterMark) release();
    return ok;
  } as Duplex['write'];
}
