// Live fan-out: the broker's stream bytes to dashboards over WebSocket, unchanged. Each MQTT
// payload is one protobuf Batch; it is sent as one binary ws message to every subscribed
// client without being decoded or re-encoded. The dashboard-and-fan-out issue adds logins,
// per-bed scopes, backfill and the slow-client policy around this core.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Aedes, AedesPublishPacket } from 'aedes';
import type { Logger } from '../../lib/log.js';

export interface Asset {
  body: Buffer;
  type: string;
}

export interface FanoutOptions {
  broker: Aedes;
  host?: string;
  port?: number;
  /** Access token a client must present as the ws subprotocol `vw.token.<token>`. */
  token: string;
  /** Static files served over HTTP (the dashboard bundle), keyed by URL path. */
  assets?: Map<string, Asset>;
  logger: Logger;
  /** Largest message a client may send us. Clients send only small control messages. */
  maxClientMessageBytes?: number;
  /** A client with more than this many bytes queued misses messages until it drains. */
  maxBufferedBytes?: number;
  /** Topic filter forwarded to dashboards. */
  topic?: string;
}

export interface Fanout {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly counters: { clients: number; delivered: number; dropped: number; refusedUpgrades: number };
  readonly server: Server;
  close(): Promise<void>;
}

const PROTOCOL = 'vw.v1';
const TOKEN_PREFIX = 'vw.token.';

export async function startFanout(o: FanoutOptions): Promise<Fanout> {
  const log = o.logger.child({ component: 'fanout' });
  const maxBuffered = o.maxBufferedBytes ?? 4 * 1024 * 1024;
  const topic = o.topic ?? 'vw/v1/#';
  const counters = { clients: 0, delivered: 0, dropped: 0, refusedUpgrades: 0 };
  const clients = new Set<WebSocket>();
  const tokenBuf = Buffer.from(o.token);

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const asset = req.method === 'GET' || req.method === 'HEAD' ? o.assets?.get(path) : undefined;
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: o.maxClientMessageBytes ?? 4096,
    perMessageDeflate: false, // protobuf is dense; compression would cost CPU per client
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });

  const refuse = (socket: Duplex, status: number, why: string) => {
    counters.refusedUpgrades++;
    log.warn({ reason: why }, 'websocket upgrade refused');
    socket.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  };

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if ((req.url ?? '').split('?')[0] !== '/ws') return refuse(socket, 400, 'path');
    // Browsers always send Origin; a foreign page must not ride a user's token.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}` && origin !== `https://${req.headers.host ?? ''}`) {
      return refuse(socket, 403, 'VW_ERR_WS_ORIGIN');
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const tok = offered.find((p) => p.startsWith(TOKEN_PREFIX))?.slice(TOKEN_PREFIX.length) ?? '';
    const given = Buffer.from(tok);
    if (given.length !== tokenBuf.length || !timingSafeEqual(given, tokenBuf)) return refuse(socket, 403, 'VW_ERR_WS_AUTH');
    if (!offered.includes(PROTOCOL)) return refuse(socket, 400, 'subprotocol');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      counters.clients = clients.size;
      ws.on('close', () => {
        clients.delete(ws);
        counters.clients = clients.size;
      });
      ws.on('error', (err) => log.info({ err: (err as { code?: string }).code ?? 'ws' }, 'client error'));
      // Dashboards only listen in this version; anything they send is ignored (size-capped by maxPayload).
    });
  });

  // In-process subscription: the payload Buffer is the gateway's bytes, forwarded as is.
  const deliver = (packet: AedesPublishPacket, cb: () => void) => {
    const payload = packet.payload as Buffer;
    for (const ws of clients) {
      if (ws.readyState !== 1) continue;
      if (ws.bufferedAmount > maxBuffered) {
        counters.dropped++;
        continue;
      }
      ws.send(payload, { binary: true });
      counters.delivered++;
    }
    cb();
  };
  await new Promise<void>((resolve) => o.broker.subscribe(topic, deliver, resolve));

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const host = o.host ?? '127.0.0.1';

  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    counters,
    server: http,
    async close() {
      await new Promise<void>((resolve) => o.broker.unsubscribe(topic, deliver, resolve));
      for (const ws of clients) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
