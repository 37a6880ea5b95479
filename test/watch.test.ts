// `vitalwire watch` as a user runs it (the compiled command, a child process) against the live chain: the stream as
// NDJSON with topic and seq, filters that become subscriptions, a scoped user told what to do, a gateway reading back
// its own streams, and a failed connection that says why instead of retrying silently.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../cli/stack.js';
import { hashPassword } from '../broker/users.js';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { issueCa } from '../broker/pki.js';
import { subscriptions } from '../cli/watch.js';
import { silentLogger } from '../lib/log.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');

interface Run {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** A self-signed server certificate naming one DNS host only (the dev PKI always adds the loopback names). */
async function selfSigned(host: string): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${host}`,
    keys,
    signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }]),
    ],
  });
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certPem: cert.toString('pem'),
    keyPem: `-----BEGIN PRIVATE KEY-----\n${der
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`,
  };
}

function watch(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'watch', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`watch did not finish in ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({
        code,
        lines: out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
        stderr: err,
      });
    });
  });
}

describe('vitalwire watch', () => {
  let stack: Stack;
  let dir: string;
  let broker: string;
  let ca: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vw-watch-'));
    stack = await startStack({
      dataDir: dir,
      mqttPort: 0,
      httpPort: 0,
      beds: 2,
      intervalMs: 250,
      noSocat: true,
      logger: silentLogger(),
    });
    stack.users.add({
      name: 'nurse-other',
      role: 'observer',
      sites: ['other-site'],
      hash: await hashPassword('pw-other'),
    });
    broker = stack.mqttUrl;
    ca = stack.caPath;
    writeFileSync(join(dir, 'gw.crt'), stack.tls.cert);
    writeFileSync(join(dir, 'gw.key'), stack.tls.key, { mode: 0o600 });
  });

  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns filters into the narrowest subscriptions', () => {
    expect(subscriptions({ sites: [], gateways: [], beds: [], kinds: [] })).toEqual(['vw/v1/+/+/+/+']);
    expect(subscriptions({ sites: ['s1'], gateways: [], beds: [], kinds: ['obs', 'alarm'] })).toEqual([
      'vw/v1/s1/+/+/obs',
      'vw/v1/s1/+/+/alarm',
    ]);
    expect(subscriptions({ sites: [], gateways: [], beds: ['s1/g1/d1'], kinds: ['gap'] })).toEqual([
      'vw/v1/s1/g1/d1/+',
    ]);
    expect(subscriptions({ sites: [], gateways: ['s1/g1'], beds: [], kinds: ['wave'] })).toEqual([
      'vw/v1/s1/g1/+/wave',
    ]);
  });

  it('prints one NDJSON line per observation, with topic, seq and MDC/UCUM fields, and stops after --count', async () => {
    const r = await watch(['--broker', broker, '--ca', ca, '--user', 'demo', '--kind', 'obs', '--count', '12'], {
      VW_PASSWORD: 'demo',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toHaveLength(12);
    for (const l of r.lines) {
      expect(l['kind']).toBe('obs');
      expect(l['topic']).toMatch(/^vw\/v1\/demo\/gw1\/bed0[12]\/obs$/);
      expect(l['seq']).toBeGreaterThan(0);
      expect(typeof l['refid']).toBe('string');
    }
    // Every numeric the monitors send carries its UCUM unit.
    const hr = r.lines.find((l) => l['refid'] === 'MDC_ECG_CARD_BEAT_RATE');
    expect(hr).toMatchObject({ mdc: 147842, unit: '/min' });
  });

  it('prints waveform chunks and statuses, and samples only when asked', async () => {
    const r = await watch(
      [
        '--broker',
        broker,
        '--ca',
        ca,
        '--user',
        'demo',
        '--bed',
        'demo/gw1/bed01',
        '--kind',
        'wave',
        '--summary',
        '--count',
        '3',
      ],
      { VW_PASSWORD: 'demo' },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const l of r.lines) {
      expect(l).toMatchObject({ kind: 'wave', topic: 'vw/v1/demo/gw1/bed01/wave' });
      expect(l['samples']).toBeUndefined();
      expect(l['sampleCount']).toBeGreaterThan(0);
    }
  });

  it('tells a scoped user to name its sites instead of failing silently', async () => {
    const r = await watch(['--broker', broker, '--ca', ca, '--user', 'nurse-other'], { VW_PASSWORD: 'pw-other' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused vw/v1/+/+/+/+');
    expect(r.stderr).toContain('--site');
  });

  it("shows a gateway what it published, with the gateway's own certificate", async () => {
    const r = await watch([
      '--broker',
      broker,
      '--ca',
      ca,
      '--cert',
      join(dir, 'gw.crt'),
      '--key',
      join(dir, 'gw.key'),
      '--kind',
      'obs',
      '--count',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('vw/v1/demo/gw1/+/obs');
    expect(r.lines.every((l) => String(l['topic']).startsWith('vw/v1/demo/gw1/'))).toBe(true);
  });

  it('says why it cannot connect: wrong password, unknown CA, host name mismatch', async () => {
    const bad = await watch(['--broker', broker, '--ca', ca, '--user', 'demo'], { VW_PASSWORD: 'not-it' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[bad-credentials]');

    const other = await issueCa('some other site CA');
    writeFileSync(join(dir, 'other-ca.crt'), other.certPem);
    const unknown = await watch(['--broker', broker, '--ca', join(dir, 'other-ca.crt'), '--user', 'demo'], {
      VW_PASSWORD: 'demo',
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('[unknown-ca]');

    // A TLS server whose (self-signed, trusted) certificate names another host than the one dialled.
    const misnamed = await selfSigned('broker.other.example');
    writeFileSync(join(dir, 'misnamed.crt'), misnamed.certPem);
    const server = createTlsServer({ key: misnamed.keyPem, cert: misnamed.certPem }, (s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const byName = await watch(
        ['--broker', `mqtts://127.0.0.1:${port}`, '--ca', join(dir, 'misnamed.crt'), '--user', 'demo'],
        { VW_PASSWORD: 'demo' },
      );
      expect(byName.code).toBe(1);
      expect(byName.stderr).toContain('[host-name-mismatch]');
    } finally {
      server.close();
    }
  });
});
