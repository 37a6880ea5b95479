// The central broker: Aedes (MQTT 3.1.1) behind TLS (and optionally secure WebSocket), with identities from gateway
// client certificates or user passwords, deny-by-default topic ACLs (acl.ts), per-identity limits (limits.ts),
// optional Redis clustering (cluster.ts), metrics and health (metrics.ts, health.ts). This file binds policy to
// connections; the rules themselves live in those modules. `--lab` runs the same code on loopback TCP with
// authentication and ACLs off, for conformance suites only.
import { Aedes, type AedesOptions, type Client, type ConnectPacket, type Subscription } from 'aedes';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import { VitalwireError, type ErrorCode } from '../decoders/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { canPublish, canSubscribe, describeIdentity, type Identity } from './acl.js';
import { connectRedis, redactRedisUrl, type ClusterBackend } from './cluster.js';
import { startHealthServer, type HealthReport, type HealthServer } from './health.js';
import { checkLimits, ConnectionTable, DEFAULT_LIMITS, RateLimiter, type BrokerLimits } from './limits.js';
import { listenMqttLab, listenMqttTls, listenMqttWss, type Listener, type TlsMaterial } from './listeners.js';
import { bump, createMetricsRegistry, newCounters, type CentralCounters, type ConnectionRole } from './metrics.js';
import { CONNACK_UNACCEPTABLE_PROTOCOL, connectProtocolLevel, MQTT_PUBLISH, PacketSizeGuard } from './packet-guard.js';
import type { RevocationList } from './revocation.js';
import { createUserStore, type UserStore } from './users.js';
import { coalesceWrites, effectiveQos, installNonBlockingDrain, installPublishOnce } from './aedes-internals/staged-writes.js';
import { installFastParse, type MqttParser } from './aedes-internals/fast-parse.js';
import { identify, identityKey, Refusal, RC_NOT_AUTHORIZED, RC_SERVER_UNAVAILABLE, RC_IDENTIFIER_REJECTED, roleOf, willOwner } from './identity.js';

export { PacketSizeGuard } from './packet-guard.js';
export { topicMatches } from './aedes-internals/staged-writes.js';
export type { CentralCounters } from './metrics.js';

export interface CentralOptions {
  host?: string; // default '127.0.0.1'
  port?: number; // 0 = ephemeral; default 8883
  /** PEM contents. Required except in lab mode. */
  tls?: TlsMaterial;
  users?: UserStore;
  /** Consulted for every gateway certificate at CONNECT, and again for connected ones every revocationRecheckMs. */
  revocation?: RevocationList;
  /** Default 30 s: a gateway whose certificate is revoked while connected is disconnected within this time. */
  revocationRecheckMs?: number;
  logger?: Logger;
  limits?: Partial<BrokerLimits>;
  /** @deprecated kept for callers of the first version: same as limits.maxPacketBytes */
  maxPacketBytes?: number;
  /** @deprecated same as limits.tlsHandshakeTimeoutMs */
  tlsHandshakeTimeoutMs?: number;
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
}

export interface Central {
  broker: Aedes;
  id: string;
  mode: 'single' | 'redis' | 'lab';
  host: string;
  port: number;
  wsPort: number | null;
  httpPort: number | null;
  counters: CentralCounters;
  limits: Readonly<BrokerLimits>;
  metrics: Registry;
  health(): HealthReport;
  close(): Promise<void>;
}

export const DEFAULT_MAX_PACKET_BYTES = DEFAULT_LIMITS.maxPacketBytes;

const SWEEP_MS = 60_000;

/** Per-connection state, created when a stream is handed to Aedes. */
interface Conn {
  stream: Duplex;
  tls: TLSSocket | null;
  remote: string | undefined;
  connect: { clientId: string; clean: boolean; keepalive: number; willTopic: string | null } | null;
  identity: Identity | null;
  /** The last topic this connection was allowed to publish on: ACLs are a pure function of identity and topic, and a
   *  gateway publishes on a handful of topics, so the check is skipped for a repeat. */
  allowedTopic: string | null;
  /** Serial of the gateway certificate the identity came from, for the revocation re-check. */
  certSerial: string | null;
  key: string;
  role: ConnectionRole | null;
  /** CONNACK sent and the stored session restored: live deliveries stop waiting for the socket to drain. */
  ready: boolean;
  oversized: boolean;
  timers: { drain: NodeJS.Timeout | null };
  closedBy: string | null;
}

export function resolveLimits(o: CentralOptions): BrokerLimits {
  const limits: BrokerLimits = {
    ...DEFAULT_LIMITS,
    ...(o.maxPacketBytes !== undefined ? { maxPacketBytes: o.maxPacketBytes } : {}),
    ...(o.tlsHandshakeTimeoutMs !== undefined ? { tlsHandshakeTimeoutMs: o.tlsHandshakeTimeoutMs } : {}),
    ...o.limits,
  };
  const problems = checkLimits(limits);
  if (problems.length > 0) throw new VitalwireError('VW_ERR_CONFIG', `broker limits: ${problems.join('; ')}`);
  return limits;
}

export async function startCentral(opts: CentralOptions): Promise<Central> {
  const lab = opts.lab === true;
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger ?? silentLogger();
  const users = opts.users ?? createUserStore();
  const limits = Object.freeze(resolveLimits(opts));
  if (!lab && !opts.tls) throw new VitalwireError('VW_ERR_CONFIG', 'tls material is required unless lab mode is on');
  const now = opts.now ?? Date.now;
  const brokerId = opts.brokerId ?? randomUUID();
  const mode: Central['mode'] = lab ? 'lab' : opts.redis ? 'redis' : 'single';
  const startedAt = Date.now();

  const counters = newCounters();
  // Weak: a Conn must outlive its socket's 'close' long enough for the client's Will to be checked against it.
  const conns = new WeakMap<Client, Conn>();
  const live = new ConnectionTable<Client>();
  const rate = new RateLimiter(limits.publishRatePerSecond, limits.publishBurst, now);
  const sweeper = setInterval(() => rate.sweep(), SWEEP_MS);
  sweeper.unref();
  /** Connected gateways, by certificate: re-checked against the revocation list. */
  const certified = new Set<Client>();

  const who = (c: Conn | undefined): string => (c?.identity ? describeIdentity(c.identity) : 'unauthenticated');

  function refuseConnect(reason: string, fields: Record<string, unknown>): void {
    bump(counters.refusedConnects, reason);
    log.warn({ event: 'connect_refused', reason, ...fields }, 'connection refused');
  }

  /** Closes a connection after CONNACK, counting and logging why (MQTT 3.1.1 cannot tell the client). */
  function disconnect(client: Client, c: Conn, reason: string, code: ErrorCode): void {
    if (c.closedBy !== null) return;
    c.closedBy = reason;
    bump(counters.disconnects, reason);
    log.warn({ event: 'disconnected', reason, code, identity: who(c), clientId: client.id }, 'connection closed by the broker');
    c.stream.destroy();
  }

  /**
   * A certificate revoked while its gateway is connected: the connection is closed at the next re-check rather than
   * at its next reconnect, which for a healthy gateway may be weeks away. A list that cannot be read leaves the
   * connections admitted under the last good one (new connects are refused, fail closed) and is logged.
   */
  let rechecking = false;
  async function recheckRevocations(): Promise<void> {
    const list = opts.revocation;
    if (!list || rechecking) return;
    rechecking = true;
    try {
      for (const client of [...certified]) {
        const c = conns.get(client);
        if (!c?.certSerial || c.closedBy !== null) continue;
        const revoked = await list.isRevoked(c.certSerial);
        // The client may have gone on its own while the list was read: then it was not the broker that closed it.
        if (revoked && certified.has(client) && !c.stream.destroyed) disconnect(client, c, 'certificate-revoked', 'VW_ERR_CERT_REVOKED');
      }
    } catch (err) {
      log.warn({ event: 'revocation_recheck_failed', err: (err as Error).message }, 'revocation list unreadable; connected gateways kept');
    } finally {
      rechecking = false;
    }
  }
  const revocationTimer = opts.revocation ? setInterval(() => void recheckRevocations(), opts.revocationRecheckMs ?? 30_000) : null;
  revocationTimer?.unref();

  async function admit(client: Client, c: Conn, username: string | undefined, password: Buffer | undefined): Promise<Identity> {
    const p = c.connect;
    if (!p) throw new Refusal('VW_ERR_PROTOCOL', RC_NOT_AUTHORIZED, 'no-connect');
    // [MQTT-3.1.3-8]: a zero-byte ClientId with CleanSession 0 MUST get CONNACK 0x02 and the connection closed.
    // Aedes assigns a random id instead, so the rule is enforced here.
    if (p.clientId === '' && !p.clean) throw new Refusal('VW_ERR_PROTOCOL', RC_IDENTIFIER_REJECTED, 'empty-client-id-persistent');
    if (p.clientId.length > limits.maxClientIdLength) throw new Refusal('VW_ERR_PROTOCOL', RC_IDENTIFIER_REJECTED, 'client-id-too-long');
    if (p.keepalive < limits.keepAliveMinSeconds || p.keepalive > limits.keepAliveMaxSeconds) {
      throw new Refusal('VW_ERR_PROTOCOL', RC_NOT_AUTHORIZED, 'keepalive-out-of-bounds');
    }
    const id: Identity = lab ? { kind: 'lab', clientId: client.id } : await identify({ users, revocation: opts.revocation }, c.tls, client, c.connect?.clientId, username, password);
    // [MQTT-1.5.3-2] a U+0000 in the Will Topic; otherwise the Will obeys the publisher's ACL like any publish.
    if (p.willTopic !== null && !canPublish(id, p.willTopic)) throw new Refusal('VW_ERR_ACL_DENIED', RC_NOT_AUTHORIZED, 'will-denied');
    const key = identityKey(id);
    // A connection with the same client id is about to be taken over and does not count against the limit.
    if (live.count(key, (other) => other.id === client.id) >= limits.maxConnectionsPerIdentity) {
      throw new Refusal('VW_ERR_CONN_LIMIT', RC_SERVER_UNAVAILABLE, 'too-many-connections');
    }
    return id;
  }

  function bind(client: Client, c: Conn, id: Identity): void {
    c.identity = id;
    c.key = identityKey(id);
    c.role = roleOf(id);
    if (id.kind === 'gateway' && c.tls) {
      c.certSerial = c.tls.getPeerCertificate().serialNumber ?? null;
      certified.add(client);
    }
    live.add(c.key, client);
    counters.connections[c.role]++;
  }

  function unbind(client: Client, c: Conn): void {
    if (c.timers.drain) clearTimeout(c.timers.drain);
    c.timers.drain = null;
    certified.delete(client);
    if (c.role === null) return;
    live.delete(c.key, client);
    counters.connections[c.role]--;
    c.role = null;
  }

  function refusePublish(c: Conn | undefined, topic: string, reason: string): void {
    bump(counters.refusedPublishes, reason);
    log.warn({ event: 'publish_refused', identity: who(c), topic, reason }, 'publish refused');
  }

  let backend: ClusterBackend | null = null;
  if (opts.redis && !lab) {
    backend = await connectRedis({
      url: opts.redis.url,
      concurrency: 100,
      connectTimeoutMs: opts.redis.connectTimeoutMs ?? 30_000,
      maxSessionDelivery: opts.redis.maxSessionDelivery ?? 1000,
    }, (err) => log.warn({ event: 'redis_error', err: err.message }, 'redis connection error'));
    log.info({ event: 'redis', url: redactRedisUrl(opts.redis.url) }, 'sessions and traffic shared through redis');
  }

  const aedesOptions: AedesOptions = {
    id: brokerId,
    connectTimeout: limits.connectTimeoutMs,
    drainTimeout: limits.drainTimeoutMs,
    maxInflightInbound: limits.maxInflightInbound,
    maxClientsIdLength: limits.maxClientIdLength,
    ...(backend ? { mq: backend.mq, persistence: backend.persistence } : opts.persistence ? { persistence: opts.persistence } : {}),

    preConnect(client: Client, packet: ConnectPacket, callback) {
      const c = conns.get(client);
      if (c) {
        c.connect = {
          clientId: packet.clientId ?? '',
          clean: packet.clean !== false,
          keepalive: packet.keepalive ?? 0,
          willTopic: packet.will ? packet.will.topic : null,
        };
      }
      callback(null, true);
    },

    authenticate(client, username, password, callback) {
      const c = conns.get(client);
      if (!c) return callback(Object.assign(new Error('unknown connection'), { returnCode: RC_NOT_AUTHORIZED as 5 }), false);
      admit(client, c, username, password).then((id) => {
        if (c.closedBy !== null || client.closed || c.stream.destroyed) return callback(null, false);
        bind(client, c, id);
        callback(null, true);
      }, (err: unknown) => {
        const r = err instanceof Refusal ? err : new Refusal('VW_ERR_AUTH_FAILED', RC_NOT_AUTHORIZED, 'internal-error');
        refuseConnect(r.reason, { code: r.code, clientId: client.id, user: username, remote: c.remote });
        callback(r as Refusal & { returnCode: 2 | 3 | 4 | 5 }, false);
      });
    },

    authorizePublish(client, packet, callback) {
      if (!client) {
        // A Will of a client whose broker died, published by a surviving broker: same rules as at connect.
        const owner = willOwner(packet, lab, users);
        if (owner && canPublish(owner, packet.topic)) return callback(null);
        refusePublish(undefined, packet.topic, 'will-denied');
        return callback(new VitalwireError('VW_ERR_ACL_DENIED', 'will-denied'));
      }
      const c = conns.get(client);
      const id = c?.identity;
      if (!c || !id) {
        refusePublish(c, packet.topic, 'no-identity');
        return callback(new VitalwireError('VW_ERR_ACL_DENIED', 'no identity'));
      }
      if (client.closed) {
        // The client's own Will, published as its connection ends ([MQTT-3.1.2-8]); checked again, never rate-limited.
        if (canPublish(id, packet.topic)) return callback(null);
        refusePublish(c, packet.topic, 'will-denied');
        return callback(new VitalwireError('VW_ERR_ACL_DENIED', 'will-denied'));
      }
      let reason: string | null = null;
      let code: ErrorCode = 'VW_ERR_ACL_DENIED';
      if (c.oversized) {
        reason = 'packet-too-large';
        code = 'VW_ERR_PACKET_TOO_LARGE';
      } else if (packet.topic !== c.allowedTopic && !canPublish(id, packet.topic)) {
        reason = packet.retain ? 'retained-topic-not-allowed' : 'topic-not-allowed';
      } else if (!rate.allow(c.key)) {
        reason = 'publish-rate-exceeded';
        code = 'VW_ERR_RATE_LIMITED';
      }
      if (reason === null) {
        c.allowedTopic = packet.topic;
        counters.messagesIn++;
        if (packet.qos !== 1) return callback(null);
        // [MQTT-4.3.2-2]: the receiver PUBACKs "having accepted ownership of the Application Message". Aedes writes
        // the PUBACK first and stores and routes the message one turn later, so a crash in between loses a message
        // its sender believes delivered. Here it is stored and routed first; Aedes then PUBACKs and its own publish
        // call for this packet is skipped (see publishOnce below). A failed store closes the connection unacked, so
        // the sender retransmits.
        return publishRaw(packet, client, (err?: Error) => {
          if (err) return callback(err);
          markPublished(packet);
          callback(null);
        });
      }
      refusePublish(c, packet.topic, reason);
      // MQTT 3.1.1 has no negative PUBACK [MQTT-3.3.5-2]: Aedes closes the connection on this error.
      disconnect(client, c, reason, code);
      callback(new VitalwireError(code, reason));
    },

    authorizeSubscribe(client, sub: Subscription, callback) {
      const c = conns.get(client);
      if (sub.topic.includes('\u0000')) {
        // [MQTT-1.5.3-2]: a string with U+0000 MUST close the connection; Aedes' filter check lets it through.
        bump(counters.refusedSubscribes, 'protocol-violation');
        if (c) disconnect(client, c, 'protocol-violation', 'VW_ERR_PROTOCOL');
        return callback(new VitalwireError('VW_ERR_PROTOCOL', 'U+0000 in a topic filter [MQTT-1.5.3-2]'));
      }
      const id = c?.identity;
      let reason: string | null = null;
      if (!id || !canSubscribe(id, sub.topic)) reason = 'topic-not-allowed';
      else {
        const subs = (client as unknown as { subscriptions: Record<string, unknown> }).subscriptions;
        if (!(sub.topic in subs) && Object.keys(subs).length >= limits.maxSubscriptionsPerClient) reason = 'too-many-subscriptions';
      }
      if (reason === null) return callback(null, sub);
      bump(counters.refusedSubscribes, reason);
      log.warn({ event: 'subscribe_refused', identity: who(c), filter: sub.topic, reason }, 'subscribe refused');
      callback(null, null); // SUBACK return code 0x80 for this filter [MQTT-3.9.3-2]; the connection stays up
    },

    authorizeForward(client, packet) {
      const c = conns.get(client);
      // A slow subscriber: its unsent bytes passed the limit. QoS 0 may be dropped (at most once); a QoS 1 or 2
      // message may not [MQTT-4.3.2], so the subscriber is disconnected instead and a persistent session keeps the
      // message queued for its return. Either way no other subscriber waits for it.
      if (c?.ready && c.stream.writableLength > limits.maxBufferedBytesPerClient) {
        if (effectiveQos(client, packet.topic, packet.qos) === 0) {
          bump(counters.queueDrops, 'buffer-full');
          return null;
        }
        disconnect(client, c, 'slow-consumer', 'VW_ERR_SLOW_CONSUMER');
        return packet;
      }
      counters.messagesOut++;
      return packet;
    },
  };

  let broker: Aedes;
  try {
    broker = await Aedes.createBroker(aedesOptions);
  } catch (err) {
    backend?.abort();
    throw err;
  }
  const { publishRaw, markPublished } = installPublishOnce(broker);
  broker.on('clientReady', (client) => {
    const c = conns.get(client);
    if (c) c.ready = true;
    counters.connects++;
    log.info({ event: 'connected', identity: who(c), clientId: client.id, remote: c?.remote }, 'client connected');
  });
  broker.on('clientError', (client, err) => {
    const c = conns.get(client);
    if (err.message === 'drain timeout' && c && c.closedBy === null) {
      c.closedBy = 'drain-timeout';
      bump(counters.disconnects, 'drain-timeout');
      log.warn({ event: 'disconnected', reason: 'drain-timeout', code: 'VW_ERR_SLOW_CONSUMER', identity: who(c), clientId: client.id }, 'connection closed by the broker');
    }
    log.debug({ event: 'client_error', identity: who(c), clientId: client.id, err: err.message }, 'client error');
  });
  broker.on('connectionError', (_client, err) => log.debug({ event: 'connection_error', err: err.message }, 'connection error'));
  (broker as unknown as NodeJS.EventEmitter).on('error', (err: Error) => log.error({ event: 'broker_error', err: err.message }, 'broker error'));

  /** Hands one stream to Aedes with the byte guard and the slow-subscriber policy around it. */
  function onStream(stream: Duplex, tls: TLSSocket | null): void {
    // TLS sockets only: a ws stream's writes complete asynchronously, so a destroy right after a corked CONNACK
    // (Aedes refusing a connection) would drop it; and browsers' low rates gain nothing from it.
    if (tls !== null && stream === tls) coalesceWrites(stream);
    const client = broker.handle(stream);
    installFastParse((client as unknown as { _parser: MqttParser })._parser);
    const c: Conn = {
      stream, tls, remote: tls?.remoteAddress ?? (stream as { remoteAddress?: string }).remoteAddress,
      connect: null, identity: null, allowedTopic: null, certSerial: null, key: '', role: null, ready: false, oversized: false, timers: { drain: null }, closedBy: null,
    };
    conns.set(client, c);
    stream.once('close', () => unbind(client, c));

    const timers = { drain: null as NodeJS.Timeout | null };
    c.timers = timers;
    installNonBlockingDrain(client, stream, {
      live: () => c.ready, drainTimeoutMs: limits.drainTimeoutMs, timers,
      onTimeout: () => disconnect(client, c, 'drain-timeout', 'VW_ERR_SLOW_CONSUMER'),
    });

    // Aedes reads with read() on 'readable'; a 'data' listener beside it sees each chunk just before the parser does
    // and does not switch the stream to flowing mode.
    const guard = new PacketSizeGuard(limits.maxPacketBytes);
    let first = true;
    const onData = (chunk: Buffer): void => {
      if (first) {
        first = false;
        const level = connectProtocolLevel(chunk);
        // [MQTT-3.1.2-2]: an unsupported Protocol Level gets CONNACK 0x01, then the close. mqtt-packet would only
        // close (levels other than 3, 4, 5); Aedes itself answers 5 correctly. 128+ marks a bridge.
        if (level !== null && ![3, 4, 5].includes(level & 0x7f)) {
          refuseConnect('unacceptable-protocol-level', { remote: c.remote, level });
          stream.write(CONNACK_UNACCEPTABLE_PROTOCOL);
          stream.end();
          return;
        }
      }
      const verdict = guard.push(chunk);
      if (verdict === null) return;
      stream.off('data', onData);
      c.oversized = true;
      if (verdict === 'malformed') {
        disconnect(client, c, 'malformed-remaining-length', 'VW_ERR_PROTOCOL');
        return;
      }
      if (verdict === 'bad-string') {
        // [MQTT-1.5.3-1] ill-formed UTF-8, [MQTT-1.5.3-2] U+0000: the receiver MUST close the connection.
        disconnect(client, c, 'malformed-utf8', 'VW_ERR_PROTOCOL');
        return;
      }
      if (verdict.type === MQTT_PUBLISH) bump(counters.refusedPublishes, 'packet-too-large');
      log.warn({ event: 'packet_refused', identity: who(c), clientId: client.id, size: verdict.size, max: limits.maxPacketBytes }, 'packet too large');
      disconnect(client, c, 'packet-too-large', 'VW_ERR_PACKET_TOO_LARGE');
    };
    stream.on('data', onData);
  }

  const onTlsError = (reason: string, fields: Record<string, unknown>): void => refuseConnect(reason, fields);
  const listeners: Listener[] = [];
  let health: HealthServer | null = null;
  const metrics = createMetricsRegistry(counters, { brokerId, ...(backend ? { busBadFrames: backend.badFrames } : {}) });
  let closing: Promise<void> | null = null;

  const report = (): HealthReport => ({
    status: closing || broker.closed || (backend && !backend.ready()) ? 'unavailable' : 'ok',
    brokerId,
    mode,
    redis: backend ? (backend.ready() ? 'ready' : 'down') : 'none',
    connections: Object.values(counters.connections).reduce((a, b) => a + b, 0),
    uptimeS: Math.round((Date.now() - startedAt) / 1000),
  });

  async function close(): Promise<void> {
    clearInterval(sweeper);
    if (revocationTimer) clearInterval(revocationTimer);
    const stopped = Promise.all(listeners.map((l) => l.close())); // stop accepting now
    await new Promise<void>((resolve) => broker.close(() => resolve())); // closes authenticated clients, then mq
    for (const l of listeners) l.destroyAll(); // TLS handshakes in progress, connections before CONNECT
    // Aedes does not destroy its persistence on close (ecosystem trap 2).
    if (backend) await backend.close().catch(() => undefined);
    else await (broker as unknown as { persistence?: { destroy(): Promise<void> } }).persistence?.destroy().catch(() => undefined);
    await stopped;
    await health?.close();
    log.info({ event: 'closed' }, 'central broker closed');
  }

  try {
    if (lab) {
      listeners.push(await listenMqttLab({ host, port: opts.port ?? 1883, onStream }));
      log.warn({ event: 'lab_mode', host }, 'LAB LISTENER: no authentication, no ACLs; loopback only; never carry patient data');
    } else {
      const tls = opts.tls as TlsMaterial;
      listeners.push(await listenMqttTls({ host, port: opts.port ?? 8883, tls, handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs, onStream, onTlsError }));
      if (opts.websocket) {
        listeners.push(await listenMqttWss({
          host: opts.websocket.host ?? host, port: opts.websocket.port, path: opts.websocket.path ?? '/mqtt', tls,
          handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs, maxPacketBytes: limits.maxPacketBytes, onStream, onTlsError,
        }));
      }
    }
    if (opts.http) health = await startHealthServer({ host: opts.http.host ?? '127.0.0.1', port: opts.http.port, health: report, metrics });
  } catch (err) {
    await (closing = close());
    throw err;
  }
  const [mqtt, ws] = listeners;
  log.info({ event: 'listening', mode, host, port: mqtt?.port, wsPort: ws?.port ?? null, httpPort: health?.port ?? null, brokerId }, 'central broker listening');

  return {
    broker,
    id: brokerId,
    mode,
    host,
    port: mqtt?.port ?? 0,
    wsPort: ws?.port ?? null,
    httpPort: health?.port ?? null,
    counters,
    limits,
    metrics,
    health: report,
    close: () => (closing ??= close()),
  };
}
