// The MLLP listener on real sockets, with the storing side replaced by controllable promises: the ACK waits for the
// durable write, rejected messages get AR, failed writes AE, resends are answered from the first copy, and the
// per-connection limits hold.
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decoded } from '../../decoders/decoded.js';
import { encodePcd01 } from '../../decoders/hl7/encode.js';
import { createMllpFramer, mllpWrap } from '../../decoders/framing/mllp.js';
import { getProtocol } from '../../decoders/registry.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { messageRef, startMllpListener, type MllpListener, type MllpListenerOptions } from './mllp-listener.js';

const T = Date.UTC(2026, 5, 1, 8) * 1000;

function oru(n: number): Buffer {
  return mllpWrap(
    encodePcd01({
      controlId: `MSG${n}`,
      timeUs: T + n * 1000,
      numerics: [
        {
          mdc: 147842,
          refid: 'MDC_ECG_CARD_BEAT_RATE',
          value: 60 + n,
          unitMdc: 264864,
          unitRefid: 'MDC_DIM_BEAT_PER_MIN',
        },
      ],
    }),
  );
}

class Client {
  readonly acks: string[] = [];
  closed = false;
  private readonly framer = createMllpFramer();
  constructor(readonly sock: Socket) {
    sock.on('data', (b: Buffer) =>
      this.framer.push(b, { frame: (f) => this.acks.push(f.toString('latin1')), error: () => undefined }),
    );
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
  }
  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  msa(i: number): string | undefined {
    return /\rMSA\|([A-Z]{2})\|([^|\r]*)/
      .exec(this.acks[i] ?? '')
      ?.slice(1, 3)
      .join(' ');
  }
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Harness {
  listener: MllpListener;
  ingested: Decoded[];
  commits: { ref: string; resolve(): void; reject(e: Error): void }[];
  stored: Map<string, Promise<unknown>>;
}

let open: MllpListener[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  for (const l of open) await l.stop();
  open = [];
});

async function start(over: Partial<MllpListenerOptions> = {}): Promise<Harness> {
  const h = { ingested: [], commits: [], stored: new Map() } as unknown as Harness;
  h.listener = await startMllpListener({
    id: 'mon1',
    host: '127.0.0.1',
    port: 0,
    allowedPeers: ['127.0.0.1'],
    maxFrameBytes: 64 * 1024,
    idleTimeoutMs: 60_000,
    frameTimeoutMs: 60_000,
    maxConnections: 2,
    maxPendingMessages: 8,
    protocol: getProtocol('hl7')!,
    logger: silentLogger(),
    nowUs: () => Date.now() * 1000,
    events: {
      ingest: (d) => h.ingested.push(d),
      commit: (ref) => {
        const p = new Promise<void>((resolve, reject) => h.commits.push({ ref, resolve, reject }));
        h.stored.set(ref, p);
        p.catch(() => h.stored.delete(ref));
        return p;
      },
      seen: (ref) => h.stored.get(ref),
      state: () => undefined,
    },
    ...over,
  });
  open.push(h.listener);
  return h;
}

async function client(h: Harness): Promise<Client> {
  const c = await Client.open(h.listener.port);
  sockets.push(c.sock);
  return c;
}

describe('MLLP listener', () => {
  it('acknowledges only after the durable write, then AA with the message control id', async () => {
    const h = await start();
    const c = await client(h);
    c.sock.write(oru(1));
    await until(() => h.commits.length === 1, 'the commit request');
    expect(h.ingested).toHaveLength(1);
    expect(h.ingested[0]?.observations[0]?.number).toBe(61);
    // Stored but not yet durable: no ACK may have been sent.
    await new Promise((r) => setImmediate(r));
    expect(c.acks).toHaveLength(0);
    expect(h.listener.counters.acks.AA).toBe(0);
    h.commits[0]?.resolve();
    await until(() => c.acks.length === 1, 'the ACK');
    expect(c.msa(0)).toBe('AA MSG1');
  });

  it('answers AE when the write fails, and a resend after it is stored normally', async () => {
    const h = await start();
    const c = await client(h);
    c.sock.write(oru(2));
    await until(() => h.commits.length === 1, 'commit');
    h.commits[0]?.reject(new Error('EIO'));
    await until(() => c.acks.length === 1, 'AE');
    expect(c.msa(0)).toBe('AE MSG2');
    c.sock.write(oru(2));
    await until(() => h.commits.length === 2, 'second commit');
    h.commits[1]?.resolve();
    await until(() => c.acks.length === 2, 'AA');
    expect(c.msa(1)).toBe('AA MSG2');
  });

  it('answers a resend of a stored message from the first copy, without storing it again', async () => {
    const h = await start();
    const c1 = await client(h);
    c1.sock.write(oru(3));
    await until(() => h.commits.length === 1, 'commit');
    c1.sock.destroy(); // the monitor gave up waiting and reconnects
    const c2 = await client(h);
    c2.sock.write(oru(3));
    await new Promise((r) => setTimeout(r, 20));
    expect(c2.acks).toHaveLength(0); // the first copy is not durable yet
    h.commits[0]?.resolve();
    await until(() => c2.acks.length === 1, 'ACK of the resend');
    expect(c2.msa(0)).toBe('AA MSG3');
    expect(h.ingested).toHaveLength(1);
    expect(h.listener.counters.duplicates).toBe(1);
  });

  it('recognises a resend whose header was rebuilt, but not new content under a reused control id', () => {
    const body = 'PID|||\rOBX|1|NM|147842^MDC_ECG_CARD_BEAT_RATE^MDC||72|/min\r';
    const a = Buffer.from(`MSH|^~\\&|MON||||20260601080000||ORU^R01|M1|P|2.6\r${body}`);
    const resent = Buffer.from(`MSH|^~\\&|MON||||20260601080003||ORU^R01|M1|P|2.6\r${body}`);
    const reused = Buffer.from(`MSH|^~\\&|MON||||20260601080000||ORU^R01|M1|P|2.6\r${body.replace('72', '73')}`);
    expect(messageRef(resent, 'M1')).toBe(messageRef(a, 'M1'));
    expect(messageRef(reused, 'M1')).not.toBe(messageRef(a, 'M1'));
    expect(messageRef(a, 'M2')).not.toBe(messageRef(a, 'M1'));
  });

  it('rejects undecodable messages with AR and keeps serving the connection', async () => {
    const h = await start();
    const c = await client(h);
    c.sock.write(mllpWrap('MSH|^~\\&|X||||20260601||ADT^A01|ADT1|P|2.6\r'));
    await until(() => c.acks.length === 1, 'AR');
    expect(c.msa(0)).toBe('AR ADT1');
    c.sock.write(oru(4));
    await until(() => h.commits.length === 1, 'commit');
    h.commits[0]?.resolve();
    await until(() => c.acks.length === 2, 'AA');
    expect(c.msa(1)).toBe('AA MSG4');
    expect(h.listener.counters.badFrames).toBe(1);
  });

  it('drops an oversize message with AR and resynchronises on the next', async () => {
    const h = await start({ maxFrameBytes: 1024 });
    const c = await client(h);
    c.sock.write(mllpWrap(`MSH|^~\\&|X||||20260601||ORU^R01|BIG|P|2.6\r${'OBX|1|ST|x||'.padEnd(4000, 'y')}\r`));
    c.sock.write(oru(5));
    await until(() => h.commits.length === 1, 'commit of the next message');
    h.commits[0]?.resolve();
    await until(() => c.acks.length === 2, 'two answers');
    expect(c.msa(0)).toBe('AR ');
    expect(c.msa(1)).toBe('AA MSG5');
    expect(h.listener.counters.errors.VW_ERR_FRAME_TOO_LARGE).toBe(1);
  });

  it('refuses peers outside allowedPeers; at maxConnections refuses only when every connection is busy; closes idle ones', async () => {
    const denied = await start({ allowedPeers: ['10.0.0.0/8'] });
    const d = await client(denied);
    await until(() => d.closed, 'refused connection closed');
    expect(denied.listener.counters.errors.VW_ERR_MLLP_PEER_DENIED).toBe(1);

    const h = await start({ maxConnections: 1, idleTimeoutMs: 1000 });
    const a = await client(h);
    a.sock.write(oru(6));
    await until(() => h.commits.length === 1, 'commit');
    // a's message is being stored: its connection is busy and keeps its slot.
    const b = await client(h);
    await until(() => b.closed, 'second connection refused');
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT).toBe(1);
    h.commits[0]?.resolve();
    await until(() => a.acks.length === 1, 'AA');
    // Answered and idle now: a newcomer takes its slot (a monitor that rebooted leaves such a connection behind).
    const c = await client(h);
    await until(() => a.closed, 'the idle connection made room');
    expect(c.closed).toBe(false);
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT).toBe(2);
    await until(() => c.closed, 'idle connection closed');
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT).toBe(3);
  });

  it('pauses a sender with maxPendingMessages unacknowledged and resumes as ACKs go out', async () => {
    const h = await start({ maxPendingMessages: 2 });
    const c = await client(h);
    for (let n = 10; n < 16; n++) c.sock.write(oru(n));
    await until(() => h.commits.length === 1, 'first commit');
    for (let i = 0; i < 6; i++) {
      await until(() => h.commits.length === i + 1, `commit ${i}`);
      h.commits[i]?.resolve();
    }
    await until(() => c.acks.length === 6, 'six ACKs');
    expect(c.acks.map((_, i) => c.msa(i))).toEqual([
      'AA MSG10',
      'AA MSG11',
      'AA MSG12',
      'AA MSG13',
      'AA MSG14',
      'AA MSG15',
    ]);
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT ?? 0).toBeGreaterThan(0);
  });
});

/** A peer that sends one byte at a time (slowloris): `bytes` in turn, every `everyMs`, until stopped or closed. */
function trickle(c: Client, bytes: Buffer, everyMs: number): () => void {
  let i = 0;
  const t = setInterval(() => {
    if (c.sock.destroyed || c.closed) return clearInterval(t);
    c.sock.write(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
    i++;
  }, everyMs);
  return () => clearInterval(t);
}

function logLines(): {
  lines: { msg: string; code?: string; suppressed?: number }[];
  logger: ReturnType<typeof createLogger>;
} {
  const lines: { msg: string; code?: string; suppressed?: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
      cb();
    },
  });
  return { lines, logger: createLogger('test', 'debug', sink) };
}

describe('MLLP listener: hostile and odd peers (issues 14 and 15)', () => {
  it('answers a sender that half-closes its socket after sending, then ends its own side (issue 15)', async () => {
    const h = await start();
    const c = await client(h);
    c.sock.write(oru(20));
    c.sock.end(oru(21)); // the last message, then FIN: the sender waits for its ACKs on the half-open socket
    await until(() => h.commits.length === 1, 'first commit');
    h.commits[0]?.resolve();
    await until(() => h.commits.length === 2, 'second commit');
    h.commits[1]?.resolve();
    await until(() => c.acks.length === 2, 'both ACKs after the half-close');
    expect([c.msa(0), c.msa(1)]).toEqual(['AA MSG20', 'AA MSG21']);
    await until(() => c.closed, 'the gateway ends its side once everything is answered');
    expect(h.listener.state).toBe('disconnected');
  });

  it('a frame started must complete within frameTimeoutMs: a peer trickling bytes is closed, an idle sender is not', async () => {
    const h = await start({ frameTimeoutMs: 300, maxConnections: 4 });
    // A peer that started a frame and sends one byte every 50 ms: never idle, never done.
    const slow = await client(h);
    slow.sock.write(Buffer.from([0x0b]));
    const stopSlow = trickle(slow, Buffer.from('MSH|^~\\&|'), 50);
    // A peer that sends only bytes outside any frame, one at a time.
    const noise = await client(h);
    const stopNoise = trickle(noise, Buffer.from('garbage'), 50);
    // A real sender: one message whose trailing CR arrives in a chunk of its own, then silence.
    const idle = await client(h);
    const msg = oru(22);
    idle.sock.write(msg.subarray(0, msg.length - 1));
    await new Promise((r) => setTimeout(r, 20));
    idle.sock.write(msg.subarray(msg.length - 1));
    try {
      await until(() => slow.closed && noise.closed, 'the trickling peers closed', 10_000);
    } finally {
      stopSlow();
      stopNoise();
    }
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT).toBe(2);
    await until(() => h.commits.length === 1, "the sender's message");
    h.commits[0]?.resolve();
    await until(() => idle.acks.length === 1, 'its ACK');
    expect(idle.msa(0)).toBe('AA MSG22');
    await new Promise((r) => setTimeout(r, 700)); // twice the deadline: a finished frame arms nothing
    expect(idle.closed).toBe(false);
  });

  it('four slow peers holding every connection slot cannot lock out a real sender (slowloris)', async () => {
    // frameTimeoutMs far away: the slots are won back by eviction, not by the deadline.
    const h = await start({ maxConnections: 4, frameTimeoutMs: 600_000 });
    const slow: Client[] = [];
    const stops: (() => void)[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await client(h);
      c.sock.write(Buffer.from([0x0b]));
      stops.push(trickle(c, Buffer.from('MSH|^~\\&|'), 50));
      slow.push(c);
    }
    try {
      await until(() => h.listener.counters.connections === 4, 'four slow peers connected');
      const real = await client(h);
      real.sock.write(oru(23));
      await until(() => h.commits.length === 1 || real.closed, 'the real sender served or refused');
      expect(real.closed).toBe(false);
      h.commits[0]?.resolve();
      await until(() => real.acks.length === 1, 'its ACK');
      expect(real.msa(0)).toBe('AA MSG23');
      expect(slow.filter((c) => c.closed)).toHaveLength(1); // the slowest one made room
      // The sender has proven itself; further slow peers evict each other, never it.
      for (let i = 0; i < 3; i++) {
        const c = await client(h);
        c.sock.write(Buffer.from([0x0b]));
        stops.push(trickle(c, Buffer.from('MSH|'), 50));
        slow.push(c);
      }
      await until(() => slow.filter((c) => c.closed).length === 4, 'three more evictions');
      real.sock.write(oru(24));
      await until(() => h.commits.length === 2, 'second message');
      h.commits[1]?.resolve();
      await until(() => real.acks.length === 2, 'second ACK');
      expect(real.closed).toBe(false);
    } finally {
      for (const s of stops) s();
    }
  });

  it('logs a flood of refused peers and rejected messages once per interval with the count, counting each (issue 14)', async () => {
    const { lines, logger } = logLines();
    const denied = await start({ allowedPeers: ['10.0.0.0/8'], logger });
    const cs = await Promise.all(Array.from({ length: 100 }, () => client(denied)));
    await until(() => denied.listener.counters.refusedPeers === 100 && cs.every((c) => c.closed), '100 refusals');
    const h = await start({ logger, maxPendingMessages: 1000 });
    const c = await client(h);
    const bad = mllpWrap('MSH|^~\\&|X||||20260601||ADT^A01|ADT1|P|2.6\r');
    c.sock.write(Buffer.concat(Array.from({ length: 300 }, () => bad)));
    await until(() => c.acks.length === 300, '300 AR');
    expect(h.listener.counters.badFrames).toBe(300);
    expect(denied.listener.counters.errors.VW_ERR_MLLP_PEER_DENIED).toBe(100);
    const refused = lines.filter((l) => l.code === 'VW_ERR_MLLP_PEER_DENIED');
    const rejected = lines.filter((l) => l.code === 'VW_ERR_HL7_UNSUPPORTED_MESSAGE');
    expect(refused.length).toBe(1);
    expect(rejected.length).toBe(1);
    // Stopping reports what was counted and not logged: every event is accounted for.
    await denied.listener.stop();
    await h.listener.stop();
    const sum = (ls: typeof lines) =>
      ls.length + ls.reduce((a, l) => a + (l.suppressed ?? 0), 0) - ls.filter((l) => l.suppressed).length;
    expect(sum(lines.filter((l) => l.code === 'VW_ERR_MLLP_PEER_DENIED'))).toBe(100);
    expect(sum(lines.filter((l) => l.code === 'VW_ERR_HL7_UNSUPPORTED_MESSAGE'))).toBe(300);
  });
});
