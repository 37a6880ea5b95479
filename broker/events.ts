// What the broker logs and counts from Aedes' own events: a client ready (CONNACK sent, session restored), a client
// error (a drain timeout is the slow-subscriber policy's), connection and broker errors.
import type { Aedes } from 'aedes';
import { onBrokerError } from './aedes-internals/index.js';
import { peerEvent, peerOf, who, type BrokerContext } from './context.js';
import { bump } from './metrics.js';

export function watchBrokerEvents(ctx: BrokerContext, broker: Aedes): void {
  const log = ctx.log;
  broker.on('clientReady', (client) => {
    const c = ctx.conns.get(client);
    if (c) c.ready = true;
    ctx.counters.connects++;
    // Rate-limited like every peer-triggered line: a client reconnecting in a loop must not flood the log either.
    peerEvent(
      ctx,
      'info',
      peerOf(c),
      { event: 'connected', identity: who(c), clientId: client.id, remote: c?.remote },
      'client connected',
    );
  });
  broker.on('clientError', (client, err) => {
    const c = ctx.conns.get(client);
    if (err.message === 'drain timeout' && c && c.closedBy === null) {
      c.closedBy = 'drain-timeout';
      bump(ctx.counters.disconnects, 'drain-timeout');
      peerEvent(
        ctx,
        'warn',
        peerOf(c),
        {
          event: 'disconnected',
          reason: 'drain-timeout',
          code: 'VW_ERR_SLOW_CONSUMER',
          identity: who(c),
          clientId: client.id,
        },
        'connection closed by the broker',
      );
    }
    if (log.isLevelEnabled('debug'))
      ctx.peerLog.log(
        `client_error|${peerOf(c)}`,
        'debug',
        { event: 'client_error', identity: who(c), err: err.message },
        'client error',
      );
  });
  broker.on('connectionError', (_client, err) => {
    if (log.isLevelEnabled('debug'))
      ctx.peerLog.log('connection_error', 'debug', { event: 'connection_error', err: err.message }, 'connection error');
  });
  onBrokerError(broker, (err) => log.error({ event: 'broker_error', err: err.message }, 'broker error'));
}
