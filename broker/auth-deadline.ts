// Every socket a listener accepts has a deadline to authenticate, and is destroyed at it (issue 14, finding 2). Node's
// TLS server reports a handshake that outlives `handshakeTimeout` (tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT) but leaves
// the socket open, with or without a listener: idle and partial-ClientHello sockets stayed ESTABLISHED for good, 2,000
// of them held 74 MB and 2,000 descriptors, and under a descriptor limit real gateways were refused for as long as an
// unauthenticated peer kept them. So the deadline is an explicit timer per socket, in two phases:
//   1. TLS handshake: from the TCP accept, `handshakeMs` (limits.tlsHandshakeTimeoutMs);
//   2. authentication: from the end of the handshake (the TCP accept on the lab listener), `connectMs`
//      (limits.connectTimeoutMs) until the CONNECT is admitted; on wss this covers the HTTP upgrade before it.
// A socket that misses one is counted (refused_connects{reason="tls-handshake-timeout"|"connect-timeout"}) and destroyed.
import type { Socket } from 'node:net';

export type DeadlineReason = 'tls-handshake-timeout' | 'connect-timeout';

export interface AuthDeadline {
  /** The connection is authenticated: its deadline no longer applies. Idempotent. */
  met(): void;
}

export interface AuthDeadlineOptions {
  handshakeMs: number;
  connectMs: number;
  onExpired(reason: DeadlineReason, fields: Record<string, unknown>): void;
}

/** The TCP connection a socket rides on: the same for a server's raw socket and the TLS socket over it. */
function peerKey(s: Socket): string {
  return `${s.remoteAddress ?? ''}|${s.remotePort ?? ''}`;
}

/**
 * The deadlines of one listener. A TLS server hands out the raw socket ('connection') and, once the handshake is done,
 * a TLS socket over it ('secureConnection') with no public link between the two but their TCP connection's remote
 * address and port, which no two open connections to one listening socket share.
 */
export class AuthDeadlines {
  readonly #o: AuthDeadlineOptions;
  readonly #handshakes = new Map<string, { socket: Socket; timer: NodeJS.Timeout; onClose: () => void }>();
  readonly #connects = new WeakMap<Socket, AuthDeadline>();

  constructor(o: AuthDeadlineOptions) {
    this.#o = o;
  }

  /** A TCP connection on a TLS listener: its handshake must end within handshakeMs. */
  accepted(socket: Socket): void {
    const key = peerKey(socket);
    const timer = setTimeout(() => {
      this.#handshakes.delete(key);
      this.#o.onExpired('tls-handshake-timeout', { remote: socket.remoteAddress });
      socket.destroy();
    }, this.#o.handshakeMs);
    timer.unref();
    const onClose = (): void => {
      clearTimeout(timer);
      if (this.#handshakes.get(key)?.socket === socket) this.#handshakes.delete(key);
    };
    this.#handshakes.set(key, { socket, timer, onClose });
    socket.once('close', onClose);
  }

  /**
   * The handshake of this socket ended (a TLS socket), or a plain TCP socket was accepted (lab): it must now be
   * authenticated within connectMs. Returns its deadline, which `of(socket)` also finds. Each phase lets go of its
   * timer and listener when it ends: a connection lives for months and holds neither.
   */
  secured(socket: Socket): AuthDeadline {
    const key = peerKey(socket);
    const h = this.#handshakes.get(key);
    if (h) {
      clearTimeout(h.timer);
      h.socket.off('close', h.onClose);
      this.#handshakes.delete(key);
    }
    let timer: NodeJS.Timeout | null = setTimeout(() => {
      timer = null;
      this.#o.onExpired('connect-timeout', { remote: socket.remoteAddress });
      socket.destroy();
    }, this.#o.connectMs);
    timer.unref();
    const deadline: AuthDeadline = {
      met() {
        if (timer === null) return;
        clearTimeout(timer);
        timer = null;
        socket.off('close', deadline.met);
      },
    };
    socket.once('close', deadline.met);
    this.#connects.set(socket, deadline);
    return deadline;
  }

  /** The deadline `secured` gave this socket (wss: the socket under an upgrade request). */
  of(socket: Socket): AuthDeadline {
    return this.#connects.get(socket) ?? this.secured(socket);
  }

  /** Sockets whose handshake is still running. */
  get handshaking(): number {
    return this.#handshakes.size;
  }
}
