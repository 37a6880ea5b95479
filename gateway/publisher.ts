// MQTT publisher: TLS with the gateway's client certificate, QoS 1, one Batch per message,
// per-stream sequence numbers. The gateway-runtime issue puts the durable outbox in front of
// it; here a publish that fails while offline is buffered by mqtt.js in memory only.
import mqtt, { type MqttClient } from 'mqtt';
import { Batch, Kind, type IBatch, type ISource } from '../proto/index.js';
import { streamTopic, type StreamKind } from '../lib/topics.js';
import type { Logger } from '../lib/log.js';
import { nowUs } from './device-link.js';

export interface PublisherOptions {
  url: string; // mqtts://host:port
  site: string;
  gateway: string;
  tls: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  logger: Logger;
}

export type BatchBody = Omit<IBatch, 'source' | 'kind' | 'seq' | 'publishTimeUs'>;

export interface Publisher {
  publish(source: ISource & { device: string }, kind: StreamKind, body: BatchBody): Promise<void>;
  readonly counters: { published: number; acked: number; failed: number };
  close(): Promise<void>;
  readonly client: MqttClient;
}

const KIND_OF: Record<StreamKind, number> = {
  obs: Kind.KIND_OBS,
  wave: Kind.KIND_WAVE,
  alarm: Kind.KIND_ALARM,
  status: Kind.KIND_STATUS,
};

export async function startPublisher(o: PublisherOptions): Promise<Publisher> {
  const client = mqtt.connect(o.url, {
    ca: o.tls.ca,
    cert: o.tls.cert,
    key: o.tls.key,
    // The broker binds client ids to the certificate identity.
    clientId: `${o.site}/${o.gateway}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    keepalive: 30,
  });
  const log = o.logger.child({ component: 'publisher' });
  client.on('connect', () => log.info('connected to broker'));
  client.on('error', (err) => log.warn({ err: err.message }, 'broker connection error'));
  client.on('offline', () => log.warn('broker offline'));
  const seqs = new Map<string, number>();
  const counters = { published: 0, acked: 0, failed: 0 };

  return {
    client,
    counters,
    publish(source, kind, body) {
      const topic = streamTopic(o.site, o.gateway, source.device, kind);
      const seq = (seqs.get(topic) ?? 0) + 1;
      seqs.set(topic, seq);
      const bytes = Batch.encode({ ...body, source: { ...source, site: o.site, gateway: o.gateway }, kind: KIND_OF[kind], seq,
        publishTimeUs: nowUs() }).finish();
      counters.published++;
      return new Promise((resolve, reject) => {
        client.publish(topic, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), { qos: 1 }, (err) => {
          if (err) {
            counters.failed++;
            reject(err);
          } else {
            counters.acked++;
            resolve();
          }
        });
      });
    },
    close: () => client.endAsync(),
  };
}
