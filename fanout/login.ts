// The dashboard's HTTP API: POST /api/login checks a user against the users store (scrypt hashes) and issues a
// session token; POST /api/session renews a live token after re-reading the user. Bounded: body size, concurrent
// scrypt checks, and failed checks per account, per address and per pair with exponential back-off
// (lib/auth-throttle.ts, the broker's mechanism with the dashboard's limits).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/log.js';
import {
  createAuthThrottle,
  DEFAULT_AUTH_THROTTLE,
  type AuthThrottle,
  type AuthThrottleOptions,
} from '../lib/auth-throttle.js';
import { lookUpUser, type UserSource } from './live-users.js';
import { plainPeerLog, type PeerLog } from './peer-log.js';
import type { AuditLog } from './audit.js';
import type { SessionResponse } from './protocol.js';
import type { SessionIssuer } from './session.js';

export interface LoginLimits {
  maxBodyBytes: number;
  /** scrypt checks running at once (each costs ~16 MiB and tens of ms); more get 503. */
  maxConcurrentLogins: number;
  /** Back-off of failed checks per account, address and pair (429 VW_ERR_LOGIN_THROTTLED with Retry-After). */
  throttle: AuthThrottleOptions;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  maxBodyBytes: 4096,
  maxConcurrentLogins: 8,
  // A person at a browser: five typos of their own, more room for an account or address shared by several people,
  // and at most a minute's wait that someone else's guessing can cause.
  throttle: {
    ...DEFAULT_AUTH_THROTTLE,
    freeFailures: { pair: 5, account: 20, address: 30 },
    maxDelayMs: { pair: 15 * 60_000, account: 60_000, address: 60_000 },
    forgetAfterMs: 15 * 60_000,
  },
};

export interface ApiOptions {
  users: UserSource;
  sessions: SessionIssuer;
  audit: AuditLog;
  logger: Logger;
  limits: LoginLimits;
  sameOrigin: (req: IncomingMessage) => boolean;
  /** The throttle of password checks; one from `limits.throttle` when absent. */
  throttle?: AuthThrottle;
  /** Peer-triggered log lines go through this (rate-limited); the plain logger when absent. */
  peerLog?: PeerLog;
  now?: () => number;
}

export interface ApiCounters {
  logins: number;
  loginFailures: number;
  /** Attempts refused by the throttle before any password check ran. */
  loginsThrottled: number;
  /** Attempts refused because maxConcurrentLogins checks were running. */
  loginsBusy: number;
  renewals: number;
}

const USER = /^[A-Za-z0-9._-]{1,64}$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      resolve(null);
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        resolve(null);
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts, n)));
    req.on('error', () => resolve(null));
  });
}

export function createApi(o: ApiOptions): {
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  counters: ApiCounters;
} {
  const now = o.now ?? Date.now;
  const log = o.logger;
  const peer = o.peerLog ?? plainPeerLog(log);
  const throttle = o.throttle ?? createAuthThrottle(o.limits.throttle, now);
  let inFlight = 0;
  const counters: ApiCounters = { logins: 0, loginFailures: 0, loginsThrottled: 0, loginsBusy: 0, renewals: 0 };

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const remote = req.socket.remoteAddress ?? '';
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return json(res, 415, { code: 'VW_ERR_LOGIN_FAILED', reason: 'send JSON {"user","password"}' });
    }
    const body = await readBody(req, o.limits.maxBodyBytes);
    if (body === null) return json(res, 413, { code: 'VW_ERR_LOGIN_FAILED', reason: 'request too large' });
    let user: unknown;
    let password: unknown;
    try {
      ({ user, password } = JSON.parse(body.toString('utf8')) as { user?: unknown; password?: unknown });
    } catch {
      return json(res, 400, { code: 'VW_ERR_LOGIN_FAILED', reason: 'body is not JSON' });
    }
    if (typeof user !== 'string' || typeof password !== 'string' || password.length > 1024 || user.length > 64) {
      return json(res, 400, { code: 'VW_ERR_LOGIN_FAILED', reason: 'user and password must be strings' });
    }
    // Names that cannot exist share one account key: they cannot be told apart from each other either.
    const auditUser = USER.test(user) ? user : '?';
    const verdict = throttle.check(auditUser, remote);
    if (!verdict.ok) {
      counters.loginsThrottled++;
      peer.warn(
        'login_throttled',
        { user: auditUser, remote, by: verdict.by, retryAfterMs: verdict.retryAfterMs },
        'dashboard login throttled',
      );
      res.setHeader('retry-after', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
      return json(res, 429, {
        code: 'VW_ERR_LOGIN_THROTTLED',
        reason: 'too many failed logins; wait and retry',
        retryAfterMs: verdict.retryAfterMs,
      });
    }
    if (inFlight >= o.limits.maxConcurrentLogins) {
      counters.loginsBusy++;
      res.setHeader('retry-after', '1');
      return json(res, 503, { code: 'VW_ERR_LOGIN_FAILED', reason: 'busy, retry' });
    }
    if (!o.audit.available)
      return json(res, 503, { code: 'VW_ERR_AUDIT_UNAVAILABLE', reason: 'audit log unavailable' });
    inFlight++;
    let found;
    try {
      found = USER.test(user) ? await o.users.verify(user, password) : null;
    } catch {
      found = null; // an unreadable users file refuses logins (fail closed)
    } finally {
      inFlight--;
    }
    if (!found) {
      throttle.failure(auditUser, remote);
      counters.loginFailures++;
      o.audit.append({ event: 'login_failed', user: auditUser, remote });
      peer.warn('login_failed', { user: auditUser, remote }, 'dashboard login refused');
      return json(res, 401, { code: 'VW_ERR_LOGIN_FAILED', reason: 'unknown user or wrong password' });
    }
    throttle.success(found.name, remote);
    const { token, session } = await o.sessions.issue(found);
    if (!o.audit.append({ event: 'login', user: found.name, remote, session: session.id })) {
      return json(res, 503, { code: 'VW_ERR_AUDIT_UNAVAILABLE', reason: 'audit log unavailable' });
    }
    counters.logins++;
    log.info({ event: 'login', user: found.name, role: found.role }, 'dashboard login');
    const out: SessionResponse = {
      token,
      user: found.name,
      role: found.role,
      scope: [...session.scope.entries],
      expiresAt: session.expiresAt,
    };
    json(res, 200, out);
  }

  async function renew(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = req.headers['authorization'] ?? '';
    const m = /^Bearer ([A-Za-z0-9._-]{1,4096})$/.exec(auth);
    const session = m ? await o.sessions.verify(m[1] as string) : null;
    // The user is read again (the users file re-read if it changed): a removed user gets no new token.
    const found = session ? await lookUpUser(o.users, session.user) : null;
    if (found?.state === 'unavailable')
      return json(res, 503, { code: 'VW_ERR_LOGIN_FAILED', reason: 'users store unavailable, retry' });
    const user = found?.state === 'found' ? found.user : undefined;
    if (!session || !user)
      return json(res, 401, { code: 'VW_ERR_LOGIN_FAILED', reason: 'session expired or user removed' });
    const { token, session: next } = await o.sessions.issue(user);
    counters.renewals++;
    const out: SessionResponse = {
      token,
      user: user.name,
      role: user.role,
      scope: [...next.scope.entries],
      expiresAt: next.expiresAt,
    };
    json(res, 200, out);
  }

  return {
    counters,
    handle(req, res, path) {
      if (path !== '/api/login' && path !== '/api/session') return false;
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        json(res, 405, { code: 'VW_ERR_LOGIN_FAILED', reason: 'POST only' });
        return true;
      }
      // A foreign page must not log in or renew on the user's behalf (the browser sends Origin on POST).
      if (!o.sameOrigin(req)) {
        json(res, 403, { code: 'VW_ERR_WS_ORIGIN', reason: 'foreign origin' });
        return true;
      }
      const run = path === '/api/login' ? login(req, res) : renew(req, res);
      run.catch((err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'api handler failed');
        if (!res.headersSent) json(res, 500, { code: 'VW_ERR_LOGIN_FAILED', reason: 'internal error' });
      });
      return true;
    },
  };
}
