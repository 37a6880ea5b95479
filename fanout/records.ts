// The clinical record on the fan-out's HTTP server: the FHIR search API (fhir.ts) and the dashboard's trends from the
// archive (trend-api.ts), mounted by server.ts when the central has an archive. Both take the dashboard's session
// token (POST /api/login, then `Authorization: Bearer <token>`) and answer within the user's scope (scope.ts); the
// FHIR API also wants a role that may read records (RECORD_ROLES). Bounded: searches at once, bindings re-read at most
// every BINDINGS_TTL_MS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BindingIndex, listBindings } from '../archive/bindings.js';
import type { FhirOptions } from '../archive/export/fhir.js';
import type { ArchiveStore } from '../archive/store/types.js';
import type { Logger } from '../lib/log.js';
import { handleFhir } from './fhir.js';
import { liveScope, lookUpUser, type UserSource } from './live-users.js';
import type { Session, SessionIssuer } from './session.js';
import { handleTrend } from './trend-api.js';

/** What the fan-out reads of the archive. */
export interface RecordSource {
  store: ArchiveStore;
  fhir: FhirOptions;
}

/** Roles whose users may search patients' records through the FHIR API (a record system's account, an operator). */
export const RECORD_ROLES: readonly string[] = ['service', 'admin'];
/** Searches and trend queries running at once; more get 503 with Retry-After. */
export const MAX_CONCURRENT_QUERIES = 4;
const BINDINGS_TTL_MS = 2000;

export interface RecordContext {
  source: RecordSource;
  logger: Logger;
  /** The bindings (bed and patient per device and time), re-read from the audit at most every BINDINGS_TTL_MS. */
  bindings(): Promise<BindingIndex>;
  now: () => number;
}

export type Authed = { ok: true; session: Session } | { ok: false; status: 401 | 503; reason: string };

const NO_TOKEN = 'a session token is required: POST /api/login, then Authorization: Bearer <token>';

/**
 * The session a request may act as: a genuine token of a user the users store still holds, with that user's role and
 * sites as they are now (a token proves what was granted at login, not what holds today: issue 14 finding 6).
 */
export async function authenticate(req: IncomingMessage, sessions: SessionIssuer, users: UserSource): Promise<Authed> {
  const m = /^Bearer ([A-Za-z0-9._-]{1,4096})$/.exec(req.headers['authorization'] ?? '');
  const granted = m ? await sessions.verify(m[1] as string) : null;
  if (!granted) return { ok: false, status: 401, reason: NO_TOKEN };
  const found = await lookUpUser(users, granted.user);
  if (found.state === 'unavailable') return { ok: false, status: 503, reason: 'the users store cannot be read now' };
  if (found.state === 'removed') return { ok: false, status: 401, reason: NO_TOKEN };
  return { ok: true, session: { ...granted, role: found.user.role, scope: liveScope(granted.scope, found.user) } };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  type = 'application/json; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(text);
}

export function createRecordRoutes(o: {
  source: RecordSource;
  sessions: SessionIssuer;
  users: UserSource;
  logger: Logger;
  now?: () => number;
}): {
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
} {
  const log = o.logger.child({ component: 'records' });
  const now = o.now ?? Date.now;
  let cached: { at: number; idx: Promise<BindingIndex> } | null = null;
  const ctx: RecordContext = {
    source: o.source,
    logger: log,
    now,
    bindings() {
      if (!cached || now() - cached.at > BINDINGS_TTL_MS) {
        const idx = listBindings(o.source.store.audit).then((b) => new BindingIndex(b));
        cached = { at: now(), idx };
        idx.catch(() => (cached = null));
      }
      return cached.idx;
    },
  };
  let running = 0;
  return {
    handle(req, res, path) {
      const fhir = path === '/fhir' || path.startsWith('/fhir/');
      if (!fhir && path !== '/api/trend') return false;
      if (req.method !== 'GET') {
        sendJson(res, 405, { code: 'VW_ERR_WS_BAD_REQUEST', reason: 'GET only' }, undefined, { allow: 'GET' });
        return true;
      }
      if (running >= MAX_CONCURRENT_QUERIES) {
        sendJson(res, 503, { code: 'VW_ERR_ARCHIVE_STORE', reason: 'busy, retry' }, undefined, { 'retry-after': '1' });
        return true;
      }
      running++;
      const url = new URL(req.url ?? '/', 'http://x');
      const run = authenticate(req, o.sessions, o.users).then((auth) =>
        fhir ? handleFhir(ctx, req, res, path, url.searchParams, auth) : handleTrend(ctx, res, url.searchParams, auth),
      );
      run
        .catch((err: unknown) => {
          // Counts and kinds only: the query may name a patient.
          log.error(
            { code: 'VW_ERR_ARCHIVE_STORE', err: err instanceof Error ? err.message : String(err), path },
            'record query failed',
          );
          if (!res.headersSent)
            sendJson(res, 500, { code: 'VW_ERR_ARCHIVE_STORE', reason: 'the archive could not answer' });
        })
        .finally(() => running--);
      return true;
    },
  };
}
