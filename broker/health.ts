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
  /** Sockets open on the port (the server's own count). */
  openSockets(): number;
  close(): Promise<void>;
}

/**
 * What a peer of the health port may hold, and for how long (issue 14, finding 2: idle and partial-request sockets
 * stayed open). Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval (30 s by default),
 * and only once a request's first byte has arrived; keepAliveTimeout only between requests. The explicit deadline
 * covers the rest: a socket must deliver a complete request within `requestDeadlineMs` of its accept or of its
 * previous response, or it is destroyed.
 */
export interface HealthDeadlines {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  requestDeadlineMs: number;
  /** Sockets open at once; more are refused by the server (a scraper needs one or two). */
  maxConnections: number;
}

export const HEALTH_DEADLINES: Readonly<HealthDeadlines> = Object.freeze({
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  requestDeadlineMs: 10_000,
  maxConnections: 64,
});

export async function startHealthServer(o: {
  host: string;
  port: number;
  health: () => HealthReport;
  metrics: Registry;
  deadlines?: Partial<HealthDeadlines>;
}): Promise<HealthServer> {
  const d = { ...HEALTH_DEADLINES, ...o.deadlines };
  const sockets = new Set<Socket>();
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const arm = (s: Socket): void => {
    clearTimeout(deadlines.get(s));
    const t = setTimeout(() => s.destroy(), d.requestDeadlineMs);
    t.unref();
    deadlines.set(s, t);
  };
  const server: Server = createServer(
    { connectionsCheckingInterval: Math.max(50, Math.min(1000, d.headersTimeoutMs / 2)) },
    (req, res) => {
      // A whole request arrived: the deadline stops until its response is written, then runs again for the next one.
      clearTimeout(deadlines.get(req.socket));
      res.once('finish', () => {
        if (!req.socket.destroyed) arm(req.socket);
      });
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        const h = o.health();
        res.writeHead(h.status === 'ok' ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        });
        res.end(`${JSON.stringify(h)}\n`);
      } else if (path === '/metrics') {
        o.metrics.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': o.metrics.contentType });
            res.end(text);
          },
          () => {
            res.writeHead(500).end();
          },
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    arm(s);
    s.once('close', () => {
      sockets.delete(s);
      clearTimeout(deadlines.get(s));
    });
  });
  server.headersTimeout = d.headersTimeoutMs;
  server.requestTimeout = d.requestTimeoutMs;
  server.keepAliveTimeout = d.keepAliveTimeoutMs;
  server.maxConnections = d.maxConnections;
  const boundPort = await listen(server, o.port, o.host);
  return {
    port: boundPort,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
