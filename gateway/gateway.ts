// The gateway process: a validated, frozen config in; one loop per device owning its I/O; decoded payloads batched
// into the durable outbox; the uplink publishing from the outbox; status, clocks, metrics and a graceful shutdown that
// stores everything and waits (bounded) for PUBACKs. docs/gateway.md describes the whole.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VitalwireError } from '../decoders/errors.js';
import { getProtocol } from '../decoders/registry.js';
import type { Logger } from '../lib/log.js';
import { LinkState } from '../proto/index.js';
import { openCapture, type Capture, type CaptureWriter } from './capture.js';
import { probeClockSync } from './clock-sync.js';
import { GATEWAY_DEVICE, type DeviceConfig, type GatewayConfig, type TransportConfig } from './config.js';
import { startDeviceLink, nowUs as systemNowUs, type DeviceLink } from './device-link.js';
import { DeviceRuntime } from './device-runtime.js';
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
      dir: join(c.dataDir, 'outbox'), site: c.site, gateway: c.gateway, quotaBytes: c.outbox.quotaBytes, segmentBytes: c.outbox.segmentBytes,
      commitDelayMs: c.outbox.commitDelayMs, commitMaxBytes: c.outbox.commitMaxBytes, logger: log, nowUs: now,
      maxPacketBytes: c.publish.maxPacketBytes, deadLetterBytes: c.outbox.deadLetterBytes,
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
    const clockOpts = { maxFutureMs: c.clock.maxFutureMs, jumpMs: c.clock.jumpMs, minPlausibleUs: Date.parse(c.clock.minPlausible) * 1000 };
    for (const d of c.devices) {
      runtimes.set(d.id, new DeviceRuntime({
        site: c.site, gateway: c.gateway, device: d.id, protocol: d.protocol, bed: d.bed, model: d.model,
        losesDataWhileDown: d.transport.kind !== 'mllp-listener', silenceAfterMs: silenceAfterMs(d.protocol, d.silence), simulated: d.simulated,
        outbox, batching: c.batching, clock: clockOpts, logger: log, nowUs: now,
      }));
    }

    const gatewaySource = { site: c.site, gateway: c.gateway, device: GATEWAY_DEVICE, protocol: '', model: 'vitalwire-gateway' };
    const gatewayStatus = (state: number, reason = '') => {
      const t = now();
      outbox.append({
        source: gatewaySource, kind: 'status', fromUs: t, toUs: t, retain: true,
        body: { statuses: [{ time: { gatewayTimeUs: t }, state, reason, queueDepth: outbox.depth(), clockSynced }] },
      }).catch(() => undefined);
    };

    let metrics: GatewayMetrics | null = null;
    const uplink = startUplink({
      site: c.site, gateway: c.gateway, urls: c.broker.urls, tls, keepaliveSeconds: c.broker.keepaliveSeconds, connectTimeoutMs: c.broker.connectTimeoutMs,
      reconnect: c.broker.reconnect, inflightWindow: c.publish.inflightWindow, maxMessagesPerSecond: c.publish.maxMessagesPerSecond,
      replayMessagesPerSecond: c.publish.replayMessagesPerSecond, maxPacketBytes: c.publish.maxPacketBytes, outbox, logger: log, nowUs: now,
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
      const state = (s: 'connecting' | 'connected' | 'disconnected', counters: Parameters<DeviceRuntime['linkState']>[1], reason?: Parameters<DeviceRuntime['linkState']>[2]) => {
        connected.set(d.id, s === 'connected');
        rt.linkState(s, counters, reason);
      };
      const t = d.transport;
      const open = opener(t);
      if (t.kind === 'mllp-listener') {
        const l: MllpListener = await startMllpListener({
          id: d.id, host: t.host, port: t.port, allowedPeers: t.allowedPeers, maxFrameBytes: t.maxFrameBytes, idleTimeoutMs: t.idleTimeoutMs,
          frameTimeoutMs: t.frameTimeoutMs, maxConnections: t.maxConnections, maxPendingMessages: t.maxPendingMessages, protocol, defaultUtcOffsetMin: utc, logger: log, nowUs: now,
          events: {
            ingest: (dec, rx) => rt.ingest(dec, rx),
            commit: (ref) => rt.commit(ref),
            seen: (ref) => outbox.seen(d.id, ref),
            state,
            ...(cap ? { data: (chunk: Buffer, rx: number) => cap.write(chunk, rx) } : {}),
          },
        });
        mllpPorts.set(d.id, l.port);
        devices.push(l);
      } else if (open) {
        devices.push(startDeviceLink({
          id: d.id, protocol, open, logger: log, nowUs: now, backoff: c.reconnect, defaultUtcOffsetMin: utc,
          ...(protocol.createSession ? { session: protocol.createSession(d.session ?? {}) } : {}),
          events: {
            decoded: (dec, rx) => rt.ingest(dec, rx),
            state,
            session: (_s, counters) => rt.status(counters),
            ...(cap ? { data: (chunk: Buffer, rx: number) => cap.write(chunk, rx) } : {}),
          },
        }));
      }
    }

    const statusTimer = setInterval(() => {
      gatewayStatus(LinkState.LINK_STATE_CONNECTED);
      for (const rt of runtimes.values()) rt.status();
    }, c.publish.statusIntervalMs);
    statusTimer.unref();
    const probe = () => void probeClockSync(c.clock.syncSource).then((v) => {
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
      const out: Record<string, number> = { 'shed-quota': outbox.counters.gaps, unsendable: u.obs + u.wave + u.alarm + u.status };
      for (const rt of runtimes.values()) for (const [k, v] of Object.entries(rt.counters.gaps)) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const m = createGatewayMetrics({
      devices: () => devices.map((l) => {
        const rt = runtimes.get(l.id);
        const x = l.counters as typeof l.counters & { acks?: Record<string, number>; duplicates?: number };
        return {
          id: l.id, connected: connected.get(l.id) ?? false, silent: rt?.isSilent() ?? false, frames: x.frames, badFrames: x.badFrames, reconnects: x.reconnects,
          errors: x.errors as Record<string, number>, timeSuspect: rt?.counters.timeSuspect ?? {}, clockOffsetUs: rt?.clock.stats.offsetUs ?? 0,
          clockDriftPpm: rt?.clock.stats.driftPpm ?? 0, fitted: rt?.fitted ?? {}, ...(x.acks ? { acks: x.acks } : {}), ...(x.duplicates !== undefined ? { duplicates: x.duplicates } : {}),
        };
      }),
      outbox: () => ({
        depth: outbox.depth(), bytes: outbox.diskBytes(), quotaBytes: c.outbox.quotaBytes, oldestUnsentUs: outbox.oldestUnsentUs(),
        appendedBytes: outbox.counters.appendedBytes, appendedRecords: outbox.counters.appendedRecords, commits: outbox.counters.commits,
        fsyncs: outbox.counters.fsyncs, writeErrors: outbox.counters.writeErrors, tornSegments: outbox.counters.tornSegments,
        shedRecords: outbox.counters.shedRecords, shedBytes: outbox.counters.shedBytes,
        unsendable: outbox.counters.unsendable, deadLetterBytes: outbox.deadLetterBytes(),
      }),
      gaps,
      uplink: () => ({ connected: uplink.isConnected(), ...uplink.counters }),
      clockSynced: () => clockSynced,
      nowUs: now,
    }, { site: c.site, gateway: c.gateway });
    metrics = m;
    let server: MetricsServer | null = null;
    if (c.metrics) {
      server = await startMetricsServer({ host: c.metrics.host, port: c.metrics.port, registry: m.registry, healthy: () => uplink.isConnected() });
      const s = server;
      cleanups.push(() => s.close());
    }
    log.info({ devices: c.devices.length, metricsPort: server?.port ?? null, backlog: outbox.depth() }, 'gateway started');

    let closing: Promise<void> | null = null;
    const close = async () => {
      clearInterval(statusTimer);
      clearInterval(probeTimer);
      // Devices first (an MLLP listener stores and acknowledges what it has received), then everything batched.
      await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
      await Promise.all([...runtimes.values()].map((rt) => rt.flush()));
      gatewayStatus(LinkState.LINK_STATE_DISCONNECTED);
      await outbox.commit();
      const drained = await uplink.drain(c.publish.drainTimeoutMs);
      await uplink.close();
      await server?.close();
      await capture?.close();
      await outbox.close();
      await release();
      log.info({ drained, backlog: outbox.depth() }, 'gateway stopped');
    };
    return {
      config: c, devices, runtimes, outbox, uplink, metrics: m, mllpPorts, metricsPort: server?.port ?? null,
      close: () => (closing ??= close()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

export type { DeviceLink };
export type { DeviceConfig as GatewayDeviceConfig };
