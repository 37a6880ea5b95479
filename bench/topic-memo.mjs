// Micro-measure of broker/aedes-internals/topic-memo.ts: CPU per message of the two topic lookups Aedes makes for every
// QoS 1 message (mqemitter's routing, the in-memory persistence's subscriptionsByTopic), with and without the memo, over
// 16 gateway topics with a fan-out subscription and 16 gateways' command subscriptions. Run after `npm run build`:
//   node bench/topic-memo.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mqemitter = require('mqemitter');
const persistence = require('aedes-persistence');
const { memoizeRouting, memoizeOfflineLookup } = await import('../dist/broker/aedes-internals/topic-memo.js');

const gw = (i) => `site-${i % 4}/gw${String(i).padStart(3, '0')}`;
const topics = Array.from({ length: 16 }, (_, i) => `vw/v1/${gw(i)}/bed01/wave`);

async function usPerMessage(memo) {
  const mq = mqemitter({ concurrency: 0 });
  const p = persistence();
  await p.setup({ id: 'bench' });
  if (memo) {
    memoizeRouting({ mq });
    memoizeOfflineLookup(p);
  }
  mq.on('vw/v1/#', (_m, cb) => cb());
  for (let g = 0; g < 16; g++) mq.on(`vwcmd/v1/${gw(g)}/#`, (_m, cb) => cb());
  await p.addSubscriptions({ id: 'fanout' }, [{ topic: 'vw/v1/#', qos: 1 }]);
  const n = 300_000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const topic = topics[i & 15];
    mq.emit({ topic, payload: null });
    await p.subscriptionsByTopic(topic);
  }
  const c = process.cpuUsage(t0);
  return (c.user + c.system) / n;
}

const runs = [];
for (let r = 0; r < 5; r++) runs.push([await usPerMessage(true), await usPerMessage(false)]);
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const memo = median(runs.map((x) => x[0]));
const plain = median(runs.map((x) => x[1]));
console.log(
  JSON.stringify({
    bench: 'topic-memo',
    metric: 'lookup_us_per_msg',
    value: +memo.toFixed(3),
    unit: 'µs',
    peer: 'no memo',
    peer_value: +plain.toFixed(3),
    ratio: +(memo / plain).toFixed(2),
  }),
);
