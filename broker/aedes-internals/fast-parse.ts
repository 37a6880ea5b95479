// A fast path in front of the mqtt-packet parser Aedes gives each client, for the two packets that carry the load:
// PUBLISH at QoS 0 or 1 and PUBACK, MQTT 3.1 and 3.1.1. mqtt-packet appends every chunk to a BufferList and walks a
// four-state machine per packet, with debug() calls, a consume() per state and a copy when a read ends inside a
// packet: about a sixth of the broker's CPU per message. Here a complete, well-formed packet of those kinds is read
// straight from the chunk into the same Packet object mqtt-packet builds, and emitted the same way. Anything else (a
// partial packet, another type, QoS 2, a length or topic that does not add up, MQTT 5) goes to mqtt-packet unchanged,
// from its first byte, and the fast path waits until mqtt-packet holds no partial packet before it takes over again:
// packets keep their order and every error is mqtt-packet's own.
/** mqtt-packet's packet class: the parser's packets keep one shape, whichever path built them. */
interface MqttPacket {
  cmd: string | null;
  retain: boolean;
  qos: number;
  dup: boolean;
  length: number;
  topic: string | null;
  payload: Buffer | null;
  messageId?: number;
}
type PacketClass = new () => MqttPacket;
/** The parts of mqtt-packet's Parser this relies on (mqtt-packet 9, pinned in package.json). */
export interface MqttParser {
  parse(buf: Buffer): number;
  emit(event: 'packet', packet: object): boolean;
  settings: { protocolVersion?: number | undefined; bridgeMode?: boolean | undefined; cmd?: string } | null;
  /** The packet being read: an instance of the parser's own mqtt-packet Packet class. */
  packet: { length: number };
  /** bl's BufferListStream from `bl()`; bl 6 exports its BufferList class on that constructor. */
  _list: { length: number };
  _stateCounter: number;
  error: Error | null;
}

const PUBLISH = 3;
const PUBACK_HEADER = 0x40; // PUBACK with its reserved flags 0 [MQTT-2.2.2-1]

/**
 * Puts the fast path in front of `parser.parse`, and lightens what the parser holds for the connection's lifetime: its
 * buffer list without a stream around it, and of the CONNECT packet it keeps as `settings` (client id, user name,
 * password, Will) only the two fields it reads later.
 */
export function installFastParse(parser: MqttParser): void {
  // The classes of the parser's own copy of mqtt-packet and bl, which need not be the copies vitalwire loads (Aedes
  // resolves its own): the packets keep one class and one shape, whichever path built them.
  const Packet = parser.packet.constructor as PacketClass;
  // The buffer list without the Duplex stream around it that `bl()` builds: the parser only appends, reads and
  // consumes (bl's BufferListStream is BufferList's methods on a readable-stream Duplex). 1,005 bytes of heap per
  // connection against 88, measured alone. Swapped while empty, before the first byte; after an error mqtt-packet
  // makes a new one (the client is closing).
  const BufferList = (parser._list.constructor as { BufferList?: new () => { length: number } }).BufferList;
  if (parser._list.length === 0 && typeof BufferList === 'function') parser._list = new BufferList();
  // Shared functions over per-parser state: a connection holds one small object, not four closures.
  (parser as Fast)[FAST] = { slowParse: parser.parse, busy: false, backlog: null, Packet };
  parser.parse = fastParse;
}

/** A parser's fast-path state: mqtt-packet's own parse, and the bytes a re-entrant call left for later. */
interface FastState {
  slowParse: (buf: Buffer) => number;
  busy: boolean;
  backlog: Buffer[] | null;
  /** The parser's own Packet class. */
  readonly Packet: PacketClass;
}
const FAST = Symbol('vitalwire.fastParse');
type Fast = MqttParser & { [FAST]?: FastState };

/** mqtt-packet's parse; then of the CONNECT it keeps as its settings, only protocolVersion and bridgeMode. */
function slow(parser: MqttParser, st: FastState, buf: Buffer): number {
  const left = st.slowParse.call(parser, buf);
  const settings = parser.settings;
  if (settings !== null && settings.cmd === 'connect')
    parser.settings = { protocolVersion: settings.protocolVersion, bridgeMode: settings.bridgeMode };
  return left;
}

/** Parses what it can from `buf`, returning where it stopped (buf.length when all of it). */
function fast(parser: MqttParser, Packet: PacketClass, buf: Buffer): number {
  const end = buf.length;
  let pos = 0;
  while (pos < end) {
    const b0 = buf[pos] as number;
    // Remaining Length, at most four bytes [MQTT-2.2.3]
    let p = pos + 1;
    let len = 0;
    let shift = 0;
    let b = 0x80;
    while ((b & 0x80) !== 0) {
      if (p >= end || shift > 21) return pos;
      b = buf[p++] as number;
      len += (b & 0x7f) << shift;
      shift += 7;
    }
    const bodyEnd = p + len;
    if (bodyEnd > end) return pos;
    if (b0 >> 4 === PUBLISH) {
      const qos = (b0 >> 1) & 3;
      if (qos > 1 || len < 2) return pos;
      const topicEnd = p + 2 + (((buf[p] as number) << 8) | (buf[p + 1] as number));
      const idEnd = qos === 1 ? topicEnd + 2 : topicEnd;
      if (idEnd > bodyEnd) return pos;
      // Field by field in mqtt-packet's order, so both paths' packets share one hidden class.
      const packet = new Packet();
      packet.cmd = 'publish';
      packet.retain = (b0 & 1) !== 0;
      packet.qos = qos;
      packet.dup = (b0 & 8) !== 0;
      packet.length = len;
      packet.topic = buf.toString('utf8', p + 2, topicEnd);
      if (qos === 1) packet.messageId = ((buf[topicEnd] as number) << 8) | (buf[topicEnd + 1] as number);
      packet.payload = buf.subarray(idEnd, bodyEnd); // a view of the chunk, as mqtt-packet's slice of one buffer is
      pos = bodyEnd;
      parser.emit('packet', packet);
    } else if (b0 === PUBACK_HEADER && len === 2) {
      const packet = new Packet();
      packet.cmd = 'puback';
      packet.length = 2;
      packet.messageId = ((buf[p] as number) << 8) | (buf[p + 1] as number);
      pos = bodyEnd;
      parser.emit('packet', packet);
    } else {
      return pos;
    }
  }
  return pos;
}

function run(parser: MqttParser, st: FastState, buf: Buffer): number {
  const v = parser.settings?.protocolVersion;
  // mqtt-packet between packets: nothing buffered, no header half read, no error to reset
  const idle =
    parser._list.length === 0 && parser._stateCounter === 0 && parser.packet.length === -1 && parser.error === null;
  if (!idle || (v !== 4 && v !== 3)) return slow(parser, st, buf);
  const pos = fast(parser, st.Packet, buf);
  if (pos === buf.length) return 0;
  return slow(parser, st, pos === 0 ? buf : buf.subarray(pos));
}

function fastParse(this: Fast, buf: Buffer): number {
  const st = this[FAST] as FastState;
  // A packet handler that reads the stream again re-enters parse: its bytes come after the ones still in hand.
  if (st.busy) {
    (st.backlog ??= []).push(buf);
    return this._list.length;
  }
  st.busy = true;
  try {
    let left = run(this, st, buf);
    while (st.backlog !== null) {
      const later: Buffer[] = st.backlog;
      st.backlog = null;
      for (const b of later) left = run(this, st, b);
    }
    return left;
  } finally {
    st.busy = false;
  }
}
