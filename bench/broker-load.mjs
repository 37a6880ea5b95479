// Load generator of the broker bench, run in worker threads so it never shares an event loop with the process that
// measures. Plain JavaScript: worker threads do not inherit tsx's loader.
//
// The clients speak MQTT 3.1.1 straight over TLS sockets: PUBLISH packets are built from a template with one copy,
// the send time written into the payload and a packet id patched in; PUBACKs are counted with a 4-byte scan. A full
// MQTT client library spends several times the broker's own CPU per message on bookkeeping the bench does not need,
// and on two shared cores that made the generator, not the broker, the ceiling. Both brokers face the same clients.
//
// role 'pub': each client is one gateway-like publisher (client certificate, one topic, QoS 1); payloads cycle
//             through the given sizes and start with the send time (float64 ms since the epoch). With per-client
//             `payloads` (contract-valid Batches of the publisher's own site, gateway and device, which a broker that
//             checks payloads requires), they cycle through those bytes instead, the send time at `timeAt` and, when
//             `seqAt` is set, a five-byte varint that counts up per publisher (a Batch's seq, so each is a new Batch).
// role 'sub': each client is one fan-out-like subscriber (password, QoS 1 on its filter); it PUBACKs every message
//             and keeps the latency of those sent inside the current window. A subscriber the broker cuts comes back
//             and subscribes again; what it missed counts as not delivered.
// tlsOnly:    connections stop after the TLS handshake, no MQTT (the bare TLS server of the memory figure).
import { parentPort, workerData } from 'node:worker_threads';
import { connect as tlsConnect } from 'node:tls';
import mqttPacket from 'mqtt-packet';

const { ca, clients, sizes = [], role, timeAt = 0, seqAt = -1, tlsOnly = false } = workerData;
const nowMs = () => performance.timeOrigin + performance.now();
const conns = [];
let closing = false;

// Latency samples of the current window (subscriber role): a growable Float64Array, no per-message allocation.
let lat = new Float64Array(1 << 16);
let latN = 0;
let windowStart = Infinity;
let windowEnd = Infinity;
let cuts = 0;

function record(ms) {
  if (latN === lat.length) {
    const next = new Float64Array(lat.length * 2);
    next.set(lat);
    lat = next;
  }
  lat[latN++] = ms;
}

function remainingLengthBytes(n) {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

function writeRemainingLength(buf, at, n) {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[at++] = b;
  } while (n > 0);
  return at;
}

/** A QoS 1 PUBLISH of `size` payload bytes (or of `bytes`) on `topic`, with the offsets of its packet id and payload. */
function publishTemplate(topic, size, bytes = null) {
  const t = Buffer.from(topic, 'utf8');
  if (bytes) size = bytes.length;
  const rl = 2 + t.length + 2 + size;
  const buf = Buffer.alloc(1 + remainingLengthBytes(rl) + rl, 0x5a);
  buf[0] = 0x32;
  let at = writeRemainingLength(buf, 1, rl);
  buf.writeUInt16BE(t.length, at);
  t.copy(buf, at + 2);
  at += 2 + t.length;
  if (bytes) Buffer.from(bytes).copy(buf, at + 2);
  return { buf, idAt: at, payloadAt: at + 2 };
}

/**
 * Splits a byte stream into MQTT packets: calls onPacket(buf, type/flags byte, body start, body end) for each whole
 * one. A packet cut by a chunk boundary is kept and joined with the next chunk; whole packets are read in place.
 */
function packetReader(onPacket) {
  let rest = null;
  return (chunk) => {
    let buf = chunk;
    if (rest) {
      buf = Buffer.concat([rest, chunk]);
      rest = null;
    }
    let at = 0;
    while (at < buf.length) {
      if (buf.length - at < 2) break;
      let len = 0;
      let mul = 1;
      let i = at + 1;
      let done = false;
      for (; i < buf.length && i < at + 5; i++) {
        len += (buf[i] & 0x7f) * mul;
        mul *= 128;
        if ((buf[i] & 0x80) === 0) {
          done = true;
          i++;
          break;
        }
      }
      if (!done || i + len > buf.length) break;
      onPacket(buf, buf[at], i, i + len);
      at = i + len;
    }
    if (at < buf.length) rest = buf.subarray(at);
  };
}

function openSocket(c) {
  return new Promise((resolve, reject) => {
    const u = new URL(c.url);
    const s = tlsConnect({
      host: u.hostname,
      port: Number(u.port),
      ca,
      servername: 'localhost',
      rejectUnauthorized: true,
      ...(c.cert ? { cert: c.cert, key: c.key } : {}),
    });
    s.setNoDelay(true);
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** CONNECT (and SUBSCRIBE for subscribers) on a fresh TLS socket; resolves once CONNACK (and SUBACK) came back. */
async function session(c, onPublish, onPuback) {
  const s = await openSocket(c);
  return new Promise((resolve, reject) => {
    let acks = [];
    s.on('error', () => undefined);
    s.once('close', () => reject(new Error(`${c.clientId}: closed before the session was up`)));
    const read = packetReader((buf, head, from, to) => {
      const type = head >> 4;
      if (type === 3) {
        // PUBLISH: topic, packet id when QoS > 0, then the payload whose first 8 bytes are the send time.
        const qos = (head >> 1) & 3;
        const topicEnd = from + 2 + buf.readUInt16BE(from);
        const payloadAt = qos > 0 ? topicEnd + 2 : topicEnd;
        if (qos > 0) acks.push(0x40, 0x02, buf[topicEnd], buf[topicEnd + 1]);
        if (to - payloadAt >= timeAt + 8) onPublish(buf.readDoubleBE(payloadAt + timeAt));
      } else if (type === 4) {
        onPuback();
      } else if (type === 2) {
        if (buf[from + 1] !== 0) return reject(new Error(`${c.clientId}: CONNACK ${buf[from + 1]}`));
        if (!c.filter) resolve(s);
        else
          s.write(
            mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: c.filter, qos: 1 }] }),
          );
      } else if (type === 9) {
        if (buf[from + 2] === 0x80) return reject(new Error(`${c.clientId}: subscription to ${c.filter} refused`));
        resolve(s);
      }
    });
    s.on('data', (chunk) => {
      read(chunk);
      if (acks.length > 0) {
        s.write(Buffer.from(acks));
        acks = [];
      }
    });
    s.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        clientId: c.clientId,
        ...(c.username ? { username: c.username, password: Buffer.from(c.password) } : {}),
      }),
    );
  });
}

async function connectPublisher(c) {
  const conn = {
    socket: null,
    nextId: 1,
    acked: 0,
    seq: 1,
    templates: c.payloads
      ? c.payloads.map((b) => publishTemplate(c.topic, 0, b))
      : sizes.map((n) => publishTemplate(c.topic, n)),
  };
  conn.socket = await session(
    c,
    () => undefined,
    () => conn.acked++,
  );
  conns.push(conn);
}

async function connectSubscriber(c) {
  const onPublish = (sentAt) => {
    if (sentAt >= windowStart && sentAt <= windowEnd) record(nowMs() - sentAt);
  };
  const up = async () => {
    const s = await session(c, onPublish, () => undefined);
    s.once('close', () => {
      if (closing) return;
      cuts++;
      setTimeout(() => up().catch(() => setTimeout(up, 200)), 200);
    });
    conns.push({ socket: s });
  };
  await up();
}

async function run(ratePerSec, durationMs) {
  let sent = 0;
  let k = 0;
  const ackedBefore = conns.reduce((a, c) => a + c.acked, 0);
  const total = Math.ceil((ratePerSec * durationMs) / 1000);
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((ratePerSec * Math.min(elapsed, durationMs)) / 1000), total);
      for (const c of conns) c.socket.cork();
      while (sent < due) {
        const c = conns[k % conns.length];
        const t = c.templates[k % c.templates.length];
        k++;
        const p = Buffer.allocUnsafe(t.buf.length);
        t.buf.copy(p);
        p.writeUInt16BE(c.nextId, t.idAt);
        c.nextId = c.nextId === 65535 ? 1 : c.nextId + 1;
        p.writeDoubleBE(nowMs(), t.payloadAt + timeAt);
        if (seqAt >= 0) {
          // A varint in five bytes, whatever its value: continuation bits on the first four.
          let v = c.seq++;
          for (let b = 0; b < 5; b++, v = Math.floor(v / 128))
            p[t.payloadAt + seqAt + b] = (v % 128) | (b < 4 ? 0x80 : 0);
        }
        c.socket.write(p);
        sent++;
      }
      for (const c of conns) c.socket.uncork();
      if (elapsed >= durationMs) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const acked = () => conns.reduce((a, c) => a + c.acked, 0) - ackedBefore;
  const deadline = performance.now() + 5000;
  while (acked() < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { sent, acked: acked() };
}

// Keep-alive for idle stretches between steps: a PINGREQ every 20 s on every connection.
const ping = setInterval(() => {
  for (const c of conns) if (!c.socket.destroyed) c.socket.write(Buffer.from([0xc0, 0x00]));
}, 20_000);
ping.unref();

parentPort.on('message', async (m) => {
  try {
    if (m.cmd === 'connect') {
      for (const c of clients)
        if (tlsOnly) conns.push({ socket: await openSocket(c) });
        else await (role === 'sub' ? connectSubscriber(c) : connectPublisher(c));
      parentPort.postMessage({ ok: 'connect' });
    } else if (m.cmd === 'run') {
      parentPort.postMessage({ ok: 'run', ...(await run(m.ratePerSec, m.durationMs)) });
    } else if (m.cmd === 'window') {
      windowStart = m.start;
      windowEnd = m.end;
      latN = 0;
      parentPort.postMessage({ ok: 'window' });
    } else if (m.cmd === 'collect') {
      const out = lat.slice(0, latN);
      parentPort.postMessage({ ok: 'collect', lat: out, cuts }, [out.buffer]);
    } else if (m.cmd === 'close') {
      closing = true;
      clearInterval(ping);
      // DISCONNECT, so neither broker publishes a Will or counts these as lost connections.
      await Promise.all(
        conns.map(
          (c) =>
            new Promise((r) => {
              if (c.socket.destroyed) return r();
              c.socket.once('close', r);
              c.socket.end(Buffer.from([0xe0, 0x00]));
              setTimeout(() => (c.socket.destroy(), r()), 1000).unref();
            }),
        ),
      );
      parentPort.postMessage({ ok: 'close' });
    }
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
});
