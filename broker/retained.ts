// A retained QoS 1 message, accepted before the PUBACK (hooks/authorize-publish.ts), is routed like any other message
// and its retained copy stored beside it.
import type { Client, PublishPacket } from 'aedes';
import type { PublishFn } from './aedes-internals/index.js';

/** The part of an Aedes persistence that keeps retained messages (its public interface). */
export interface RetainedStore {
  storeRetained(packet: object): Promise<void>;
}

/**
 * Publishes a retained QoS 1 message as two things side by side: routed like any other message, and its retained copy
 * stored; `done` once both are. Aedes stores a retained message before it routes it, one asynchronous step more than
 * any other message, so it was routed after the messages its sender published after it: out of order on its topic
 * ([MQTT-4.6.0-6]), and a PUBACKed status lost for every subscriber that had already got one of the later messages
 * (issue 13: seq holes in the status stream, DISCONNECTED states among them). Routed as not retained, every QoS 1
 * message takes the same steps; subscribers get RETAIN 0 for it as [MQTT-3.3.1-9] wants, and the stored copy goes to
 * later subscribers with RETAIN 1.
 */
export function retainedBeside(
  publish: PublishFn,
  store: RetainedStore,
): (packet: PublishPacket, client: Client | null, done: (err?: Error) => void) => void {
  return (packet, client, done) => {
    let left = 2;
    let failed: Error | undefined;
    const one = (err?: Error): void => {
      failed ??= err;
      if (--left === 0) done(failed);
    };
    const { topic, payload, qos } = packet;
    store.storeRetained({ cmd: 'publish', topic, payload, qos, retain: true, dup: false }).then(
      () => one(),
      (err: unknown) => one(err instanceof Error ? err : new Error(String(err))),
    );
    publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false } as PublishPacket, client, one);
  };
}
