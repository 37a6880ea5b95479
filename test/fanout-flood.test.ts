// Issue 14 finding 7: one client subscribing to beds outside its scope wrote an audit entry and a warning per attempt
// (198k in 12 s); the audit's write queue passed its bound and other users' logins failed with 503. Refusals are now
// audited per user and window (the first as it happens, the rest as one counted entry), peer-triggered log lines
// are rate-limited with the suppressed count logged, and control messages have a rate limit per connection.
// Real file audit (its real bounds), real log lines, real sockets.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileAuditLog, type AuditEntry, type AuditLog } from '../fanout/audit.js';
import { startFanout } from '../fanout/server.js';
import { createLogger, silentLogger } from '../lib/log.js';
import { hr, publish, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, login, waitFor } from './ws-client.js';

const FLOOD = 20_000;
const WINDOW_MS = 1000;
const PER_WINDOW = 5;

describe('a client flooding refused subscriptions', () => {
  let rig: FanoutRig;
  let dir: string;
  let audit: AuditLog;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vw-flood-'));
    audit = createFileAuditLog({ dir });
    const logger = createLogger('flood-test', 'info', {
      write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
    });
    rig = await startRig(
      {
        limits: {
          controlOps: { perSecond: 1e6, burst: 1e6 },
          denials: { windowMs: WINDOW_MS, sampleBeds: 8, maxUsers: 1000 },
          peerLog: { perWindow: PER_WINDOW, windowMs: WINDOW_MS },
        },
      },
      { logger, audit },
    );
    await publish(rig.gw, 'bed01', 'obs', 1, hr(71));
    await waitFor(() => rig.fanout.counters.messagesIn >= 1, 5000, 'a Batch in');
  });
  afterAll(async () => {
    await rig?.close();
    await audit?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const entries = (): AuditEntry[] =>
    readdirSync(dir).flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEntry),
    );

  it('audits the refusals as counted entries per window, logs a bounded number of lines, and others still log in', async () => {
    const token = await login(rig.fanout.url, 'nurse1', 'pw-nurse1');
    const socks = await Promise.all(
      [0, 1].map(() => connectWs(rig.fanout.url, token, undefined, { subscribe: false })),
    );
    const before = rig.fanout.counters.refusedSubscriptions;
    let unavailable = 0;
    const watch = setInterval(() => {
      if (!audit.available) unavailable++;
    }, 5);
    try {
      socks.forEach((s, k) => {
        for (let i = 0; i < FLOOD / 2; i++)
          s.ws.send(JSON.stringify({ op: 'subscribe', bed: `site1/gw9/bed${k}-${i}` }));
      });
      // While it runs, another user logs in and opens a bed.
      const other = await connectWs(rig.fanout.url, await login(rig.fanout.url, 'obs1', 'pw-obs1'), undefined, {
        subscribe: ['site1/gw1/bed01'],
      });
      await waitFor(() => other.control.find((m) => m.type === 'subscribed'), 10_000, "the other user's bed");
      await waitFor(() => rig.fanout.counters.refusedSubscriptions >= before + FLOOD, 30_000, 'every refusal handled');
      other.ws.close();
    } finally {
      clearInterval(watch);
    }
    expect(unavailable).toBe(0);
    // The windows end and are written (housekeeping runs every second).
    await waitFor(
      () => {
        const denied = entries().filter((e) => e.event === 'denied' && e.user === 'nurse1');
        return denied.reduce((n, e) => n + (e.count ?? 1), 0) === FLOOD && denied;
      },
      10_000,
      'every refusal counted in the audit',
    );
    const denied = entries().filter((e) => e.event === 'denied' && e.user === 'nurse1');
    // A few entries (one immediate and one aggregate per window), not one per refusal.
    expect(denied.length).toBeLessThan(30);
    expect(denied[0]).toMatchObject({ site: 'site1', gateway: 'gw9' });
    const aggregate = denied.find((e) => (e.count ?? 0) > 1);
    expect(aggregate?.beds?.length).toBe(8);
    expect(aggregate?.beds?.every((b) => b.startsWith('site1/gw9/'))).toBe(true);
    expect(entries().some((e) => e.event === 'open' && e.user === 'obs1' && e.device === 'bed01')).toBe(true);
    // Log lines: a few per window, plus one line per window saying how many were suppressed; together, all of them.
    await waitFor(
      () => {
        const refused = lines.filter((l) => l['event'] === 'subscribe_refused');
        return refused.reduce((n, l) => n + (typeof l['suppressed'] === 'number' ? l['suppressed'] : 1), 0) === FLOOD;
      },
      10_000,
      'the suppressed counts logged',
    );
    expect(lines.filter((l) => l['event'] === 'subscribe_refused').length).toBeLessThan(60);
    expect(rig.fanout.counters.logsSuppressed).toBeGreaterThan(FLOOD - 100);
    for (const s of socks) s.ws.close();
  });

  it('cuts a connection that sends control messages faster than the limit', async () => {
    const f = await startFanout({
      broker: rig.central.broker.aedes,
      port: 0,
      users: rig.users,
      logger: silentLogger(),
      audit: rig.audit,
    });
    try {
      const token = (await f.sessions.issue({ name: 'nurse1', role: 'observer', sites: ['site1/gw1/bed01'] })).token;
      const s = await connectWs(f.url, token, undefined, { subscribe: false });
      const closed = new Promise<number>((resolve) => s.ws.once('close', (code) => resolve(code)));
      const t0 = Date.now();
      for (let i = 0; i < 2000; i++) s.ws.send(JSON.stringify({ op: 'subscribe', bed: `site1/gw9/x${i}` }));
      expect(await closed).toBe(1008);
      const seconds = (Date.now() - t0) / 1000;
      expect(s.control.some((m) => m.type === 'error' && m.code === 'VW_ERR_WS_RATE_LIMITED')).toBe(true);
      // The burst was handled (refused, audited in aggregate); beyond it only what the rate refilled meanwhile.
      expect(f.counters.refusedSubscriptions).toBeLessThanOrEqual(200 + Math.ceil(50 * seconds) + 1);
      expect(f.counters.refusedSubscriptions).toBeLessThan(2000);
      expect(f.counters.rateLimited).toBeGreaterThanOrEqual(20);
    } finally {
      await f.close();
    }
  });
});
