// Whole-file replacement: a reader (the broker watching its users file, a TLS reload) sees the old file or the new one,
// never half of one.
import { randomBytes } from 'node:crypto';
import { chmod, chown, rename, stat, writeFile } from 'node:fs/promises';

/**
 * Writes `data` to a temporary file beside `path` with `mode`, then renames it over `path`. A file it replaces keeps
 * its group, and its group-read bit: an administrator rewriting the users file or the broker's key as root must not
 * lock out the central's service user, which reads them through that group (deploy/vitalwire-central.service).
 */
export async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const before = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  const m = before ? mode | (before.mode & 0o040) : mode;
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: m, flag: 'wx' });
  await chmod(tmp, m); // the umask may have narrowed it
  if (before) {
    // Only root may give a file away; anyone may keep a group they belong to. A file left with the writer's group is
    // no worse than before this rule.
    await chown(tmp, before.uid, before.gid).catch(() => chown(tmp, -1, before.gid).catch(() => undefined));
  }
  await rename(tmp, path);
}
