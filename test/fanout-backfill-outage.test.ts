// Truth defect: backfill never reached the dashboards after a long outage. The gateway replays a long backlog after
// live data (docs/gateway.md, "live first"); the fan-out's ring took every backfilled Batch below a live seq for a
// QoS 1 duplicate (and a backfilled seq 1 for a restart), so what the monitors measured during the outage never
// reached a ring or a dashboard. On real parts: a real gateway with its durable outbox, a monitor on a TCP link, TLS
// MQTT to a real broker through a TCP gate the test cuts, the real fan-out, a WebSocket client watching throughout,
// one subscribing afterwards, and Chromium showing the bed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createUserStore, hashPassword } from '../broker/users.js';
import { bundleDashboard } from '../dashboard/bundle.js';
import { startFanout, type Fanout } from '../fanout/server.js';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { Kind } from '../proto/index.js';
import { openTcpSink, type Sink } from '../simulators/sinks.js';
import { chromiumAvailable, launchChromium, submitLogin } from './browser.js';
import { GATEWAY, Rig, SITE, streamCounter, until } from './chaos/harness.js';
import { startTcpGate, type TcpGate } from './tcp-gate.js';
import { connectWs, type Received, type WsSession } from './ws-client.js';

const BED = `${SITE}/${GATEWAY}/bed01`;
const OUTAGE_MS = 4000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backfill after a long outage reaches the rings and the dashboards', () => {
  const rig = new Rig('fanout-outage');
  let fanout: Fanout;
  let gate: TcpGate;
  let sink: Sink;
  let gw: Gateway;
  let monitor: ReturnType<typeof streamCounter>;
  let watcher: WsSession;
  let browser: Browser | null = null;
  let page: Page | null = null;
  let downAt = 0;
  let upAt = 0;

  beforeAll(async () => {
    await rig.startBroker();
    const users = createUserStore([
      { name: 'doc', role: 'observer', sites: ['*'], hash: await hashPassword('pw-doc-12345') },
    ]);
    fanout = await startFanout({
      broker: rig.central!.broker.aedes,
      port: 0,
      users,
      logger: silentLogger(),
      assets: chromiumAvailable() ? await bundleDashboard() : new Map(),
    });
    gate = await startTcpGate({ host: '127.0.0.1', port: rig.port }, true);
    sink = await openTcpSink('127.0.0.1', 0);
    gw = await startGateway({
      config: gatewayConfig(
        rig.config(
          [{ id: 'bed01', protocol: 'hl7', transport: { kind: 'tcp', host: '127.0.0.1', port: sink.port ?? 0 } }],
          {
            broker: {
              urls: [`mqtts://127.0.0.1:${gate.port}`],
              reconnect: { minMs: 50, maxMs: 200 },
              connectTimeoutMs: 3000,
            },
            batching: { obsMs: 100, waveMs: 100 },
            // A backlog longer than a second of replay goes behind live data (publisher.ts SMALL_BACKLOG_SECONDS).
            publish: { replayMessagesPerSecond: 10 },
          },
        ),
      ),
      logger: silentLogger(),
    });
    const g = gw;
    await until(() => g.devices.every((d) => d.state === 'connected') && g.uplink.isConnected(), 'gateway connected');
    monitor = streamCounter(() => sink, 20);
    const token = (await fanout.sessions.issue({ name: 'doc', role: 'observer', sites: ['*'] })).token;
    await until(() => fanout.counters.messagesIn > 5, 'live data at the fan-out');
    watcher = await connectWs(fanout.url, token, undefined, {
      subscribe: [BED],
      streams: ['obs'],
      backfill: { obsMs: 3600_000 },
    });
    if (chromiumAvailable()) {
      browser = await launchChromium();
      page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
      await submitLogin(page, fanout.url, 'doc', 'pw-doc-12345');
      await page.waitForURL(/#\/ward/);
      await page.goto(`${fanout.url}#/bed/${BED}`);
      await page.locator('#bed [data-mdc="147842"] .value').waitFor();
    }
    await sleep(1000);
    // The outage: the uplink cut, the monitor still sending, the gateway storing.
    gate.close();
    downAt = Date.now();
    await sleep(OUTAGE_MS);
    upAt = Date.now();
    gate.open();
    await until(() => g.uplink.isConnected(), 'reconnected');
    await until(() => !g.outbox.hasBacklog(), 'backlog sent', 60_000);
    await sleep(500);
    monitor.stop();
    await Promise.all([...g.runtimes.values()].map((rt) => rt.commit()));
    await until(() => g.outbox.depth() === 0 && g.uplink.inflight() === 0, 'everything acknowledged', 30_000);
  }, 120_000);

  afterAll(async () => {
    monitor?.stop();
    watcher?.ws.close();
    await browser?.close();
    await gw?.close();
    await fanout?.close();
    await gate?.stop();
    await sink?.close();
    await rig.close();
  });

  const obsSeqs = (rs: Received[]): number[] =>
    rs
      .filter((r) => r.batch.kind === Kind.KIND_OBS && r.batch.source?.device === 'bed01')
      .map((r) => Number(r.batch.seq));

  it('delivers every numerics Batch once to a dashboard watching through the outage, backlog included', async () => {
    const last = gw.outbox.lastSeq('bed01', 'obs');
    await until(() => new Set(obsSeqs(watcher.received)).size >= last, 'every seq at the watcher', 10_000).catch(
      () => undefined,
    );
    const got = obsSeqs(watcher.received);
    expect(new Set(got).size).toBe(got.length); // once each
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    // It was the live-first replay: backfilled Batches came after live ones with higher seqs.
    const backfilled = watcher.received
      .filter((r) => r.batch.kind === Kind.KIND_OBS && r.batch.backfill)
      .map((r) => Number(r.batch.seq));
    expect(backfilled.length).toBeGreaterThan(10);
    const firstLiveAfter = got.findIndex((s, i) => i > 0 && s > Math.max(...backfilled));
    expect(firstLiveAfter).toBeGreaterThan(-1);
    expect(got.indexOf(Math.max(...backfilled))).toBeGreaterThan(firstLiveAfter);
    // Every value the monitor sent is in what the dashboard got (HL7 counter messages: HR = message number).
    const values = new Set(watcher.received.flatMap((r) => r.batch.observations.map((o) => Number(o.number))));
    const missing = monitor.sent.filter((m) => !values.has(m.n)).map((m) => m.n);
    expect(missing).toEqual([]);
  });

  it('keeps the backlog in the ring: a dashboard opening the bed afterwards gets the whole history in seq order', async () => {
    const token = (await fanout.sessions.issue({ name: 'doc', role: 'observer', sites: ['*'] })).token;
    const later = await connectWs(fanout.url, token, undefined, {
      subscribe: [BED],
      streams: ['obs'],
      backfill: { obsMs: 3600_000 },
    });
    const last = gw.outbox.lastSeq('bed01', 'obs');
    await until(() => obsSeqs(later.received).length >= last, 'the history', 10_000).catch(() => undefined);
    expect(obsSeqs(later.received)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    later.ws.close();
  });

  it.skipIf(!chromiumAvailable())(
    'shows the outage as history on the page: the trend holds it, no gap is left',
    async () => {
      const p = page as Page;
      const bed = () =>
        p.evaluate(
          (k) =>
            (
              globalThis as unknown as { __vitalwire: { bed(k: string): { gaps: number; hrTrendMs: number[] } | null } }
            ).__vitalwire.bed(k),
          BED,
        );
      await expect.poll(async () => (await bed())?.gaps, { timeout: 10_000 }).toBe(0);
      const times = (await bed())?.hrTrendMs ?? [];
      // Values measured while the uplink was down are on the trend, in time order.
      expect(times.filter((t) => t > downAt + 500 && t < upAt - 500).length).toBeGreaterThan(
        (OUTAGE_MS / 1000 - 1) * 5,
      );
      expect(times).toEqual([...times].sort((a, b) => a - b));
      await expect.poll(() => p.locator('#bed .gap-info').isVisible(), { timeout: 2000 }).toBe(false); // its 500 ms tick
      expect(await p.textContent('#bed .link')).not.toMatch(/CATCHING UP/);
    },
  );
});
