import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.js';
import { gatewayConfig, loadGatewayConfig, parseSize, type GatewayConfigInput } from './config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vw-gwcfg-'));
  for (const f of ['ca.crt', 'gw.crt', 'gw.key']) writeFileSync(join(dir, f), 'pem');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = (): GatewayConfigInput => ({
  site: 'bv-soc-son',
  gateway: 'gw1',
  broker: { urls: ['mqtts://central.example:8883'] },
  tls: { ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
  dataDir: 'data',
  devices: [
    { id: 'bed01', protocol: 'hl7', transport: { kind: 'serial', path: '/dev/ttyUSB0' } },
    { id: 'bed02', protocol: 'hl7', transport: { kind: 'mllp-listener', allowedPeers: ['10.0.0.0/24'] } },
  ],
});

function issues(input: unknown): Map<string, string> {
  try {
    gatewayConfig(input as never, dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('VW_ERR_CONFIG');
    return new Map((err as ConfigError).issues.map((i) => [i.path, i.message]));
  }
  throw new Error('config was accepted');
}

describe('gateway config', () => {
  it('fills every default, resolves paths against the config directory, and freezes the result', () => {
    const c = gatewayConfig(base(), dir);
    expect(c.tls.ca).toBe(join(dir, 'ca.crt'));
    expect(c.dataDir).toBe(join(dir, 'data'));
    expect(c.devices[0]?.transport).toEqual({
      kind: 'serial',
      path: '/dev/ttyUSB0',
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      flowControl: 'none',
    });
    const mllp = c.devices[1]?.transport;
    expect(
      mllp?.kind === 'mllp-listener' && [mllp.port, mllp.maxFrameBytes, mllp.maxConnections, mllp.frameTimeoutMs],
    ).toEqual([2575, 1024 * 1024, 4, 30_000]);
    expect(c.outbox.quotaBytes).toBe(1024 ** 3);
    expect(c.outbox.segmentBytes).toBe(8 * 1024 * 1024);
    expect(c.batching).toEqual({ obsMs: 1000, waveMs: 250, alarmMs: 0, maxBatchBytes: 128 * 1024 });
    expect(c.publish.maxPacketBytes).toBe(255 * 1024); // under the broker's default 256 KiB
    expect(c.outbox.deadLetterBytes).toBe(64 * 1024 * 1024);
    expect(c.metrics).toBeUndefined();
    expect(Object.isFrozen(c.devices[0]?.transport)).toBe(true);
  });

  it('reads sizes with units', () => {
    expect(parseSize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseSize('2 GB')).toBe(2e9);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('lots')).toBeNull();
    expect(parseSize(-1)).toBeNull();
  });

  it('reports every problem at once, each with its path and a clear message', () => {
    const c = base() as unknown as Record<string, unknown>;
    c['site'] = 'has space';
    c['broker'] = { urls: ['mqtt://plain.example:1883'], keepaliveSeconds: 1 };
    c['tls'] = { ca: 'missing.crt', cert: 'gw.crt', key: 'gw.key' };
    c['outbox'] = { quotaBytes: 'lots', typo: 1 };
    c['metrics'] = { host: '0.0.0.0' };
    c['devices'] = [
      { id: 'bed01', protocol: 'hl7', transport: { kind: 'serial', path: '/dev/ttyUSB0', parity: 'mark' } },
      { id: 'bed01', protocol: 'nope', transport: { kind: 'tcp', host: 'x' } },
      { id: '_gw', protocol: 'nonin7', transport: { kind: 'mllp-listener', allowedPeers: ['not-an-ip'] } },
      { id: 'bed04', protocol: 'hl7', transport: { kind: 'usb' } },
      { id: 'bed05', protocol: 'hl7', transport: { kind: 'serial', path: '/dev/ttyUSB0' } },
    ];
    const m = issues(c);
    const expectIssue = (path: string, re: RegExp) =>
      expect(m.get(path), `${path} in ${[...m.keys()].join(', ')}`).toMatch(re);
    expectIssue('site', /A-Z a-z 0-9/);
    expectIssue('broker.urls[0]', /mqtts:\/\//);
    expectIssue('broker.keepaliveSeconds', />=5|at least|too small/i);
    expectIssue('tls.ca', /cannot read .*missing\.crt: ENOENT/);
    expectIssue('outbox.quotaBytes', /not a size/);
    expectIssue('outbox', /typo/);
    expectIssue('metrics.host', /loopback/);
    expectIssue('devices[0].transport.parity', /none|even|odd/);
    expectIssue('devices[1].id', /duplicate device id 'bed01' \(also devices\[0\]\)/);
    expectIssue('devices[1].protocol', /unknown protocol 'nope': one of .*hl7/);
    expectIssue('devices[1].transport.port', /expected number|Invalid input/i);
    expectIssue('devices[2].id', /reserved/);
    expectIssue('devices[2].protocol', /protocol must be hl7/);
    expectIssue('devices[2].transport.allowedPeers[0]', /IP address or CIDR/);
    expectIssue('devices[3].transport.kind', /serial|tcp|mllp-listener|ble-bridge|Invalid/i);
    expectIssue('devices[4].transport.path', /already used by devices\[0\]/);
  });

  it('keeps every Batch inside a publish: maxBatchBytes must leave room for the MQTT header, the topic and the Source', () => {
    const ok = gatewayConfig(
      { ...base(), publish: { maxPacketBytes: '64KiB' }, batching: { maxBatchBytes: '60KiB' } },
      dir,
    );
    expect([ok.publish.maxPacketBytes, ok.batching.maxBatchBytes]).toEqual([64 * 1024, 60 * 1024]);
    // The default maxBatchBytes (128 KiB) does not fit a 64 KiB publish: said on the batching key, with the room left.
    let m = issues({ ...base(), publish: { maxPacketBytes: '64KiB' } });
    expect(m.get('batching.maxBatchBytes')).toMatch(/^must be at most 6\d{4} bytes: publish.maxPacketBytes \(65536\)/);
    m = issues({ ...base(), publish: { maxPacketBytes: 1000 }, outbox: { deadLetterBytes: 'x' } });
    expect(m.get('publish.maxPacketBytes')).toMatch(/at least 16384/);
    expect(m.get('outbox.deadLetterBytes')).toMatch(/not a size/);
    m = issues({ ...base(), publish: { maxPacketBytes: '1GiB' } });
    expect(m.get('publish.maxPacketBytes')).toMatch(/MQTT 3.1.1 2.2.3/);
    m = issues({
      ...base(),
      devices: [
        {
          id: 'm',
          protocol: 'hl7',
          transport: { kind: 'mllp-listener', allowedPeers: ['10.0.0.1'], frameTimeoutMs: 10 },
        },
      ],
    });
    expect(m.get('devices[0].transport.frameTimeoutMs')).toMatch(/>=100|at least|too small/i);
  });

  it('reads the stub that `vitalwire gateways add` writes once devices are added', () => {
    const c = gatewayConfig(
      {
        site: 's1',
        gateway: 'g1',
        broker: 'mqtts://central.example:8883',
        tls: { ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
        devices: [{ id: 'm1', protocol: 'hl7', transport: { kind: 'tcp', host: '10.0.0.9', port: 4001 } }],
      } as unknown as GatewayConfigInput,
      dir,
    );
    expect(c.broker.urls).toEqual(['mqtts://central.example:8883']);
    expect(c.dataDir).toBe('/var/lib/vitalwire/gateway');
  });

  it('needs at least one device and a broker, and says so', () => {
    const m = issues({
      site: 's',
      gateway: 'g',
      tls: { ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
      dataDir: 'd',
      devices: [],
    });
    expect(m.get('broker')).toMatch(/expected object|Invalid input/i);
    expect(m.get('devices')).toMatch(/>=1|at least 1|too small/i);
  });

  it('loads YAML and JSON files, and names the line of a YAML syntax error', async () => {
    const y = join(dir, 'gw.yaml');
    writeFileSync(
      y,
      `site: s1\ngateway: g1\nbroker:\n  urls: [mqtts://127.0.0.1:8883]\ntls: {ca: ca.crt, cert: gw.crt, key: gw.key}\ndataDir: d\n` +
        `devices:\n  - id: m1\n    protocol: hl7\n    transport: {kind: tcp, host: 127.0.0.1, port: 4001}\n`,
    );
    const { config } = await loadGatewayConfig(y);
    expect(config.devices[0]?.transport).toMatchObject({ kind: 'tcp', port: 4001, connectTimeoutMs: 10_000 });
    const j = join(dir, 'gw.json');
    writeFileSync(j, JSON.stringify(base()));
    expect((await loadGatewayConfig(j)).config.devices).toHaveLength(2);
    writeFileSync(y, 'site: s1\n  gateway: : g1\n');
    await expect(loadGatewayConfig(y)).rejects.toThrow(/line \d/);
  });

  it('takes silence detection and the simulated mark per device, and refuses a threshold below the period', () => {
    const c = base();
    c.devices = [
      {
        id: 'ox1',
        protocol: 'nonin8',
        transport: { kind: 'serial', path: '/dev/ttyUSB1' },
        silence: { periodMs: 1000, afterMs: 5000 },
        simulated: true,
      },
      { id: 'bp1', protocol: 'ble-bridge', transport: { kind: 'ble-bridge', path: '/dev/ttyUSB2' }, silence: 'off' },
      { id: 'mon1', protocol: 'hl7', transport: { kind: 'tcp', host: '10.0.0.9', port: 4001 } },
    ];
    const cfg = gatewayConfig(c, dir);
    expect(cfg.devices.map((d) => [d.silence, d.simulated])).toEqual([
      [{ periodMs: 1000, afterMs: 5000 }, true],
      ['off', false],
      [undefined, false],
    ]);
    const bad = base() as unknown as { devices: unknown[] };
    bad.devices = [
      {
        id: 'ox1',
        protocol: 'nonin8',
        transport: { kind: 'serial', path: '/dev/ttyUSB1' },
        silence: { periodMs: 1000, afterMs: 500 },
      },
      {
        id: 'ox2',
        protocol: 'nonin8',
        transport: { kind: 'serial', path: '/dev/ttyUSB2' },
        silence: { afterMs: 10, perodMs: 5 },
      },
      {
        id: 'ox3',
        protocol: 'nonin8',
        transport: { kind: 'serial', path: '/dev/ttyUSB3' },
        silence: 'never',
        simulated: 'yes',
      },
    ];
    const m = issues(bad);
    expect(m.get('devices[0].silence.afterMs')).toMatch(/at least periodMs \(1000\)/);
    expect(
      [...m.keys()].some((k) => k.startsWith('devices[1].silence')),
      [...m.keys()].join(', '),
    ).toBe(true);
    expect([...m.keys()].some((k) => k.startsWith('devices[2].silence'))).toBe(true);
    expect(m.get('devices[2].simulated')).toMatch(/boolean/i);
  });
});
