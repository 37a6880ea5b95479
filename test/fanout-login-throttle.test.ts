// Issue 14 finding 5: password guessing on the dashboard. The per-address counter was reset by any successful login
// (an attacker with an account of their own kept guessing), and its lockout shut out everyone behind one NAT. Logins
// are now throttled per (account, address), per account and per address with exponential back-off. Real fan-out,
// real HTTP from several loopback addresses (127.0.0.x: each its own peer address on Linux).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthThrottleOptions } from '../lib/auth-throttle.js';
import { startFanout } from '../fanout/server.js';
import { silentLogger } from '../lib/log.js';
import { startRig, type FanoutRig } from './fanout-kit.js';

// Free failures as lib/auth-throttle.ts counts them: the attempt after the last free one is still checked at once.
const THROTTLE = {
  freeFailures: { pair: 2, account: 4, address: 7 },
  baseDelayMs: 150,
  maxDelayMs: { pair: 60_000, account: 1200, address: 1200 },
  forgetAfterMs: 60_000,
  knownGoodMs: 60_000,
  maxEntries: 1000,
} satisfies AuthThrottleOptions;

interface Answer {
  status: number;
  code: string;
  retryAfterMs: number;
  retryAfter: number;
}

describe('dashboard login throttling', () => {
  let rig: FanoutRig;

  beforeAll(async () => {
    rig = await startRig({ limits: { login: { throttle: THROTTLE } } });
  });
  afterAll(() => rig?.close());

  /** POST /api/login from a given local address. */
  const attempt = (from: string, user: string, password: string, port = rig.fanout.port): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ user, password });
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/login',
          method: 'POST',
          localAddress: from,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const j = JSON.parse(text) as { code?: string; retryAfterMs?: number };
            resolve({
              status: res.statusCode ?? 0,
              code: j.code ?? '',
              retryAfterMs: j.retryAfterMs ?? 0,
              retryAfter: Number(res.headers['retry-after'] ?? 0),
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("keeps counting an attacker's guesses at another account through their own successful logins", async () => {
    // A fan-out of its own on the same broker, with a first delay long enough that no scheduling hiccup ends it.
    const f = await startFanout({
      broker: rig.central.broker.aedes,
      port: 0,
      users: rig.users,
      logger: silentLogger(),
      limits: {
        login: {
          throttle: {
            ...THROTTLE,
            baseDelayMs: 30_000,
            maxDelayMs: { pair: 60_000, account: 60_000, address: 60_000 },
          },
        },
      },
    });
    try {
      const from = '127.0.0.2';
      const victim: Answer[] = [];
      for (let i = 0; i < 6; i++) {
        victim.push(await attempt(from, 'obsall', `guess-${i}`, f.port));
        expect((await attempt(from, 'obs1', 'pw-obs1', f.port)).status).toBe(200); // the attacker's own account
      }
      // Three free failures, then the victim's password is not checked again, whatever the attacker's own logins.
      expect(victim.map((a) => a.status)).toEqual([401, 401, 401, 429, 429, 429]);
      expect(victim[5]).toMatchObject({ code: 'VW_ERR_LOGIN_THROTTLED' });
      expect(victim[5]!.retryAfter).toBeGreaterThanOrEqual(1);
      expect(f.counters.loginFailures).toBe(3);
    } finally {
      await f.close();
    }
  });

  it('does not lock out the others behind one address (NAT): they wait a bounded time, or not at all', async () => {
    const nat = '127.0.0.3';
    // obs1 has logged in from this address before: it is trusted there.
    expect((await attempt(nat, 'obs1', 'pw-obs1')).status).toBe(200);
    // Someone behind the same NAT sprays names, waiting out each delay, until 12 guesses were checked.
    const spray: Answer[] = [];
    for (let i = 0; spray.filter((a) => a.status === 401).length < 12; i++) {
      const a = await attempt(nat, `nobody${i}`, 'x');
      spray.push(a);
      if (a.status === 429) await sleep(a.retryAfterMs + 20);
    }
    expect(spray.slice(0, 8).every((a) => a.status === 401)).toBe(true);
    expect(spray[8]).toMatchObject({ status: 429, code: 'VW_ERR_LOGIN_THROTTLED' });
    // The trusted user is not held back by the address's counter.
    expect((await attempt(nat, 'obs1', 'pw-obs1')).status).toBe(200);
    // A user new at this address waits at most the address's longest delay, then gets in: back-off, not lockout.
    const first = await attempt(nat, 'svc', 'pw-svc');
    expect(first).toMatchObject({ status: 429, code: 'VW_ERR_LOGIN_THROTTLED' });
    expect(first.retryAfterMs).toBeLessThanOrEqual(THROTTLE.maxDelayMs.address);
    await sleep(first.retryAfterMs + 50);
    expect((await attempt(nat, 'svc', 'pw-svc')).status).toBe(200);
  });

  it('throttles guesses at one account from many addresses, with delays that double up to a cap', async () => {
    // admin1's own place of work, where it logged in before.
    expect((await attempt('127.0.0.1', 'admin1', 'pw-admin1')).status).toBe(200);
    let host = 10;
    const next = (): string => `127.0.0.${host++}`;
    for (let i = 0; i <= THROTTLE.freeFailures.account; i++)
      expect((await attempt(next(), 'admin1', 'wrong')).status).toBe(401);
    const waits: number[] = [];
    for (let round = 0; round < 5; round++) {
      const t = await attempt(next(), 'admin1', 'wrong'); // a fresh address: the account's own counter holds it
      expect(t).toMatchObject({ status: 429, code: 'VW_ERR_LOGIN_THROTTLED' });
      waits.push(t.retryAfterMs);
      // Meanwhile the account's owner, from where it logged in before, is not kept out.
      expect((await attempt('127.0.0.1', 'admin1', 'pw-admin1')).status).toBe(200);
      await sleep(t.retryAfterMs + 30);
      expect((await attempt(next(), 'admin1', 'wrong')).status).toBe(401); // the wait is over: checked, failed again
    }
    // 150, 300, 600, 1200 (cap), 1200 ms, less the moments between the failure and the refusal.
    for (let i = 1; i < 4; i++) expect(waits[i]!).toBeGreaterThan(waits[i - 1]! * 1.5);
    expect(Math.max(...waits)).toBeLessThanOrEqual(THROTTLE.maxDelayMs.account);
    expect(waits[4]!).toBeGreaterThan(THROTTLE.maxDelayMs.account * 0.8);
    expect(rig.fanout.counters.loginsThrottled).toBeGreaterThan(0);
  });
});
