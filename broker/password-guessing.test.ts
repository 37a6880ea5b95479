// Issue 14, finding 5: password guessing on MQTT. The review sent 300 wrong passwords at 8.5/s and the right one was
// accepted at once. Real TLS broker, real mqtt.js clients, each from its own loopback address (127.0.0.x), so the
// broker sees distinct peers as it would on a network.
import { describe, expect, it } from 'vitest';
import { startBroker, type Broker } from './broker.js';
import { pkiPerFile, testUsers } from './test-kit.js';
import { createUserStore } from './users.js';

const t = pkiPerFile('guessing');

const FREE = 3;

async function broker(now: () => number): Promise<Broker> {
  const c = await startBroker({
    port: 0,
    tls: t.pki.brokerTls,
    users: createUserStore(await testUsers()),
    now,
    limits: { authFailuresBeforeBackoff: FREE, authBackoffBaseMs: 1000, authBackoffMaxMs: 60_000 },
  });
  t.k.url = `mqtts://127.0.0.1:${c.port}`;
  return c;
}

/** A password login as `user` from loopback address `from`; the CONNACK code, 0 when accepted. */
async function login(user: string, password: string, from: string): Promise<number> {
  try {
    const c = await t.k.connect(
      t.k.base({
        username: user,
        password,
        clientId: `${user}:${Math.random().toString(16).slice(2, 8)}`,
        localAddress: from,
      } as object),
    );
    await c.endAsync();
    return 0;
  } catch (err) {
    return Number((err as { code?: number }).code);
  }
}

describe('password guessing', () => {
  it('refuses the right password right after a run of wrong ones (CONNACK 3, auth-throttled) until the back-off ends', async () => {
    const clock = { t: 1_000_000 };
    const c = await broker(() => clock.t);
    try {
      for (let i = 0; i < FREE + 5; i++)
        expect(await login('obs1', `wrong-${i}`, '127.0.0.2'), `attempt ${i}`).toBe(i < FREE + 1 ? 4 : 3);
      // Before: accepted at once. Now the guesser waits 2^n seconds per guess, right password or not.
      expect(await login('obs1', 'pw-obs1', '127.0.0.2')).toBe(3);
      expect(c.counters.refusedConnects['bad-password']).toBe(FREE + 1);
      expect(c.counters.refusedConnects['auth-throttled']).toBe(5);
      clock.t += 1000; // the first back-off (base 1 s) has passed
      expect(await login('obs1', 'pw-obs1', '127.0.0.2')).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('never locks a user out from an address it logged in from, whatever an attacker does elsewhere or beside it', async () => {
    const clock = { t: 1_000_000 };
    const c = await broker(() => clock.t);
    try {
      expect(await login('svc', 'pw-svc', '127.0.0.2')).toBe(0); // the service's usual address: known-good from now on
      // An attacker spread over addresses guesses the service's password until every guess is throttled...
      for (let i = 0; i < 12; i++) await login('svc', `guess-${i}`, `127.0.1.${i + 1}`);
      expect(c.counters.refusedConnects['auth-throttled'] ?? 0).toBeGreaterThan(0);
      expect(await login('svc', `guess-x`, '127.0.1.99')).toBe(3);
      // ...and one sharing the service's own address guesses other accounts.
      for (let i = 0; i < 8; i++) await login('obsall', `guess-${i}`, '127.0.0.2');
      expect(await login('obsall', 'pw-obsall', '127.0.0.2')).toBe(3);
      // The service, from where it always logs in, with its password: in at once.
      expect(await login('svc', 'pw-svc', '127.0.0.2')).toBe(0);
      // From a new address during the attack it waits like the attacker (documented: security.md, password guessing).
      expect(await login('svc', 'pw-svc', '127.0.0.3')).toBe(3);
    } finally {
      await c.close();
    }
  });

  it('does not throttle certificate logins', async () => {
    const clock = { t: 1_000_000 };
    const c = await broker(() => clock.t);
    try {
      for (let i = 0; i < 10; i++) await login('site1', `wrong-${i}`, '127.0.0.1');
      const gw = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
      expect(gw.connected).toBe(true);
    } finally {
      await c.close();
    }
  });
});
