// What the broker's hooks share: the per-connection state, the tables the limits keep, the counters, and the few
// actions any hook may take (refuse a CONNECT, close a connection, refuse a PUBLISH). broker.ts builds one context per
// broker and hands it to each hook (hooks/), to the connection set-up (connection.ts) and to the revocation re-check.
import type { AedesPublishPacket, Client } from 'aedes';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { AuthThrottle } from '../lib/auth-throttle.js';
import type { LogLimiter } from '../lib/log-limiter.js';
import { peerText } from '../lib/log-safe.js';
import { describeIdentity, type Identity } from './acl.js';
import type { AuthDeadline } from './auth-deadline.js';
import type { BrokerLimits, ConnectionTable, RateLimiter } from './limits.js';
import type { ExpectedCache } from './payload-check.js';
import type { RetainedQuota } from './retained-quota.js';
import { bump, type BrokerCounters, type ConnectionRole } from './metrics.js';
import type { RevocationList } from './revocation.js';
import type { UserStore } from './users.js';

/** Per-connection state, created when a stream is handed to Aedes. */
export interface Conn {
  stream: Duplex;
  tls: TLSSocket | null;
  remote: string | undefined;
  /** What the CONNECT asked for (hooks/pre-connect.ts), read by authenticate. */
  connect: {
    clientId: string;
    clean: boolean;
    keepalive: number;
    willTopic: string | null;
    willPayload: Buffer;
    willRetain: boolean;
  } | null;
  identity: Identity | null;
  /** The last topic this connection was allowed to publish on: ACLs are a pure function of identity and topic, and a
   *  gateway publishes on a handful of topics, so the check is skipped for a repeat. */
  allowedTopic: string | null;
  /** What the last stream topic requires of its payloads (payload-check.ts). */
  expected: ExpectedCache;
  /** Serial of the gateway certificate the identity came from, for the revocation re-check. */
  certSerial: string | null;
  /** The password hash a user logged in with, for the users re-check (a changed password ends the session). */
  userHash: string | null;
  key: string;
  role: ConnectionRole | null;
  /** CONNACK sent and the stored session restored: live deliveries stop waiting for the socket to drain. */
  ready: boolean;
  timers: { drain: NodeJS.Timeout | null };
  /** Why the broker closed it, once it did. */
  closedBy: string | null;
  /** Its deadline to authenticate (auth-deadline.ts), met when the CONNECT is admitted. */
  deadline: AuthDeadline;
  /** True for a second copy of the message just forwarded (overlapping subscriptions): aedes-internals dedupeByEquality. */
  isRepeat: (packet: AedesPublishPacket) => boolean;
}

export interface BrokerContext {
  /** The conformance listener: no authentication, no ACLs (acl.ts `lab` identity). */
  readonly lab: boolean;
  readonly limits: Readonly<BrokerLimits>;
  readonly log: Logger;
  /**
   * Every event a peer can trigger at will goes to the log through this (lib/log-limiter.ts): the first of its kind,
   * reason and peer per interval is logged, the rest counted in one line when the interval ends (issue 14: a refused
   * CONNECT flood wrote 4.2 MB/s). The counters stay exact.
   */
  readonly peerLog: LogLimiter;
  readonly counters: BrokerCounters;
  readonly users: UserStore;
  readonly revocation: RevocationList | undefined;
  /** Weak: a Conn must outlive its socket's 'close' long enough for the client's Will to be checked against it. */
  readonly conns: WeakMap<Client, Conn>;
  /** Live connections per identity (maxConnectionsPerIdentity). */
  readonly live: ConnectionTable<Client>;
  /** Publish rate per identity. */
  readonly rate: RateLimiter;
  /** Retained messages stored per identity (retained-quota.ts). */
  readonly retained: RetainedQuota;
  /** Password guessing: back-off per account, address and pair (lib/auth-throttle.ts). Per broker process. */
  readonly throttle: AuthThrottle;
  /** Connected gateways, by certificate: re-checked against the revocation list. */
  readonly certified: Set<Client>;
  /** Connected users, by password: re-checked against the users file (users-recheck.ts). */
  readonly userClients: Set<Client>;
}

export function newConn(stream: Duplex, tls: TLSSocket | null, deadline: AuthDeadline): Conn {
  return {
    stream,
    tls,
    remote: tls?.remoteAddress ?? (stream as { remoteAddress?: string }).remoteAddress,
    connect: null,
    identity: null,
    allowedTopic: null,
    expected: { topic: null, batch: null },
    certSerial: null,
    userHash: null,
    key: '',
    role: null,
    ready: false,
    timers: { drain: null },
    closedBy: null,
    deadline,
    isRepeat: () => false,
  };
}

/** A name for logs: ids only, never payloads; a lab client id cut and cleaned like any peer-chosen string. */
export function who(c: Conn | undefined): string {
  return c?.identity ? peerText(describeIdentity(c.identity), 160) : 'unauthenticated';
}

/** Who an event is about, for its rate-limit key: the identity once known, else the remote address. */
export function peerOf(c: Conn | undefined): string {
  return c?.key || c?.remote || '?';
}

/**
 * Logs an event a peer triggered, rate-limited per (event, reason, problem, peer): each kind of fault of each peer has
 * its first line per interval. Peer-chosen strings are cut and cleaned.
 */
export function peerEvent(
  ctx: BrokerContext,
  level: 'warn' | 'info',
  peer: string,
  fields: Record<string, unknown> & { event: string; reason?: string },
  msg: string,
): void {
  for (const k of ['user', 'clientId', 'topic', 'filter'] as const)
    if (k in fields) fields[k] = peerText(fields[k], k === 'user' ? 64 : 256);
  ctx.peerLog.log(
    `${fields.event}|${fields.reason ?? ''}|${String(fields['problem'] ?? '')}|${peer}`,
    level,
    fields,
    msg,
  );
}

export function refuseConnect(ctx: BrokerContext, reason: string, fields: Record<string, unknown>): void {
  bump(ctx.counters.refusedConnects, reason);
  peerEvent(
    ctx,
    'warn',
    String(fields['remote'] ?? '?'),
    { event: 'connect_refused', reason, ...fields },
    'connection refused',
  );
}

export function refusePublish(
  ctx: BrokerContext,
  c: Conn | undefined,
  topic: string,
  reason: string,
  problem?: string,
): void {
  bump(ctx.counters.refusedPublishes, reason);
  peerEvent(
    ctx,
    'warn',
    peerOf(c),
    { event: 'publish_refused', identity: who(c), topic, reason, ...(problem ? { problem } : {}) },
    'publish refused',
  );
}

/** Closes a connection after CONNACK, counting and logging why (MQTT 3.1.1 cannot tell the client). Once only. */
export function disconnect(ctx: BrokerContext, client: Client, c: Conn, reason: string, code: ErrorCode): void {
  if (c.closedBy !== null) return;
  c.closedBy = reason;
  bump(ctx.counters.disconnects, reason);
  peerEvent(
    ctx,
    'warn',
    peerOf(c),
    { event: 'disconnected', reason, code, identity: who(c), clientId: client.id },
    'connection closed by the broker',
  );
  c.stream.destroy();
}
