// Password-guessing throttle, the one mechanism of every password login (the broker's MQTT CONNECT, the dashboard's
// POST /api/login; each with its own limits). Issue 14 finding 5:
// 300 wrong passwords at 8.5/s, then the right one accepted at once. Exponential back-off per account and per address,
// and never a lockout that a third party can trigger against a real user.
//
// Three failure records, each with its own back-off: the address (all accounts tried from it), the account (from all
// addresses), and the pair (this account from this address). An attempt waits for the pair's back-off always, and for
// the address's and the account's unless the pair is *known-good*: it logged in successfully within `knownGoodMs`. So:
//   - a guesser at one address is slowed there, for every account it tries;
//   - a guesser spread over many addresses is slowed on the account it attacks, from every address it has never
//     logged in from: at the back-off cap, one guess per `maxDelayMs` for the account, whatever the number of addresses;
//   - the real user at an address they logged in from before is slowed only by their own mistakes (the pair record),
//     never by an attacker elsewhere, nor by one sharing their address (a hospital NAT) guessing other accounts.
// What a third party can still do: slow a user's first login from a *new* address while attacking that account (the
// address is not known-good yet). That is a delay of at most `maxDelayMs` per attempt, never a refusal for good.
// Known-good pairs are kept in memory: after a restart every pair is new until it logs in again.
//
// Addresses are compared as the peer's network: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by its /64, since one host
// commonly holds a whole /64 and could otherwise rotate through it. Tables are bounded; the oldest entry goes first.
// Time comes from the caller's clock; nothing here does I/O.
import { isIPv6 } from 'node:net';

/** The three failure records: this account from this address, the account from anywhere, the address for any account. */
export type ThrottleScope = 'pair' | 'account' | 'address';
export type ThrottleVerdict = { ok: true } | { ok: false; retryAfterMs: number; by: ThrottleScope };

export interface AuthThrottleOptions {
  /** Failures a record may have before its back-off starts (the user's own typos); one figure or one per record. */
  freeFailures: number | Readonly<Record<ThrottleScope, number>>;
  /** Back-off after the first failure past the free ones, doubled for each further one. */
  baseDelayMs: number;
  /** Cap of the back-off: at most one attempt per this long per record once it is reached; one figure or one per record
   *  (the account's and the address's cap is the most a third party can make a user wait from a new address). */
  maxDelayMs: number | Readonly<Record<ThrottleScope, number>>;
  /** A record with no failure for this long is forgotten. */
  forgetAfterMs: number;
  /** How long a successful (account, address) pair stays known-good. */
  knownGoodMs: number;
  /** Entries per table (addresses, accounts, pairs, known-good pairs). */
  maxEntries: number;
}

export const DEFAULT_AUTH_THROTTLE: Readonly<AuthThrottleOptions> = Object.freeze({
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 60 * 60_000,
  knownGoodMs: 30 * 24 * 60 * 60_000,
  maxEntries: 10_000,
});

export interface AuthThrottle {
  /**
   * Before checking a password: ok when the attempt may be checked now, else how long until it may and which record
   * holds it. A refused attempt is not a failure (its password was never checked) and does not lengthen the back-off.
   */
  check(account: string, address: string | undefined): ThrottleVerdict;
  /** After a wrong password or an unknown account (tracked alike, so the throttle does not tell which names exist). */
  failure(account: string, address: string | undefined): void;
  /** After a correct password: the pair's failures are forgotten and the pair becomes known-good. */
  success(account: string, address: string | undefined): void;
  /** Entries held, per table. */
  size(): { addresses: number; accounts: number; pairs: number; knownGood: number };
}

/** Account names longer than this are compared by their first this-many characters (no real name is that long). */
const MAX_ACCOUNT_CHARS = 128;

interface Failures {
  count: number;
  last: number;
  until: number;
}

/** The peer's network, as the throttle compares addresses: IPv4 as is, IPv6 by its /64. */
export function addressKey(address: string | undefined): string {
  if (!address) return '?';
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (!isIPv6(a)) return a;
  // Expand '::' to reach the first four groups.
  const [head = '', tail] = a.split('::');
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    const rest = tail === '' ? [] : tail.split(':');
    while (groups.length + rest.length < 8) groups.push('0');
    groups.push(...rest);
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** A bounded map whose oldest entry (by last write) goes first. */
class Table<V> {
  readonly #m = new Map<string, V>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(k: string): V | undefined {
    return this.#m.get(k);
  }
  set(k: string, v: V): void {
    this.#m.delete(k);
    if (this.#m.size >= this.#max) {
      const oldest = this.#m.keys().next().value;
      if (oldest !== undefined) this.#m.delete(oldest);
    }
    this.#m.set(k, v);
  }
  delete(k: string): void {
    this.#m.delete(k);
  }
  get size(): number {
    return this.#m.size;
  }
}

export function createAuthThrottle(
  options: Partial<AuthThrottleOptions> = {},
  now: () => number = Date.now,
): AuthThrottle {
  const o = { ...DEFAULT_AUTH_THROTTLE, ...options };
  const addresses = new Table<Failures>(o.maxEntries);
  const accounts = new Table<Failures>(o.maxEntries);
  const pairs = new Table<Failures>(o.maxEntries);
  const knownGood = new Table<number>(o.maxEntries);
  // '\n' cannot occur in an address, so no two (account, address) pairs share a key. Account names are the peer's
  // choice: cut, so a table of maxEntries holds at most that many short keys whatever names a guesser sends.
  const pairKey = (account: string, address: string): string => `${address}\n${account}`;
  const acct = (account: string): string =>
    account.length > MAX_ACCOUNT_CHARS ? account.slice(0, MAX_ACCOUNT_CHARS) : account;

  const per = (v: AuthThrottleOptions['freeFailures'], scope: ThrottleScope): number =>
    typeof v === 'number' ? v : v[scope];
  const wait = (t: Table<Failures>, k: string, at: number): number => {
    const f = t.get(k);
    if (!f) return 0;
    if (at - f.last > o.forgetAfterMs) {
      t.delete(k);
      return 0;
    }
    return Math.max(0, f.until - at);
  };
  const fail = (t: Table<Failures>, scope: ThrottleScope, k: string, at: number): void => {
    const prev = t.get(k);
    const count = (prev && at - prev.last <= o.forgetAfterMs ? prev.count : 0) + 1;
    const over = count - per(o.freeFailures, scope);
    const delay = over > 0 ? Math.min(per(o.maxDelayMs, scope), o.baseDelayMs * 2 ** Math.min(over - 1, 40)) : 0;
    t.set(k, { count, last: at, until: at + delay });
  };
  const isKnownGood = (k: string, at: number): boolean => {
    const since = knownGood.get(k);
    if (since === undefined) return false;
    if (at - since > o.knownGoodMs) {
      knownGood.delete(k);
      return false;
    }
    return true;
  };

  return {
    check(name, address) {
      const account = acct(name);
      const at = now();
      const a = addressKey(address);
      const p = pairKey(account, a);
      // The longest wait of the records that apply: a known-good pair answers to its own failures only.
      const waits: [ThrottleScope, number][] = [['pair', wait(pairs, p, at)]];
      if (!isKnownGood(p, at))
        waits.push(['account', wait(accounts, account, at)], ['address', wait(addresses, a, at)]);
      let worst: ThrottleVerdict = { ok: true };
      for (const [by, ms] of waits)
        if (ms > 0 && (worst.ok || ms > worst.retryAfterMs)) worst = { ok: false, retryAfterMs: ms, by };
      return worst;
    },
    failure(name, address) {
      const account = acct(name);
      const at = now();
      const a = addressKey(address);
      // Every record learns of the failure, known-good or not: trust exempts a pair from others' failures, not its
      // own guesses from counting against the account and the address.
      fail(pairs, 'pair', pairKey(account, a), at);
      fail(addresses, 'address', a, at);
      fail(accounts, 'account', account, at);
    },
    success(name, address) {
      const at = now();
      const p = pairKey(acct(name), addressKey(address));
      pairs.delete(p);
      knownGood.set(p, at);
    },
    size: () => ({ addresses: addresses.size, accounts: accounts.size, pairs: pairs.size, knownGood: knownGood.size }),
  };
}
