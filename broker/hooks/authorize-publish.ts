// Aedes `authorizePublish`: every PUBLISH from a client, every Will as it is published, and Wills of clients whose
// broker died (published by a surviving broker, with no client). A refused PUBLISH closes the connection: MQTT 3.1.1
// has no negative PUBACK [MQTT-3.3.5-2]. An accepted QoS 1 PUBLISH is stored and routed here, before Aedes sends its
// PUBACK ([MQTT-4.3.2-2], see below).
import type { AedesOptions } from 'aedes';
import { VitalwireError, type ErrorCode } from '../../decoders/errors.js';
import { canPublish } from '../acl.js';
import type { PublishBeforeAck } from '../aedes-internals/index.js';
import { disconnect, refusePublish, type BrokerContext } from '../context.js';
import { bump } from '../metrics.js';
import { willOwner } from '../identity.js';
import { payloadProblem } from '../payload-check.js';
import { keepRetainedWithinQuota } from '../retained-quota.js';

export function authorizePublish(ctx: BrokerContext, ack: PublishBeforeAck): NonNullable<AedesOptions['authorizePublish']> {
  return (client, packet, callback) => {
    if (!client) {
      // A Will of a client whose broker died, published by a surviving broker: same rules as at connect.
      const owner = willOwner(packet, ctx.lab, ctx.users);
      if (owner && canPublish(owner, packet.topic)) return callback(null);
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
      if (canPublish(id, packet.topic)) return callback(null);
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
      if (packet.qos !== 1) return callback(null);
      // [MQTT-4.3.2-2]: the receiver PUBACKs "having accepted ownership of the Application Message". Aedes writes the
      // PUBACK first and stores and routes the message one turn later, so a crash in between loses a message its
      // sender believes delivered. Here it is stored and routed first; Aedes then PUBACKs and skips its own publish of
      // this packet. A failed store closes the connection unacknowledged, so the sender retransmits.
      return ack.publish(packet, client, (err?: Error) => {
        if (err) return callback(err);
        ack.markPublished(packet);
        callback(null);
      });
    }
    refusePublish(ctx, c, packet.topic, reason, problem ?? undefined);
    disconnect(ctx, client, c, reason, code); // Aedes also closes the connection on the error below
    callback(new VitalwireError(code, reason));
  };
}
