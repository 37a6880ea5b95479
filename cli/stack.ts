// The whole system in one process on embedded defaults: dev PKI, central broker on TLS with its
// archive (DuckDB/Parquet in the data directory), the fan-out with the dashboard, a gateway, and simulated monitors on virtual serial cables
// (socat) or, when socat is absent, on TCP. `vitalwire demo`, the end-to-end tests and the
// e2e bench all start it through here, so they exercise the same wiring.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureDevPki } from '../broker/pki.js';
import { createUserStore, hashPassword, type UserStore } from '../broker/users.js';
import { auditDir as auditDirOf, startCentral, type Central } from '../central/central.js';
import { centralConfig } from '../central/config.js';
import type { Fanout } from '../fanout/server.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { gatewayConfig, type GatewayConfigInput } from '../gateway/config.js';
import { openPtyPair, socatAvailable, type PtyPair } from '../simulators/pty.js';
import { openSerialSink, openTcpSink, type Sink } from '../simulators/sinks.js';
import { runMonitor, simulatedEui64, type RunningMonitor } from '../simulators/monitor.js';
import type { Vitals } from '../simulators/physiology.js';
import type { Logger } from '../lib/log.js';
import { noTruth } from '../simulators/ground-truth.js';
import { prepareRunner, type Runner } from '../simulators/runner.js';
import { wardScenario } from '../simulators/scenario.js';

export const DEMO_SITE = 'demo';
export const DEMO_GATEWAY = 'gw1';

export interface StackOptions {
  dataDir: string;
  host?: string;
  mqttPort?: number;
  httpPort?: number;
  beds?: number;
  /** Force the TCP device link even when socat exists. */
  noSocat?: boolean;
  intervalMs?: number;
  logger: Logger;
  onSend?: (bed: number, v: Vitals, timeUs: number, controlId: string) => void;
  /** Waveform messages from the monitors (default true). */
  waves?: boolean;
  /** Scripted alarm episodes on the monitors (default false: tests compare exact values). */
  alarms?: boolean;
  /** Which beds (1-based) flag their data DEMO (default: all, they are simulated). */
  demoBeds?: (bed: number) => boolean;
  onWave?: (bed: number, chunkStartUs: number, writtenUs: number) => void;
  /** Devices with no simulator behind them: a TCP listener each (the gateway dials it) that tests write real device
   *  bytes to (HL7 MLLP frames, Datex records). */
  rawDevices?: { id: string; protocol: string; bed?: string }[];
  /** A mixed-protocol ward (simulators/runner.ts: HL7 over MLLP and TCP, Nonin 7/8, Masimo, Datex, BLE bridge) of
   *  this many devices, beside the `beds` PCD-01 monitors; numbered after them. */
  ward?: { devices: number; seed: number };
  /** The central's archive in `dataDir` (embedded store, defaults), so `vitalwire export --data-dir` reads the run
   *  (default true). Every demo device is simulated: its data sits in the quarantine tables (docs/archive.md). */
  archive?: boolean;
  /** Archive settings the defaults do not fit (tests: a short loader interval). */
  archiveTuning?: { loader?: { intervalMs?: number }; checkpoint?: { intervalMs?: number } };
}

export interface Stack {
  central: Central;
  fanout: Fanout;
  gateway: Gateway;
  monitors: RunningMonitor[];
  /** Device-side ends the monitors write to (tests inject faults here). */
  sinks: Sink[];
  /** The listeners of `rawDevices`, by device id. */
  rawSinks: Map<string, Sink>;
  /** The mixed ward's runner (when `ward` was given). */
  ward: Runner | null;
  deviceLink: 'serial' | 'tcp';
  mqttUrl: string;
  /** The dashboard's login page. */
  dashboardUrl: string;
  /** A session token of the demo user (empty when not on loopback), for tests and benches. */
  token: string;
  /** Users who may log in (the demo user when on loopback); tests add more. */
  users: UserStore;
  /** The fan-out's access audit directory. */
  auditDir: string;
  caPath: string;
  tls: { ca: string; cert: string; key: string };
  close(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const host = o.host ?? '127.0.0.1';
  const beds = o.beds ?? 2;
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = o.logger;
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    // Reverse order: devices first, then gateway, fan-out, broker.
    for (const c of cleanups.reverse()) {
      await c().catch((err: unknown) =>
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'shutdown step failed'),
      );
    }
  };
  try {
    const pki = await ensureDevPki(dataDir, { site: DEMO_SITE, gateway: DEMO_GATEWAY, hosts: [host] });
    const tls = {
      ca: readFileSync(pki.caCert, 'utf8'),
      cert: readFileSync(pki.gatewayCert, 'utf8'),
      key: readFileSync(pki.gatewayKey, 'utf8'),
    };
    const users = createUserStore();
    // The demo observer exists only when everything is bound to loopback: a password this
    // public must never open a broker reachable from a network.
    if (isLoopback(host)) {
      users.add({ name: 'demo', role: 'observer', sites: ['*'], hash: await hashPassword('demo') });
    }
    // The central side as `vitalwire central` builds it in development mode, with the demo's in-memory users.
    const config = centralConfig(
      {
        listen: { host, port: o.mqttPort ?? 8883 },
        tls: { ca: pki.caCert, cert: pki.brokerCert, key: pki.brokerKey },
        fanout: { host, port: o.httpPort ?? 8080 },
        dataDir,
        ...(o.archive === false ? {} : { archive: { dataDir, ...o.archiveTuning } }),
      },
      'demo stack',
    );
    const central = await startCentral({
      config,
      baseDir: dataDir,
      logger: log.child({ svc: 'central' }),
      parts: { users },
    });
    cleanups.push(() => central.close());
    const fanout = central.fanout;
    if (!fanout) throw new Error('the demo config has a fan-out section');
    const auditDir = auditDirOf(config, dataDir);
    const demoUser = users.get('demo');
    const token = demoUser ? (await fanout.sessions.issue(demoUser)).token : '';

    const useSerial = !o.noSocat && socatAvailable();
    if (!o.noSocat && !useSerial) {
      log.warn(
        'socat not found: simulated monitors use TCP device links instead of virtual serial cables (apt-get install socat)',
      );
    }
    const ptyDir = join(dataDir, 'pty');
    mkdirSync(ptyDir, { recursive: true });
    const devices: GatewayConfigInput['devices'] = [];
    const sinks: Sink[] = [];
    const pairs: PtyPair[] = [];
    cleanups.push(async () => {
      await Promise.all(pairs.map((p) => p.close()));
    });
    for (let i = 1; i <= beds; i++) {
      const id = `bed${String(i).padStart(2, '0')}`;
      if (useSerial) {
        const pair = await openPtyPair(ptyDir, id);
        pairs.push(pair);
        sinks.push(await openSerialSink(pair.device));
        devices.push({
          id,
          protocol: 'hl7',
          bed: `Bed ${i}`,
          simulated: true,
          transport: { kind: 'serial', path: pair.host, baudRate: 115200 },
        });
      } else {
        const sink = await openTcpSink(host, 0);
        sinks.push(sink);
        devices.push({
          id,
          protocol: 'hl7',
          bed: `Bed ${i}`,
          simulated: true,
          transport: { kind: 'tcp', host, port: sink.port ?? 0 },
        });
      }
    }
    const rawSinks = new Map<string, Sink>();
    for (const d of o.rawDevices ?? []) {
      const sink = await openTcpSink(host, 0);
      rawSinks.set(d.id, sink);
      devices.push({
        id: d.id,
        protocol: d.protocol,
        ...(d.bed ? { bed: d.bed } : {}),
        transport: { kind: 'tcp', host, port: sink.port ?? 0 },
      });
    }
    cleanups.push(async () => {
      await Promise.all([...sinks, ...rawSinks.values()].map((s) => s.close()));
    });
    let ward: Runner | null = null;
    if (o.ward && o.ward.devices > 0) {
      const sc = wardScenario(o.ward.devices, o.ward.seed);
      // Beds after the PCD-01 monitors', so ids and bed labels do not collide.
      const shifted = {
        ...sc,
        beds: sc.beds.map((b) => ({
          ...b,
          bed: b.bed + beds,
          devices: b.devices.map((d) => ({
            ...d,
            id: d.id.replace(/^bed\d+/, `bed${String(b.bed + beds).padStart(2, '0')}`),
          })),
        })),
      };
      const w = await prepareRunner({
        scenario: shifted,
        truth: noTruth,
        logger: log.child({ svc: 'ward' }),
        ptyDir,
        host,
        noSocat: !useSerial,
      });
      ward = w;
      devices.push(...w.gatewayDevices);
      cleanups.push(() => w.stop());
    }

    const mqttUrl = `mqtts://${host.includes(':') ? `[${host}]` : host}:${central.broker.port}`;
    // The gateway runtime with its durable outbox under <data-dir>/gateway. The demo favours latency: every decoded
    // frame is its own Batch (no batching interval) and reconnects start fast. Every device is a simulator: `simulated`
    // puts FLAG_SIMULATED on all it produces, beside the marks the simulated monitors send themselves.
    const gateway = await startGateway({
      config: gatewayConfig({
        site: DEMO_SITE,
        gateway: DEMO_GATEWAY,
        broker: { urls: [mqttUrl], reconnect: { minMs: 200, maxMs: 5000 } },
        tls: { ca: pki.caCert, cert: pki.gatewayCert, key: pki.gatewayKey },
        dataDir: join(dataDir, 'gateway'),
        outbox: { quotaBytes: '256MiB', commitDelayMs: 2 },
        batching: { obsMs: 0, waveMs: 0, alarmMs: 0 },
        devices,
      }),
      logger: log.child({ svc: 'gateway' }),
    });
    cleanups.push(() => gateway.close());

    const monitors = sinks.map((sink, idx) =>
      runMonitor({
        identity: { eui64: simulatedEui64(idx + 1), model: 'VW-SIM-PCD01', bed: `Bed ${idx + 1}` },
        sink,
        seed: 1000 + idx,
        demo: o.demoBeds ? o.demoBeds(idx + 1) : true,
        waves: o.waves ?? true,
        alarms: o.alarms ?? false,
        ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}),
        ...(o.onWave ? { onWave: (start: number, written: number) => o.onWave?.(idx + 1, start, written) } : {}),
        ...(o.onSend ? { onSend: (v: Vitals, t: number, c: string) => o.onSend?.(idx + 1, v, t, c) } : {}),
      }),
    );
    cleanups.push(async () => {
      for (const m of monitors) m.stop();
    });
    ward?.start();

    return {
      central,
      fanout,
      gateway,
      monitors,
      sinks,
      rawSinks,
      ward,
      deviceLink: useSerial ? 'serial' : 'tcp',
      mqttUrl,
      dashboardUrl: fanout.url,
      token,
      users,
      auditDir,
      caPath: pki.caCert,
      tls,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
