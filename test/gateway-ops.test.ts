// Operating the gateway: the config check from the command line (every problem with its path, exit codes), metrics
// and health on the loopback port, retained status with the gateway's last will, raw capture, and a graceful
// shutdown that stores what was received.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { Batch, LinkState } from '../proto/index.js';
import { openTcpSink, type Sink } from '../simulators/sinks.js';
import { counterMessage, GATEWAY, Rig, SITE, until } from './chaos/harness.js';
import { clientsOf } from '../broker/aedes-internals/index.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');
const cli = (args: string[]) =>
  spawnSync(process.execPath, [BIN, 'gateway', ...args], { encoding: 'utf8', timeout: 30_000 });

let rig: Rig;
let sink: Sink;
beforeAll(async () => {
  rig = new Rig('ops');
  await rig.startBroker();
  sink = await openTcpSink('127.0.0.1', 0);
});
afterAll(async () => {
  await sink.close();
  await rig.close();
});

describe('vitalwire gateway --check-config', () => {
  it('accepts a valid file and summarises it; refuses a bad one listing every problem with its path', () => {
    const good = join(rig.dir, 'good.yaml');
    writeFileSync(
      good,
      [
        `site: ${SITE}`,
        `gateway: ${GATEWAY}`,
        `broker: { urls: ["${rig.url}"] }`,
        `tls: { ca: "${rig.tls.ca}", cert: "${rig.tls.cert}", key: "${rig.tls.key}" }`,
        'dataDir: ./gw-data',
        'devices:',
        '  - { id: bed1, protocol: hl7, transport: { kind: tcp, host: 127.0.0.1, port: 4001 } }',
        '  - { id: ox1, protocol: nonin8, transport: { kind: tcp, host: 127.0.0.1, port: 4002 }, silence: { afterMs: 5000 }, simulated: true }',
        '',
      ].join('\n'),
    );
    const ok = cli(['--config', good, '--check-config']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('valid');
    // The silence threshold each device gets (the HL7 default: three 60 s periods), and which devices are simulators.
    expect(ok.stdout).toContain('device bed1: hl7 over tcp 127.0.0.1:4001; silent after 180 s without a frame\n');
    expect(ok.stdout).toContain(
      'device ox1: nonin8 over tcp 127.0.0.1:4002; silent after 5 s without a frame; SIMULATED',
    );

    const bad = join(rig.dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'site: "bad site"',
        `gateway: ${GATEWAY}`,
        'broker: { urls: ["mqtt://plain:1883"] }',
        'tls: { ca: nowhere.crt, cert: nowhere.crt, key: nowhere.key }',
        'dataDir: d',
        'outbox: { quotaBytes: lots }',
        'devices:',
        '  - { id: bed1, protocol: hl7, transport: { kind: mllp-listener, allowedPeers: [everyone] } }',
        '  - { id: bed1, protocol: nope, transport: { kind: serial } }',
        '',
      ].join('\n'),
    );
    const no = cli(['--config', bad, '--check-config']);
    expect(no.status).toBe(1);
    for (const want of [
      'site:',
      'broker.urls[0]: must be mqtts://',
      'tls.ca: cannot read',
      'outbox.quotaBytes: not a size',
      'devices[0].transport.allowedPeers[0]: must be an IP address or CIDR range',
      "devices[1].id: duplicate device id 'bed1'",
      "devices[1].protocol: unknown protocol 'nope'",
      'devices[1].transport.path',
    ]) {
      expect(no.stderr).toContain(want);
    }
    const usage = cli(['--check-config']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--check-config needs --config FILE');
  });
});

describe('gateway operations', () => {
  it('serves metrics and health, publishes retained status with a last will, records raw bytes, and flushes on close', async () => {
    const recordDir = join(rig.dir, 'capture');
    const gw = await startGateway({
      config: gatewayConfig(
        rig.config(
          [{ id: 'bed1', protocol: 'hl7', transport: { kind: 'tcp', host: '127.0.0.1', port: sink.port ?? 0 } }],
          {
            metrics: { host: '127.0.0.1', port: 0 },
            batching: { obsMs: 60_000 },
          },
        ),
      ),
      logger: silentLogger(),
      recordDir,
    });
    let closed = false;
    try {
      await until(() => gw.uplink.isConnected() && gw.devices[0]?.state === 'connected', 'connected');
      for (let n = 1; n <= 5; n++) sink.write(counterMessage(n, Date.now() * 1000));
      await until(() => (gw.devices[0]?.counters.frames ?? 0) === 5, 'five frames');
      // The publish-latency histogram has a series only once a PUBACK was timed: wait for one, not for luck.
      await until(() => gw.uplink.counters.acked > 0, 'a PUBACK');

      const health = await fetch(`http://127.0.0.1:${gw.metricsPort}/healthz`);
      expect(health.status).toBe(200);
      const text = await (await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`)).text();
      for (const name of [
        'vitalwire_gateway_frames_total{device="bed1",site="chaos",gateway="gw1"} 5',
        'vitalwire_gateway_outbox_queue_depth',
        'vitalwire_gateway_outbox_oldest_unsent_age_seconds',
        'vitalwire_gateway_publish_latency_seconds_bucket',
        'vitalwire_gateway_broker_connected',
        'vitalwire_gateway_shed_batches_total',
        'vitalwire_gateway_device_reconnects_total',
        'vitalwire_gateway_clock_synced',
      ]) {
        expect(text).toContain(name);
      }

      // A new subscriber gets the retained statuses: the gateway's own and the device's.
      const sub = await mqtt.connectAsync(rig.url, {
        ca: readFileSync(rig.tls.ca),
        username: 'observer',
        password: 'observer-pw',
        clientId: 'observer',
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      const stored = new Map<string, number>();
      sub.on('message', (topic, payload, packet) => {
        if (packet.retain) stored.set(topic, Batch.decode(payload).statuses[0]?.state ?? 0);
      });
      await sub.subscribeAsync(`vw/v1/${SITE}/${GATEWAY}/+/status`, { qos: 1 });
      await until(() => stored.size >= 2, 'two retained statuses', 10_000);
      await sub.endAsync();
      expect(stored.get(`vw/v1/${SITE}/${GATEWAY}/_gateway/status`)).toBe(LinkState.LINK_STATE_CONNECTED);
      expect(stored.get(`vw/v1/${SITE}/${GATEWAY}/bed1/status`)).toBe(LinkState.LINK_STATE_CONNECTED);

      // Close: the numerics batch (a 60 s interval, still open) is stored and published before the gateway goes.
      const before = rig.received.filter((r) => r.kind === 'obs').length;
      await gw.close();
      closed = true;
      expect(before).toBe(0);
      expect(
        rig.received
          .filter((r) => r.kind === 'obs')
          .flatMap((r) => r.values)
          .sort(),
      ).toEqual([1, 2, 3, 4, 5]);
      const final = rig.received.filter((r) => r.device === '_gateway').at(-1);
      expect(final?.statuses[0]).toBe(LinkState.LINK_STATE_DISCONNECTED);

      const files = readdirSync(recordDir).sort();
      expect(files.some((f) => /^bed1-\d{8}T\d{6}Z\.raw$/.test(f))).toBe(true);
      const raw = readFileSync(
        join(
          recordDir,
          files.find((f) => f.endsWith('.raw'))!,
        ),
      );
      const idx = readFileSync(
        join(
          recordDir,
          files.find((f) => f.endsWith('.idx'))!,
        ),
        'utf8',
      )
        .trim()
        .split('\n');
      expect(raw.includes(Buffer.from('ORU^R01'))).toBe(true);
      expect(idx.reduce((a, l) => a + Number(l.split(' ')[1]), 0)).toBe(raw.length);
    } finally {
      if (!closed) await gw.close();
    }
  });

  it('publishes the last will when the connection dies', async () => {
    const gw = await startGateway({
      config: gatewayConfig(
        rig.config(
          [{ id: 'bed1', protocol: 'hl7', transport: { kind: 'tcp', host: '127.0.0.1', port: sink.port ?? 0 } }],
          {
            dataDir: join(rig.dir, 'will-data'),
          },
        ),
      ),
      logger: silentLogger(),
    });
    try {
      await until(() => gw.uplink.isConnected(), 'connected');
      const before = rig.received.length;
      // The broker sees the gateway's connection drop without a DISCONNECT.
      for (const c of rig.central ? clientsOf(rig.central.broker.aedes) : []) c.conn.destroy();
      await until(
        () => rig.received.slice(before).some((r) => r.device === '_gateway' && r.seq === 0),
        'the last will',
      );
      const will = rig.received.slice(before).find((r) => r.device === '_gateway' && r.seq === 0);
      expect(will?.statuses[0]).toBe(LinkState.LINK_STATE_DISCONNECTED);
      expect(will?.retain).toBe(true);
    } finally {
      await gw.close();
    }
  });
});
