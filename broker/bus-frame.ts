// The frames clustered brokers exchange through Redis (redis-emitter.ts). Every frame starts with a fixed header: a
// magic, the form of its body, the sending emitter's random id and a per-sender counter, so a broker drops its own
// echo and a second copy (one per matching pattern) by comparing bytes, before decoding anything.
//
// Almost every message is an Aedes publish packet, with the same fields each time. Those go in a fixed binary form:
// flags, topic, brokerId, brokerCounter, an optional clientId, then the payload as it is. msgpack-lite took about a
// tenth of a clustered broker's CPU per message and most of its garbage: it walks the object, grows a buffer in
// chunks and copies the payload twice. Any other message (MQTT 5 properties, $SYS notices, whatever Aedes emits)
// falls back to msgpack in the body, so nothing is lost for being unusual.
import msgpack from 'msgpack-lite';

export const ID_BYTES = 16;
const MAGIC_0 = 0x56; // 'V'
const MAGIC_1 = 0x57; // 'W'
const FORM_PACKET = 0x01;
const FORM_MSGPACK = 0x02;
/** Where the sender id starts, and where the body starts. */
export const ID_AT = 3;
const COUNTER_AT = ID_AT + ID_BYTES;
const BODY_AT = COUNTER_AT + 6;

const F_RETAIN = 0x04;
const F_DUP = 0x08;
const F_CLIENT_ID = 0x10;
const F_MESSAGE_ID = 0x20; // the packet has a messageId key, undefined (aedes-packet sets it for QoS > 0)

export interface BusMessage {
  topic: string;
  [k: string]: unknown;
}

/** The fields of an Aedes publish packet (aedes-packet), in its order. */
interface PublishForm {
  clientId?: string;
  cmd: 'publish';
  brokerId: string;
  brokerCounter: number;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  dup: boolean;
  messageId?: undefined;
}

/** True when the message is exactly a publish packet of the fixed form, so that decoding gives it back whole. */
function isPublishForm(m: Record<string, unknown>): m is PublishForm & Record<string, unknown> {
  let n = 0;
  for (const k in m) {
    n++;
    if (
      k !== 'cmd' &&
      k !== 'brokerId' &&
      k !== 'brokerCounter' &&
      k !== 'topic' &&
      k !== 'payload' &&
      k !== 'qos' &&
      k !== 'retain' &&
      k !== 'dup' &&
      k !== 'clientId' &&
      k !== 'messageId'
    )
      return false;
  }
  const hasClientId = 'clientId' in m;
  const hasMessageId = 'messageId' in m;
  return (
    n === 8 + (hasClientId ? 1 : 0) + (hasMessageId ? 1 : 0) &&
    m['cmd'] === 'publish' &&
    typeof m['brokerId'] === 'string' &&
    typeof m['brokerCounter'] === 'number' &&
    typeof m['topic'] === 'string' &&
    Buffer.isBuffer(m['payload']) &&
    (m['qos'] === 0 || m['qos'] === 1 || m['qos'] === 2) &&
    typeof m['retain'] === 'boolean' &&
    typeof m['dup'] === 'boolean' &&
    (!hasClientId || typeof m['clientId'] === 'string') &&
    (!hasMessageId || m['messageId'] === undefined) &&
    (m['brokerId'] as string).length < 0x4000 &&
    (m['topic'] as string).length < 0x4000 &&
    (!hasClientId || (m['clientId'] as string).length < 0x4000)
  );
}

function writeHeader(frame: Buffer, form: number, id: Buffer, counter: number): void {
  frame[0] = MAGIC_0;
  frame[1] = MAGIC_1;
  frame[2] = form;
  id.copy(frame, ID_AT);
  frame.writeUIntBE(counter, COUNTER_AT, 6);
}

/** Encodes one message as a frame from sender `id` (16 bytes) with its `counter` (48 bits). */
export function encodeFrame(message: BusMessage, id: Buffer, counter: number): Buffer {
  const m = message as Record<string, unknown>;
  if (!isPublishForm(m)) {
    const body = msgpack.encode(message);
    const frame = Buffer.allocUnsafe(BODY_AT + body.length);
    writeHeader(frame, FORM_MSGPACK, id, counter);
    body.copy(frame, BODY_AT);
    return frame;
  }
  const topicLen = Buffer.byteLength(m.topic);
  const brokerLen = Buffer.byteLength(m.brokerId);
  const clientLen = m.clientId === undefined ? -1 : Buffer.byteLength(m.clientId);
  const size = BODY_AT + 1 + 2 + topicLen + 2 + brokerLen + 8 + (clientLen >= 0 ? 2 + clientLen : 0) + m.payload.length;
  const frame = Buffer.allocUnsafe(size);
  writeHeader(frame, FORM_PACKET, id, counter);
  frame[BODY_AT] =
    m.qos |
    (m.retain ? F_RETAIN : 0) |
    (m.dup ? F_DUP : 0) |
    (clientLen >= 0 ? F_CLIENT_ID : 0) |
    ('messageId' in m ? F_MESSAGE_ID : 0);
  let at = BODY_AT + 1;
  frame.writeUInt16BE(topicLen, at);
  at += 2 + frame.write(m.topic, at + 2, 'utf8');
  frame.writeUInt16BE(brokerLen, at);
  at += 2 + frame.write(m.brokerId, at + 2, 'utf8');
  frame.writeDoubleBE(m.brokerCounter, at);
  at += 8;
  if (clientLen >= 0) {
    frame.writeUInt16BE(clientLen, at);
    at += 2 + frame.write(m.clientId as string, at + 2, 'utf8');
  }
  m.payload.copy(frame, at);
  return frame;
}

/** True when the frame has the header; the sender id and counter can then be read. */
export function hasHeader(frame: Buffer): boolean {
  return (
    frame.length > BODY_AT &&
    frame[0] === MAGIC_0 &&
    frame[1] === MAGIC_1 &&
    (frame[2] === FORM_PACKET || frame[2] === FORM_MSGPACK)
  );
}

export function frameCounter(frame: Buffer): number {
  return frame.readUIntBE(COUNTER_AT, 6);
}

/** Where the length-prefixed string at `at` ends, or -1 when it runs past `end`. */
function stringEnd(frame: Buffer, at: number, end: number): number {
  if (at + 2 > end) return -1;
  const e = at + 2 + frame.readUInt16BE(at);
  return e > end ? -1 : e;
}

/** Decodes the body of a frame that has the header; null when it does not add up. The payload is a view of the frame. */
export function decodeFrame(frame: Buffer): BusMessage | null {
  if (frame[2] === FORM_MSGPACK) {
    const m = msgpack.decode(frame.subarray(BODY_AT)) as BusMessage | null;
    return m !== null && typeof m === 'object' && typeof m.topic === 'string' ? m : null;
  }
  const end = frame.length;
  const flags = frame[BODY_AT] as number;
  if ((flags & 3) === 3 || (flags & 0xc0) !== 0) return null;
  const topicEnd = stringEnd(frame, BODY_AT + 1, end);
  const brokerEnd = topicEnd < 0 ? -1 : stringEnd(frame, topicEnd, end);
  if (brokerEnd < 0 || brokerEnd + 8 > end) return null;
  const topic = frame.toString('utf8', BODY_AT + 3, topicEnd);
  const brokerId = frame.toString('utf8', topicEnd + 2, brokerEnd);
  const brokerCounter = frame.readDoubleBE(brokerEnd);
  let at = brokerEnd + 8;
  let clientId: string | null = null;
  if ((flags & F_CLIENT_ID) !== 0) {
    const clientEnd = stringEnd(frame, at, end);
    if (clientEnd < 0) return null;
    clientId = frame.toString('utf8', at + 2, clientEnd);
    at = clientEnd;
  }
  const payload = frame.subarray(at);
  // Fields in aedes-packet's order, so the packets Aedes handles keep one shape whichever broker built them.
  const m: PublishForm =
    clientId === null
      ? {
          cmd: 'publish',
          brokerId,
          brokerCounter,
          topic,
          payload,
          qos: flags & 3,
          retain: (flags & F_RETAIN) !== 0,
          dup: (flags & F_DUP) !== 0,
        }
      : {
          clientId,
          cmd: 'publish',
          brokerId,
          brokerCounter,
          topic,
          payload,
          qos: flags & 3,
          retain: (flags & F_RETAIN) !== 0,
          dup: (flags & F_DUP) !== 0,
        };
  if ((flags & F_MESSAGE_ID) !== 0) m.messageId = undefined;
  return m as unknown as BusMessage;
}
