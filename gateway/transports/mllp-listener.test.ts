// The MLLP listener on real sockets, with the storing side replaced by controllable promises: the ACK waits for the
// durable write, rejected messages get AR, failed writes AE, resends are answered from the first copy, and the
// per-connection limits hold.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decoded } from '../../decoders/decoded.js';
import { encodePcd01 } from '../../decoders/hl7/encode.js';
import { createMllpFramer, mllpWrap } from '../../decoders/framing/mllp.js';
import { getProtocol } from '../../decoders/registry.js';
import { silentLogger } from '../../lib/log.js';
import { messageRef, startMllpListener, type MllpListener, type MllpListenerOptions } from './mllp-listener.js';

const T = Date.UTC(2026, 5, 1, 8) * 1000;

function oru(n: number): Buffer {
  return mllpWrap(encodePcd01({
    controlId: `MSG${n}`, timeUs: T + n * 1000,
    numerics: [{ mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', value: 60 + n, unitMdc: 264864, unitRefid: 'MDC_DIM_BEAT_PER_MIN' }],
  }));
}

class Client {
  readonly acks: string[] = [];
  closed = false;
  private readonly framer = createMllpFramer();
  constructor(readonly sock: Socket) {
    sock.on('data', (b: Buffer) => this.framer.push(b, { frame: (f) => this.acks.push(f.toString('latin1')), error: () => undefined }));
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
    return /\rMSA\|([A-Z]{2})\|([^|\r]*)/.exec(this.acks[i] ?? '')?.slice(1, 3).join(' ');
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
    id: 'mon1', host: '127.0.0.1', port: 0, allowedPeers: ['127.0.0.1'], maxFrameBytes: 64 * 1024, idleTimeoutMs: 60_000, maxConnections: 2,
    maxPendingMessages: 8, protocol: getProtocol('hl7')!, logger: silentLogger(), nowUs: () => Date.now() * 1000,
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

  it('refuses peers outside allowedPeers and connections beyond maxConnections; closes idle ones', async () => {
    const denied = await start({ allowedPeers: ['10.0.0.0/8'] });
    const d = await client(denied);
    await until(() => d.closed, 'refused connection closed');
    expect(denied.listener.counters.errors.VW_ERR_MLLP_PEER_DENIED).toBe(1);

    const h = await start({ maxConnections: 1, idleTimeoutMs: 1000 });
    const a = await client(h);
    a.sock.write(oru(6)); // make sure the first connection is established and counted
    await until(() => h.commits.length === 1, 'commit');
    h.commits[0]?.resolve();
    const b = await client(h);
    await until(() => b.closed, 'second connection refused');
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT).toBe(1);
    await until(() => a.closed, 'idle connection closed');
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT).toBe(2);
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
    expect(c.acks.map((_, i) => c.msa(i))).toEqual(['AA MSG10', 'AA MSG11', 'AA MSG12', 'AA MSG13', 'AA MSG14', 'AA MSG15']);
    expect(h.listener.counters.errors.VW_ERR_LINK_LIMIT ?? 0).toBeGreaterThan(0);
  });
});
