// The gateway's chaos scenarios on real parts. Each returns its figures and the facts the tests assert; the short
// variants run in `npm test` (test/gateway-*.test.ts), the long ones in `npm run chaos` (test/chaos/run.ts).
import { freePort } from '../../lib/listen.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayConfig } from '../../gateway/config.js';
import { startGateway, type Gateway } from '../../gateway/gateway.js';
import { silentLogger } from '../../lib/log.js';
import { GapReason } from '../../proto/index.js';
import { createRng } from '../../simulators/prng.js';
import { openPtyPair, type PtyPair } from '../../simulators/pty.js';
import { openSerialSink, openTcpSink, type Sink } from '../../simulators/sinks.js';
import { analyse, mllpCounter, Rig, streamCounter, until, type Figures, type Rx } from './harness.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'vitalwire');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function drained(gw: Gateway, what: string, ms = 60_000): Promise<void> {
  // Batches still open (within their interval) are closed and stored first.
  await Promise.all([...gw.runtimes.values()].map((rt) => rt.commit()));
  await until(() => gw.uplink.isConnected() && gw.outbox.depth() === 0 && gw.uplink.inflight() === 0, what, ms);
}

// ---- broker outage -----------------------------------------------------------------------------

export interface OutageResult {
  figures: Figures;
  /** Per obs stream: backfill seqs arrived in increasing order. */
  backfillInOrder: boolean;
  /** Per obs stream: every live seq after the restart is above every backfill seq. */
  liveAboveBackfill: boolean;
  /** A live obs batch arrived before the last backfill obs batch (live data was not held behind the backlog). */
  liveDuringReplay: boolean;
  /** Values sent while the broker was down that arrived without the backfill mark (must be 0). */
  outageValuesNotBackfill: number;
  outageValues: number;
}

export async function brokerOutage(o: {
  outageMs: number;
  devices: number;
  rateHz: number;
  replayPerSecond: number;
}): Promise<OutageResult> {
  const rig = new Rig('outage');
  const sinks: Sink[] = [];
  let gw: Gateway | null = null;
  const monitors: ReturnType<typeof streamCounter>[] = [];
  try {
    await rig.startBroker();
    for (let i = 0; i < o.devices; i++) sinks.push(await openTcpSink('127.0.0.1', 0));
    const devices = sinks.map((s, i) => ({
      id: `bed${i + 1}`,
      protocol: 'hl7',
      transport: { kind: 'tcp' as const, host: '127.0.0.1', port: s.port ?? 0 },
    }));
    gw = await startGateway({
      config: gatewayConfig(
        rig.config(devices, {
          batching: { obsMs: 100, waveMs: 100 },
          publish: { replayMessagesPerSecond: o.replayPerSecond },
        }),
      ),
      logger: silentLogger(),
    });
    const g = gw;
    // The gateway has dialled every monitor (a terminal server sends only to connected peers) and the broker.
    await until(() => g.devices.every((d) => d.state === 'connected') && g.uplink.isConnected(), 'gateway connected');
    for (const s of sinks) monitors.push(streamCounter(() => s, o.rateHz));
    await until(() => rig.received.filter((r) => r.kind === 'obs').length >= o.devices * 3, 'live numerics');
    await rig.stopBroker();
    const downAt = Date.now();
    await sleep(o.outageMs);
    const upAt = Date.now();
    await rig.startBroker();
    const epoch = rig.epoch;
    // Keep the devices sending while the backlog drains, then stop them and wait for the rest.
    await until(() => g.uplink.isConnected(), 'reconnect');
    await until(() => !g.outbox.hasBacklog(), 'backlog sent', 120_000);
    await sleep(500);
    for (const m of monitors) m.stop();
    // Everything written has been framed by the gateway, then stored and acknowledged.
    await until(
      () => g.devices.every((d, i) => d.counters.frames >= (monitors[i]?.sent.length ?? 0)),
      'every frame read',
    );
    await drained(g, 'everything acknowledged');

    const expected = new Map(monitors.map((m, i) => [`bed${i + 1}`, m.sent.map((s) => s.n)]));
    const figures = analyse(rig.received, expected);
    const after = rig.received.filter((r) => r.epoch === epoch && r.kind === 'obs');
    const byStream = new Map<string, Rx[]>();
    for (const r of after) byStream.set(r.device, [...(byStream.get(r.device) ?? []), r]);
    let backfillInOrder = true;
    let liveAboveBackfill = true;
    for (const list of byStream.values()) {
      const seen = new Set<number>();
      const first = list.filter((r) => !seen.has(r.seq) && seen.add(r.seq));
      const back = first.filter((r) => r.backfill).map((r) => r.seq);
      const live = first.filter((r) => !r.backfill).map((r) => r.seq);
      for (let i = 1; i < back.length; i++) if ((back[i] ?? 0) <= (back[i - 1] ?? 0)) backfillInOrder = false;
      if (back.length > 0 && live.length > 0 && Math.min(...live) <= Math.max(...back)) liveAboveBackfill = false;
    }
    const lastBackfill = after.map((r) => r.backfill).lastIndexOf(true);
    const firstLive = after.findIndex((r) => !r.backfill);
    const liveDuringReplay = firstLive !== -1 && lastBackfill !== -1 && firstLive < lastBackfill;
    // Values written while the broker was down (with a margin for the moments around the stop and restart).
    const outage = new Map<string, Set<number>>();
    monitors.forEach((m, i) =>
      outage.set(
        `bed${i + 1}`,
        new Set(m.sent.filter((s) => s.atMs > downAt + 300 && s.atMs < upAt - 100).map((s) => s.n)),
      ),
    );
    let outageValues = 0;
    let outageValuesNotBackfill = 0;
    for (const set of outage.values()) outageValues += set.size;
    for (const r of rig.received) {
      if (r.kind !== 'obs' || r.backfill) continue;
      for (const v of r.values) if (outage.get(r.device)?.has(v)) outageValuesNotBackfill++;
    }
    return { figures, backfillInOrder, liveAboveBackfill, liveDuringReplay, outageValuesNotBackfill, outageValues };
  } finally {
    for (const m of monitors) m.stop();
    await gw?.close();
    for (const s of sinks) await s.close();
    await rig.close();
  }
}

// ---- SIGKILL -------------------------------------------------------------------------------------

export interface SigkillResult {
  figures: Figures;
  kills: number;
  /** MLLP messages the monitor had to resend (no ACK before the kill). */
  resent: number;
}

export async function sigkillLoop(o: {
  kills: number;
  minMs: number;
  maxMs: number;
  seed: number;
  log?: (s: string) => void;
}): Promise<SigkillResult> {
  const rig = new Rig('sigkill');
  const rng = createRng(o.seed);
  let child: ChildProcess | null = null;
  let stderr = '';
  const spawnGateway = (file: string) => {
    const c = spawn(process.execPath, [BIN, 'gateway', '--config', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, VW_LOG_LEVEL: 'warn' },
    });
    c.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-8192);
    });
    return c;
  };
  const exited = (c: ChildProcess) =>
    new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
  let sender: ReturnType<typeof mllpCounter> | null = null;
  try {
    await rig.startBroker();
    const port = await freePort();
    const file = join(rig.dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify(
        rig.config(
          [
            {
              id: 'mon1',
              protocol: 'hl7',
              transport: { kind: 'mllp-listener', host: '127.0.0.1', port, allowedPeers: ['127.0.0.1'] },
            },
          ],
          { batching: { obsMs: 100 }, publish: { drainTimeoutMs: 2000 } },
        ),
      ),
    );
    child = spawnGateway(file);
    sender = mllpCounter(port, { ackTimeoutMs: 3000, gapMs: 20 });
    const s = sender;
    await until(() => s.acked.length > 5, 'first acknowledged messages', 30_000);
    for (let k = 0; k < o.kills; k++) {
      // Mid-stream: the restarted gateway is serving again (a message was acknowledged), then a random moment later.
      const served = s.acked.length;
      await until(() => s.acked.length > served, 'the gateway serving again', 30_000);
      await sleep(o.minMs + rng() * (o.maxMs - o.minMs));
      const c: ChildProcess = child;
      c.kill('SIGKILL');
      await exited(c);
      o.log?.(`kill ${k + 1}/${o.kills}: ${s.acked.length} acknowledged so far`);
      child = spawnGateway(file);
    }
    const before = s.acked.length;
    await until(() => s.acked.length > before + 5, 'messages after the last restart', 30_000);
    await s.stop();
    const acked = new Set(s.acked);
    await until(
      () => {
        const got = new Set(rig.received.flatMap((r) => r.values));
        for (const v of acked) if (!got.has(v)) return false;
        return true;
      },
      'every acknowledged message at the broker',
      60_000,
    ).catch(() => undefined);
    const figures = analyse(rig.received, new Map([['mon1', s.acked]]));
    return { figures, kills: o.kills, resent: s.sentMessages - s.acked.length };
  } catch (err) {
    throw new Error(`${(err as Error).message}\ngateway stderr:\n${stderr}`, { cause: err });
  } finally {
    await sender?.stop();
    if (child) {
      const c: ChildProcess = child;
      c.kill('SIGTERM');
      await Promise.race([exited(c), sleep(10_000)]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    await rig.close();
  }
}

// ---- serial unplug -------------------------------------------------------------------------------

export interface UnplugResult {
  figures: Figures;
  unplugs: number;
  reconnects: number;
  /** DEVICE_DISCONNECTED gaps received, and how many of them cover their unplug interval. */
  disconnectGaps: number;
  gapsCoveringUnplug: number;
}

export async function serialUnplug(o: {
  unplugs: number;
  downMs: number;
  rateHz: number;
  upMs?: number;
}): Promise<UnplugResult> {
  const rig = new Rig('unplug');
  let pair: PtyPair | null = null;
  let sink: Sink | null = null;
  let gw: Gateway | null = null;
  let mon: ReturnType<typeof streamCounter> | null = null;
  try {
    await rig.startBroker();
    pair = await openPtyPair(rig.dir, 'mon');
    sink = await openSerialSink(pair.device);
    gw = await startGateway({
      config: gatewayConfig(
        rig.config(
          [{ id: 'bed1', protocol: 'hl7', transport: { kind: 'serial', path: pair.host, baudRate: 115200 } }],
          {
            reconnect: { minMs: 100, maxMs: 400 },
            batching: { obsMs: 100 },
          },
        ),
      ),
      logger: silentLogger(),
    });
    const g = gw;
    const link = g.devices[0];
    if (!link) throw new Error('no device link');
    mon = streamCounter(() => sink, o.rateHz);
    await until(() => rig.received.some((r) => r.kind === 'obs' && r.values.length > 0), 'data over the serial link');
    const windows: { fromMs: number; toMs: number }[] = [];
    for (let k = 0; k < o.unplugs; k++) {
      const s = sink;
      sink = null; // the monitor's bytes go nowhere while the cable is out
      await sleep(200); // bytes already in the cable arrive
      const fromMs = Date.now();
      await s?.close();
      await pair?.close(); // the cable is pulled: both pty ends vanish
      await until(() => link.state !== 'connected', 'the link noticed the unplug');
      await sleep(o.downMs);
      pair = await openPtyPair(rig.dir, 'mon'); // plugged back in, same device path
      // The gateway reopens the port by itself. What the monitor sends before that goes nowhere (and lies inside
      // the Gap), so the test counts as handed over only what it sends once the port is open again.
      await until(() => link.state === 'connected', 'the link reopened by itself');
      const frames = link.counters.frames;
      sink = await openSerialSink(pair.device);
      await until(() => link.counters.frames > frames + 2, 'frames after the replug');
      windows.push({ fromMs, toMs: Date.now() });
      await sleep(o.upMs ?? 0);
    }
    await sleep(300);
    mon.stop();
    const m = mon;
    await until(() => link.counters.frames >= m.sent.length, 'every frame read');
    await drained(g, 'everything acknowledged');
    const figures = analyse(rig.received, new Map([['bed1', mon.sent.map((x) => x.n)]]));
    const gaps = rig.received
      .flatMap((r) => r.gaps)
      .filter((x) => x.reason === GapReason.GAP_REASON_DEVICE_DISCONNECTED);
    const covering = windows.filter((w) =>
      gaps.some((x) => Number(x.fromTimeUs) / 1000 <= w.fromMs && Number(x.toTimeUs) / 1000 >= w.fromMs + o.downMs),
    ).length;
    return {
      figures,
      unplugs: o.unplugs,
      reconnects: link.counters.reconnects,
      disconnectGaps: gaps.length,
      gapsCoveringUnplug: covering,
    };
  } finally {
    mon?.stop();
    await gw?.close();
    await sink?.close();
    await pair?.close();
    await rig.close();
  }
}

// ---- disk quota ----------------------------------------------------------------------------------

export interface QuotaResult {
  figures: Figures;
  shed: Record<string, number>;
  shedGapsStored: number;
  shedGapsReceived: number;
  /** wave and obs seqs neither received nor covered by a Gap (must be 0). */
  uncovered: number;
}

export async function quotaShed(o: {
  quotaBytes: number;
  segmentBytes: number;
  shedSegments: number;
  rateHz: number;
  waveSamples: number;
}): Promise<QuotaResult> {
  const rig = new Rig('quota');
  const tcp = await openTcpSink('127.0.0.1', 0);
  let gw: Gateway | null = null;
  let mon: ReturnType<typeof streamCounter> | null = null;
  try {
    await rig.startBroker();
    gw = await startGateway({
      config: gatewayConfig(
        rig.config(
          [{ id: 'bed1', protocol: 'hl7', transport: { kind: 'tcp', host: '127.0.0.1', port: tcp.port ?? 0 } }],
          {
            outbox: { quotaBytes: o.quotaBytes, segmentBytes: o.segmentBytes },
            batching: { obsMs: 250, waveMs: 250 },
            publish: { statusIntervalMs: 1000 },
          },
        ),
      ),
      logger: silentLogger(),
    });
    const g = gw;
    await until(() => g.uplink.isConnected() && g.devices.every((d) => d.state === 'connected'), 'connected');
    await rig.stopBroker();
    const m = streamCounter(() => tcp, o.rateHz, o.waveSamples);
    mon = m;
    await until(() => g.outbox.counters.shedSegments >= o.shedSegments, 'shedding', 120_000);
    m.stop();
    const link = g.devices[0];
    await until(() => (link?.counters.frames ?? 0) >= m.sent.length, 'every frame read');
    await rig.startBroker();
    await drained(g, 'everything acknowledged', 120_000);
    const figures = analyse(rig.received, new Map([['bed1', mon.sent.map((x) => x.n)]]));
    const seen = new Set<string>();
    const gapsBy = new Map<string, Set<number>>();
    let shedGapsReceived = 0;
    for (const r of rig.received) {
      if (seen.has(`${r.device}/${r.kind}/${r.seq}`)) continue;
      seen.add(`${r.device}/${r.kind}/${r.seq}`);
      for (const x of r.gaps) {
        if (x.reason !== GapReason.GAP_REASON_SHED_QUOTA) continue;
        shedGapsReceived++;
        const k = `${r.device}/${x.kind === 2 ? 'wave' : x.kind === 1 ? 'obs' : 'other'}`;
        const set = gapsBy.get(k) ?? new Set<number>();
        for (let s = Number(x.fromSeq); s <= Number(x.toSeq); s++) set.add(s);
        gapsBy.set(k, set);
      }
    }
    let uncovered = 0;
    for (const kind of ['wave', 'obs'] as const) {
      const have = new Set(rig.received.filter((r) => r.kind === kind).map((r) => r.seq));
      const max = g.outbox.lastSeq('bed1', kind);
      const gapped = gapsBy.get(`bed1/${kind}`) ?? new Set<number>();
      for (let s = 1; s <= max; s++) if (!have.has(s) && !gapped.has(s)) uncovered++;
    }
    return {
      figures,
      shed: { ...g.outbox.counters.shedRecords },
      shedGapsStored: g.outbox.counters.gaps,
      shedGapsReceived,
      uncovered,
    };
  } finally {
    mon?.stop();
    await gw?.close();
    await tcp.close();
    await rig.close();
  }
}
