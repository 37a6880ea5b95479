// Shared set-up of the fan-out suites: a real TLS central broker with the test PKI and users, a real fan-out on an
// ephemeral port, and a real gateway MQTT client (client certificate site1/gw1) that publishes hand-made Batches.
// Not a test file itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { startCentral, type Central } from '../central/central.js';
import { centralConfig } from '../central/config.js';
import { bundleDashboard } from '../dashboard/bundle.js';
import { createMemoryAuditLog, type AuditLog } from '../fanout/audit.js';
import type { Fanout, FanoutOptions } from '../fanout/server.js';
import { Clients, makeTestPki, testUsers, type TestPki } from '../broker/test-kit.js';
import { createUserStore, hashPassword, type UserStore } from '../broker/users.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { Batch, Kind, type IBatch } from '../proto/index.js';

export interface FanoutRig {
  dir: string;
  pki: TestPki;
  central: Central;
  fanout: Fanout;
  users: UserStore;
  audit: ReturnType<typeof createMemoryAuditLog>;
  clients: Clients;
  gw: MqttClient;
  close(): Promise<void>;
}

/**
 * Users: obs1 (site1), obsall ('*'), svc, admin1 (test-kit), plus nurse1 who may see only site1/gw1/bed01.
 * Passwords are 'pw-' + name.
 */
export interface RigParts {
  redis?: { url: string };
  users?: UserStore;
  /** The central's logger (a test that reads the log lines); silent by default. */
  logger?: Logger;
  /** The fan-out's audit (a file audit with its real bounds); the rig's memory audit by default. */
  audit?: AuditLog;
  /** Serve the dashboard page (bundled from dashboard/), for tests in Chromium; no page by default. */
  dashboard?: boolean;
  /** Open the central's health port (GET /metrics) on an ephemeral port. */
  health?: boolean;
}

export async function startRig(extra: Partial<FanoutOptions> = {}, central: RigParts = {}): Promise<FanoutRig> {
  const dir = mkdtempSync(join(tmpdir(), 'vw-fanout-'));
  const pki = await makeTestPki(dir);
  const users =
    central.users ??
    createUserStore([
      ...(await testUsers()),
      { name: 'nurse1', role: 'observer', sites: ['site1/gw1/bed01'], hash: await hashPassword('pw-nurse1') },
    ]);
  const audit = createMemoryAuditLog();
  // The central side as every entry point builds it (central/central.ts), with in-memory users and audit.
  const config = centralConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      tls: pki.brokerFiles,
      fanout: { host: '127.0.0.1', port: 0 },
      limits: { publishRatePerSecond: 1e6, publishBurst: 1e6 },
      ...(central.redis ? { redis: central.redis } : {}),
      ...(central.health ? { http: { host: '127.0.0.1', port: 0 } } : {}),
    },
    'fan-out rig',
  );
  const c = await startCentral({
    config,
    baseDir: dir,
    logger: central.logger ?? silentLogger(),
    parts: {
      users,
      audit: central.audit ?? audit,
      assets: central.dashboard ? await bundleDashboard() : new Map(),
      fanout: extra,
    },
  });
  const fanout = c.fanout;
  if (!fanout) throw new Error('the rig config has a fan-out section');
  const clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${c.broker.port}`);
  const gw = await clients.gateway(pki.site1gw1, 'site1/gw1');
  return {
    dir,
    pki,
    central: c,
    fanout,
    users,
    audit,
    clients,
    gw,
    async close() {
      await clients.endAll();
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const KIND: Record<string, number> = {
  obs: Kind.KIND_OBS,
  wave: Kind.KIND_WAVE,
  alarm: Kind.KIND_ALARM,
  status: Kind.KIND_STATUS,
};

/** Publishes one Batch as the gateway site1/gw1 would (QoS 1, per-stream topic). */
export function publish(
  gw: MqttClient,
  device: string,
  kind: 'obs' | 'wave' | 'alarm' | 'status',
  seq: number,
  body: Omit<IBatch, 'source' | 'kind' | 'seq'> = {},
): Promise<Buffer> {
  return publishAs(gw, 'site1/gw1', device, kind, seq, body);
}

/** Publishes one Batch as the gateway `site/gateway` (its client certificate must say so). */
export async function publishAs(
  gw: MqttClient,
  siteGateway: string,
  device: string,
  kind: 'obs' | 'wave' | 'alarm' | 'status',
  seq: number,
  body: Omit<IBatch, 'source' | 'kind' | 'seq'> = {},
  bed = `Bed ${device.slice(-2)}`,
): Promise<Buffer> {
  const [site = '', gateway = ''] = siteGateway.split('/');
  const bytes = Buffer.from(
    Batch.encode({
      source: { site, gateway, device, bed, model: 'TEST' },
      kind: KIND[kind] ?? 0,
      seq,
      publishTimeUs: Date.now() * 1000,
      ...body,
    }).finish(),
  );
  await gw.publishAsync(`vw/v1/${site}/${gateway}/${device}/${kind}`, bytes, { qos: 1 });
  return bytes;
}

export function hr(value: number): Omit<IBatch, 'source' | 'kind' | 'seq'> {
  return {
    observations: [
      {
        mdc: 147842,
        refid: 'MDC_ECG_CARD_BEAT_RATE',
        number: value,
        unit: '/min',
        time: { gatewayTimeUs: Date.now() * 1000 },
      },
    ],
  };
}

export function ecg(firstSample: number, n = 64): Omit<IBatch, 'source' | 'kind' | 'seq'> {
  return {
    waves: [
      {
        mdc: 131330,
        refid: 'MDC_ECG_ELEC_POTL_II',
        sampleRateHz: 250,
        firstSample,
        scale: 0.005,
        unit: 'mV',
        samples: Array.from({ length: n }, (_, i) => Math.round(200 * Math.sin((firstSample + i) / 10))),
        time: { gatewayTimeUs: Date.now() * 1000 },
      },
    ],
  };
}
