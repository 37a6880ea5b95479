// The broker's behavioural suite: every configuration (single node in memory, Redis-backed) runs these same tests
// over real TLS with real mqtt.js clients, so a backend cannot quietly change what the broker permits.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AedesPublishPacket } from 'aedes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, BrokerOptions } from './broker.js';
import { total } from './metrics.js';
import { staticRevocationList } from './revocation.js';
import { commandFilter, commandTopic } from '../lib/topics.js';
import { Batch } from '../proto/index.js';
import {
  batch,
  Clients,
  closed,
  diagnosisOf,
  granted,
  makeTestPki,
  nextMessage,
  sizedBatch,
  statusBatch,
  testUsers,
  until,
  type TestPki,
} from './test-kit.js';
import { createUserStore } from './users.js';

export type StartBroker = (o: Pick<BrokerOptions, 'tls' | 'users' | 'revocation' | 'limits'>) => Promise<Broker>;

/**
 * `busRouting`: messages reach even in-process subscribers through an external bus (Redis
 * pub/sub), so "routed before the PUBACK" means handed to the bus and stored, and the local
 * delivery arrives after the PUBACK.
 */
export function describeBrokerBehaviour(
  label: string,
  start: StartBroker,
  skip: string | null = null,
  busRouting = false,
): void {
  const d = skip ? describe.skip : describe;
  d(`broker behaviour: ${label}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let dir: string;
    let pki: TestPki;
    let central: Broker;
    let k: Clients;
    const refused = (reason: string): number => central.counters.refusedConnects[reason] ?? 0;
    const refusedPub = (reason: string): number => central.counters.refusedPublishes[reason] ?? 0;
    const refusedSub = (reason: string): number => central.counters.refusedSubscribes[reason] ?? 0;
    const uniq = (): string => Math.random().toString(36).slice(2, 8);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vw-behaviour-'));
      pki = await makeTestPki(dir);
      central = await start({
        tls: pki.brokerTls,
        users: createUserStore(await testUsers()),
        revocation: staticRevocationList(pki.revokedSerials),
        limits: { maxPacketBytes: 64 * 1024 },
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

    describe('authentication', () => {
      it('carries a gateway QoS 1 publish to an observer of its site, byte for byte', async () => {
        const obs = await k.user('obs1');
        expect(await granted(obs, 'vw/v1/site1/#')).toEqual([1]);
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        const got = nextMessage(obs);
        const payload = batch('vw/v1/site1/gw1/mon-1/obs', {
          seq: 9,
          observations: [{ mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', number: 97, unit: '%' }],
        });
        await gw.publishAsync('vw/v1/site1/gw1/mon-1/obs', payload, { qos: 1 });
        const m = await got;
        expect(m.topic).toBe('vw/v1/site1/gw1/mon-1/obs');
        expect(m.payload.equals(payload)).toBe(true);
        expect(central.counters.connections.gateway).toBe(1);
        expect(central.counters.connections.observer).toBe(1);
      });

      it('refuses plain MQTT on the TLS port at the handshake', async () => {
        const before = refused('tls-handshake');
        await expect(k.connect(k.base({ clientId: 'plain' }), `mqtt://127.0.0.1:${central.port}`)).rejects.toThrow();
        await until(() => refused('tls-handshake') > before);
      });

      it('refuses no credentials (5), a wrong password and an unknown user alike (4)', async () => {
        const before = { ...central.counters.refusedConnects };
        expect(await k.refusedCode(k.base({ clientId: 'anon' }))).toBe(5);
        expect(await k.refusedCode(k.base({ username: 'obs1', password: 'pw-obsall', clientId: 'obs1' }))).toBe(4);
        expect(await k.refusedCode(k.base({ username: 'mallory', password: 'pw-obs1', clientId: 'mallory' }))).toBe(4);
        expect(refused('no-credentials')).toBe((before['no-credentials'] ?? 0) + 1);
        expect(refused('bad-password')).toBe((before['bad-password'] ?? 0) + 1);
        expect(refused('unknown-user')).toBe((before['unknown-user'] ?? 0) + 1);
      });

      it('refuses a foreign, an expired and a revoked gateway certificate (5), even with a valid password beside it', async () => {
        const cases: [keyof TestPki, string][] = [
          ['foreign', 'tls-cert-unverified'],
          ['expired', 'tls-cert-expired'],
          ['revoked', 'tls-cert-revoked'],
        ];
        for (const [which, reason] of cases) {
          const pem = pki[which] as { certPem: string; keyPem: string };
          const before = refused(reason);
          expect(
            await k.refusedCode(k.base({ cert: pem.certPem, key: pem.keyPem, clientId: 'site1/gw1' })),
            which,
          ).toBe(5);
          expect(
            await k.refusedCode(
              k.base({
                cert: pem.certPem,
                key: pem.keyPem,
                clientId: 'obsall',
                username: 'obsall',
                password: 'pw-obsall',
              }),
            ),
            which,
          ).toBe(5);
          expect(refused(reason), which).toBe(before + 2);
        }
      });
    });

    describe('client ids are bound to identities', () => {
      it('refuses a gateway claiming another id (2)', async () => {
        const before = refused('client-id-mismatch');
        for (const clientId of ['site1/gw2', 'site1/gw10', 'site1/gw1x', 'site2/gw1', 'gw1', 'obs1']) {
          expect(
            await k.refusedCode(k.base({ cert: pki.site1gw1.certPem, key: pki.site1gw1.keyPem, clientId })),
            clientId,
          ).toBe(2);
        }
        expect(refused('client-id-mismatch')).toBe(before + 6);
      });

      it("refuses a user taking over a gateway's or another user's session (2), and leaves the victim connected", async () => {
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        const victim = await k.user('obs1', { clientId: 'obs1:dash' });
        const before = refused('client-id-mismatch');
        expect(await k.refusedCode(k.base({ username: 'obsall', password: 'pw-obsall', clientId: 'site1/gw1' }))).toBe(
          2,
        );
        expect(await k.refusedCode(k.base({ username: 'obsall', password: 'pw-obsall', clientId: 'obs1:dash' }))).toBe(
          2,
        );
        expect(await k.refusedCode(k.base({ username: 'obsall', password: 'pw-obsall', clientId: 'obs1' }))).toBe(2);
        expect(refused('client-id-mismatch')).toBe(before + 3);
        // Both still answer: a round trip on each proves the connection survived.
        await gw.publishAsync('vw/v1/site1/gw1/x/status', statusBatch('vw/v1/site1/gw1/x/status', 'alive'), { qos: 1 });
        expect(await granted(victim, 'vw/v1/site1/#')).toEqual([1]);
      });

      it('lets the same identity take its own session over ([MQTT-3.1.4-2])', async () => {
        const first = await k.gateway(pki.site1gw1, 'site1/gw1');
        const gone = closed(first);
        await k.gateway(pki.site1gw1, 'site1/gw1');
        await gone;
      });

      it('accepts a server-assigned id for a clean user session and sub-ids below a gateway', async () => {
        const u = await k.connect(k.base({ username: 'obs1', password: 'pw-obs1', clientId: '', clean: true }));
        expect(u.connected).toBe(true);
        expect((await k.gateway(pki.site1gw1, 'site1/gw1/outbox')).connected).toBe(true);
      });
    });

    describe('authorisation, deny by default', () => {
      it('disconnects a gateway publishing cross-site or cross-gateway, counts it, and delivers nothing', async () => {
        const obs = await k.user('obsall');
        const seen: string[] = [];
        obs.on('message', (t) => seen.push(t));
        await obs.subscribeAsync('vw/v1/#', { qos: 1 });
        for (const topic of ['vw/v1/site2/gw1/mon/obs', 'vw/v1/site1/gw2/mon/obs']) {
          const before = refusedPub('topic-not-allowed');
          const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
          const gone = closed(gw);
          gw.publish(topic, batch(topic), { qos: 1 });
          await gone;
          expect(refusedPub('topic-not-allowed')).toBe(before + 1);
        }
        const site2 = await k.gateway(pki.site2gw1, 'site2/gw1');
        const marker = nextMessage(obs);
        await site2.publishAsync('vw/v1/site2/gw1/mon/obs', batch('vw/v1/site2/gw1/mon/obs'), { qos: 1 });
        expect((await marker).topic).toBe('vw/v1/site2/gw1/mon/obs');
        expect(seen).toEqual(['vw/v1/site2/gw1/mon/obs']);
      });

      it('refuses observers and services publishing', async () => {
        for (const name of ['obsall', 'svc']) {
          const before = refusedPub('topic-not-allowed');
          const u = await k.user(name);
          const gone = closed(u);
          u.publish('vw/v1/site1/gw1/mon/obs', batch('vw/v1/site1/gw1/mon/obs'), { qos: 1 });
          await gone;
          expect(refusedPub('topic-not-allowed'), name).toBe(before + 1);
        }
      });

      it('answers out-of-scope and malformed subscriptions with 0x80, keeps the connection, and counts each', async () => {
        const before = refusedSub('topic-not-allowed');
        const scoped = await k.user('obs1');
        expect(await granted(scoped, 'vw/v1/#')).toEqual([128]);
        expect(await granted(scoped, '#')).toEqual([128]);
        expect(await granted(scoped, 'vw/v1/+/gw1/#', 0)).toEqual([128]);
        expect(await granted(scoped, { 'vw/v1/site1/#': { qos: 1 }, 'vw/v1/site2/#': { qos: 1 } })).toEqual([1, 128]);
        expect(await granted(scoped, '$SYS/#', 0)).toEqual([128]);
        expect(scoped.connected).toBe(true);
        expect(await granted(scoped, 'vw/v1/site1/gw1/+/obs', 0)).toEqual([0]);
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        expect(await granted(gw, commandFilter('site1', 'gw1'))).toEqual([1]);
        expect(await granted(gw, 'vw/v1/site1/#')).toEqual([128]);
        expect(await granted(gw, 'vwcmd/v1/site1/+/#')).toEqual([128]);
        expect(await granted(gw, commandFilter('site1', 'gw2'))).toEqual([128]);
        expect(refusedSub('topic-not-allowed')).toBe(before + 8);
      });

      it('keeps retained messages to the same rules: out of scope refused and counted, in scope kept for its site only', async () => {
        const t = uniq();
        const before = refusedPub('retained-topic-not-allowed');
        const bad = await k.gateway(pki.site1gw1, 'site1/gw1');
        const gone = closed(bad);
        bad.publish(`vw/v1/site2/gw1/${t}/status`, statusBatch(`vw/v1/site2/gw1/${t}/status`, 'forged'), {
          qos: 1,
          retain: true,
        });
        await gone;
        expect(refusedPub('retained-topic-not-allowed')).toBe(before + 1);

        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        await gw.publishAsync(`vw/v1/site1/gw1/${t}/status`, statusBatch(`vw/v1/site1/gw1/${t}/status`, 'online'), {
          qos: 1,
          retain: true,
        });
        const site1 = await k.user('obs1');
        const got = nextMessage(site1);
        await site1.subscribeAsync(`vw/v1/site1/gw1/${t}/status`, { qos: 1 });
        const m = await got;
        expect(m.retain).toBe(true);
        expect(diagnosisOf(m.payload)).toBe('online');
        // The forged retained message never got stored: a subscriber of site2 sees nothing retained there.
        const all = await k.user('obsall');
        const seen: string[] = [];
        all.on('message', (topic) => seen.push(topic));
        await all.subscribeAsync(`vw/v1/site2/gw1/${t}/status`, { qos: 1 });
        await all.subscribeAsync(`vw/v1/site1/gw1/${t}/status`, { qos: 1 }); // its retained copy marks "retained sent"
        await until(() => seen.length > 0);
        expect(seen).toEqual([`vw/v1/site1/gw1/${t}/status`]);
        await gw.publishAsync(`vw/v1/site1/gw1/${t}/status`, Buffer.alloc(0), { qos: 1, retain: true }); // clear it
      });

      it('refuses a Will outside the identity scope at CONNECT, and publishes one inside it when the gateway vanishes', async () => {
        const t = uniq();
        const before = refused('will-denied');
        const will = {
          topic: `vw/v1/site2/gw1/${t}/status`,
          payload: statusBatch(`vw/v1/site2/gw1/${t}/status`, 'offline'),
          qos: 1 as const,
          retain: false,
        };
        expect(
          await k.refusedCode(
            k.base({ cert: pki.site1gw1.certPem, key: pki.site1gw1.keyPem, clientId: 'site1/gw1', will }),
          ),
        ).toBe(5);
        expect(
          await k.refusedCode(k.base({ username: 'obsall', password: 'pw-obsall', clientId: 'obsall', will })),
        ).toBe(5);
        expect(refused('will-denied')).toBe(before + 2);

        const obs = await k.user('obs1');
        await obs.subscribeAsync(`vw/v1/site1/gw1/${t}/status`, { qos: 1 });
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1', {
          will: {
            topic: `vw/v1/site1/gw1/${t}/status`,
            payload: statusBatch(`vw/v1/site1/gw1/${t}/status`, 'offline'),
            qos: 1,
            retain: false,
          },
        });
        const got = nextMessage(obs);
        gw.stream.destroy(); // no DISCONNECT: the broker must publish the Will [MQTT-3.1.2-8]
        expect(diagnosisOf((await got).payload)).toBe('offline');
      });

      it('lets an admin command the gateways of its sites only; the gateway receives on its own command topic', async () => {
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        await gw.subscribeAsync(commandFilter('site1', 'gw1'), { qos: 1 });
        const admin = await k.user('admin1');
        const got = nextMessage(gw);
        await admin.publishAsync(commandTopic('site1', 'gw1', 'identify'), 'blink', { qos: 1 });
        expect((await got).topic).toBe('vwcmd/v1/site1/gw1/identify');
        const before = refusedPub('topic-not-allowed');
        const gone = closed(admin);
        admin.publish(commandTopic('site2', 'gw1', 'identify'), 'blink', { qos: 1 });
        await gone;
        expect(refusedPub('topic-not-allowed')).toBe(before + 1);
      });

      it("shows $SYS (every site's client ids) to admins of all sites only, not to an admin of one site", async () => {
        // Issue 14: a site-scoped admin subscribed to $SYS/# and read the client ids of every site's gateways and users.
        const scoped = await k.user('admin1');
        expect(await granted(scoped, '$SYS/#', 0)).toEqual([128]);
        expect(await granted(scoped, '$SYS/+/new/clients', 0)).toEqual([128]);
        const global = await k.user('adminall');
        expect(await granted(global, '$SYS/+/new/clients', 0)).toEqual([0]);
        const announced = new Promise<string>((resolve) =>
          global.on('message', (topic, payload) => {
            if (/^\$SYS\/[^/]+\/new\/clients$/.test(topic) && payload.toString() === 'site1/gw1/sys-probe')
              resolve(payload.toString());
          }),
        );
        await k.gateway(pki.site1gw1, 'site1/gw1/sys-probe');
        expect(await announced).toBe('site1/gw1/sys-probe');
      });

      it('never lets an admin inject a stream: vw/v1/<site>/<gw>/cmd/obs is refused, and commands reach no reader of streams', async () => {
        // Issue 14: an admin's `vw/v1/site1/gw1/cmd/obs` was an allowed command and a valid stream topic of a device
        // "cmd": every reader of vw/v1/ (the fan-out, an observer) took it for a bed with the values the admin chose.
        const obs = await k.user('obsall');
        const seen: string[] = [];
        obs.on('message', (topic) => seen.push(topic));
        await obs.subscribeAsync('vw/v1/#', { qos: 1 });
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        await gw.subscribeAsync(commandFilter('site1', 'gw1'), { qos: 1 });
        const admin = await k.user('admin1');
        const before = refusedPub('topic-not-allowed');
        const gone = closed(admin);
        admin.publish('vw/v1/site1/gw1/cmd/obs', 'a fake bed', { qos: 1 });
        await gone;
        expect(refusedPub('topic-not-allowed')).toBe(before + 1);
        // A command, even one named like a stream kind, goes to the gateway and to no reader of streams.
        const admin2 = await k.user('admin1');
        const got = nextMessage(gw);
        await admin2.publishAsync(commandTopic('site1', 'gw1', 'obs'), 'a command', { qos: 1 });
        expect((await got).topic).toBe('vwcmd/v1/site1/gw1/obs');
        // A marker on a stream the observer reads proves its deliveries are flowing up to here.
        const t = uniq();
        const marker = nextMessage(obs, `vw/v1/site1/gw1/${t}/obs`);
        await gw.publishAsync(`vw/v1/site1/gw1/${t}/obs`, batch(`vw/v1/site1/gw1/${t}/obs`), { qos: 1 });
        await marker;
        expect(seen).toEqual([`vw/v1/site1/gw1/${t}/obs`]);
      });
    });

    describe('sessions', () => {
      it('keeps QoS 1 messages for a persistent subscriber while it is away', async () => {
        const t = uniq();
        const id = `svc:persist-${t}`;
        const s1 = await k.user('svc', { clientId: id, clean: false });
        await s1.subscribeAsync(`vw/v1/site1/gw1/${t}/obs`, { qos: 1 });
        await s1.endAsync();
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        for (let i = 1; i <= 5; i++)
          await gw.publishAsync(`vw/v1/site1/gw1/${t}/obs`, batch(`vw/v1/site1/gw1/${t}/obs`, { seq: i }), { qos: 1 });
        const got: string[] = [];
        const s2 = k.track(
          await import('mqtt').then((m) =>
            m.default.connect(
              k.url,
              k.base({
                username: 'svc',
                password: 'pw-svc',
                clientId: id,
                clean: false,
              }),
            ),
          ),
        );
        s2.on('message', (_t, p) => got.push(String(Batch.decode(p).seq)));
        await until(() => got.length >= 5);
        expect(got).toEqual(['1', '2', '3', '4', '5']);
        await s2.endAsync();
        // Clean the session so a rerun starts fresh.
        await (await k.user('svc', { clientId: id, clean: true })).endAsync();
      });

      it('stores and routes a QoS 1 message before it PUBACKs ([MQTT-4.3.2-2])', async () => {
        const t = uniq();
        const seen: string[] = [];
        const deliver = (packet: AedesPublishPacket, cb: () => void): void => {
          seen.push(packet.topic);
          cb();
        };
        await new Promise<void>((r) => central.aedes.subscribe(`vw/v1/site1/gw1/${t}/obs`, deliver, r));
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        await gw.publishAsync(`vw/v1/site1/gw1/${t}/obs`, batch(`vw/v1/site1/gw1/${t}/obs`), { qos: 1 });
        // Single node: already delivered when the PUBACK arrived. Over a bus: on its way back from it.
        if (busRouting) await until(() => seen.length > 0, 5000, 'delivery through the bus');
        expect(seen).toEqual([`vw/v1/site1/gw1/${t}/obs`]);
        await new Promise<void>((r) => central.aedes.unsubscribe(`vw/v1/site1/gw1/${t}/obs`, deliver, r));
      });
    });

    describe('limits', () => {
      it('closes a client sending a packet above maxPacketBytes, before buffering it, delivering nothing', async () => {
        const max = central.limits.maxPacketBytes;
        const obs = await k.user('obs1');
        const sizes: number[] = [];
        obs.on('message', (_t, p) => sizes.push(p.length));
        await obs.subscribeAsync('vw/v1/site1/gw1/big/wave', { qos: 1 });
        const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
        const fits = nextMessage(obs);
        await gw.publishAsync('vw/v1/site1/gw1/big/wave', sizedBatch('vw/v1/site1/gw1/big/wave', max - 100), {
          qos: 1,
        });
        expect((await fits).payload.length).toBe(max - 100);
        const before = {
          pub: refusedPub('packet-too-large'),
          disc: central.counters.disconnects['packet-too-large'] ?? 0,
          in: central.counters.messagesIn,
        };
        const gone = closed(gw);
        gw.publish('vw/v1/site1/gw1/big/wave', sizedBatch('vw/v1/site1/gw1/big/wave', max + 1), { qos: 1 });
        await gone;
        expect(refusedPub('packet-too-large')).toBe(before.pub + 1);
        expect(central.counters.disconnects['packet-too-large']).toBe(before.disc + 1);
        expect(central.counters.messagesIn).toBe(before.in);
        expect(sizes).toEqual([max - 100]);
      });
    });

    describe('observability', () => {
      it('exposes its counters as Prometheus metrics and reports healthy', async () => {
        const text = await central.metrics.metrics();
        expect(text).toMatch(/vitalwire_broker_refused_connects_total\{reason="bad-password",broker="[^"]+"\} [1-9]/);
        expect(text).toContain('vitalwire_broker_messages_in_total');
        expect(text).toMatch(/vitalwire_broker_connections\{role="gateway"/);
        expect(central.health().status).toBe('ok');
        expect(total(central.counters.refusedPublishes)).toBeGreaterThan(0);
      });
    });
  });
}
