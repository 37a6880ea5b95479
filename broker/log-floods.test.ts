// Issue 14, finding 7: what a peer can make the broker log. A refused CONNECT logged its user name whatever its length
// (4.2 MB/s of log from one unauthenticated client); every refusal was one line. Now each peer-triggered event is logged
// once per interval per kind and peer, the rest counted in one line when the interval ends, peer-chosen strings cut and
// cleaned; the counters stay exact. A real TLS broker, real sockets, pino writing into memory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { generate } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/log.js';
import { startBroker } from './broker.js';
import { batch, makeTestPki, testUsers, until, type TestPki } from './test-kit.js';
import { createUserStore } from './users.js';

let dir: string;
let pki: TestPki;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-logfloods-'));
  pki = await makeTestPki(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One TLS connection that sends `packet` and waits for the broker to close it. */
function refusedOnce(port: number, packet: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: pki.caPem, servername: 'localhost' }, () => s.write(packet));
    s.on('error', reject);
    s.resume();
    s.once('close', () => resolve());
  });
}

describe('log floods from peers', () => {
  it('logs a flood of refused CONNECTs with 60 KB user names as a few short lines; the counter keeps every one', async () => {
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (s: string) => void lines.push(s) });
    const central = await startBroker({
      port: 0,
      tls: pki.brokerTls,
      users: createUserStore(await testUsers()),
      logger,
    });
    const N = 200;
    try {
      const username = `x${'\n'.repeat(10)}${'u'.repeat(60_000)}`;
      // Keep-alive 0 is out of bounds: refused before any password check, as cheaply as a peer can make it.
      const connect = generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: 'flood',
        clean: true,
        keepalive: 0,
        username,
        password: Buffer.from('x'),
      });
      for (let i = 0; i < N; i += 20) await Promise.all([...Array(20)].map(() => refusedOnce(central.port, connect)));
      await until(
        () => (central.counters.refusedConnects['keepalive-out-of-bounds'] ?? 0) === N,
        10_000,
        'every refusal counted',
      );
    } finally {
      await central.close(); // reports what the interval held back
    }
    const refusals = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['event'] === 'connect_refused');
    const bytes = lines.reduce((n, l) => n + l.length, 0);
    // Before: 200 lines of over 60 KB each (12 MB). Now: the first refusal, then one line with the number of the rest.
    expect(refusals.length).toBeLessThanOrEqual(2);
    // The first line stands for itself, the summary for the `suppressed` others.
    expect(refusals.reduce((n, l) => n + Number(l['suppressed'] ?? 1), 0)).toBe(N);
    expect(bytes).toBeLessThan(16 * 1024);
    for (const l of refusals) expect(String(l['user'])).toMatch(/^x\?{10}u{53}\.\.\.\(59947 more\)$/);
  });

  it("names the oversized packet's own topic when it refuses it, not the topic of another packet parsed with it (issue 14, finding 1)", async () => {
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (s: string) => void lines.push(s) });
    const central = await startBroker({ port: 0, tls: pki.brokerTls, logger, limits: { maxPacketBytes: 4096 } });
    try {
      const small = 'vw/v1/site1/gw1/small/obs';
      const big = 'vw/v1/site1/gw1/oversized/wave';
      const s = await new Promise<ReturnType<typeof tlsConnect>>((resolve, reject) => {
        const c = tlsConnect(
          {
            host: '127.0.0.1',
            port: central.port,
            ca: pki.caPem,
            servername: 'localhost',
            cert: pki.site1gw1.certPem,
            key: pki.site1gw1.keyPem,
          },
          () => resolve(c),
        );
        c.on('error', reject);
      });
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
      s.write(
        generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: 'site1/gw1',
          clean: true,
          keepalive: 60,
        }),
      );
      await until(() => got.length >= 4, 5000, 'CONNACK');
      // One write: a small PUBLISH, then the start of one above maxPacketBytes (its header, topic and a few body bytes).
      const bigPacket = generate({
        cmd: 'publish',
        topic: big,
        payload: Buffer.alloc(8000),
        qos: 1,
        messageId: 2,
        retain: false,
        dup: false,
      });
      const closedNow = new Promise<void>((r) => s.once('close', () => r()));
      s.write(
        Buffer.concat([
          generate({
            cmd: 'publish',
            topic: small,
            payload: batch(small),
            qos: 1,
            messageId: 1,
            retain: false,
            dup: false,
          }),
          bigPacket.subarray(0, 200),
        ]),
      );
      await closedNow;
    } finally {
      await central.close();
    }
    const refusals = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['reason'] === 'packet-too-large');
    // Every line about the refusal that names a topic names the oversized packet's (before: the small one's).
    const named = refusals.filter((l) => 'topic' in l);
    expect(named.length).toBeGreaterThan(0);
    for (const l of named) expect(l['topic']).toBe('vw/v1/site1/gw1/oversized/wave');
    // 1 type byte + 2 Remaining Length bytes + 2 + 30 topic bytes + 2 packet identifier bytes + 8000 payload bytes.
    expect(refusals.some((l) => l['event'] === 'packet_refused' && l['size'] === 8037)).toBe(true);
  });
});
