// The dashboard session: POST /api/login with a user and password, a short-lived token kept in sessionStorage (per
// tab, gone when the tab closes), renewed through POST /api/session before it expires.
import type { SessionResponse } from '../fanout/protocol.js';

const KEY = 'vitalwire.session';

export type LoginResult =
  { ok: true; session: SessionResponse } | { ok: false; status: number; reason: string; retryAfterS?: number };

export function loadSession(): SessionResponse | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as SessionResponse | null;
    if (!s || typeof s.token !== 'string' || typeof s.expiresAt !== 'number' || s.expiresAt <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s: SessionResponse): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

async function post(path: string, body: string | null, token?: string): Promise<LoginResult> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ?? '{}',
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, status: 0, reason: 'The server cannot be reached.' };
  }
  if (res.status === 200) return { ok: true, session: (await res.json()) as SessionResponse };
  let reason = '';
  try {
    reason = ((await res.json()) as { reason?: string }).reason ?? '';
  } catch {
    // not JSON: keep the status only
  }
  const retryAfterS = Number(res.headers.get('retry-after') ?? '');
  return {
    ok: false,
    status: res.status,
    reason,
    ...(Number.isFinite(retryAfterS) && retryAfterS > 0 ? { retryAfterS } : {}),
  };
}

export function login(user: string, password: string): Promise<LoginResult> {
  return post('/api/login', JSON.stringify({ user, password }));
}

export function renew(token: string): Promise<LoginResult> {
  return post('/api/session', null, token);
}
