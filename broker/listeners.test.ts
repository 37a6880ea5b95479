// What the MQTT listeners offer in TLS (issue 14, finding 10): on TLS 1.2 ECDHE with AEAD ciphers only; the review
// negotiated CBC suites with SHA-1 MACs with a client offering nothing else. Real TLS listener, real clients: node:tls
// and, as a peer tool, openssl s_client.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from './broker.js';
import { makeTestPki, type TestPki } from './test-kit.js';

let dir: string;
let pki: TestPki;
let broker: Broker;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-listeners-'));
  pki = await makeTestPki(dir);
  broker = await startBroker({ port: 0, tls: pki.brokerTls, websocket: { port: 0 } });
});
afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The negotiated protocol and suite, or the handshake error's code. */
function handshake(port: number, o: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.caPem, servername: 'localhost', ...o }, () => {
      resolve(`${s.getProtocol()} ${s.getCipher().name}`);
      s.destroy();
    });
    s.on('error', (err: Error & { code?: string }) => resolve(`refused ${err.code ?? err.message}`));
  });
}

const opensslAbsent = spawnSync('openssl', ['version']).status !== 0 ? 'openssl not installed' : null;

describe('TLS suites on the MQTT and secure WebSocket listeners', () => {
  // RFC 7525 4.2 / BSI TR-02102-2: CBC-mode suites (with SHA-1 or SHA-2 MACs) and static RSA key exchange are not
  // recommended. The broker's development and `ca init` keys are ECDSA P-256, so the ECDSA variants are what a client
  // can negotiate; RSA variants are listed the same way.
  const cbcOnly = [
    'ECDHE-ECDSA-AES128-SHA',
    'ECDHE-ECDSA-AES256-SHA',
    'ECDHE-ECDSA-AES128-SHA256',
    'ECDHE-ECDSA-AES256-SHA384',
  ];

  it.each(cbcOnly)('refuses a TLS 1.2 client that offers only %s (node:tls)', async (suite) => {
    for (const port of [broker.port, broker.wsPort ?? 0]) {
      expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: suite })).toMatch(/^refused /);
    }
  });

  it('negotiates ECDHE with AEAD on TLS 1.2, and TLS 1.3 as Node does', async () => {
    expect(await handshake(broker.port, { maxVersion: 'TLSv1.2' })).toMatch(
      /^TLSv1\.2 ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/,
    );
    expect(await handshake(broker.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' })).toBe(
      'TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305',
    );
    expect(await handshake(broker.port, {})).toMatch(/^TLSv1\.3 TLS_/);
  });

  it.skipIf(opensslAbsent)(
    `refuses openssl s_client -tls1_2 with a CBC suite, accepts it with GCM${opensslAbsent ? ` (skipped: ${opensslAbsent})` : ''}`,
    async () => {
      // Asynchronously: the broker answers from this process's event loop.
      const run = (cipher: string) =>
        new Promise<{ status: number | null; out: string }>((resolve) => {
          const p = spawn(
            'openssl',
            [
              's_client',
              '-connect',
              `127.0.0.1:${broker.port}`,
              '-tls1_2',
              '-cipher',
              cipher,
              '-CAfile',
              pki.caFile,
              '-servername',
              'localhost',
            ],
            { stdio: ['pipe', 'pipe', 'pipe'] },
          );
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.stderr.on('data', (d: Buffer) => (out += d.toString()));
          p.stdin.end(); // EOF on stdin: s_client closes after the handshake
          p.on('close', (status) => resolve({ status, out }));
        });
      const cbc = await run('ECDHE-ECDSA-AES128-SHA');
      expect(cbc.status).not.toBe(0);
      expect(cbc.out).toMatch(/handshake failure|no cipher|alert/i);
      const gcm = await run('ECDHE-ECDSA-AES128-GCM-SHA256');
      expect(gcm.out).toMatch(/Cipher\s*(is|:)\s*ECDHE-ECDSA-AES128-GCM-SHA256/);
    },
  );
});
