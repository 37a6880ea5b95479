// The adapter: the one module through which vitalwire reaches into private parts of Aedes, mqtt-packet and ioredis.
// Each function below names what it relies on. The broker checks the installed versions against TESTED_VERSIONS at
// start-up and refuses to run on any other (VW_ERR_UNTESTED_DEPENDENCY), so an upgrade is this folder's work:
// re-run differential.test.ts (stock Aedes against ours, same MQTT-visible result), the MQTT conformance suite
// (test/mqtt-conformance/) and `npm run bench -- broker --quick`, then add the version here.
// Nothing outside this folder touches a private field of those packages (eslint.config.js enforces the obvious ones).
import type { Aedes, AedesPublishPacket, Client, PublishPacket } from 'aedes';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline, Transform, type Duplex, type Readable } from 'node:stream';
import { VitalwireError } from '../../lib/errors.js';
import { installFastParse, type MqttParser } from './fast-parse.js';
import { installFastWrite } from './fast-write.js';
import { coalesceWrites } from './staged-writes.js';
import { leanDeliveries } from './lean-deliver.js';
import { leanPublish, type PublishFn } from './lean-publish.js';
import type { OfflineLookupMemo } from './topic-memo.js';

export { memoizeOfflineLookup, memoizeRouting, type OfflineLookupMemo } from './topic-memo.js';

/** The versions each patch here was written against and tested with. */
export const TESTED_VERSIONS = {
  aedes: ['1.2.0'],
  'mqtt-packet': ['9.0.2'],
  ioredis: ['5.11.1'],
  // topic-memo.ts: mqemitter's private matcher, and the in-memory persistence's trie changing synchronously.
  mqemitter: ['7.1.0'],
  'aedes-persistence': ['11.0.0'],
  // fast-parse.ts: bl's BufferList in place of the BufferListStream mqtt-packet's parser builds.
  bl: ['6.1.6'],
} as const satisfies Record<string, readonly string[]>;

export type Internal = keyof typeof TESTED_VERSIONS;

const require = createRequire(import.meta.url);

/** The version of `name` as Node resolves it from `fromDir`: the copy that code in that directory actually loads. */
function resolvedVersion(name: string, fromDir: string): { version: string; dir: string } {
  // Walk up from the entry point: `exports` maps may hide package.json from require.resolve (aedes has one).
  let dir = dirname(require.resolve(name, { paths: [fromDir] }));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return { version: pkg.version, dir };
    } catch {
      // no package.json at this level
    }
    const up = dirname(dir);
    if (up === dir) throw new VitalwireError('VW_ERR_UNTESTED_DEPENDENCY', `${name}: installed package.json not found`);
    dir = up;
  }
}

/**
 * The installed versions that matter: Aedes; mqtt-packet as Aedes loads it (its parser and writer are what the fast
 * path and the staged writes stand in for) and as vitalwire loads it (the fast path builds mqtt-packet's Packet class);
 * ioredis as the cluster loads it; mqemitter and aedes-persistence as Aedes loads them (topic-memo.ts); bl as
 * mqtt-packet loads it (fast-parse.ts).
 */
export function installedVersions(): Record<Internal, string[]> {
  const here = import.meta.dirname;
  const aedes = resolvedVersion('aedes', here);
  const packet = resolvedVersion('mqtt-packet', aedes.dir);
  const packetForAedes = packet.version;
  const packetForUs = resolvedVersion('mqtt-packet', here).version;
  return {
    aedes: [aedes.version],
    'mqtt-packet': packetForAedes === packetForUs ? [packetForUs] : [packetForAedes, packetForUs],
    ioredis: [resolvedVersion('ioredis', here).version],
    mqemitter: [resolvedVersion('mqemitter', aedes.dir).version],
    'aedes-persistence': [resolvedVersion('aedes-persistence', aedes.dir).version],
    bl: [resolvedVersion('bl', packet.dir).version],
  };
}

let cached: Record<Internal, string[]> | null = null;

/**
 * Throws VW_ERR_UNTESTED_DEPENDENCY unless every installed copy of `names` is a tested version. The broker calls it
 * for Aedes and mqtt-packet at start-up, the Redis cluster for ioredis.
 */
export function checkTestedVersions(
  names: readonly Internal[],
  installed: Record<Internal, string[]> = (cached ??= installedVersions()),
): void {
  const wrong: string[] = [];
  for (const name of names) {
    const tested: readonly string[] = TESTED_VERSIONS[name];
    for (const v of installed[name])
      if (!tested.includes(v)) wrong.push(`${name} ${v} is installed, tested: ${tested.join(', ')}`);
  }
  if (wrong.length === 0) return;
  throw new VitalwireError(
    'VW_ERR_UNTESTED_DEPENDENCY',
    `${wrong.join('; ')}. The broker patches private parts of these ` +
      'packages (broker/aedes-internals); install a tested version (npm ci), or test the new one there first.',
  );
}

/**
 * Before Aedes reads the stream: each turn's writes leave as one socket write (staged-writes.ts), and PUBLISH and
 * PUBACK are serialized straight into the stage (fast-write.ts). Relies on mqtt-packet 9's writeToStream writing a
 * packet in pieces through write() and corking only when `cork` exists, and on Aedes' lib/write.js calling
 * `writeToStream` on the mqtt-packet module at each write.
 */
export function stageWrites(stream: Duplex): void {
  if (!fastWriteInstalled) {
    installFastWrite(resolveAedesDir());
    fastWriteInstalled = true;
  }
  coalesceWrites(stream);
}
let fastWriteInstalled = false;

/** The directory of the Aedes package this module loads (found once: it reads package.json files). */
export function resolveAedesDir(): string {
  return (aedesDir ??= resolvedVersion('aedes', import.meta.dirname).dir);
}
let aedesDir: string | null = null;

/** Right after broker.handle(): the fast path in front of the client's mqtt-packet parser (Aedes' `client._parser`). */
export function fastParse(client: Client): void {
  installFastParse((client as unknown as { _parser: MqttParser })._parser);
}

type DrainCallback = (err: Error | null, client: Client) => void;

/**
 * Aedes' `client.waitForDrain(cb)` (lib/client.js, called by lib/write.js when a write returned false) holds a delivery
 * until the socket drains, and its emitter runs at most `concurrency` deliveries: one stalled subscriber would stall
 * everyone. Once `live()` is true, deliveries call back at once; the caller bounds what may pile up (authorizeForward),
 * and a socket that does not drain within `drainTimeoutMs` is handed to `onTimeout`. Before that (the stored session
 * being restored) the original, backpressured wait stays, so a long offline queue is paced by the socket.
 */
export function nonBlockingDrain(
  client: Client,
  stream: Duplex,
  o: {
    live: () => boolean;
    drainTimeoutMs: number;
    onTimeout: () => void;
    timers: { drain: NodeJS.Timeout | null };
  },
): void {
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

/** Reads as "nothing forwarded yet" for every broker id, and keeps nothing: Aedes' own dedupe, switched off. */
const NO_DUPLICATES: object = new Proxy(Object.create(null) as object, {
  get: () => undefined,
  set: () => true,
  deleteProperty: () => true,
});

/**
 * Aedes forwards a message to a client only if its number (brokerCounter) is above the last one it forwarded from the
 * same broker (lib/client.js dedupe() over `client.duplicates`). That is meant for overlapping subscriptions: one
 * message matching both 'a/#' and 'a/b' of a client reaches it twice, back to back. But messages are not emitted in
 * number order: a QoS 0 message goes out at once while a QoS 1 message numbered before it waits for the persistence
 * (moscajs/aedes#955, #994), and acknowledge-after-store (hooks/authorize-publish.ts) made that the rule for a client
 * mixing QoS 0 and 1: the subscriber lost the QoS 1 messages as "duplicates". So Aedes' check is switched off for
 * this client and the returned function does its job exactly: a message equal to the one forwarded just before is a
 * repeat. Called before the client gets any message; authorizeForward asks it first.
 */
export function dedupeByEquality(client: Client): (packet: AedesPublishPacket) => boolean {
  (client as unknown as { duplicates: object }).duplicates = NO_DUPLICATES;
  let lastBroker: string | null = null;
  let lastCounter = -1;
  return (packet) => {
    const broker = packet.brokerId;
    if (!broker) return false; // a retained message on subscribe: Aedes never deduplicated those either
    if (broker === lastBroker && packet.brokerCounter === lastCounter) return true;
    lastBroker = broker;
    lastCounter = packet.brokerCounter;
    return false;
  };
}

/**
 * A clean session's QoS 1/2 deliveries of a turn written in one immediate (lean-deliver.ts); `live` as for
 * nonBlockingDrain. Call after dedupeByEquality and before the client subscribes.
 */
export function leanDeliveriesFor(client: Client, live: () => boolean): void {
  leanDeliveries(client, live, NO_DUPLICATES, resolveAedesDir());
}

/**
 * [MQTT-3.3.1-1] [MQTT-4.4.0-1]: a message re-sent to a reconnecting persistent session must carry DUP 1. Aedes
 * re-sends a session's queue from `persistence.outgoingStream(client)` (lib/handlers/connect.js emptyQueue) with the
 * DUP flag as stored, always 0. A queued message holds a packet identifier only once it was sent (Aedes gives one in
 * deliverQoS and stores it with outgoingUpdate; messages queued while the client was away have none), so those are
 * the re-deliveries: they leave this stream marked DUP, as copies (the stored ones are left alone).
 */
export function markRedeliveries(persistence: object): void {
  const p = persistence as { outgoingStream(client: Client): Readable };
  const stream = p.outgoingStream.bind(p);
  p.outgoingStream = (client) => {
    const marked = new Transform({
      objectMode: true,
      transform(packet: { cmd?: string; messageId?: number }, _enc, done) {
        done(null, packet.cmd === 'publish' && packet.messageId ? { ...packet, dup: true } : packet); // not a PUBREL
      },
    });
    pipeline(stream(client), marked, () => undefined); // a failing store destroys `marked` with its error, for Aedes
    return marked;
  };
}

export type { PublishFn } from './lean-publish.js';

export interface PublishBeforeAck {
  /** Aedes' own publish (store retained, enqueue offline, route), called with the publishing client. */
  publish: PublishFn;
  /** After `publish` succeeded for a client's packet: Aedes' own publish call for it, after the PUBACK, is skipped. */
  markPublished(packet: object): void;
}

/**
 * For acknowledge-after-store ([MQTT-4.3.2-2], hooks/authorize-publish.ts). Aedes' publish handler
 * (lib/handlers/publish.js) sends the PUBACK and then calls `broker.publish(packet, client, done)`; the instance's
 * publish is wrapped so a packet already published from authorizePublish is not published twice. With `offline`
 * (a single broker's remembered offline lookup) a message no persistent session waits for skips Aedes' series
 * (lean-publish.ts).
 */
export function publishBeforeAck(broker: Aedes, offline: OfflineLookupMemo | null = null): PublishBeforeAck {
  const alreadyPublished = new WeakSet<object>();
  const own: PublishFn = (broker.publish as unknown as PublishFn).bind(broker);
  const publish = offline ? leanPublish(broker, own, offline, resolveAedesDir()) : own;
  const publishOnce = (
    packet: PublishPacket,
    client: Client | null | ((err?: Error) => void),
    done?: (err?: Error) => void,
  ): void => {
    const cb = typeof client === 'function' ? client : done;
    if (alreadyPublished.delete(packet)) {
      cb?.();
      return;
    }
    publish(packet, typeof client === 'function' ? null : client, cb ?? (() => undefined));
  };
  (broker as unknown as { publish: typeof publishOnce }).publish = publishOnce;
  return { publish, markPublished: (p) => alreadyPublished.add(p) };
}

/** A client's current subscriptions by filter (Aedes' `client.subscriptions`, absent from its typings). */
export function subscriptionsOf(client: Client): Readonly<Record<string, { readonly qos: number }>> {
  return (client as unknown as { subscriptions: Record<string, { qos: number }> }).subscriptions;
}

/** The client id Aedes stores with a Will (a stored Will packet's `clientId`, not in the PublishPacket typing). */
export function willClientId(packet: PublishPacket): string | null {
  const id = (packet as { clientId?: unknown }).clientId;
  return typeof id === 'string' ? id : null;
}

/** Aedes emits 'error' on the broker (a failed persistence call, lib/aedes.js); its typings list other events only. */
export function onBrokerError(broker: Aedes, listener: (err: Error) => void): void {
  (broker as unknown as NodeJS.EventEmitter).on('error', listener);
}

/** The broker's connected clients (Aedes' `broker.clients`, absent from its typings): for tests that cut them. */
export function clientsOf(broker: Aedes): Client[] {
  return Object.values((broker as unknown as { clients: Record<string, Client> }).clients);
}

/** An ioredis connection's socket (`redis.stream`, absent from its typings), for corking the writes of one turn. */
export function redisSocket(conn: object): { cork?(): void; uncork(): void; writable?: boolean } | undefined {
  return (conn as { stream?: { cork?(): void; uncork(): void; writable?: boolean } }).stream;
}
