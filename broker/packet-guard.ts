// Sans-I/O guard over the raw MQTT byte stream of one connection, fed each chunk just before Aedes' parser sees it.
// mqtt-packet has no size limit of its own and would buffer up to 256 MiB for one packet, so the limit is enforced
// here, from the packet's fixed header, before its body is buffered.

export const MQTT_PUBLISH = 3;

const CONNECT = 1;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
const MAX_TOPIC_BYTES = 65535;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * [MQTT-1.5.3-1] well-formed UTF-8 with no surrogate code points, and [MQTT-1.5.3-2] no U+0000. mqtt-packet decodes
 * strings leniently (ill-formed bytes become U+FFFD), so the check is made on the bytes, before it parses them.
 */
export function isWellFormedMqttString(b: Uint8Array, from = 0, to = b.length): boolean {
  let ascii = true;
  for (let i = from; i < to; i++) {
    const x = b[i] ?? 0;
    if (x === 0) return false;
    if (x >= 0x80) ascii = false;
  }
  if (ascii) return true;
  try {
    utf8.decode(b.subarray(from, to));
    return true;
  } catch {
    return false;
  }
}

/**
 * The UTF-8 strings of a packet body (topic names and filters, CONNECT's client id, Will topic, user name). The body
 * is `buf[from, to)`: checked in place, without a copy.
 */
export function stringsWellFormed(type: number, buf: Uint8Array, from = 0, to = buf.length): boolean {
  if (type === MQTT_PUBLISH) {
    // The hot case, every PUBLISH: only the topic, read where it lies.
    if (to - from < 2) return true;
    const len = ((buf[from] ?? 0) << 8) | (buf[from + 1] ?? 0);
    return from + 2 + len > to || isWellFormedMqttString(buf, from + 2, from + 2 + len);
  }
  const body = from === 0 && to === buf.length ? buf : buf.subarray(from, to);
  let pos = 0;
  /** Checks the length-prefixed string at pos; false when ill-formed, null when the body is too short to tell. */
  const next = (): boolean | null => {
    if (pos + 2 > body.length) return null;
    const len = ((body[pos] ?? 0) << 8) | (body[pos + 1] ?? 0);
    if (pos + 2 + len > body.length) return null;
    const ok = isWellFormedMqttString(body, pos + 2, pos + 2 + len);
    pos += 2 + len;
    return ok;
  };
  switch (type) {
    case SUBSCRIBE:
    case UNSUBSCRIBE:
      pos = 2; // packet identifier
      while (pos < body.length) {
        const ok = next();
        if (ok === null) return true; // truncated: mqtt-packet reports it
        if (!ok) return false;
        if (type === SUBSCRIBE) pos += 1; // requested QoS
      }
      return true;
    case CONNECT: {
      if (next() === null) return true; // protocol name (checked by mqtt-packet against "MQTT"/"MQIsdp")
      const level = body[pos] ?? 0;
      const flags = body[pos + 1] ?? 0;
      pos += 4; // level, flags, keep-alive
      if ((level & 0x7f) === 5) return true; // MQTT 5 carries properties here; Aedes 1.x refuses it anyway
      const clientId = next();
      if (clientId !== true) return clientId !== false;
      if (flags & 0x04) {
        const willTopic = next();
        if (willTopic !== true) return willTopic !== false;
        if (pos + 2 > body.length) return true;
        pos += 2 + (((body[pos] ?? 0) << 8) | (body[pos + 1] ?? 0)); // Will payload: binary
      }
      if (flags & 0x80) return next() !== false; // user name (the password is binary)
      return true;
    }
    default:
      return true;
  }
}

/**
 * Rules of a packet body that mqtt-packet does not check, on the same bytes as the strings: a CONNECT's flags
 * ([MQTT-3.1.2-14] Will QoS 3, [MQTT-3.1.2-13] [MQTT-3.1.2-15] Will QoS or Retain without the Will flag,
 * [MQTT-3.1.2-22] a password without a user name, [MQTT-3.1.2-3] the reserved bit; [MQTT-3.1.4-1] such a CONNECT is
 * closed without CONNACK), and a SUBSCRIBE or UNSUBSCRIBE with no topic filter ([MQTT-3.8.3-3], [MQTT-3.10.3-2]).
 */
export function bodyWellFormed(type: number, buf: Uint8Array, from = 0, to = buf.length): boolean {
  if (type === SUBSCRIBE || type === UNSUBSCRIBE) return to - from > 2; // more than the packet identifier
  if (type !== CONNECT || to - from < 2) return true;
  const at = from + 2 + (((buf[from] ?? 0) << 8) | (buf[from + 1] ?? 0)); // after the protocol name
  if (at + 1 >= to) return true; // too short to tell: mqtt-packet reports it
  const level = (buf[at] ?? 0) & 0x7f;
  if (level !== 3 && level !== 4) return true; // other levels get CONNACK 1 (connection.ts)
  const flags = buf[at + 1] ?? 0;
  const will = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  if (flags & 0x01) return false;
  if (will ? willQos === 3 : willQos !== 0 || (flags & 0x20) !== 0) return false;
  return !((flags & 0x40) !== 0 && (flags & 0x80) === 0);
}

/**
 * A packet over the limit: its type, total size, and for a PUBLISH its topic as far as this chunk holds it (null when
 * the topic had not arrived yet: the connection is closed at the header, never later to learn it).
 */
export type TooLarge = { type: number; size: number; topic: string | null };
export type GuardVerdict = TooLarge | 'malformed' | 'bad-string' | 'bad-packet' | null;

const lenient = new TextDecoder('utf-8');
/** Bytes of an oversized packet's topic read for the log (which cuts it further). */
const MAX_LOGGED_TOPIC_BYTES = 1024;

/** The topic of a PUBLISH whose variable header starts at chunk[i] (MQTT 3.1.1 3.3.2.1), if the chunk holds it. */
function topicAt(chunk: Uint8Array, i: number): string | null {
  if (i + 2 > chunk.length) return null;
  const len = ((chunk[i] ?? 0) << 8) | (chunk[i + 1] ?? 0);
  if (i + 2 + len > chunk.length) return null;
  return lenient.decode(chunk.subarray(i + 2, i + 2 + Math.min(len, MAX_LOGGED_TOPIC_BYTES)));
}

/**
 * Sans-I/O scanner of one connection's MQTT byte stream (MQTT 3.1.1 2.2). It follows packet boundaries and reports:
 * - the first packet whose total size (1 type byte + Remaining Length bytes + Remaining Length) exceeds `max`, as
 *   soon as its header arrives, before the body is buffered (mqtt-packet has no limit and would buffer 256 MiB);
 * - 'malformed' for a Remaining Length of more than four bytes;
 * - 'bad-string' for a topic name, topic filter, client id, Will topic or user name that is not well-formed UTF-8 or
 *   holds U+0000 ([MQTT-1.5.3-1], [MQTT-1.5.3-2]). Only those bytes are copied: a PUBLISH's topic, never its payload;
 * - 'bad-packet' for a CONNECT, SUBSCRIBE or UNSUBSCRIBE body that breaks a rule of bodyWellFormed().
 */
export class PacketSizeGuard {
  readonly max: number;
  #state: 'header' | 'length' | 'body' = 'header';
  #type = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #skip = 0;
  /** Bytes of the body holding its strings (all of it for CONNECT/SUBSCRIBE/UNSUBSCRIBE, the topic for PUBLISH). */
  #need = 0;
  /** Reused buffer for the strings of a body that arrives in pieces; a body whole in one chunk is read in place. */
  #cap: Uint8Array = new Uint8Array(0);
  #capLen = 0;
  #verdict: GuardVerdict = null;

  constructor(max: number) {
    this.max = max;
  }

  #startBody(): void {
    const t = this.#type;
    this.#need =
      t === CONNECT || t === SUBSCRIBE || t === UNSUBSCRIBE
        ? this.#length
        : t === MQTT_PUBLISH
          ? Math.min(2, this.#length)
          : 0;
    this.#capLen = 0;
  }

  /** For a PUBLISH whose first two bytes are known: the topic's length sets how much to capture, and no more. */
  #publishNeed(hi: number, lo: number): number {
    return Math.min(2 + Math.min((hi << 8) | lo, MAX_TOPIC_BYTES), this.#length);
  }

  #check(buf: Uint8Array, from: number, to: number): void {
    if (!stringsWellFormed(this.#type, buf, from, to)) this.#verdict = 'bad-string';
    else if (this.#type !== MQTT_PUBLISH && !bodyWellFormed(this.#type, buf, from, to)) this.#verdict = 'bad-packet';
    this.#need = 0;
    this.#capLen = 0;
  }

  /** Copies what the strings need from chunk[i, i + n) into the reused buffer; checks them once all are there. */
  #capture(chunk: Uint8Array, i: number, n: number): void {
    if (this.#cap.length < this.#need) {
      const grown = new Uint8Array(Math.max(this.#need, this.#cap.length * 2, 64));
      grown.set(this.#cap.subarray(0, this.#capLen));
      this.#cap = grown;
    }
    this.#cap.set(chunk.subarray(i, i + n), this.#capLen);
    this.#capLen += n;
    if (this.#type === MQTT_PUBLISH && this.#capLen === 2 && this.#need === 2) {
      this.#need = this.#publishNeed(this.#cap[0] ?? 0, this.#cap[1] ?? 0);
      if (this.#need > 2) return;
    }
    if (this.#capLen === this.#need) this.#check(this.#cap, 0, this.#capLen);
  }

  /** Feed the next bytes. Returns null while every packet is acceptable; after a violation keeps returning it. */
  push(chunk: Uint8Array): GuardVerdict {
    let i = 0;
    while (this.#verdict === null && i < chunk.length) {
      if (this.#state === 'body') {
        if (this.#capLen === 0 && this.#need > 0) {
          // The common case: the strings lie whole in this chunk and are checked where they are.
          let need = this.#need;
          if (this.#type === MQTT_PUBLISH && need === 2 && chunk.length - i >= 2)
            need = this.#publishNeed(chunk[i] ?? 0, chunk[i + 1] ?? 0);
          if (chunk.length - i >= need) {
            this.#need = need;
            this.#check(chunk, i, i + need);
          }
        }
        let n = Math.min(this.#skip, chunk.length - i);
        if (this.#capLen < this.#need) {
          n = Math.min(n, this.#need - this.#capLen);
          this.#capture(chunk, i, n);
        }
        this.#skip -= n;
        i += n;
        if (this.#skip === 0) {
          if (this.#capLen > 0 && this.#verdict === null) this.#check(this.#cap, 0, this.#capLen); // body shorter than its strings claim
          this.#state = 'header';
        }
      } else if (this.#state === 'header') {
        this.#type = (chunk[i++] ?? 0) >> 4;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else {
        const b = chunk[i++] ?? 0;
        this.#length += (b & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if (b & 0x80) {
          // 2.2.3: Remaining Length is at most four bytes.
          if (this.#lengthBytes === 4) this.#verdict = 'malformed';
          continue;
        }
        const size = 1 + this.#lengthBytes + this.#length;
        if (size > this.max) {
          // Its own topic, from its own header bytes: what the log names (issue 14: it named another packet's).
          this.#verdict = { type: this.#type, size, topic: this.#type === MQTT_PUBLISH ? topicAt(chunk, i) : null };
        } else if (this.#length === 0) {
          this.#state = 'header';
        } else {
          this.#skip = this.#length;
          this.#state = 'body';
          this.#startBody();
        }
      }
    }
    return this.#verdict;
  }
}

/**
 * The Protocol Level of a CONNECT at the start of `chunk` (MQTT 3.1.1 3.1.2.2), or null when the chunk does not hold
 * a CONNECT's fixed header, protocol name and level. mqtt-packet rejects unknown levels with a parse error, which
 * closes the connection silently; [MQTT-3.1.2-2] wants CONNACK 0x01 first.
 */
export function connectProtocolLevel(chunk: Uint8Array): number | null {
  if (chunk.length < 2 || chunk[0] !== 0x10) return null;
  let i = 1;
  for (let n = 0; n < 4; n++, i++) {
    const b = chunk[i];
    if (b === undefined) return null;
    if ((b & 0x80) === 0) break;
  }
  i++;
  const nameLen = ((chunk[i] ?? 0) << 8) | (chunk[i + 1] ?? 0);
  const at = i + 2 + nameLen;
  return at < chunk.length ? (chunk[at] ?? null) : null;
}

/** CONNACK, return code 0x01 unacceptable protocol version, Session Present 0 (3.2). */
export const CONNACK_UNACCEPTABLE_PROTOCOL = Uint8Array.from([0x20, 0x02, 0x00, 0x01]);
