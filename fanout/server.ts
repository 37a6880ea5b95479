// The live fan-out service: an HTTP server with the dashboard's files and login API, and a WebSocket endpoint that
// streams the broker's Batches, unchanged, to logged-in dashboards (docs/dashboard.md). It subscribes to Aedes in
// process, so it runs inside `vitalwire central` and beside each broker of a Redis cluster.
//
// Upgrade checks, in order: path /ws, Origin (a page of another origin must not ride a user's session), subprotocol
// `vw.v1`, a valid session token in subprotocol `vw.token.<token>`, the user's connection count. Everything the
// server holds per client is bounded (hub.ts, client-queue.ts); pings find dead peers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Aedes, AedesPublishPacket } from 'aedes';
import type { Registry } from 'prom-client';
import { TLS12_CIPHERS } from '../broker/listeners.js';
import { VitalwireError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { createMemoryAuditLog, type AuditLog } from './audit.js';
import { DEFAULT_QUEUE_LIMITS } from './client-queue.js';
import { Hub, HubClient, type HubCounters, type HubLimits } from './hub.js';
import { createApi, DEFAULT_LOGIN_LIMITS, type ApiCounters, type LoginLimits } from './login.js';
import { DEFAULT_BED_LIMITS } from './beds.js';
import { parseControl } from './control.js';
import { registerFanoutMetrics } from './metrics.js';
import { createPeerLog, DEFAULT_PEER_LOG_LIMITS, type PeerLogLimits } from './peer-log.js';
import { createDenialAudit, DEFAULT_DENIAL_LIMITS, type DenialLimits } from './denial-audit.js';
import { CLOSE, SUBPROTOCOL, TOKEN_PREFIX } from './protocol.js';
import { createRecordRoutes, type RecordSource } from './records.js';
import { createRedisBackfill, type SharedBackfill } from './redis-backfill.js';
import { DEFAULT_RING_LIMITS, type RingLimits } from './ring.js';
import { createSessionIssuer, newSessionSecret, type Session, type SessionIssuer } from './session.js';
import { liveScope, lookUpUser, startUserRecheck, type UserSource } from './live-users.js';
import {
  DEFAULT_HTTP_DEADLINES,
  serverDeadlines,
  upgradeDeadline,
  watchSockets,
  type HttpDeadlines,
} from './http-deadlines.js';
import { createOpBucket, type OpRate } from './op-bucket.js';

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
  /** How often open sessions are checked against the users store (a removed user's sockets close within this). */
  userRecheckMs: number;
  login: LoginLimits;
  http: HttpDeadlines;
  /** Log lines a peer can trigger, per event (peer-log.ts). */
  peerLog: PeerLogLimits;
  /** Refused subscriptions in the audit: the first of a user's window as it happens, the rest as one entry. */
  denials: DenialLimits;
  /** Control messages per connection: a token bucket; over it, an error (VW_ERR_WS_RATE_LIMITED) that counts as a bad message. */
  controlOps: OpRate;
}

export { DEFAULT_HTTP_DEADLINES, type HttpDeadlines } from './http-deadlines.js';

export const DEFAULT_FANOUT_LIMITS: FanoutLimits = {
  queue: DEFAULT_QUEUE_LIMITS,
  sendThresholdBytes: 256 << 10,
  stuckMs: 10_000,
  maxBedsPerClient: 64,
  beds: DEFAULT_BED_LIMITS,
  backfill: { waveMs: 10_000, obsMs: 3600_000, alarmMs: 3600_000, statusItems: 1, trendBytes: 512 << 10 },
  maxClientMessageBytes: 4096,
  maxConnectionsPerUser: 8,
  maxClients: 10_000,
  pingIntervalMs: 15_000,
  maxBadMessages: 20,
  userRecheckMs: 5_000,
  login: DEFAULT_LOGIN_LIMITS,
  http: DEFAULT_HTTP_DEADLINES,
  peerLog: DEFAULT_PEER_LOG_LIMITS,
  denials: DEFAULT_DENIAL_LIMITS,
  controlOps: { perSecond: 50, burst: 200 },
};

export interface FanoutOptions {
  broker: Aedes;
  host?: string;
  port?: number;
  /** Who may log in (scrypt hashes) and what they may see (`sites`, see scope.ts); re-read as it changes. */
  users: UserSource;
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
  limits?: Partial<Omit<FanoutLimits, 'http' | 'login'>> & {
    http?: Partial<HttpDeadlines>;
    login?: Partial<LoginLimits>;
  };
  ring?: Partial<RingLimits>;
  /** Shared backfill for clustered fan-outs (Redis Streams). */
  redis?: { url: string; prefix?: string };
  /** The registry the central side exposes on its health port (GET /metrics); the fan-out's metrics go there. */
  metrics?: Registry;
  now?: () => number;
  /** The clinical record (the central's archive): the FHIR API and the dashboard's trends (records.ts). */
  records?: RecordSource;
  /**
   * Serve HTTPS and WSS with this certificate (PEM; `cert` may carry the chain) instead of plain HTTP: passwords and
   * session tokens cross the hospital network. The port then speaks TLS only.
   */
  tls?: { cert: Buffer | string; key: Buffer | string };
}

export type FanoutCounters = HubCounters &
  ApiCounters & {
    clients: number;
    refusedUpgrades: number;
    upgradeTimeouts: number;
    /** Sockets open on the HTTP port (dashboards' WebSockets included). */
    httpSockets: number;
    pongTimeouts: number;
    expired: number;
    /** Peer-triggered log lines not written (rate limit), all events. */
    logsSuppressed: number;
    /** Sockets closed because their user left the users store. */
    usersRemoved: number;
    /** Control messages refused by the per-connection rate limit. */
    rateLimited: number;
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
  pos('userRecheckMs', l.userRecheckMs);
  pos('controlOps.perSecond', l.controlOps.perSecond);
  pos('controlOps.burst', l.controlOps.burst);
  pos('denials.windowMs', l.denials.windowMs);
  for (const [k, v] of Object.entries(l.beds)) pos(`beds.${k}`, v);
  pos('stuckMs', l.stuckMs);
  pos('sendThresholdBytes', l.sendThresholdBytes);
  pos('maxBedsPerClient', l.maxBedsPerClient);
  pos('queue.maxQueuedBytes', l.queue.maxQueuedBytes);
  pos('queue.maxAlarmBacklogBytes', l.queue.maxAlarmBacklogBytes);
  pos('queue.maxMessageBytes', l.queue.maxMessageBytes);
  for (const [k, v] of Object.entries(l.http)) pos(`http.${k}`, v);
  if (l.http.headersTimeoutMs > l.http.requestTimeoutMs)
    problems.push('http.headersTimeoutMs must not exceed http.requestTimeoutMs');
  if (l.sendThresholdBytes > l.queue.maxQueuedBytes)
    problems.push('sendThresholdBytes must not exceed queue.maxQueuedBytes');
  return problems;
}

export async function startFanout(o: FanoutOptions): Promise<Fanout> {
  const log = o.logger.child({ component: 'fanout' });
  const limits: FanoutLimits = {
    ...DEFAULT_FANOUT_LIMITS,
    ...o.limits,
    http: { ...DEFAULT_HTTP_DEADLINES, ...o.limits?.http },
    login: { ...DEFAULT_LOGIN_LIMITS, ...o.limits?.login },
  };
  const problems = checkLimits(limits);
  if (problems.length > 0) throw new VitalwireError('VW_ERR_CONFIG', `fan-out limits: ${problems.join('; ')}`);
  const ringLimits: RingLimits = { ...DEFAULT_RING_LIMITS, ...o.ring };
  const now = o.now ?? Date.now;
  const topic = o.topic ?? 'vw/v1/#';
  const sessions = createSessionIssuer(o.sessionSecret ?? newSessionSecret(), o.sessionTtlMs ?? 15 * 60_000, now);
  const audit = o.audit ?? createMemoryAuditLog();
  const shared: SharedBackfill | undefined = o.redis
    ? await createRedisBackfill({
        url: o.redis.url,
        limits: ringLimits,
        ...(o.redis.prefix ? { prefix: o.redis.prefix } : {}),
      })
    : undefined;
  const peerLog = createPeerLog(log, limits.peerLog, now);
  const denials = createDenialAudit(audit, limits.denials, now);
  const hub = new Hub({
    limits,
    ring: ringLimits,
    audit,
    logger: log,
    shared,
    brokerId: o.broker.id,
    denials,
    peerLog,
    now,
  });
  const extra = {
    refusedUpgrades: 0,
    upgradeTimeouts: 0,
    pongTimeouts: 0,
    expired: 0,
    badMessages: 0,
    usersRemoved: 0,
    rateLimited: 0,
  };
  const perUser = new Map<string, number>();
  const alive = new WeakMap<HubClient, boolean>();
  const bad = new WeakMap<HubClient, number>();

  // RFC 6454 4: an origin is scheme, host and port. Over TLS only https:// pages are ours. Plain HTTP also accepts
  // https://<host>: a TLS-terminating proxy in front passes the browser's https origin with the same Host.
  const ownSchemes = o.tls ? ['https'] : ['http', 'https'];
  const sameOrigin = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser: no ambient credentials to abuse
    const host = req.headers.host ?? '';
    return ownSchemes.some((s) => origin === `${s}://${host}`) || (o.allowedOrigins ?? []).includes(origin);
  };
  const api = createApi({
    users: o.users,
    sessions,
    audit,
    logger: log,
    peerLog,
    limits: limits.login,
    sameOrigin,
    now,
  });
  const records = o.records
    ? createRecordRoutes({ source: o.records, sessions, users: o.users, logger: log, now })
    : null;

  const d = limits.http;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
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
      // RFC 6797: a browser that has seen the page over TLS never sends the password to this host in clear again.
      ...(o.tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };
  const http: Server = o.tls ? httpsServer(o.tls, d, onRequest) : createServer(serverDeadlines(d), onRequest);
  const sockets = watchSockets(http, d);

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxClientMessageBytes,
    perMessageDeflate: false, // protobuf is dense; compression would cost CPU per client
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  const STATUS_TEXT: Record<number, string> = {
    400: 'Bad Request',
    403: 'Forbidden',
    429: 'Too Many Requests',
    503: 'Service Unavailable',
  };
  const refuse = (socket: Duplex, status: number, why: string): void => {
    extra.refusedUpgrades++;
    peerLog.warn('upgrade_refused', { reason: why }, 'websocket upgrade refused');
    // Written, then the socket goes: a client that keeps its side open does not keep ours.
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nconnection: close\r\ncontent-length: 0\r\nx-vitalwire-error: ${why}\r\n\r\n`,
      () => socket.destroy(),
    );
  };

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    // The checks below are asynchronous (session, users file): the upgrade finishes by this deadline or the socket goes.
    const upgradedInTime = upgradeDeadline(socket, d.upgradeTimeoutMs, () => {
      extra.upgradeTimeouts++;
      peerLog.warn('upgrade_timeout', { ms: d.upgradeTimeoutMs }, 'websocket upgrade not finished in time');
    });
    if ((req.url ?? '').split('?')[0] !== '/ws') return refuse(socket, 400, 'path');
    if (!sameOrigin(req)) return refuse(socket, 403, 'VW_ERR_WS_ORIGIN');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!offered.includes(SUBPROTOCOL)) return refuse(socket, 400, 'subprotocol');
    const token = offered.find((p) => p.startsWith(TOKEN_PREFIX))?.slice(TOKEN_PREFIX.length) ?? '';
    if (hub.clients.size >= limits.maxClients) return refuse(socket, 503, 'max-clients');
    void (async () => {
      const granted = await sessions.verify(token);
      if (socket.destroyed) return;
      if (!granted) return refuse(socket, 403, 'VW_ERR_WS_AUTH');
      // A token signed with our key proves what was granted at login, not that the user still exists (finding 10).
      const found = await lookUpUser(o.users, granted.user);
      if (socket.destroyed) return;
      if (found.state === 'unavailable') {
        log.error({ event: 'users_unavailable', err: found.reason }, 'users store unreadable: upgrade refused');
        return refuse(socket, 503, 'users-unavailable');
      }
      if (found.state === 'removed') return refuse(socket, 403, 'VW_ERR_WS_AUTH');
      const session: Session = { ...granted, scope: liveScope(granted.scope, found.user) };
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
        upgradedInTime();
        const remote = req.socket.remoteAddress ?? '';
        const c = new HubClient(ws, session, remote, limits.queue, granted.scope);
        alive.set(c, true);
        ws.on('pong', () => alive.set(c, true));
        ws.on('message', (data: RawData, isBinary: boolean) => onControl(c, data, isBinary));
        ws.on('error', (err) =>
          peerLog.info('client_error', { err: (err as { code?: string }).code ?? 'ws' }, 'client error'),
        );
        ws.on('close', () => {
          hub.removeClient(c);
          release();
        });
        hub.addClient(c);
        log.info({ event: 'client_connected', user: session.user }, 'dashboard connected');
      });
    })().catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'session check failed');
      if (!socket.destroyed) refuse(socket, 503, 'session-check');
    });
  });

  const badMessage = (c: HubClient, reason: string, code = 'VW_ERR_WS_BAD_REQUEST'): void => {
    extra.badMessages++;
    const n = (bad.get(c) ?? 0) + 1;
    bad.set(c, n);
    hub.sendText(c, { type: 'error', code, reason });
    // Closed after the queued answers leave (the hub flushes in the same kind of turn, queued before this one).
    if (n === limits.maxBadMessages) setImmediate(() => c.ws.close(CLOSE.POLICY, 'too many bad messages'));
  };

  const admitOp = createOpBucket<HubClient>(limits.controlOps);

  function onControl(c: HubClient, data: RawData, isBinary: boolean): void {
    if (!admitOp(c, now())) {
      extra.rateLimited++;
      peerLog.warn('control_rate_limited', { user: c.session.user }, 'dashboard control messages over the rate limit');
      return badMessage(
        c,
        `more than ${limits.controlOps.perSecond} control messages per second`,
        'VW_ERR_WS_RATE_LIMITED',
      );
    }
    const op = parseControl(data, isBinary);
    if ('error' in op) return badMessage(c, op.error);
    switch (op.op) {
      case 'subscribe':
        return hub.subscribe(c, op.bed, op.streams, op.backfill);
      case 'unsubscribe':
        return hub.unsubscribe(c, op.bed);
      case 'renew':
        void (async () => {
          const s = await sessions.verify(op.token);
          if (c.closed) return;
          if (!s || s.user !== c.session.user) return badMessage(c, 'renewal token invalid or for another user');
          const found = await lookUpUser(o.users, s.user);
          if (c.closed) return;
          if (found.state === 'removed') return closeRemoved(c);
          // An unreadable users file: the token's own scope stands until the next check.
          hub.renew(c, found.state === 'found' ? { ...s, scope: liveScope(s.scope, found.user) } : s, s.scope);
        })().catch(() => badMessage(c, 'renewal failed'));
    }
  }

  const closeRemoved = (c: HubClient): void => {
    extra.usersRemoved++;
    log.info(
      { event: 'client_closed', code: 'VW_ERR_WS_USER_REMOVED', user: c.session.user },
      'user removed: dashboard closed',
    );
    hub.removeClient(c);
    c.ws.close(CLOSE.USER_REMOVED, 'user removed');
  };

  // The users store read again every userRecheckMs: removed users' sockets close, narrowed scopes drop beds.
  const stopRecheck = startUserRecheck({
    users: o.users,
    hub,
    intervalMs: limits.userRecheckMs,
    logger: log,
    onRemoved: closeRemoved,
  });

  // Liveness (ws README recipe), session expiry, ring sweep.
  let ticks = 0;
  const pingEvery = Math.max(1, Math.round(limits.pingIntervalMs / 1000));
  const housekeeping = setInterval(
    () => {
      ticks++;
      const t = now();
      for (const c of hub.clients) {
        if (t >= c.session.expiresAt) {
          extra.expired++;
          log.info(
            { event: 'client_closed', code: 'VW_ERR_WS_SESSION_EXPIRED', user: c.session.user },
            'session expired',
          );
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
      if (ticks % Math.max(1, Math.round(limits.beds.sweepMs / 1000)) === 0) hub.expireBeds();
      peerLog.flush();
      denials.flush();
    },
    Math.min(1000, limits.pingIntervalMs),
  );
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
    stopRecheck();
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
  define('httpSockets', () => sockets.open);
  define('logsSuppressed', () => peerLog.suppressed);
  define('ringBytes', () => hub.ring.totalBytes);
  const unregister = o.metrics
    ? registerFanoutMetrics(o.metrics, {
        counters: () => counters as unknown as Record<string, number>,
        deliveredByKind: () => hub.deliveredByKind(),
        beds: () => hub.bedCount,
        auditPendingBytes: () => audit.pendingBytes,
        auditAvailable: () => audit.available,
      })
    : () => undefined;

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    url: `${o.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    counters,
    server: http,
    sessions,
    audit,
    hub,
    close: () =>
      (closing ??= (async () => {
        unregister();
        await new Promise<void>((resolve) => o.broker.unsubscribe(topic, deliver, resolve));
        clearInterval(housekeeping);
        stopRecheck();
        hub.stop();
        for (const c of [...hub.clients]) {
          hub.removeClient(c);
          c.ws.terminate();
        }
        wss.close();
        denials.flush(true);
        peerLog.flush();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await shared?.close();
      })()),
  };
}

/**
 * The dashboard over TLS: the broker's protocol floor and TLS 1.2 suites (broker/listeners.ts), the same HTTP
 * deadlines, and a handshake deadline (headersTimeoutMs): Node only reports a handshake that times out or fails
 * (tlsClientError), so the socket is destroyed here, as the broker's AuthDeadlines do for MQTT.
 */
function httpsServer(
  tls: NonNullable<FanoutOptions['tls']>,
  d: HttpDeadlines,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createHttpsServer(
    {
      ...serverDeadlines(d),
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.2',
      ciphers: TLS12_CIPHERS,
      honorCipherOrder: true,
      handshakeTimeout: d.headersTimeoutMs,
    },
    onRequest,
  );
  server.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
  return server;
}
