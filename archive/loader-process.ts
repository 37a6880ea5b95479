// The archive's loader process (started by loader-client.ts): it owns the store and runs the loader, checkpoints,
// merges, retention and queries, so decoding Batches and writing the store take neither a turn of the broker's event
// loop nor its threads. It lowers its scheduling priority first thing (nice: every thread of it, DuckDB's and V8's
// included), so that on a busy machine the broker comes first; the journal absorbs what the loader has not taken yet
// (journal.maxBytes bounds it). It exits when the central goes (its IPC channel closes).
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { pino } from 'pino';
import type { AuditAction, AuditInput } from './audit.js';
import { openStore, type ArchiveConfig } from './config.js';
import { Loader, type SegmentRef } from './loader.js';
import { runRetention } from './retention.js';
import { replaceFromMarkers } from './sql-marker.js';
import type { DataKind } from './schema.js';
import type { ArchiveStore } from './store/types.js';

export interface LoaderInit {
  config: ArchiveConfig;
  logLevel: string;
  /** Niceness of this thread (0 to 19). */
  nice: number;
  tuning: { loadBatchSize: number; checkpointIntervalMs: number; checkpointRows: number };
}

export type Request =
  | { op: 'load'; id: number; segments: SegmentRef[]; force: boolean }
  | { op: 'sql'; id: number; text: string; params: (string | number | boolean)[] }
  | { op: 'audit.list'; id: number; actions?: AuditAction[] }
  | { op: 'audit.append'; id: number; entry: AuditInput }
  | { op: 'purge'; id: number; kind: DataKind; beforeUs: number }
  | { op: 'checkpoint'; id: number }
  | { op: 'close'; id: number }
  | { op: 'init'; id: number; init: LoaderInit }
  /** Loads wait between slices while `hold` (the broker is busy); no reply. */
  | { op: 'pace'; id: number; hold: boolean };

export type Reply =
  | { op: 'ready'; name: ArchiveStore['name']; durableOnWrite: boolean }
  | { op: 'failed'; message: string; code?: string }
  | { op: 'log'; entry: Record<string, unknown> }
  | { op: 'reply'; id: number; ok: true; value: unknown; counters: Loader['counters'] }
  | { op: 'reply'; id: number; ok: false; message: string; code?: string; counters: Loader['counters'] };

const post = (m: Reply): void => {
  process.send?.(m);
};

/**
 * Lowers every thread of this process to `nice`. Linux's setpriority on a thread id changes that thread only, and a
 * new thread inherits its creator's: this thread first, then the ones Node started before this ran (V8's, libuv's).
 */
function lowerPriority(nice: number): void {
  if (nice <= 0) return;
  try {
    setPriority(nice);
    for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), nice);
  } catch {
    // Not Linux, or not permitted: the loader runs at the central's priority.
  }
}

const init = await new Promise<LoaderInit>((resolve) => {
  const first = (m: Request): void => {
    if (m.op !== 'init') return;
    process.off('message', first);
    resolve(m.init);
  };
  process.on('message', first);
});
// The central is gone (exited, crashed, killed): so is its loader. The journal keeps everything for the next start.
process.on('disconnect', () => process.exit(0));
const data = init;
const log = pino(
  { level: data.logLevel, base: null, timestamp: false },
  { write: (line: string) => post({ op: 'log', entry: JSON.parse(line) as Record<string, unknown> }) },
);
lowerPriority(data.nice);

let store: ArchiveStore;
try {
  store = await openStore(data.config, log, false);
} catch (err) {
  const failed: Reply = {
    op: 'failed',
    message: (err as Error).message,
    ...((err as { code?: string }).code ? { code: (err as { code: string }).code } : {}),
  };
  process.send?.(failed, () => process.exit(1));
  await new Promise(() => undefined); // exits once the message is out
  throw err;
}
const loader = new Loader(store, data.tuning, log, false);
const retention = data.config.retention;
let purgeTimer: NodeJS.Timeout | null = null;
let chain: Promise<unknown> = Promise.resolve();
const serial = <T>(fn: () => Promise<T>): Promise<T> => {
  const run = chain.then(fn);
  chain = run.catch(() => undefined);
  return run;
};
const purge = (): void => {
  purgeTimer = null;
  serial(() => runRetention(store, store.audit, retention, Date.now() * 1000))
    .then(
      (rs) => log.info({ rows: rs.reduce((n, r) => n + r.rows, 0) }, 'archive retention purge done'),
      (err: unknown) =>
        log.error(
          { code: 'VW_ERR_ARCHIVE_STORE', err: (err as Error).message },
          'archive retention purge failed; retried tomorrow',
        ),
    )
    .finally(() => {
      purgeTimer = setTimeout(purge, 86_400_000);
    });
};
purgeTimer = setTimeout(purge, 60_000);

async function handle(m: Request): Promise<unknown> {
  switch (m.op) {
    case 'load':
      return serial(() => loader.load(m.segments, m.force));
    case 'sql':
      return store.sql.all(replaceFromMarkers(m.text, store.sql), m.params);
    case 'audit.list':
      return store.audit.list(m.actions);
    case 'audit.append':
      return store.audit.append(m.entry);
    case 'purge':
      return serial(() => store.purge(m.kind, m.beforeUs));
    case 'checkpoint':
      return serial(() => store.checkpoint());
    case 'close':
      if (purgeTimer) clearTimeout(purgeTimer);
      await chain;
      await store.close();
      return null;
    case 'init':
    case 'pace':
      return null;
  }
}

process.on('message', (m: Request) => {
  if (m.op === 'pace') return loader.hold(m.hold);
  handle(m).then(
    (value) => {
      const reply: Reply = { op: 'reply', id: m.id, ok: true, value, counters: loader.counters };
      if (m.op === 'close') process.send?.(reply, () => process.disconnect());
      else post(reply);
    },
    (err: unknown) =>
      post({
        op: 'reply',
        id: m.id,
        ok: false,
        message: (err as Error).message,
        counters: loader.counters,
        ...((err as { code?: string }).code ? { code: (err as { code: string }).code } : {}),
      }),
  );
});
post({ op: 'ready', name: store.name, durableOnWrite: store.durableOnWrite });
