// The uplink: MQTT over TLS with the gateway's client certificate, QoS 1, publishing what the outbox holds. Only
// durable records are sent; a record leaves the outbox only on its PUBACK. A bounded window of messages in flight; live
// records first; the backlog stored before the last (re)connect is replayed (alarms and status first, then the rest
// oldest first), marked backfill, paced by its own rate and only in what live traffic leaves free. Two exceptions keep
// streams in seq order: a small backlog (a second of replay) goes before everything live, and a live status waits
// until the backlog's alarms and statuses are sent. One mqtt.js client per connection (reconnectPeriod 0): the
// gateway owns retries, so nothing is resent behind the outbox's back; reconnects use capped, jittered backoff and
// cycle through the broker URLs. The last will marks the gateway offline (retained) if the connection dies.
import mqtt, { type MqttClient } from 'mqtt';
import { checkOwnCertificate, explainConnectError, type ConnectDiagnosis } from '../lib/connect-diagnosis.js';
import type { Logger } from '../lib/log.js';
import { streamTopic, type StreamKind } from '../lib/topics.js';
import { encodeBatch } from '../proto/encode-batch.js';
import { Kind, LinkState } from '../proto/index.js';
import { createBackoff } from './backoff.js';
import { GATEWAY_DEVICE } from './config.js';
import { LOG_OF, type Outbox, type OutRecord } from './outbox/outbox.js';
import { PUBLISH_TAIL_MAX, writePublishTail } from './outbox/records.js';
import { storedPublishBytes } from './publish-size.js';
import { RateBucket } from './rate.js';

/** Backlog records read ahead of publishing (at most the in-flight window). */
export const BACKLOG_PREFETCH = 64;
/** close() waits this long for the broker to take the DISCONNECT. */
export const END_TIMEOUT_MS = 2000;
/**
 * A backlog the replay pace sends within this long is sent before anything live: after a short interruption (data
 * stored before the first connect, a broker blip) every stream then arrives in seq order, at the cost of live data
 * waiting at most about this long. A longer backlog goes behind live data.
 */
export const SMALL_BACKLOG_SECONDS = 1;

export interface UplinkOptions {
  site: string;
  gateway: string;
  urls: readonly string[];
  tls: { ca: Buffer | string; cert: Buffer | string; key: Buffer | string };
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  reconnect: { minMs: number; maxMs: number };
  inflightWindow: number;
  maxMessagesPerSecond: number;
  replayMessagesPerSecond: number;
  /** The largest packet to publish (publish.maxPacketBytes): a record over it is handed back to the outbox to set aside. */
  maxPacketBytes?: number;
  outbox: Outbox;
  logger: Logger;
  nowUs: () => number;
  /** Called on each successful connect, before anything is published (the gateway queues its status). */
  onConnect?: () => void;
  /** Called with the PUBACK round trip of each message, in seconds. */
  onAck?: (seconds: number, backfill: boolean) => void;
}

export interface UplinkCounters {
  connects: number;
  connectFailures: number;
  disconnects: number;
  published: number;
  publishedBackfill: number;
  acked: number;
  nacked: number;
}

/** Where the uplink stands, for `vitalwire gateway status` and the metrics. */
export interface UplinkStatus {
  connected: boolean;
  /** The broker connected to, or tried last. */
  url: string;
  /** Gateway time since which `connected` and `reason` hold. */
  sinceUs: number;
  /** Why the uplink is not connected (lib/connect-diagnosis.ts); null while connected and before the first attempt. */
  reason: ConnectDiagnosis | null;
  /** Failed attempts since the last connect. */
  failures: number;
  /** Gateway time of the last successful connect (0: none yet). */
  lastConnectedUs: number;
}

export interface Uplink {
  readonly counters: UplinkCounters;
  isConnected(): boolean;
  status(): UplinkStatus;
  inflight(): number;
  /** Waits (at most timeoutMs) until nothing live is queued and nothing is in flight; true when it got there. */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The fields a publish adds to a stored Batch, as a separate buffer (tests; the uplink writes them in place). */
export function publishTail(backfill: boolean, publishTimeUs: number): Buffer {
  const b = Buffer.alloc(PUBLISH_TAIL_MAX);
  return b.subarray(0, writePublishTail(b, 0, backfill, publishTimeUs));
}

export function startUplink(o: UplinkOptions): Uplink {
  const log = o.logger.child({ component: 'uplink' });
  const counters: UplinkCounters = {
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    published: 0,
    publishedBackfill: 0,
    acked: 0,
    nacked: 0,
  };
  const backoff = createBackoff(o.reconnect.minMs, o.reconnect.maxMs);
  const total = new RateBucket(o.maxMessagesPerSecond, Math.max(1, Math.ceil(o.maxMessagesPerSecond / 10)));
  const replay = new RateBucket(o.replayMessagesPerSecond, Math.max(1, Math.ceil(o.replayMessagesPerSecond / 10)));
  const prefetchMax = Math.min(BACKLOG_PREFETCH, o.inflightWindow);
  const inflight = new Map<number, OutRecord>();
  const topics = new Map<string, string>();
  let prefetch: OutRecord[] = [];
  let prefetching = false;
  /** The read in progress may bring alarms or statuses (the critical log had backlog when it started). */
  let prefetchingCritical = false;
  /** Alarm and status records (the outbox's critical log) among `prefetch`. */
  let prefetchCritical = 0;
  /** Live statuses waiting for the backlog's statuses to be sent: a status stream is published in seq order. */
  let held: OutRecord[] = [];
  /** This connection's backlog was small: all of it goes before anything live. */
  let backlogFirst = false;
  let client: MqttClient | null = null;
  let online = false;
  let closing = false;
  let gen = 0;
  let urlIndex = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let pumpTimer: NodeJS.Timeout | null = null;
  let lastError = '';
  let idleWaiters: (() => void)[] = [];
  // ---- why the uplink is down: explained per attempt, logged once per change of reason ----
  const state: UplinkStatus = {
    connected: false,
    url: o.urls[0] ?? '',
    sinceUs: o.nowUs(),
    reason: null,
    failures: 0,
    lastConnectedUs: 0,
  };
  /** The most telling error of the attempt in progress (a CONNACK code, then a TLS error, then anything). */
  let attemptErr: unknown = null;
  let attemptStartMs = 0;
  const errRank = (e: unknown): number => {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'number') return 3;
    return typeof code === 'string' && /CERT|SSL|TLS|VERIFY|SIGN/.test(code) ? 2 : 1;
  };
  const noteError = (e: unknown) => {
    if (attemptErr === null || errRank(e) > errRank(attemptErr)) attemptErr = e;
  };
  const safeUrl = (u: string) => u.replace(/\/\/[^@]*@/, '//');
  const setReason = (d: ConnectDiagnosis, logIt: boolean) => {
    if (state.reason?.reason !== d.reason) {
      state.sinceUs = o.nowUs();
      if (logIt)
        log.warn(
          { code: 'VW_ERR_UPLINK', reason: d.reason, url: safeUrl(state.url), failures: state.failures },
          `cannot connect to the broker: ${d.text}`,
        );
    }
    state.reason = d;
  };
  // Our own certificate, checked before dialling: an expired one, or one from another CA, is refused by any broker.
  const ownCheck = () => checkOwnCertificate(o.tls.cert, o.tls.ca);
  const own0 = ownCheck();
  if (own0) {
    state.reason = own0;
    log.error({ code: 'VW_ERR_UPLINK', reason: own0.reason }, `our certificate cannot work: ${own0.text}`);
  }

  const topicOf = (device: string, kind: StreamKind): string => {
    const k = `${device}/${kind}`;
    let t = topics.get(k);
    if (t === undefined) topics.set(k, (t = streamTopic(o.site, o.gateway, device, kind)));
    return t;
  };

  const willPayload = (): Buffer =>
    encodeBatch({
      source: { site: o.site, gateway: o.gateway, device: GATEWAY_DEVICE },
      kind: Kind.KIND_STATUS,
      seq: 0, // not part of the stream's sequence: the broker may never publish it
      statuses: [
        { time: { gatewayTimeUs: o.nowUs() }, state: LinkState.LINK_STATE_DISCONNECTED, reason: 'VW_ERR_UPLINK' },
      ],
    });

  /** Live records that are waiting to be sent (queued, held behind the backlog's statuses, or behind a small backlog). */
  const liveWaiting = (): boolean => o.outbox.hasLive() || held.length > 0 || backlogFirst;

  const notifyIdle = () => {
    if (inflight.size > 0 || liveWaiting()) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };

  const arm = (ms: number) => {
    if (pumpTimer) return;
    pumpTimer = setTimeout(
      () => {
        pumpTimer = null;
        pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  };

  function send(c: MqttClient, r: OutRecord): void {
    const g = gen;
    inflight.set(r.id, r);
    counters.published++;
    if (r.backfill) counters.publishedBackfill++;
    const started = performance.now();
    // The tail goes into the spare bytes after the stored payload: no copy of the Batch per publish.
    const payload = r.wire.subarray(
      0,
      r.payload.length + writePublishTail(r.wire, r.payload.length, r.backfill, o.nowUs()),
    );
    c.publish(topicOf(r.device, r.kind), payload, { qos: 1, retain: r.retain && !r.backfill }, (err) => {
      if (g !== gen) return; // that connection is gone; its records went back to the backlog
      inflight.delete(r.id);
      if (err) {
        counters.nacked++;
        o.outbox.nack(r);
      } else {
        counters.acked++;
        o.outbox.ack(r);
        o.onAck?.((performance.now() - started) / 1000, r.backfill);
      }
      pump();
      notifyIdle();
    });
  }

  function fetchBacklog(): void {
    if (prefetching || !online) return;
    prefetching = true;
    // takeBacklog reads the critical log first: without critical backlog now, this read brings none.
    prefetchingCritical = o.outbox.hasBacklog('critical');
    const g = gen;
    o.outbox.takeBacklog(prefetchMax).then(
      (recs) => {
        prefetching = false;
        if (g !== gen || !online) {
          for (const r of recs) o.outbox.nack(r);
          return;
        }
        for (const r of recs) if (LOG_OF[r.kind] === 'critical') prefetchCritical++;
        prefetch.push(...recs);
        // Nothing read while records wait: their reads failed, retried later rather than at once. Otherwise the pump
        // goes on (with what was read, or past a backlog that turned out empty: what waited for it goes now).
        if (recs.length === 0 && o.outbox.hasBacklog()) arm(1000);
        else pump();
      },
      (err: unknown) => {
        prefetching = false;
        log.warn({ code: 'VW_ERR_OUTBOX_IO', err: (err as Error).message }, 'backlog read failed');
        arm(1000);
      },
    );
  }

  /** Is backlog (of one log, or of any) still to be read: durable, or appended before the connect and still in write? */
  const backlogLeft = (log?: 'critical'): boolean => o.outbox.hasBacklog(log) || o.outbox.backlogInWrite(log);
  /** Are alarms or statuses stored before the connect still to be sent? (A read in progress may be bringing some.) */
  const criticalBacklog = (): boolean =>
    prefetchCritical > 0 || (prefetching && prefetchingCritical) || backlogLeft('critical');

  /** The next live record to send, holding statuses back while the backlog's statuses are unsent. */
  function nextLive(): OutRecord | undefined {
    while (held.length > 0 && !criticalBacklog()) {
      const r = held.shift() as OutRecord;
      if (o.outbox.inFlight(r)) return r; // else shed by the quota while it waited here
    }
    for (let r = o.outbox.takeLive(); r !== undefined; r = o.outbox.takeLive()) {
      // Live numerics, waves and alarms overtake the backlog (marked backfill, so consumers can tell); a status says
      // how the link is now, so it must not be followed by older ones: it waits for them (they are replayed first).
      if (r.kind === 'status' && (held.length > 0 || criticalBacklog())) {
        held.push(r);
        continue;
      }
      return r;
    }
    return undefined;
  }

  function nextPrefetched(): OutRecord | undefined {
    const r = prefetch.shift();
    if (r && LOG_OF[r.kind] === 'critical') prefetchCritical--;
    return r;
  }

  function pump(): void {
    const c = client;
    if (!c || !online) return;
    // At shutdown the backlog waits for the next start, unless live records wait for it (a final status).
    const replaying = () => !closing || backlogFirst || held.length > 0;
    while (inflight.size < o.inflightWindow) {
      if (!total.available()) return arm(total.msUntilNext());
      let r = backlogFirst ? undefined : nextLive();
      if (!r) {
        if (prefetch.length === 0) {
          if (backlogFirst && !prefetching && !backlogLeft()) {
            backlogFirst = false; // the small backlog is sent: live records from now on
            continue;
          }
          if (replaying() && o.outbox.hasBacklog()) fetchBacklog();
          return;
        }
        if (!replaying()) return;
        if (!backlogFirst && !replay.available()) return arm(replay.msUntilNext());
        r = nextPrefetched();
        if (!r) return;
        if (!o.outbox.inFlight(r)) continue; // shed by the quota while it waited here
        if (!backlogFirst) replay.take();
      }
      if (
        o.maxPacketBytes !== undefined &&
        storedPublishBytes(topicOf(r.device, r.kind).length, r.payload.length) > o.maxPacketBytes
      ) {
        // The broker would close the connection on it, and the record would come back forever (issue 14).
        o.outbox.setAside(r);
        continue;
      }
      total.take();
      send(c, r);
      if (prefetch.length < prefetchMax / 2 && replaying()) fetchBacklog();
    }
  }

  function onClose(c: MqttClient): void {
    if (c !== client) return;
    const wasOnline = online;
    online = false;
    client = null;
    gen++;
    for (const r of inflight.values()) {
      counters.nacked++;
      o.outbox.nack(r);
    }
    inflight.clear();
    for (const r of prefetch) o.outbox.nack(r);
    prefetch = [];
    prefetchCritical = 0;
    for (const r of held) o.outbox.nack(r);
    held = [];
    backlogFirst = false;
    o.outbox.setOnline(false);
    c.end(true);
    notifyIdle();
    if (wasOnline && closing) {
      log.info({ depth: o.outbox.depth() }, 'disconnected from broker');
    } else if (wasOnline) {
      counters.disconnects++;
      log.warn(
        { code: 'VW_ERR_UPLINK', err: lastError || 'connection closed', depth: o.outbox.depth() },
        'broker connection lost',
      );
      state.connected = false;
      setReason(
        explainConnectError(attemptErr ?? { code: 'ECONNRESET', message: 'connection closed' }, safeUrl(state.url)),
        false,
      );
    } else {
      counters.connectFailures++;
      state.failures++;
      if (!closing) {
        // No error at all: mqtt.js closes without one when CONNACK does not come in time, or the peer hangs up.
        const timedOut = performance.now() - attemptStartMs >= o.connectTimeoutMs - 50;
        const err =
          attemptErr ??
          (timedOut
            ? { code: 'ETIMEDOUT', message: 'no CONNACK in time' }
            : { code: 'ECONNRESET', message: 'closed before CONNACK' });
        const own = ownCheck();
        setReason(explainConnectError(err, safeUrl(state.url), own, { ownCertChecked: own === null }), true);
      }
    }
    if (closing) return;
    urlIndex++;
    const wait = backoff.next();
    log.info({ retryMs: wait, failures: counters.connectFailures }, 'broker reconnect scheduled');
    retryTimer = setTimeout(connect, wait);
  }

  function connect(): void {
    retryTimer = null;
    if (closing) return;
    const url = o.urls[urlIndex % o.urls.length] ?? '';
    lastError = '';
    state.url = url;
    attemptErr = null;
    attemptStartMs = performance.now();
    const c = mqtt.connect(url, {
      ca: o.tls.ca,
      cert: o.tls.cert,
      key: o.tls.key,
      // Explicitly: mqtt.js reports a TLS verification error (unknown CA, host name) only when this is set.
      rejectUnauthorized: true,
      clientId: `${o.site}/${o.gateway}`, // the broker binds client ids to the certificate identity
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs,
      keepalive: o.keepaliveSeconds,
      resubscribe: false,
      will: { topic: topicOf(GATEWAY_DEVICE, 'status'), payload: willPayload(), qos: 1, retain: true },
    });
    client = c;
    c.on('connect', () => {
      if (c !== client) return;
      online = true;
      backoff.reset();
      counters.connects++;
      Object.assign(state, {
        connected: true,
        sinceUs: o.nowUs(),
        reason: null,
        failures: 0,
        lastConnectedUs: o.nowUs(),
      });
      attemptErr = null;
      o.outbox.setOnline(true);
      const backlog = o.outbox.depth();
      backlogFirst = backlog <= o.replayMessagesPerSecond * SMALL_BACKLOG_SECONDS;
      log.info({ url: url.replace(/\/\/[^@]*@/, '//'), backlog }, 'connected to broker');
      o.onConnect?.();
      pump();
    });
    c.on('close', () => onClose(c));
    c.on('error', (err) => {
      if (err.message !== lastError) log.debug({ code: 'VW_ERR_UPLINK', err: err.message }, 'broker connection error');
      lastError = err.message;
      noteError(err);
    });
    // A TLS alert after the handshake (the broker refusing our certificate under TLS 1.3) reaches only the socket.
    c.stream?.on?.('error', noteError);
  }

  o.outbox.onLive(() => pump());
  connect();

  return {
    counters,
    isConnected: () => online,
    status: () => ({ ...state, connected: online }),
    inflight: () => inflight.size,
    drain(timeoutMs) {
      if (inflight.size === 0 && !(online && liveWaiting())) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          idleWaiters = idleWaiters.filter((f) => f !== done);
          resolve(false);
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          resolve(true);
        };
        idleWaiters.push(done);
        pump();
      });
    },
    async close() {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (pumpTimer) clearTimeout(pumpTimer);
      const c = client;
      if (!c) return;
      // A DISCONNECT first: the broker drops the last will (the gateway published its own final status). A broker that
      // does not answer gets END_TIMEOUT_MS, then the connection is dropped.
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        c.endAsync().catch(() => undefined),
        new Promise((r) => (t = setTimeout(r, END_TIMEOUT_MS))),
      ]);
      clearTimeout(t);
      onClose(c);
    },
  };
}
