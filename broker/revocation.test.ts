import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSerial } from './pki.js';
import { fileRevocationList, staticRevocationList, writeRevocationFile } from './revocation.js';
import { openUsersFile, readUsersFile, writeUsersFile } from './users-file.js';
import { hashPassword } from './users.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('revocation list', () => {
  it('compares serials in one canonical form', async () => {
    expect(canonicalSerial('00:4a:ff')).toBe('4AFF');
    expect(() => canonicalSerial('xyz')).toThrow();
    expect(await staticRevocationList(['4aff']).isRevoked('004AFF')).toBe(true);
  });

  it('re-reads the file when it changes, and fails closed when it cannot be read', async () => {
    const f = join(dir, 'revoked.json');
    await writeRevocationFile(f, []);
    const list = fileRevocationList(f);
    expect(await list.isRevoked('4AFF')).toBe(false);
    await writeRevocationFile(f, [{ serial: '4AFF', identity: 's/g', revokedAt: new Date().toISOString() }]);
    expect(await list.isRevoked('4aff')).toBe(true);
    await writeFile(f, '{"revoked": [{"serial": 12}]}');
    await expect(list.isRevoked('4AFF')).rejects.toMatchObject({ code: 'VW_ERR_CONFIG' });
    await rm(f);
    await expect(list.isRevoked('1234')).rejects.toMatchObject({ code: 'VW_ERR_CONFIG' });
  });
});

describe('users file', () => {
  it('round-trips YAML and JSON with mode 0600, and refuses duplicates and bad names', async () => {
    const users = [
      { name: 'ana', role: 'observer' as const, sites: ['site1'], hash: await hashPassword('pw-ana-long') },
    ];
    for (const f of [join(dir, 'u.yaml'), join(dir, 'u.json')]) {
      await writeUsersFile(f, users);
      expect(await readUsersFile(f)).toEqual(users);
    }
    expect((await stat(join(dir, 'u.yaml'))).mode & 0o777).toBe(0o600);
    const h = users[0]?.hash ?? '';
    await writeFile(
      join(dir, 'dup.yaml'),
      `users:\n  - { name: a, role: observer, sites: ['*'], hash: "${h}" }\n  - { name: a, role: admin, sites: ['*'], hash: "${h}" }\n`,
    );
    await expect(readUsersFile(join(dir, 'dup.yaml'))).rejects.toThrow(/users\[1\]\.name: duplicate user a/);
    await writeFile(join(dir, 'bad.yaml'), `users:\n  - { name: "b/c", role: root, sites: ['*'], hash: "${h}" }\n`);
    await expect(readUsersFile(join(dir, 'bad.yaml'))).rejects.toThrow(/users\[0\]\.name[\s\S]*users\[0\]\.role/);
  });

  it('picks up added and removed users without a restart, and refuses logins while the file is broken', async () => {
    const f = join(dir, 'live.yaml');
    await writeUsersFile(f, [
      { name: 'ana', role: 'observer', sites: ['site1'], hash: await hashPassword('pw-ana-long') },
    ]);
    const store = await openUsersFile(f);
    expect((await store.verify('ana', 'pw-ana-long'))?.name).toBe('ana');
    expect(await store.verify('bob', 'pw-bob-long')).toBeNull();
    await writeUsersFile(f, [{ name: 'bob', role: 'admin', sites: ['*'], hash: await hashPassword('pw-bob-long') }]);
    expect((await store.verify('bob', 'pw-bob-long'))?.role).toBe('admin');
    expect(await store.verify('ana', 'pw-ana-long')).toBeNull();
    await writeFile(f, 'users: [ {name: bob} ]');
    await expect(store.verify('bob', 'pw-bob-long')).rejects.toMatchObject({ code: 'VW_ERR_CONFIG' });
    expect(store.get('bob')).toBeUndefined();
  });
});
