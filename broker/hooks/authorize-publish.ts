// Aedes `authorizePublish`: every PUBLISH from a client, every Will as it is published, and Wills of clients whose
// broker died (published by a surviving broker, with no client). A refused PUBLISH closes the connection: MQTT 3.1.1
// has no negative PUBACK [MQTT-3.3.5-2]. An accepted QoS 1 PUBLISH is stored and routed here, before Aedes sends its
// PUBACK ([MQTT-4.3.2-2], see below), and handed to `onAccepted` (the central's archive), whose durable write the
// PUBACK also waits for.
import type { AedesOptions, PublishPacket } from 'aedes';
import { VitalwireError, type ErrorCode } from '../../lib/errors.js';
import { canPublish } from '../acl.js';
import type { PublishBeforeAck } from '../aedes-internals/index.js';
import { disconnect, refusePublish, type BrokerContext } from '../context.js';
import { bump } from '../metrics.js';
import { willOwner } from '../identity.js';
import { payloadProblem } from '../payload-check.js';
import { keepRetainedWithinQuota } from '../retained-quota.js';

/**
 * Called with every PUBLISH the broker accepts, and every Will it publishes: the topic, the payload as published, and
 * `done`, to call once the message is safe (the archive: fsynced in its journal). A QoS 1 PUBACK (QoS 2 PUBREC) waits
 * for `done()`; `done(err)` closes the publisher's connection unacknowledged, so it sends the message again after
 * reconnecting. QoS 0 messages and Wills have nobody to acknowledge: their `done` only ends the call.
 */
export type OnAccepted = (topic: string, payload: Buffer, done: (err?: Error | null) => void) => void;

const nothingToAck = (): void => undefined;
const payloadOf = (p: PublishPacket): Buffer => (Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload));

export function authorizePublish(
  ctx: BrokerContext,
  ack: PublishBeforeAck,
  onAccepted?: OnAccepted,
): NonNullable<AedesOptions['authorizePublish']> {
  return (client, packet, callback) => {
    if (!client) {
      // A Will of a client whose broker died, published by a surviving broker: same rules as at connect.
      const owner = willOwner(packet, ctx.lab, ctx.users);
      if (owner && canPublish(owner, packet.topic)) {
        onAccepted?.(packet.topic, payloadOf(packet), nothingToAck);
        return callback(null);
      }
      refusePublish(ctx, undefined, packet.topic, 'will-denied');
      return callback(new VitalwireError('VW_ERR_ACL_DENIED', 'will-denied'));
    }
    const c = ctx.conns.get(client);
    const id = c?.identity;
    if (!c || !id) {
      refusePublish(ctx, c, packet.topic, 'no-identity');
      return callback(new VitalwireError('VW_ERR_ACL_DENIED', 'no identity'));
    }
    if (client.closed) {
      // The client's own Will, published as its connection ends ([MQTT-3.1.2-8]); checked again, never rate-limited.
      if (canPublish(id, packet.topic)) {
        onAccepted?.(packet.topic, payloadOf(packet), nothingToAck);
        return callback(null);
      }
      refusePublish(ctx, c, packet.topic, 'will-denied');
      return callback(new VitalwireError('VW_ERR_ACL_DENIED', 'will-denied'));
    }
    if (c.closedBy !== null) {
      // Parsed from bytes that arrived with the one the broker closed the connection for (an oversized packet's
      // header, a refused publish): not refused for anything of its own, so counted apart and not logged; it was never
      // acknowledged, so its sender sends it again.
      bump(ctx.counters.refusedPublishes, 'connection-closed');
      return callback(new VitalwireError('VW_ERR_PROTOCOL', `connection closed by the broker: ${c.closedBy}`));
    }
    let reason: string | null = null;
    let code: ErrorCode = 'VW_ERR_ACL_DENIED';
    let problem: string | null = null;
    if (packet.topic !== c.allowedTopic && !canPublish(id, packet.topic)) {
      reason = packet.retain ? 'retained-topic-not-allowed' : 'topic-not-allowed';
    } else if (!ctx.rate.allow(c.key)) {
      reason = 'publish-rate-exceeded';
      code = 'VW_ERR_RATE_LIMITED';
    } else if (id.kind === 'gateway' && (problem = payloadProblem(ctx, c, packet)) !== null) {
      reason = 'payload-invalid'; // payload-check.ts: not a Batch of this topic; refused where it enters
      code = 'VW_ERR_PAYLOAD_INVALID';
    }
    if (reason === null) {
      c.allowedTopic = packet.topic;
      if (packet.retain) keepRetainedWithinQuota(ctx, c, packet);
      ctx.counters.messagesIn++;
      if (packet.qos === 0) {
        onAccepted?.(packet.topic, payloadOf(packet), nothingToAck);
        return callback(null);
      }
      // The archive's refusal (journal full, disk failing): no acknowledgement; the connection closes, so the publisher
      // keeps the message and sends it again once it reconnects (MQTT 3.1.1 has no negative PUBACK [MQTT-3.3.5-2]).
      const refusedByArchive = (err: Error): void => {
        refusePublish(ctx, c, packet.topic, 'archive-refused');
        disconnect(ctx, client, c, 'archive-refused', (err as { code?: ErrorCode }).code ?? 'VW_ERR_ARCHIVE_IO');
        callback(err);
      };
      if (packet.qos !== 1) {
        if (!onAccepted) return callback(null);
        return onAccepted(packet.topic, payloadOf(packet), (err) => (err ? refusedByArchive(err) : callback(null)));
      }
      // [MQTT-4.3.2-2]: the receiver PUBACKs "having accepted ownership of the Application Message". Aedes writes the
      // PUBACK first and stores and routes the message one turn later, so a crash in between loses a message its
      // sender believes delivered. Here it is stored and routed first, and archived (onAccepted) at the same time;
      // Aedes then PUBACKs and skips its own publish of this packet. A failed store closes the connection
      // unacknowledged, so the sender retransmits.
      let pending = onAccepted ? 2 : 1;
      let routeErr: Error | null = null;
      let archiveErr: Error | null = null;
      const settle = (): void => {
        if (--pending > 0) return;
        if (routeErr) return callback(routeErr);
        if (archiveErr) return refusedByArchive(archiveErr);
        ack.markPublished(packet);
        callback(null);
      };
      onAccepted?.(packet.topic, payloadOf(packet), (err) => {
        archiveErr = err ?? null;
        settle();
      });
      return ack.publish(packet, client, (err?: Error) => {
        routeErr = err ?? null;
        settle();
      });
    }
    refusePublish(ctx, c, packet.topic, reason, problem ?? undefined);
    disconnect(ctx, client, c, reason, code); // Aedes also closes the connection on the error below
    callback(new VitalwireError(code, reason));
  };
}
