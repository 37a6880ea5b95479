// The fan-out's Prometheus metrics on the central's health port (GET /metrics, beside the broker's): real central,
// real logins and sockets, the figures read back from the text format.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecg, hr, publish, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, login, waitFor } from './ws-client.js';

describe('fan-out metrics', () => {
  let rig: FanoutRig;

  beforeAll(async () => {
    rig = await startRig(
      {
        limits: {
          login: {
            throttle: {
              freeFailures: { pair: 0, account: 9, address: 9 },
              baseDelayMs: 60_000,
              maxDelayMs: { pair: 60_000, account: 60_000, address: 60_000 },
              forgetAfterMs: 60_000,
              knownGoodMs: 60_000,
              maxEntries: 100,
            },
          },
        },
      },
      { health: true },
    );
  });
  afterAll(() => rig?.close());

  const scrape = async (): Promise<Map<string, number>> => {
    const res = await fetch(`http://127.0.0.1:${rig.central.broker.httpPort}/metrics`);
    expect(res.status).toBe(200);
    const out = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (!line.startsWith('vitalwire_fanout_')) continue;
      const m = /^(\S+?)(\{.*\})? (\S+)$/.exec(line);
      if (!m) continue;
      // Labels other than the broker's id are kept in the key: name{kind="obs"}.
      const labels = (m[2] ?? '')
        .replace(/,?broker="[^"]*"/, '')
        .replace(/^\{,?/, '{')
        .replace(/^\{\}$/, '');
      out.set(`${m[1]}${labels}`, Number(m[3]));
    }
    return out;
  };

  it("counts logins by result, dashboards, deliveries by kind and the audit queue, on the central's /metrics", async () => {
    expect(rig.central.broker.httpPort).toBeGreaterThan(0);
    await login(rig.fanout.url, 'obs1', 'pw-obs1');
    await expect(login(rig.fanout.url, 'obsall', 'wrong')).rejects.toThrow(/401/);
    await expect(login(rig.fanout.url, 'obsall', 'wrong')).rejects.toThrow(/429/);
    const token = (await rig.fanout.sessions.issue({ name: 'obs1', role: 'observer', sites: ['site1'] })).token;
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: ['site1/gw1/bed01'] });
    await waitFor(() => s.control.find((m) => m.type === 'subscribed'), 5000, 'subscribed');
    await publish(rig.gw, 'bed01', 'obs', 1, hr(70));
    await publish(rig.gw, 'bed01', 'wave', 1, ecg(0));
    await publish(rig.gw, 'bed01', 'wave', 2, ecg(64));
    await waitFor(() => s.received.length >= 3, 5000, 'three Batches');
    const m = await scrape();
    expect(m.get('vitalwire_fanout_clients')).toBe(1);
    expect(m.get('vitalwire_fanout_logins_total{result="ok"}')).toBe(1);
    expect(m.get('vitalwire_fanout_logins_total{result="refused"}')).toBe(1);
    expect(m.get('vitalwire_fanout_logins_total{result="throttled"}')).toBe(1);
    expect(m.get('vitalwire_fanout_deliveries_total{kind="obs"}')).toBe(1);
    expect(m.get('vitalwire_fanout_deliveries_total{kind="wave"}')).toBe(2);
    expect(m.get('vitalwire_fanout_messages_in_total')).toBe(3);
    expect(m.get('vitalwire_fanout_gaps_sent_total')).toBe(0);
    expect(m.get('vitalwire_fanout_slow_client_drops_total{reason="wave"}')).toBe(0);
    expect(m.has('vitalwire_fanout_audit_queue_bytes')).toBe(true);
    expect(m.get('vitalwire_fanout_audit_available')).toBe(1);
    expect(m.get('vitalwire_fanout_devices')).toBe(1);
    s.ws.close();
    await waitFor(() => rig.fanout.counters.clients === 0, 5000, 'the client gone');
    // A client's deliveries stay counted after it goes.
    expect((await scrape()).get('vitalwire_fanout_deliveries_total{kind="wave"}')).toBe(2);
  });
});
