// The broker's network listeners: MQTT over TLS (the production port), MQTT over secure WebSocket (browsers and
// tools), and plain TCP for the loopback-only conformance (lab) listener. Each hands a byte stream to one callback
// with the TLS socket that carries it, so identity is read the same way whatever the framing.
import { listen as listenOn } from '../lib/listen.js';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, isIP, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { VitalwireError } from '../lib/errors.js';
import { AuthDeadlines, type AuthDeadline, type DeadlineReason } from './auth-deadline.js';

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
  ca: string | Buffer;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting; resolves when the server is closed (after destroyAll, at the latest). */
  close(): Promise<void>;
  /** Destroys every socket still open: TLS handshakes in progress, connections that never sent CONNECT. */
  destroyAll(): void;
  /** TCP connections open on this listener, authenticated or not (the server's own count). */
  openSockets(): number;
}

/**
 * One new connection: the stream to hand to Aedes, the TLS socket under it (null on the lab listener), and its
 * deadline to authenticate (auth-deadline.ts), which the broker meets when it admits the CONNECT.
 */
export type OnStream = (stream: Duplex, tls: TLSSocket | null, deadline: AuthDeadline) => void;
export type OnTlsError = (reason: 'tls-handshake' | DeadlineReason, fields: Record<string, unknown>) => void;

/**
 * TLS 1.2 suites offered: ECDHE key exchange with AEAD ciphers only (RFC 7525 4.2, BSI TR-02102-2), for ECDSA and RSA
 * broker keys. Node's default list also offers CBC suites with SHA-1 and SHA-2 MACs (via HIGH), which issue 14's
 * review negotiated with a client offering nothing else. TLS 1.3 keeps Node's suites (all AEAD).
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

function tlsOptions(tls: TlsMaterial) {
  return {
    key: tls.key,
    cert: tls.cert,
    ca: tls.ca,
    // Gateways present certificates, users may not: the check is the broker's, at CONNECT (hooks/authenticate.ts).
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2' as const,
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
    // No handshakeTimeout: Node would only report it, never close the socket. AuthDeadlines does both.
  };
}

function track(server: NetServer, sockets: Set<Socket>, deadlines: AuthDeadlines | null): void {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    deadlines?.accepted(socket);
  });
}

async function listen(server: NetServer, port: number, host: string, sockets: Set<Socket>): Promise<Listener> {
  const boundPort = await listenOn(server, port, host);
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return {
    host,
    port: boundPort,
    close() {
      if (server.listening) server.close();
      return closed;
    },
    destroyAll() {
      for (const s of sockets) s.destroy();
    },
    openSockets: () => sockets.size,
  };
}

function tlsErrorReason(err: Error & { code?: string }): 'tls-handshake' | 'tls-handshake-timeout' {
  return err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'tls-handshake-timeout' : 'tls-handshake';
}

/** The deadlines every listener applies: handshake (TLS listeners) and authentication. */
export interface ListenerDeadlines {
  handshakeTimeoutMs: number;
  connectTimeoutMs: number;
}

export async function listenMqttTls(o: {
  host: string;
  port: number;
  tls: TlsMaterial;
  deadlines: ListenerDeadlines;
  onStream: OnStream;
  onTlsError: OnTlsError;
}): Promise<Listener> {
  const sockets = new Set<Socket>();
  const deadlines = new AuthDeadlines({
    handshakeMs: o.deadlines.handshakeTimeoutMs,
    connectMs: o.deadlines.connectTimeoutMs,
    onExpired: o.onTlsError,
  });
  const server = createTlsServer(tlsOptions(o.tls));
  track(server, sockets, deadlines);
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    o.onTlsError(tlsErrorReason(err), { remote: socket.remoteAddress, tlsError: err.code ?? err.message });
  });
  server.on('secureConnection', (socket: TLSSocket) => o.onStream(socket, socket, deadlines.secured(socket)));
  return listen(server, o.port, o.host, sockets);
}

export async function listenMqttWss(o: {
  host: string;
  port: number;
  path: string;
  tls: TlsMaterial;
  deadlines: ListenerDeadlines;
  maxPacketBytes: number;
  onStream: OnStream;
  onTlsError: OnTlsError;
}): Promise<Listener> {
  const sockets = new Set<Socket>();
  const deadlines = new AuthDeadlines({
    handshakeMs: o.deadlines.handshakeTimeoutMs,
    connectMs: o.deadlines.connectTimeoutMs,
    onExpired: o.onTlsError,
  });
  // The authentication deadline runs from the handshake through the upgrade request to the CONNECT; Node's own request
  // timeouts are checked only every connectionsCheckingInterval (30 s by default) and would come later.
  const server = createHttpsServer({ ...tlsOptions(o.tls), requestTimeout: o.deadlines.connectTimeoutMs });
  track(server, sockets, deadlines);
  server.on('secureConnection', (socket: TLSSocket) => {
    deadlines.secured(socket);
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    o.onTlsError(tlsErrorReason(err), { remote: socket.remoteAddress, tlsError: err.code ?? err.message });
  });
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
  });
  // A WebSocket message carries whole or partial MQTT packets; the byte-stream guard in connection.ts enforces the MQTT
  // limit, and maxPayload stops one frame from being buffered beyond it first.
  const wss = new WebSocketServer({
    server,
    path: o.path,
    maxPayload: o.maxPacketBytes + 16,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => ws.terminate());
    o.onStream(stream, req.socket as TLSSocket, deadlines.of(req.socket));
  });
  const l = await listen(server, o.port, o.host, sockets);
  return {
    ...l,
    close() {
      wss.close();
      return l.close();
    },
  };
}

export function isLoopbackAddress(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(host);
  return false;
}

/** Plain TCP for `central --lab`: refuses anything but a loopback address, before binding. */
export async function listenMqttLab(o: {
  host: string;
  port: number;
  connectTimeoutMs: number;
  onStream: OnStream;
  onDeadline: OnTlsError;
}): Promise<Listener> {
  if (!isLoopbackAddress(o.host)) {
    throw new VitalwireError(
      'VW_ERR_LAB_NOT_LOOPBACK',
      `${o.host}: the lab listener has no authentication and must never carry patient data`,
    );
  }
  const sockets = new Set<Socket>();
  // No TLS: the authentication deadline starts at the TCP accept.
  const deadlines = new AuthDeadlines({
    handshakeMs: o.connectTimeoutMs,
    connectMs: o.connectTimeoutMs,
    onExpired: o.onDeadline,
  });
  const server = createTcpServer((socket) => o.onStream(socket, null, deadlines.secured(socket)));
  track(server, sockets, null);
  return listen(server, o.port, o.host, sockets);
}
