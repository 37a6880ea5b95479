import { describe, expect, it } from 'vitest';
import { addressKey, createAuthThrottle, type AuthThrottle } from './auth-throttle.js';

/** Milliseconds until an attempt may be checked (0: now). */
const after = (th: AuthThrottle, account: string, address: string): number => {
  const v = th.check(account, address);
  return v.ok ? 0 : v.retryAfterMs;
};

function rig(o: Parameters<typeof createAuthThrottle>[0] = {}) {
  const clock = { t: 1_000_000 };
  const th = createAuthThrottle(
    { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 16_000, forgetAfterMs: 60_000, ...o },
    () => clock.t,
  );
  return { th, clock };
}

describe('auth throttle', () => {
  it('lets the free failures pass, then doubles the wait per failure up to the cap', () => {
    const { th, clock } = rig();
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      clock.t += after(th, 'dr-an', '10.0.0.1'); // a patient guesser: tries again as soon as allowed
      th.failure('dr-an', '10.0.0.1');
      waits.push(after(th, 'dr-an', '10.0.0.1'));
    }
    expect(waits).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 16_000]);
  });

  it('does not count or lengthen anything for an attempt it refused', () => {
    const { th, clock } = rig();
    for (let i = 0; i < 4; i++) th.failure('dr-an', '10.0.0.1');
    expect(after(th, 'dr-an', '10.0.0.1')).toBe(1000);
    clock.t += 400;
    expect(after(th, 'dr-an', '10.0.0.1')).toBe(600); // asked again: nothing recorded
    clock.t += 600;
    expect(after(th, 'dr-an', '10.0.0.1')).toBe(0);
  });

  it('never slows a known-good address for an attacker elsewhere, however many addresses it uses', () => {
    const { th } = rig();
    th.success('dr-an', '10.0.0.1'); // the user's usual workstation
    for (let i = 0; i < 200; i++) th.failure('dr-an', `192.0.2.${i % 250}`);
    expect(after(th, 'dr-an', '10.0.0.1')).toBe(0);
    // The attack is slowed: on the account from every address that never logged in as it, new ones included.
    expect(after(th, 'dr-an', '198.51.100.7')).toBe(16_000);
  });

  it('never slows a known-good pair for someone sharing its address (NAT) who guesses other accounts', () => {
    const { th } = rig();
    th.success('dr-an', '203.0.113.5');
    for (let i = 0; i < 50; i++) th.failure(`guess-${i}`, '203.0.113.5');
    expect(after(th, 'dr-an', '203.0.113.5')).toBe(0);
    expect(after(th, 'dr-binh', '203.0.113.5')).toBe(16_000); // a pair that never succeeded there waits
  });

  it('slows a known-good pair only for its own failures, and forgets them on success', () => {
    const { th } = rig();
    th.success('dr-an', '10.0.0.1');
    for (let i = 0; i < 4; i++) th.failure('dr-an', '10.0.0.1');
    expect(after(th, 'dr-an', '10.0.0.1')).toBe(1000);
    th.success('dr-an', '10.0.0.1');
    expect(after(th, 'dr-an', '10.0.0.1')).toBe(0);
  });

  it('forgets failures after forgetAfterMs, and known-good pairs after knownGoodMs', () => {
    const { th, clock } = rig({ knownGoodMs: 100_000 });
    for (let i = 0; i < 6; i++) th.failure('x', '10.0.0.9');
    expect(after(th, 'x', '10.0.0.9')).toBeGreaterThan(0);
    clock.t += 60_001;
    expect(after(th, 'x', '10.0.0.9')).toBe(0);
    th.success('dr-an', '10.0.0.1');
    for (let i = 0; i < 6; i++) th.failure('dr-an', '192.0.2.1');
    clock.t += 100_001;
    for (let i = 0; i < 6; i++) th.failure('dr-an', '192.0.2.1');
    expect(after(th, 'dr-an', '10.0.0.1')).toBeGreaterThan(0); // no longer known-good: a new pair
  });

  it('compares IPv6 addresses by their /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2::5')).toBe(addressKey('2001:DB8:1:2:ffff:0:0:1'));
    expect(addressKey('2001:db8:1:2::5')).not.toBe(addressKey('2001:db8:1:3::5'));
    expect(addressKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    const { th } = rig();
    for (let i = 0; i < 6; i++) th.failure(`u${i}`, `2001:db8:1:2::${i + 1}`); // one host rotating through its /64
    expect(after(th, 'v', '2001:db8:1:2::99')).toBeGreaterThan(0);
  });

  it('holds at most maxEntries per table', () => {
    const { th } = rig({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) th.failure(`u${i}`, `10.0.${i >> 8}.${i & 255}`);
    expect(th.size()).toEqual({ addresses: 100, accounts: 100, pairs: 100, knownGood: 0 });
  });

  it('gives each record its own free failures and cap, and names the record that holds an attempt', () => {
    const { th } = rig({
      freeFailures: { pair: 2, account: 4, address: 6 },
      maxDelayMs: { pair: 8000, account: 4000, address: 4000 },
    });
    for (let i = 0; i < 3; i++) th.failure('a', '10.0.0.1');
    expect(th.check('a', '10.0.0.1')).toEqual({ ok: false, retryAfterMs: 1000, by: 'pair' });
    expect(th.check('a', '10.0.0.2')).toEqual({ ok: true }); // the account has 4 free failures, 3 spent
    for (let i = 0; i < 2; i++) th.failure('a', `10.0.1.${i}`);
    expect(th.check('a', '10.0.0.2')).toEqual({ ok: false, retryAfterMs: 1000, by: 'account' });
    for (let i = 0; i < 9; i++) th.failure('a', '10.0.0.1');
    expect(th.check('a', '10.0.0.1')).toEqual({ ok: false, retryAfterMs: 8000, by: 'pair' }); // the pair's own cap
    expect(th.check('b', '10.0.0.1')).toEqual({ ok: false, retryAfterMs: 4000, by: 'address' }); // the address's cap
  });
});
