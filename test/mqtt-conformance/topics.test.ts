// MQTT 3.1.1 conformance, topic names, topic filters and matching (section 4.7, and 3.3.2, 3.8.3), on the lab
// listener. The matching cases are the specification's own examples (4.7.1.2, 4.7.1.3, 4.7.2).
import { describe, expect, it } from 'vitest';
import { mqttString, packetBytes, pub, sleep, type RawClient } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();

/** A subscriber to `filters` (QoS 0 unless given); resolves once SUBACK granted them all. */
async function subscriber(
  clientId: string,
  filters: string[],
  o: { clean?: boolean; qos?: 0 | 1 } = {},
): Promise<RawClient> {
  const qos = o.qos ?? 0;
  const { c } = await lab.connect({ clientId, clean: o.clean ?? true });
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map((topic) => ({ topic, qos })) });
  const ack = await c.next('suback');
  expect(ack.granted).toEqual(filters.map(() => qos));
  return c;
}

/** Publishes each topic (QoS 1, so PUBACK says it was routed), then one marker every subscriber here matches. */
async function publishAll(clientId: string, topics: string[], marker: string): Promise<void> {
  const { c } = await lab.connect({ clientId });
  let id = 1;
  for (const topic of [...topics, marker]) {
    c.send(pub(topic, topic, { qos: 1, messageId: id++ }));
    await c.next('puback');
  }
}

/** The topics a subscriber received once the marker arrived (the marker itself left out). */
async function receivedUntil(s: RawClient, marker: string): Promise<string[]> {
  while (!s.publishes().some((p) => p.topic === marker)) await s.next('publish');
  await s.ping();
  return s
    .publishes()
    .map((p) => p.topic)
    .filter((t) => t !== marker);
}

describe('wildcards', () => {
  it('[MQTT-4.7.1-2] 4.7.1.2: "#" matches its parent level and any number of child levels', async () => {
    const r = lab.root();
    const s = await subscriber('hash', [`${r}/sport/tennis/player1/#`, `${r}/marker`]);
    const s2 = await subscriber('hash-parent', [`${r}/sport/#`, `${r}/marker`]);
    await publishAll(
      'hash-pub',
      [
        `${r}/sport/tennis/player1`,
        `${r}/sport/tennis/player1/ranking`,
        `${r}/sport/tennis/player1/score/wimbledon`,
        `${r}/sport`,
        `${r}/sport/tennis/player2`,
      ],
      `${r}/marker`,
    );
    expect(await receivedUntil(s, `${r}/marker`)).toEqual([
      `${r}/sport/tennis/player1`,
      `${r}/sport/tennis/player1/ranking`,
      `${r}/sport/tennis/player1/score/wimbledon`,
    ]);
    expect(await receivedUntil(s2, `${r}/marker`)).toEqual([
      `${r}/sport/tennis/player1`,
      `${r}/sport/tennis/player1/ranking`,
      `${r}/sport/tennis/player1/score/wimbledon`,
      `${r}/sport`,
      `${r}/sport/tennis/player2`,
    ]);
  });

  it('[MQTT-4.7.1-3] 4.7.1.3: "+" matches exactly one level, an empty one included', async () => {
    const r = lab.root();
    const s = await subscriber('plus', [`${r}/sport/tennis/+`, `${r}/sport/+`, `${r}/marker`]);
    await publishAll(
      'plus-pub',
      [`${r}/sport/tennis/player1`, `${r}/sport/tennis/player1/ranking`, `${r}/sport`, `${r}/sport/`],
      `${r}/marker`,
    );
    expect(await receivedUntil(s, `${r}/marker`)).toEqual([`${r}/sport/tennis/player1`, `${r}/sport/`]);
  });

  it('[MQTT-4.7.1-3] 4.7.1.3: "+/+" and "/+" match "/finance", "+" does not', async () => {
    // At the root, so these filters see other tests' traffic too: only /finance is asserted.
    const a = await subscriber('plus-plus', ['+/+', 'finance-marker']);
    const b = await subscriber('slash-plus', ['/+', 'finance-marker']);
    const c = await subscriber('plus-only', ['+']);
    await publishAll('finance-pub', ['/finance'], 'finance-marker');
    expect(await receivedUntil(a, 'finance-marker')).toContain('/finance');
    expect(await receivedUntil(b, 'finance-marker')).toContain('/finance');
    expect(await receivedUntil(c, 'finance-marker')).not.toContain('/finance');
  });

  it.each(['a/#/b', 'a#', 'a/b#', '#/a'])(
    '[MQTT-4.7.1-2] [MQTT-4.8.0-1] a filter with "#" not last or not alone (%s) is a protocol violation: closed',
    async (filter) => {
      const { c } = await lab.connect({ clientId: `bad-hash-${filter.length}` });
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] });
      await c.gone();
      expect(c.packets.some((p) => p.cmd === 'suback' && p.granted.some((g) => g !== 128))).toBe(false);
    },
  );

  it.each(['a+', 'a/+b', '+a/b'])(
    '[MQTT-4.7.1-3] [MQTT-4.8.0-1] a filter with "+" not a whole level (%s) is a protocol violation: closed',
    async (filter) => {
      const { c } = await lab.connect({ clientId: `bad-plus-${filter.length}` });
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] });
      await c.gone();
      expect(c.packets.some((p) => p.cmd === 'suback' && p.granted.some((g) => g !== 128))).toBe(false);
    },
  );

  it.each(['a/+/b', 'a/#', '+', '#'])(
    '[MQTT-4.7.1-1] [MQTT-3.3.2-2] a PUBLISH topic name with a wildcard (%s) closes the connection, unacknowledged',
    async (topic) => {
      const { c } = await lab.connect({ clientId: `wild-pub-${topic.length}` });
      c.send(pub(topic, 'x', { qos: 1, messageId: 1 }));
      await c.gone();
      expect(c.packets.some((p) => p.cmd === 'puback')).toBe(false);
    },
  );
});

describe('topics beginning with $', () => {
  it('[MQTT-4.7.2-1] "#" and "+/..." filters do not receive the server\'s $SYS topics; "$SYS/#" does', async () => {
    const all = await subscriber('dollar-hash', ['#']);
    const plus = await subscriber('dollar-plus', ['+/+/new/clients']);
    const sys = await subscriber('dollar-sys', ['$SYS/#']);
    await lab.connect({ clientId: 'dollar-trigger' }); // Aedes announces it on $SYS/<broker id>/new/clients
    while (!sys.publishes().some((m) => /^\$SYS\/[^/]+\/new\/clients$/.test(m.topic))) await sys.next('publish');
    await all.ping();
    await plus.ping();
    await sleep(100);
    expect(all.publishes().filter((p) => p.topic.startsWith('$'))).toEqual([]);
    expect(plus.publishes()).toEqual([]);
  });

  it('[MQTT-4.7.2-1] a client\'s $TopicA/B reaches "$TopicA/+" and "$TopicA/B" but neither "+/+" nor "#"', async () => {
    const r = lab.root();
    const wild = await subscriber('dollar-wild', ['+/+', '#']);
    const own = await subscriber('dollar-own', [`$${r}/+`, `$${r}/B`]);
    const { c: p } = await lab.connect({ clientId: 'dollar-pub' });
    p.send(pub(`$${r}/B`, 'x', { qos: 1, messageId: 1 }));
    expect(await p.next('puback')).toMatchObject({ messageId: 1 });
    p.send(pub(`${r}/B`, 'marker', { qos: 1, messageId: 2 }));
    await p.next('puback');
    await own.next('publish');
    while (!wild.publishes().some((m) => m.topic === `${r}/B`)) await wild.next('publish');
    await wild.ping();
    expect(
      wild
        .publishes()
        .map((m) => m.topic)
        .filter((t) => t.startsWith('$')),
    ).toEqual([]);
    expect(own.publishes().map((m) => m.topic)).toEqual([`$${r}/B`]);
  });

  it('[MQTT-4.7.2-1] a retained $ message is not sent to a new "+/+" subscriber, and is to "$TopicA/+"', async () => {
    const r = lab.root();
    const { c: p } = await lab.connect({ clientId: 'dollar-retain-pub' });
    p.send(pub(`$${r}/R`, 'kept', { qos: 1, messageId: 1, retain: true }));
    await p.next('puback');
    p.send(pub(`${r}/R`, 'kept too', { qos: 1, messageId: 2, retain: true }));
    await p.next('puback');
    const wild = await subscriber('dollar-retain-wild', ['+/+']);
    const own = await subscriber('dollar-retain-own', [`$${r}/+`]);
    while (!wild.publishes().some((m) => m.topic === `${r}/R`)) await wild.next('publish');
    await own.next('publish');
    await wild.ping();
    expect(
      wild
        .publishes()
        .map((m) => m.topic)
        .filter((t) => t.startsWith('$')),
    ).toEqual([]);
    expect(own.publishes().map((m) => [m.topic, m.retain])).toEqual([[`$${r}/R`, true]]);
  });

  it('[MQTT-4.7.2-1] a persistent "+/+" subscriber that was away is not sent the $ messages published meanwhile', async () => {
    const r = lab.root();
    const away = await subscriber('dollar-away', [`+/${r}`], { clean: false, qos: 1 }); // QoS 1: kept while away [MQTT-3.1.2-5]
    await away.disconnect();
    const { c: p } = await lab.connect({ clientId: 'dollar-away-pub' });
    p.send(pub(`$x/${r}`, 'not for wildcards', { qos: 1, messageId: 1 }));
    await p.next('puback');
    p.send(pub(`x/${r}`, 'queued', { qos: 1, messageId: 2 }));
    await p.next('puback');
    const back = await lab.connect({ clientId: 'dollar-away', clean: false });
    expect(back.connack).toMatchObject({ returnCode: 0, sessionPresent: true });
    await back.c.next('publish');
    await back.c.ping();
    expect(back.c.publishes().map((m) => m.topic)).toEqual([`x/${r}`]);
  });
});

describe('topic name and filter strings', () => {
  it('[MQTT-4.7.3-1] a zero-length topic name in PUBLISH closes the connection', async () => {
    const { c } = await lab.connect({ clientId: 'empty-topic' });
    c.send(packetBytes(0x32, [...mqttString(''), 0, 1, 0x78])); // PUBLISH QoS 1, topic "", id 1, payload "x"
    await c.gone();
    expect(c.packets.some((p) => p.cmd === 'puback')).toBe(false);
  });

  it('[MQTT-4.7.3-1] a zero-length topic filter in SUBSCRIBE closes the connection', async () => {
    const { c } = await lab.connect({ clientId: 'empty-filter' });
    c.send(packetBytes(0x82, [0, 1, ...mqttString(''), 0]));
    await c.gone();
    expect(c.packets.some((p) => p.cmd === 'suback' && p.granted.some((g) => g !== 128))).toBe(false);
  });

  it('[MQTT-4.7.3-4] [MQTT-1.5.3-3] matching does not normalise: case, empty levels, a trailing "/", spaces and U+FEFF all count', async () => {
    const r = lab.root();
    const topics = [`${r}/ACCOUNTS`, `${r}/Accounts`, `${r}//x`, `${r}/x`, `${r}/x/`, `${r}/ x`, `${r}/\uFEFFx`];
    const subs = await Promise.all(topics.map((t, i) => subscriber(`norm-${i}`, [t, `${r}/marker`])));
    await publishAll('norm-pub', topics, `${r}/marker`);
    for (const [i, s] of subs.entries()) expect(await receivedUntil(s, `${r}/marker`), topics[i]).toEqual([topics[i]]);
  });

  it('[MQTT-1.5.3-1] well-formed non-ASCII topics are carried end to end', async () => {
    const r = lab.root();
    const s = await subscriber('utf8-ok', [`${r}/bệnh-viện/+/🫀`]);
    const { c: p } = await lab.connect({ clientId: 'utf8-ok-pub' });
    p.send(pub(`${r}/bệnh-viện/giường-1/🫀`, 'ok', { qos: 1, messageId: 2 }));
    expect((await s.next('publish')).topic).toBe(`${r}/bệnh-viện/giường-1/🫀`);
  });
});
