// Aedes `preConnect`: runs when the CONNECT arrives, before authenticate. It only records what the CONNECT asked for,
// which Aedes does not hand to authenticate (clean session, keep-alive, the client id as sent, the Will topic).
import type { AedesOptions } from 'aedes';
import type { BrokerContext } from '../context.js';

const EMPTY = Buffer.alloc(0);

export function preConnect(ctx: BrokerContext): NonNullable<AedesOptions['preConnect']> {
  return (client, packet, callback) => {
    const c = ctx.conns.get(client);
    if (c) {
      c.connect = {
        clientId: packet.clientId ?? '',
        clean: packet.clean !== false,
        keepalive: packet.keepalive ?? 0,
        willTopic: packet.will ? packet.will.topic : null,
        willPayload: packet.will ? Buffer.from(packet.will.payload) : EMPTY,
        willRetain: packet.will?.retain === true,
      };
    }
    callback(null, true);
  };
}
