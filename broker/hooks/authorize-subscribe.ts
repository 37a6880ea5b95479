// Aedes `authorizeSubscribe`: each topic filter of a SUBSCRIBE (and of a restored persistent session). A refused
// filter gets SUBACK return code 0x80 and the connection stays up [MQTT-3.9.3-2]; a malformed filter closes it.
import type { AedesOptions } from 'aedes';
import { VitalwireError } from '../../lib/errors.js';
import { canSubscribe, isWellFormedTopicFilter } from '../acl.js';
import { subscriptionsOf } from '../aedes-internals/index.js';
import { disconnect, peerEvent, peerOf, who, type BrokerContext } from '../context.js';
import { bump } from '../metrics.js';

export function authorizeSubscribe(ctx: BrokerContext): NonNullable<AedesOptions['authorizeSubscribe']> {
  return (client, sub, callback) => {
    const c = ctx.conns.get(client);
    if (!isWellFormedTopicFilter(sub.topic)) {
      // A filter that breaks 4.7 (a wildcard not a whole level, '#' not last, empty, U+0000) is a protocol violation:
      // [MQTT-4.8.0-1] close. Aedes' own check misses 'a#', 'a+' and 'a/+b'; U+0000 [MQTT-1.5.3-2] is closed by the byte
      // guard first (connection.ts), this is the second line.
      bump(ctx.counters.refusedSubscribes, 'protocol-violation');
      if (c) disconnect(ctx, client, c, 'protocol-violation', 'VW_ERR_PROTOCOL');
      return callback(new VitalwireError('VW_ERR_PROTOCOL', 'malformed topic filter [MQTT-4.7.1-2] [MQTT-4.7.1-3]'));
    }
    const id = c?.identity;
    let reason: string | null = null;
    if (!id || !canSubscribe(id, sub.topic)) reason = 'topic-not-allowed';
    else {
      const subs = subscriptionsOf(client);
      // A filter the client holds already is replaced, not added [MQTT-3.8.4-3].
      if (!(sub.topic in subs) && Object.keys(subs).length >= ctx.limits.maxSubscriptionsPerClient)
        reason = 'too-many-subscriptions';
    }
    if (reason === null) return callback(null, sub);
    bump(ctx.counters.refusedSubscribes, reason);
    peerEvent(
      ctx,
      'warn',
      peerOf(c),
      { event: 'subscribe_refused', identity: who(c), filter: sub.topic, reason },
      'subscribe refused',
    );
    callback(null, null);
  };
}
