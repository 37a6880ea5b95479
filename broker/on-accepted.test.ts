// The broker's hook for the central's archive (hooks/authorize-publish.ts `onAccepted`): a QoS 1 PUBLISH is
// acknowledged only once the hook's `done()` fired, and `done(err)` leaves it unacknowledged, with the connection
// closed, so the publisher sends it again after reconnecting. Real TLS, real mqtt.js gateway clients.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publish, vitalsBatch } from '../archive/test-kit.js';
import { VitalwireError } from '../lib/errors.js';
import { startBroker } from './broker.js';
import type { OnAccepted } from './hooks/authorize-publish.js';
import { Clients, closed, makeTestPki, until, type TestPki } from './test-kit.js';

let dir: string;
let pki: TestPki;
let clients: Clients | null = null;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-on-accepted-'));
  pki = await makeTestPki(dir);
});
afterEach(async () => {
  await clients?.endAll();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A hook that holds every `done` until the test releases it. */
function heldHook(): {
  hook: OnAccepted;
  calls: { topic: string; payload: string; done: (err?: Error | null) => void }[];
} {
  const calls: { topic: string; payload: string; done: (err?: Error | null) => void }[] = [];
  return {
    calls,
    hook: (topic, payload, done) => calls.push({ topic, payload: Buffer.from(payload).toString('hex'), done }),
  };
}

// Stream payloads are contract-valid Batches of their topic: the broker refuses anything else where it enters.
const m = { site: 'site1', gateway: 'gw1', device: 'm' };
const T = Date.UTC(2026, 0, 1) * 1000;
const batch = (seq: number) => vitalsBatch(m, seq, T + seq * 1e6, { hr: 60 + seq });
const hex = (b: { payload: Uint8Array }) => Buffer.from(b.payload).toString('hex');

describe('broker onAccepted: the PUBACK waits for the archive', () => {
  it('acknowledges a QoS 1 PUBLISH only after done(), and routes it meanwhile', async () => {
    const { hook, calls } = heldHook();
    const b = await startBroker({ port: 0, tls: pki.brokerTls, onAccepted: hook });
    try {
      const routed: string[] = [];
      await new Promise<void>((r) =>
        b.aedes.subscribe('vw/v1/#', (p, cb) => (routed.push(Buffer.from(p.payload).toString('hex')), cb()), r),
      );
      clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${b.port}`);
      const gw = await clients.gateway(pki.site1gw1, 'site1/gw1');
      let acked = false;
      const b1 = batch(1);
      const pub = gw.publishAsync(b1.topic, Buffer.from(b1.payload), { qos: 1 }).then(() => (acked = true));
      await until(() => calls.length === 1 && routed.length === 1, 5000, 'hook called and message routed');
      expect(calls[0]).toMatchObject({ topic: 'vw/v1/site1/gw1/m/obs', payload: hex(b1) });
      expect(routed).toEqual([hex(b1)]);
      // Routed to subscribers (the live dashboard does not wait for the disk), but not acknowledged.
      await new Promise((r) => setTimeout(r, 200));
      expect(acked).toBe(false);
      calls[0]?.done();
      await pub;
      expect(acked).toBe(true);
    } finally {
      await b.close();
    }
  });

  it('on done(err) sends no PUBACK and closes the connection; the client resends after reconnecting', async () => {
    const { hook, calls } = heldHook();
    const b = await startBroker({ port: 0, tls: pki.brokerTls, onAccepted: hook });
    try {
      clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${b.port}`);
      // mqtt.js keeps an unacknowledged QoS 1 message and sends it again once it is connected again.
      const gw = await clients.gateway(pki.site1gw1, 'site1/gw1', { reconnectPeriod: 100 });
      let acked = false;
      const b2 = batch(2);
      const pub = gw.publishAsync(b2.topic, Buffer.from(b2.payload), { qos: 1 }).then(() => (acked = true));
      await until(() => calls.length === 1, 5000, 'hook called');
      const gone = closed(gw);
      calls[0]?.done(new VitalwireError('VW_ERR_ARCHIVE_FULL', 'journal full'));
      await gone;
      expect(acked).toBe(false);
      expect(b.counters.disconnects['archive-refused']).toBe(1);
      expect(b.counters.refusedPublishes['archive-refused']).toBe(1);
      // The resend after the reconnect: the same message again, acknowledged once the archive takes it.
      await until(() => calls.length === 2, 5000, 'message sent again after the reconnect');
      expect(calls[1]?.payload).toBe(hex(b2));
      calls[1]?.done();
      await pub;
      expect(acked).toBe(true);
    } finally {
      await b.close();
    }
  });

  it('hands QoS 0 messages and Wills to the hook without holding anything', async () => {
    const { hook, calls } = heldHook();
    const b = await startBroker({ port: 0, tls: pki.brokerTls, onAccepted: hook });
    try {
      clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${b.port}`);
      const will = publish({ site: 'site1', gateway: 'gw1', device: '_gateway' }, 'status', 1, {});
      const q0 = batch(3);
      const gw = await clients.gateway(pki.site1gw1, 'site1/gw1', {
        will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: false },
      });
      await gw.publishAsync(q0.topic, Buffer.from(q0.payload), { qos: 0 });
      await until(() => calls.length === 1, 5000, 'QoS 0 message handed over');
      // The Will: published when the connection drops without DISCONNECT.
      gw.stream.destroy();
      await until(() => calls.length === 2, 5000, 'Will handed over');
      expect(calls.map((c) => [c.topic, c.payload])).toEqual([
        ['vw/v1/site1/gw1/m/obs', hex(q0)],
        ['vw/v1/site1/gw1/_gateway/status', hex(will)],
      ]);
    } finally {
      await b.close();
    }
  });
});
