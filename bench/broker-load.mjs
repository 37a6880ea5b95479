// Publisher side of the broker bench, in its own thread so the load generator and the measuring subscriber do not
// share one event loop. Plain JavaScript: worker threads do not inherit tsx's loader. Each client is one gateway-like
// publisher on one topic, QoS 1; payloads cycle through the given sizes and start with the send time (float64 ms).
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

const { ca, clients, sizes } = workerData;
const conns = [];
const nowMs = () => performance.timeOrigin + performance.now();

async function connectAll() {
  for (const c of clients) {
    const client = await mqtt.connectAsync(c.url, {
      ca, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 20_000, keepalive: 60, clean: true, clientId: c.clientId,
      ...(c.cert ? { cert: c.cert, key: c.key } : {}), ...(c.username ? { username: c.username, password: c.password } : {}),
      // A TLS session per connection, as separate gateways would have; no session resumption shortcut.
      rejectUnauthorized: true, servername: 'localhost',
    }, false);
    client.on('error', () => undefined);
    conns.push({ client, topic: c.topic });
  }
}

async function run(ratePerSec, durationMs) {
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let i = 0;
  const payloads = sizes.map((n) => Buffer.alloc(n, 0x5a));
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((ratePerSec * Math.min(elapsed, durationMs)) / 1000), Math.ceil((ratePerSec * durationMs) / 1000));
      while (sent < due) {
        const c = conns[i % conns.length];
        const p = Buffer.from(payloads[i % payloads.length]);
        p.writeDoubleBE(nowMs(), 0);
        i++;
        sent++;
        c.client.publish(c.topic, p, { qos: 1 }, (err) => (err ? failed++ : acked++));
      }
      if (elapsed >= durationMs) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const deadline = performance.now() + 5000;
  while (acked + failed < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { sent, acked, failed };
}

parentPort.on('message', async (m) => {
  try {
    if (m.cmd === 'connect') {
      await connectAll();
      parentPort.postMessage({ ok: 'connect' });
    } else if (m.cmd === 'run') {
      parentPort.postMessage({ ok: 'run', ...(await run(m.ratePerSec, m.durationMs)) });
    } else if (m.cmd === 'close') {
      await Promise.all(conns.map((c) => c.client.endAsync(true).catch(() => undefined)));
      parentPort.postMessage({ ok: 'close' });
    }
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
});
