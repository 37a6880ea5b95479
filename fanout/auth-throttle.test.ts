import { describe, expect, it } from 'vitest';
import { createAuthThrottle, type ThrottleLimits } from './auth-throttle.js';

const L: ThrottleLimits = {
  freeFailures: { pair: 2, account: 4, address: 6 }, baseDelayMs: 1000, maxDelayMs: { pair: 8000, account: 4000, address: 4000 },
  forgetMs: 60_000, trustMs: 3600_000, maxTracked: 50,
};

describe('auth throttle', () => {
  it('starts over after forgetMs without a failure', () => {
    const t = createAuthThrottle(L);
    t.failed('a', '10.0.0.1', 0);
    t.failed('a', '10.0.0.1', 0);
    expect(t.check('a', '10.0.0.1', 500)).toMatchObject({ ok: false, by: 'pair', retryAfterMs: 500 });
    expect(t.check('a', '10.0.0.1', 1000)).toEqual({ ok: true });
    t.failed('a', '10.0.0.1', 61_001); // a minute later: the first failure of a new count
    expect(t.check('a', '10.0.0.1', 61_001)).toEqual({ ok: true });
  });

  it('holds at most maxTracked entries per table however many names and addresses come', () => {
    const t = createAuthThrottle(L);
    for (let i = 0; i < 1000; i++) t.failed(`u${i}`, `10.0.${i >> 8}.${i & 255}`, i);
    expect(t.tracked).toBeLessThanOrEqual(3 * L.maxTracked);
  });

  it('a success trusts the pair: others\' failures on the account and address no longer hold it', () => {
    const t = createAuthThrottle(L);
    t.succeeded('owner', '10.0.0.9', 0);
    for (let i = 0; i < 10; i++) t.failed('owner', `10.1.0.${i}`, 10); // someone elsewhere guesses the owner's password
    for (let i = 0; i < 10; i++) t.failed(`x${i}`, '10.0.0.9', 10); // someone at the owner's address sprays names
    expect(t.check('owner', '10.0.0.9', 20)).toEqual({ ok: true });
    expect(t.check('owner', '10.2.0.1', 20)).toMatchObject({ ok: false, by: 'account' });
    expect(t.check('newcomer', '10.0.0.9', 20)).toMatchObject({ ok: false, by: 'address' });
    // Trust does not cover the owner's own guesses at its own pair.
    t.failed('owner', '10.0.0.9', 30);
    t.failed('owner', '10.0.0.9', 30);
    expect(t.check('owner', '10.0.0.9', 40)).toMatchObject({ ok: false, by: 'pair' });
  });
});

describe('addresses as the throttle counts them', () => {
  it('counts an IPv6 peer by its /64, and an IPv4-mapped one as IPv4', async () => {
    const { addressKey } = await import('./auth-throttle.js');
    expect(addressKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
    const t = createAuthThrottle(L);
    for (let i = 0; i < 6; i++) t.failed(`u${i}`, `2001:db8:0:1::${i + 1}`, 0); // a fresh address per guess
    expect(t.check('v', '2001:db8:0:1::99', 1)).toMatchObject({ ok: false, by: 'address' });
  });
});
