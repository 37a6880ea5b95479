// Third-party clients against the broker: mosquitto_pub and mosquitto_sub (Debian mosquitto-clients) over real TLS,
// with a gateway certificate or a password, and the refusals they must meet.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from './broker.js';
import { staticRevocationList } from './revocation.js';
import {
  batch,
  Clients,
  makeTestPki,
  nextMessage,
  statusBatch,
  testUsers,
  type Pem,
  type TestPki,
} from './test-kit.js';
import { createUserStore } from './users.js';

const has = (cmd: string): boolean => spawnSync('which', [cmd]).status === 0;

/** Runs a command without blocking the event loop: the broker under test lives in this process. */
function runAsync(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
const present = has('mosquitto_pub') && has('mosquitto_sub');
const d = present ? describe : describe.skip;

d(
  `mosquitto clients${present ? '' : ' (skipped: `which mosquitto_pub mosquitto_sub` found nothing; apt-get install mosquitto-clients)'}`,
  () => {
    let dir: string;
    let pki: TestPki;
    let central: Broker;
    let k: Clients;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vw-mosq-'));
      pki = await makeTestPki(dir);
      central = await startBroker({
        port: 0,
        tls: pki.brokerTls,
        users: createUserStore(await testUsers()),
        revocation: staticRevocationList(pki.revokedSerials),
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

    const common = (): string[] => [
      '-h',
      '127.0.0.1',
      '-p',
      String(central.port),
      '-V',
      'mqttv311',
      '--cafile',
      pki.caFile,
    ];
    const withCert = (p: Pem): string[] => ['--cert', p.certFile, '--key', p.keyFile];
    const pub = (args: string[]) => runAsync('mosquitto_pub', [...common(), ...args]);
    const refused = (reason: string): number => central.counters.refusedConnects[reason] ?? 0;

    it('mosquitto_pub publishes with the gateway certificate; mqtt.js receives it', async () => {
      const obs = await k.user('obs1');
      await obs.subscribeAsync('vw/v1/site1/#', { qos: 1 });
      const got = nextMessage(obs);
      // A Batch is binary: mosquitto_pub sends it from a file (-f), as it is.
      const payload = statusBatch('vw/v1/site1/gw1/mosq/status', 'from-mosquitto');
      const file = join(dir, 'batch.bin');
      await writeFile(file, payload);
      const r = await pub([
        ...withCert(pki.site1gw1),
        '-i',
        'site1/gw1',
        '-q',
        '1',
        '-t',
        'vw/v1/site1/gw1/mosq/status',
        '-f',
        file,
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect((await got).payload.equals(payload)).toBe(true);
    });

    // With its own default client id too (mosquitto_sub 2 sends an empty id and a clean session,
    // so the broker assigns one): the README's
    // watch command for the demo gives no -i.
    for (const idArgs of [['-i', 'obs1:mosq'], []]) {
      it(`mosquitto_sub subscribes with a password and receives a gateway publish (${idArgs.length ? idArgs.join(' ') : 'default client id'})`, async () => {
        const subscribed = new Promise<void>((resolve) => {
          const on = (subs: { topic: string }[], client: { id: string }): void => {
            if (
              (idArgs.length ? client.id === 'obs1:mosq' : !client.id.includes('/')) &&
              subs.some((s) => s.topic === 'vw/v1/site1/#')
            ) {
              central.aedes.off('subscribe', on);
              resolve();
            }
          };
          central.aedes.on('subscribe', on);
        });
        // -F '%t %x': the topic and the payload in hex (a Batch is binary).
        const sub = spawn(
          'mosquitto_sub',
          [
            ...common(),
            '-u',
            'obs1',
            '-P',
            'pw-obs1',
            ...idArgs,
            '-q',
            '1',
            '-t',
            'vw/v1/site1/#',
            '-C',
            '1',
            '-F',
            '%t %x',
            '-W',
            '10',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        sub.stdout.on('data', (b: Buffer) => (out += b.toString()));
        sub.stderr.on('data', (b: Buffer) => (err += b.toString()));
        const exited = new Promise<number | null>((resolve) => sub.once('exit', (code) => resolve(code)));
        try {
          await Promise.race([
            subscribed,
            exited.then((code) => {
              throw new Error(`mosquitto_sub exited ${code}: ${err}`);
            }),
          ]);
          const gw = await k.gateway(pki.site1gw1, 'site1/gw1');
          const payload = batch('vw/v1/site1/gw1/mon-2/alarm', { alarms: [{ text: 'hello-mosquitto' }] });
          await gw.publishAsync('vw/v1/site1/gw1/mon-2/alarm', payload, { qos: 1 });
          expect(await exited).toBe(0);
          expect(out.trim()).toBe(`vw/v1/site1/gw1/mon-2/alarm ${payload.toString('hex')}`);
        } finally {
          sub.kill();
        }
      });
    }

    it.each([
      ['a wrong password', ['-u', 'obs1', '-P', 'wrong', '-i', 'obs1'], 'bad-password'],
      ['an unknown user', ['-u', 'nobody', '-P', 'pw-obs1', '-i', 'nobody'], 'unknown-user'],
      ['no credentials', ['-i', 'anon'], 'no-credentials'],
    ])('refuses %s', async (_what, args, reason) => {
      const before = refused(reason);
      const r = await pub([...args, '-q', '1', '-t', 'vw/v1/site1/gw1/x/obs', '-m', 'x']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/refused|not authori[sz]ed|bad user name/i);
      expect(refused(reason)).toBe(before + 1);
    });

    it.each([
      ['revoked', 'tls-cert-revoked'],
      ['expired', 'tls-cert-expired'],
      ['foreign', 'tls-cert-unverified'],
    ] as const)('refuses the %s gateway certificate', async (which, reason) => {
      const before = refused(reason);
      const r = await pub([
        ...withCert(pki[which]),
        '-i',
        'site1/gw1',
        '-q',
        '1',
        '-t',
        'vw/v1/site1/gw1/x/obs',
        '-m',
        'x',
      ]);
      expect(r.status).not.toBe(0);
      expect(refused(reason)).toBe(before + 1);
    });

    it('refuses mosquitto_pub without TLS at the handshake', async () => {
      const before = refused('tls-handshake');
      const r = await runAsync('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(central.port),
        '-V',
        'mqttv311',
        '-u',
        'obs1',
        '-P',
        'pw-obs1',
        '-i',
        'obs1',
        '-t',
        'vw/v1/site1/gw1/x/obs',
        '-m',
        'x',
      ]);
      expect(r.status).not.toBe(0);
      expect(refused('tls-handshake')).toBe(before + 1);
    });
  },
);
