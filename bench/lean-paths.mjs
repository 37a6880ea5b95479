// Micro-measure of broker/aedes-internals/lean-publish.ts and lean-deliver.ts: CPU per QoS 1 message through the whole
// broker (lab listener, plain TCP on loopback, every other patch in place) with and without the two lean paths, in one
// process, alternating. 16 publishers send one 600-byte QoS 1 PUBLISH each per round and a clean `d/#` subscriber
// acknowledges every delivery; a round ends when all 16 PUBACKs and deliveries are back, so each round is a few event
// loop turns, as at 10,000 msgs/s. The clients' work is the same in both variants: the difference is the broker's.
// Run after `npm run build`:
//   node bench/lean-paths.mjs
import { connect } from 'node:net';
import mqttPacket from 'mqtt-packet';

const { startBroker } = await import('../dist/broker/broker.js');

const PUBLISHERS = 16;
const ROUNDS = 4000;
const payload = Buffer.alloc(600, 7);

/** A raw MQTT 3.1.1 client; resolves once connected (and subscribed to `filter`, QoS 1, if given). */
function client(port, clientId, onPacket, filter) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack' && filter)
        s.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] }));
      else if (p.cmd === 'connack' || p.cmd === 'suback') resolve(s);
      else onPacket(p, s);
    });
    s.on('data', (d) => parser.parse(d));
    s.once('error', reject);
    s.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        clientId,
      }),
    );
  });
}

async function usPerMessage(leanPaths) {
  const b = await startBroker({ lab: true, port: 0, leanPaths });
  let acked = 0;
  let delivered = 0;
  let wake = () => undefined;
  const sub = await client(
    b.port,
    'sub',
    (p, s) => {
      if (p.cmd !== 'publish') return;
      delivered++;
      s.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId }));
      if (delivered === PUBLISHERS && acked === PUBLISHERS) wake();
    },
    'd/#',
  );
  const pubs = [];
  for (let i = 0; i < PUBLISHERS; i++) {
    pubs.push(
      await client(b.port, `p${i}`, (p) => {
        if (p.cmd !== 'puback') return;
        acked++;
        if (delivered === PUBLISHERS && acked === PUBLISHERS) wake();
      }),
    );
  }
  const packets = pubs.map((_, i) =>
    Array.from({ length: 2 }, (_, k) =>
      mqttPacket.generate({
        cmd: 'publish',
        topic: `d/gw${i}/wave`,
        payload,
        qos: 1,
        messageId: k + 1,
        retain: false,
        dup: false,
      }),
    ),
  );
  const round = (r) =>
    new Promise((resolve) => {
      acked = 0;
      delivered = 0;
      wake = resolve;
      for (let i = 0; i < PUBLISHERS; i++) pubs[i].write(packets[i][r & 1]);
    });
  for (let r = 0; r < 500; r++) await round(r); // warm-up: the JIT, the memos
  const t0 = process.cpuUsage();
  for (let r = 0; r < ROUNDS; r++) await round(r);
  const c = process.cpuUsage(t0);
  for (const s of [sub, ...pubs]) s.destroy();
  await b.close();
  return (c.user + c.system) / (ROUNDS * PUBLISHERS);
}

const runs = [];
for (let r = 0; r < 7; r++) runs.push([await usPerMessage(true), await usPerMessage(false)]);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const lean = median(runs.map((x) => x[0]));
const stock = median(runs.map((x) => x[1]));
console.error(runs.map(([a, b]) => `${a.toFixed(2)}/${b.toFixed(2)}`).join(' '));
console.log(
  JSON.stringify({
    bench: 'lean-paths',
    metric: 'process_cpu_us_per_msg',
    value: +lean.toFixed(2),
    unit: 'µs',
    peer: "Aedes' own publish and deliverQoS",
    peer_value: +stock.toFixed(2),
    ratio: +(lean / stock).toFixed(3),
  }),
);
