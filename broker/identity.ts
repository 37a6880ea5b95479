// Who is connecting: the identity behind a CONNECT, from a verified gateway certificate or a user password, and the
// refusals (with their CONNACK codes and counted reasons) when there is none. Policy on what an identity may do lives
// in acl.ts; connection limits in hooks/authenticate.ts.
import type { Client, PublishPacket } from 'aedes';
import type { TLSSocket } from 'node:tls';
import { VitalwireError, type ErrorCode } from '../lib/errors.js';
import type { AuthThrottle } from '../lib/auth-throttle.js';
import type { Identity } from './acl.js';
import { willClientId } from './aedes-internals/index.js';
import type { ConnectionRole } from './metrics.js';
import { gatewayIdentityFromCert } from './pki.js';
import type { RevocationList } from './revocation.js';
import { userClientIdIsBound, type UserStore } from './users.js';

// MQTT 3.1.1 3.2.2.3 CONNACK return codes. Aedes passes 2-5 through from authenticate; its own keepaliveLimit would
// answer 6, which 3.1.1 reserves (Table 3.1), so keep-alive bounds are enforced here with 5 instead.
export const RC_IDENTIFIER_REJECTED = 2;
export const RC_SERVER_UNAVAILABLE = 3;
export const RC_BAD_USERNAME_OR_PASSWORD = 4;
export const RC_NOT_AUTHORIZED = 5;
export type ReturnCode = 2 | 3 | 4 | 5;

/** A refused CONNECT: Aedes sends `returnCode` in the CONNACK; `reason` is what metrics and logs count. */
export class Refusal extends VitalwireError {
  readonly returnCode: ReturnCode;
  readonly reason: string;
  constructor(code: ErrorCode, returnCode: ReturnCode, reason: string) {
    super(code, reason);
    this.returnCode = returnCode;
    this.reason = reason;
  }
}

/** The gateway a bound MQTT client id belongs to: '<site>/<gateway>' or '<site>/<gateway>/...'. */
export function clientIdIsBound(clientId: string, site: string, gateway: string): boolean {
  const prefix = `${site}/${gateway}`;
  return clientId === prefix || clientId.startsWith(`${prefix}/`);
}

export function identityKey(id: Identity): string {
  switch (id.kind) {
    case 'gateway':
      return `gateway:${id.site}/${id.gateway}`;
    case 'user':
      return `user:${id.name}`;
    case 'lab':
      return `lab:${id.clientId}`;
    case 'internal':
      return 'internal';
  }
}

export function roleOf(id: Identity): ConnectionRole {
  return id.kind === 'user' ? id.role : id.kind === 'gateway' ? 'gateway' : 'lab';
}

/**
 * The identity of a connecting client. A presented certificate must be a valid, unrevoked gateway certificate whose
 * identity matches the client id; otherwise a user name and password. Throws a Refusal.
 */
export async function identify(
  deps: { users: UserStore; revocation?: RevocationList | undefined; throttle?: AuthThrottle | undefined },
  tls: TLSSocket | null,
  client: Client,
  requestedClientId: string | undefined,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<Identity> {
  if (!tls) throw new Refusal('VW_ERR_AUTH_FAILED', RC_NOT_AUTHORIZED, 'not-tls');
  // The native certificate handle, not getPeerCertificate(), which converts every field (DER, public key, issuer,
  // fingerprints, ...) to JavaScript objects per connection: garbage the broker's heap grows with (docs/broker.md).
  const cert = tls.getPeerX509Certificate();
  if (cert) {
    // A presented certificate must be a valid gateway certificate: never a password beside one we cannot trust.
    if (!tls.authorized) {
      const expired = String(tls.authorizationError) === 'CERT_HAS_EXPIRED';
      throw new Refusal('VW_ERR_AUTH_FAILED', RC_NOT_AUTHORIZED, expired ? 'tls-cert-expired' : 'tls-cert-unverified');
    }
    const gw = gatewayIdentityFromCert(cert);
    if (!gw) throw new Refusal('VW_ERR_AUTH_FAILED', RC_NOT_AUTHORIZED, 'tls-cert-no-identity');
    if (deps.revocation) {
      let revoked: boolean;
      try {
        revoked = await deps.revocation.isRevoked(cert.serialNumber);
      } catch {
        throw new Refusal('VW_ERR_CONFIG', RC_SERVER_UNAVAILABLE, 'revocation-list-unavailable');
      }
      if (revoked) throw new Refusal('VW_ERR_CERT_REVOKED', RC_NOT_AUTHORIZED, 'tls-cert-revoked');
    }
    // The identity comes from the certificate and the client id must agree, so one gateway cannot take over (and
    // disconnect, [MQTT-3.1.4-2]) another's session by claiming its id.
    if (!clientIdIsBound(client.id, gw.site, gw.gateway)) {
      throw new Refusal('VW_ERR_AUTH_FAILED', RC_IDENTIFIER_REJECTED, 'client-id-mismatch');
    }
    return { kind: 'gateway', site: gw.site, gateway: gw.gateway };
  }
  if (username === undefined) throw new Refusal('VW_ERR_AUTH_FAILED', RC_NOT_AUTHORIZED, 'no-credentials');
  // Password guessing (lib/auth-throttle.ts): an attempt in back-off is refused before its password is checked, with
  // CONNACK 3 so a client retries later rather than taking it for a wrong password. Refused for the account, the
  // address or the pair alike, so the answer does not tell which names exist.
  const remote = tls.remoteAddress;
  if (deps.throttle && !deps.throttle.check(username, remote).ok)
    throw new Refusal('VW_ERR_AUTH_THROTTLED', RC_SERVER_UNAVAILABLE, 'auth-throttled');
  let user;
  try {
    user = await deps.users.verify(username, password ?? Buffer.alloc(0));
  } catch {
    throw new Refusal('VW_ERR_CONFIG', RC_SERVER_UNAVAILABLE, 'users-file-unavailable');
  }
  if (!user) {
    deps.throttle?.failure(username, remote);
    throw new Refusal(
      'VW_ERR_AUTH_FAILED',
      RC_BAD_USERNAME_OR_PASSWORD,
      deps.users.get(username) ? 'bad-password' : 'unknown-user',
    );
  }
  deps.throttle?.success(username, remote);
  // A server-assigned id (empty client id, clean session: what mosquitto_sub 2 sends by default)
  // cannot collide with anyone's; any other id must be bound to the user (`name` or `name:...`).
  if (requestedClientId !== '' && !userClientIdIsBound(client.id, user.name)) {
    throw new Refusal('VW_ERR_AUTH_FAILED', RC_IDENTIFIER_REJECTED, 'client-id-mismatch');
  }
  return { kind: 'user', name: user.name, role: user.role, sites: [...user.sites] };
}

/** The owner of a Will published with no live client (from a broker that died): bound client ids say who. */
export function willOwner(packet: PublishPacket, lab: boolean, users: UserStore): Identity | null {
  const clientId = willClientId(packet);
  if (clientId === null) return null;
  if (lab) return { kind: 'lab', clientId };
  const [site, gateway] = clientId.split('/');
  if (site && gateway) return { kind: 'gateway', site, gateway };
  const user = users.get(clientId.split(':')[0] ?? '');
  return user ? { kind: 'user', name: user.name, role: user.role, sites: [...user.sites] } : null;
}
