// A new connection, from any listener: its stream is handed to Aedes with the adapter's hot paths (staged writes, the
// parser fast path), the slow-subscriber drain policy, and the byte guard (packet-guard.ts) that sees each chunk just
// before the parser: packet size from the fixed header, Remaining Length, UTF-8 strings, the protocol level.
import type { Aedes } from 'aedes';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { AuthDeadline } from './auth-deadline.js';
import {
  dedupeByEquality,
  fastParse,
  leanDeliveriesFor,
  nonBlockingDrain,
  stageWrites,
} from './aedes-internals/index.js';
import { disconnect, newConn, peerEvent, peerOf, refuseConnect, who, type BrokerContext } from './context.js';
import { unbind } from './hooks/authenticate.js';
import type { OnStream } from './listeners.js';
import { bump } from './metrics.js';
import { CONNACK_UNACCEPTABLE_PROTOCOL, connectProtocolLevel, MQTT_PUBLISH, PacketSizeGuard } from './packet-guard.js';

export function acceptStreams(ctx: BrokerContext, broker: Aedes, lean = true): OnStream {
  const limits = ctx.limits;
  return (stream: Duplex, tls: TLSSocket | null, deadline: AuthDeadline): void => {
    // Sockets only (TLS or the lab's TCP): a ws stream's writes complete asynchronously, so a destroy right after a
    // staged CONNACK (Aedes refusing a connection) would drop it; and browsers' low rates gain nothing from it.
    if (stream instanceof Socket) stageWrites(stream);
    const client = broker.handle(stream);
    fastParse(client);
    const c = newConn(stream, tls, deadline);
    c.isRepeat = dedupeByEquality(client);
    if (lean) leanDeliveriesFor(client, () => c.ready);
    ctx.conns.set(client, c);
    stream.once('close', () => unbind(ctx, client, c));
    nonBlockingDrain(client, stream, {
      live: () => c.ready,
      drainTimeoutMs: limits.drainTimeoutMs,
      timers: c.timers,
      onTimeout: () => disconnect(ctx, client, c, 'drain-timeout', 'VW_ERR_SLOW_CONSUMER'),
    });

    // Aedes reads with read() on 'readable'; a 'data' listener beside it sees each chunk just before the parser does
    // and does not switch the stream to flowing mode.
    const guard = new PacketSizeGuard(limits.maxPacketBytes);
    let first = true;
    const onData = (chunk: Buffer): void => {
      if (first) {
        first = false;
        const level = connectProtocolLevel(chunk);
        // [MQTT-3.1.2-2]: an unsupported Protocol Level gets CONNACK 0x01, then the close. mqtt-packet would only
        // close (levels other than 3, 4, 5); Aedes itself answers 5 correctly. 128+ marks a bridge.
        if (level !== null && ![3, 4, 5].includes(level & 0x7f)) {
          refuseConnect(ctx, 'unacceptable-protocol-level', { remote: c.remote, level });
          stream.write(CONNACK_UNACCEPTABLE_PROTOCOL);
          stream.end();
          return;
        }
      }
      const verdict = guard.push(chunk);
      if (verdict === null) return;
      stream.off('data', onData);
      if (verdict === 'malformed') {
        disconnect(ctx, client, c, 'malformed-remaining-length', 'VW_ERR_PROTOCOL');
        return;
      }
      if (verdict === 'bad-packet') {
        // [MQTT-3.1.4-1] a CONNECT that does not conform is closed without CONNACK; [MQTT-4.8.0-1] other violations too.
        disconnect(ctx, client, c, 'protocol-violation', 'VW_ERR_PROTOCOL');
        return;
      }
      if (verdict === 'bad-string') {
        // [MQTT-1.5.3-1] ill-formed UTF-8, [MQTT-1.5.3-2] U+0000: the receiver MUST close the connection.
        disconnect(ctx, client, c, 'malformed-utf8', 'VW_ERR_PROTOCOL');
        return;
      }
      if (verdict.type === MQTT_PUBLISH) bump(ctx.counters.refusedPublishes, 'packet-too-large');
      peerEvent(
        ctx,
        'warn',
        peerOf(c),
        {
          event: 'packet_refused',
          reason: 'packet-too-large',
          identity: who(c),
          clientId: client.id,
          ...(verdict.type === MQTT_PUBLISH ? { topic: verdict.topic } : {}),
          size: verdict.size,
          max: limits.maxPacketBytes,
        },
        'packet too large',
      );
      disconnect(ctx, client, c, 'packet-too-large', 'VW_ERR_PACKET_TOO_LARGE');
    };
    stream.on('data', onData);
  };
}
