import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { bedInScope, compileScope } from './scope.js';
import { loadOrCreateSessionSecret } from './secret.js';
import { createSessionIssuer, newSessionSecret } from './session.js';

describe('session scope', () => {
  it('reads sites, gateways and single beds; anything else grants nothing', () => {
    const s = compileScope(['site1', 'site2/gw7', 'site3/gw1/bed04', 'bad/+', '', 'a/b/c/d', 42]);
    expect(s.entries).toEqual(['site1', 'site2/gw7', 'site3/gw1/bed04']);
    expect(bedInScope(s, 'site1', 'any', 'thing')).toBe(true);
    expect(bedInScope(s, 'site2', 'gw7', 'x')).toBe(true);
    expect(bedInScope(s, 'site2', 'gw8', 'x')).toBe(false);
    expect(bedInScope(s, 'site3', 'gw1', 'bed04')).toBe(true);
    expect(bedInScope(s, 'site3', 'gw1', 'bed05')).toBe(false);
    expect(bedInScope(compileScope(['*']), 'x', 'y', 'z')).toBe(true);
    expect(bedInScope(compileScope([]), 'x', 'y', 'z')).toBe(false);
  });
});

describe('session tokens', () => {
  const user = { name: 'dr-a', role: 'observer', sites: ['site1', 'site2/gw1/bed01'] };

  it('round-trips the user, role and scope', async () => {
    const issuer = createSessionIssuer(newSessionSecret(), 60_000);
    const { token, session } = await issuer.issue(user);
    const back = await issuer.verify(token);
    expect(back?.user).toBe('dr-a');
    expect(back?.role).toBe('observer');
    expect(back?.scope.entries).toEqual(['site1', 'site2/gw1/bed01']);
    expect(back?.expiresAt).toBe(session.expiresAt);
  });

  it('refuses expired, tampered, foreign-key and unsigned tokens', async () => {
    let now = Date.now();
    const secret = newSessionSecret();
    const issuer = createSessionIssuer(secret, 60_000, () => now);
    const { token } = await issuer.issue(user);
    now += 61_000;
    expect(await issuer.verify(token)).toBeNull(); // expired
    now -= 61_000;
    const [h, p, sig] = token.split('.') as [string, string, string];
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: ['*'] }),
    ).toString('base64url');
    expect(await issuer.verify(`${h}.${widened}.${sig}`)).toBeNull(); // scope widened by the holder
    expect(await createSessionIssuer(newSessionSecret(), 60_000).verify(token)).toBeNull(); // another key
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    expect(await issuer.verify(none)).toBeNull(); // alg none
    const hs512 = await new SignJWT({ role: 'observer', scope: ['*'] })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('x')
      .setIssuer('vitalwire-fanout')
      .setAudience('vitalwire-dashboard')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(secret);
    expect(await issuer.verify(hs512)).toBeNull(); // an algorithm the issuer does not use
    expect(await issuer.verify('x'.repeat(5000))).toBeNull();
  });

  it('refuses short keys and keeps the key file private', async () => {
    expect(() => createSessionIssuer(Buffer.alloc(16), 60_000)).toThrow(/at least 32/);
    const dir = mkdtempSync(join(tmpdir(), 'vw-secret-'));
    try {
      const path = join(dir, 'fanout', 'session.key');
      const a = await loadOrCreateSessionSecret(path);
      expect(a.length).toBe(32);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect((await loadOrCreateSessionSecret(path)).equals(a)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
