// Issue 14, finding 11: a payload that does not decode as the contract says is refused where it enters. Before, the
// broker carried any bytes a gateway sent on its stream topics to every reader, another gateway's Source included. A
// real TLS broker, real gateway certificates, an observer that would have received what got through.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/log.js';
import { Batch, Kind } from '../proto/index.js';
import { startBroker, type Broker } from './broker.js';
import {
  batch,
  Clients,
  closed,
  makeTestPki,
  nextMessage,
  statusBatch,
  testUsers,
  until,
  type TestPki,
} from './test-kit.js';
import { createUserStore } from './users.js';

let dir: string;
let pki: TestPki;
let k: Clients;
let central: Broker;
const lines: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-payload-check-'));
  pki = await makeTestPki(dir);
  central = await startBroker({
    port: 0,
    tls: pki.brokerTls,
    users: createUserStore(await testUsers()),
    logger: createLogger('test', 'info', { write: (s: string) => void lines.push(s) }),
  });
  k = new Clients(pki.caPem, `mqtts://127.0.0.1:${central.port}`);
});
afterEach(async () => {
  await k.endAll();
});
afterAll(async () => {
  await central?.close();
  await rm(dir, { recursive: true, force: true });
});

const T = 'vw/v1/site1/gw1/bed01/obs';

describe('stream payloads checked where they enter', () => {
  it.each([
    ['JSON where a Batch belongs', Buffer.from('{"hr":72}'), 'bad-tag'], // '{' is field 15 with wire type 3, a group
    [
      'a Batch cut short',
      batch(T, { observations: [{ mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', number: 97, unit: '%' }] }).subarray(
        0,
        30,
      ),
      'truncated',
    ],
    ["another gateway's Batch", batch('vw/v1/site1/gw2/bed01/obs'), 'source-mismatch'],
    ["another bed's Batch", batch('vw/v1/site1/gw1/bed02/obs'), 'source-mismatch'],
    ['a status Batch on the obs stream', batch('vw/v1/site1/gw1/bed01/status'), 'kind-mismatch'],
    ['an empty payload', Buffer.alloc(0), 'source-mismatch'],
  ])(
    'refuses %s: closes without PUBACK, delivers nothing, counts it against the gateway and logs what is wrong',
    async (_what, payload, problem) => {
      const obs = await k.user('obs1');
      const seen: Buffer[] = [];
      obs.on('message', (_t, p) => seen.push(p));
      await obs.subscribeAsync('vw/v1/site1/#', { qos: 1 });
      const before = {
        pub: central.counters.refusedPublishes['payload-invalid'] ?? 0,
        gw: central.counters.invalidPayloads['site1/gw1'] ?? 0,
      };
      const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
      const gone = closed(gw);
      let acked = false;
      gw.publish(T, payload, { qos: 1 }, (err) => {
        if (!err) acked = true;
      });
      await gone;
      expect(acked).toBe(false);
      expect(central.counters.refusedPublishes['payload-invalid']).toBe(before.pub + 1);
      expect(central.counters.invalidPayloads['site1/gw1']).toBe(before.gw + 1);
      // Nothing reached the observer: a valid Batch from another gateway, sent after, is the first thing it gets.
      const gw2 = await k.gateway(pki.site1gw2, 'site1/gw2');
      const next = nextMessage(obs);
      await gw2.publishAsync('vw/v1/site1/gw2/bed01/obs', batch('vw/v1/site1/gw2/bed01/obs'), { qos: 1 });
      await next;
      expect(seen).toHaveLength(1);
      // Logged with the gateway, the topic and the problem: the first of each problem per interval (rate-limited).
      const logged = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['event'] === 'publish_refused' && l['reason'] === 'payload-invalid');
      expect(
        logged.some((l) => l['identity'] === 'gateway site1/gw1' && l['topic'] === T && l['problem'] === problem),
      ).toBe(true);
    },
  );

  it('carries a valid Batch byte for byte, and lets an empty retained payload delete a retained status', async () => {
    const obs = await k.user('obs1');
    await obs.subscribeAsync('vw/v1/site1/gw1/bed01/+', { qos: 1 });
    const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
    const payload = Buffer.from(
      Batch.encode({
        source: { site: 'site1', gateway: 'gw1', device: 'bed01', bed: 'Giường 3' },
        kind: Kind.KIND_OBS,
        seq: 7,
        observations: [{ mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', number: 97, unit: '%' }],
      }).finish(),
    );
    const got = nextMessage(obs, T);
    await gw.publishAsync(T, payload, { qos: 1 });
    expect((await got).payload.equals(payload)).toBe(true);
    const s = 'vw/v1/site1/gw1/bed01/status';
    await gw.publishAsync(s, statusBatch(s, 'up'), { qos: 1, retain: true });
    await gw.publishAsync(s, Buffer.alloc(0), { qos: 1, retain: true });
    expect(gw.connected).toBe(true);
  });

  it('refuses a gateway whose Will on a stream topic is no Batch of that topic, at CONNECT (5, will-invalid)', async () => {
    const before = central.counters.refusedConnects['will-invalid'] ?? 0;
    const will = {
      topic: 'vw/v1/site1/gw1/_gateway/status',
      payload: Buffer.from('offline'),
      qos: 1 as const,
      retain: true,
    };
    expect(
      await k.refusedCode(
        k.base({ cert: pki.site1gw1.certPem, key: pki.site1gw1.keyPem, clientId: 'site1/gw1', will }),
      ),
    ).toBe(5);
    expect(central.counters.refusedConnects['will-invalid']).toBe(before + 1);
    // The gateway's own Will, as gateway/publisher.ts builds it (a DISCONNECTED status of _gateway), is accepted.
    const good = { ...will, payload: statusBatch('vw/v1/site1/gw1/_gateway/status', 'gone', 0) };
    const gw = await k.gateway(pki.site1gw1, 'site1/gw1', { will: good });
    expect(gw.connected).toBe(true);
  });

  it('exposes invalid_payloads per gateway on /metrics', async () => {
    await until(() => (central.counters.invalidPayloads['site1/gw1'] ?? 0) > 0, 1000, 'counted');
    const text = await central.metrics.metrics();
    expect(text).toMatch(/vitalwire_broker_invalid_payloads_total\{gateway="site1\/gw1",broker="[^"]+"\} [1-9]/);
  });
});
