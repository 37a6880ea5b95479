// Component test of the dashboard with real parts: the esbuild bundle served by node:http, a real
// `ws` server speaking the fan-out contract (subprotocol token check, one Batch per binary
// message), real protobuf bytes, and the system's Chromium driven by playwright-core.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Browser, Page } from 'playwright-core';
import { Batch, Flag, Kind } from '../proto/index.js';
import type { IObservation } from '../proto/index.js';
import { chromiumAvailable, launchChromium } from '../test/browser.js';
import { bundleDashboard } from './bundle.js';
import type { DashboardAsset } from './bundle.js';

const TOKEN = 'dGVzdC10b2tlbi0x_-A'; // base64url
const BED_A = 'site1/gw1/0011223344556677'; // real data, ECG HR changing each send
const BED_B = 'site1/gw1/SN-DEMO-9'; // demo device: no ECG (pulse rate stands in), RR unavailable
const BED_OLD = 'site1/gw1/SN-OLD-1'; // one batch with 10 s old values: stale

const SEND_EVERY_MS = 200;

function obs(mdc: number, refid: string, value: number | null, unit: string, flags: number, atUs: number): IObservation {
  const o: IObservation = { time: { gatewayTimeUs: atUs }, mdc, refid, unit, flags };
  if (value !== null) o.number = value;
  return o;
}

function batch(device: string, bed: string, seq: number, observations: IObservation[]): Uint8Array {
  const [site = '', gateway = '', id = ''] = device.split('/');
  return Batch.encode({
    source: { site, gateway, device: id, model: 'VS900', protocol: 'hl7', bed },
    kind: Kind.KIND_OBS,
    seq,
    publishTimeUs: Date.now() * 1000,
    observations,
  }).finish();
}

function stream(ws: WebSocket): () => void {
  let seq = 0;
  const old = (Date.now() - 10_000) * 1000;
  ws.send(batch(BED_OLD, 'Bed 9', 1, [obs(147842, 'MDC_ECG_CARD_BEAT_RATE', 55, '/min', 0, old)]));
  const send = (): void => {
    seq++;
    const now = Date.now() * 1000;
    ws.send(batch(BED_A, 'Bed 12', seq, [
      obs(147842, 'MDC_ECG_CARD_BEAT_RATE', 60 + (seq % 40), '/min', 0, now),
      obs(150456, 'MDC_PULS_OXIM_SAT_O2', 97, '%', 0, now),
      obs(151562, 'MDC_RESP_RATE', 16, '/min', 0, now),
    ]));
    const demo = Flag.FLAG_DEMO;
    ws.send(batch(BED_B, '', seq, [
      obs(149530, 'MDC_PULS_OXIM_PULS_RATE', 80, '/min', demo, now),
      obs(150456, 'MDC_PULS_OXIM_SAT_O2', 99, '%', demo, now),
      obs(151562, 'MDC_RESP_RATE', null, '/min', demo | Flag.FLAG_UNAVAILABLE, now),
    ]));
  };
  send();
  const timer = setInterval(send, SEND_EVERY_MS);
  return () => clearInterval(timer);
}

/** The fan-out contract in miniature: assets over HTTP, Batches over /ws to token holders only. */
async function startServer(assets: Map<string, DashboardAsset>): Promise<{ server: Server; wss: WebSocketServer; refused: () => number; url: string }> {
  let refused = 0;
  const server = createServer((req, res) => {
    const asset = assets.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method !== 'GET' || asset === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' }).end(asset.body);
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('vw.v1') ? 'vw.v1' : false) });
  server.on('upgrade', (req, socket, head) => {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws' || !offered.includes('vw.v1') || !offered.includes(`vw.token.${TOKEN}`)) {
      refused++;
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stop = stream(ws);
      ws.on('close', stop);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, wss, refused: () => refused, url: `http://127.0.0.1:${port}/` };
}

describe('dashboard bundle', () => {
  it('is self-contained: no CDN or remote script reference', async () => {
    const assets = await bundleDashboard();
    expect([...assets.keys()].sort()).toEqual(['/', '/app.js', '/index.html', '/style.css']);
    const html = assets.get('/')?.body.toString() ?? '';
    const js = assets.get('/app.js')?.body.toString() ?? '';
    const css = assets.get('/style.css')?.body.toString() ?? '';
    expect(html).toContain('src="app.js"');
    // Matches are compared, not the 125 kB texts, so a failure prints only the offending part.
    const remote = /(?:https?:)?\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)+[/:]/i;
    for (const text of [html, js, css]) expect(text.match(remote)?.[0]).toBeUndefined();
    // No import left for the browser to resolve: protobufjs and the contract are inside.
    expect(js.match(/\bimport\s*\(|\bfrom\s*["']|^import\b|importScripts/m)?.[0]).toBeUndefined();
    expect(js.includes('vitalwire.v1.Batch')).toBe(true); // the generated contract code
    expect(js.includes('LongBits')).toBe(true); // protobufjs/minimal
  });
});

// Skipped, not failed, where there is no Chromium (e.g. a CI image without the 355 MB package):
// the test drives a real browser and has nothing meaningful to fall back to.
describe.skipIf(!chromiumAvailable())('dashboard in Chromium', () => {
  let browser: Browser;
  let srv: Awaited<ReturnType<typeof startServer>>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [srv, browser] = await Promise.all([bundleDashboard().then(startServer), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    for (const ws of srv?.wss.clients ?? []) ws.terminate();
    srv?.wss.close();
    await new Promise<void>((resolve) => (srv ? srv.server.close(() => resolve()) : resolve()));
  });

  async function open(hash: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(srv.url + hash);
    return page;
  }

  const tile = (key: string): string => `[data-device="${key}"]`;

  it('shows live values, units, ages, DEMO and stale marks', async () => {
    const page = await open(`#token=${TOKEN}`);
    await expect.poll(() => page.textContent('#conn')).toBe('live');
    const hr = page.locator(`${tile(BED_A)} [data-mdc="147842"] .value`);
    await hr.waitFor();
    await expect.poll(() => hr.textContent()).toMatch(/^\d+$/);
    const first = await hr.textContent();
    await expect.poll(() => hr.textContent(), { timeout: 3000 }).not.toBe(first);

    await expect.poll(() => page.textContent(`${tile(BED_A)} .title`)).toBe('Bed 12');
    expect(await page.textContent(`${tile(BED_A)} [data-mdc="147842"] .unit`)).toBe('/min');
    expect(await page.textContent(`${tile(BED_A)} [data-mdc="150456"] .value`)).toBe('97');
    expect(await page.textContent(`${tile(BED_A)} [data-mdc="150456"] .unit`)).toBe('%');
    expect(await page.textContent(`${tile(BED_A)} [data-mdc="151562"] .value`)).toBe('16');
    expect(await page.textContent(`${tile(BED_A)} [data-mdc="147842"] .age`)).toMatch(/^[0-2] s$/);

    // Demo device: no bed label so the device id titles it; pulse rate stands in for HR.
    expect(await page.textContent(`${tile(BED_B)} .title`)).toBe('SN-DEMO-9');
    expect(await page.textContent(`${tile(BED_B)} [data-mdc="147842"] .value`)).toBe('80');
    expect(await page.textContent(`${tile(BED_B)} [data-mdc="147842"] .label`)).toBe('PR');
    expect(await page.textContent(`${tile(BED_B)} [data-mdc="151562"] .value`)).toBe('—');
    expect(await page.locator(`${tile(BED_B)} .badge.demo`).isVisible()).toBe(true);
    expect(await page.locator(`${tile(BED_A)} .badge.demo`).isVisible()).toBe(false);
    expect(await page.locator(`${tile(BED_OLD)} .badge.demo`).isVisible()).toBe(false);

    // Values 10 s old: stale by class and by text; fresh tiles are not.
    expect(await page.getAttribute(tile(BED_OLD), 'class')).toContain('is-stale');
    expect(await page.locator(`${tile(BED_OLD)} .stale-badge`).isVisible()).toBe(true);
    expect(await page.textContent(`${tile(BED_OLD)} [data-mdc="147842"] .age`)).toMatch(/^1\d s$/);
    expect(await page.getAttribute(tile(BED_A), 'class')).not.toContain('is-stale');

    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('refuses a wrong token and shows the page as not live', async () => {
    const before = srv.refused();
    const page = await open('#token=d3JvbmctdG9rZW4');
    await expect.poll(() => srv.refused()).toBeGreaterThan(before);
    await expect.poll(() => page.textContent('#conn')).toBe('offline');
    // Through at least one backoff retry it never becomes live and shows no data.
    await page.waitForTimeout(1500);
    expect(srv.refused()).toBeGreaterThan(before + 1);
    expect(await page.textContent('#conn')).not.toBe('live');
    expect(await page.locator('[data-device]').count()).toBe(0);
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
