// Issue 15: the gateway never said why it could not reach the broker; its log showed only reconnect attempts. On real
// parts (a TLS Aedes broker from startBroker, the broker suites' PKI with revoked, expired and foreign certificates):
// each failure has its reason in the log (once per change, not per retry), the metrics, `vitalwire gateway status`,
// and an own certificate that cannot work is named before dialling.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../broker/broker.js';
import { staticRevocationList } from '../broker/revocation.js';
import { makeTestPki, testUsers, type TestPki } from '../broker/test-kit.js';
import { createUserStore } from '../broker/users.js';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { freePort } from '../lib/listen.js';
import { silentLogger } from '../lib/log.js';
import { until } from './chaos/harness.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');

type Line = { msg: string; reason?: string; component?: string; level: number };

describe('gateway uplink: why it cannot connect', () => {
  let dir: string;
  let pki: TestPki;
  let central: Broker;
  let port: number;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vw-uplink-reason-'));
    pki = await makeTestPki(dir);
    port = await freePort();
    central = await startBroker({
      host: '127.0.0.1',
      port,
      tls: pki.brokerTls,
      users: createUserStore(await testUsers()),
      revocation: staticRevocationList(pki.revokedSerials),
      logger: silentLogger(),
    });
  });

  afterAll(async () => {
    for (const g of gateways) await g.close().catch(() => undefined);
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A gateway of site1/gw1 with these TLS files, its log kept. */
  async function gateway(
    name: string,
    tls: { ca: string; cert: string; key: string },
    url = `mqtts://127.0.0.1:${port}`,
  ) {
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    const gw = await startGateway({
      config: gatewayConfig({
        site: 'site1',
        gateway: 'gw1',
        broker: { urls: [url], reconnect: { minMs: 100, maxMs: 300 }, connectTimeoutMs: 3000 },
        tls,
        dataDir: join(dir, name),
        metrics: { host: '127.0.0.1', port: 0 },
        devices: [
          {
            id: 'mon1',
            protocol: 'hl7',
            transport: { kind: 'tcp', host: '127.0.0.1', port: await freePort() },
            simulated: true,
          },
        ],
      }),
      logger,
    });
    gateways.push(gw);
    const said = (reason: string) => lines.filter((l) => l.component === 'uplink' && l.reason === reason);
    const metrics = async () => (await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`)).text();
    return { gw, lines, said, metrics };
  }

  const attempts = (gw: Gateway, n: number) =>
    until(() => gw.uplink.status().failures >= n, `${n} failed attempts`, 20_000);

  it('a revoked certificate: refused at CONNECT (5); said once, with revocation as the likely cause; in metrics and gateway status', async () => {
    const g = await gateway('revoked', { ca: pki.caFile, cert: pki.revoked.certFile, key: pki.revoked.keyFile });
    await attempts(g.gw, 4);
    const st = g.gw.uplink.status();
    expect(st.connected).toBe(false);
    expect(st.reason?.reason).toBe('not-authorised');
    expect(st.reason?.text).toMatch(
      /refused our certificate \(CONNACK 5\), which is current and issued by our CA: it has most likely been revoked/,
    );
    expect(g.said('not-authorised')).toHaveLength(1);
    expect(g.said('not-authorised')[0]?.msg).toMatch(/^cannot connect to the broker: /);
    const m = await g.metrics();
    expect(m).toMatch(/vitalwire_gateway_broker_connect_reason\{reason="not-authorised"[^}]*\} 1/);
    expect(m).toMatch(/vitalwire_gateway_broker_connect_reason\{reason="connected"[^}]*\} 0/);
    expect(g.gw.report().uplink).toMatchObject({ connected: false, reason: 'not-authorised' });

    // `vitalwire gateway status` (the compiled command) against this running gateway.
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const c = spawn(
        process.execPath,
        [BIN, 'gateway', 'status', '--url', `http://127.0.0.1:${g.gw.metricsPort}/status`],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let stdout = '';
      c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      c.on('exit', (code) => resolve({ code, stdout }));
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      new RegExp(
        `^uplink: NOT CONNECTED to mqtts://127\\.0\\.0\\.1:${port} \\[not-authorised\\]: .*most likely been revoked.*; since .*, \\d+ failed attempts, last connected never$`,
        'm',
      ),
    );
    expect(out.stdout).toMatch(/^outbox: \d+ batches waiting/m);
  });

  it('an expired certificate: said before dialling, and the refusals that follow are not said again', async () => {
    const g = await gateway('expired', { ca: pki.caFile, cert: pki.expired.certFile, key: pki.expired.keyFile });
    // The first thing the uplink says, before any attempt could have ended.
    const first = g.lines.find((l) => l.component === 'uplink');
    expect(first).toMatchObject({ reason: 'own-cert-expired', level: 50 });
    expect(first?.msg).toMatch(/^our certificate cannot work: our certificate expired on \d{4}-\d\d-\d\dT/);
    await attempts(g.gw, 4);
    expect(g.gw.uplink.status().reason?.reason).toBe('own-cert-expired');
    expect(g.said('own-cert-expired')).toHaveLength(1);
    expect(await g.metrics()).toMatch(/vitalwire_gateway_broker_connect_reason\{reason="own-cert-expired"[^}]*\} 1/);
  });

  it('a certificate of another site CA: named before dialling', async () => {
    const g = await gateway('foreign', { ca: pki.caFile, cert: pki.foreign.certFile, key: pki.foreign.keyFile });
    await attempts(g.gw, 3);
    expect(g.gw.uplink.status().reason?.reason).toBe('own-cert-other-ca');
    expect(g.said('own-cert-other-ca')).toHaveLength(1);
  });

  it('a CA file that did not sign the broker: unknown CA', async () => {
    const other = join(pki.dir, 'other', 'tls', 'ca.crt');
    const g = await gateway('unknown-ca', { ca: other, cert: pki.site1gw1.certFile, key: pki.site1gw1.keyFile });
    await attempts(g.gw, 4);
    expect(g.gw.uplink.status().reason?.reason).toBe('unknown-ca');
    expect(g.gw.uplink.status().reason?.text).toMatch(/certificate is not signed by our CA file/);
    expect(g.said('unknown-ca')).toHaveLength(1);
  });

  it('a broker that goes away and comes back: one line per change of reason, then connected', async () => {
    const g = await gateway('refused', { ca: pki.caFile, cert: pki.site1gw1.certFile, key: pki.site1gw1.keyFile });
    await until(() => g.gw.uplink.isConnected(), 'connected');
    await central.close();
    await until(() => g.gw.uplink.status().failures >= 5, '5 refused attempts', 20_000);
    expect(g.gw.uplink.status().reason?.reason).toBe('refused');
    expect(g.said('refused')).toHaveLength(1);
    expect(g.gw.report().uplink.lastConnected).not.toBeNull();
    central = await startBroker({
      host: '127.0.0.1',
      port,
      tls: pki.brokerTls,
      users: createUserStore(await testUsers()),
      revocation: staticRevocationList(pki.revokedSerials),
      logger: silentLogger(),
    });
    await until(() => g.gw.uplink.isConnected(), 'connected again', 20_000);
    expect(g.gw.uplink.status()).toMatchObject({ connected: true, reason: null, failures: 0 });
    expect(await g.metrics()).toMatch(/vitalwire_gateway_broker_connect_reason\{reason="connected"[^}]*\} 1/);
    expect(g.said('refused')).toHaveLength(1);
  });
});
