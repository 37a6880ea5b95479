// Health and metrics over plain HTTP, meant for a loopback or cluster-internal address: GET /healthz (200 when the
// broker accepts connections and its Redis links are up, else 503) and GET /metrics (Prometheus text format).
// Nothing here names a patient or a payload; identities appear only as counts.
import { listen } from '../lib/listen.js';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  brokerId: string;
  mode: 'single' | 'redis' | 'lab';
  redis: 'ready' | 'down' | 'none';
  connections: number;
  uptimeS: number;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(o: {
  host: string; port: number; health: () => HealthReport; metrics: Registry;
}): Promise<HealthServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      const h = o.health();
      res.writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(h)}\n`);
    } else if (path === '/metrics') {
      o.metrics.metrics().then((text) => {
        res.writeHead(200, { 'content-type': o.metrics.contentType });
        res.end(text);
      }, () => {
        res.writeHead(500).end();
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const boundPort = await listen(server, o.port, o.host);
  return {
    port: boundPort,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
