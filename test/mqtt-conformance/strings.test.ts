// MQTT 3.1.1 clauses where Aedes alone departs from the standard and vitalwire closes the gap (docs/broker.md), plus
// a few Aedes keeps by itself that vitalwire's hooks must not break. Raw packets on the lab listener (plain TCP,
// loopback, no authentication), so each test speaks the wire directly.
import { connect, type Socket } from 'node:net';
import { generate, parser, type Packet } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../broker/broker.js';
import { topicMatches } from '../../broker/topic-match.js';

let lab: Broker;
const open: Socket[] = [];
beforeAll(async () => {
  lab = await startBroker({ lab: true, port: 0, limits: { keepAliveMinSeconds: 1, keepAliveMaxSeconds: 60 } });
});
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});
afterAll(async () => {
  await lab.close();
});

/** A raw MQTT connection: packets out, parsed packets in, and whether the broker closed it. */
class Raw {
  readonly packets: Packet[] = [];
  closed = false;
  readonly sock: Socket;
  constructor(port: number) {
    this.sock = connect(port, '127.0.0.1');
    open.push(this.sock);
    const p = parser({ protocolVersion: 4 });
    p.on('packet', (pk: Packet) => this.packets.push(pk));
    this.sock.on('data', (d: Buffer) => p.parse(d));
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('error', () => undefined);
  }
  send(p: Packet | Buffer): void {
    this.sock.write(Buffer.isBuffer(p) ? p : generate(p));
  }
  async next(cmd: Packet['cmd']): Promise<Packet> {
    await wait(() => this.packets.some((p) => p.cmd === cmd) || this.closed, `${cmd}`);
    const p = this.packets.find((x) => x.cmd === cmd);
    if (!p) throw new Error(`connection closed before ${cmd}`);
    return p;
  }
  async gone(): Promise<void> {
    await wait(() => this.closed, 'close');
  }
}

async function wait(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const connectPacket = (o: { clientId: string; clean?: boolean; keepalive?: number; protocolVersion?: 4 | 5 }): Packet => ({
  cmd: 'connect', protocolId: 'MQTT', protocolVersion: o.protocolVersion ?? 4, clientId: o.clientId, clean: o.clean ?? true, keepalive: o.keepalive ?? 30,
});

async function connected(clientId: string): Promise<Raw> {
  const r = new Raw(lab.port);
  r.send(connectPacket({ clientId }));
  expect(await r.next('connack')).toMatchObject({ returnCode: 0 });
  return r;
}

describe('gaps vitalwire closes', () => {
  it('[MQTT-3.1.3-8] a zero-byte ClientId with CleanSession 0 gets CONNACK 0x02 and the connection is closed', async () => {
    const r = new Raw(lab.port);
    // By hand: mqtt-packet will not generate this one. Protocol name MQTT, level 4, flags 0 (CleanSession 0),
    // keep-alive 30, ClientId of zero bytes.
    r.send(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 30, 0, 0]));
    expect(await r.next('connack')).toMatchObject({ returnCode: 2, sessionPresent: false });
    await r.gone();
    // With CleanSession 1 the server assigns one ([MQTT-3.1.3-6]).
    const ok = new Raw(lab.port);
    ok.send(connectPacket({ clientId: '', clean: true }));
    expect(await ok.next('connack')).toMatchObject({ returnCode: 0 });
  });

  it('Table 3.1: a keep-alive out of bounds is refused with CONNACK 5, never the reserved 6', async () => {
    for (const keepalive of [0, 61]) {
      const r = new Raw(lab.port);
      r.send(connectPacket({ clientId: `ka-${keepalive}`, keepalive }));
      expect(await r.next('connack'), String(keepalive)).toMatchObject({ returnCode: 5 });
      await r.gone();
    }
  });

  it('[MQTT-1.5.3-2] a topic filter containing U+0000 closes the connection, with no SUBACK', async () => {
    const before = lab.counters.disconnects['malformed-utf8'] ?? 0;
    const r = await connected('nul');
    r.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'a/\u0000/b', qos: 0 }] });
    await r.gone();
    expect(r.packets.some((p) => p.cmd === 'suback')).toBe(false);
    expect(lab.counters.disconnects['malformed-utf8']).toBe(before + 1);
  });

  // A PUBLISH topic of "a/" + the given bytes; SUBSCRIBE and UNSUBSCRIBE filters the same way.
  const badUtf8: [string, number[]][] = [
    ['a lone continuation byte', [0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a UTF-16 surrogate, U+D800', [0xed, 0xa0, 0x80]],
  ];
  const str = (bytes: number[]): number[] => [0, bytes.length + 2, 0x61, 0x2f, ...bytes];

  it.each(badUtf8)('[MQTT-1.5.3-1] ill-formed UTF-8 (%s) in a PUBLISH topic closes the connection, with no PUBACK', async (_what, bytes) => {
    const r = await connected('utf8-pub');
    const body = [...str(bytes), 0, 9, 0x78]; // topic, packet id 9, payload "x"
    r.send(Buffer.from([0x32, body.length, ...body])); // PUBLISH QoS 1
    await r.gone();
    expect(r.packets.some((p) => p.cmd === 'puback')).toBe(false);
  });

  it.each(badUtf8)('[MQTT-1.5.3-1] ill-formed UTF-8 (%s) in a SUBSCRIBE or UNSUBSCRIBE filter closes the connection', async (_what, bytes) => {
    for (const [header, tail] of [[0x82, [1]], [0xa2, []]] as const) {
      const r = await connected('utf8-sub');
      const body = [0, 5, ...str(bytes), ...tail];
      r.send(Buffer.from([header, body.length, ...body]));
      await r.gone();
      expect(r.packets.some((p) => p.cmd === 'suback' || p.cmd === 'unsuback')).toBe(false);
    }
  });

  it('[MQTT-1.5.3-1] ill-formed UTF-8 in the CONNECT client id is refused without CONNACK', async () => {
    const r = new Raw(lab.port);
    // MQTT level 4, clean session, keep-alive 30, client id bytes 0x61 0xff
    r.send(Buffer.from([0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30, 0, 2, 0x61, 0xff]));
    await r.gone();
    expect(r.packets).toEqual([]);
  });

  it('accepts well-formed non-ASCII topics end to end (lab ACLs are off)', async () => {
    const sub = await connected('utf8-ok-sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bệnh-viện/+/🫀', qos: 1 }] });
    await sub.next('suback');
    const pub = await connected('utf8-ok-pub');
    pub.send({ cmd: 'publish', topic: 'bệnh-viện/giường-1/🫀', payload: Buffer.from('ok'), qos: 1, messageId: 2, retain: false, dup: false });
    expect((await sub.next('publish') as { topic: string }).topic).toBe('bệnh-viện/giường-1/🫀');
  });

  it('[MQTT-3.3.2-2] [MQTT-1.5.3-2] a PUBLISH topic with a wildcard or U+0000 closes the connection', async () => {
    for (const topic of ['a/+/b', 'a/#', 'a\u0000b']) {
      const r = await connected(`bad-pub-${topic.length}`);
      r.send({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false });
      await r.gone();
      expect(r.packets.some((p) => p.cmd === 'puback'), topic).toBe(false);
    }
  });
});

describe('[MQTT-3.1.2-2] unknown protocol levels', () => {
  it('answers a level mqtt-packet cannot parse (6) with CONNACK 0x01 before closing', async () => {
    const r = new Raw(lab.port);
    r.send(Buffer.from([0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 6, 0x02, 0, 30, 0, 2, 0x61, 0x62]));
    expect(await r.next('connack')).toMatchObject({ returnCode: 1, sessionPresent: false });
    await r.gone();
    expect(lab.counters.refusedConnects['unacceptable-protocol-level']).toBe(1);
  });
});

describe('clauses Aedes keeps, still kept behind vitalwire hooks', () => {
  it('[MQTT-3.1.2-2] MQTT 5 (level 5) gets CONNACK 1 and a close: this broker speaks 3.1.1', async () => {
    const r = new Raw(lab.port);
    r.send(connectPacket({ clientId: 'v5', protocolVersion: 5 }));
    expect(await r.next('connack')).toMatchObject({ returnCode: 1 });
    await r.gone();
  });

  it('[MQTT-3.1.0-2] a second CONNECT is a protocol violation: the connection is closed', async () => {
    const r = await connected('twice');
    r.send(connectPacket({ clientId: 'twice' }));
    await r.gone();
  });

  it('[MQTT-3.1.4-2] a new connection with the same ClientId closes the old one', async () => {
    const first = await connected('same-id');
    await connected('same-id');
    await first.gone();
  });

  it('[MQTT-4.7.2-1] a filter starting with a wildcard does not match $ topics; $SYS/# does', async () => {
    const all = await connected('hash');
    all.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] });
    await all.next('suback');
    const sys = await connected('sys');
    sys.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$SYS/vw-test/#', qos: 0 }] });
    await sys.next('suback');
    await new Promise<void>((r) => lab.aedes.publish({ cmd: 'publish', topic: '$SYS/vw-test/x', payload: Buffer.from('s'), qos: 0, retain: false, dup: false }, () => r()));
    await new Promise<void>((r) => lab.aedes.publish({ cmd: 'publish', topic: 'plain/x', payload: Buffer.from('p'), qos: 0, retain: false, dup: false }, () => r()));
    await sys.next('publish');
    await wait(() => all.packets.some((p) => p.cmd === 'publish'), 'plain publish');
    expect(all.packets.filter((p) => p.cmd === 'publish').map((p) => (p as { topic: string }).topic)).toEqual(['plain/x']);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/x')).toBe(true);
  });

  it('[MQTT-3.3.1-6] a retained message is sent to a new subscriber with RETAIN set; [MQTT-3.3.1-10] an empty one clears it', async () => {
    const pub = await connected('ret-pub');
    pub.send({ cmd: 'publish', topic: 'ret/t', payload: Buffer.from('kept'), qos: 1, messageId: 3, retain: true, dup: false });
    await pub.next('puback');
    const sub = await connected('ret-sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ret/t', qos: 1 }] });
    const m = await sub.next('publish') as { retain: boolean; payload: Buffer };
    expect([m.retain, m.payload.toString()]).toEqual([true, 'kept']);
    pub.send({ cmd: 'publish', topic: 'ret/t', payload: Buffer.alloc(0), qos: 1, messageId: 4, retain: true, dup: false });
    await wait(() => pub.packets.filter((p) => p.cmd === 'puback').length === 2, 'second puback');
    const late = await connected('ret-late');
    late.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ret/t', qos: 1 }] });
    await late.next('suback');
    late.send({ cmd: 'pingreq' });
    await late.next('pingresp');
    expect(late.packets.some((p) => p.cmd === 'publish')).toBe(false);
  });

  it('[MQTT-3.1.2-24] a client silent for 1.5 x its keep-alive is disconnected', async () => {
    const r = new Raw(lab.port);
    r.send(connectPacket({ clientId: 'silent', keepalive: 1 }));
    await r.next('connack');
    await r.gone(); // within 1.5 s of silence, plus scheduling
  });
});
