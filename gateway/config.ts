// The gateway's configuration file (`vitalwire gateway --config FILE`): one schema with every default, validated
// once at start by lib/config.ts (all problems together, each with its path), then frozen. docs/gateway.md
// documents each key. Relative paths are resolved against the file's directory; TLS files must be readable.
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { protocolIds } from '../decoders/registry.js';
import { loadConfigFile, validateConfig, type DeepReadonly } from '../lib/config.js';
import { isValidSegment } from '../lib/topics.js';
import { maxItemsBytes } from './publish-size.js';
import { parsePeer } from './transports/peers.js';
import { sessionIssues } from './session-config.js';

/** Where the outbox lives unless the file says otherwise (deploy/vitalwire-gateway.service: StateDirectory). */
export const DEFAULT_DATA_DIR = '/var/lib/vitalwire/gateway';

/** The pseudo-device whose status stream describes the gateway itself: vw/v1/<site>/<gateway>/_gateway/status. */
export const GATEWAY_DEVICE = '_gateway';

/**
 * Default publish.maxPacketBytes: 1 KiB under the central broker's default limits.maxPacketBytes (256 KiB), so a
 * difference in how the two count never matters.
 */
export const DEFAULT_MAX_PACKET_BYTES = 255 * 1024;
/** MQTT 3.1.1 2.2.3: the largest packet the Remaining Length can describe. */
const MQTT_MAX_PACKET_BYTES = 268_435_460;

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  TIB: 1024 ** 4,
};

/** 1048576, "1MiB", "512 MB", "4GiB" -> bytes. */
export function parseSize(v: number | string): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(v);
  const unit = UNITS[(m?.[2] ?? 'x').toUpperCase()];
  if (!m || unit === undefined) return null;
  const n = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : null;
}

function toSize(min: number) {
  return (v: number | string, ctx: z.RefinementCtx): number => {
    const n = parseSize(v);
    if (n === null) {
      ctx.addIssue({
        code: 'custom',
        message: `not a size: ${JSON.stringify(v)} (use bytes or a number with KiB, MiB, GiB, KB, MB, GB)`,
      });
      return z.NEVER;
    }
    if (n < min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${min} bytes, got ${n}` });
      return z.NEVER;
    }
    return n;
  };
}

const size = (min: number, def: number | string) =>
  z.union([z.number(), z.string()]).default(def).transform(toSize(min));
const optionalSize = (min: number) => z.union([z.number(), z.string()]).transform(toSize(min)).optional();

const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);
const port = z.number().int().min(1).max(65535);
const segment = z.string().refine(isValidSegment, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');
const path = z.string().min(1);

const serialTransport = z.strictObject({
  kind: z.literal('serial'),
  path,
  baudRate: z.number().int().min(50).max(4_000_000).default(9600),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  flowControl: z.enum(['none', 'rtscts', 'xonxoff']).default('none'),
});

const tcpTransport = z.strictObject({
  kind: z.literal('tcp'),
  host: z.string().min(1),
  port,
  connectTimeoutMs: int(100, 600_000, 10_000),
});

const mllpTransport = z.strictObject({
  kind: z.literal('mllp-listener'),
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(2575),
  /** Addresses or CIDR ranges (IPv4 or IPv6) that may connect; anyone else is refused. */
  allowedPeers: z.array(z.string().refine((p) => parsePeer(p) !== null, 'must be an IP address or CIDR range')).min(1),
  maxFrameBytes: size(256, '1MiB'),
  idleTimeoutMs: int(1000, 86_400_000, 300_000),
  /** A message whose first byte arrived must be complete within this (a peer trickling bytes cannot hold a slot). */
  frameTimeoutMs: int(100, 3_600_000, 30_000),
  maxConnections: int(1, 1024, 4),
  /** Messages received but not yet acknowledged on one connection before the socket is paused. */
  maxPendingMessages: int(1, 10_000, 32),
});

const bleBridgeTransport = z.strictObject({
  kind: z.literal('ble-bridge'),
  path,
  baudRate: z.number().int().min(50).max(4_000_000).default(115_200),
});

const transport = z.discriminatedUnion('kind', [serialTransport, tcpTransport, mllpTransport, bleBridgeTransport]);

const device = z.strictObject({
  id: segment.refine((s) => !s.startsWith('_'), 'ids starting with _ are reserved for the gateway'),
  protocol: z.string().min(1),
  transport,
  model: z.string().max(128).optional(),
  /** Bed label published in Batch.source.bed. */
  bed: z.string().max(64).optional(),
  /** Opaque patient binding reference: never logged and, while vitals.proto has no field for it, never published. */
  patient: z.string().max(128).optional(),
  /** UTC offset (minutes) assumed for device times sent without one; default: clock.defaultUtcOffsetMin. */
  utcOffsetMin: z.number().int().min(-720).max(840).optional(),
  /** Silence detection (gateway/silence.ts): the device's send interval (default by protocol) and how long without a
   *  frame makes it SILENT (default: 3 periods, at least 3 s); 'off' for devices that send only when measuring. */
  silence: z
    .union([
      z.literal('off'),
      z
        .strictObject({
          periodMs: z.number().positive().max(86_400_000).optional(),
          afterMs: z.number().int().min(100).max(86_400_000).optional(),
        })
        .superRefine((s, ctx) => {
          if (s.periodMs !== undefined && s.afterMs !== undefined && s.afterMs < s.periodMs) {
            ctx.addIssue({
              code: 'custom',
              path: ['afterMs'],
              message: `must be at least periodMs (${s.periodMs}): a device is not silent between two frames`,
            });
          }
        }),
    ])
    .optional(),
  /** A simulator, never a patient: every observation, wave, alarm and status of the device carries FLAG_SIMULATED. */
  simulated: z.boolean().default(false),
  /** Options of the protocol's host-side session (gateway/session-config.ts: Datex's transmission request). */
  session: z.record(z.string(), z.unknown()).optional(),
});

const reconnect = (minMs: number, maxMs: number) =>
  z
    .strictObject({ minMs: int(10, 600_000, minMs), maxMs: int(10, 3_600_000, maxMs) })
    .prefault({})
    .superRefine((r, ctx) => {
      if (r.minMs > r.maxMs) ctx.addIssue({ code: 'custom', path: ['minMs'], message: 'must not exceed maxMs' });
    });

export function gatewayConfigSchema(configDir: string, opts: { checkFiles?: boolean } = {}) {
  const checkFiles = opts.checkFiles ?? true;
  const at = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const readable = path.transform((p, ctx) => {
    const abs = at(p);
    if (checkFiles) {
      try {
        accessSync(abs, constants.R_OK);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `cannot read ${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        });
      }
    }
    return abs;
  });
  return z
    .strictObject({
      site: segment,
      gateway: segment,
      // `broker: mqtts://host:port` is short for `broker: { urls: [mqtts://host:port] }` (the stub `vitalwire gateways add` writes).
      broker: z.preprocess(
        (v) => (typeof v === 'string' ? { urls: [v] } : v),
        z.strictObject({
          /** Tried in turn after each failure (failover between central brokers). */
          urls: z.array(z.string().regex(/^mqtts:\/\/[^/\s]+$/, 'must be mqtts://host:port (TLS only)')).min(1),
          keepaliveSeconds: int(5, 900, 30),
          connectTimeoutMs: int(100, 600_000, 10_000),
          reconnect: reconnect(500, 30_000),
        }),
      ),
      tls: z.strictObject({ ca: readable, cert: readable, key: readable }),
      /** The systemd unit's StateDirectory by default. */
      dataDir: path.default(DEFAULT_DATA_DIR).transform(at),
      outbox: z
        .strictObject({
          quotaBytes: size(64 * 1024, '1GiB'),
          /** Segment files rotate at this size; shedding frees whole segments. Default: quota / 64, 4 KiB-8 MiB. */
          segmentBytes: optionalSize(4096),
          /** Group commit: the longest an append waits for others to share its fsync. */
          commitDelayMs: int(0, 1000, 20),
          /** Group commit: a pending batch this large is written at once. */
          commitMaxBytes: size(4096, '1MiB'),
          /** What can never be published is kept in the dead-letter log, up to this; its oldest segments go beyond it. */
          deadLetterBytes: size(64 * 1024, '64MiB'),
        })
        .prefault({}),
      publish: z
        .strictObject({
          /** QoS 1 messages sent but not yet acknowledged (PUBACK). */
          inflightWindow: int(1, 65_535, 64),
          /** All publishes together stay under this (the broker's per-identity limit is 1000/s by default). */
          maxMessagesPerSecond: int(1, 100_000, 800),
          /** Backfill after an outage uses at most this, and only what live data leaves free. */
          replayMessagesPerSecond: int(1, 100_000, 400),
          /** Graceful shutdown waits this long for PUBACKs of messages in flight. */
          drainTimeoutMs: int(0, 600_000, 5000),
          statusIntervalMs: int(1000, 3_600_000, 30_000),
          /**
           * The largest MQTT packet a publish may be: at most the broker's limits.maxPacketBytes (the broker closes the
           * connection on a larger one). A Batch that would exceed it is set aside with a Gap instead of resent forever.
           */
          maxPacketBytes: size(16 * 1024, DEFAULT_MAX_PACKET_BYTES).refine(
            (n) => n <= MQTT_MAX_PACKET_BYTES,
            `must be at most ${MQTT_MAX_PACKET_BYTES} bytes (MQTT 3.1.1 2.2.3)`,
          ),
        })
        .prefault({}),
      batching: z
        .strictObject({
          obsMs: int(0, 60_000, 1000),
          waveMs: int(0, 60_000, 250),
          alarmMs: int(0, 60_000, 0),
          /** A batch is closed before its encoded items would exceed this; at most publish.maxPacketBytes less headers. */
          maxBatchBytes: size(1024, '128KiB'),
        })
        .prefault({}),
      clock: z
        .strictObject({
          defaultUtcOffsetMin: z.number().int().min(-720).max(840).default(0),
          /** Device time more than this ahead of the gateway's (after the device's offset) is flagged. */
          maxFutureMs: int(0, 86_400_000, 5000),
          /** A timestamp this far from the device's clock model is a jump; flagged until the model re-learns it. */
          jumpMs: int(100, 86_400_000, 2000),
          /** Device times before this (ISO date) are roll-overs or unset clocks. */
          minPlausible: z.iso.date().default('2000-01-01'),
          /** How systemd/chrony report sync; 'none' reports unsynchronised. */
          syncSource: z.enum(['auto', 'timedatectl', 'none']).default('auto'),
        })
        .prefault({}),
      devices: z.array(device).min(1),
      reconnect: reconnect(250, 30_000),
      metrics: z
        .strictObject({
          host: z
            .string()
            .refine(isLoopbackHost, 'must be a loopback address (127.0.0.1, ::1 or localhost)')
            .default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).default(9465),
        })
        .optional(),
      record: z.strictObject({ dir: path.transform(at), maxBytes: size(4096, '1GiB') }).optional(),
      log: z
        .strictObject({
          level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        })
        .prefault({}),
    })
    .superRefine((c, ctx) => crossCheck(c as unknown, ctx), { when: () => true })
    .transform((c) => ({
      ...c,
      outbox: {
        ...c.outbox,
        segmentBytes:
          c.outbox.segmentBytes ?? Math.max(4096, Math.min(8 * 1024 * 1024, Math.floor(c.outbox.quotaBytes / 64))),
      },
    }));
}

type Issue = { code: 'custom'; path: (string | number)[]; message: string };

/**
 * Checks across fields: unique ids, ports and serial paths, known protocols, transports that fix the protocol. It runs
 * even when other parts of the file are invalid (so every problem is reported in one pass), so it reads defensively.
 */
function crossCheck(raw: unknown, ctx: { addIssue(i: Issue): void }): void {
  const c = (raw ?? {}) as {
    devices?: unknown;
    metrics?: { port?: unknown };
    publish?: { maxPacketBytes?: unknown };
    batching?: { maxBatchBytes?: unknown };
  };
  const devices = Array.isArray(c.devices) ? (c.devices as unknown[]) : [];
  const known = protocolIds();
  const ids = new Map<string, number>();
  const ports = new Map<number, number>();
  const paths = new Map<string, number>();
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  devices.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object') return;
    const d = raw as {
      id?: unknown;
      protocol?: unknown;
      session?: unknown;
      transport?: { kind?: unknown; port?: unknown; path?: unknown };
    };
    if (d.session !== undefined && typeof d.protocol === 'string') {
      for (const s of sessionIssues(d.protocol, d.session)) issue(['devices', i, 'session', ...s.path], s.message);
    }
    if (typeof d.id === 'string') {
      const first = ids.get(d.id);
      if (first !== undefined) issue(['devices', i, 'id'], `duplicate device id '${d.id}' (also devices[${first}])`);
      else ids.set(d.id, i);
    }
    if (typeof d.protocol === 'string' && d.protocol !== '' && !known.includes(d.protocol)) {
      issue(['devices', i, 'protocol'], `unknown protocol '${d.protocol}': one of ${known.join(', ')}`);
    }
    const t = d.transport ?? {};
    if (t.kind === 'mllp-listener') {
      if (typeof d.protocol === 'string' && d.protocol !== 'hl7')
        issue(['devices', i, 'protocol'], 'an mllp-listener carries HL7: protocol must be hl7');
      const portNo = typeof t.port === 'number' ? t.port : t.port === undefined ? 2575 : -1;
      const p = ports.get(portNo);
      if (portNo > 0 && p !== undefined)
        issue(['devices', i, 'transport', 'port'], `port ${portNo} is already used by devices[${p}]`);
      else if (portNo > 0) ports.set(portNo, i);
    }
    if (t.kind === 'ble-bridge' && typeof d.protocol === 'string' && d.protocol !== 'ble-bridge') {
      issue(
        ['devices', i, 'protocol'],
        'a ble-bridge transport carries the bridge line format: protocol must be ble-bridge',
      );
    }
    if ((t.kind === 'serial' || t.kind === 'ble-bridge') && typeof t.path === 'string') {
      const p = paths.get(t.path);
      if (p !== undefined)
        issue(['devices', i, 'transport', 'path'], `serial port ${t.path} is already used by devices[${p}]`);
      else paths.set(t.path, i);
    }
  });
  // Every Batch must fit a publish: its items (maxBatchBytes), its Source and the MQTT header with the longest topic.
  const sizeOf = (v: unknown, def: number | string) =>
    typeof v === 'number' || typeof v === 'string' ? parseSize(v) : v === undefined ? parseSize(def) : null;
  const packet = sizeOf(c.publish?.maxPacketBytes, DEFAULT_MAX_PACKET_BYTES);
  const batch = sizeOf(c.batching?.maxBatchBytes, '128KiB');
  if (packet !== null && batch !== null && packet >= 16 * 1024 && batch > maxItemsBytes(packet)) {
    issue(
      ['batching', 'maxBatchBytes'],
      `must be at most ${maxItemsBytes(packet)} bytes: publish.maxPacketBytes (${packet}) less the MQTT header, the longest topic and a Batch's Source`,
    );
  }
  const metricsPort = c.metrics?.port ?? 9465;
  if (c.metrics && typeof metricsPort === 'number' && metricsPort !== 0 && ports.has(metricsPort)) {
    issue(['metrics', 'port'], `port ${metricsPort} is also an MLLP listener port`);
  }
}

export type GatewayConfigSchema = ReturnType<typeof gatewayConfigSchema>;
export type GatewayConfig = DeepReadonly<z.output<GatewayConfigSchema>>;
export type DeviceConfig = GatewayConfig['devices'][number];
export type TransportConfig = DeviceConfig['transport'];
/** What a caller writes (defaults not yet applied), for building configs in code (demo, tests, CLI flags). */
export type GatewayConfigInput = z.input<GatewayConfigSchema>;

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export async function loadGatewayConfig(
  file: string,
): Promise<{ config: GatewayConfig; file: string; configDir: string }> {
  const abs = resolve(file);
  return loadConfigFile(gatewayConfigSchema(dirname(abs)), abs);
}

/** Validates a config built in code; paths are resolved against `baseDir`. */
export function gatewayConfig(
  input: GatewayConfigInput,
  baseDir = process.cwd(),
  opts: { checkFiles?: boolean } = {},
): GatewayConfig {
  return validateConfig(gatewayConfigSchema(baseDir, opts), input, 'gateway config');
}
