// The adapter's differential test: each scenario runs through stock Aedes (as shipped: default options and hooks, plain
// TCP) and through vitalwire's broker on its lab listener (every patch of this folder in place: staged writes, the
// parser fast path, the non-blocking drain, publish before PUBACK; the hooks with authentication off), and every
// client must receive the same packets. A patch that changes what MQTT clients see, or an Aedes upgrade that breaks a
// patch's assumptions, fails here. Scenarios stay within what stock Aedes gets right; where vitalwire departs from it
// on purpose (an MQTT MUST Aedes misses), the conformance suite (test/mqtt-conformance/) says so clause by clause.
import { Aedes } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pub, RawClient, sleep, waitFor } from '../../test/mqtt-raw.js';
import { startBroker, type Broker } from '../broker.js';
import { checkTestedVersions, installedVersions, TESTED_VERSIONS } from './index.js';

interface Target {
  port: number;
  close(): Promise<void>;
}

async function stockAedes(): Promise<Target> {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.close();
        aedes.close(() => r());
      }),
  };
}

async function vitalwire(): Promise<Target> {
  const b: Broker = await startBroker({ lab: true, port: 0 });
  return { port: b.port, close: () => b.close() };
}

type Scenario = (port: number) => Promise<Record<string, RawClient>>;

/**
 * What must be equal: every packet a client received, in order, except that deliveries of different topics or QoS
 * levels may interleave differently ([MQTT-4.6.0-6] orders messages per topic and QoS only, and routing a QoS 1 message
 * waits for storage where QoS 0 does not): deliveries are grouped by topic and QoS, each group in arrival order, and
 * their server-chosen packet ids left out (they number arrival order).
 */
function canonical(lines: string[]): string[] {
  const deliveries = lines.filter((l) => l.startsWith('publish '));
  const key = (l: string): string => l.split(' ').slice(1, 3).join(' ');
  const grouped = deliveries
    .map((l, i) => ({ l: l.replace(/ #\d+ /, ' # '), i }))
    .sort((a, b) => key(a.l).localeCompare(key(b.l)) || a.i - b.i)
    .map((x) => x.l);
  return [...lines.filter((l) => !l.startsWith('publish ')), ...grouped];
}

/** Runs a scenario, lets it settle (a ping round trip on each open connection, then a pause), and reads transcripts. */
async function transcript(target: Target, scenario: Scenario): Promise<Record<string, string[]>> {
  const clients = await scenario(target.port);
  await sleep(100);
  for (const c of Object.values(clients)) if (!c.closed) await c.ping();
  const out: Record<string, string[]> = {};
  for (const [name, c] of Object.entries(clients)) {
    // The settle ping is ours, not the scenario's.
    const lines = c.summary();
    out[name] = canonical(c.closed ? [...lines, 'closed'] : lines.slice(0, lines.lastIndexOf('pingresp')));
    c.destroy();
  }
  return out;
}

const scenarios: Record<string, Scenario> = {
  'QoS 0, 1 and 2 in both directions, delivered at the lower of published and granted QoS': async (port) => {
    const { c: s } = await RawClient.connected(port, { clientId: 's' });
    s.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: 'a/+', qos: 0 },
        { topic: 'b/#', qos: 1 },
        { topic: 'c', qos: 2 },
      ],
    });
    await s.next('suback');
    const { c: p } = await RawClient.connected(port, { clientId: 'p' });
    p.send(pub('a/1', 'x0'));
    p.send(pub('a/2', 'x1', { qos: 1, messageId: 10 }));
    await p.next('puback');
    p.send(pub('b/x', 'y2', { qos: 2, messageId: 11 }));
    await p.next('pubcomp');
    p.send(pub('c', 'z1', { qos: 1, messageId: 12 }));
    await p.next('puback');
    p.send(pub('c', 'z2', { qos: 2, messageId: 13 }));
    await p.next('pubcomp');
    await waitFor(() => s.publishes().length === 5, 'five deliveries');
    return { s, p };
  },

  'retained messages: stored, replaced, cleared, sent with RETAIN only on subscribe': async (port) => {
    const { c: p } = await RawClient.connected(port, { clientId: 'p' });
    p.send(pub('r/1', 'first', { qos: 1, retain: true, messageId: 1 }));
    await p.next('puback');
    p.send(pub('r/1', 'second', { qos: 1, retain: true, messageId: 2 }));
    await p.next('puback');
    p.send(pub('r/2', 'other', { qos: 1, retain: true, messageId: 3 }));
    await p.next('puback');
    const { c: s } = await RawClient.connected(port, { clientId: 's' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/1', qos: 1 }] });
    await s.next('suback');
    await s.next('publish');
    p.send(pub('r/2', '', { qos: 1, retain: true, messageId: 4 }));
    await p.next('puback');
    p.send(pub('r/1', 'live', { qos: 1, retain: true, messageId: 5 }));
    await p.next('puback');
    await waitFor(() => s.publishes().length === 2, 'the live one');
    const { c: late } = await RawClient.connected(port, { clientId: 'late' });
    late.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/+', qos: 1 }] });
    await late.next('suback');
    await late.next('publish');
    return { p, s, late };
  },

  'a persistent session keeps QoS 1 and 2 messages while away, and reports itself present': async (port) => {
    const first = await RawClient.connected(port, { clientId: 'away', clean: false });
    first.c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q/#', qos: 2 }] });
    await first.c.next('suback');
    await first.c.disconnect();
    const { c: p } = await RawClient.connected(port, { clientId: 'p' });
    p.send(pub('q/0', 'lost', { qos: 0 }));
    p.send(pub('q/1', 'kept1', { qos: 1, messageId: 1 }));
    await p.next('puback');
    p.send(pub('q/2', 'kept2', { qos: 2, messageId: 2 }));
    await p.next('pubcomp');
    const back = await RawClient.connected(port, { clientId: 'away', clean: false });
    await waitFor(() => back.c.publishes().length === 2, 'the queued messages');
    await back.c.disconnect();
    const clean = await RawClient.connected(port, { clientId: 'away', clean: true });
    return { first: first.c, p, back: back.c, clean: clean.c };
  },

  'a Will is published on an abnormal close and discarded on DISCONNECT': async (port) => {
    const { c: s } = await RawClient.connected(port, { clientId: 's' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'will/#', qos: 1 }] });
    await s.next('suback');
    const will = { topic: 'will/a', payload: Buffer.from('gone'), qos: 1 as const, retain: false };
    const { c: a } = await RawClient.connected(port, { clientId: 'a', will });
    a.destroy();
    await s.next('publish');
    const { c: b } = await RawClient.connected(port, { clientId: 'b', will: { ...will, topic: 'will/b' } });
    await b.disconnect();
    return { s };
  },

  'unsubscribe stops delivery; SUBACK and UNSUBACK carry the packet ids': async (port) => {
    const { c: s } = await RawClient.connected(port, { clientId: 's' });
    s.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'u/#', qos: 1 }] });
    await s.next('suback');
    const { c: p } = await RawClient.connected(port, { clientId: 'p' });
    p.send(pub('u/1', 'before', { qos: 1, messageId: 1 }));
    await s.next('publish');
    s.send({ cmd: 'unsubscribe', messageId: 8, unsubscriptions: ['u/#'] });
    await s.next('unsuback');
    p.send(pub('u/1', 'after', { qos: 1, messageId: 2 }));
    await p.next('puback');
    return { s, p };
  },

  'a QoS 2 PUBLISH sent again before PUBREL is delivered once': async (port) => {
    const { c: s } = await RawClient.connected(port, { clientId: 's' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 2 }] });
    await s.next('suback');
    const { c: p } = await RawClient.connected(port, { clientId: 'p' }, { autoAck: false });
    p.send(pub('x', 'once', { qos: 2, messageId: 9 }));
    await p.next('pubrec');
    p.send(pub('x', 'once', { qos: 2, messageId: 9, dup: true }));
    await p.next('pubrec');
    p.send({ cmd: 'pubrel', messageId: 9 });
    await p.next('pubcomp');
    return { s, p };
  },

  '300 publishes mixing QoS 0 and 1, in one write and byte by byte: every one acknowledged and delivered': async (
    port,
  ) => {
    const { c: s } = await RawClient.connected(port, { clientId: 's' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'burst/+', qos: 1 }] });
    await s.next('suback');
    const { c: p } = await RawClient.connected(port, { clientId: 'p' });
    const packets = (from: number): Buffer =>
      Buffer.concat(
        Array.from({ length: 150 }, (_, i) =>
          mqttPacket.generate(
            pub(`burst/${(from + i) % 3}`, `m${from + i}`, { qos: ((from + i) % 2) as 0 | 1, messageId: from + i + 1 }),
          ),
        ),
      );
    p.send(packets(0)); // the parser fast path reads whole packets from one chunk
    for (const byte of packets(150)) p.send([byte]); // and falls back to mqtt-packet for partial ones
    await waitFor(() => s.publishes().length === 300, '300 deliveries', 10_000);
    return { s, p };
  },

  'overlapping subscriptions of one client get one copy of each message': async (port) => {
    const { c: s } = await RawClient.connected(port, { clientId: 's' });
    s.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: 'o/#', qos: 1 },
        { topic: 'o/+', qos: 1 },
        { topic: 'o/x', qos: 1 },
      ],
    });
    await s.next('suback');
    const { c: p } = await RawClient.connected(port, { clientId: 'p' });
    for (let i = 1; i <= 5; i++) {
      p.send(pub('o/x', `m${i}`, { qos: 1, messageId: i }));
      await p.next('puback');
    }
    p.send(pub('o/x', 'last', { qos: 0 }));
    await waitFor(() => s.publishes().some((m) => m.payload.toString() === 'last'), 'the last one');
    return { s, p };
  },

  'a second connection with the same client id closes the first': async (port) => {
    const { c: first } = await RawClient.connected(port, { clientId: 'same' });
    const { c: second } = await RawClient.connected(port, { clientId: 'same' });
    await first.gone();
    return { first, second };
  },
};

describe('the adapter against stock Aedes', () => {
  let stock: Target;
  let ours: Target;
  beforeAll(async () => {
    stock = await stockAedes();
    ours = await vitalwire();
  });
  afterAll(async () => {
    await stock?.close();
    await ours?.close();
  });

  it.each(Object.keys(scenarios))('%s: the same packets reach every client', async (name) => {
    const scenario = scenarios[name] as Scenario;
    const expected = await transcript(stock, scenario);
    expect(await transcript(ours, scenario)).toEqual(expected);
    // And the scenario really exercised something: every client saw packets.
    for (const lines of Object.values(expected)) expect(lines.length).toBeGreaterThan(0);
  });
});

describe('the version check', () => {
  it('passes the installed versions, the ones this folder was tested with', () => {
    expect(() =>
      checkTestedVersions(['aedes', 'mqtt-packet', 'ioredis', 'mqemitter', 'aedes-persistence', 'bl']),
    ).not.toThrow();
    const v = installedVersions();
    expect(TESTED_VERSIONS.aedes).toContain(v.aedes[0]);
  });

  it('refuses an untested version of each with VW_ERR_UNTESTED_DEPENDENCY, naming installed and tested versions', () => {
    const ok = installedVersions();
    for (const [name, wrong] of [
      ['aedes', '1.3.0'],
      ['mqtt-packet', '9.1.0'],
      ['ioredis', '5.12.0'],
      ['mqemitter', '7.2.0'],
      ['aedes-persistence', '11.1.0'],
      ['bl', '7.0.0'],
    ] as const) {
      const installed = { ...ok, [name]: [wrong] };
      expect(() => checkTestedVersions([name], installed)).toThrow(
        expect.objectContaining({ code: 'VW_ERR_UNTESTED_DEPENDENCY' }),
      );
      expect(() => checkTestedVersions([name], installed)).toThrow(
        new RegExp(
          `${name} ${wrong.replace(/\./g, '\\.')} is installed, tested: ${TESTED_VERSIONS[name][0]?.replace(/\./g, '\\.')}`,
        ),
      );
    }
    // A second copy of mqtt-packet (one for Aedes, another for us) is checked too.
    expect(() => checkTestedVersions(['mqtt-packet'], { ...ok, 'mqtt-packet': ['9.0.2', '8.2.1'] })).toThrow(
      /mqtt-packet 8\.2\.1/,
    );
  });
});
