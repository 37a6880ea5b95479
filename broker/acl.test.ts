import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { commandFilter, commandTopic, parseCommandTopic, parseStreamTopic } from '../lib/topics.js';
import { canPublish, canSubscribe, isValidTopicFilter, type Identity } from './acl.js';
import { createUserStore, hashPassword, verifyPassword, type User } from './users.js';

const gw: Identity = { kind: 'gateway', site: 'site1', gateway: 'gw1' };
const user = (role: User['role'], sites: string[]): Identity => ({ kind: 'user', name: `u-${role}`, role, sites });
const observerAll = user('observer', ['*']);
const observer1 = user('observer', ['site1']);
const observer23 = user('observer', ['site2', 'site3']);
const service = user('service', ['*']);
const admin = user('admin', ['*']);
const internal: Identity = { kind: 'internal' };

describe('canPublish', () => {
  it('lets a gateway publish its own streams', () => {
    for (const kind of ['obs', 'wave', 'alarm', 'status'])
      expect(canPublish(gw, `vw/v1/site1/gw1/dev-3/${kind}`)).toBe(true);
  });

  it.each([
    ['cross-site', 'vw/v1/site2/gw1/dev/obs'],
    ['cross-gateway', 'vw/v1/site1/gw2/dev/obs'],
    ['gateway prefix trick', 'vw/v1/site1/gw10/dev/obs'],
    ['wildcard +', 'vw/v1/site1/gw1/+/obs'],
    ['wildcard #', 'vw/v1/site1/gw1/dev/#'],
    ['wildcard inside a segment', 'vw/v1/site1/gw1/dev+/obs'],
    ['unknown kind', 'vw/v1/site1/gw1/dev/cmd'],
    ['too deep', 'vw/v1/site1/gw1/dev/obs/x'],
    ['too shallow', 'vw/v1/site1/gw1/obs'],
    ['other version', 'vw/v2/site1/gw1/dev/obs'],
    ['empty device', 'vw/v1/site1/gw1//obs'],
    ['its own command topic', 'vwcmd/v1/site1/gw1/reboot'],
    ['$SYS', '$SYS/broker/x'],
    ['empty', ''],
    ['null character', 'vw/v1/site1/gw1/dev\u0000/obs'],
  ])('refuses a gateway publish: %s', (_name, topic) => {
    expect(canPublish(gw, topic)).toBe(false);
  });

  it('refuses every user publish to streams, whatever the role, and commands from all but admins', () => {
    for (const id of [observerAll, observer1, service, admin]) {
      expect(canPublish(id, 'vw/v1/site1/gw1/dev/obs')).toBe(false);
    }
    for (const id of [observerAll, observer1, service]) expect(canPublish(id, 'vwcmd/v1/site1/gw1/x')).toBe(false);
  });

  it('lets an admin command the gateways of its sites, literal levels only', () => {
    const admin1 = user('admin', ['site1']);
    expect(canPublish(admin, 'vwcmd/v1/site7/gw1/identify')).toBe(true);
    expect(canPublish(admin1, 'vwcmd/v1/site1/gw1/identify')).toBe(true);
    expect(canPublish(admin1, 'vwcmd/v1/site1/gw1/set/rate')).toBe(true);
    expect(canPublish(admin1, 'vwcmd/v1/site2/gw1/identify')).toBe(false);
    expect(canPublish(admin1, 'vwcmd/v1/site1/gw1')).toBe(false);
    expect(canPublish(admin1, 'vwcmd/v1/site1/gw1/')).toBe(false);
    expect(canPublish(admin1, 'vwcmd/v1/site1/gw 1/x')).toBe(false);
    expect(canPublish(admin1, 'vwcmd/v1/site1/gw1/+')).toBe(false);
    expect(canPublish(admin1, 'vwcmd/v1/site1/gw1/a/b/c/d/e')).toBe(false); // at most four command levels
    expect(canPublish(admin1, 'vw/v1/site1/gw1/cmd/identify')).toBe(false); // the old layout: stream topics
  });

  it('lets lab clients publish and subscribe to anything MQTT 3.1.1 allows, but publish nothing under $SYS/', () => {
    const lab: Identity = { kind: 'lab', clientId: 'x' };
    expect(canPublish(lab, 'any/topic')).toBe(true);
    expect(canPublish(lab, '$TopicA/B')).toBe(true); // the Paho interoperability suite's $ topic
    expect(canPublish(lab, 'x'.repeat(65535))).toBe(true); // [MQTT-4.7.3-3]
    expect(canPublish(lab, '$SYS/x')).toBe(false);
    expect(canPublish(lab, 'a/#')).toBe(false);
    expect(canSubscribe(lab, `${'y'.repeat(5000)}/#`)).toBe(true);
    expect(canSubscribe(lab, 'a+')).toBe(false);
  });

  it('lets internal publishers use any valid topic name, but never a wildcard', () => {
    expect(canPublish(internal, 'vw/v1/site9/gw9/dev/obs')).toBe(true);
    expect(canPublish(internal, 'anything/else')).toBe(true);
    expect(canPublish(internal, 'vw/v1/#')).toBe(false);
    expect(canPublish(internal, 'vw/+/x')).toBe(false);
  });
});

describe('topic filter syntax (MQTT 3.1.1 4.7)', () => {
  it.each(['#', '+', 'a/#', 'a/+/b', '+/+', '/', 'a//b', '+/#', 'vw/v1/site1/+/+/obs'])('accepts %j', (f) => {
    expect(isValidTopicFilter(f)).toBe(true);
  });
  it.each(['', 'a/#/b', '#/a', 'a#', 'a/b#', 'a+/b', 'a/+b', 'a/++', '##', 'a/\u0000', 'x'.repeat(2000)])(
    'refuses %j',
    (f) => {
      expect(isValidTopicFilter(f)).toBe(false);
    },
  );
});

describe('canSubscribe', () => {
  it('lets a gateway subscribe below its own prefixes only: its command topics and its own streams read back', () => {
    expect(canSubscribe(gw, 'vwcmd/v1/site1/gw1/#')).toBe(true);
    expect(canSubscribe(gw, 'vwcmd/v1/site1/gw1/reboot')).toBe(true);
    expect(canSubscribe(gw, 'vwcmd/v1/site1/gw1/dev-1/+')).toBe(true);
    expect(canSubscribe(gw, 'vw/v1/site1/gw1/dev/obs')).toBe(true);
    expect(canSubscribe(gw, 'vw/v1/site1/gw1/+/+')).toBe(true);
    expect(canSubscribe(gw, 'vw/v1/site1/gw1/#')).toBe(true);
  });

  it.each([
    'vw/v1/site1/gw1', // its prefix without a level below
    'vwcmd/v1/site1/gw1',
    'vwcmd/v1/site1/gw2/#',
    'vwcmd/v1/site2/gw1/#',
    'vwcmd/v1/site1/+/#',
    'vwcmd/v1/+/gw1/#',
    'vwcmd/v1/#',
    'vwcmd/#',
    'vw/v1/site1/+/dev/obs',
    'vw/v1/site10/gw1/#',
    'vw/v1/#',
    '#',
    '+/v1/site1/gw1/#',
    '$SYS/#',
    'vwcmd/v1/site1/gw1/#/x',
  ])('refuses a gateway subscription to %j', (f) => {
    expect(canSubscribe(gw, f)).toBe(false);
  });

  it('lets users with all sites subscribe anywhere under vw/v1/', () => {
    for (const id of [observerAll, service, admin]) {
      for (const f of ['vw/v1/#', 'vw/v1/+/+/+/obs', 'vw/v1/site7/gw1/dev/wave'])
        expect(canSubscribe(id, f)).toBe(true);
      for (const f of ['#', '+/v1/#', 'vw/#', 'vw/+/site1/#', 'other/topic', 'vw/v1'])
        expect(canSubscribe(id, f)).toBe(false);
    }
  });

  it('keeps a scoped user to sites it names literally', () => {
    expect(canSubscribe(observer1, 'vw/v1/site1/#')).toBe(true);
    expect(canSubscribe(observer1, 'vw/v1/site1/+/+/obs')).toBe(true);
    expect(canSubscribe(observer1, 'vw/v1/site1/gw1/dev/wave')).toBe(true);
    expect(canSubscribe(observer23, 'vw/v1/site3/#')).toBe(true);
    for (const f of [
      'vw/v1/#',
      'vw/v1/+/#',
      'vw/v1/+/gw1/dev/obs',
      'vw/v1/site2/#',
      'vw/v1/site10/#',
      'vw/v1/site/#',
      '#',
      'vw/#',
      '+/+/site1/#',
    ]) {
      expect(canSubscribe(observer1, f), f).toBe(false);
    }
    expect(canSubscribe(observer23, 'vw/v1/site1/#')).toBe(false);
  });

  it('refuses malformed filters even within scope', () => {
    for (const f of ['vw/v1/site1/#/obs', 'vw/v1/site1/gw1+/#', 'vw/v1/site1#', 'vw/v1/site1/\u0000']) {
      expect(canSubscribe(observerAll, f), f).toBe(false);
      expect(canSubscribe(observer1, f), f).toBe(false);
    }
    expect(canSubscribe(gw, 'vwcmd/v1/site1/gw1/a#')).toBe(false);
    expect(canSubscribe(internal, 'a/#/b')).toBe(false);
  });

  it("keeps $SYS for admins of all sites: it names every site's clients and cannot be scoped to one", () => {
    expect(canSubscribe(admin, '$SYS/#')).toBe(true);
    expect(canSubscribe(admin, '$SYS/+/new/clients')).toBe(true);
    expect(canSubscribe(admin, '$share/g/vw/v1/#')).toBe(false);
    for (const id of [observerAll, service, observer1]) expect(canSubscribe(id, '$SYS/#')).toBe(false);
    const admin1 = user('admin', ['site1']);
    for (const f of ['$SYS/#', '$SYS/+/new/clients', '$SYS/b1/new/clients'])
      expect(canSubscribe(admin1, f), f).toBe(false);
  });
});

describe('password hashes', () => {
  // RFC 7914 section 12, fourth vector: scrypt(P="pleaseletmein", S="SodiumChloride", N=16384, r=8, p=1, dkLen=64)
  const rfcKey =
    '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2' +
    'd5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887';
  const rfcStored = `scrypt$16384$8$1$${Buffer.from('SodiumChloride').toString('base64')}$${Buffer.from(rfcKey, 'hex').toString('base64')}`;

  it('verifies the RFC 7914 test vector', async () => {
    expect(await verifyPassword('pleaseletmein', rfcStored)).toBe(true);
    expect(await verifyPassword('pleaseletmeout', rfcStored)).toBe(false);
    expect(await verifyPassword(Buffer.from('pleaseletmein'), rfcStored)).toBe(true);
  });

  it('stores scrypt$N$r$p$salt$hash with a random 16-byte salt', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    const f = a.split('$');
    expect(f.slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(f[4] ?? '', 'base64')).toHaveLength(16);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse ', a)).toBe(false);
  });

  it.each([
    '',
    'scrypt',
    'bcrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$16383$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', // N not a power of two
    'scrypt$1073741824$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', // N far beyond the bound
    'scrypt$16384$8$1$!!!$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$16384$8$1$c2FsdHNhbHQ=',
    'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaA==$extra',
  ])('treats the malformed hash %j as a mismatch', async (stored) => {
    expect(await verifyPassword('x', stored)).toBe(false);
  });
});

describe('user store', () => {
  it('verifies known users, and returns null for wrong passwords and unknown names', async () => {
    const store = createUserStore([
      { name: 'ana', role: 'observer', sites: ['site1'], hash: await hashPassword('pw-ana') },
    ]);
    expect((await store.verify('ana', 'pw-ana'))?.sites).toEqual(['site1']);
    expect(await store.verify('ana', 'pw-bob')).toBeNull();
    expect(await store.verify('bob', 'pw-ana')).toBeNull();
    store.add({ name: 'bob', role: 'admin', sites: ['*'], hash: await hashPassword('pw-bob') });
    expect((await store.verify('bob', 'pw-bob'))?.role).toBe('admin');
    expect(store.remove('ana')).toBe(true);
    expect(store.get('ana')).toBeUndefined();
    expect(await store.verify('ana', 'pw-ana')).toBeNull();
  });

  it('spends scrypt work on unknown names too', async () => {
    const store = createUserStore([{ name: 'ana', role: 'observer', sites: ['*'], hash: await hashPassword('pw') }]);
    await store.verify('nobody', 'x'); // warm-up
    const t0 = performance.now();
    await store.verify('ana', 'wrong');
    const known = performance.now() - t0;
    const t1 = performance.now();
    await store.verify('nobody', 'wrong');
    const unknown = performance.now() - t1;
    // Both run one N=16384 scrypt (milliseconds); a skipped hash would take microseconds.
    expect(unknown).toBeGreaterThan(known / 5);
  });

  it('refuses malformed users', () => {
    const store = createUserStore();
    expect(() =>
      store.add({
        name: '',
        role: 'observer',
        sites: ['*'],
        hash: 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
      }),
    ).toThrow();
    expect(() =>
      store.add({
        name: 'x',
        role: 'root' as User['role'],
        sites: ['*'],
        hash: 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
      }),
    ).toThrow();
    expect(() => store.add({ name: 'x', role: 'observer', sites: ['*'], hash: 'plaintext' })).toThrow();
  });
});

describe('the command namespace never collides with stream topics (issue 14, finding 3)', () => {
  // An admin sent `vw/v1/<site>/<gw>/cmd/obs`: an allowed command topic that is also a valid stream topic (device
  // "cmd", kind "obs"), so the fan-out showed a bed with values and a label the sender chose.
  it('refuses an admin publish that any consumer would read as a stream', () => {
    for (const id of [admin, user('admin', ['site1'])]) {
      for (const kind of ['obs', 'wave', 'alarm', 'status']) {
        const topic = `vw/v1/site1/gw1/cmd/${kind}`;
        expect(parseStreamTopic(topic), topic).not.toBeNull();
        expect(canPublish(id, topic), topic).toBe(false);
      }
    }
  });

  it('holds for any topic: what an admin may publish is never a stream topic, what a gateway may publish never a command', () => {
    const seg = fc.oneof(
      fc.constantFrom(
        'vw',
        'v1',
        'vwcmd',
        'cmd',
        'site1',
        'gw1',
        'obs',
        'wave',
        'alarm',
        'status',
        '_gateway',
        '+',
        '#',
        '',
      ),
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,8}$/),
    );
    const admins = [admin, user('admin', ['site1'])];
    // Random levels, and topics shaped like either layout (root, version, then 3 to 6 levels) where collisions live.
    const tail = fc.constantFrom('cmd', 'obs', 'wave', 'alarm', 'status', 'identify', '_gateway', 'x');
    const shaped = fc
      .tuple(
        fc.constantFrom('vw', 'vwcmd'),
        fc.constantFrom('v1', 'v2'),
        fc.constantFrom('site1', 'site2'),
        fc.oneof(fc.constant('gw1'), seg),
        fc.array(tail, { minLength: 1, maxLength: 4 }),
      )
      .map(([root, v, site, gateway, rest]) => [root, v, site, gateway, ...rest]);
    fc.assert(
      fc.property(fc.oneof(fc.array(seg, { minLength: 1, maxLength: 8 }), shaped), (levels) => {
        const topic = levels.join('/');
        for (const id of admins) if (canPublish(id, topic)) expect(parseStreamTopic(topic), topic).toBeNull();
        if (canPublish(gw, topic)) expect(parseCommandTopic(topic), topic).toBeNull();
      }),
      { numRuns: 5000 },
    );
    // And the layout functions themselves: every command topic parses as a command, never as a stream.
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
        fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
        fc.constantFrom('obs', 'wave', 'alarm', 'status', 'identify', 'set/rate'),
        (site, gateway, name) => {
          const t = commandTopic(site, gateway, name);
          expect(parseStreamTopic(t)).toBeNull();
          expect(parseCommandTopic(t)).toEqual({ site, gateway, command: name });
        },
      ),
    );
  });

  it('lets an admin command the gateways of its sites under the command root, and a gateway subscribe to its own', () => {
    const admin1 = user('admin', ['site1']);
    expect(canPublish(admin1, commandTopic('site1', 'gw1', 'identify'))).toBe(true);
    expect(canPublish(admin1, commandTopic('site1', 'gw1', 'obs'))).toBe(true); // a command named obs is still a command
    expect(canPublish(admin1, commandTopic('site2', 'gw1', 'identify'))).toBe(false);
    expect(canPublish(observer1, commandTopic('site1', 'gw1', 'identify'))).toBe(false);
    expect(canSubscribe(gw, commandFilter('site1', 'gw1'))).toBe(true);
    expect(canSubscribe(gw, commandFilter('site1', 'gw2'))).toBe(false);
    expect(canSubscribe(gw, commandFilter('site2', 'gw1'))).toBe(false);
    // Commands are for gateways: users read streams only.
    for (const id of [observerAll, service, admin]) expect(canSubscribe(id, commandFilter('site1', 'gw1'))).toBe(false);
  });
});
