// Dashboard session tokens: short-lived JWTs (RFC 7519) signed with HS256 by jose. The token carries the user's
// name, role and scope, so every fan-out instance sharing the secret can check an upgrade without a lookup. A
// renewal (POST /api/session) re-reads the user from the users store, so removing a user or narrowing their sites
// takes effect within one token lifetime.
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { compileScope, isScopeEntry, type Scope } from './scope.js';

const ISSUER = 'vitalwire-fanout';
const AUDIENCE = 'vitalwire-dashboard';
const ALG = 'HS256';
/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES = 32;

export interface Session {
  readonly user: string;
  readonly role: string;
  readonly scope: Scope;
  /** epoch ms */
  readonly expiresAt: number;
  readonly id: string;
}

export interface SessionIssuer {
  readonly ttlMs: number;
  issue(user: { name: string; role: string; sites: readonly string[] }): Promise<{ token: string; session: Session }>;
  /** The session when the token is genuine, unexpired and well formed; null otherwise (never throws). */
  verify(token: string): Promise<Session | null>;
}

export function newSessionSecret(): Buffer {
  return randomBytes(MIN_SECRET_BYTES);
}

export function createSessionIssuer(secret: Uint8Array, ttlMs: number, now: () => number = Date.now): SessionIssuer {
  if (secret.length < MIN_SECRET_BYTES)
    throw new RangeError(`session secret must be at least ${MIN_SECRET_BYTES} bytes`);
  if (!(ttlMs >= 10_000 && ttlMs <= 24 * 3600_000)) throw new RangeError('session ttl must be 10 s to 24 h');
  const key = Uint8Array.from(secret);
  return {
    ttlMs,
    async issue(user) {
      const iat = Math.floor(now() / 1000);
      const exp = iat + Math.round(ttlMs / 1000);
      const id = randomUUID();
      const scope = user.sites.filter(isScopeEntry);
      const token = await new SignJWT({ role: user.role, scope })
        .setProtectedHeader({ alg: ALG, typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(user.name)
        .setJti(id)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
      return {
        token,
        session: { user: user.name, role: user.role, scope: compileScope(scope), expiresAt: exp * 1000, id },
      };
    },
    async verify(token) {
      if (typeof token !== 'string' || token.length > 4096) return null;
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALG], // never 'none', never an asymmetric alg chosen by the token
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(now()),
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        });
        const scope = payload['scope'];
        const role = payload['role'];
        if (
          !Array.isArray(scope) ||
          typeof role !== 'string' ||
          typeof payload.sub !== 'string' ||
          typeof payload.exp !== 'number'
        )
          return null;
        return {
          user: payload.sub,
          role,
          scope: compileScope(scope),
          expiresAt: payload.exp * 1000,
          id: String(payload.jti),
        };
      } catch (err) {
        if (err instanceof joseErrors.JOSEError) return null;
        throw err;
      }
    },
  };
}
