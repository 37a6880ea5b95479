// Provisioning end to end through the real `vitalwire` binary: ca init, gateways add, users add, a broker started
// from a config file, the gateway bundle connecting, then revoke and remove taking effect at the next connect.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, startCentralProcess } from './test-kit.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    ...(input !== undefined ? { input } : {}),
  });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-provision-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('provisioning CLI and a broker from a config file', () => {
  let central: Awaited<ReturnType<typeof startCentralProcess>> | null = null;
  afterAll(async () => {
    await central?.stop();
  });

  it('ca init, gateways add, users add write what the broker needs, keys 0600', async () => {
    const pki = join(dir, 'pki');
    const ca = run(['ca', 'init', '--dir', pki, '--host', 'central.example']);
    expect(ca.status, ca.stderr).toBe(0);
    expect((await stat(join(pki, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(pki, 'broker.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(pki)).mode & 0o777).toBe(0o700);
    const again = run(['ca', 'init', '--dir', pki]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists');

    const add = run([
      'gateways',
      'add',
      'site1/gw1',
      '--pki',
      pki,
      '--out',
      join(dir, 'gw'),
      '--broker',
      'mqtts://central.example:8883',
    ]);
    expect(add.status, add.stderr).toBe(0);
    const bundle = join(dir, 'gw', 'site1', 'gw1');
    expect((await stat(join(bundle, 'gateway.key'))).mode & 0o777).toBe(0o600);
    const stub = await readFile(join(bundle, 'gateway.yaml'), 'utf8');
    expect(stub).toMatch(/site: site1\ngateway: gw1\nbroker: mqtts:\/\/central.example:8883/);
    expect(run(['gateways', 'add', 'site1/gw1', '--pki', pki, '--out', join(dir, 'gw')]).status).toBe(1); // no silent overwrite
    expect(run(['gateways', 'add', 'site1/+', '--pki', pki, '--out', join(dir, 'gw')]).status).toBe(1);

    const users = join(dir, 'users.yaml');
    const u = run(
      ['users', 'add', 'ops1', '--role', 'observer', '--sites', 'site1', '--file', users, '--password-stdin'],
      'correct horse battery\n',
    );
    expect(u.status, u.stderr).toBe(0);
    expect((await stat(users)).mode & 0o777).toBe(0o600);
    const gen = run(['users', 'add', 'records', '--role', 'service', '--file', users]);
    expect(gen.stdout).toMatch(/password for records \(shown once\): \S{20,}/);
    // No --sites, no scope: the account sees nothing (it used to get '*', every site).
    expect(gen.stdout).toContain('no sites');
    expect(run(['users', 'list', '--file', users]).stdout).toMatch(/^records\s+service\s+\(no sites\)$/m);
    expect(await readFile(users, 'utf8')).not.toContain('correct horse');
    expect(run(['users', 'add', 'ops1', '--role', 'observer', '--file', users], '').status).toBe(1);
    expect(run(['users', 'add', 'x/y', '--role', 'observer', '--file', users]).status).toBe(2);
  });

  it('--check-config reports every problem with its path, and passes a good file', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'listen: { port: 70000 }\nlimits:\n  maxPacketBytes: 10\n  publishRate: 5\nredis: { url: "http://x" }\n',
    );
    const r = run(['central', '--config', bad, '--check-config']);
    expect(r.status).toBe(1);
    for (const path of ['listen.port', 'tls', 'limits.maxPacketBytes', 'limits', 'redis.url'])
      expect(r.stderr).toContain(`- ${path}:`);
    expect(r.stderr).toContain('the configuration is invalid');

    const good = join(dir, 'central.yaml');
    await writeFile(
      good,
      [
        'listen: { host: 127.0.0.1, port: 0 }',
        'tls: { ca: pki/ca.crt, cert: pki/broker.crt, key: pki/broker.key, revocationList: pki/revocation/revoked.json }',
        'users: { file: users.yaml }',
        'http: { port: 0 }',
        'limits: { maxConnectionsPerIdentity: 2 }',
        '',
      ].join('\n'),
    );
    const ok = run(['central', '--config', good, '--check-config']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('is valid');
    expect(ok.stdout).toContain('"maxConnectionsPerIdentity":2');
  });

  it('the broker accepts the gateway bundle and the user, then refuses them once revoked and removed', async () => {
    central = await startCentralProcess(['--config', join(dir, 'central.yaml')]);
    const bundle = join(dir, 'gw', 'site1', 'gw1');
    const read = (f: string): Promise<string> => readFile(join(bundle, f), 'utf8');
    const gwOpts = {
      ca: await read('ca.crt'),
      cert: await read('gateway.crt'),
      key: await read('gateway.key'),
      clientId: 'site1/gw1',
      protocolVersion: 4 as const,
      reconnectPeriod: 0,
    };
    const url = `mqtts://127.0.0.1:${central.port}`;
    const obs = await mqtt.connectAsync(
      url,
      {
        ca: gwOpts.ca,
        username: 'ops1',
        password: 'correct horse battery',
        clientId: 'ops1',
        protocolVersion: 4,
        reconnectPeriod: 0,
      },
      false,
    );
    await obs.subscribeAsync('vw/v1/site1/#', { qos: 1 });
    const got = new Promise<string>((r) => obs.once('message', (t) => r(t)));
    const gw = await mqtt.connectAsync(url, gwOpts, false);
    await gw.publishAsync('vw/v1/site1/gw1/bed01/obs', batch('vw/v1/site1/gw1/bed01/obs'), { qos: 1 });
    expect(await got).toBe('vw/v1/site1/gw1/bed01/obs');
    await gw.endAsync();
    await obs.endAsync();

    const rv = run(['gateways', 'revoke', 'site1/gw1', '--all', '--pki', join(dir, 'pki'), '--reason', 'stolen']);
    expect(rv.status, rv.stderr).toBe(0);
    expect(run(['gateways', 'list', '--pki', join(dir, 'pki')]).stdout).toMatch(/site1\/gw1 .* REVOKED/);
    await expect(mqtt.connectAsync(url, gwOpts, false)).rejects.toMatchObject({ code: 5 });

    expect(run(['users', 'remove', 'ops1', '--file', join(dir, 'users.yaml')]).status).toBe(0);
    await expect(
      mqtt.connectAsync(
        url,
        {
          ca: gwOpts.ca,
          username: 'ops1',
          password: 'correct horse battery',
          clientId: 'ops1',
          protocolVersion: 4,
          reconnectPeriod: 0,
        },
        false,
      ),
    ).rejects.toMatchObject({ code: 4 });
    expect(central.out()).toMatch(/"reason":"tls-cert-revoked"/);
    expect(central.out()).not.toContain('correct horse');
  });
});

describe('lab listener', () => {
  it('refuses any non-loopback address before binding', () => {
    const r = run(['central', '--lab', '--host', '0.0.0.0', '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('loopback');
  });

  it('runs without authentication on loopback', async () => {
    const lab = await startCentralProcess(['--lab', '--port', '0']);
    try {
      expect(lab.out()).toContain('must never carry patient data');
      const c = await mqtt.connectAsync(
        `mqtt://127.0.0.1:${lab.port}`,
        { clientId: 'anything', protocolVersion: 4, reconnectPeriod: 0 },
        false,
      );
      await c.subscribeAsync('#', { qos: 1 });
      const got = new Promise<string>((r) => c.once('message', (t) => r(t)));
      await c.publishAsync('any/topic', 'x', { qos: 1 });
      expect(await got).toBe('any/topic');
      await c.endAsync();
    } finally {
      await lab.stop();
    }
  });
});
