// An MLLP listener device link (HL7 v2 over TCP; the monitor or its central station dials the gateway, default port
// 2575). The HL7 ACK is sent only after the message's payloads are durably in the outbox (commit after write): AA
// when stored, AE when storing failed (the sender retries), AR when the message cannot be decoded (do not resend it
// unchanged). A message resent after a lost ACK (same MSH-10 and bytes) is answered from the first copy, not stored
// twice. Limits per listener and connection: allowed peers, maxConnections (a new connection at the limit evicts the
// connection that has gone longest without completing a message), idleTimeoutMs, frameTimeoutMs (a message started
// must be complete within it: a peer trickling bytes cannot hold a slot), maxFrameBytes, maxPendingMessages (the
// socket is paused while that many wait for their ACK). A sender that half-closes after its last message still gets
// its ACKs. Peer-triggered events are logged through a limiter (lib/log-limiter.ts); the counters count every one.
import { createServer, type Server, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import type { Decoded } from '../../decoders/decoded.js';
import type { ErrorCode } from '../../lib/errors.js';
import { CR, createMllpFramer, FS, mllpWrap } from '../../decoders/framing/mllp.js';
import { buildAck, type AckCode } from '../../decoders/hl7/ack.js';
import type { Protocol } from '../../decoders/registry.js';
import type { Logger } from '../../lib/log.js';
import { createLogLimiter } from '../../lib/log-limiter.js';
import type { DeviceCounters, DeviceLink, LinkStateName } from '../device-link.js';
import { peerMatcher } from './peers.js';

export interface MllpListenerOptions {
  id: string;
  host: string;
  port: number;
  allowedPeers: readonly string[];
  maxFrameBytes: number;
  idleTimeoutMs: number;
  /** A message whose first byte arrived must be complete (its FS received) within this. */
  frameTimeoutMs: number;
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
    /** Resolves when the store has room for more (Outbox.room): the ACK of a stored message waits for it, so a sender
     *  near the outbox quota stops (it sends the next message only after an ACK) instead of its data being shed. */
    room?(): Promise<void>;
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
  peer: string;
  pending: number;
  paused: boolean;
  /** Messages of this connection that decoded: a proven sender, evicted only after every unproven connection. */
  good: number;
  /** When it last completed a message (or connected): the eviction order at maxConnections. */
  progressAt: number;
  /** Bytes received that are not yet part of a complete message: the frame deadline runs (unless we paused it). */
  partial: boolean;
  frameTimer: NodeJS.Timeout | null;
  /** The peer half-closed (FIN): its side is done; ours ends once every message of it is answered. */
  ended: boolean;
}

const LF = 0x0a;
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

/** Does buf[from..] hold a byte other than the CR/LF that may trail a frame? */
function hasData(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== CR && buf[i] !== LF) return true;
  return false;
}

/**
 * The connection to give up for a new one at maxConnections: the one that has gone longest without completing a
 * message, unproven senders (no decoded message yet) before proven ones; never one whose messages are being answered.
 */
function evictionCandidate(conns: Iterable<Conn>): Conn | null {
  let best: Conn | null = null;
  for (const c of conns) {
    if (c.pending > 0 || c.ended) continue;
    if (
      !best ||
      (c.good > 0 ? 1 : 0) < (best.good > 0 ? 1 : 0) ||
      (c.good > 0 === best.good > 0 && c.progressAt < best.progressAt)
    )
      best = c;
  }
  return best;
}

export function startMllpListener(o: MllpListenerOptions): Promise<MllpListener> {
  const log = o.logger.child({ device: o.id, transport: 'mllp' });
  // Everything a peer can repeat at will is logged through this: the first of each kind per interval, then a count.
  const limited = createLogLimiter({ logger: log });
  const allowed = peerMatcher(o.allowedPeers);
  const decoder = o.protocol.createDecoder();
  const ctx = { gatewayTimeUs: 0, defaultUtcOffsetMin: o.defaultUtcOffsetMin ?? 0 };
  const counters: MllpCounters = {
    frames: 0,
    badFrames: 0,
    garbageBytes: 0,
    bytes: 0,
    reconnects: 0,
    errors: {},
    acks: { AA: 0, AE: 0, AR: 0 },
    duplicates: 0,
    refusedPeers: 0,
    connections: 0,
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
    const r = buildAck(original, {
      code,
      controlId: `VW${(++ackSeq).toString(36).toUpperCase()}`,
      nowUs: o.nowUs(),
      ...(text ? { text } : {}),
    });
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
      limited.log(code, 'warn', { code }, 'message rejected');
      ack(conn, frame, 'AR', code);
      return;
    }
    conn.good++;
    for (const w of r.value.warnings) count(w.code);
    o.events.ingest(r.value, job.rxUs);
    try {
      await o.events.commit(ref);
      if (o.events.room) await o.events.room();
      ack(conn, frame, 'AA');
    } catch (err) {
      count('VW_ERR_OUTBOX_IO');
      log.error(
        { code: 'VW_ERR_OUTBOX_IO', err: err instanceof Error ? err.message : String(err) },
        'message not stored: AE sent',
      );
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
      const c = job.conn;
      c.pending--;
      if (c.ended && c.pending === 0) {
        // Every message of a half-closed sender is answered: now our side ends too.
        c.sock.end();
      } else if (c.paused && c.pending < o.maxPendingMessages) {
        c.paused = false;
        c.sock.resume();
        if (c.partial) startFrameDeadline(c);
      }
    }
    running = false;
  }

  const linkState = () => o.events.state(conns.size > 0 ? 'connected' : 'disconnected', counters);

  const limit = (name: string, fields: Record<string, unknown>, msg: string, level: 'warn' | 'info' = 'warn') => {
    count('VW_ERR_LINK_LIMIT');
    limited.log(`limit:${name}`, level, { code: 'VW_ERR_LINK_LIMIT', limit: name, ...fields }, msg);
  };

  const stopFrameDeadline = (c: Conn) => {
    if (c.frameTimer) clearTimeout(c.frameTimer);
    c.frameTimer = null;
  };
  const startFrameDeadline = (c: Conn) => {
    stopFrameDeadline(c);
    c.frameTimer = setTimeout(() => {
      c.frameTimer = null;
      limit(
        'frameTimeoutMs',
        { ms: o.frameTimeoutMs, peer: c.peer },
        'message not completed in time: connection closed',
      );
      c.sock.destroy();
    }, o.frameTimeoutMs);
    c.frameTimer.unref();
  };

  // allowHalfOpen: a sender that ends its side after its last message still reads our ACKs (issue 15).
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    const peer = sock.remoteAddress ?? '';
    if (stopped || !allowed(peer)) {
      counters.refusedPeers++;
      count('VW_ERR_MLLP_PEER_DENIED');
      limited.log(
        'VW_ERR_MLLP_PEER_DENIED',
        'warn',
        { code: 'VW_ERR_MLLP_PEER_DENIED', peer },
        'connection refused: not an allowed peer',
      );
      sock.destroy();
      return;
    }
    if (conns.size >= o.maxConnections) {
      // Refusing the newcomer would let peers that never finish a message hold every slot (slowloris): the
      // connection that has gone longest without completing one makes room, unproven senders first.
      const victim = evictionCandidate(conns);
      if (!victim) {
        limit('maxConnections', { max: o.maxConnections, peer }, 'connection refused: too many connections, all busy');
        sock.destroy();
        return;
      }
      limit(
        'maxConnections',
        { max: o.maxConnections, peer, evicted: victim.peer, provenSender: victim.good > 0 },
        'too many connections: the least active one closed for the new one',
      );
      conns.delete(victim);
      victim.sock.destroy();
    }
    const conn: Conn = {
      sock,
      peer,
      pending: 0,
      paused: false,
      good: 0,
      progressAt: performance.now(),
      partial: false,
      frameTimer: null,
      ended: false,
    };
    conns.add(conn);
    counters.connections++;
    if (counters.connections > 1) counters.reconnects++;
    sock.setNoDelay(true);
    sock.setTimeout(o.idleTimeoutMs, () => {
      limit('idleTimeoutMs', { ms: o.idleTimeoutMs, peer }, 'idle connection closed', 'info');
      sock.destroy();
    });
    const framer = createMllpFramer({ maxFrameBytes: o.maxFrameBytes });
    const sink = {
      frame(f: Buffer) {
        conn.progressAt = performance.now();
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
          limited.log(code, 'warn', { code, max: o.maxFrameBytes }, 'message too large: dropped');
          ack(conn, Buffer.alloc(0), 'AR', 'message too large');
        } else {
          limited.log(code, 'debug', { code, detail }, 'framing problem');
        }
      },
    };
    sock.on('data', (chunk: Buffer) => {
      const t = o.nowUs();
      counters.bytes += chunk.length;
      o.events.data?.(chunk, t);
      rxNow = t;
      framer.push(chunk, sink);
      // The frame deadline runs while bytes are held that no complete message accounts for: from the first byte after
      // the last FS (or of garbage), until a chunk ends a message. While we hold the socket paused, the peer is not late.
      const fs = chunk.lastIndexOf(FS);
      if (fs !== -1) {
        conn.partial = hasData(chunk, fs + 1);
        if (conn.partial) startFrameDeadline(conn);
        else stopFrameDeadline(conn);
      } else if (!conn.partial && hasData(chunk, 0)) {
        conn.partial = true;
        startFrameDeadline(conn);
      }
      if (conn.paused) stopFrameDeadline(conn);
    });
    sock.on('end', () => {
      // The peer sends nothing more: a message it left unfinished is dropped, what it finished is answered first.
      conn.ended = true;
      conn.partial = false;
      stopFrameDeadline(conn);
      framer.flush(sink);
      if (conn.pending === 0) sock.end();
    });
    sock.on('error', () => undefined); // 'close' follows
    sock.on('close', () => {
      stopFrameDeadline(conn);
      // An evicted connection left the set already; the one that replaced it may be there under the same slot.
      if (!conns.delete(conn)) return;
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
          limited.close();
        },
      });
    });
  });
}
