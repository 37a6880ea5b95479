// The live fan-out service: an HTTP server with the dashboard's files and login API, and a WebSocket endpoint that
// streams the broker's Batches, unchanged, to logged-in dashboards (docs/dashboard.md). It subscribes to Aedes in
// process, so it runs inside `vitalwire central` and beside each broker of a Redis cluster.
//
// Upgrade checks, in order: path /ws, Origin (a page of another origin must not ride a user's session), subprotocol
// `vw.v1`, a valid session token in subprotocol `vw.token.<token>`, the user's connection count. Everything the
// server holds per client is bounded (hub.ts, client-queue.ts); pings find dead peers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Aedes, AedesPublishPacket } from 'aedes';
import { VitalwireError } from '../decoders/errors.js';
import type { Logger } from '../lib/log.js';
import type { UserStore } from '../broker/users.js';
import { createMemoryAuditLog, type AuditLog } from './audit.js';
import { DEFAULT_QUEUE_LIMITS } from './client-queue.js';
import { Hub, HubClient, type HubCounters, type HubLimits } from './hub.js';
import { createApi, DEFAULT_LOGIN_LIMITS, type ApiCounters, type LoginLimits } from './login.js';
import { parseControl } from './control.js';
import { CLOSE, SUBPROTOCOL, TOKEN_PREFIX } from './protocol.js';
import { createRecordRoutes, type RecordSource } from './records.js';
import { createRedisBackfill, type SharedBackfill } from './redis-backfill.js';
import { DEFAULT_RING_LIMITS, type RingLimits } from './ring.js';
import { createSessionIssuer, newSessionSecret, type SessionIssuer } from './session.js';

export interface Asset {
  body: Buffer;
  type: string;
}

export interface FanoutLimits extends HubLimits {
  /** Largest message a client may send (control JSON); more closes it with 1009. */
  maxClientMessageBytes: number;
  maxConnectionsPerUser: number;
  maxClients: number;
  /** A client that has not answered the previous ping by the next one is terminated. */
  pingIntervalMs: number;
  /** Malformed control messages tolerated per connection before it is closed (1008). */
  maxBadMessages: number;
  login: LoginLimits;
}

export const DEFAULT_FANOUT_LIMITS: FanoutLimits = {
  queue: DEFAULT_QUEUE_LIMITS,
  sendThresholdBytes: 256 << 10,
  stuckMs: 10_000,
  maxBedsPerClient: 64,
  maxBeds: 4096,
  backfill: { waveMs: 10_000, obsMs: 3600_000, alarmMs: 3600_000, statusItems: 1, trendBytes: 512 << 10 },
  maxClientMessageBytes: 4096,
  maxConnectionsPerUser: 8,
  maxClients: 10_000,
  pingIntervalMs: 15_000,
  maxBadMessages: 20,
  login: DEFAULT_LOGIN_LIMITS,
};

export interface FanoutOptions {
  broker: Aedes;
  host?: string;
  port?: number;
  /** Who may log in (scrypt hashes) and what they may see (`sites`, see scope.ts). */
  users: Pick<UserStore, 'get' | 'verify'>;
  /** HS256 key for session tokens, shared by every fan-out of a cluster; random per process when absent. */
  sessionSecret?: Uint8Array;
  sessionTtlMs?: number;
  /** The access audit; an in-memory one when absent. */
  audit?: AuditLog;
  /** Static files served over HTTP (the dashboard bundle), keyed by URL path. */
  assets?: Map<string, Asset>;
  logger: Logger;
  /** Topic filter subscribed in the broker. */
  topic?: string;
  /** Origins allowed besides the server's own (e.g. a reverse proxy's public name). */
  allowedOrigins?: readonly string[];
  limits?: Partial<FanoutLimits>;
  ring?: Partial<RingLimits>;
  /** Shared backfill for clustered fan-outs (Redis Streams). */
  redis?: { url: string; prefix?: string };
  now?: () => number;
  /** The clinical record (the central's archive): the FHIR API and the dashboard's trends (records.ts). */
  records?: RecordSource;
}

export type FanoutCounters = HubCounters & ApiCounters & {
  clients: number;
  refusedUpgrades: number;
  pongTimeouts: number;
  expired: number;
  badMessages: number;
  ringBytes: number;
};

export interface Fanout {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly counters: FanoutCounters;
  readonly server: Server;
  readonly sessions: SessionIssuer;
  readonly audit: AuditLog;
  readonly hub: Hub;
  close(): Promise<void>;
}

function checkLimits(l: FanoutLimits): string[] {
  const problems: string[] = [];
  const pos = (name: string, v: number): void => {
    if (!(Number.isFinite(v) && v > 0)) problems.push(`${name} must be a positive number, got ${String(v)}`);
  };
  pos('maxClientMessageBytes', l.maxClientMessageBytes);
  pos('maxConnectionsPerUser', l.maxConnectionsPerUser);
  pos('maxClients', l.maxClients);
  pos('pingIntervalMs', l.pingIntervalMs);
  pos('stuckMs', l.stuckMs);
  pos('sendThresholdBytes', l.sendThresholdBytes);
  pos('maxBedsPerClient', l.maxBedsPerClient);
  pos('queue.maxQueuedBytes', l.queue.maxQueuedBytes);
  pos('queue.maxAlarmBacklogBytes', l.queue.maxAlarmBacklogBytes);
  pos('queue.maxMessageBytes', l.queue.maxMessageBytes);
  if (l.sendThresholdBytes > l.queue.maxQueuedBytes) problems.push('sendThresholdBytes must not exceed queue.maxQueuedBytes');
  return problems;
}

export async function startFanout(o: FanoutOptions): Promise<Fanout> {
  const log = o.logger.child({ component: 'fanout' });
  const limits: FanoutLimits = { ...DEFAULT_FANOUT_LIMITS, ...o.limits };
  const problems = checkLimits(limits);
  if (problems.length > 0) throw new VitalwireError('VW_ERR_CONFIG', `fan-out limits: ${problems.join('; ')}`);
  const ringLimits: RingLimits = { ...DEFAULT_RING_LIMITS, ...o.ring };
  const now = o.now ?? Date.now;
  const topic = o.topic ?? 'vw/v1/#';
  const sessions = createSessionIssuer(o.sessionSecret ?? newSessionSecret(), o.sessionTtlMs ?? 15 * 60_000, now);
  const audit = o.audit ?? createMemoryAuditLog();
  const shared: SharedBackfill | undefined = o.redis
    ? await createRedisBackfill({ url: o.redis.url, limits: ringLimits, ...(o.redis.prefix ? { prefix: o.redis.prefix } : {}) })
    : undefined;
  const hub = new Hub({ limits, ring: ringLimits, audit, logger: log, shared, brokerId: o.broker.id, now });
  const extra = { refusedUpgrades: 0, pongTimeouts: 0, expired: 0, badMessages: 0 };
  const perUser = new Map<string, number>();
  const alive = new WeakMap<HubClient, boolean>();
  const bad = new WeakMap<HubClient, number>();

  const sameOrigin = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser: no ambient credentials to abuse
    const host = req.headers.host ?? '';
    return origin === `http://${host}` || origin === `https://${host}` || (o.allowedOrigins ?? []).includes(origin);
  };
  const api = createApi({ users: o.users, sessions, audit, logger: log, limits: limits.login, sameOrigin, now });
  const records = o.records ? createRecordRoutes({ source: o.records, sessions, logger: log, now }) : null;

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (api.handle(req, res, path)) return;
    if (records?.handle(req, res, path)) return;
    const asset = req.method === 'GET' || req.method === 'HEAD' ? o.assets?.get(path) : undefined;
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxClientMessageBytes,
    perMessageDeflate: false, // protobuf is dense; compression would cost CPU per client
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };
  const refuse = (socket: Duplex, status: number, why: string): void => {
    extra.refusedUpgrades++;
    log.warn({ event: 'upgrade_refused', reason: why }, 'websocket upgrade refused');
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nconnection: close\r\ncontent-length: 0\r\nx-vitalwire-error: ${why}\r\n\r\n`);
  };

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if ((req.url ?? '').split('?')[0] !== '/ws') return refuse(socket, 400, 'path');
    if (!sameOrigin(req)) return refuse(socket, 403, 'VW_ERR_WS_ORIGIN');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!offered.includes(SUBPROTOCOL)) return refuse(socket, 400, 'subprotocol');
    const token = offered.find((p) => p.startsWith(TOKEN_PREFIX))?.slice(TOKEN_PREFIX.length) ?? '';
    if (hub.clients.size >= limits.maxClients) return refuse(socket, 503, 'max-clients');
    sessions.verify(token).then((session) => {
      if (socket.destroyed) return;
      if (!session) return refuse(socket, 403, 'VW_ERR_WS_AUTH');
      const n = perUser.get(session.user) ?? 0;
      if (n >= limits.maxConnectionsPerUser) return refuse(socket, 429, 'VW_ERR_WS_CONN_LIMIT');
      perUser.set(session.user, n + 1);
      let upgraded = false;
      const release = (): void => {
        const left = (perUser.get(session.user) ?? 1) - 1;
        if (left > 0) perUser.set(session.user, left);
        else perUser.delete(session.user);
      };
      socket.once('close', () => {
        if (!upgraded) release();
      });
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        upgraded = true;
        const remote = req.socket.remoteAddress ?? '';
        const c = new HubClient(ws, session, remote, limits.queue);
        alive.set(c, true);
        ws.on('pong', () => alive.set(c, true));
        ws.on('message', (data: RawData, isBinary: boolean) => onControl(c, data, isBinary));
        ws.on('error', (err) => log.info({ err: (err as { code?: string }).code ?? 'ws' }, 'client error'));
        ws.on('close', () => {
          hub.removeClient(c);
          release();
        });
        hub.addClient(c);
        log.info({ event: 'client_connected', user: session.user }, 'dashboard connected');
      });
    }, (err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'session check failed');
      refuse(socket, 503, 'session-check');
    });
  });

  const badMessage = (c: HubClient, reason: string): void => {
    extra.badMessages++;
    const n = (bad.get(c) ?? 0) + 1;
    bad.set(c, n);
    hub.sendText(c, { type: 'error', code: 'VW_ERR_WS_BAD_REQUEST', reason });
    if (n >= limits.maxBadMessages) c.ws.close(CLOSE.POLICY, 'too many bad messages');
  };

  function onControl(c: HubClient, data: RawData, isBinary: boolean): void {
    const op = parseControl(data, isBinary);
    if ('error' in op) return badMessage(c, op.error);
    switch (op.op) {
      case 'subscribe':
        return hub.subscribe(c, op.bed, op.streams, op.backfill);
      case 'unsubscribe':
        return hub.unsubscribe(c, op.bed);
      case 'renew':
        sessions.verify(op.token).then((s) => {
          if (c.closed) return;
          if (!s || s.user !== c.session.user) return badMessage(c, 'renewal token invalid or for another user');
          hub.renew(c, s);
        }, () => badMessage(c, 'renewal failed'));
    }
  }

  // Liveness (ws README recipe), session expiry, ring sweep.
  let ticks = 0;
  const pingEvery = Math.max(1, Math.round(limits.pingIntervalMs / 1000));
  const housekeeping = setInterval(() => {
    ticks++;
    const t = now();
    for (const c of hub.clients) {
      if (t >= c.session.expiresAt) {
        extra.expired++;
        log.info({ event: 'client_closed', code: 'VW_ERR_WS_SESSION_EXPIRED', user: c.session.user }, 'session expired');
        hub.removeClient(c);
        c.ws.close(CLOSE.SESSION_EXPIRED, 'session expired');
        continue;
      }
      if (ticks % pingEvery !== 0) continue;
      if (alive.get(c) === false) {
        extra.pongTimeouts++;
        hub.removeClient(c);
        c.ws.terminate();
        continue;
      }
      alive.set(c, false);
      c.ws.ping();
    }
    if (ticks % 60 === 0) hub.sweep();
  }, Math.min(1000, limits.pingIntervalMs));
  housekeeping.unref();

  // In-process subscription: the payload Buffer is the gateway's bytes, forwarded as is.
  const deliver = (packet: AedesPublishPacket, cb: () => void): void => {
    const p = packet.payload;
    hub.publish(packet.topic, Buffer.isBuffer(p) ? p : Buffer.from(p), (packet as { brokerId?: string }).brokerId);
    cb();
  };
  await new Promise<void>((resolve) => o.broker.subscribe(topic, deliver, resolve));

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => o.broker.unsubscribe(topic, deliver, resolve));
    hub.stop();
    clearInterval(housekeeping);
    await shared?.close();
    throw err;
  }
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const host = o.host ?? '127.0.0.1';

  const counters = {} as FanoutCounters;
  const define = (name: string, get: () => number): void => {
    Object.defineProperty(counters, name, { get, enumerable: true });
  };
  for (const k of Object.keys(hub.counters) as (keyof HubCounters)[]) define(k, () => hub.snapshot()[k]);
  for (const k of Object.keys(api.counters) as (keyof ApiCounters)[]) define(k, () => api.counters[k]);
  for (const k of Object.keys(extra) as (keyof typeof extra)[]) define(k, () => extra[k]);
  define('clients', () => hub.clients.size);
  define('ringBytes', () => hub.ring.totalBytes);

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    counters,
    server: http,
    sessions,
    audit,
    hub,
    close: () => (closing ??= (async () => {
      await new Promise<void>((resolve) => o.broker.unsubscribe(topic, deliver, resolve));
      clearInterval(housekeeping);
      hub.stop();
      for (const c of [...hub.clients]) {
        hub.removeClient(c);
        c.ws.terminate();
      }
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await shared?.close();
    })()),
  };
}
