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
export function isWellFormedMqttString(b: Uint8Array): boolean {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    const x = b[i] ?? 0;
    if (x === 0) return false;
    if (x >= 0x80) ascii = false;
  }
  if (ascii) return true;
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** The UTF-8 strings of a packet body (topic names and filters, CONNECT's client id, Will topic, user name). */
export function stringsWellFormed(type: number, body: Uint8Array): boolean {
  let pos = 0;
  /** Checks the length-prefixed string at pos; false when ill-formed, null when the body is too short to tell. */
  const next = (): boolean | null => {
    if (pos + 2 > body.length) return null;
    const len = ((body[pos] ?? 0) << 8) | (body[pos + 1] ?? 0);
    if (pos + 2 + len > body.length) return null;
    const ok = isWellFormedMqttString(body.subarray(pos + 2, pos + 2 + len));
    pos += 2 + len;
    return ok;
  };
  switch (type) {
    case MQTT_PUBLISH:
      return next() !== false;
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

export type GuardVerdict = { type: number; size: number } | 'malformed' | 'bad-string' | null;

/**
 * Sans-I/O scanner of one connection's MQTT byte stream (MQTT 3.1.1 2.2). It follows packet boundaries and reports:
 * - the first packet whose total size (1 type byte + Remaining Length bytes + Remaining Length) exceeds `max`, as
 *   soon as its header arrives, before the body is buffered (mqtt-packet has no limit and would buffer 256 MiB);
 * - 'malformed' for a Remaining Length of more than four bytes;
 * - 'bad-string' for a topic name, topic filter, client id, Will topic or user name that is not well-formed UTF-8 or
 *   holds U+0000 ([MQTT-1.5.3-1], [MQTT-1.5.3-2]). Only those bytes are copied: a PUBLISH's topic, never its payload.
 */
export class PacketSizeGuard {
  readonly max: number;
  #state: 'header' | 'length' | 'body' = 'header';
  #type = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #skip = 0;
  #cap: Uint8Array = new Uint8Array(0);
  #capLen = 0;
  #verdict: GuardVerdict = null;

  constructor(max: number) {
    this.max = max;
  }

  #startBody(): void {
    const t = this.#type;
    const need = t === CONNECT || t === SUBSCRIBE || t === UNSUBSCRIBE ? this.#length : t === MQTT_PUBLISH ? Math.min(2, this.#length) : 0;
    this.#cap = new Uint8Array(need);
    this.#capLen = 0;
  }

  #captured(): void {
    if (this.#type === MQTT_PUBLISH && this.#cap.length === 2 && this.#capLen === 2) {
      // The topic length is known now: capture the topic itself, and no more.
      const topicLen = ((this.#cap[0] ?? 0) << 8) | (this.#cap[1] ?? 0);
      const need = Math.min(2 + Math.min(topicLen, MAX_TOPIC_BYTES), this.#length);
      if (need > 2) {
        const grown = new Uint8Array(need);
        grown.set(this.#cap);
        this.#cap = grown;
        return;
      }
    }
    if (!stringsWellFormed(this.#type, this.#cap.subarray(0, this.#capLen))) this.#verdict = 'bad-string';
    this.#cap = new Uint8Array(0);
    this.#capLen = 0;
  }

  /** Feed the next bytes. Returns null while every packet is acceptable; after a violation keeps returning it. */
  push(chunk: Uint8Array): GuardVerdict {
    let i = 0;
    while (this.#verdict === null && i < chunk.length) {
      if (this.#state === 'body') {
        let n = Math.min(this.#skip, chunk.length - i);
        if (this.#capLen < this.#cap.length) {
          n = Math.min(n, this.#cap.length - this.#capLen);
          this.#cap.set(chunk.subarray(i, i + n), this.#capLen);
          this.#capLen += n;
          if (this.#capLen === this.#cap.length) this.#captured();
        }
        this.#skip -= n;
        i += n;
        if (this.#skip === 0) {
          if (this.#capLen > 0 && this.#verdict === null) this.#captured(); // body shorter than its strings claim
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
          this.#verdict = { type: this.#type, size };
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
