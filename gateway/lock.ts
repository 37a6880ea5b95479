// One gateway process per data directory: two writers appending to the same outbox would corrupt it (lib/pid-lock.ts).
import { join } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { takeLock } from '../lib/pid-lock.js';

/** Takes the data directory; resolves to its release. */
export async function acquireDataDir(dir: string): Promise<() => Promise<void>> {
  const r = await takeLock(join(dir, 'gateway.lock'));
  if (typeof r === 'function') return r;
  throw new VitalwireError('VW_ERR_CONFIG', `dataDir ${dir} is in use by gateway process ${r.heldBy}`);
}
