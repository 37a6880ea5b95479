// A packet writer in front of mqtt-packet's writeToStream, as Aedes calls it (lib/write.js: `mqtt.writeToStream(packet,
// client.conn)`, looked up on the module at each call), for the two packets that carry the load: PUBLISH and PUBACK,
// MQTT 3.1 and 3.1.1. mqtt-packet writes a PUBLISH as six write() calls and a PUBACK as three, each with its own checks,
// through generic code with debug() calls; on a staged stream (staged-writes.ts) the whole packet is serialized here
// in one pass into the slab instead. Anything else (other packets, MQTT 5 options, a topic or payload that is not a
// string or Buffer, a bad packet id, a packet too large for a slab, a stream that is not staged or has ended) goes to
// mqtt-packet unchanged, so its output and its errors stay the reference: fast-write.test.ts compares the bytes.
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { stageCommit, stageRoom } from './staged-writes.js';

type WriteToStream = (packet: object, stream: Duplex, opts?: { protocolVersion?: number }) => boolean;

/** The fields of the packets Aedes writes (aedes-packet, QoSPacket, its PubAck) that this reads. */
interface OutPacket {
  cmd?: unknown;
  qos?: unknown;
  dup?: unknown;
  retain?: unknown;
  topic?: unknown;
  payload?: unknown;
  messageId?: unknown;
}

const EMPTY = Buffer.alloc(0);

const isPacketId = (id: unknown): id is number =>
  typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 0xffff;

/** [MQTT-2.2.3] Remaining Length: bytes it takes. */
const varLength = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);

/** Serializes `packet` into `stream`'s stage; undefined when mqtt-packet is to write it. */
export function writeStaged(packet: OutPacket, stream: Duplex): boolean | undefined {
  const cmd = packet.cmd;
  if (cmd === 'publish') {
    // mqtt-packet's reading of the fields: qos `|| 0`, payload `|| empty`, dup and retain by truthiness.
    const qos = packet.qos || 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) return undefined;
    const topic = packet.topic;
    const payload = packet.payload || EMPTY;
    if (typeof topic !== 'string' || !Buffer.isBuffer(payload)) return undefined;
    const id = packet.messageId;
    if (qos !== 0 && !isPacketId(id)) return undefined;
    const topicBytes = Buffer.byteLength(topic);
    if (topicBytes > 0xffff) return undefined;
    // [MQTT-3.3.2] topic length, topic, packet identifier when QoS > 0, then the payload [MQTT-3.3.3]
    const rest = 2 + topicBytes + (qos === 0 ? 0 : 2) + payload.length;
    const total = 1 + varLength(rest) + rest;
    const room = stageRoom(stream, total);
    if (room === null) return undefined;
    const slab = room.slab;
    let at = room.used;
    // [MQTT-3.3.1] fixed header: type 3, DUP, QoS, RETAIN
    slab[at++] = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0);
    let n = rest;
    while (n >= 0x80) {
      slab[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    slab[at++] = n;
    slab[at++] = topicBytes >> 8;
    slab[at++] = topicBytes & 0xff;
    at += (slab as Buffer & { utf8Write(s: string, at: number, len: number): number }).utf8Write(topic, at, topicBytes);
    if (qos !== 0) {
      slab[at++] = (id as number) >> 8;
      slab[at++] = (id as number) & 0xff;
    }
    if (payload.length <= 8) for (let i = 0; i < payload.length; i++) slab[at + i] = payload[i] as number;
    else slab.set(payload, at);
    return stageCommit(room, total);
  }
  if (cmd === 'puback') {
    const id = packet.messageId;
    if (!isPacketId(id)) return undefined;
    const room = stageRoom(stream, 4);
    if (room === null) return undefined;
    // [MQTT-3.4] PUBACK: header 0x40 (reserved flags 0), Remaining Length 2, packet identifier
    const slab = room.slab;
    const at = room.used;
    slab[at] = 0x40;
    slab[at + 1] = 2;
    slab[at + 2] = id >> 8;
    slab[at + 3] = id & 0xff;
    return stageCommit(room, 4);
  }
  return undefined;
}

let installed = false;

/**
 * Puts writeStaged in front of `writeToStream` on the mqtt-packet module that Aedes, resolved from `aedesDir`, loads.
 * Once per process; streams that are not staged (a client's, a test's) keep mqtt-packet's own writer.
 */
export function installFastWrite(aedesDir: string): void {
  if (installed) return;
  installed = true;
  const require = createRequire(`${aedesDir}/`);
  const mqtt = require('mqtt-packet') as { writeToStream: WriteToStream };
  const original = mqtt.writeToStream;
  const fastWriteToStream: WriteToStream = (packet, stream, opts) => {
    if (opts === undefined || opts.protocolVersion === undefined || opts.protocolVersion < 5) {
      const done = writeStaged(packet as OutPacket, stream);
      if (done !== undefined) return done;
    }
    return original(packet, stream, opts);
  };
  // mqtt-packet's own cacheNumbers switch lives on writeToStream (a getter/setter): keep it reachable.
  Object.defineProperty(
    fastWriteToStream,
    'cacheNumbers',
    Object.getOwnPropertyDescriptor(original, 'cacheNumbers') ?? {},
  );
  mqtt.writeToStream = fastWriteToStream;
}
