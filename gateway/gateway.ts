// The gateway process: a validated, frozen config in; one loop per device owning its I/O; decoded payloads batched
// into the durable outbox; the uplink publishing from the outbox; status, clocks, metrics and a graceful shutdown that
// stores everything and waits (bounded) for PUBACKs. docs/gateway.md describes the whole.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { getProtocol } from '../decoders/registry.js';
import type { Logger } from '../lib/log.js';
import { LinkState } from '../proto/index.js';
import { openCapture, type Capture, type CaptureWriter } from './capture.js';
import { probeClockSync } from './clock-sync.js';
import { GATEWAY_DEVICE, type DeviceConfig, type GatewayConfig, type TransportConfig } from './config.js';
import { startDeviceLink, nowUs as systemNowUs, type DeviceLink } from './device-link.js';
import { DeviceRuntime } from './device-runtime.js';
import { lineName, type LineSettings } from './diagnosis.js';
import { isoUs, STATUS_FILE_INTERVAL_MS, writeStatusFile, type GatewayReport } from './diagnosis-status.js';
import { acquireDataDir } from './lock.js';
import { createGatewayMetrics, startMetricsServer, type GatewayMetrics, type MetricsServer } from './metrics.js';
import { Outbox } from './outbox/outbox.js';
import { startUplink, type Uplink } from './publisher.js';
import { silenceAfterMs } from './silence.js';
import type { LinkOpener } from './transports/link.js';
import { startMllpListener, type MllpListener } from './transports/mllp-listener.js';
import { openSerialLink } from './transports/serial.js';
import { openTcpLink } from './transports/tcp.js';

export type { DeviceConfig, GatewayConfig, TransportConfig } from './config.js';

/** How often the gateway's own clock sync state is read. */
export const CLOCK_PROBE_INTERVAL_MS = 60_000;
/** How often each device's diagnosis is re-evaluated (gateway/diagnosis.ts). */
export const DIAGNOSIS_TICK_MS = 1000;

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  /** Raw capture directory (`--record DIR`); overrides config.record.dir. */
  recordDir?: string;
  nowUs?: () => number;
}

export interface Gateway {
  readonly config: GatewayConfig;
  readonly devices: DeviceLink[];
  readonly runtimes: ReadonlyMap<string, DeviceRuntime>;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  readonly metrics: GatewayMetrics;
  /** Bound ports of MLLP listeners by device id (port 0 in the config picks one). */
  readonly mllpPorts: ReadonlyMap<string, number>;
  readonly metricsPort: number | null;
  /** What `vitalwire gateway status` shows (gateway/diagnosis-status.ts). */
  report(): GatewayReport;
  close(): Promise<void>;
}

function opener(t: TransportConfig): LinkOpener | null {
  switch (t.kind) {
    case 'serial':
      return (h) => openSerialLink(t, h);
    case 'ble-bridge':
      return (h) => openSerialLink({ path: t.path, baudRate: t.baudRate }, h);
    case 'tcp':
      return (h) => openTcpLink(t, h);
    case 'mllp-listener':
      return null;
  }
}

/** The line settings of a serial link, for the diagnosis (which rate were the bytes read at?). */
function lineOf(t: TransportConfig): LineSettings | undefined {
  if (t.kind === 'serial')
    return { baudRate: t.baudRate, dataBits: t.dataBits, parity: t.parity, stopBits: t.stopBits };
  if (t.kind === 'ble-bridge') return { baudRate: t.baudRate, dataBits: 8, parity: 'none', stopBits: 1 };
  return undefined;
}

function describeTransport(t: TransportConfig): string {
  const line = lineOf(t);
  if (t.kind === 'serial' || t.kind === 'ble-bridge') return `${t.kind} ${t.path}${line ? ` ${lineName(line)}` : ''}`;
  return `${t.kind} ${t.host}:${t.port}`;
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const c = o.config;
  const log = o.logger.child({ site: c.site, gateway: c.gateway });
  const now = o.nowUs ?? systemNowUs;
  const cleanups: (() => Promise<void>)[] = [];
  const undo = async () => {
    for (const f of cleanups.reverse()) await f().catch(() => undefined);
  };
  try {
    const tls = { ca: await readFile(c.tls.ca), cert: await readFile(c.tls.cert), key: await readFile(c.tls.key) };
    const release = await acquireDataDir(c.dataDir);
    cleanups.push(release);
    const outbox = await Outbox.open({
      dir: join(c.dataDir, 'outbox'),
      site: c.site,
      gateway: c.gateway,
      quotaBytes: c.outbox.quotaBytes,
      segmentBytes: c.outbox.segmentBytes,
      commitDelayMs: c.outbox.commitDelayMs,
      commitMaxBytes: c.outbox.commitMaxBytes,
      logger: log,
      nowUs: now,
      maxPacketBytes: c.publish.maxPacketBytes,
      deadLetterBytes: c.outbox.deadLetterBytes,
    });
    cleanups.push(() => outbox.close());
    const recordDir = o.recordDir ?? c.record?.dir;
    let capture: Capture | null = null;
    if (recordDir) {
      capture = openCapture(recordDir, c.record?.maxBytes ?? 1024 ** 3, log, now);
      const cap = capture;
      cleanups.push(() => cap.close());
      log.warn({ dir: recordDir }, 'recording raw device bytes: the capture holds patient data');
    }

    let clockSynced = false;
    const runtimes = new Map<string, DeviceRuntime>();
    const links = new Map<string, DeviceLink>();
    const clockOpts = {
      maxFutureMs: c.clock.maxFutureMs,
      jumpMs: c.clock.jumpMs,
      minPlausibleUs: Date.parse(c.clock.minPlausible) * 1000,
    };
    for (const d of c.devices) {
      runtimes.set(
        d.id,
        new DeviceRuntime({
          site: c.site,
          gateway: c.gateway,
          device: d.id,
          protocol: d.protocol,
          bed: d.bed,
          model: d.model,
          losesDataWhileDown: d.transport.kind !== 'mllp-listener',
          silenceAfterMs: silenceAfterMs(d.protocol, d.silence),
          simulated: d.simulated,
          line: lineOf(d.transport),
          recentBytes: () => links.get(d.id)?.recentBytes?.() ?? Buffer.alloc(0),
          outbox,
          batching: c.batching,
          clock: clockOpts,
          logger: log,
          nowUs: now,
        }),
      );
    }

    const gatewaySource = {
      site: c.site,
      gateway: c.gateway,
      device: GATEWAY_DEVICE,
      protocol: '',
      model: 'vitalwire-gateway',
    };
    const gatewayStatus = (state: number, reason = '') => {
      const t = now();
      outbox
        .append({
          source: gatewaySource,
          kind: 'status',
          fromUs: t,
          toUs: t,
          retain: true,
          body: { statuses: [{ time: { gatewayTimeUs: t }, state, reason, queueDepth: outbox.depth(), clockSynced }] },
        })
        .catch(() => undefined);
    };

    let metrics: GatewayMetrics | null = null;
    const uplink = startUplink({
      site: c.site,
      gateway: c.gateway,
      urls: c.broker.urls,
      tls,
      keepaliveSeconds: c.broker.keepaliveSeconds,
      connectTimeoutMs: c.broker.connectTimeoutMs,
      reconnect: c.broker.reconnect,
      inflightWindow: c.publish.inflightWindow,
      maxMessagesPerSecond: c.publish.maxMessagesPerSecond,
      replayMessagesPerSecond: c.publish.replayMessagesPerSecond,
      maxPacketBytes: c.publish.maxPacketBytes,
      outbox,
      logger: log,
      nowUs: now,
      // Fresh statuses at each connect: retained ones must be current (what was stored offline goes as backfill).
      onConnect: () => {
        gatewayStatus(LinkState.LINK_STATE_CONNECTED);
        for (const rt of runtimes.values()) rt.status();
      },
      onAck: (s, backfill) => metrics?.observePublish(s, backfill),
    });
    cleanups.push(() => uplink.close());

    const devices: DeviceLink[] = [];
    const mllpPorts = new Map<string, number>();
    const connected = new Map<string, boolean>();
    cleanups.push(async () => {
      await Promise.all(devices.map((d) => d.stop()));
    });
    for (const d of c.devices) {
      const rt = runtimes.get(d.id);
      const protocol = getProtocol(d.protocol);
      if (!rt || !protocol) throw new VitalwireError('VW_ERR_CONFIG', `devices: unknown protocol ${d.protocol}`);
      const cap: CaptureWriter | null = capture ? capture.forDevice(d.id) : null;
      const utc = d.utcOffsetMin ?? c.clock.defaultUtcOffsetMin;
      const state = (
        s: 'connecting' | 'connected' | 'disconnected',
        counters: Parameters<DeviceRuntime['linkState']>[1],
        reason?: Parameters<DeviceRuntime['linkState']>[2],
        detail?: string,
      ) => {
        connected.set(d.id, s === 'connected');
        rt.linkState(s, counters, reason, detail);
      };
      const t = d.transport;
      const open = opener(t);
      if (t.kind === 'mllp-listener') {
        const l: MllpListener = await startMllpListener({
          id: d.id,
          host: t.host,
          port: t.port,
          allowedPeers: t.allowedPeers,
          maxFrameBytes: t.maxFrameBytes,
          idleTimeoutMs: t.idleTimeoutMs,
          frameTimeoutMs: t.frameTimeoutMs,
          maxConnections: t.maxConnections,
          maxPendingMessages: t.maxPendingMessages,
          protocol,
          defaultUtcOffsetMin: utc,
          logger: log,
          nowUs: now,
          events: {
            ingest: (dec, rx) => rt.ingest(dec, rx),
            commit: (ref) => rt.commit(ref),
            room: () => outbox.room(),
            seen: (ref) => outbox.seen(d.id, ref),
            state,
            ...(cap ? { data: (chunk: Buffer, rx: number) => cap.write(chunk, rx) } : {}),
          },
        });
        mllpPorts.set(d.id, l.port);
        devices.push(l);
        links.set(d.id, l);
      } else if (open) {
        devices.push(
          startDeviceLink({
            id: d.id,
            protocol,
            open,
            logger: log,
            nowUs: now,
            backoff: c.reconnect,
            defaultUtcOffsetMin: utc,
            ...(protocol.createSession ? { session: protocol.createSession(d.session ?? {}) } : {}),
            events: {
              decoded: (dec, rx) => rt.ingest(dec, rx),
              state,
              session: (_s, counters) => rt.status(counters),
              ...(cap ? { data: (chunk: Buffer, rx: number) => cap.write(chunk, rx) } : {}),
            },
          }),
        );
        links.set(d.id, devices[devices.length - 1] as DeviceLink);
      }
    }
    const diagnosisTimer = setInterval(() => {
      for (const rt of runtimes.values()) rt.diagnose();
    }, DIAGNOSIS_TICK_MS);
    diagnosisTimer.unref();
    cleanups.push(async () => clearInterval(diagnosisTimer));

    const statusTimer = setInterval(() => {
      gatewayStatus(LinkState.LINK_STATE_CONNECTED);
      for (const rt of runtimes.values()) rt.status();
    }, c.publish.statusIntervalMs);
    statusTimer.unref();
    const probe = () =>
      void probeClockSync(c.clock.syncSource).then((v) => {
        if (v !== clockSynced) log.info({ clockSynced: v }, 'gateway clock sync state');
        clockSynced = v;
      });
    probe();
    const probeTimer = setInterval(probe, CLOCK_PROBE_INTERVAL_MS);
    probeTimer.unref();
    cleanups.push(async () => {
      clearInterval(statusTimer);
      clearInterval(probeTimer);
    });

    const gaps = () => {
      const u = outbox.counters.unsendable;
      const out: Record<string, number> = {
        'shed-quota': outbox.counters.gaps,
        unsendable: u.obs + u.wave + u.alarm + u.status,
      };
      for (const rt of runtimes.values())
        for (const [k, v] of Object.entries(rt.counters.gaps)) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const m = createGatewayMetrics(
      {
        devices: () =>
          devices.map((l) => {
            const rt = runtimes.get(l.id);
            const x = l.counters as typeof l.counters & { acks?: Record<string, number>; duplicates?: number };
            return {
              id: l.id,
              connected: connected.get(l.id) ?? false,
              silent: rt?.isSilent() ?? false,
              state: rt?.diagnosis.state ?? 'down',
              lastFrameUs: rt?.lastFrameUs ?? 0,
              frames: x.frames,
              badFrames: x.badFrames,
              reconnects: x.reconnects,
              errors: x.errors as Record<string, number>,
              timeSuspect: rt?.counters.timeSuspect ?? {},
              clockOffsetUs: rt?.clock.stats.offsetUs ?? 0,
              clockDriftPpm: rt?.clock.stats.driftPpm ?? 0,
              fitted: rt?.fitted ?? {},
              ...(x.acks ? { acks: x.acks } : {}),
              ...(x.duplicates !== undefined ? { duplicates: x.duplicates } : {}),
            };
          }),
        outbox: () => ({
          depth: outbox.depth(),
          bytes: outbox.diskBytes(),
          quotaBytes: c.outbox.quotaBytes,
          oldestUnsentUs: outbox.oldestUnsentUs(),
          appendedBytes: outbox.counters.appendedBytes,
          appendedRecords: outbox.counters.appendedRecords,
          commits: outbox.counters.commits,
          fsyncs: outbox.counters.fsyncs,
          writeErrors: outbox.counters.writeErrors,
          tornSegments: outbox.counters.tornSegments,
          shedRecords: outbox.counters.shedRecords,
          shedBytes: outbox.counters.shedBytes,
          unsendable: outbox.counters.unsendable,
          deadLetterBytes: outbox.deadLetterBytes(),
        }),
        gaps,
        uplink: () => {
          const st = uplink.status();
          return {
            connected: uplink.isConnected(),
            reason: st.connected ? 'connected' : (st.reason?.reason ?? 'connecting'),
            ...uplink.counters,
          };
        },
        clockSynced: () => clockSynced,
        nowUs: now,
      },
      { site: c.site, gateway: c.gateway },
    );
    metrics = m;

    const startedAt = new Date().toISOString();
    const report = (): GatewayReport => {
      const u = uplink.status();
      const oldest = outbox.oldestUnsentUs();
      return {
        site: c.site,
        gateway: c.gateway,
        pid: process.pid,
        startedAt,
        time: new Date().toISOString(),
        uplink: {
          connected: u.connected,
          url: u.url.replace(/\/\/[^@]*@/, '//'),
          since: isoUs(u.sinceUs) ?? startedAt,
          reason: u.connected ? null : (u.reason?.reason ?? null),
          text: u.connected ? null : (u.reason?.text ?? null),
          failures: u.failures,
          lastConnected: isoUs(u.lastConnectedUs),
        },
        outbox: {
          depth: outbox.depth(),
          bytes: outbox.diskBytes(),
          quotaBytes: c.outbox.quotaBytes,
          oldestUnsent: oldest === null ? null : isoUs(oldest),
        },
        devices: c.devices.map((d) => {
          const rt = runtimes.get(d.id);
          const l = links.get(d.id);
          const diag = rt?.diagnosis ?? { state: 'down' as const, text: 'not started' };
          return {
            id: d.id,
            protocol: d.protocol,
            transport: describeTransport(d.transport),
            link: l?.state ?? 'connecting',
            state: diag.state,
            diagnosis: diag.text,
            ...(diag.suggestion ? { suggestion: diag.suggestion } : {}),
            silent: rt?.isSilent() ?? false,
            lastFrame: isoUs(rt?.lastFrameUs ?? 0),
            framesOk: (l?.counters.frames ?? 0) - (l?.counters.badFrames ?? 0),
            framesBad: l?.counters.badFrames ?? 0,
            bytes: l?.counters.bytes ?? 0,
            reconnects: l?.counters.reconnects ?? 0,
            simulated: d.simulated,
          };
        }),
      };
    };

    let server: MetricsServer | null = null;
    let statusFileTimer: NodeJS.Timeout | null = null;
    if (c.metrics) {
      server = await startMetricsServer({
        host: c.metrics.host,
        port: c.metrics.port,
        registry: m.registry,
        healthy: () => uplink.isConnected(),
        status: report,
      });
      const s = server;
      cleanups.push(() => s.close());
    } else {
      // No metrics port: `vitalwire gateway status` reads the report from the data directory instead.
      const write = () =>
        void writeStatusFile(c.dataDir, report()).catch((err: unknown) =>
          log.warn({ err: (err as Error).message }, 'status file not written'),
        );
      write();
      statusFileTimer = setInterval(write, STATUS_FILE_INTERVAL_MS);
      statusFileTimer.unref();
      const t = statusFileTimer;
      cleanups.push(async () => clearInterval(t));
    }
    log.info(
      { devices: c.devices.length, metricsPort: server?.port ?? null, backlog: outbox.depth() },
      'gateway started',
    );

    let closing: Promise<void> | null = null;
    const close = async () => {
      clearInterval(statusTimer);
      clearInterval(probeTimer);
      clearInterval(diagnosisTimer);
      if (statusFileTimer) clearInterval(statusFileTimer);
      // Devices first (an MLLP listener stores and acknowledges what it has received), then everything batched.
      await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
      await Promise.all([...runtimes.values()].map((rt) => rt.flush()));
      gatewayStatus(LinkState.LINK_STATE_DISCONNECTED);
      await outbox.commit();
      const drained = await uplink.drain(c.publish.drainTimeoutMs);
      await uplink.close();
      await server?.close();
      // The last report stays behind: `vitalwire gateway status` shows it as the state when the gateway stopped.
      if (statusFileTimer)
        await writeStatusFile(c.dataDir, { ...report(), stoppedAt: new Date().toISOString() }).catch(() => undefined);
      await capture?.close();
      await outbox.close();
      await release();
      log.info({ drained, backlog: outbox.depth() }, 'gateway stopped');
    };
    return {
      config: c,
      devices,
      runtimes,
      outbox,
      uplink,
      metrics: m,
      mllpPorts,
      metricsPort: server?.port ?? null,
      report,
      close: () => (closing ??= close()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

export type { DeviceLink };
export type { DeviceConfig as GatewayDeviceConfig };
