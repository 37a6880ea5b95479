// Aedes `authorizeForward`: every message on its way to one subscriber, whatever brought it there (a live publish, a
// retained message on subscribe, a persistent session's queue on reconnect). Returning null drops it for that
// subscriber. This is where the slow-subscriber policy acts: no other subscriber ever waits for a slow one.
import type { AedesOptions } from 'aedes';
import { subscriptionsOf } from '../aedes-internals/index.js';
import { disconnect, type BrokerContext } from '../context.js';
import { bump } from '../metrics.js';
import { bestMatchQos, isDollarTopic } from '../topic-match.js';

export function authorizeForward(ctx: BrokerContext): NonNullable<AedesOptions['authorizeForward']> {
  const maxBuffered = ctx.limits.maxBufferedBytesPerClient;
  return (client, packet) => {
    const c = ctx.conns.get(client);
    // One copy per message when a client's subscriptions overlap (what Aedes' own dedupe was for, see aedes-internals).
    if (c?.isRepeat(packet)) return null;
    // [MQTT-4.7.2-1]: a topic starting with '$' goes only to a client with a subscription not starting with a wildcard
    // that matches it. Aedes applies the rule to live deliveries, not to retained messages sent on subscribe nor to a
    // persistent session's queue (it filters only $SYS/ there); here it covers every path.
    if (isDollarTopic(packet.topic) && bestMatchQos(subscriptionsOf(client), packet.topic) === null) return null;
    // A slow subscriber: its unsent bytes passed the limit. QoS 0 may be dropped (at most once); a QoS 1 or 2 message
    // may not [MQTT-4.3.2], so the subscriber is disconnected instead and a persistent session keeps the message
    // queued for its return.
    if (c?.ready && c.stream.writableLength > maxBuffered) {
      if (Math.min(bestMatchQos(subscriptionsOf(client), packet.topic) ?? 0, packet.qos) === 0) {
        bump(ctx.counters.queueDrops, 'buffer-full');
        return null;
      }
      disconnect(ctx, client, c, 'slow-consumer', 'VW_ERR_SLOW_CONSUMER');
      return packet;
    }
    ctx.counters.messagesOut++;
    return packet;
  };
}
