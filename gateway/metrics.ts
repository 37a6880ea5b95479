// Prometheus metrics of the gateway (vitalwire_gateway_*), served on a loopback HTTP port: GET /metrics and
// GET /healthz. The registry reads the runtime's counters when scraped, so the hot path never touches prom-client
// (except the publish-latency histogram). Labels are device ids, error codes and kinds: never patient data or values.
import { CONNECT_REASONS } from '../lib/connect-diagnosis.js';
import { listen } from '../lib/listen.js';
import { DIAGNOSIS_STATES } from './diagnosis.js';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface DeviceMetricsView {
  id: string;
  connected: boolean;
  /** Link up, no frames for longer than the device's silence threshold. */
  silent: boolean;
  /** The diagnosis state (gateway/diagnosis.ts). */
  state: string;
  /** Gateway time of the last good frame, us (0: none). */
  lastFrameUs: number;
  frames: number;
  badFrames: number;
  reconnects: number;
  errors: Readonly<Record<string, number>>;
  timeSuspect: Readonly<Record<string, number>>;
  clockOffsetUs: number;
  clockDriftPpm: number;
  acks?: Readonly<Record<string, number>>;
  duplicates?: number;
  /** Items over batching.maxBatchBytes, by what was done: split, truncated, whole. */
  fitted?: Readonly<Record<string, number>>;
}

export interface GatewayMetricsSource {
  devices(): DeviceMetricsView[];
  outbox(): {
    depth: number;
    bytes: number;
    quotaBytes: number;
    oldestUnsentUs: number | null;
    appendedBytes: number;
    appendedRecords: number;
    commits: number;
    fsyncs: number;
    writeErrors: number;
    tornSegments: number;
    shedRecords: Readonly<Record<string, number>>;
    shedBytes: number;
    /** Batches set aside because their publish would exceed publish.maxPacketBytes, by kind; the dead-letter log's bytes. */
    unsendable?: Readonly<Record<string, number>>;
    deadLetterBytes?: number;
  };
  gaps(): Readonly<Record<string, number>>;
  /** `reason`: 'connected', 'connecting' (no attempt has ended yet), or a ConnectReason (lib/connect-diagnosis.ts). */
  uplink(): {
    connected: boolean;
    reason: string;
    connects: number;
    disconnects: number;
    connectFailures: number;
    published: number;
    publishedBackfill: number;
    acked: number;
  };
  clockSynced(): boolean;
  nowUs(): number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** PUBACK round trip of one message. */
  observePublish(seconds: number, backfill: boolean): void;
}

export function createGatewayMetrics(
  src: GatewayMetricsSource,
  labels: { site: string; gateway: string },
): GatewayMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    read: (set: (l: Record<string, string>, v: number) => void) => void,
  ) =>
    registry.registerMetric(
      new Counter({
        name,
        help,
        labelNames,
        registers: [],
        collect() {
          this.reset();
          read((l, v) => this.inc(l, v));
        },
      }),
    );
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    read: (set: (l: Record<string, string>, v: number) => void) => void,
  ) =>
    registry.registerMetric(
      new Gauge({
        name,
        help,
        labelNames,
        registers: [],
        collect() {
          this.reset();
          read((l, v) => this.set(l, v));
        },
      }),
    );
  const perDevice =
    (pick: (d: DeviceMetricsView) => number) => (set: (l: Record<string, string>, v: number) => void) => {
      for (const d of src.devices()) set({ device: d.id }, pick(d));
    };

  counter(
    'vitalwire_gateway_frames_total',
    'Frames framed on each device link (decoded or rejected)',
    ['device'],
    perDevice((d) => d.frames),
  );
  counter(
    'vitalwire_gateway_bad_frames_total',
    'Frames the decoder rejected',
    ['device'],
    perDevice((d) => d.badFrames),
  );
  counter('vitalwire_gateway_errors_total', 'Errors by device and VW_ERR_* code', ['device', 'code'], (set) => {
    for (const d of src.devices()) for (const [code, v] of Object.entries(d.errors)) set({ device: d.id, code }, v);
  });
  counter(
    'vitalwire_gateway_device_reconnects_total',
    'Device link reconnects',
    ['device'],
    perDevice((d) => d.reconnects),
  );
  gauge(
    'vitalwire_gateway_device_connected',
    '1 while the device link is up',
    ['device'],
    perDevice((d) => (d.connected ? 1 : 0)),
  );
  gauge(
    'vitalwire_gateway_device_silent',
    '1 while the device link is up but the device sends no frames (LINK_STATE_SILENT)',
    ['device'],
    perDevice((d) => (d.silent ? 1 : 0)),
  );
  gauge(
    'vitalwire_gateway_device_state',
    "The device's diagnosis: 1 for its state (down, waiting, no-bytes, no-frames, frame-errors, ok), 0 for the others",
    ['device', 'state'],
    (set) => {
      for (const d of src.devices())
        for (const state of DIAGNOSIS_STATES) set({ device: d.id, state }, d.state === state ? 1 : 0);
    },
  );
  gauge(
    'vitalwire_gateway_device_last_frame_timestamp_seconds',
    "Unix time of the device's last good frame (0: none since the gateway started)",
    ['device'],
    perDevice((d) => d.lastFrameUs / 1e6),
  );
  counter(
    'vitalwire_gateway_time_suspect_total',
    'Payloads with an implausible device time, by kind',
    ['device', 'kind'],
    (set) => {
      for (const d of src.devices())
        for (const [kind, v] of Object.entries(d.timeSuspect)) set({ device: d.id, kind }, v);
    },
  );
  gauge(
    'vitalwire_gateway_device_clock_offset_seconds',
    'Estimated device clock minus gateway clock',
    ['device'],
    perDevice((d) => d.clockOffsetUs / 1e6),
  );
  gauge(
    'vitalwire_gateway_device_clock_drift_ppm',
    'Estimated device clock rate error',
    ['device'],
    perDevice((d) => d.clockDriftPpm),
  );
  counter(
    'vitalwire_gateway_mllp_acks_total',
    'HL7 acknowledgements sent by code (AA, AE, AR)',
    ['device', 'code'],
    (set) => {
      for (const d of src.devices())
        for (const [code, v] of Object.entries(d.acks ?? {})) set({ device: d.id, code }, v);
    },
  );
  counter(
    'vitalwire_gateway_mllp_duplicates_total',
    'Resent HL7 messages answered from their first stored copy',
    ['device'],
    (set) => {
      for (const d of src.devices()) if (d.duplicates !== undefined) set({ device: d.id }, d.duplicates);
    },
  );

  const ob = () => src.outbox();
  gauge('vitalwire_gateway_outbox_queue_depth', 'Batches stored and not yet acknowledged by the broker', [], (set) =>
    set({}, ob().depth),
  );
  gauge('vitalwire_gateway_outbox_bytes', 'Bytes of outbox segment files', [], (set) => set({}, ob().bytes));
  gauge('vitalwire_gateway_outbox_quota_bytes', 'Outbox disk quota', [], (set) => set({}, ob().quotaBytes));
  gauge(
    'vitalwire_gateway_outbox_oldest_unsent_age_seconds',
    'Age of the oldest batch not yet acknowledged (0 when none)',
    [],
    (set) => {
      const t = ob().oldestUnsentUs;
      set({}, t === null ? 0 : Math.max(0, (src.nowUs() - t) / 1e6));
    },
  );
  counter('vitalwire_gateway_outbox_appended_bytes_total', 'Bytes appended to the outbox', [], (set) =>
    set({}, ob().appendedBytes),
  );
  counter('vitalwire_gateway_outbox_appended_batches_total', 'Batches appended to the outbox', [], (set) =>
    set({}, ob().appendedRecords),
  );
  counter('vitalwire_gateway_outbox_commits_total', 'Group commits', [], (set) => set({}, ob().commits));
  counter('vitalwire_gateway_outbox_fsyncs_total', 'fdatasync calls', [], (set) => set({}, ob().fsyncs));
  counter('vitalwire_gateway_outbox_write_errors_total', 'Failed outbox writes (VW_ERR_OUTBOX_IO)', [], (set) =>
    set({}, ob().writeErrors),
  );
  counter('vitalwire_gateway_outbox_torn_segments_total', 'Segments found with a torn tail at start', [], (set) =>
    set({}, ob().tornSegments),
  );
  counter('vitalwire_gateway_shed_batches_total', 'Batches shed by the disk quota, by kind', ['kind'], (set) => {
    for (const [kind, v] of Object.entries(ob().shedRecords)) set({ kind }, v);
  });
  counter('vitalwire_gateway_shed_bytes_total', 'Segment bytes shed by the disk quota', [], (set) =>
    set({}, ob().shedBytes),
  );
  counter(
    'vitalwire_gateway_unsendable_total',
    'Batches set aside in the dead-letter log because their publish would exceed publish.maxPacketBytes, by kind (each with a Gap)',
    ['kind'],
    (set) => {
      for (const [kind, v] of Object.entries(ob().unsendable ?? {})) set({ kind }, v);
    },
  );
  gauge(
    'vitalwire_gateway_dead_letter_bytes',
    'Bytes of the outbox dead-letter log (what could never be published, kept)',
    [],
    (set) => set({}, ob().deadLetterBytes ?? 0),
  );
  counter(
    'vitalwire_gateway_items_fitted_total',
    'Items over batching.maxBatchBytes, by action: split (waveform, lossless), truncated (text cut), whole (nothing to cut)',
    ['device', 'action'],
    (set) => {
      for (const d of src.devices())
        for (const [action, v] of Object.entries(d.fitted ?? {})) set({ device: d.id, action }, v);
    },
  );
  counter('vitalwire_gateway_gaps_total', 'Gap markers stored, by reason', ['reason'], (set) => {
    for (const [reason, v] of Object.entries(src.gaps())) set({ reason }, v);
  });

  const up = () => src.uplink();
  gauge('vitalwire_gateway_broker_connected', '1 while connected to a broker', [], (set) =>
    set({}, up().connected ? 1 : 0),
  );
  gauge(
    'vitalwire_gateway_broker_connect_reason',
    'Why the uplink is not connected: 1 for the current reason (connected, connecting, or lib/connect-diagnosis.ts reasons), 0 for the others',
    ['reason'],
    (set) => {
      const now = up().reason;
      for (const reason of ['connected', 'connecting', ...CONNECT_REASONS]) set({ reason }, reason === now ? 1 : 0);
    },
  );
  counter('vitalwire_gateway_broker_connects_total', 'Successful broker connections', [], (set) =>
    set({}, up().connects),
  );
  counter('vitalwire_gateway_broker_disconnects_total', 'Broker connections lost', [], (set) =>
    set({}, up().disconnects),
  );
  counter('vitalwire_gateway_broker_connect_failures_total', 'Failed broker connection attempts', [], (set) =>
    set({}, up().connectFailures),
  );
  counter('vitalwire_gateway_published_total', 'PUBLISH packets sent, by mode', ['mode'], (set) => {
    const u = up();
    set({ mode: 'live' }, u.published - u.publishedBackfill);
    set({ mode: 'backfill' }, u.publishedBackfill);
  });
  counter('vitalwire_gateway_acked_total', 'PUBACKs received', [], (set) => set({}, up().acked));
  gauge(
    'vitalwire_gateway_clock_synced',
    '1 when the gateway clock is synchronised (timedatectl NTPSynchronized)',
    [],
    (set) => set({}, src.clockSynced() ? 1 : 0),
  );
  gauge('vitalwire_gateway_resident_memory_bytes', 'Resident set size of the gateway process', [], (set) =>
    set({}, process.memoryUsage.rss()),
  );

  const latency = new Histogram({
    name: 'vitalwire_gateway_publish_latency_seconds',
    help: 'PUBLISH to PUBACK round trip, by mode',
    labelNames: ['mode'],
    registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  return {
    registry,
    observePublish(seconds, backfill) {
      latency.observe({ mode: backfill ? 'backfill' : 'live' }, seconds);
    },
  };
}

export interface MetricsServer {
  readonly port: number;
  /** Sockets open now (tests, and a check that the deadlines hold). */
  openSockets(): number;
  close(): Promise<void>;
}

/**
 * Deadlines of the metrics port (issue 14: idle and half-sent requests held sockets for minutes). A scrape is one small
 * request on loopback: everything it needs takes milliseconds.
 */
export interface MetricsDeadlines {
  /** The request's headers must be complete within this after its first byte (a slowloris trickling headers). */
  headersTimeoutMs: number;
  /** The whole request must be received within this. */
  requestTimeoutMs: number;
  /** An answered keep-alive connection is closed when no next request starts within this. */
  keepAliveTimeoutMs: number;
  /** A socket that sends nothing at all (before its first byte, or between requests) is destroyed after this. */
  idleSocketMs: number;
}

export const METRICS_DEADLINES: Readonly<MetricsDeadlines> = {
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  idleSocketMs: 10_000,
};

/**
 * GET /metrics (Prometheus text), GET /healthz (200 while the broker is connected, else 503) and GET /status (JSON for
 * `vitalwire gateway status`, gateway/diagnosis-status.ts).
 */
export async function startMetricsServer(o: {
  host: string;
  port: number;
  registry: Registry;
  healthy: () => boolean;
  status?: () => unknown;
  deadlines?: Partial<MetricsDeadlines>;
}): Promise<MetricsServer> {
  const d = { ...METRICS_DEADLINES, ...o.deadlines };
  const sockets = new Set<Socket>();
  // Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval (30 s by default): often enough
  // here that a deadline is late by at most half of itself.
  const server: Server = createServer(
    { connectionsCheckingInterval: Math.max(50, Math.min(1000, d.headersTimeoutMs / 2)) },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
      } else if (path === '/metrics') {
        o.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': o.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      } else if (path === '/healthz') {
        const ok = o.healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'broker not connected\n');
      } else if (path === '/status' && o.status) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(o.status())}\n`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    },
  );
  server.headersTimeout = d.headersTimeoutMs;
  server.requestTimeout = d.requestTimeoutMs;
  server.keepAliveTimeout = d.keepAliveTimeoutMs;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    // The HTTP deadlines start with a request's first byte: a peer that connects and sends nothing needs its own.
    s.setTimeout(d.idleSocketMs, () => s.destroy());
  });
  const boundPort = await listen(server, o.port, o.host);
  return {
    port: boundPort,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
