// A clean session's QoS 1 and 2 deliveries without Aedes' two immediates each. Aedes' deliverQoS (lib/client.js)
// defers every delivery by one setImmediate, builds a QoSPacket (an aedes-packet copy, a message id, a bound error
// callback it then overwrites), and its write (lib/write.js) completes the delivery one more setImmediate later. Here a
// live clean session's deliveries of one turn are written together in one immediate, in arrival order, each completed
// as soon as it is written: the same turn Aedes writes them in, and the same bytes (mqtt-packet's writeToStream, or
// fast-write.ts in front of it). Everything else keeps Aedes' deliverQoS: QoS 0, persistent sessions (their stored
// queue needs outgoingUpdate), a session whose stored queue is still being restored (not `live`), MQTT 5 properties.
import type { AedesPublishPacket, Client } from 'aedes';
import { createRequire } from 'node:module';

type Callback = () => void;
type Deliver = (packet: AedesPublishPacket, cb: Callback) => void;

interface ClientInternals {
  id: string;
  clean: boolean;
  connecting: boolean;
  connected: boolean;
  errored: boolean;
  conn: NodeJS.WritableStream;
  broker: { authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null | undefined };
  subscriptions: Record<string, { qos?: number } | undefined>;
  duplicates: object;
  _nextId: number;
  deliver0: Deliver;
  deliverQoS: Deliver;
  waitForDrain(cb: (err: Error | null) => void): void;
  emit(event: 'error', err: Error): boolean;
}

/** The fields mqtt-packet (and fast-write.ts) write for a PUBLISH; nothing else is copied per delivery. */
interface OutgoingPublish {
  cmd: 'publish';
  topic: string;
  payload: Buffer | string;
  qos: number;
  retain: boolean;
  dup: boolean;
  messageId: number;
}

/**
 * Replaces `client.deliverQoS` (an instance property Aedes reads when the client subscribes: install before). Only
 * for a client whose Aedes dedupe is switched off (`noDuplicates`, dedupeByEquality), whose dedupe() then always
 * forwards. Relies on aedes 1.2 lib/client.js deliverQoS, getToForwardPacket, writeQoS, lib/qos-packet.js and
 * lib/write.js, read with `aedesDir`'s mqtt-packet as Aedes writes.
 */
export function leanDeliveries(client: Client, live: () => boolean, noDuplicates: object, aedesDir: string): void {
  const c = client as unknown as ClientInternals;
  if (c.duplicates !== noDuplicates) return;
  mqtt ??= createRequire(`${aedesDir}/`)('mqtt-packet') as MqttWrite;
  // Per client only this state and the one closure Aedes calls (without a receiver); the work is in shared functions,
  // so an idle connection keeps no more JavaScript than with Aedes' own deliverQoS.
  const st: LeanState = { c, client, live, aedes: c.deliverQoS, pending: null };
  c.deliverQoS = (packet, cb) => deliver(st, packet, cb);
}

interface MqttWrite {
  writeToStream(packet: object, stream: NodeJS.WritableStream): boolean;
}
let mqtt: MqttWrite | null = null;

interface LeanState {
  readonly c: ClientInternals;
  readonly client: Client;
  readonly live: () => boolean;
  /** Aedes' own deliverQoS of this client. */
  readonly aedes: Deliver;
  /** This turn's deliveries, message and callback in turn; null when none waits (and between turns). */
  pending: (AedesPublishPacket | Callback)[] | null;
}

function deliver(st: LeanState, packet: AedesPublishPacket, cb: Callback): void {
  const c = st.c;
  if (packet.qos === 0 || !c.clean || !st.live() || (packet as { properties?: unknown }).properties !== undefined) {
    return st.aedes(packet, cb);
  }
  // getToForwardPacket: no-local, then authorizeForward.
  const toForward =
    (packet as { clientId?: string }).clientId === c.id && (packet as { nl?: boolean }).nl
      ? undefined
      : c.broker.authorizeForward(st.client, packet);
  if (!toForward) {
    setImmediate(cb);
    return;
  }
  if (st.pending === null) {
    st.pending = [];
    setImmediate(flush, st);
  }
  st.pending.push(toForward, cb);
}

function flush(st: LeanState): void {
  const q = st.pending;
  st.pending = null; // what these deliveries bring about next goes to the next turn's batch
  if (q === null) return;
  for (let i = 0; i < q.length; i += 2) send(st.c, q[i] as AedesPublishPacket, q[i + 1] as Callback);
}

function send(c: ClientInternals, original: AedesPublishPacket, cb: Callback): void {
  // QoSPacket: a message id of the client's own unless the message brings one.
  let messageId = original.messageId;
  if (!messageId) {
    messageId = c._nextId;
    c._nextId = c._nextId >= 65535 ? 1 : c._nextId + 1;
  }
  let qos: number = original.qos;
  // Aedes' downgrade to the subscription's QoS, looked up by topic as it does.
  const sub = c.subscriptions[original.topic];
  if (sub && (sub.qos ?? 0) < qos) qos = sub.qos ?? 0;
  const packet: OutgoingPublish = {
    cmd: 'publish',
    topic: original.topic,
    payload: original.payload,
    qos,
    retain: original.retain,
    dup: original.dup,
    messageId,
  };
  let error: Error | null = null;
  if (c.connecting || c.connected) {
    try {
      if (!(mqtt as MqttWrite).writeToStream(packet, c.conn) && !c.errored) {
        c.waitForDrain((err) => {
          if (err) c.emit('error', err);
          cb();
        });
        return;
      }
    } catch {
      error = new Error('packet received not valid');
    }
  } else {
    error = new Error('connection closed');
  }
  if (error) c.emit('error', error);
  cb(); // never the error: mqemitter would throw it
}
