// Scale-out on a real redis-server (test/global-setup.ts): the shared behavioural suite on the Redis backend, two
// brokers sharing traffic, retained messages and sessions, and a broker killed with SIGKILL while QoS 1 traffic
// flows, its clients reconnecting to the other without losing a message: once with the clients choosing, once
// through a real haproxy running deploy/haproxy.cfg (addresses changed, nothing else).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeBrokerBehaviour } from './behaviour.js';
import { startBroker, type Broker } from './broker.js';
import { Batch } from '../proto/index.js';
import {
  batch,
  Clients,
  closed,
  diagnosisOf,
  makeTestPki,
  nextMessage,
  startCentralProcess,
  statusBatch,
  testUsers,
  until,
  type TestPki,
} from './test-kit.js';
import { startRedisServer, type TestRedis } from '../test/redis-server.js';
import { freePort } from '../lib/listen.js';
import { writeUsersFile } from './users-file.js';
import { createUserStore } from './users.js';

// The run's redis-server (test/global-setup.ts) tells whether Redis is here at all. These suites then start one of
// their own: their takeovers, SIGKILLs and fixed client ids (site1/gw1) must not meet other files' brokers, and Redis
// pub/sub channels are shared across a server's databases.
const skip = inject('redisUrl') ? null : inject('redisSkipReason');
let redis: TestRedis | null = null;
let url = 'redis://127.0.0.1:1';

beforeAll(async () => {
  if (skip) return;
  redis = await startRedisServer();
  url = redis.url;
  const r = new Redis(url);
  expect(await r.ping()).toBe('PONG');
  r.disconnect();
});
afterAll(async () => {
  await redis?.stop();
});

describeBrokerBehaviour(
  'Redis-backed (aedes-persistence-redis 12, the Redis emitter)',
  (o) => startBroker({ port: 0, ...o, redis: { url } }),
  skip,
  true,
);

const d = skip ? describe.skip : describe;

d(`two brokers on one Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let pki: TestPki;
  let b1: Broker;
  let b2: Broker;
  let k1: Clients;
  let k2: Clients;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-cluster-'));
    pki = await makeTestPki(dir);
    const users = await testUsers();
    b1 = await startBroker({
      port: 0,
      tls: pki.brokerTls,
      users: createUserStore(users),
      redis: { url },
      http: { port: 0 },
    });
    b2 = await startBroker({ port: 0, tls: pki.brokerTls, users: createUserStore(users), redis: { url } });
    k1 = new Clients(pki.caPem, `mqtts://127.0.0.1:${b1.port}`);
    k2 = new Clients(pki.caPem, `mqtts://127.0.0.1:${b2.port}`);
  });
  afterEach(async () => {
    await Promise.all([k1.endAll(), k2.endAll()]);
  });
  afterAll(async () => {
    await b1?.close();
    await b2?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries a gateway on broker 1 to a subscriber on broker 2, and reports Redis in health', async () => {
    const obs = await k2.user('obs1');
    await obs.subscribeAsync('vw/v1/site1/#', { qos: 1 });
    const gw = await k1.gateway(pki.site1gw1, 'site1/gw1');
    const got = nextMessage(obs);
    await gw.publishAsync('vw/v1/site1/gw1/bed01/status', statusBatch('vw/v1/site1/gw1/bed01/status', 'across'), {
      qos: 1,
    });
    expect(diagnosisOf((await got).payload)).toBe('across');
    const h = (await (await fetch(`http://127.0.0.1:${b1.httpPort}/healthz`)).json()) as {
      redis: string;
      mode: string;
    };
    expect(h).toMatchObject({ redis: 'ready', mode: 'redis' });
    // Every frame between the two was understood: the bus counter is exported and still 0.
    const metrics = await (await fetch(`http://127.0.0.1:${b1.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^vitalwire_broker_bus_bad_frames_total\{broker="[^"]+"\} 0$/m);
  });

  it('shares retained messages between brokers', async () => {
    const gw = await k1.gateway(pki.site1gw1, 'site1/gw1');
    await gw.publishAsync('vw/v1/site1/gw1/shared/status', statusBatch('vw/v1/site1/gw1/shared/status', 'online'), {
      qos: 1,
      retain: true,
    });
    const obs = await k2.user('obs1');
    const got = nextMessage(obs);
    await obs.subscribeAsync('vw/v1/site1/gw1/shared/status', { qos: 1 });
    const m = await got;
    expect([diagnosisOf(m.payload), m.retain]).toEqual(['online', true]);
    await gw.publishAsync('vw/v1/site1/gw1/shared/status', Buffer.alloc(0), { qos: 1, retain: true });
  });

  it('takes a session over across brokers: the same client id on broker 2 closes it on broker 1', async () => {
    const first = await k1.gateway(pki.site1gw1, 'site1/gw1');
    const gone = closed(first);
    await k2.gateway(pki.site1gw1, 'site1/gw1');
    await gone;
  });

  it('moves a persistent session: queued on broker 2 while away, delivered after reconnecting there', async () => {
    const id = 'svc:moving';
    const s = await k1.user('svc', { clientId: id, clean: false });
    await s.subscribeAsync('vw/v1/site1/gw1/moving/obs', { qos: 1 });
    await s.endAsync();
    const gw = await k2.gateway(pki.site1gw1, 'site1/gw1');
    for (let i = 1; i <= 3; i++)
      await gw.publishAsync('vw/v1/site1/gw1/moving/obs', batch('vw/v1/site1/gw1/moving/obs', { seq: i }), { qos: 1 });
    const got: string[] = [];
    const back = k2.track(
      mqtt.connect(k2.url, k2.base({ username: 'svc', password: 'pw-svc', clientId: id, clean: false })),
    );
    back.on('message', (_t, p) => got.push(String(Batch.decode(p).seq)));
    await until(() => got.length >= 3);
    expect(got).toEqual(['1', '2', '3']);
  });
});

/**
 * Publishes 1..n on `topic` at QoS 1, a few ms apart, and calls `kill` once after message `killAt` (mid-stream:
 * messages in flight both ways). Returns the number acknowledged so far, as a function.
 */
async function publishAcrossKill(
  gw: mqtt.MqttClient,
  topic: string,
  n: number,
  killAt: number,
  gapMs: number,
  kill: () => Promise<void>,
): Promise<() => number> {
  let acked = 0;
  for (let i = 1; i <= n; i++) {
    gw.publish(topic, batch(topic, { seq: i }), { qos: 1 }, (err) => {
      if (!err) acked++;
    });
    if (i === killAt) await kill();
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return () => acked;
}

d(`failover${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let pki: TestPki;
  const procs: Awaited<ReturnType<typeof startCentralProcess>>[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-failover-'));
    pki = await makeTestPki(dir);
    await writeFile(join(dir, 'broker.key'), pki.brokerTls.key, { mode: 0o600 });
    await writeFile(join(dir, 'broker.crt'), pki.brokerTls.cert);
    await writeUsersFile(join(dir, 'users.yaml'), await testUsers());
    await writeFile(
      join(dir, 'central.yaml'),
      [
        'listen: { host: 127.0.0.1, port: 0 }',
        `tls: { ca: ${pki.caFile}, cert: broker.crt, key: broker.key }`,
        'users: { file: users.yaml }',
        `redis: { url: "${url}" }`,
        'log: { level: warn }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGKILL one of two brokers: its gateway and subscriber reconnect to the other and no QoS 1 message is lost', async () => {
    const a = await startCentralProcess(['--config', join(dir, 'central.yaml')]);
    procs.push(a);
    const b = await startCentralProcess(['--config', join(dir, 'central.yaml')]);
    procs.push(b);
    // The load balancer's job, done by the clients: try A first, then B.
    const servers = [
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: b.port },
    ];
    const common = {
      ca: pki.caPem,
      protocolVersion: 4 as const,
      reconnectPeriod: 100,
      connectTimeout: 3000,
      servers,
      protocol: 'mqtts' as const,
    };
    const sub = mqtt.connect({
      ...common,
      username: 'svc',
      password: 'pw-svc',
      clientId: 'svc:failover',
      clean: false,
    });
    const seen = new Set<number>();
    sub.on('message', (_t, p) => seen.add(Batch.decode(p).seq));
    await new Promise<void>((r) => sub.once('connect', () => r()));
    await sub.subscribeAsync('vw/v1/site1/gw1/fo/obs', { qos: 1 });
    const gw = mqtt.connect({
      ...common,
      cert: pki.site1gw1.certPem,
      key: pki.site1gw1.keyPem,
      clientId: 'site1/gw1',
      clean: false,
    });
    await new Promise<void>((r) => gw.once('connect', () => r()));
    try {
      const N = 400;
      let killed = false;
      const acked = await publishAcrossKill(gw, 'vw/v1/site1/gw1/fo/obs', N, 150, 3, async () => {
        await until(() => seen.size >= 100, 10_000, 'traffic before the kill');
        a.child.kill('SIGKILL');
        killed = true;
      });
      expect(killed).toBe(true);
      await until(() => acked() === N, 20_000, `all ${N} publishes acknowledged`);
      await until(() => seen.size === N, 20_000, `subscriber saw all ${N}`);
      expect([...seen].sort((x, y) => x - y)).toEqual([...Array(N)].map((_, i) => i + 1));
    } finally {
      await Promise.all([gw.endAsync(true), sub.endAsync(true)]);
    }
  });

  const haproxySkip =
    spawnSync('haproxy', ['-v']).status === 0 ? null : '`haproxy -v` failed (apt-get install haproxy)';
  (haproxySkip ? it.skip : it)(
    `behind deploy/haproxy.cfg: a killed broker is marked down by /healthz and its clients land on the other${haproxySkip ? ` (skipped: ${haproxySkip})` : ''}`,
    async () => {
      // The previous test's survivor shares this Redis and the client id site1/gw1: it goes first.
      for (const p of procs.splice(0)) await p.stop();
      const base = await readFile(join(dir, 'central.yaml'), 'utf8');
      const brokers = await Promise.all(
        ['c1', 'c2'].map(async (name) => {
          const cfg = join(dir, `${name}.yaml`);
          await writeFile(cfg, `${base}http: { host: 127.0.0.1, port: 0 }\n`);
          const p = await startCentralProcess(['--config', cfg]);
          procs.push(p);
          return { p, http: Number(/health and metrics on http port (\d+)/.exec(p.out())?.[1]) };
        }),
      );
      // The shipped file with only its addresses changed: binds on free loopback ports, servers at the two processes
      // with their health ports (the per-server `port` overrides default-server's 9464).
      const mqttsPort = await freePort();
      const wssPort = await freePort();
      let cfg = await readFile(new URL('../deploy/haproxy.cfg', import.meta.url), 'utf8');
      cfg = cfg
        .replace('bind :8883', `bind 127.0.0.1:${mqttsPort}`)
        .replace('bind :8884', `bind 127.0.0.1:${wssPort}`)
        .replace('bind :8080', `bind 127.0.0.1:${await freePort()}`);
      brokers.forEach((b, i) => {
        cfg = cfg.replace(
          `server central${i + 1} central${i + 1}:8883`,
          `server central${i + 1} 127.0.0.1:${b.p.port} port ${b.http}`,
        );
        cfg = cfg.replace(
          `server central${i + 1} central${i + 1}:8884`,
          `server central${i + 1} 127.0.0.1:${b.p.port} port ${b.http}`,
        );
        cfg = cfg.replace(
          `server central${i + 1} central${i + 1}:8080`,
          `server central${i + 1} 127.0.0.1:${b.p.port} port ${b.http}`,
        );
      });
      expect(cfg).not.toMatch(/central\d:8\d\d\d|bind :/); // every address was found and changed
      const cfgFile = join(dir, 'haproxy.cfg');
      await writeFile(cfgFile, cfg);
      expect(spawnSync('haproxy', ['-c', '-q', '-f', cfgFile]).status).toBe(0);
      // -n: the file's maxconn 20000 needs 40k file descriptors, more than a test machine may allow; nothing else changes.
      const lb = spawn('haproxy', ['-db', '-n', '2000', '-f', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      let lbOut = '';
      lb.stdout.on('data', (b: Buffer) => (lbOut += b.toString()));
      lb.stderr.on('data', (b: Buffer) => (lbOut += b.toString()));
      // Generous bounds (a loaded CI machine runs health checks and reconnects late); a failure says what haproxy said,
      // and haproxy exiting fails the wait at once.
      const exited = new Promise<never>((_, reject) =>
        lb.once('exit', (code) => reject(new Error(`haproxy exited ${code}: ${lbOut}`))),
      );
      exited.catch(() => undefined);
      const step = <T>(p: Promise<T>): Promise<T> =>
        Promise.race([p, exited]).catch((err: Error) => {
          throw new Error(`${err.message}\nhaproxy said:\n${lbOut}`);
        });
      try {
        const common = {
          ca: pki.caPem,
          protocolVersion: 4 as const,
          reconnectPeriod: 200,
          connectTimeout: 3000,
          servername: 'localhost',
        };
        const url = `mqtts://127.0.0.1:${mqttsPort}`;
        // leastconn spreads the subscriber and the gateway over both brokers, so traffic crosses Redis too.
        const sub = mqtt.connect(url, {
          ...common,
          username: 'svc',
          password: 'pw-svc',
          clientId: 'svc:lb',
          clean: false,
        });
        await step(until(() => sub.connected, 20_000, 'subscriber through haproxy'));
        await step(sub.subscribeAsync('vw/v1/site1/gw1/lb/obs', { qos: 1 }));
        const gw = mqtt.connect(url, {
          ...common,
          cert: pki.site1gw1.certPem,
          key: pki.site1gw1.keyPem,
          clientId: 'site1/gw1',
          clean: false,
        });
        await step(until(() => gw.connected, 20_000, 'gateway through haproxy'));
        const seen = new Set<number>();
        sub.on('message', (_t, p) => seen.add(Batch.decode(p).seq));
        try {
          const N = 300;
          let logFrom = Infinity;
          const acked = await publishAcrossKill(gw, 'vw/v1/site1/gw1/lb/obs', N, 100, 5, async () => {
            await step(until(() => seen.size >= 50, 20_000, 'traffic before the kill'));
            // leastconn put at least one of the two clients on central1, so the kill moves someone.
            const h = (await (await fetch(`http://127.0.0.1:${brokers[0]?.http}/healthz`)).json()) as {
              connections: number;
            };
            expect(h.connections).toBeGreaterThanOrEqual(1);
            logFrom = lbOut.length;
            brokers[0]?.p.child.kill('SIGKILL');
          });
          await step(until(() => acked() === N, 60_000, `all ${N} publishes acknowledged`));
          await step(until(() => seen.size === N, 60_000, `subscriber saw all ${N}`));
          // haproxy saw it through its health check, not only through the broken connections.
          await step(
            until(
              () => /brokers_mqtts\/central1 is DOWN/.test(lbOut.slice(logFrom)),
              30_000,
              'haproxy marking central1 down',
            ),
          );
        } finally {
          await Promise.all([gw.endAsync(true), sub.endAsync(true)]);
        }
      } finally {
        lb.kill('SIGTERM');
      }
    },
    180_000,
  );
});
