// Per-identity limits of the central broker, as plain data structures with an injected clock so tests drive time.
// Every limit has a name and a default here, and docs/broker.md lists them all.

export interface BrokerLimits {
  /** Largest MQTT packet accepted, header included; a bigger one closes the connection when its header arrives. */
  maxPacketBytes: number;
  /** Live connections one identity (a gateway certificate, a user name) may hold on one broker process. */
  maxConnectionsPerIdentity: number;
  /** Sustained PUBLISH packets per second per identity (all its connections together), and the burst above it. */
  publishRatePerSecond: number;
  publishBurst: number;
  /** Keep-alive a CONNECT may ask for, in seconds. 0 (no keep-alive) is refused unless keepAliveMinSeconds is 0. */
  keepAliveMinSeconds: number;
  keepAliveMaxSeconds: number;
  /** Unsent bytes the broker holds for one client before it counts the client as slow (see docs/broker.md). */
  maxBufferedBytesPerClient: number;
  /** How long a client's socket may stay undrained before the broker disconnects it. */
  drainTimeoutMs: number;
  /** Time allowed for the TLS handshake, and then again for the MQTT CONNECT. */
  tlsHandshakeTimeoutMs: number;
  connectTimeoutMs: number;
  /** Topic filters one connection may hold. */
  maxSubscriptionsPerClient: number;
  /** Inbound QoS 2 messages awaiting PUBREL per client (Aedes' maxInflightInbound). */
  maxInflightInbound: number;
  /** Client identifiers longer than this are refused (CONNACK 2). MQTT 3.1.1 lets a server allow more than 23. */
  maxClientIdLength: number;
  /** Retained messages one identity may hold stored, and their topic and payload bytes (retained-quota.ts). */
  maxRetainedPerIdentity: number;
  maxRetainedBytesPerIdentity: number;
  /** Password logins: failures per record before back-off, the first back-off, and its cap (lib/auth-throttle.ts). */
  authFailuresBeforeBackoff: number;
  authBackoffBaseMs: number;
  authBackoffMaxMs: number;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  maxPacketBytes: 256 * 1024,
  maxConnectionsPerIdentity: 8,
  publishRatePerSecond: 1000,
  publishBurst: 2000,
  keepAliveMinSeconds: 5,
  keepAliveMaxSeconds: 900,
  maxBufferedBytesPerClient: 4 * 1024 * 1024,
  drainTimeoutMs: 30_000,
  tlsHandshakeTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  maxSubscriptionsPerClient: 64,
  maxInflightInbound: 1000,
  maxClientIdLength: 128,
  maxRetainedPerIdentity: 256,
  maxRetainedBytesPerIdentity: 1024 * 1024,
  authFailuresBeforeBackoff: 5,
  authBackoffBaseMs: 1000,
  authBackoffMaxMs: 300_000,
});

/**
 * The lab listener's limits (`vitalwire central --lab`): the bounds of MQTT 3.1.1 itself rather than production
 * policy, so a conformance suite meets the protocol and nothing else. The listener is loopback-only and has no
 * authentication; it never carries patient data.
 */
export const LAB_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  ...DEFAULT_LIMITS,
  maxPacketBytes: 268_435_460, // 2.2.3: Remaining Length up to 268,435,455, plus the fixed header
  maxConnectionsPerIdentity: 1_000_000, // a lab identity is one client id
  publishRatePerSecond: 1e9,
  publishBurst: 1e9,
  keepAliveMinSeconds: 0, // 3.1.2.10: keep-alive 0 turns the mechanism off
  keepAliveMaxSeconds: 65535, // 3.1.2.10: a 16-bit number of seconds
  maxSubscriptionsPerClient: 100_000,
  maxInflightInbound: 65535, // every packet identifier
  maxClientIdLength: 65535, // 1.5.3: a UTF-8 string of up to 65,535 bytes
  maxRetainedPerIdentity: 1e9, // MQTT 3.1.1 bounds retained messages by nothing but topics
  maxRetainedBytesPerIdentity: 1e15,
});

/** Checks a complete limit set; returns the problems (empty when fine) so callers can report all of them. */
export function checkLimits(l: BrokerLimits): string[] {
  const problems: string[] = [];
  const int = (k: keyof BrokerLimits, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = l[k];
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${k} must be an integer from ${min} to ${max}, got ${v}`);
  };
  int('maxPacketBytes', 64, 268_435_460); // MQTT 3.1.1 2.2.3: Remaining Length <= 268,435,455
  int('maxConnectionsPerIdentity', 1);
  int('publishBurst', 1);
  if (!(l.publishRatePerSecond > 0) || !Number.isFinite(l.publishRatePerSecond))
    problems.push('publishRatePerSecond must be > 0');
  int('keepAliveMinSeconds', 0, 65535);
  int('keepAliveMaxSeconds', 1, 65535); // 3.1.2.10: a 16-bit number of seconds
  if (l.keepAliveMinSeconds > l.keepAliveMaxSeconds)
    problems.push('keepAliveMinSeconds must not exceed keepAliveMaxSeconds');
  int('maxBufferedBytesPerClient', 1024);
  int('drainTimeoutMs', 1);
  int('tlsHandshakeTimeoutMs', 100);
  int('connectTimeoutMs', 100);
  int('maxSubscriptionsPerClient', 1);
  int('maxInflightInbound', 1, 65535);
  int('maxClientIdLength', 23, 65535); // [MQTT-3.1.3-5]: a server MUST allow 1-23 characters
  int('maxRetainedPerIdentity', 0);
  int('maxRetainedBytesPerIdentity', 0);
  int('authFailuresBeforeBackoff', 0, 1000);
  int('authBackoffBaseMs', 1, 3_600_000);
  int('authBackoffMaxMs', 1, 86_400_000);
  if (l.authBackoffBaseMs > l.authBackoffMaxMs) problems.push('authBackoffBaseMs must not exceed authBackoffMaxMs');
  return problems;
}

/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. Time comes from the caller, so the bucket is pure.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #at: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.rate = ratePerSecond;
    this.burst = burst;
    this.#tokens = burst;
    this.#at = nowMs;
  }

  #refill(nowMs: number): void {
    const dt = Math.max(0, nowMs - this.#at);
    this.#at = Math.max(this.#at, nowMs);
    this.#tokens = Math.min(this.burst, this.#tokens + (dt * this.rate) / 1000);
  }

  /** Takes one token when there is one. */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** True when the bucket has refilled completely, i.e. forgetting it changes nothing. */
  full(nowMs: number): boolean {
    this.#refill(nowMs);
    return this.#tokens >= this.burst;
  }
}

/** Publish rate per identity key. Buckets of identities that went quiet are forgotten by sweep(). */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;

  constructor(ratePerSecond: number, burst: number, now: () => number = Date.now) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#now = now;
  }

  allow(key: string): boolean {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      b = new TokenBucket(this.#rate, this.#burst, now);
      this.#buckets.set(key, b);
    }
    return b.take(now);
  }

  /** Drops full buckets: keeps memory bounded by the identities that published recently. */
  sweep(): void {
    const now = this.#now();
    for (const [k, b] of this.#buckets) if (b.full(now)) this.#buckets.delete(k);
  }

  get size(): number {
    return this.#buckets.size;
  }
}

/** Live connections per identity key. T is whatever identifies one connection (an Aedes client). */
export class ConnectionTable<T> {
  readonly #byKey = new Map<string, Set<T>>();

  /** How many connections `key` holds, not counting `except` (a connection about to be taken over). */
  count(key: string, except?: (c: T) => boolean): number {
    const set = this.#byKey.get(key);
    if (!set) return 0;
    if (!except) return set.size;
    let n = 0;
    for (const c of set) if (!except(c)) n++;
    return n;
  }

  add(key: string, c: T): void {
    let set = this.#byKey.get(key);
    if (!set) {
      set = new Set();
      this.#byKey.set(key, set);
    }
    set.add(c);
  }

  delete(key: string, c: T): void {
    const set = this.#byKey.get(key);
    if (!set) return;
    set.delete(c);
    if (set.size === 0) this.#byKey.delete(key);
  }

  get identities(): number {
    return this.#byKey.size;
  }
}
