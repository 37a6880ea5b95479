// A lock file holding its owner's pid, created exclusively: one writer per directory (the gateway's outbox, the
// archive's journal) or one writer at a time (the archive's audit). A lock whose owner no longer exists (SIGKILL,
// power loss) is taken over, so a crash never needs a person to delete a file.
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

export type Release = () => Promise<void>;

/**
 * Takes the lock at `path`. Resolves to its release, or to the pid of a live owner when `waitMs` passes (0: do not
 * wait). The release is idempotent.
 */
export async function takeLock(path: string, waitMs = 0): Promise<Release | { heldBy: number }> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (!(Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))) {
        await unlink(path).catch(() => undefined); // stale: its owner is gone
        continue;
      }
      if (Date.now() >= deadline) return { heldBy: pid };
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
