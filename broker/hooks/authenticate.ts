// Aedes `authenticate`: admits a CONNECT or refuses it with a CONNACK code and a counted reason. Admission checks the
// CONNECT against MQTT 3.1.1 rules Aedes leaves open and against the limits, finds the identity (identity.ts: a
// gateway certificate or a user password; the lab listener has none), checks the Will against the ACL and the
// identity's connection count, then binds the identity to the connection.
import type { AedesOptions, Client } from 'aedes';
import { canPublish, type Identity } from '../acl.js';
import { refuseConnect, type BrokerContext, type Conn } from '../context.js';
import { countInvalid, willProblem } from '../payload-check.js';
import {
  identify,
  identityKey,
  Refusal,
  RC_IDENTIFIER_REJECTED,
  RC_NOT_AUTHORIZED,
  RC_SERVER_UNAVAILABLE,
  roleOf,
} from '../identity.js';

async function admit(
  ctx: BrokerContext,
  client: Client,
  c: Conn,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<Identity> {
  const p = c.connect;
  const limits = ctx.limits;
  if (!p) throw new Refusal('VW_ERR_PROTOCOL', RC_NOT_AUTHORIZED, 'no-connect');
  // [MQTT-3.1.3-8]: a zero-byte ClientId with CleanSession 0 MUST get CONNACK 0x02 and the connection closed.
  // Aedes assigns a random id instead, so the rule is enforced here.
  if (p.clientId === '' && !p.clean)
    throw new Refusal('VW_ERR_PROTOCOL', RC_IDENTIFIER_REJECTED, 'empty-client-id-persistent');
  if (p.clientId.length > limits.maxClientIdLength)
    throw new Refusal('VW_ERR_PROTOCOL', RC_IDENTIFIER_REJECTED, 'client-id-too-long');
  // 3.1.2.10: keep-alive 0 turns the mechanism off; it is refused only when keepAliveMinSeconds is above 0. CONNACK 5,
  // because Aedes' own keepaliveLimit answers 6, which Table 3.1 reserves.
  if (p.keepalive < limits.keepAliveMinSeconds || p.keepalive > limits.keepAliveMaxSeconds) {
    throw new Refusal('VW_ERR_PROTOCOL', RC_NOT_AUTHORIZED, 'keepalive-out-of-bounds');
  }
  const id: Identity = ctx.lab
    ? { kind: 'lab', clientId: client.id }
    : await identify(
        { users: ctx.users, revocation: ctx.revocation, throttle: ctx.throttle },
        c.tls,
        client,
        p.clientId,
        username,
        password,
      );
  // A Will topic with U+0000 [MQTT-1.5.3-2] or a wildcard is no topic name (acl.ts); and it obeys the publisher's ACL.
  if (p.willTopic !== null && !canPublish(id, p.willTopic))
    throw new Refusal('VW_ERR_ACL_DENIED', RC_NOT_AUTHORIZED, 'will-denied');
  // A gateway's Will on a stream topic is a Batch of that topic, like its PUBLISHes (payload-check.ts).
  if (p.willTopic !== null && id.kind === 'gateway' && willProblem(p.willTopic, p.willPayload, p.willRetain) !== null) {
    countInvalid(ctx, `${id.site}/${id.gateway}`);
    throw new Refusal('VW_ERR_PAYLOAD_INVALID', RC_NOT_AUTHORIZED, 'will-invalid');
  }
  // A connection with the same client id is about to be taken over ([MQTT-3.1.4-2]) and does not count.
  if (ctx.live.count(identityKey(id), (other) => other.id === client.id) >= limits.maxConnectionsPerIdentity) {
    throw new Refusal('VW_ERR_CONN_LIMIT', RC_SERVER_UNAVAILABLE, 'too-many-connections');
  }
  return id;
}

function bind(ctx: BrokerContext, client: Client, c: Conn, id: Identity): void {
  c.deadline.met();
  c.identity = id;
  c.key = identityKey(id);
  c.role = roleOf(id);
  if (id.kind === 'gateway' && c.tls) {
    c.certSerial = c.tls.getPeerX509Certificate()?.serialNumber ?? null;
    ctx.certified.add(client);
  } else if (id.kind === 'user') {
    c.userHash = ctx.users.get(id.name)?.hash ?? null;
    ctx.userClients.add(client);
  }
  ctx.live.add(c.key, client);
  ctx.counters.connections[c.role]++;
}

/** When the connection's stream closes: its identity stops counting. */
export function unbind(ctx: BrokerContext, client: Client, c: Conn): void {
  if (c.timers.drain) clearTimeout(c.timers.drain);
  c.timers.drain = null;
  ctx.certified.delete(client);
  ctx.userClients.delete(client);
  if (c.role === null) return;
  ctx.live.delete(c.key, client);
  ctx.counters.connections[c.role]--;
  c.role = null;
}

export function authenticate(ctx: BrokerContext): NonNullable<AedesOptions['authenticate']> {
  return (client, username, password, callback) => {
    const c = ctx.conns.get(client);
    if (!c)
      return callback(Object.assign(new Error('unknown connection'), { returnCode: RC_NOT_AUTHORIZED as 5 }), false);
    admit(ctx, client, c, username, password).then(
      (id) => {
        if (c.closedBy !== null || client.closed || c.stream.destroyed) return callback(null, false);
        bind(ctx, client, c, id);
        callback(null, true);
      },
      (err: unknown) => {
        const r = err instanceof Refusal ? err : new Refusal('VW_ERR_AUTH_FAILED', RC_NOT_AUTHORIZED, 'internal-error');
        refuseConnect(ctx, r.reason, { code: r.code, clientId: client.id, user: username, remote: c.remote });
        callback(r as Refusal & { returnCode: 2 | 3 | 4 | 5 }, false);
      },
    );
  };
}
