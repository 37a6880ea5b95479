// A dashboard-like ws client for tests and benches: connects with the session token subprotocol, subscribes to
// beds (by default every bed the server announces), and decodes each binary message as length-delimited Batches.
import WebSocket from 'ws';
import { Batch } from '../proto/index.js';
import type { vitalwire } from '../proto/gen/vitals.js';
import { undelimit } from '../fanout/wire.js';
import type { BackfillRequest, ServerMessage, StreamName } from '../fanout/protocol.js';

export interface Received {
  batch: vitalwire.v1.Batch;
  atUs: number;
  bytes: number;
}

export interface ConnectOptions {
  /** 'all' (default): every bed in the server's `beds`/`bed` announcements; a list: those beds; false: none. */
  subscribe?: 'all' | string[] | false;
  streams?: StreamName[];
  backfill?: BackfillRequest;
  /** Sent as the Origin header (browsers always send one). */
  origin?: string;
}

export interface WsSession {
  ws: WebSocket;
  received: Received[];
  control: ServerMessage[];
  subscribe(bed: string, streams?: StreamName[], backfill?: BackfillRequest): void;
}

export function wsUrl(url: string): string {
  return url.replace(/^http/, 'ws').replace(/\/?(#.*)?$/, '/ws');
}

export function connectWs(
  url: string,
  token: string,
  onBatch?: (r: Received) => void,
  opts: ConnectOptions = {},
): Promise<WsSession> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(url), ['vw.v1', `vw.token.${token}`], opts.origin ? { origin: opts.origin } : {});
    const received: Received[] = [];
    const control: ServerMessage[] = [];
    const mode = opts.subscribe ?? 'all';
    const subscribe = (bed: string, streams = opts.streams, backfill = opts.backfill): void => {
      ws.send(
        JSON.stringify({ op: 'subscribe', bed, ...(streams ? { streams } : {}), ...(backfill ? { backfill } : {}) }),
      );
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString('utf8')) as ServerMessage;
        control.push(m);
        if (mode === 'all' && m.type === 'beds') for (const b of m.beds) subscribe(b.key);
        if (mode === 'all' && m.type === 'bed') subscribe(m.bed.key);
        return;
      }
      const atUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
      for (const bytes of undelimit(data)) {
        const r = { batch: Batch.decode(bytes), atUs, bytes: bytes.length };
        received.push(r);
        onBatch?.(r);
      }
    });
    ws.once('open', () => {
      if (Array.isArray(mode)) for (const bed of mode) subscribe(bed);
      resolve({ ws, received, control, subscribe });
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode ?? '?'} ${String(res.headers['x-vitalwire-error'] ?? '')}`)),
    );
  });
}

/** POST /api/login; the session token, or an Error with the HTTP status. */
export async function login(url: string, user: string, password: string): Promise<string> {
  const res = await fetch(new URL('/api/login', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  if (res.status !== 200) throw new Error(`login refused: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
