// Aedes' publish for the common message, without its series. aedes.js publish() wraps a message in an aedes-packet
// Packet and runs four steps in series (runSeries): storeRetained, enqueueOffline (QoS > 0: the persistence's
// subscriptionsByTopic, then outgoingEnqueueCombi, two Promises and a closure object per message), emitPacket
// (mq.emit) and callPublished (the `published` hook, then the broker's 'publish' event). For a message that is not
// retained, on a topic the remembered offline lookup (topic-memo.ts) knows has no persistent subscriber, the first two
// do nothing: this runs the last two directly. Every other message goes to Aedes' own publish, unchanged.
import type { Aedes, Client, PublishPacket } from 'aedes';
import { createRequire } from 'node:module';
import type { OfflineLookupMemo } from './topic-memo.js';

export type PublishFn = (packet: PublishPacket, client: Client | null, done: (err?: Error) => void) => void;

interface AedesPublishInternals {
  mq: { emit(packet: object, cb: (err?: Error) => void): void };
  published(packet: PublishPacket, client: Client | null, done: (err?: Error) => void): void;
  emit(event: 'publish', packet: PublishPacket, client: Client | null): boolean;
  maxTopicLevels: number;
}

type PacketCtor = new (original: PublishPacket, broker: object) => { clientId?: string };

/** Levels of a topic as Aedes counts them (lib/utils.js topicLevelCount). */
function levels(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) n++;
  return n;
}

/**
 * `original` is Aedes' own publish of `broker`, `aedesDir` the directory Aedes is loaded from (its aedes-packet is the
 * one used). Relies on aedes 1.2 aedes.js: publishFuncsSimple/QoS, emitPacket setting `clientId` from the publishing
 * client, callPublished passing the message as given (not the Packet) to `published` and to the 'publish' event.
 */
export function leanPublish(
  broker: Aedes,
  original: PublishFn,
  offline: OfflineLookupMemo,
  aedesDir: string,
): PublishFn {
  const b = broker as unknown as AedesPublishInternals;
  const Packet = createRequire(`${aedesDir}/`)('aedes-packet') as PacketCtor;
  return (packet, client, done) => {
    const topic = packet.topic;
    // Retained messages, and what Aedes refuses (too many levels), take Aedes' own path.
    if (packet.retain || typeof topic !== 'string' || levels(topic) > b.maxTopicLevels) {
      return original(packet, client, done);
    }
    if ((packet.qos ?? 0) > 0 && offline.known(topic)?.length !== 0) return original(packet, client, done);
    const p = new Packet(packet, broker);
    if (client) p.clientId = client.id;
    b.mq.emit(p, (err) => {
      if (err) return done(err);
      b.published(packet, client, done);
      b.emit('publish', packet, client);
    });
  };
}
