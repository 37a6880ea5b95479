// Replacing a file keeps the group the service user reads it through (deploy/vitalwire-central.service).
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeUsersFile } from '../broker/users-file.js';
import { writeAtomic } from './atomic-file.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Root may hand a file to any group, so the test uses one nobody else has; as another user, its own group (the mode
// is then what is checked).
const isRoot = process.getuid?.() === 0;
const GROUP = isRoot ? 4242 : (process.getgid?.() ?? 0);

describe('writeAtomic', () => {
  it('creates a new file with exactly the mode asked for', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-atomic-'));
    const p = join(dir, 'new.key');
    await writeAtomic(p, 'secret', 0o600);
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect(await readFile(p, 'utf8')).toBe('secret');
  });

  it("keeps a replaced file's group and group-read bit, and widens nothing else", async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-atomic-'));
    const p = join(dir, 'broker.key');
    await writeFile(p, 'old');
    await chmod(p, 0o640);
    await chown(p, -1, GROUP);
    await writeAtomic(p, 'new', 0o600);
    const s = await stat(p);
    expect(s.mode & 0o777).toBe(0o640);
    expect(s.gid).toBe(GROUP);
    expect(await readFile(p, 'utf8')).toBe('new');

    const q = join(dir, 'private.key');
    await writeFile(q, 'old');
    await chmod(q, 0o604); // world-readable but not group-readable: not carried over
    await writeAtomic(q, 'new', 0o600);
    expect((await stat(q)).mode & 0o777).toBe(0o600);
  });

  it('`users add` rewriting the users file leaves the service group able to read it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-atomic-'));
    const p = join(dir, 'users.yaml');
    await writeUsersFile(p, []);
    await chmod(p, 0o640);
    await chown(p, -1, GROUP);
    await writeUsersFile(p, [{ name: 'dr-lan', role: 'observer', sites: ['s1'], hash: 'scrypt$x' }]);
    const s = await stat(p);
    expect(s.mode & 0o777).toBe(0o640);
    expect(s.gid).toBe(GROUP);
  });
});
