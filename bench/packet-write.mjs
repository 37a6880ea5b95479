// The broker's packet writer alone (broker/aedes-internals/fast-write.ts) against mqtt-packet's writeToStream, the
// writer it stands in for, in one process: 40 staged streams (staged-writes.ts), a 600-byte QoS 1 PUBLISH and a PUBACK
// to each in turn, one event-loop turn per 64 pairs (the stage's flush). Best of seven trials of 200,000 pairs, each
// writer twice, alternating. Run after `npm run build`: `node bench/packet-write.mjs`. docs/broker.md has the figures.
import { Duplex } from 'node:stream';
import { setImmediate } from 'node:timers';
import mqtt from 'mqtt-packet';
// The adapter's own parts, measured alone: its index installs the writer in front of mqtt-packet's, the peer here.
// eslint-disable-next-line no-restricted-imports
import { coalesceWrites } from '../dist/broker/aedes-internals/staged-writes.js';
// eslint-disable-next-line no-restricted-imports
import { writeStaged } from '../dist/broker/aedes-internals/fast-write.js';

const sink = () => {
  const d = new Duplex({
    read() {},
    write: (_c, _e, cb) => cb(),
    writev: (_c, cb) => cb(),
  });
  coalesceWrites(d);
  return d;
};
const publish = {
  cmd: 'publish',
  topic: 'vw/v1/site-a/gw-0001/dev-01/obs',
  payload: Buffer.alloc(600, 7),
  qos: 1,
  messageId: 1,
  retain: false,
  dup: false,
};
const puback = { cmd: 'puback', messageId: 42 };

async function trial(write) {
  const streams = Array.from({ length: 40 }, sink);
  const n = 200_000;
  let best = Infinity;
  for (let t = 0; t < 7; t++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const s = streams[i % 40];
      publish.messageId = (i & 0xfffe) + 1;
      write(publish, s);
      write(puback, s);
      if ((i & 63) === 63) await new Promise((r) => setImmediate(r));
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  return best;
}

const viaMqttPacket = (p, s) => mqtt.writeToStream(p, s);
const viaStage = (p, s) => writeStaged(p, s);
const ns = { mqttPacket: [], fastWrite: [] };
for (let k = 0; k < 2; k++) {
  ns.mqttPacket.push(await trial(viaMqttPacket));
  ns.fastWrite.push(await trial(viaStage));
}
const a = Math.min(...ns.mqttPacket);
const b = Math.min(...ns.fastWrite);
process.stdout.write(
  `ns per PUBLISH+PUBACK pair: mqtt-packet writeToStream ${a.toFixed(0)}, fast-write ${b.toFixed(0)} (ratio ${(b / a).toFixed(2)})\n`,
);
