// The dashboard over HTTPS (central config `fanout.tls`): the page, the login and the live WebSocket over TLS with the
// site CA; the port speaks no plain HTTP; a client that does not trust the CA gets nothing; the Origin check wants the
// https origin; a TLS handshake that never comes is cut at its deadline. Real parts: the central side built from a
// validated config (central/central.ts), the broker's dev PKI, node:https and ws over real TLS sockets.
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentral, type Central } from '../central/central.js';
import { centralConfig, type CentralConfigInput } from '../central/config.js';
import { Clients, makeTestPki, testUsers, type TestPki } from '../broker/test-kit.js';
import { createUserStore } from '../broker/users.js';
import { createMemoryAuditLog } from '../fanout/audit.js';
import { createLogger, silentLogger } from '../lib/log.js';
import { undelimit } from '../fanout/wire.js';
import { Batch } from '../proto/index.js';
import { hr, publish } from './fanout-kit.js';
import { waitFor } from './ws-client.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request that trusts only `ca` (undefined: the system's store). */
function get(url: string, ca: string | undefined, o: { method?: string; body?: string; origin?: string } = {}) {
  return new Promise<Reply>((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: o.method ?? 'GET',
        ...(ca ? { ca } : {}),
        headers: {
          ...(o.body ? { 'content-type': 'application/json' } : {}),
          ...(o.origin ? { origin: o.origin } : {}),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('the dashboard over HTTPS (fanout.tls)', () => {
  let dir: string;
  let pki: TestPki;
  let central: Central;
  let clients: Clients;
  let base: string;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vw-fanout-tls-'));
    pki = await makeTestPki(dir);
    const config = centralConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        tls: pki.brokerFiles,
        // The shipped one-site config's shape: the broker's certificate serves the dashboard too.
        fanout: { host: '127.0.0.1', port: 0, tls: { cert: pki.brokerFiles.cert, key: pki.brokerFiles.key } },
      },
      'fan-out TLS test',
    );
    central = await startCentral({
      config,
      baseDir: dir,
      logger: silentLogger(),
      parts: {
        users: createUserStore(await testUsers()),
        audit: createMemoryAuditLog(),
        assets: new Map([['/', { body: Buffer.from('<html>dashboard</html>'), type: 'text/html' }]]),
        fanout: { limits: { http: { headersTimeoutMs: 600, requestTimeoutMs: 1000 } } },
      },
    });
    base = central.fanout?.url ?? '';
    origin = new URL(base).origin;
    clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${central.broker.port}`);
  });
  afterAll(async () => {
    await clients?.endAll();
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page over HTTPS to a client that trusts the site CA, with HSTS', async () => {
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(base, pki.caPem);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
    expect(page.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it('logs in and streams a bed over WSS', async () => {
    const login = await get(new URL('/api/login', base).href, pki.caPem, {
      method: 'POST',
      origin,
      body: JSON.stringify({ user: 'obs1', password: 'pw-obs1' }),
    });
    expect(login.status, login.body).toBe(200);
    const token = (JSON.parse(login.body) as { token: string }).token;
    const ws = new WebSocket(`wss://127.0.0.1:${new URL(base).port}/ws`, ['vw.v1', `vw.token.${token}`], {
      ca: pki.caPem,
      origin,
    });
    const hrs: number[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) {
        const m = JSON.parse(data.toString('utf8')) as {
          type: string;
          beds?: { key: string }[];
          bed?: { key: string };
        };
        for (const b of [...(m.beds ?? []), ...(m.bed ? [m.bed] : [])])
          ws.send(JSON.stringify({ op: 'subscribe', bed: b.key }));
        return;
      }
      for (const bytes of undelimit(data))
        for (const o of Batch.decode(bytes).observations) if (typeof o.number === 'number') hrs.push(o.number);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const gw = await clients.gateway(pki.site1gw1, 'site1/gw1');
    for (let seq = 1; hrs.length === 0 && seq < 40; seq++) {
      await publish(gw, 'bed01', 'obs', seq, hr(72));
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(() => hrs.includes(72), 5000, 'HR 72 over WSS');
    ws.close();
  });

  it('refuses a WebSocket from the http:// origin of the same host and port', async () => {
    const login = await get(new URL('/api/login', base).href, pki.caPem, {
      method: 'POST',
      body: JSON.stringify({ user: 'obs1', password: 'pw-obs1' }),
    });
    const token = (JSON.parse(login.body) as { token: string }).token;
    const status = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`wss://127.0.0.1:${new URL(base).port}/ws`, ['vw.v1', `vw.token.${token}`], {
        ca: pki.caPem,
        origin: origin.replace('https:', 'http:'),
      });
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_req, res) =>
        resolve(`${res.statusCode ?? 0} ${String(res.headers['x-vitalwire-error'])}`),
      );
      ws.once('error', (e) => resolve(`error ${e.message}`));
    });
    expect(status).toBe('403 VW_ERR_WS_ORIGIN');
  });

  it('speaks no plain HTTP on the port', async () => {
    const err = await fetch(base.replace('https:', 'http:')).then(
      (r) => `answered ${r.status}`,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
  });

  it('gives a client that does not trust the site CA no page', async () => {
    const err = await get(base, undefined).then(
      (r) => `answered ${r.status}`,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: expect.stringMatching(/CERT|SIGNED|VERIFY|ISSUER/) as unknown });
  });

  it('closes a connection that never starts its TLS handshake, at the deadline', async () => {
    const port = Number(new URL(base).port);
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const s = netConnect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.once('close', () => resolve(Date.now() - started));
      setTimeout(() => {
        s.destroy();
        reject(new Error('still open after 8 s'));
      }, 8000).unref();
    });
    // Well before the HTTP idle deadline (30 s) that would otherwise be the only bound.
    expect(closedAfter).toBeLessThan(8000);
  });

  it('the shipped configs serve the dashboard over TLS', async () => {
    for (const f of ['central.yaml', 'central-cluster.yaml']) {
      const text = await readFile(join(import.meta.dirname, '..', 'deploy', f), 'utf8');
      const config = centralConfig(parseYaml(text) as CentralConfigInput, f);
      expect(config.fanout?.tls, f).toEqual({ cert: 'pki/broker.crt', key: 'pki/broker.key' });
    }
  });

  it('a fan-out beyond loopback without fanout.tls says so in the log; one on loopback does not', async () => {
    const linesOf = async (host: string): Promise<string> => {
      let out = '';
      const c = await startCentral({
        config: centralConfig({
          listen: { host: '127.0.0.1', port: 0 },
          tls: pki.brokerFiles,
          fanout: { host, port: 0 },
        }),
        baseDir: dir,
        logger: createLogger('test', 'info', { write: (l: string) => void (out += l) }),
        parts: { users: createUserStore([]), audit: createMemoryAuditLog(), assets: new Map() },
      });
      await c.close();
      return out;
    };
    expect(await linesOf('0.0.0.0')).toContain('"event":"fanout_plain_http"');
    expect(await linesOf('127.0.0.1')).not.toContain('fanout_plain_http');
  });
});
