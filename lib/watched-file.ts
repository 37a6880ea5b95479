// A value loaded from a file and reloaded when the file changes (inode, size or mtime), checked
// on demand: the broker's users file and revocation list are edited by the CLI while it runs.
// Concurrent refreshes share one check. When the file cannot be read or parsed the value is
// unusable (refresh() throws VW_ERR_CONFIG) rather than silently stale: a revocation list that
// cannot be read must not let a revoked certificate in.
import { stat } from 'node:fs/promises';
import { VitalwireError } from './errors.js';

export interface WatchedFile<T> {
  /** The value as last loaded. */
  current(): T;
  /** Reloads if the file changed; throws VW_ERR_CONFIG while the file is unusable. */
  refresh(): Promise<void>;
  /** True while the last check failed. */
  broken(): boolean;
}

export function watchFile<T>(
  path: string,
  load: (path: string) => Promise<T>,
  initial: T,
  what: string,
): WatchedFile<T> {
  let value = initial;
  let stamp = '';
  let failure: Error | null = null;
  let pending: Promise<void> | null = null;
  const check = async (): Promise<void> => {
    try {
      const st = await stat(path);
      const now = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (now === stamp && failure === null) return;
      value = await load(path);
      stamp = now;
      failure = null;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      stamp = '';
    }
  };
  return {
    current: () => value,
    broken: () => failure !== null,
    async refresh() {
      pending ??= check().finally(() => {
        pending = null;
      });
      await pending;
      if (failure) throw new VitalwireError('VW_ERR_CONFIG', `${what} unusable: ${failure.message}`);
    },
  };
}
