// Who may connect and what they may see: login against the users store, session tokens, Origin, per-user
// connection limit, bed scopes, session expiry, audit, on a real TLS broker and real WebSockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSessionIssuer } from '../fanout/session.js';
import { startFanout } from '../fanout/server.js';
import { silentLogger } from '../lib/log.js';
import { publish, hr, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, login, waitFor, wsUrl } from './ws-client.js';

const SECRET = Buffer.alloc(32, 7);

describe('fan-out logins, sessions and scopes', () => {
  let rig: FanoutRig;
  let skewMs = 0; // the fan-out's clock runs this far ahead (session expiry without waiting 10 s)

  beforeAll(async () => {
    rig = await startRig({
      sessionSecret: SECRET,
      sessionTtlMs: 60_000,
      now: () => Date.now() + skewMs,
      limits: { maxConnectionsPerUser: 2 },
    });
    // Beds the scoped user may and may not see.
    await publish(rig.gw, 'bed01', 'obs', 1, hr(71));
    await publish(rig.gw, 'bed02', 'obs', 1, hr(72));
    await waitFor(() => rig.fanout.counters.messagesIn >= 2, 5000, 'two Batches in');
  });
  afterAll(() => rig?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(new URL(path, rig.fanout.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('logs in with a users-store password and issues a token with the user scope', async () => {
    const res = await post('/api/login', { user: 'obs1', password: 'pw-obs1' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      token: string;
      user: string;
      role: string;
      scope: string[];
      expiresAt: number;
    };
    expect(body).toMatchObject({ user: 'obs1', role: 'observer', scope: ['site1'] });
    expect(body.expiresAt).toBeGreaterThan(Date.now());
    expect(body.token.split('.')).toHaveLength(3);
    expect(rig.audit.entries.some((e) => e.event === 'login' && e.user === 'obs1')).toBe(true);
  });

  it('refuses wrong passwords and unknown users alike, then throttles the guesses', async () => {
    const a = await post('/api/login', { user: 'obs1', password: 'nope' });
    const b = await post('/api/login', { user: 'nobody', password: 'nope' });
    expect([a.status, b.status]).toEqual([401, 401]);
    expect(await a.json()).toMatchObject({ code: 'VW_ERR_LOGIN_FAILED' });
    expect(rig.audit.entries.filter((e) => e.event === 'login_failed').map((e) => e.user)).toEqual(['obs1', 'nobody']);
    expect(JSON.stringify(rig.audit.entries)).not.toContain('nope'); // no password in the audit
    // A fan-out of its own with a low limit, so the other tests' logins from this address go on.
    const f = await startFanout({
      broker: rig.central.broker.aedes,
      port: 0,
      users: rig.users,
      logger: silentLogger(),
      limits: {
        login: {
          throttle: {
            freeFailures: { pair: 2, account: 9, address: 9 },
            baseDelayMs: 60_000,
            maxDelayMs: { pair: 60_000, account: 60_000, address: 60_000 },
            forgetAfterMs: 60_000,
            knownGoodMs: 60_000,
            maxEntries: 100,
          },
        },
      },
    });
    try {
      const at = (body: unknown): Promise<Response> =>
        fetch(new URL('/api/login', f.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      for (let i = 0; i < 3; i++) expect((await at({ user: 'obs1', password: 'nope' })).status).toBe(401);
      const limited = await at({ user: 'obs1', password: 'pw-obs1' }); // right, but throttled now: no check runs
      expect(limited.status).toBe(429);
      expect(await limited.json()).toMatchObject({ code: 'VW_ERR_LOGIN_THROTTLED' });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(f.counters.loginsThrottled).toBe(1);
    } finally {
      await f.close();
    }
  });

  it('refuses logins from a foreign page and malformed requests', async () => {
    expect((await post('/api/login', { user: 'x', password: 'y' }, { origin: 'https://evil.example' })).status).toBe(
      403,
    );
    const notJson = await fetch(new URL('/api/login', rig.fanout.url), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'user=a',
    });
    expect(notJson.status).toBe(415);
    const big = await post('/api/login', { user: 'a', password: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
    expect((await fetch(new URL('/api/login', rig.fanout.url))).status).toBe(405);
  });

  it('checks the token and the Origin on upgrade', async () => {
    const token = (await rig.fanout.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
    await expect(connectWs(rig.fanout.url, 'not-a-token')).rejects.toThrow(/403 VW_ERR_WS_AUTH/);
    const forged = (
      await createSessionIssuer(Buffer.alloc(32, 8), 60_000).issue({ name: 'obsall', role: 'observer', sites: ['*'] })
    ).token;
    await expect(connectWs(rig.fanout.url, forged)).rejects.toThrow(/403 VW_ERR_WS_AUTH/);
    const expired = (
      await createSessionIssuer(SECRET, 60_000, () => Date.now() - 120_000).issue({
        name: 'obsall',
        role: 'observer',
        sites: ['*'],
      })
    ).token;
    await expect(connectWs(rig.fanout.url, expired)).rejects.toThrow(/403 VW_ERR_WS_AUTH/);
    await expect(connectWs(rig.fanout.url, token, undefined, { origin: 'https://evil.example' })).rejects.toThrow(
      /403 VW_ERR_WS_ORIGIN/,
    );
    const ok = await connectWs(rig.fanout.url, token, undefined, {
      origin: rig.fanout.url.replace(/\/$/, ''),
      subscribe: false,
    });
    await waitFor(() => ok.control.find((m) => m.type === 'hello'), 5000, 'hello');
    ok.ws.close();
  });

  it('announces only the beds in scope and refuses a bed outside it, saying why', async () => {
    const token = await login(rig.fanout.url, 'nurse1', 'pw-nurse1');
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    const beds = await waitFor(() => s.control.find((m) => m.type === 'beds'), 5000, 'bed list');
    expect(beds.type === 'beds' && beds.beds.map((b) => b.key)).toEqual(['site1/gw1/bed01']);
    const refusedBefore = rig.fanout.counters.refusedSubscriptions;
    s.subscribe('site1/gw1/bed02');
    const refused = await waitFor(() => s.control.find((m) => m.type === 'refused'), 5000, 'refusal');
    expect(refused).toMatchObject({ type: 'refused', bed: 'site1/gw1/bed02', code: 'VW_ERR_WS_SCOPE' });
    expect(rig.fanout.counters.refusedSubscriptions).toBe(refusedBefore + 1);
    expect(rig.audit.entries.some((e) => e.event === 'denied' && e.user === 'nurse1' && e.device === 'bed02')).toBe(
      true,
    );
    // Nothing of bed02 arrives, even when it publishes; bed01 does, after its 'open' is audited.
    s.subscribe('site1/gw1/bed01');
    await waitFor(() => s.control.find((m) => m.type === 'subscribed'), 5000, 'subscribed');
    await publish(rig.gw, 'bed02', 'obs', 2, hr(90));
    await publish(rig.gw, 'bed01', 'obs', 2, hr(80));
    await waitFor(() => s.received.some((r) => Number(r.batch.seq) === 2), 5000, 'bed01 live');
    expect(s.received.every((r) => r.batch.source?.device === 'bed01')).toBe(true);
    expect(
      rig.audit.entries.some(
        (e) => e.event === 'open' && e.user === 'nurse1' && e.device === 'bed01' && e.bed === 'Bed 01',
      ),
    ).toBe(true);
    s.ws.close();
  });

  it('answers malformed control messages with an error and keeps the connection', async () => {
    const token = await login(rig.fanout.url, 'obsall', 'pw-obsall');
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    s.ws.send('{not json');
    s.ws.send(JSON.stringify({ op: 'subscribe', bed: 'site1/gw1/bed01', streams: ['bogus'] }));
    s.ws.send(JSON.stringify({ op: 'subscribe', bed: 'site1/gw1' })); // not site/gateway/device
    await waitFor(
      () => s.control.filter((m) => m.type === 'error' || m.type === 'refused').length >= 3,
      5000,
      'three answers',
    );
    expect(
      s.control
        .filter((m) => m.type === 'error' || m.type === 'refused')
        .map((m) => (m.type === 'error' || m.type === 'refused' ? m.code : '')),
    ).toEqual(['VW_ERR_WS_BAD_REQUEST', 'VW_ERR_WS_BAD_REQUEST', 'VW_ERR_WS_BAD_REQUEST']);
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.ws.close();
  });

  it('limits connections per user', async () => {
    const token = (await rig.fanout.sessions.issue({ name: 'svc', role: 'service', sites: ['*'] })).token;
    const a = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    const b = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    await expect(connectWs(rig.fanout.url, token, undefined, { subscribe: false })).rejects.toThrow(
      /429 VW_ERR_WS_CONN_LIMIT/,
    );
    const before = rig.fanout.counters.clients;
    a.ws.close();
    await waitFor(() => rig.fanout.counters.clients < before, 5000, 'a closed on the server');
    const c = await connectWs(rig.fanout.url, token, undefined, { subscribe: false }); // a slot is free again
    b.ws.close();
    c.ws.close();
  });

  it('renews a session over the API and the socket; closes the socket when the session expires', async () => {
    const token = await login(rig.fanout.url, 'admin1', 'pw-admin1');
    const renewed = await post('/api/session', {}, { authorization: `Bearer ${token}` });
    expect(renewed.status).toBe(200);
    const next = ((await renewed.json()) as { token: string }).token;
    expect((await post('/api/session', {}, { authorization: 'Bearer junk' })).status).toBe(401);
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    s.ws.send(JSON.stringify({ op: 'renew', token: next }));
    await waitFor(() => s.control.find((m) => m.type === 'renewed'), 5000, 'renewed');
    const closed = new Promise<number>((resolve) => s.ws.once('close', (code) => resolve(code)));
    skewMs = 10 * 60_000; // the fan-out's clock jumps past every token's expiry
    expect(await closed).toBe(4001);
    expect(rig.fanout.counters.expired).toBeGreaterThan(0);
    skewMs = 0;
  });

  it('closes a client that sends an oversize message (1009)', async () => {
    const token = (await rig.fanout.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: false });
    const code = await new Promise<number>((resolve) => {
      s.ws.once('close', (c) => resolve(c));
      s.ws.send('x'.repeat(64 * 1024));
    });
    expect(code).toBe(1009);
  });

  it('terminates a client that stops answering pings', async () => {
    // Its own fan-out with a fast ping clock on the same broker.
    const f = await startFanout({
      broker: rig.central.broker.aedes,
      port: 0,
      users: rig.users,
      logger: silentLogger(),
      limits: { pingIntervalMs: 1000 },
    });
    try {
      const token = (await f.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
      const mute = new WebSocket(wsUrl(f.url), ['vw.v1', `vw.token.${token}`], { autoPong: false });
      await new Promise((resolve, reject) => {
        mute.once('open', resolve);
        mute.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => mute.once('close', (c) => resolve(c)));
      expect(await closed).toBe(1006); // terminated: no close frame
      expect(f.counters.pongTimeouts).toBe(1);
    } finally {
      await f.close();
    }
  });
});
