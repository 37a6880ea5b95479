// The users file: broker accounts with scrypt hashes, written by `vitalwire users add|remove` and read by the broker.
// The broker re-reads it when it changes (checked at each password login), so adding or removing a user needs no
// restart. A file it cannot read or validate refuses every password login until fixed: fail closed.
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { writeAtomic } from '../lib/atomic-file.js';
import { formatOf, readValidatedFile } from '../lib/config.js';
import { createUserStore, ROLES, USER_NAME, type User, type UserStore } from './users.js';
import { watchFile } from '../lib/watched-file.js';

const userSchema = z.strictObject({
  name: z.string().regex(USER_NAME, 'must be 1-64 of A-Z a-z 0-9 . _ -'),
  role: z.enum(ROLES as [User['role'], ...User['role'][]]),
  sites: z.array(z.string().min(1)), // empty: the account sees nothing
  hash: z.string().startsWith('scrypt$'),
});

export const usersFileSchema = z
  .strictObject({
    users: z.array(userSchema).default([]),
  })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.users.forEach((u, i) => {
      if (seen.has(u.name))
        ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user ${u.name}` });
      seen.add(u.name);
    });
  });

/** Reads and validates a users file; a missing file is an empty list only when `missingOk`. */
export async function readUsersFile(path: string, missingOk = false): Promise<User[]> {
  const parsed = await readValidatedFile(usersFileSchema, path, { what: 'users file', missingOk });
  return (parsed?.users ?? []).map((u) => ({ name: u.name, role: u.role, sites: [...u.sites], hash: u.hash }));
}

/** Writes the list atomically with mode 0600 (group-read kept, lib/atomic-file.ts): the file holds password hashes. */
export async function writeUsersFile(path: string, users: readonly User[]): Promise<void> {
  const data = { users: users.map((u) => ({ name: u.name, role: u.role, sites: [...u.sites], hash: u.hash })) };
  const text = formatOf(path) === 'json' ? `${JSON.stringify(data, null, 2)}\n` : toYaml(data);
  await writeAtomic(path, text, 0o600);
}

export interface FileUserStore extends UserStore {
  readonly path: string;
  /** Re-reads the file if it changed since the last read. Throws VW_ERR_CONFIG while the file is unusable. */
  refresh(): Promise<void>;
}

/** A UserStore over a users file, reloaded when its size, mtime or inode change. */
export async function openUsersFile(path: string): Promise<FileUserStore> {
  const file = watchFile(
    path,
    async (p) => createUserStore(await readUsersFile(p)),
    createUserStore(await readUsersFile(path)),
    'users file',
  );
  await file.refresh().catch(() => undefined); // the file was just read; a failure shows on the next use
  return {
    path,
    refresh: () => file.refresh(),
    get: (name) => (file.broken() ? undefined : file.current().get(name)),
    add: (u) => file.current().add(u),
    remove: (name) => file.current().remove(name),
    async verify(name, password) {
      await file.refresh();
      return file.current().verify(name, password);
    },
  };
}
