// A dashboard-like ws client for tests and benches: connects with the token subprotocol and
// decodes each binary message as one Batch.
import WebSocket from 'ws';
import { Batch } from '../proto/index.js';
import type { vitalwire } from '../proto/gen/vitals.js';

export interface Received {
  batch: vitalwire.v1.Batch;
  atUs: number;
  bytes: number;
}

export function connectWs(url: string, token: string, onBatch?: (r: Received) => void): Promise<{ ws: WebSocket; received: Received[] }> {
  return new Promise((resolve, reject) => {
    const wsUrl = url.replace(/^http/, 'ws').replace(/\/?(#.*)?$/, '/ws');
    const ws = new WebSocket(wsUrl, ['vw.v1', `vw.token.${token}`]);
    const received: Received[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const r = { batch: Batch.decode(data), atUs: Math.round((performance.timeOrigin + performance.now()) * 1000), bytes: data.length };
      received.push(r);
      onBatch?.(r);
    });
    ws.once('open', () => resolve({ ws, received }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode ?? '?'}`)));
  });
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
