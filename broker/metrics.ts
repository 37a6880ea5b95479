// Broker counters: one plain object the broker bumps (tests read it directly) and a Prometheus registry per broker
// instance whose collectors read that object at scrape time. No global registry: two brokers in one process (tests,
// the bench) keep their own figures.
import { Counter, Gauge, Registry } from 'prom-client';

export type ConnectionRole = 'gateway' | 'observer' | 'service' | 'admin' | 'lab';

export interface BrokerCounters {
  /** Connections that reached CONNACK 0. */
  connects: number;
  /** Live authenticated connections by role. */
  connections: Record<ConnectionRole, number>;
  /** Refusals by reason: 'bad-password', 'tls-cert-revoked', 'too-many-connections', ... (docs/broker.md). */
  refusedConnects: Record<string, number>;
  refusedPublishes: Record<string, number>;
  refusedSubscribes: Record<string, number>;
  /** Connections the broker closed after CONNACK, by reason ('publish-rate-exceeded', 'slow-consumer', ...). */
  disconnects: Record<string, number>;
  /** PUBLISH packets accepted from clients, and PUBLISH packets written to clients. */
  messagesIn: number;
  messagesOut: number;
  /** Messages not delivered to a subscriber because its buffer was full, by reason. */
  queueDrops: Record<string, number>;
  /** Retained PUBLISH packets delivered but not stored: the identity held its retained limit (retained-quota.ts). */
  retainedNotStored: Record<string, number>;
  /** Stream payloads refused for not being a Batch of their topic, by gateway 'site/gw' (payload-check.ts). */
  invalidPayloads: Record<string, number>;
}

export function newCounters(): BrokerCounters {
  return {
    connects: 0,
    connections: { gateway: 0, observer: 0, service: 0, admin: 0, lab: 0 },
    refusedConnects: {},
    refusedPublishes: {},
    refusedSubscribes: {},
    disconnects: {},
    messagesIn: 0,
    messagesOut: 0,
    queueDrops: {},
    retainedNotStored: {},
    invalidPayloads: {},
  };
}

export function bump(rec: Record<string, number>, key: string, n = 1): void {
  rec[key] = (rec[key] ?? 0) + n;
}

export function total(rec: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(rec)) n += v;
  return n;
}

/** A registry exposing the counters as vitalwire_broker_* metrics, plus process metrics under a `process_` prefix. */
export function createMetricsRegistry(
  c: BrokerCounters,
  extra: { brokerId: string; busBadFrames?: () => number },
): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ broker: extra.brokerId });
  const byLabel = (name: string, help: string, label: string, read: () => Record<string, number>): void => {
    registry.registerMetric(
      new Counter({
        name,
        help,
        labelNames: [label],
        registers: [],
        collect() {
          this.reset();
          for (const [k, v] of Object.entries(read())) this.inc({ [label]: k }, v);
        },
      }),
    );
  };
  const plain = (name: string, help: string, read: () => number): void => {
    registry.registerMetric(
      new Counter({
        name,
        help,
        registers: [],
        collect() {
          this.reset();
          this.inc(read());
        },
      }),
    );
  };
  registry.registerMetric(
    new Gauge({
      name: 'vitalwire_broker_connections',
      help: 'Live authenticated MQTT connections by role',
      labelNames: ['role'],
      registers: [],
      collect() {
        for (const [role, v] of Object.entries(c.connections)) this.set({ role }, v);
      },
    }),
  );
  plain('vitalwire_broker_connects_total', 'Connections accepted (CONNACK 0)', () => c.connects);
  plain('vitalwire_broker_messages_in_total', 'PUBLISH packets accepted from clients', () => c.messagesIn);
  plain('vitalwire_broker_messages_out_total', 'PUBLISH packets written to clients', () => c.messagesOut);
  byLabel(
    'vitalwire_broker_refused_connects_total',
    'Refused connections by reason',
    'reason',
    () => c.refusedConnects,
  );
  byLabel(
    'vitalwire_broker_refused_publishes_total',
    'Refused PUBLISH packets by reason',
    'reason',
    () => c.refusedPublishes,
  );
  byLabel(
    'vitalwire_broker_refused_subscribes_total',
    'Refused subscriptions by reason',
    'reason',
    () => c.refusedSubscribes,
  );
  byLabel(
    'vitalwire_broker_disconnects_total',
    'Connections closed by the broker by reason',
    'reason',
    () => c.disconnects,
  );
  byLabel(
    'vitalwire_broker_queue_drops_total',
    'Messages dropped for slow subscribers by reason',
    'reason',
    () => c.queueDrops,
  );
  byLabel(
    'vitalwire_broker_invalid_payloads_total',
    'Stream payloads refused for not being a Batch of their topic, by gateway',
    'gateway',
    () => c.invalidPayloads,
  );
  byLabel(
    'vitalwire_broker_retained_not_stored_total',
    'Retained messages delivered but not stored: the identity held its limit',
    'reason',
    () => c.retainedNotStored,
  );
  const busBad = extra.busBadFrames;
  if (busBad)
    plain('vitalwire_broker_bus_bad_frames_total', 'Frames from other brokers on Redis that could not be read', busBad);
  registry.registerMetric(
    new Gauge({
      name: 'vitalwire_process_resident_memory_bytes',
      help: 'Resident set size of the broker process',
      registers: [],
      collect() {
        this.set(process.memoryUsage.rss());
      },
    }),
  );
  return registry;
}
