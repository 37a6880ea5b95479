// A swarm of dashboard-like WebSocket clients in a child process of `npm run bench -- fanout`, so the clients' own
// work does not run on the event loop being measured. Driven over IPC: connect (to the fan-out or to the bare
// broadcaster), reset, stats, disconnect. Each client counts the Batches it receives and their latency from the
// Batch's publish_time_us (stamped by the bench's publisher on the same machine clock) to arrival.
import WebSocket from 'ws';
import { peekBatch, undelimit } from '../../fanout/wire.js';

export type SwarmCommand =
  | { type: 'connect'; url: string; mode: 'fanout' | 'bare'; tokens: string[]; beds: string[][] }
  | { type: 'reset' }
  | { type: 'stats' }
  | { type: 'disconnect' }
  | { type: 'exit' };

export type SwarmReply =
  | { type: 'connected'; open: number; failed: number }
  | { type: 'reset' }
  | { type: 'stats'; deliveries: number; latencies: number; p50: number; p99: number; max: number; closed: number }
  | { type: 'disconnected' };

const MAX_SAMPLES = 1 << 21;
const lat = new Float64Array(MAX_SAMPLES);
let n = 0;
let deliveries = 0;
let closed = 0;
let sockets: WebSocket[] = [];

const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

function note(payload: Uint8Array, t: number): void {
  deliveries++;
  const h = peekBatch(payload);
  if (h && h.publishTimeUs > 0 && n < MAX_SAMPLES) lat[n++] = (t - h.publishTimeUs) / 1000;
}

function open(url: string, mode: 'fanout' | 'bare', token: string, beds: string[]): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws =
      mode === 'fanout'
        ? new WebSocket(url, ['vw.v1', `vw.token.${token}`], { perMessageDeflate: false })
        : new WebSocket(`${url}?beds=${encodeURIComponent(beds.join(','))}`, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return; // control messages of the fan-out
      const t = nowUs();
      if (mode === 'bare') note(data, t);
      else for (const p of undelimit(data)) note(p, t);
    });
    ws.once('open', () => {
      // Live data only: the bench measures delivery, not history.
      if (mode === 'fanout')
        for (const bed of beds)
          ws.send(
            JSON.stringify({
              op: 'subscribe',
              bed,
              streams: ['obs', 'wave', 'alarm'],
              backfill: { obsMs: 0, waveMs: 0, alarmMs: 0 },
            }),
          );
      resolve(ws);
    });
    ws.once('error', () => resolve(null));
    ws.once('close', () => closed++);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function handle(c: SwarmCommand): Promise<SwarmReply | null> {
  switch (c.type) {
    case 'connect': {
      closed = 0;
      const out: (WebSocket | null)[] = [];
      for (let i = 0; i < c.beds.length; i += 50) {
        out.push(
          ...(await Promise.all(
            c.beds.slice(i, i + 50).map((beds, k) => open(c.url, c.mode, c.tokens[i + k] ?? '', beds)),
          )),
        );
      }
      sockets = out.filter((w): w is WebSocket => w !== null);
      return { type: 'connected', open: sockets.length, failed: out.length - sockets.length };
    }
    case 'reset':
      n = 0;
      deliveries = 0;
      return { type: 'reset' };
    case 'stats': {
      const sorted = lat.slice(0, n).sort();
      return {
        type: 'stats',
        deliveries,
        latencies: n,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: percentile(sorted, 100),
        closed,
      };
    }
    case 'disconnect': {
      const all = sockets;
      sockets = [];
      await Promise.all(
        all.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once('close', () => resolve());
              ws.close();
              setTimeout(() => {
                ws.terminate();
                resolve();
              }, 2000).unref();
            }),
        ),
      );
      return { type: 'disconnected' };
    }
    case 'exit':
      process.exit(0);
  }
}

process.on('message', (c: SwarmCommand) => {
  void handle(c).then((r) => {
    if (r) process.send?.(r);
  });
});
process.on('disconnect', () => process.exit(0));
