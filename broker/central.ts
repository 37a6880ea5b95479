// The central broker: Aedes (MQTT 3.1.1) behind a TLS listener, with gateway client certificates, user passwords,
// topic ACLs and a byte limit per MQTT packet. Policy lives in acl.ts; this file only binds it to connections.
import { Aedes, type Client, type ConnectPacket, type PublishPacket, type Subscription } from 'aedes';
import type { Socket } from 'node:net';
import { createServer, TLSSocket, type Server } from 'node:tls';
import { VitalwireError } from '../decoders/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { canPublish, canSubscribe, describeIdentity, type Identity } from './acl.js';
import { gatewayIdentityFromCert } from './pki.js';
import { createUserStore, type UserStore } from './users.js';

export interface CentralOptions {
  host?: string; // default '127.0.0.1'
  port?: number; // 0 = ephemeral; default 8883
  tls: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer }; // PEM contents
  users?: UserStore;
  logger?: Logger;
  maxPacketBytes?: number; // default 256 KiB; a bigger packet closes the client
  tlsHandshakeTimeoutMs?: number; // default 10_000; also the wait for CONNECT after the handshake
}

export interface CentralCounters {
  connects: number;
  refusedConnects: Record<string, number>; // by reason: 'bad-password', 'tls-handshake', ...
  refusedPublishes: number; // ACL denials and oversized PUBLISH packets
  refusedSubscribes: number;
  published: number; // PUBLISH packets accepted from clients
  oversizePackets: number; // connections closed for a packet above maxPacketBytes
}

export interface Central {
  broker: Aedes;
  host: string;
  port: number;
  counters: CentralCounters;
  close(): Promise<void>;
}

export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;

// MQTT 3.1.1 3.2.2.3 CONNACK return codes that aedes passes through from authenticate.
const RC_IDENTIFIER_REJECTED = 2;
const RC_BAD_USERNAME_OR_PASSWORD = 4;
const RC_NOT_AUTHORIZED = 5;
type RefusalCode = typeof RC_IDENTIFIER_REJECTED | typeof RC_BAD_USERNAME_OR_PASSWORD | typeof RC_NOT_AUTHORIZED;

const MQTT_PUBLISH = 3;

/**
 * Sans-I/O scanner of MQTT fixed headers (MQTT 3.1.1 2.2): it follows packet boundaries in a byte stream and
 * reports the first packet whose total size (1 type byte + Remaining Length bytes + Remaining Length) exceeds `max`,
 * as soon as its header arrives, before the body is buffered. mqtt-packet's parser has no size limit of its own
 * and would buffer up to 256 MiB per packet.
 */
export class PacketSizeGuard {
  readonly max: number;
  #state: 'header' | 'length' | 'body' = 'header';
  #type = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #skip = 0;
  #verdict: { type: number; size: number } | 'malformed' | null = null;

  constructor(max: number) {
    this.max = max;
  }

  /** Feed the next bytes. Returns null while every packet fits; after a violation keeps returning it. */
  push(chunk: Uint8Array): { type: number; size: number } | 'malformed' | null {
    let i = 0;
    while (this.#verdict === null && i < chunk.length) {
      if (this.#state === 'body') {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        if (this.#skip === 0) this.#state = 'header';
      } else if (this.#state === 'header') {
        this.#type = (chunk[i++] ?? 0) >> 4;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else {
        const b = chunk[i++] ?? 0;
        this.#length += (b & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if (b & 0x80) {
          // 2.2.3: Remaining Length is at most four bytes.
          if (this.#lengthBytes === 4) this.#verdict = 'malformed';
          continue;
        }
        const size = 1 + this.#lengthBytes + this.#length;
        if (size > this.max) {
          this.#verdict = { type: this.#type, size };
        } else if (this.#length === 0) {
          this.#state = 'header';
        } else {
          this.#skip = this.#length;
          this.#state = 'body';
        }
      }
    }
    return this.#verdict;
  }
}

/** The gateway a bound MQTT client id belongs to: '<site>/<gateway>' or '<site>/<gateway>/...'. */
function clientIdIsBound(clientId: string, site: string, gateway: string): boolean {
  const prefix = `${site}/${gateway}`;
  return clientId === prefix || clientId.startsWith(`${prefix}/`);
}

function refusal(code: RefusalCode, reason: string): Error & { returnCode: RefusalCode } {
  return Object.assign(new VitalwireError('VW_ERR_AUTH_FAILED', reason), { returnCode: code });
}

export async function startCentral(opts: CentralOptions): Promise<Central> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger ?? silentLogger();
  const users = opts.users ?? createUserStore();
  const maxPacketBytes = opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const handshakeTimeout = opts.tlsHandshakeTimeoutMs ?? 10_000;
  if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < 64) throw new VitalwireError('VW_ERR_CONFIG', `maxPacketBytes ${maxPacketBytes}`);

  const counters: CentralCounters = {
    connects: 0, refusedConnects: {}, refusedPublishes: 0, refusedSubscribes: 0, published: 0, oversizePackets: 0,
  };
  const identities = new WeakMap<Client, Identity>();
  const wills = new WeakMap<Client, string>(); // the Will topic of a connecting client, checked once it has an identity
  const oversized = new WeakSet<Client>();

  const refuseConnect = (reason: string, fields: Record<string, unknown>): void => {
    counters.refusedConnects[reason] = (counters.refusedConnects[reason] ?? 0) + 1;
    log.warn({ event: 'connect_refused', reason, ...fields }, 'connection refused');
  };

  async function identify(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Identity> {
    const conn = client.conn;
    if (!(conn instanceof TLSSocket)) throw refusal(RC_NOT_AUTHORIZED, 'not a TLS connection');
    const remote = conn.remoteAddress;
    const cert = conn.getPeerCertificate();
    if (cert && cert.raw) {
      // A presented certificate must be a valid gateway certificate; we never fall back to a password beside a
      // certificate we could not trust.
      if (!conn.authorized) {
        refuseConnect('tls-cert-unverified', { clientId: client.id, remote, tlsError: String(conn.authorizationError) });
        throw refusal(RC_NOT_AUTHORIZED, 'client certificate not issued by our CA');
      }
      const gw = gatewayIdentityFromCert(cert);
      if (!gw) {
        refuseConnect('tls-cert-no-identity', { clientId: client.id, remote });
        throw refusal(RC_NOT_AUTHORIZED, 'client certificate names no gateway');
      }
      // The identity comes from the certificate; the client id must agree so one gateway cannot take over
      // (and disconnect) another's session by claiming its id.
      if (!clientIdIsBound(client.id, gw.site, gw.gateway)) {
        refuseConnect('client-id-mismatch', { clientId: client.id, gateway: `${gw.site}/${gw.gateway}`, remote });
        throw refusal(RC_IDENTIFIER_REJECTED, 'client id not bound to the certificate identity');
      }
      return { kind: 'gateway', site: gw.site, gateway: gw.gateway };
    }
    if (username === undefined) {
      refuseConnect('no-credentials', { clientId: client.id, remote });
      throw refusal(RC_NOT_AUTHORIZED, 'no client certificate and no username');
    }
    const user = await users.verify(username, password ?? Buffer.alloc(0));
    if (!user) {
      refuseConnect(users.get(username) ? 'bad-password' : 'unknown-user', { user: username, remote });
      throw refusal(RC_BAD_USERNAME_OR_PASSWORD, 'bad username or password');
    }
    // Client ids with '/' are gateway ids; a user claiming one would disconnect that gateway (session takeover).
    if (client.id.includes('/')) {
      refuseConnect('user-client-id', { user: user.name, clientId: client.id, remote });
      throw refusal(RC_IDENTIFIER_REJECTED, "user client ids may not contain '/'");
    }
    return { kind: 'user', name: user.name, role: user.role, sites: [...user.sites] };
  }

  /** Wills published after their client is gone arrive with client null; only a bound gateway id may own one. */
  function willOwner(packet: PublishPacket): Identity | null {
    const clientId = (packet as { clientId?: unknown }).clientId;
    if (typeof clientId !== 'string') return { kind: 'internal' };
    const [site, gateway] = clientId.split('/');
    return site && gateway ? { kind: 'gateway', site, gateway } : null;
  }

  const broker = await Aedes.createBroker({
    connectTimeout: handshakeTimeout,
    preConnect(client: Client, packet: ConnectPacket, callback) {
      if (packet.will) wills.set(client, packet.will.topic);
      callback(null, true);
    },
    authenticate(client, username, password, callback) {
      identify(client, username, password).then((id) => {
        const will = wills.get(client);
        if (will !== undefined && !canPublish(id, will)) {
          refuseConnect('will-denied', { identity: describeIdentity(id), will });
          throw refusal(RC_NOT_AUTHORIZED, 'will topic not allowed');
        }
        identities.set(client, id);
        log.info({ event: 'connected', identity: describeIdentity(id), clientId: client.id }, 'client authenticated');
        callback(null, true);
      }).catch((err: unknown) => {
        const e = err instanceof Error && 'returnCode' in err ? err as Error & { returnCode: RefusalCode } : refusal(RC_NOT_AUTHORIZED, String(err));
        callback(e, false);
      });
    },
    authorizePublish(client, packet, callback) {
      const id = client ? identities.get(client) : willOwner(packet);
      const size = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
      let reason: string | null = null;
      if (!id) reason = 'no identity';
      else if ((client && oversized.has(client)) || size > maxPacketBytes) reason = 'packet too large';
      else if (!canPublish(id, packet.topic)) reason = 'topic not allowed';
      if (reason === null) return callback(null);
      counters.refusedPublishes++;
      log.warn({ event: 'publish_refused', identity: id ? describeIdentity(id) : 'unknown', topic: packet.topic, reason }, 'publish refused');
      // aedes closes the connection on an error: MQTT 3.1.1 has no negative PUBACK [MQTT-3.3.5-2].
      callback(new VitalwireError('VW_ERR_ACL_DENIED', reason));
    },
    authorizeSubscribe(client, sub: Subscription, callback) {
      const id = identities.get(client);
      if (id && canSubscribe(id, sub.topic)) return callback(null, sub);
      counters.refusedSubscribes++;
      log.warn({ event: 'subscribe_refused', identity: id ? describeIdentity(id) : 'unknown', filter: sub.topic }, 'subscribe refused');
      callback(null, null); // SUBACK return code 0x80 for this filter [MQTT-3.9.3]; the connection stays up
    },
    published(_packet, client, callback) {
      if (client) counters.published++;
      callback(null);
    },
  });
  broker.on('clientReady', () => {
    counters.connects++;
  });
  broker.on('clientError', (client, err) => {
    log.debug({ event: 'client_error', clientId: client.id, err: err.message }, 'client error');
  });

  const sockets = new Set<Socket>();
  const server: Server = createServer({
    key: opts.tls.key,
    cert: opts.tls.cert,
    ca: opts.tls.ca,
    requestCert: true, // gateways present certificates; users may not, so the check is ours (authenticate above)
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    handshakeTimeout,
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    const reason = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'tls-handshake-timeout' : 'tls-handshake';
    refuseConnect(reason, { remote: socket.remoteAddress, tlsError: err.code ?? err.message });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const client = broker.handle(socket);
    const guard = new PacketSizeGuard(maxPacketBytes);
    // aedes reads with socket.read() on 'readable'; a 'data' listener beside it sees each chunk just before the
    // parser does and does not switch the socket to flowing mode.
    const onData = (chunk: Buffer): void => {
      const verdict = guard.push(chunk);
      if (verdict === null) return;
      socket.off('data', onData);
      oversized.add(client);
      const id = identities.get(client);
      if (verdict !== 'malformed') {
        counters.oversizePackets++;
        if (verdict.type === MQTT_PUBLISH) counters.refusedPublishes++;
      }
      log.warn({ event: 'packet_refused', identity: id ? describeIdentity(id) : 'unauthenticated', clientId: client.id,
        reason: verdict === 'malformed' ? 'malformed remaining length' : `packet of ${verdict.size} bytes > ${maxPacketBytes}` },
      'connection closed');
      socket.destroy();
    };
    socket.on('data', onData);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8883, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ event: 'server_error', err: err.message }, 'TLS listener error'));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  log.info({ event: 'listening', host, port }, 'central broker listening');

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve())); // stops accepting now
    await new Promise<void>((resolve) => broker.close(() => resolve())); // closes authenticated clients, then mq
    for (const s of sockets) s.destroy(); // connections still in TLS handshake or before CONNECT
    // aedes does not destroy its persistence on close (ecosystem.md, trap 2).
    await (broker as unknown as { persistence?: { destroy(): Promise<void> } }).persistence?.destroy();
    await serverClosed;
  }

  return {
    broker,
    host,
    port,
    counters,
    close: () => (closing ??= close()),
  };
}
