// A raw MQTT 3.1.1 client over TCP for the conformance and differential suites: packets out as mqtt-packet objects or
// hand-made bytes, every packet in recorded in order, the acknowledgements of QoS 1 and 2 answered (or not, to play a
// client that stalls), and whether the server closed the connection. Not a test file itself.
import { connect, type Socket } from 'node:net';
import mqttPacket, { type IConnectPacket, type IPublishPacket, type Packet } from 'mqtt-packet';

const DEFAULT_WAIT_MS = 5000;

export async function waitFor(cond: () => boolean, what: string, ms = DEFAULT_WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RawOptions {
  /** Answer PUBLISH QoS 1 with PUBACK, QoS 2 with PUBREC, PUBREL with PUBCOMP, PUBREC with PUBREL (default true). */
  autoAck?: boolean;
}

export type ConnectFields = Partial<Omit<IConnectPacket, 'cmd'>> & { clientId: string };

export class RawClient {
  readonly packets: Packet[] = [];
  /** Every byte received, as it came. */
  readonly bytes: Buffer[] = [];
  closed = false;
  autoAck: boolean;
  readonly sock: Socket;
  readonly #taken = new WeakSet<Packet>();

  private constructor(sock: Socket, o: RawOptions) {
    this.sock = sock;
    this.autoAck = o.autoAck ?? true;
    const p = mqttPacket.parser({ protocolVersion: 4 });
    p.on('packet', (pk: Packet) => {
      this.packets.push(pk);
      if (this.autoAck) this.#ack(pk);
    });
    // A server packet mqtt-packet cannot parse is recorded as a close: the test sees it and fails where it asserts.
    p.on('error', () => sock.destroy());
    sock.on('data', (d: Buffer) => {
      this.bytes.push(d);
      p.parse(d);
    });
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
  }

  static open(port: number, o: RawOptions = {}, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, host);
      const c = new RawClient(sock, o);
      sock.once('connect', () => resolve(c));
      sock.once('error', reject);
    });
  }

  /** Opens a connection and sends CONNECT (MQTT 3.1.1, clean session, keep-alive 60 unless given); returns the CONNACK. */
  static async connected(
    port: number,
    fields: ConnectFields,
    o: RawOptions = {},
  ): Promise<{ c: RawClient; connack: Packet & { returnCode?: number; sessionPresent?: boolean } }> {
    const c = await RawClient.open(port, o);
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, ...fields });
    const connack = await c.next('connack');
    return { c, connack };
  }

  #ack(pk: Packet): void {
    if (pk.cmd === 'publish' && pk.qos === 1) this.send({ cmd: 'puback', messageId: pk.messageId ?? 0 });
    else if (pk.cmd === 'publish' && pk.qos === 2) this.send({ cmd: 'pubrec', messageId: pk.messageId ?? 0 });
    else if (pk.cmd === 'pubrel') this.send({ cmd: 'pubcomp', messageId: pk.messageId ?? 0 });
    else if (pk.cmd === 'pubrec') this.send({ cmd: 'pubrel', messageId: pk.messageId ?? 0 });
  }

  send(p: Packet | Buffer | readonly number[]): void {
    if (this.sock.destroyed) return;
    this.sock.write(Buffer.isBuffer(p) ? p : Array.isArray(p) ? Buffer.from(p) : mqttPacket.generate(p as Packet));
  }

  /** The next packet of this kind not yet returned by next(); packets of other kinds are left for later calls. */
  async next<C extends Packet['cmd']>(cmd: C, ms = DEFAULT_WAIT_MS): Promise<Extract<Packet, { cmd: C }>> {
    const find = (): Packet | undefined => this.packets.find((p) => p.cmd === cmd && !this.#taken.has(p));
    await waitFor(() => find() !== undefined || this.closed, cmd, ms);
    const p = find();
    if (!p) throw new Error(`connection closed before ${cmd}; received: ${this.summary().join(' | ')}`);
    this.#taken.add(p);
    return p as Extract<Packet, { cmd: C }>;
  }

  publishes(): IPublishPacket[] {
    return this.packets.filter((p): p is IPublishPacket => p.cmd === 'publish');
  }

  /** A round trip: once PINGRESP is back, everything the server wrote to this connection before it has arrived. */
  async ping(): Promise<void> {
    this.send({ cmd: 'pingreq' });
    await this.next('pingresp');
  }

  async gone(ms = DEFAULT_WAIT_MS): Promise<void> {
    await waitFor(() => this.closed, 'the server to close the connection', ms);
  }

  /** Sends DISCONNECT and closes, as a well-behaved client ends. */
  async disconnect(): Promise<void> {
    this.send({ cmd: 'disconnect' });
    await new Promise<void>((r) => this.sock.end(r));
    await waitFor(() => this.closed, 'close');
  }

  /** Drops the connection without DISCONNECT: an abnormal close for the server. */
  destroy(): void {
    this.sock.destroy();
  }

  /** One line per packet, with the fields that matter on the wire; packet ids numbered per connection from 1. */
  summary(): string[] {
    const ids = new Map<number, number>();
    const id = (n: number | undefined): string => {
      if (n === undefined) return '-';
      if (!ids.has(n)) ids.set(n, ids.size + 1);
      return `#${ids.get(n)}`;
    };
    return this.packets.map((p) => {
      switch (p.cmd) {
        case 'connack':
          return `connack rc=${p.returnCode} sp=${p.sessionPresent}`;
        case 'publish':
          return `publish ${p.topic} q${p.qos} r${p.retain ? 1 : 0} d${p.dup ? 1 : 0} ${p.qos > 0 ? id(p.messageId) : ''} "${Buffer.from(p.payload).toString()}"`;
        case 'suback':
          return `suback ${id(p.messageId)} [${p.granted.join(',')}]`;
        case 'unsuback':
          return `unsuback ${id(p.messageId)}`;
        case 'puback':
        case 'pubrec':
        case 'pubrel':
        case 'pubcomp':
          return `${p.cmd} ${id(p.messageId)}`;
        default:
          return p.cmd;
      }
    });
  }
}

/** Publish fields with mqtt-packet's required defaults. */
export function pub(
  topic: string,
  payload: string | Buffer,
  o: { qos?: 0 | 1 | 2; retain?: boolean; dup?: boolean; messageId?: number } = {},
): IPublishPacket {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    qos: o.qos ?? 0,
    retain: o.retain ?? false,
    dup: o.dup ?? false,
    ...(o.messageId !== undefined ? { messageId: o.messageId } : {}),
  };
}

/** A 2-byte length and the bytes of a string (MQTT 3.1.1 1.5.3), from UTF-8 text or raw bytes. */
export function mqttString(s: string | readonly number[]): number[] {
  const b = typeof s === 'string' ? [...Buffer.from(s, 'utf8')] : [...s];
  return [b.length >> 8, b.length & 0xff, ...b];
}

/** A whole packet from its first byte and body: the Remaining Length encoded as 2.2.3 says. */
export function packetBytes(firstByte: number, body: readonly number[]): Buffer {
  const len: number[] = [];
  let x = body.length;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    len.push(b);
  } while (x > 0);
  return Buffer.from([firstByte, ...len, ...body]);
}

/**
 * A CONNECT made by hand, for the edge cases mqtt-packet will not generate: any protocol name and level, any flag
 * byte (3.1.2.3: bit 7 user name, 6 password, 5 Will retain, 4-3 Will QoS, 2 Will, 1 clean session, 0 reserved).
 */
export function connectBytes(o: {
  name?: string;
  level?: number;
  flags: number;
  keepalive?: number;
  clientId: string | readonly number[];
  willTopic?: string | readonly number[];
  willPayload?: readonly number[];
  username?: string | readonly number[];
  password?: readonly number[];
}): Buffer {
  const ka = o.keepalive ?? 60;
  const body = [
    ...mqttString(o.name ?? 'MQTT'),
    o.level ?? 4,
    o.flags,
    ka >> 8,
    ka & 0xff,
    ...mqttString(o.clientId),
    ...(o.willTopic !== undefined ? [...mqttString(o.willTopic), ...mqttString(o.willPayload ?? [])] : []),
    ...(o.username !== undefined ? mqttString(o.username) : []),
    ...(o.password !== undefined ? mqttString(o.password) : []),
  ];
  return packetBytes(0x10, body);
}
