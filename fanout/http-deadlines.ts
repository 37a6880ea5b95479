// Deadlines of every socket on the dashboard's HTTP port (issue 14 finding 2: idle and half-sent sockets lived 60-130 s
// and more): none stays open unasked. Node enforces the header, request and keep-alive deadlines itself, but checks
// the first two only every `connectionsCheckingInterval` (30 s by default); the idle deadline is the socket timeout;
// the upgrade's own checks (token, users store) get a deadline here. Open sockets are counted.
import type { Server, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HttpDeadlines {
  /** From the first byte of a request to the end of its headers (slowloris). */
  headersTimeoutMs: number;
  /** From the first byte of a request to the end of its body. */
  requestTimeoutMs: number;
  /** An idle keep-alive socket after a response. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all (before any request, or between them). */
  idleTimeoutMs: number;
  /** From a complete upgrade request to the 101 or the refusal (the session and users checks). */
  upgradeTimeoutMs: number;
  /** How often Node checks the header and request deadlines (the deadlines are late by at most this). */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_DEADLINES: HttpDeadlines = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  upgradeTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
};

/** The options of `http.createServer` that carry the deadlines Node enforces. */
export function serverDeadlines(d: HttpDeadlines): ServerOptions {
  return {
    headersTimeout: d.headersTimeoutMs,
    requestTimeout: d.requestTimeoutMs,
    keepAliveTimeout: d.keepAliveTimeoutMs,
    connectionsCheckingInterval: d.checkIntervalMs,
  };
}

/** Sets the idle deadline (ws clears it on a socket it takes over) and counts the server's open sockets. */
export function watchSockets(http: Server, d: HttpDeadlines): { readonly open: number } {
  http.timeout = d.idleTimeoutMs;
  const sockets = new Set<Duplex>();
  http.on('connection', (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    get open() {
      return sockets.size;
    },
  };
}

/** Destroys an upgrading socket not finished (upgraded or refused) by the deadline; returns the way to call it off. */
export function upgradeDeadline(socket: Duplex, ms: number, onTimeout: () => void): () => void {
  const t = setTimeout(() => {
    if (socket.destroyed) return;
    onTimeout();
    socket.destroy();
  }, ms);
  t.unref();
  const done = (): void => clearTimeout(t);
  socket.once('close', done);
  return done;
}
