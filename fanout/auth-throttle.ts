// Throttling of password checks (issue 14 finding 5; OWASP Authentication Cheat Sheet, "Login Throttling"). Sans-I/O:
// time comes in with each call. Three counters of failed checks, each with exponential back-off once its free
// failures are spent, never a fixed lockout:
//
//   pair     (account, address): the tightest; only that account's failures from that address drive it, and only a
//            success of that account from that address clears it.
//   account  (any address): bounds guessing one account from many addresses.
//   address  (any account): bounds guessing many accounts from one address.
//
// A success never clears the account or address counters (an attacker with an account of their own could reset
// them), and an account that logged in from an address recently is *trusted* there: only its pair counter applies
// to it, so a third party hammering an account or sharing a NAT cannot keep its owner out. Each table is bounded
// (least recently touched entries go first). IPv6 peers are counted by their /64.
//
// The MQTT side may get a throttle of its own (lib/auth-throttle.ts, another branch); this interface is what the
// fan-out needs of one, so the two can become one module.
import { isIPv6 } from 'node:net';

export interface AuthThrottle {
  /** May a password check run now for this account from this address? If not, how long until it may. */
  check(user: string, address: string, nowMs: number): ThrottleVerdict;
  /** A check failed (wrong password, unknown account). */
  failed(user: string, address: string, nowMs: number): void;
  /** A check succeeded: the pair's counter is cleared and the pair trusted for `trustMs`. */
  succeeded(user: string, address: string, nowMs: number): void;
  /** Entries held in all tables (a bound of memory). */
  readonly tracked: number;
}

export type ThrottleScope = 'pair' | 'account' | 'address';
export type ThrottleVerdict = { ok: true } | { ok: false; retryAfterMs: number; by: ThrottleScope };

export interface ThrottleLimits {
  /** Failures before back-off starts, per counter: the attempt after the last free failure waits baseDelayMs. */
  freeFailures: Record<ThrottleScope, number>;
  /** The first delay; each further failure doubles it. */
  baseDelayMs: number;
  /** The longest delay per counter: the most a third party can make anyone wait. */
  maxDelayMs: Record<ThrottleScope, number>;
  /** A counter with no failure for this long starts again from zero. */
  forgetMs: number;
  /** How long a successful (account, address) pair stays exempt from the account and address counters. */
  trustMs: number;
  /** Entries per table. */
  maxTracked: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  freeFailures: { pair: 5, account: 20, address: 30 },
  baseDelayMs: 1000,
  maxDelayMs: { pair: 15 * 60_000, account: 60_000, address: 60_000 },
  forgetMs: 15 * 60_000,
  trustMs: 30 * 24 * 3600_000,
  maxTracked: 10_000,
};

/**
 * The address as the throttle counts it: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by its /64 prefix, since one host
 * commonly holds a whole /64 and could otherwise take a fresh address for every guess.
 */
export function addressKey(address: string): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (!isIPv6(a)) return a;
  const [head = '', tail] = a.split('::');
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    const rest = tail === '' ? [] : tail.split(':');
    while (groups.length + rest.length < 8) groups.push('0');
    groups.push(...rest);
  }
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

interface Counter {
  failures: number;
  lastMs: number;
  blockedUntil: number;
}

/** A Map that keeps at most `max` entries, the least recently touched going first. */
class Bounded<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get size(): number {
    return this.m.size;
  }
  get(k: string): V | undefined {
    return this.m.get(k);
  }
  touch(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) {
      const oldest = this.m.keys().next().value;
      if (oldest !== undefined) this.m.delete(oldest);
    }
  }
  delete(k: string): void {
    this.m.delete(k);
  }
}

export function createAuthThrottle(l: ThrottleLimits = DEFAULT_THROTTLE_LIMITS): AuthThrottle {
  const tables: Record<ThrottleScope, Bounded<Counter>> = {
    pair: new Bounded(l.maxTracked), account: new Bounded(l.maxTracked), address: new Bounded(l.maxTracked),
  };
  const trusted = new Bounded<number>(l.maxTracked);
  const keys = (user: string, address: string): Record<ThrottleScope, string> => {
    const a = addressKey(address);
    return { pair: `${user}\n${a}`, account: user, address: a };
  };
  const isTrusted = (pair: string, now: number): boolean => {
    const at = trusted.get(pair);
    return at !== undefined && now - at < l.trustMs;
  };
  const applicable = (k: Record<ThrottleScope, string>, now: number): ThrottleScope[] => (isTrusted(k.pair, now) ? ['pair'] : ['pair', 'account', 'address']);

  return {
    get tracked() {
      return tables.pair.size + tables.account.size + tables.address.size + trusted.size;
    },
    check(user, address, now) {
      const k = keys(user, address);
      let worst: ThrottleVerdict = { ok: true };
      for (const scope of applicable(k, now)) {
        const c = tables[scope].get(k[scope]);
        if (c === undefined || c.blockedUntil <= now) continue;
        const wait = c.blockedUntil - now;
        if (worst.ok || wait > worst.retryAfterMs) worst = { ok: false, retryAfterMs: wait, by: scope };
      }
      return worst;
    },
    failed(user, address, now) {
      const k = keys(user, address);
      // Every counter learns of the failure, trusted or not: trust exempts an account from others' failures, not
      // its own guesses from being counted against the address.
      for (const scope of ['pair', 'account', 'address'] as const) {
        const prev = tables[scope].get(k[scope]);
        const c: Counter = prev !== undefined && now - prev.lastMs < l.forgetMs ? prev : { failures: 0, lastMs: now, blockedUntil: 0 };
        c.failures++;
        c.lastMs = now;
        // After the free failures, each further one doubles the wait before the next check may run.
        const over = c.failures - l.freeFailures[scope];
        if (over >= 0) c.blockedUntil = now + Math.min(l.maxDelayMs[scope], l.baseDelayMs * 2 ** Math.min(over, 30));
        tables[scope].touch(k[scope], c);
      }
    },
    succeeded(user, address, now) {
      const k = keys(user, address);
      tables.pair.delete(k.pair);
      trusted.touch(k.pair, now);
    },
  };
}
