// Issue 14, finding 6: a removed user kept streaming. After `vitalwire users remove` the open MQTT session received data
// for 45 s more, and would have forever: gateways had a revocation re-check, users none. A real TLS broker over a real
// users file, rewritten the way the CLI writes it (writeUsersFile: atomic rename), real mqtt.js clients.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from './broker.js';
import { batch, closed, granted, nextMessage, pkiPerFile, until } from './test-kit.js';
import { openUsersFile, writeUsersFile } from './users-file.js';
import { hashPassword, type User } from './users.js';

const RECHECK_MS = 200;
const t = pkiPerFile('users-recheck');

const user = async (name: string, role: User['role'], sites: string[], password = `pw-${name}`): Promise<User> => ({
  name,
  role,
  sites,
  hash: await hashPassword(password),
});

/** Topics `c` receives, in order. */
function received(c: MqttClient): string[] {
  const seen: string[] = [];
  c.on('message', (topic) => seen.push(topic));
  return seen;
}

describe('users changed while connected', () => {
  let central: Broker;
  let file: string;
  let users: User[];

  beforeAll(async () => {
    file = join(t.dir, 'users.yaml');
    users = [
      await user('leaver', 'observer', ['*']),
      await user('mover', 'observer', ['site1', 'site2']),
      await user('rotated', 'service', ['*']),
      await user('demoted', 'admin', ['*']),
    ];
    await writeUsersFile(file, users);
    central = await startBroker({
      port: 0,
      tls: t.pki.brokerTls,
      users: await openUsersFile(file),
      usersRecheckMs: RECHECK_MS,
    });
    t.k.url = `mqtts://127.0.0.1:${central.port}`;
  });
  afterAll(async () => {
    await central?.close();
  });

  it('disconnects a removed user within the re-check interval and keeps it out; the others stay', async () => {
    const leaver = await t.k.user('leaver');
    await leaver.subscribeAsync('vw/v1/#', { qos: 1 });
    const stays = await t.k.user('mover');
    const gw = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
    const got = nextMessage(leaver);
    await gw.publishAsync('vw/v1/site1/gw1/d1/obs', batch('vw/v1/site1/gw1/d1/obs'), { qos: 1 });
    await got;
    const gone = closed(leaver);
    await writeUsersFile(
      file,
      users.filter((u) => u.name !== 'leaver'),
    ); // what `vitalwire users remove leaver` does
    await gone; // before: still connected and receiving, for good
    expect(central.counters.disconnects['user-removed']).toBe(1);
    expect(stays.connected).toBe(true);
    expect(await t.k.refusedCode(t.k.base({ username: 'leaver', password: 'pw-leaver', clientId: 'leaver' }))).toBe(4);
    users = users.filter((u) => u.name !== 'leaver');
  });

  it('applies a narrowed site list to a live session: subscriptions outside it dropped, new ones refused, the rest flowing', async () => {
    const mover = await t.k.user('mover');
    const seen = received(mover);
    expect(await granted(mover, { 'vw/v1/site1/#': { qos: 1 }, 'vw/v1/site2/#': { qos: 1 } })).toEqual([1, 1]);
    const before = central.counters.refusedSubscribes['scope-narrowed'] ?? 0;
    users = users.map((u) => (u.name === 'mover' ? { ...u, sites: ['site2'] } : u));
    await writeUsersFile(file, users);
    await until(
      () => (central.counters.refusedSubscribes['scope-narrowed'] ?? 0) === before + 1,
      5000,
      'site1 subscription dropped',
    );
    expect(mover.connected).toBe(true);
    const gw1 = await t.k.gateway(t.pki.site1gw1, 'site1/gw1');
    const gw2 = await t.k.gateway(t.pki.site2gw1, 'site2/gw1');
    // site1 first, then site2: once site2's message is in, site1's would have been too (one connection, in order).
    await gw1.publishAsync('vw/v1/site1/gw1/d1/obs', batch('vw/v1/site1/gw1/d1/obs'), { qos: 1 });
    const marker = nextMessage(mover, 'vw/v1/site2/gw1/d1/obs');
    await gw2.publishAsync('vw/v1/site2/gw1/d1/obs', batch('vw/v1/site2/gw1/d1/obs'), { qos: 1 });
    await marker;
    expect(seen).toEqual(['vw/v1/site2/gw1/d1/obs']);
    expect(await granted(mover, 'vw/v1/site1/#')).toEqual([128]);
  });

  it('disconnects a user whose password changed, and takes $SYS from an admin made an observer', async () => {
    const rotated = await t.k.user('rotated');
    const demoted = await t.k.user('demoted');
    expect(await granted(demoted, '$SYS/#', 0)).toEqual([0]);
    const gone = closed(rotated);
    const newHash = (await user('rotated', 'service', ['*'], 'a-new-long-password')).hash;
    users = users.map((u) =>
      u.name === 'rotated' ? { ...u, hash: newHash } : u.name === 'demoted' ? { ...u, role: 'observer' } : u,
    );
    await writeUsersFile(file, users);
    await gone;
    expect(central.counters.disconnects['user-credentials-changed']).toBe(1);
    await until(
      () => central.counters.connections.observer >= 1 && central.counters.connections.admin === 0,
      5000,
      'demoted counted as observer',
    );
    expect(demoted.connected).toBe(true);
    expect(await granted(demoted, 'vwcmd/v1/site1/gw1/#', 0)).toEqual([128]);
    expect(await granted(demoted, '$SYS/+/new/clients', 0)).toEqual([128]);
  });

  it('keeps connected users while the users file is unreadable, and refuses new password logins (fail closed)', async () => {
    const mover = await t.k.user('mover');
    await writeFile(`${file}.tmp`, 'users: [ {: broken');
    await rename(`${file}.tmp`, file);
    expect(
      await t.k.refusedCode(t.k.base({ username: 'rotated', password: 'a-new-long-password', clientId: 'rotated' })),
    ).toBe(3);
    await new Promise((r) => setTimeout(r, RECHECK_MS * 4)); // several re-checks over the broken file
    expect(mover.connected).toBe(true);
    expect(central.counters.refusedConnects['users-file-unavailable']).toBe(1);
    await writeUsersFile(file, users);
  });
});
