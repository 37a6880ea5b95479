// An MLLP listener device link (HL7 v2 over TCP; the monitor or its central station dials the gateway, default port
// 2575). The HL7 ACK is sent only after the message's payloads are durably in the outbox (commit after write): AA
// when stored, AE when storing failed (the sender retries), AR when the message cannot be decoded (do not resend it
// unchanged). A message resent after a lost ACK (same MSH-10 and bytes) is answered from the first copy, not stored
// twice. Limits per listener and connection: allowed peers, maxConnections, idleTimeoutMs, maxFrameBytes,
// maxPendingMessages (the socket is paused while that many wait for their ACK).
import { createServer, type Server, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import type { Decoded } from '../../decoders/decoded.js';
import type { ErrorCode } from '../../decoders/errors.js';
import { createMllpFramer, mllpWrap } from '../../decoders/framing/mllp.js';
import { buildAck, type AckCode } from '../../decoders/hl7/ack.js';
import type { Protocol } from '../../decoders/registry.js';
import type { Logger } from '../../lib/log.js';
import type { DeviceCounters, DeviceLink, LinkStateName } from '../device-link.js';
import { peerMatcher } from './peers.js';

export interface MllpListenerOptions {
  id: string;
  host: string;
  port: number;
  allowedPeers: readonly string[];
  maxFrameBytes: number;
  idleTimeoutMs: number;
  maxConnections: number;
  maxPendingMessages: number;
  protocol: Protocol;
  defaultUtcOffsetMin?: number;
  logger: Logger;
  nowUs: () => number;
  events: {
    /** A decoded message: batch it (not yet durable). */
    ingest(d: Decoded, rxUs: number): void;
    /** Store everything ingested so far, tagged with the message's dedup ref; resolves when durable. */
    commit(ref: string): Promise<void>;
    /** The durability promise of an earlier copy of this message, if one was stored. */
    seen(ref: string): Promise<unknown> | undefined;
    state(s: LinkStateName, counters: Readonly<DeviceCounters>, reason?: ErrorCode): void;
    data?(chunk: Buffer, rxUs: number): void;
  };
}

export interface MllpCounters extends DeviceCounters {
  acks: Record<AckCode, number>;
  duplicates: number;
  refusedPeers: number;
  connections: number;
}

export interface MllpListener extends DeviceLink {
  readonly port: number;
  readonly counters: MllpCounters;
}

interface Job {
  frame: Buffer;
  rxUs: number;
  conn: Conn;
}

interface Conn {
  sock: Socket;
  pending: number;
  paused: boolean;
}

const CR = 0x0d;
/** stop() waits this long for received messages to be stored and acknowledged. */
export const MLLP_STOP_DRAIN_MS = 10_000;

/**
 * Control id (MSH-10) + CRC-32 of the message after its MSH segment: a resend has both equal, even when the sender
 * rebuilt the header with a new MSH-7 time; a sender that reuses control ids for new content does not.
 */
export function messageRef(frame: Buffer, controlId: string): string {
  const end = frame.indexOf(CR);
  return `${controlId.slice(0, 64)}:${crc32(end === -1 ? frame : frame.subarray(end)).toString(16)}`;
}

function controlIdOf(frame: Buffer): string {
  // MSH-10 of the first segment, read without the full parser (the decoder parses it anyway).
  const end = frame.indexOf(CR);
  const msh = frame.toString('latin1', 0, end === -1 ? Math.min(frame.length, 512) : Math.min(end, 512));
  if (!msh.startsWith('MSH') || msh.length < 4) return '';
  return msh.split(msh.charAt(3))[9] ?? '';
}

export function startMllpListener(o: MllpListenerOptions): Promise<MllpListener> {
  const log = o.logger.child({ device: o.id, transport: 'mllp' });
  const allowed = peerMatcher(o.allowedPeers);
  const decoder = o.protocol.createDecoder();
  const ctx = { gatewayTimeUs: 0, defaultUtcOffsetMin: o.defaultUtcOffsetMin ?? 0 };
  const counters: MllpCounters = {
    frames: 0, badFrames: 0, garbageBytes: 0, bytes: 0, reconnects: 0, errors: {}, acks: { AA: 0, AE: 0, AR: 0 }, duplicates: 0, refusedPeers: 0, connections: 0,
  };
  const conns = new Set<Conn>();
  const queue: Job[] = [];
  let running = false;
  let stopped = false;
  let ackSeq = 0;
  let rxNow = 0;
  const count = (code: ErrorCode) => {
    counters.errors[code] = (counters.errors[code] ?? 0) + 1;
  };

  const ack = (c: Conn, original: Buffer, code: AckCode, text?: string) => {
    const r = buildAck(original, { code, controlId: `VW${(++ackSeq).toString(36).toUpperCase()}`, nowUs: o.nowUs(), ...(text ? { text } : {}) });
    counters.acks[code]++;
    if (r.message !== null && !c.sock.destroyed) c.sock.write(mllpWrap(r.message));
  };

  async function handle(job: Job): Promise<void> {
    const { frame, conn } = job;
    const ref = messageRef(frame, controlIdOf(frame));
    const earlier = o.events.seen(ref);
    if (earlier) {
      // The sender did not get our ACK (we were restarted, or the link dropped): the first copy answers.
      counters.duplicates++;
      try {
        await earlier;
        ack(conn, frame, 'AA');
      } catch {
        ack(conn, frame, 'AE', 'not stored, resend');
      }
      return;
    }
    ctx.gatewayTimeUs = job.rxUs;
    const r = decoder.decode(frame, ctx);
    counters.frames++;
    if (!r.ok) {
      counters.badFrames++;
      const code = r.error.code;
      count(code);
      log.warn({ code }, 'message rejected');
      ack(conn, frame, 'AR', code);
      return;
    }
    for (const w of r.value.warnings) count(w.code);
    o.events.ingest(r.value, job.rxUs);
    try {
      await o.events.commit(ref);
      ack(conn, frame, 'AA');
    } catch (err) {
      count('VW_ERR_OUTBOX_IO');
      log.error({ code: 'VW_ERR_OUTBOX_IO', err: err instanceof Error ? err.message : String(err) }, 'message not stored: AE sent');
      ack(conn, frame, 'AE', 'not stored, resend');
    }
  }

  async function run(): Promise<void> {
    if (running) return;
    running = true;
    while (queue.length > 0) {
      const job = queue.shift();
      if (!job) break;
      await handle(job).catch((err: unknown) => log.error({ err: String(err) }, 'mllp handler failed'));
      job.conn.pending--;
      if (job.conn.paused && job.conn.pending < o.maxPendingMessages) {
        job.conn.paused = false;
        job.conn.sock.resume();
      }
    }
    running = false;
  }

  const linkState = () => o.events.state(conns.size > 0 ? 'connected' : 'disconnected', counters);

  const server: Server = createServer((sock) => {
    const peer = sock.remoteAddress;
    if (stopped || !allowed(peer)) {
      counters.refusedPeers++;
      count('VW_ERR_MLLP_PEER_DENIED');
      log.warn({ code: 'VW_ERR_MLLP_PEER_DENIED', peer }, 'connection refused: not an allowed peer');
      sock.destroy();
      return;
    }
    if (conns.size >= o.maxConnections) {
      count('VW_ERR_LINK_LIMIT');
      log.warn({ code: 'VW_ERR_LINK_LIMIT', limit: 'maxConnections', max: o.maxConnections, peer }, 'connection refused: too many connections');
      sock.destroy();
      return;
    }
    const conn: Conn = { sock, pending: 0, paused: false };
    conns.add(conn);
    counters.connections++;
    if (counters.connections > 1) counters.reconnects++;
    sock.setNoDelay(true);
    sock.setTimeout(o.idleTimeoutMs, () => {
      count('VW_ERR_LINK_LIMIT');
      log.info({ code: 'VW_ERR_LINK_LIMIT', limit: 'idleTimeoutMs', ms: o.idleTimeoutMs, peer }, 'idle connection closed');
      sock.destroy();
    });
    const framer = createMllpFramer({ maxFrameBytes: o.maxFrameBytes });
    const sink = {
      frame(f: Buffer) {
        // A copy: the framer's view is only valid during this call, and the job waits in the queue.
        queue.push({ frame: Buffer.from(f), rxUs: rxNow, conn });
        conn.pending++;
        if (conn.pending >= o.maxPendingMessages && !conn.paused) {
          conn.paused = true;
          sock.pause();
          count('VW_ERR_LINK_LIMIT');
        }
        void run();
      },
      error(code: ErrorCode, detail: string) {
        count(code);
        counters.garbageBytes = framer.stats.garbageBytes;
        if (code === 'VW_ERR_FRAME_TOO_LARGE') {
          log.warn({ code, max: o.maxFrameBytes }, 'message too large: dropped');
          ack(conn, Buffer.alloc(0), 'AR', 'message too large');
        } else {
          log.debug({ code, detail }, 'framing problem');
        }
      },
    };
    sock.on('data', (chunk: Buffer) => {
      const t = o.nowUs();
      counters.bytes += chunk.length;
      o.events.data?.(chunk, t);
      rxNow = t;
      framer.push(chunk, sink);
    });
    sock.on('error', () => undefined); // 'close' follows
    sock.on('close', () => {
      conns.delete(conn);
      if (!stopped) linkState();
    });
    if (conns.size === 1) linkState();
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ code: 'VW_ERR_LINK_OPEN', err: err.message }, 'mllp listener error'));
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : o.port;
      log.info({ port }, 'mllp listener up');
      o.events.state('disconnected', counters);
      resolve({
        id: o.id,
        port,
        counters,
        get state() {
          return conns.size > 0 ? 'connected' : 'disconnected';
        },
        async stop() {
          stopped = true;
          const closed = new Promise<void>((res) => server.close(() => res()));
          // Messages already received are stored and acknowledged before the sockets go.
          const deadline = Date.now() + MLLP_STOP_DRAIN_MS;
          while ((running || queue.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          for (const c of conns) c.sock.destroy();
          await closed;
        },
      });
    });
  });
}
