// The MQTT broker of the central side: Aedes (MQTT 3.1.1) behind TLS (and optionally secure WebSocket), with identities
// from gateway client certificates or user passwords, deny-by-default topic ACLs (acl.ts), per-identity limits
// (limits.ts), optional Redis clustering (cluster.ts), metrics and health. This file only assembles it: one module per
// Aedes hook (hooks/), the connection set-up (connection.ts), the listeners (listeners.ts); everything that touches a
// private part of Aedes, mqtt-packet or ioredis goes through aedes-internals/. `lab` runs the same code on loopback
// TCP with authentication and ACLs off, for conformance suites only. central/central.ts builds it from the config.
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import { VitalwireError } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { createAuthThrottle } from '../lib/auth-throttle.js';
import { createLogLimiter } from '../lib/log-limiter.js';
import {
  checkTestedVersions,
  markRedeliveries,
  memoizeOfflineLookup,
  memoizeRouting,
  publishBeforeAck,
  type PublishBeforeAck,
  type PublishFn,
} from './aedes-internals/index.js';
import { retainedBeside, type RetainedStore } from './retained.js';
import { RetainedQuota } from './retained-quota.js';
import { connectRedis, redactRedisUrl, type ClusterBackend } from './cluster.js';
import { acceptStreams } from './connection.js';
import { refuseConnect, type BrokerContext } from './context.js';
import { watchBrokerEvents } from './events.js';
import { startHealthServer, type HealthReport, type HealthServer } from './health.js';
import { authenticate } from './hooks/authenticate.js';
import { authorizeForward } from './hooks/authorize-forward.js';
import { authorizePublish, type OnAccepted } from './hooks/authorize-publish.js';
import { authorizeSubscribe } from './hooks/authorize-subscribe.js';
import { preConnect } from './hooks/pre-connect.js';
import { checkLimits, ConnectionTable, DEFAULT_LIMITS, LAB_LIMITS, RateLimiter, type BrokerLimits } from './limits.js';
import { listenMqttLab, listenMqttTls, listenMqttWss, type Listener, type TlsMaterial } from './listeners.js';
import { createMetricsRegistry, newCounters, type BrokerCounters } from './metrics.js';
import type { RevocationList } from './revocation.js';
import { startRevocationRecheck } from './revocation-recheck.js';
import { createUserStore, type UserStore } from './users.js';
import { startUsersRecheck, type SubscriptionStore } from './users-recheck.js';

export { PacketSizeGuard } from './packet-guard.js';

// aedes-persistence is CommonJS whose typings declare an ES default export: loaded the way it actually exports.
const memoryPersistence = createRequire(import.meta.url)(
  'aedes-persistence',
) as typeof import('aedes-persistence').default;
export type { BrokerCounters } from './metrics.js';

export interface BrokerOptions {
  host?: string; // default '127.0.0.1'
  port?: number; // 0 = ephemeral; default 8883 (lab: 1883)
  /** PEM contents. Required except in lab mode. */
  tls?: TlsMaterial;
  users?: UserStore;
  /** Consulted for every gateway certificate at CONNECT, and again for connected ones every revocationRecheckMs. */
  revocation?: RevocationList;
  /** Default 30 s: a gateway whose certificate is revoked while connected is disconnected within this time. */
  revocationRecheckMs?: number;
  /** Default 10 s: a user removed, or whose password or scope changed, while connected is dealt with within this time. */
  usersRecheckMs?: number;
  logger?: Logger;
  limits?: Partial<BrokerLimits>;
  /** Share sessions, retained messages and traffic with other brokers on this Redis. */
  redis?: { url: string; connectTimeoutMs?: number; maxSessionDelivery?: number };
  /** Aedes broker id, unique per process in a cluster; random by default. */
  brokerId?: string;
  /** MQTT over secure WebSocket, same TLS material and policy. */
  websocket?: { host?: string; port: number; path?: string };
  /** GET /healthz and /metrics. */
  http?: { host?: string; port: number };
  /** Conformance listener: plain TCP on loopback only, no authentication, no ACLs. */
  lab?: boolean;
  /** Clock for rate limits (tests). */
  now?: () => number;
  /** An Aedes persistence to use instead of the in-memory one (tests inject slow or failing ones). */
  persistence?: object;
  /**
   * The lean paths around Aedes' publish and clean-session deliveries (aedes-internals/lean-*.ts), on unless false:
   * false only for bench/lean-paths.mjs, which measures what they save against Aedes' own in one process.
   */
  leanPaths?: boolean;
  /** Every accepted PUBLISH and Will; a QoS 1 PUBACK waits for its `done` (the central's archive: hooks/authorize-publish.ts). */
  onAccepted?: OnAccepted;
}

export interface Broker {
  aedes: Aedes;
  id: string;
  mode: 'single' | 'redis' | 'lab';
  host: string;
  port: number;
  wsPort: number | null;
  httpPort: number | null;
  counters: BrokerCounters;
  limits: Readonly<BrokerLimits>;
  metrics: Registry;
  health(): HealthReport;
  /** TCP connections open on the MQTT listeners, authenticated or not (the servers' own count). */
  openSockets(): number;
  close(): Promise<void>;
}

const SWEEP_MS = 60_000;

/** The limits a broker runs with: the lab's (MQTT 3.1.1's own bounds) or production defaults, under what was given. */
export function resolveLimits(o: Pick<BrokerOptions, 'limits' | 'lab'>): BrokerLimits {
  const limits: BrokerLimits = { ...(o.lab ? LAB_LIMITS : DEFAULT_LIMITS), ...o.limits };
  const problems = checkLimits(limits);
  if (problems.length > 0) throw new VitalwireError('VW_ERR_CONFIG', `broker limits: ${problems.join('; ')}`);
  return limits;
}

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  // The adapter patches private parts of these two: refuse to run on versions it was not tested with.
  checkTestedVersions(['aedes', 'mqtt-packet', 'mqemitter', 'aedes-persistence', 'bl']);
  const lab = opts.lab === true;
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger ?? silentLogger();
  const limits = Object.freeze(resolveLimits(opts));
  if (!lab && !opts.tls) throw new VitalwireError('VW_ERR_CONFIG', 'tls material is required unless lab mode is on');
  const brokerId = opts.brokerId ?? randomUUID();
  const mode: Broker['mode'] = lab ? 'lab' : opts.redis ? 'redis' : 'single';
  const startedAt = Date.now();

  let clearRetained: (topic: string) => void = () => undefined;
  const ctx: BrokerContext = {
    lab,
    limits,
    log,
    peerLog: createLogLimiter({ logger: log }),
    counters: newCounters(),
    users: opts.users ?? createUserStore(),
    revocation: opts.revocation,
    conns: new WeakMap(),
    live: new ConnectionTable<Client>(),
    rate: new RateLimiter(limits.publishRatePerSecond, limits.publishBurst, opts.now ?? Date.now),
    throttle: createAuthThrottle(
      {
        freeFailures: limits.authFailuresBeforeBackoff,
        baseDelayMs: limits.authBackoffBaseMs,
        maxDelayMs: limits.authBackoffMaxMs,
      },
      opts.now ?? Date.now,
    ),
    certified: new Set(),
    userClients: new Set(),
    // Deletes a topic's stored retained message; the persistence exists a few lines below, before any client.
    retained: new RetainedQuota(limits.maxRetainedPerIdentity, limits.maxRetainedBytesPerIdentity, (topic) =>
      clearRetained(topic),
    ),
  };
  const sweeper = setInterval(() => ctx.rate.sweep(), SWEEP_MS);
  sweeper.unref();
  const stopRecheck = startRevocationRecheck(ctx, opts.revocationRecheckMs ?? 30_000);

  let backend: ClusterBackend | null = null;
  if (opts.redis && !lab) {
    try {
      backend = await connectRedis(
        {
          url: opts.redis.url,
          concurrency: 100,
          connectTimeoutMs: opts.redis.connectTimeoutMs ?? 30_000,
          maxSessionDelivery: opts.redis.maxSessionDelivery ?? 1000,
        },
        (err) => log.warn({ event: 'redis_error', err: err.message }, 'redis connection error'),
      );
    } catch (err) {
      clearInterval(sweeper);
      stopRecheck();
      ctx.peerLog.close();
      throw err;
    }
    log.info({ event: 'redis', url: redactRedisUrl(opts.redis.url) }, 'sessions and traffic shared through redis');
  }

  // In memory unless a cluster (or a test) provides one; Aedes does not destroy it on close (ecosystem trap 2).
  const ownPersistence = !backend && !opts.persistence;
  const persistence = (backend?.persistence ?? opts.persistence ?? memoryPersistence()) as { destroy(): Promise<void> };
  // One broker's own in-memory sessions see every subscription change: topic lookups are remembered between changes.
  const offline = ownPersistence ? memoizeOfflineLookup(persistence) : null;
  markRedeliveries(persistence); // [MQTT-3.3.1-1]: DUP 1 on what a reconnecting session gets again
  clearRetained = (topic) => {
    (persistence as unknown as RetainedStore)
      .storeRetained({ cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 0, retain: true, dup: false })
      .catch((err: unknown) =>
        log.warn({ event: 'retained_clear_failed', topic, err: String(err) }, 'stale retained message not deleted'),
      );
  };
  const stopUsersRecheck = lab
    ? () => undefined
    : startUsersRecheck(ctx, persistence as unknown as SubscriptionStore, opts.usersRecheckMs ?? 10_000);

  // authorizePublish publishes before the PUBACK through the broker's own publish, which exists once the broker does.
  let ack: PublishBeforeAck | null = null;
  const routed: PublishFn = (packet, client, done) =>
    ack ? ack.publish(packet, client, done) : done(new Error('broker not started'));
  const publishRetained = retainedBeside(routed, persistence as unknown as RetainedStore);
  const lateAck: PublishBeforeAck = {
    // A retained message is routed like any other and stored beside it (retained.ts: issue 13's lost statuses).
    publish: (packet, client, done) =>
      packet.retain ? publishRetained(packet, client, done) : routed(packet, client, done),
    markPublished: (packet) => ack?.markPublished(packet),
  };
  const aedesOptions: AedesOptions = {
    id: brokerId,
    // The listeners' own authentication deadline (auth-deadline.ts) closes and counts first; Aedes' is a backstop.
    connectTimeout: limits.connectTimeoutMs + 1000,
    drainTimeout: limits.drainTimeoutMs,
    maxInflightInbound: limits.maxInflightInbound,
    maxClientsIdLength: limits.maxClientIdLength,
    persistence,
    ...(backend ? { mq: backend.mq } : {}),
    preConnect: preConnect(ctx),
    authenticate: authenticate(ctx),
    authorizePublish: authorizePublish(ctx, lateAck, opts.onAccepted),
    authorizeSubscribe: authorizeSubscribe(ctx),
    authorizeForward: authorizeForward(ctx),
  };

  let aedes: Aedes;
  try {
    aedes = await Aedes.createBroker(aedesOptions);
  } catch (err) {
    backend?.abort();
    await persistence.destroy().catch(() => undefined);
    clearInterval(sweeper);
    stopRecheck();
    stopUsersRecheck();
    ctx.peerLog.close();
    throw err;
  }
  const lean = opts.leanPaths !== false;
  ack = publishBeforeAck(aedes, lean ? offline : null);
  if (!backend) memoizeRouting(aedes); // the cluster's emitter routes through Redis and matches on its own
  watchBrokerEvents(ctx, aedes);
  const onStream = acceptStreams(ctx, aedes, lean);

  const onTlsError = (reason: string, fields: Record<string, unknown>): void => refuseConnect(ctx, reason, fields);
  const listeners: Listener[] = [];
  let health: HealthServer | null = null;
  const metrics = createMetricsRegistry(ctx.counters, {
    brokerId,
    ...(backend ? { busBadFrames: backend.badFrames } : {}),
  });
  let closing: Promise<void> | null = null;

  const report = (): HealthReport => ({
    status: closing || aedes.closed || (backend && !backend.ready()) ? 'unavailable' : 'ok',
    brokerId,
    mode,
    redis: backend ? (backend.ready() ? 'ready' : 'down') : 'none',
    connections: Object.values(ctx.counters.connections).reduce((a, b) => a + b, 0),
    uptimeS: Math.round((Date.now() - startedAt) / 1000),
  });

  async function close(): Promise<void> {
    clearInterval(sweeper);
    stopRecheck();
    stopUsersRecheck();
    const stopped = Promise.all(listeners.map((l) => l.close())); // stop accepting now
    await new Promise<void>((resolve) => aedes.close(() => resolve())); // closes authenticated clients, then mq
    for (const l of listeners) l.destroyAll(); // TLS handshakes in progress, connections before CONNECT
    if (backend) await backend.close().catch(() => undefined);
    else await persistence.destroy().catch(() => undefined);
    await stopped;
    await health?.close();
    ctx.peerLog.close(); // what the last interval held back
    log.info({ event: 'closed' }, 'central broker closed');
  }

  try {
    if (lab) {
      listeners.push(
        await listenMqttLab({
          host,
          port: opts.port ?? 1883,
          connectTimeoutMs: limits.connectTimeoutMs,
          onStream,
          onDeadline: onTlsError,
        }),
      );
      log.warn(
        { event: 'lab_mode', host },
        'LAB LISTENER: no authentication, no ACLs; loopback only; never carry patient data',
      );
    } else {
      const tls = opts.tls as TlsMaterial;
      const deadlines = { handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs, connectTimeoutMs: limits.connectTimeoutMs };
      listeners.push(await listenMqttTls({ host, port: opts.port ?? 8883, tls, deadlines, onStream, onTlsError }));
      if (opts.websocket) {
        listeners.push(
          await listenMqttWss({
            host: opts.websocket.host ?? host,
            port: opts.websocket.port,
            path: opts.websocket.path ?? '/mqtt',
            tls,
            deadlines,
            maxPacketBytes: limits.maxPacketBytes,
            onStream,
            onTlsError,
          }),
        );
      }
    }
    if (opts.http)
      health = await startHealthServer({
        host: opts.http.host ?? '127.0.0.1',
        port: opts.http.port,
        health: report,
        metrics,
      });
  } catch (err) {
    await (closing = close());
    throw err;
  }
  const [mqtt, ws] = listeners;
  log.info(
    {
      event: 'listening',
      mode,
      host,
      port: mqtt?.port,
      wsPort: ws?.port ?? null,
      httpPort: health?.port ?? null,
      brokerId,
    },
    'central broker listening',
  );

  return {
    aedes,
    id: brokerId,
    mode,
    host,
    port: mqtt?.port ?? 0,
    wsPort: ws?.port ?? null,
    httpPort: health?.port ?? null,
    counters: ctx.counters,
    limits,
    metrics,
    health: report,
    openSockets: () => listeners.reduce((n, l) => n + l.openSockets(), 0),
    close: () => (closing ??= close()),
  };
}
