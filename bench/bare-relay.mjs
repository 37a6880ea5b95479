// Reference for the broker bench's CPU figures: the least a Node.js MQTT broker must do for the bench's load, over
// Node's own TLS server with the broker's certificate options. It answers what Node's TLS sockets and event loop cost
// per message, before any MQTT library: the floor under vitalwire's CPU per message in the same run.
//
// It speaks just enough MQTT 3.1.1 for the bench's clients: CONNECT (anyone, CONNACK 0), SUBSCRIBE (granted QoS
// min(requested, 1), filters with + and #), PUBLISH at QoS 0 and 1 (PUBACK, then a copy to each matching subscriber at
// the lower QoS with its own packet identifier, held until PUBACKed), PINGREQ, DISCONNECT. Packets are read in place
// from the chunk ('data' events, no stream buffering), and each connection's writes of one event-loop turn leave as one
// socket write. Each PUBLISH on a stream topic gets vitalwire's own payload check (lib/batch-check.ts, compiled: a
// Batch of that site, gateway, device and kind, as broker/payload-check.ts requires; a failure closes the connection),
// since any broker vitalwire ships must do it; `nocheck` as the fifth argument leaves it out. No authentication, ACLs,
// retained messages, sessions, QoS 2 or limits: never a deployment.
import { setImmediate } from 'node:timers';
import { createServer } from 'node:tls';
import { referenceTlsOptions } from './lib/reference-tls.mjs';
import { checkBatch } from '../dist/lib/batch-check.js';
import { expectedBatch } from '../dist/broker/payload-check.js';

const check = process.argv[6] !== 'nocheck';

/** Subscribers: { conn, filter levels, qos }. */
const subs = [];
let pending = [];

/** Whether a filter's levels match a topic's levels `t` (split once per PUBLISH, not per subscriber). */
function matches(levels, t) {
  for (let i = 0; i < levels.length; i++) {
    const f = levels[i];
    if (f === '#') return i > 0 || t[0][0] !== '$';
    if (i >= t.length) return false;
    if (f === '+') {
      if (i === 0 && t[0][0] === '$') return false;
    } else if (f !== t[i]) return false;
  }
  return levels.length === t.length;
}

function flushAll() {
  const list = pending;
  pending = [];
  for (const c of list) {
    c.queued = false;
    if (c.used === 0 || c.socket.destroyed) continue;
    const out = Buffer.allocUnsafe(c.used);
    c.slab.copy(out, 0, 0, c.used);
    c.used = 0;
    c.socket.write(out);
  }
}

/** Room for `n` more bytes in the connection's turn buffer; queues the flush. */
function reserve(c, n) {
  if (c.used + n > c.slab.length) {
    const bigger = Buffer.allocUnsafe(Math.max(c.slab.length * 2, c.used + n));
    c.slab.copy(bigger, 0, 0, c.used);
    c.slab = bigger;
  }
  if (!c.queued) {
    c.queued = true;
    if (pending.length === 0) setImmediate(flushAll);
    pending.push(c);
  }
  const at = c.used;
  c.used += n;
  return at;
}

function put(c, bytes) {
  const at = reserve(c, bytes.length);
  for (let i = 0; i < bytes.length; i++) c.slab[at + i] = bytes[i];
}

function forward(sub, buf, topicStart, topicEnd, payloadStart, payloadEnd, qos) {
  const c = sub.conn;
  const q = Math.min(qos, sub.qos);
  const rl = topicEnd - topicStart + (q > 0 ? 2 : 0) + (payloadEnd - payloadStart);
  let rlBytes = 1;
  for (let n = rl; n >= 128; n = Math.floor(n / 128)) rlBytes++;
  let at = reserve(c, 1 + rlBytes + rl);
  const s = c.slab;
  s[at++] = q > 0 ? 0x32 : 0x30;
  let n = rl;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    s[at++] = b;
  } while (n > 0);
  buf.copy(s, at, topicStart, topicEnd); // topic length and topic
  at += topicEnd - topicStart;
  if (q > 0) {
    const id = (c.nextId = c.nextId === 0xffff ? 1 : c.nextId + 1);
    s[at++] = id >> 8;
    s[at++] = id & 0xff;
    c.inflight.set(id, true);
  }
  buf.copy(s, at, payloadStart, payloadEnd);
}

function onPacket(c, buf, head, from, to) {
  const type = head >> 4;
  if (type === 3) {
    const qos = (head >> 1) & 3;
    const topicEnd = from + 2 + ((buf[from] << 8) | buf[from + 1]);
    const payloadStart = qos > 0 ? topicEnd + 2 : topicEnd;
    const topic = buf.toString('utf8', from + 2, topicEnd);
    if (check) {
      if (c.topic !== topic) {
        c.topic = topic;
        c.expected = expectedBatch(topic);
      }
      if (c.expected !== null && checkBatch(buf.subarray(payloadStart, to), c.expected) !== null) {
        c.socket.destroy();
        return;
      }
    }
    if (qos === 1) {
      // PUBACK written in place: the one packet per message, no array for it
      const at = reserve(c, 4);
      c.slab[at] = 0x40;
      c.slab[at + 1] = 0x02;
      c.slab[at + 2] = buf[topicEnd];
      c.slab[at + 3] = buf[topicEnd + 1];
    }
    const levels = subs.length === 0 ? null : topic.split('/');
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i];
      if (matches(sub.levels, levels)) forward(sub, buf, from, topicEnd, payloadStart, to, qos);
    }
  } else if (type === 4) {
    c.inflight.delete((buf[from] << 8) | buf[from + 1]);
  } else if (type === 1) {
    put(c, [0x20, 0x02, 0x00, 0x00]);
  } else if (type === 8) {
    const id = [buf[from], buf[from + 1]];
    let at = from + 2;
    const granted = [];
    while (at < to) {
      const len = (buf[at] << 8) | buf[at + 1];
      const filter = buf.toString('utf8', at + 2, at + 2 + len);
      const qos = Math.min(buf[at + 2 + len] & 3, 1);
      subs.push({ conn: c, levels: filter.split('/'), qos });
      granted.push(qos);
      at += 3 + len;
    }
    put(c, [0x90, 2 + granted.length, ...id, ...granted]);
  } else if (type === 12) {
    put(c, [0xd0, 0x00]);
  } else if (type === 14) {
    c.socket.end();
  }
}

const server = createServer(referenceTlsOptions(process.argv.slice(2)), (socket) => {
  const c = {
    socket,
    slab: Buffer.allocUnsafe(4096),
    used: 0,
    queued: false,
    nextId: 0,
    inflight: new Map(),
    topic: null,
    expected: null,
  };
  let rest = null;
  socket.on('data', (chunk) => {
    let buf = chunk;
    if (rest !== null) {
      buf = Buffer.concat([rest, chunk]);
      rest = null;
    }
    let at = 0;
    while (at + 2 <= buf.length) {
      let len = 0;
      let shift = 0;
      let i = at + 1;
      let b = 0x80;
      while ((b & 0x80) !== 0 && i < buf.length) {
        b = buf[i++];
        len += (b & 0x7f) << shift;
        shift += 7;
      }
      if ((b & 0x80) !== 0 || i + len > buf.length) break;
      onPacket(c, buf, buf[at], i, i + len);
      at = i + len;
    }
    if (at < buf.length) rest = buf.subarray(at);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    for (let i = subs.length - 1; i >= 0; i--) if (subs[i].conn === c) subs.splice(i, 1);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`bare relay on ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
