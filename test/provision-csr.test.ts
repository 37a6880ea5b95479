// Provisioning as docs/security.md says, through the real `vitalwire` binary: the gateway makes its key and a
// certificate request (`gateway init`), the centre signs it (`gateways sign`), the key never exists on the central
// side; re-issuing revokes the previous certificate; `revoke` needs a serial or --all; nothing overwrites an edited
// config without a backup.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitalsBatch } from '../archive/test-kit.js';
import { startCentralProcess } from '../broker/test-kit.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

/** Every file below `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

describe('gateway init and gateways sign: the key stays on the gateway', () => {
  let dir: string;
  let centre: string;
  let box: string;
  let central: Awaited<ReturnType<typeof startCentralProcess>> | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-csr-'));
    centre = join(dir, 'centre');
    box = join(dir, 'gateway-box');
    expect(run(['ca', 'init', '--dir', join(centre, 'pki'), '--host', '127.0.0.1']).status).toBe(0);
    await writeFile(
      join(centre, 'central.yaml'),
      [
        'listen: { host: 127.0.0.1, port: 0 }',
        'tls: { ca: pki/ca.crt, cert: pki/broker.crt, key: pki/broker.key, revocationList: pki/revocation/revoked.json }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await central?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const connect = async (certFile: string): Promise<mqtt.MqttClient> =>
    mqtt.connectAsync(
      `mqtts://127.0.0.1:${central?.port}`,
      {
        ca: await readFile(join(box, 'ca.crt'), 'utf8'),
        cert: await readFile(certFile, 'utf8'),
        key: await readFile(join(box, 'gateway.key'), 'utf8'),
        clientId: 'site1/gw9',
        protocolVersion: 4,
        reconnectPeriod: 0,
        rejectUnauthorized: true,
      },
      false,
    );

  it('the gateway makes its key (0600), a request and a complete config stub', async () => {
    const r = run([
      'gateway',
      'init',
      '--site',
      'site1',
      '--gateway',
      'gw9',
      '--dir',
      box,
      '--broker',
      'mqtts://127.0.0.1:8883',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect((await stat(join(box, 'gateway.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(box, 'gateway.csr'), 'utf8')).toContain('BEGIN CERTIFICATE REQUEST');
    const stub = parseYaml(await readFile(join(box, 'gateway.yaml'), 'utf8')) as Record<string, unknown>;
    expect(stub).toMatchObject({
      site: 'site1',
      gateway: 'gw9',
      broker: 'mqtts://127.0.0.1:8883',
      dataDir: '/var/lib/vitalwire/gateway',
      tls: { ca: 'ca.crt', cert: 'gateway.crt', key: 'gateway.key' },
    });
    // A second init never replaces the key its certificate will be made for.
    const again = run(['gateway', 'init', '--site', 'site1', '--gateway', 'gw9', '--dir', box]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  it('the centre signs the request; no gateway key ever exists on the central side; the certificate connects', async () => {
    const s = run([
      'gateways',
      'sign',
      'site1/gw9',
      '--csr',
      join(box, 'gateway.csr'),
      '--pki',
      join(centre, 'pki'),
      '--out',
      join(centre, 'out'),
    ]);
    expect(s.status, s.stderr).toBe(0);
    const keys = (await filesUnder(centre))
      .filter((f) => f.endsWith('.key'))
      .map((f) => f.slice(centre.length + 1))
      .sort();
    expect(keys).toEqual(['pki/broker.key', 'pki/ca.key']);
    for (const f of ['gateway.crt', 'ca.crt']) await copyFile(join(centre, 'out', 'site1', 'gw9', f), join(box, f));
    central = await startCentralProcess(['--config', join(centre, 'central.yaml')]);
    const c = await connect(join(box, 'gateway.crt'));
    // A contract-valid Batch of its own topic, acknowledged: the broker took the certificate's identity.
    const b = vitalsBatch({ site: 'site1', gateway: 'gw9', device: 'bed01' }, 1, Date.now() * 1000, { hr: 70 });
    await c.publishAsync(b.topic, Buffer.from(b.payload), { qos: 1 });
    await c.endAsync();
  });

  it('re-signing supersedes: the previous certificate is revoked and refused, the new one accepted', async () => {
    await copyFile(join(box, 'gateway.crt'), join(box, 'old.crt'));
    const s = run([
      'gateways',
      'sign',
      'site1/gw9',
      '--csr',
      join(box, 'gateway.csr'),
      '--pki',
      join(centre, 'pki'),
      '--out',
      join(centre, 'out'),
    ]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toContain('revoked the previous certificate');
    await copyFile(join(centre, 'out', 'site1', 'gw9', 'gateway.crt'), join(box, 'gateway.crt'));
    await expect(connect(join(box, 'old.crt'))).rejects.toMatchObject({ code: 5 });
    const c = await connect(join(box, 'gateway.crt'));
    await c.endAsync();
  });

  it('refuses a request for another identity, and one whose signature does not match its key', async () => {
    const other = run([
      'gateways',
      'sign',
      'site1/gw1',
      '--csr',
      join(box, 'gateway.csr'),
      '--pki',
      join(centre, 'pki'),
      '--out',
      join(centre, 'out'),
    ]);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('asks for urn:vitalwire:gateway:site1:gw9');
    // Flip one bit near the end of the DER (inside the signature): the proof of possession fails.
    const pem = await readFile(join(box, 'gateway.csr'), 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 3] = (der[der.length - 3] as number) ^ 0x01;
    await writeFile(
      join(dir, 'forged.csr'),
      `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`,
    );
    const forged = run([
      'gateways',
      'sign',
      'site1/gw9',
      '--csr',
      join(dir, 'forged.csr'),
      '--pki',
      join(centre, 'pki'),
      '--out',
      join(centre, 'out'),
    ]);
    expect(forged.status).toBe(1);
    expect(forged.stderr).toMatch(/not signed by the key it carries|not a PEM PKCS #10 request/);
  });

  it('revoke needs a serial or --all', () => {
    const r = run(['gateways', 'revoke', 'site1/gw9', '--pki', join(centre, 'pki')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--serial HEX');
  });

  it('gateways add --force keeps an edited gateway.yaml as a backup and revokes the certificate it replaces', async () => {
    const out = join(dir, 'bundles');
    expect(run(['gateways', 'add', 'site1/gw5', '--pki', join(centre, 'pki'), '--out', out]).status).toBe(0);
    const cfg = join(out, 'site1', 'gw5', 'gateway.yaml');
    await writeFile(cfg, `${await readFile(cfg, 'utf8')}# edited by the engineer: bed 3 monitor\n`);
    const f = run(['gateways', 'add', 'site1/gw5', '--pki', join(centre, 'pki'), '--out', out, '--force']);
    expect(f.status, f.stderr).toBe(0);
    const backup = /kept as (\S+)/.exec(f.stdout)?.[1] ?? '';
    expect(await readFile(backup, 'utf8')).toContain('edited by the engineer');
    expect(f.stdout).toContain('revoked the previous certificate');
    const listed = run(['gateways', 'list', '--pki', join(centre, 'pki')])
      .stdout.split('\n')
      .filter((l) => l.startsWith('site1/gw5'));
    expect(listed).toHaveLength(2);
    expect(listed.filter((l) => l.endsWith('REVOKED'))).toHaveLength(1);
  });
});
