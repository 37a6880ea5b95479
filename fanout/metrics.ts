// The fan-out's Prometheus metrics, registered in the registry the central side exposes on its health port
// (GET /metrics, broker/health.ts): one endpoint per central process, one scrape for broker and fan-out, labelled with
// the broker's id like the rest (docs/dashboard.md, Metrics). Collectors read the fan-out's counters at scrape time;
// nothing is counted twice and nothing here runs per Batch.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface FanoutMetricsSource {
  /** The fan-out's counters (server.ts FanoutCounters), read at scrape time. */
  counters(): Record<string, number>;
  deliveredByKind(): Record<string, number>;
  beds(): number;
  auditPendingBytes(): number;
  auditAvailable(): boolean;
}

/** Registers the fan-out's metrics; returns a function that removes them again (the fan-out closing). */
export function registerFanoutMetrics(registry: Registry, src: FanoutMetricsSource): () => void {
  const names: string[] = [];
  const add = (m: Counter | Gauge): void => {
    registry.registerMetric(m);
    names.push((m as unknown as { name: string }).name);
  };
  const counter = (name: string, help: string, key: string): void =>
    add(
      new Counter({
        name,
        help,
        registers: [],
        collect() {
          this.reset();
          this.inc(src.counters()[key] ?? 0);
        },
      }),
    );
  const gauge = (name: string, help: string, read: () => number): void =>
    add(
      new Gauge({
        name,
        help,
        registers: [],
        collect() {
          this.set(read());
        },
      }),
    );
  const byLabel = (name: string, help: string, label: string, read: () => Record<string, number>): void =>
    add(
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

  gauge('vitalwire_fanout_clients', 'Dashboards connected (WebSockets)', () => src.counters()['clients'] ?? 0);
  gauge(
    'vitalwire_fanout_http_sockets',
    'Sockets open on the dashboard port, WebSockets included',
    () => src.counters()['httpSockets'] ?? 0,
  );
  gauge('vitalwire_fanout_devices', "Devices admitted, every site (beds and gateways' own status streams)", () =>
    src.beds(),
  );
  gauge('vitalwire_fanout_ring_bytes', 'Bytes held in the backfill rings', () => src.counters()['ringBytes'] ?? 0);
  gauge('vitalwire_fanout_audit_queue_bytes', 'Access audit bytes accepted and not yet written', () =>
    src.auditPendingBytes(),
  );
  gauge(
    'vitalwire_fanout_audit_available',
    '1 while the access audit takes entries (0: logins and new beds are refused)',
    () => (src.auditAvailable() ? 1 : 0),
  );
  counter('vitalwire_fanout_messages_in_total', 'Batches received from the broker', 'messagesIn');
  counter(
    'vitalwire_fanout_bad_payloads_total',
    'Payloads that are not a Batch header (not kept, not delivered)',
    'badPayloads',
  );
  counter(
    'vitalwire_fanout_duplicates_total',
    'Batches dropped as a seq their stream holds (QoS 1 repeats)',
    'duplicates',
  );
  byLabel(
    'vitalwire_fanout_deliveries_total',
    'Batches handed to dashboards by kind (gap: Gap markers of the slow-client policy)',
    'kind',
    () => src.deliveredByKind(),
  );
  byLabel(
    'vitalwire_fanout_slow_client_drops_total',
    'Batches not sent to slow dashboards: numerics coalesced, waveform chunks dropped',
    'reason',
    () => {
      const c = src.counters();
      return { coalesced: c['coalesced'] ?? 0, wave: c['droppedWaves'] ?? 0 };
    },
  );
  counter(
    'vitalwire_fanout_gaps_sent_total',
    'Gap markers sent to slow dashboards in place of dropped Batches',
    'gaps',
  );
  counter('vitalwire_fanout_slow_clients_closed_total', 'Dashboards closed as slow (4008)', 'slowClosed');
  byLabel('vitalwire_fanout_logins_total', 'Dashboard login attempts by result', 'result', () => {
    const c = src.counters();
    return {
      ok: c['logins'] ?? 0,
      refused: c['loginFailures'] ?? 0,
      throttled: c['loginsThrottled'] ?? 0,
      busy: c['loginsBusy'] ?? 0,
    };
  });
  counter('vitalwire_fanout_renewals_total', 'Session renewals', 'renewals');
  counter(
    'vitalwire_fanout_refused_upgrades_total',
    'WebSocket upgrades refused (origin, token, user, limits)',
    'refusedUpgrades',
  );
  counter(
    'vitalwire_fanout_upgrade_timeouts_total',
    'WebSocket upgrades destroyed at their deadline',
    'upgradeTimeouts',
  );
  counter(
    'vitalwire_fanout_refused_subscriptions_total',
    'Bed subscriptions refused (scope, limits, audit)',
    'refusedSubscriptions',
  );
  counter('vitalwire_fanout_beds_refused_total', 'Batches of devices over their gateway or site quota', 'bedsRefused');
  counter('vitalwire_fanout_beds_expired_total', 'Devices forgotten after bedExpiryMs without a Batch', 'bedsExpired');
  counter(
    'vitalwire_fanout_users_removed_total',
    'Dashboards closed because their user left the users store',
    'usersRemoved',
  );
  counter('vitalwire_fanout_sessions_expired_total', 'Dashboards closed at session expiry', 'expired');
  counter(
    'vitalwire_fanout_rate_limited_total',
    'Control messages refused by the per-connection rate limit',
    'rateLimited',
  );
  counter(
    'vitalwire_fanout_logs_suppressed_total',
    'Peer-triggered log lines not written (rate limit)',
    'logsSuppressed',
  );
  return () => {
    for (const n of names) registry.removeSingleMetric(n);
  };
}
