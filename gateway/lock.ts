// One gateway process per data directory: two writers appending to the same outbox would corrupt it. The lock is a
// file holding the owner's pid, created exclusively; a lock left by a process that no longer exists (SIGKILL, power
// loss) is taken over.
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VitalwireError } from '../decoders/errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data directory; resolves to its release. */
export async function acquireDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'gateway.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
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
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new VitalwireError('VW_ERR_CONFIG', `dataDir ${dir} is in use by gateway process ${pid}`);
      }
      await unlink(path).catch(() => undefined); // stale: its owner is gone
    }
  }
  throw new VitalwireError('VW_ERR_CONFIG', `dataDir ${dir}: could not take ${path}`);
}
